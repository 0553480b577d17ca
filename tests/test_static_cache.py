"""dashboard.static_cache: the files every new browser fetches are answered from memory after the first
time, byte for byte what Streamlit answered (gzipped where the browser accepts it), and nothing else is."""

from __future__ import annotations

import asyncio
import gzip
import re
import time
import urllib.request

import pytest

from dashboard import static_cache
from dashboard.static_cache import StaticCache

SCRIPT = b"export const answer = 42;\n" * 400  # compresses well, over the 1 KB floor
FONT = bytes(range(256)) * 40


class Streamlit:
    """A stand-in for Streamlit's app: answers from a table of path -> (status, headers, body) in 3 chunks,
    counting the requests that reach it."""

    def __init__(self, files: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]]):
        self.files, self.calls = files, 0

    async def __call__(self, scope, receive, send):
        self.calls += 1
        status, headers, body = self.files.get(scope["path"], (404, [(b"content-type", b"text/plain")], b"missing"))
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        third = len(body) // 3 + 1
        chunks = [body[i:i + third] for i in range(0, len(body), third)] or [b""]
        for i, chunk in enumerate(chunks):
            if scope["method"] != "HEAD":
                await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})


JS_HEADERS = [(b"content-type", b"application/javascript"), (b"cache-control", b"public, max-age=31536000, immutable"),
              (b"etag", b'"abc"')]
FILES = {
    "/static/js/index.1234.js": (200, JS_HEADERS, SCRIPT),
    "/static/media/font.woff2": (200, [(b"content-type", b"font/woff2"), (b"cache-control", b"public")], FONT),
    "/static/index.html": (200, [(b"content-type", b"text/html"), (b"cache-control", b"no-cache")], b"<html>" * 300),
    "/app/static/ort.wasm": (200, [(b"content-type", b"application/wasm")], SCRIPT),
    "/_stcore/health": (200, [(b"content-type", b"text/plain")], b"ok" * 600),
}


def fetch(app, path: str, method: str = "GET", **headers: str) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request through ``app``: (status, headers, body)."""
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path,
             "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]}
    async def request():
        await app(scope, receive, send)
        await asyncio.sleep(0.05)  # the worker thread's gzip reports back to this loop

    asyncio.run(request())
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def app():
    inner = Streamlit(FILES)
    return StaticCache(inner), inner


def test_a_file_asked_for_again_is_answered_from_memory_with_the_same_bytes(app):
    cache, inner = app
    first = fetch(cache, "/static/js/index.1234.js")
    again = [fetch(cache, "/static/js/index.1234.js") for _ in range(3)]
    assert inner.calls == 1
    for status, headers, body in again:
        assert (status, body) == (200, SCRIPT)
        assert headers[b"content-length"] == str(len(SCRIPT)).encode()
        assert headers[b"cache-control"] == first[1][b"cache-control"]  # Streamlit's cache headers, unchanged
        assert headers[b"content-type"] == b"application/javascript"


def test_a_browser_that_accepts_gzip_gets_the_same_file_gzipped(app):
    cache, inner = app
    fetch(cache, "/static/js/index.1234.js")
    status, headers, body = fetch(cache, "/static/js/index.1234.js", accept_encoding="gzip, deflate, br")
    assert status == 200 and headers[b"content-encoding"] == b"gzip" and headers[b"vary"] == b"Accept-Encoding"
    assert gzip.decompress(body) == SCRIPT and len(body) < len(SCRIPT) / 10
    assert headers[b"content-length"] == str(len(body)).encode()
    assert headers[b"etag"] == b'W/"abc"'  # another representation of the same file
    assert fetch(cache, "/app/static/ort.wasm")[2] == SCRIPT  # the dashboard's static folder too
    assert gzip.decompress(fetch(cache, "/app/static/ort.wasm", accept_encoding="gzip")[2]) == SCRIPT
    assert inner.calls == 2


def test_compressed_formats_are_sent_as_they_are(app):
    cache, _ = app
    fetch(cache, "/static/media/font.woff2")
    status, headers, body = fetch(cache, "/static/media/font.woff2", accept_encoding="gzip")
    assert (status, body) == (200, FONT) and b"content-encoding" not in headers


@pytest.mark.parametrize("path", ["/static/index.html", "/static/js/nothing.js", "/_stcore/health"])
def test_uncacheable_missing_and_other_answers_always_reach_streamlit(app, path):
    cache, inner = app
    answers = [fetch(cache, path) for _ in range(3)]
    assert inner.calls == 3
    assert answers[0] == answers[2] and b"content-encoding" not in answers[2][1]


@pytest.mark.parametrize("header", [{"range": "bytes=0-9"}, {"if_none_match": '"abc"'},
                                    {"if_modified_since": "Mon, 01 Jan 2024 00:00:00 GMT"}])
def test_range_and_conditional_requests_stay_streamlits(app, header):
    cache, inner = app
    fetch(cache, "/static/js/index.1234.js")
    fetch(cache, "/static/js/index.1234.js", **header)
    assert inner.calls == 2


def test_head_gets_the_length_and_no_body(app):
    cache, inner = app
    fetch(cache, "/static/js/index.1234.js")
    status, headers, body = fetch(cache, "/static/js/index.1234.js", method="HEAD")
    assert (status, body, inner.calls) == (200, b"", 1)
    assert headers[b"content-length"] == str(len(SCRIPT)).encode()


def test_a_file_over_the_limit_is_never_kept(app, monkeypatch):
    monkeypatch.setattr(static_cache, "MAX_FILE_BYTES", len(SCRIPT) - 1)
    cache, inner = app
    assert [fetch(cache, "/static/js/index.1234.js")[2] for _ in range(2)] == [SCRIPT, SCRIPT]
    assert inner.calls == 2 and cache.total == 0


def test_memory_stops_growing_at_the_total_limit(app, monkeypatch):
    monkeypatch.setattr(static_cache, "MAX_TOTAL_BYTES", len(SCRIPT) + len(FONT) - 1)
    cache, inner = app
    for path in ("/static/media/font.woff2", "/static/js/index.1234.js", "/app/static/ort.wasm"):
        fetch(cache, path)
    assert set(cache.kept) == {"/static/media/font.woff2"} and cache.total <= static_cache.MAX_TOTAL_BYTES


def test_the_served_dashboard_sends_streamlits_web_app_from_memory(request, tmp_path_factory):
    """The real server (``dashboard/serve.py``, what ``make run`` and ``python -m dashboard`` start): the
    bundle the index page names comes back gzipped the second time, the same bytes once unpacked."""
    from testkit.app import app_env, running_app, zoo_copy

    with running_app(app_env(zoo_copy(request.config, tmp_path_factory, "static-cache"))) as url:
        index = urllib.request.urlopen(url + "/", timeout=30).read().decode()
        script = re.search(r'src="\.?/?(static/js/[^"]+\.js)"', index).group(1)

        def get(path):
            ask = urllib.request.Request(f"{url}/{path}", headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(ask, timeout=30) as answer:
                return answer.headers, answer.read()

        first_headers, first = get(script)
        for _ in range(50):  # the gzipped copy is made on a worker thread after the first answer
            again_headers, again = get(script)
            if again_headers.get("Content-Encoding"):
                break
            time.sleep(0.1)
    assert first_headers.get("Content-Encoding") is None  # the first answer is Streamlit's own
    assert again_headers["Content-Encoding"] == "gzip" and len(again) < len(first) / 2
    assert gzip.decompress(again) == first
    assert again_headers["Cache-Control"] == first_headers["Cache-Control"]
