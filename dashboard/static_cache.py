"""Files that are the same for every browser, sent from memory: an ASGI middleware in front of Streamlit.

A new browser fetches Streamlit's web app (~115 hashed JavaScript/CSS files, ~7 MB) and the dashboard's
static folder (the ONNX runtime). Streamlit sends each through its whole middleware stack and a
``FileResponse`` that reads the file in 64 KB chunks on worker threads: measured with py-spy, that was
about half of the server's CPU per student visit in classroom mode (bench part visits). These files never
change while the server runs, so the first answer for each is kept (once compressed where compressing
pays) and every later request for it is answered here in one send.

What is kept is exactly what Streamlit answered (status 200, its headers, its bytes): the middleware
never reads a file itself, so Streamlit's path checks and cache headers stay in force. Kept: GET answers
under :data:`PREFIXES` that Streamlit marks cacheable (no ``no-cache``: its HTML and manifest are left
alone), whole (no range) and up to :data:`MAX_FILE_BYTES`; at most :data:`MAX_TOTAL_BYTES` in all.
Conditional and range requests go to Streamlit as before.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Streamlit's web app and the dashboard's static folder (``server.enableStaticServing``)
PREFIXES = ("/static/", "/app/static/")
MAX_FILE_BYTES = 32 * 1024 * 1024  # the ONNX runtime's WASM is ~11 MB
MAX_TOTAL_BYTES = 128 * 1024 * 1024
#: content types worth compressing (text and WASM shrink 3-5x; fonts and images are compressed already)
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/wasm", "image/svg+xml")
#: request headers that ask for something else than the whole file as it is now
CONDITIONAL = (b"range", b"if-none-match", b"if-modified-since", b"if-range")


@dataclass(frozen=True)
class Kept:
    """One answer kept: Streamlit's headers (less the length), its body and, where it pays, the body gzipped."""

    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    gzipped: bytes | None


def _header(headers, name: bytes) -> bytes:
    return next((value for key, value in headers if key.lower() == name), b"")


def _accepts_gzip(scope: Scope) -> bool:
    return b"gzip" in _header(scope.get("headers", ()), b"accept-encoding").lower()


def _compressed(headers, body: bytes) -> bytes | None:
    kind = _header(headers, b"content-type").decode("latin-1").lower()
    if _header(headers, b"content-encoding") or not kind.startswith(COMPRESSIBLE) or len(body) < 1024:
        return None
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    return packed if len(packed) < 0.9 * len(body) else None


class StaticCache:
    """ASGI middleware: answer repeated requests for Streamlit's static files from memory.

    Parameters
    ----------
    app : ASGI application
        What it stands in front of (Streamlit's Starlette app).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.kept: dict[str, Kept] = {}

    @property
    def total(self) -> int:
        """Bytes held: every kept body and its gzipped form."""
        return sum(len(kept.body) + len(kept.gzipped or b"") for kept in self.kept.values())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or not path.startswith(PREFIXES)
                or any(_header(scope.get("headers", ()), name) for name in CONDITIONAL)):
            await self.app(scope, receive, send)
            return
        kept = self.kept.get(path)
        if kept is not None:
            await self._answer(scope, send, kept)
            return
        await self.app(scope, receive, self._keeper(scope, path, send))

    def _keeper(self, scope: Scope, path: str, send: Send) -> Send:
        """``send``, also collecting a GET's whole 200 answer, kept when Streamlit calls it cacheable."""
        start: Message = {}
        parts: list[bytes] = []
        state = {"size": 0, "keep": scope.get("method") == "GET"}

        async def keeping(message: Message) -> None:
            await send(message)
            if not state["keep"]:
                return
            if message["type"] == "http.response.start":
                start.update(message)
                headers = message.get("headers", ())
                state["keep"] = (message.get("status") == 200 and b"no-cache" not in _header(headers, b"cache-control")
                                 and not _header(headers, b"set-cookie"))
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                state["size"] += len(parts[-1])
                if state["size"] > MAX_FILE_BYTES:
                    state["keep"] = False
                elif not message.get("more_body", False):
                    self._keep(path, start.get("headers", ()), b"".join(parts))
            else:  # a trailer or anything else: not a plain answer
                state["keep"] = False

        return keeping

    def _keep(self, path: str, headers, body: bytes) -> None:
        """Keep ``body`` as it is now, and its gzipped form once a worker thread has made it (the 11 MB runtime
        takes ~0.3 s: off the event loop, and not awaited, since Starlette cancels a finished answer's tasks)."""
        if path in self.kept or self.total + len(body) > MAX_TOTAL_BYTES:  # two first requests at once: one kept
            return
        plain = tuple((key, value) for key, value in headers if key.lower() != b"content-length")
        self.kept[path] = Kept(plain, body, None)
        packing = asyncio.get_running_loop().run_in_executor(None, _compressed, plain, body)
        packing.add_done_callback(lambda done: self._add_gzipped(path, done))

    def _add_gzipped(self, path: str, done: asyncio.Future) -> None:
        gzipped = None if done.cancelled() or done.exception() else done.result()
        kept = self.kept.get(path)
        if gzipped is not None and kept is not None and self.total + len(gzipped) <= MAX_TOTAL_BYTES:
            self.kept[path] = Kept(kept.headers, kept.body, gzipped)

    @staticmethod
    async def _answer(scope: Scope, send: Send, kept: Kept) -> None:
        body, headers = kept.body, list(kept.headers)
        if kept.gzipped is not None:
            headers.append((b"vary", b"Accept-Encoding"))
            if _accepts_gzip(scope):  # another representation of the same file: its entity tag turns weak
                body = kept.gzipped
                headers = [(key, b"W/" + value if key.lower() == b"etag" and not value.startswith(b"W/") else value)
                           for key, value in headers]
                headers.append((b"content-encoding", b"gzip"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})
