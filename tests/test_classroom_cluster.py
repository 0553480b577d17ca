"""The classroom cluster (dashboard/cluster.py, scripts/classroom_cluster.py): two read-only dashboard
processes behind nginx, each browser kept on one process by a cookie.

The browser test starts the real script on the tiny zoo, opens one Chromium context per process through
the proxy and checks that each page works (its images, which live only in the process that drew them,
load; the live decoder's runtime arrives and runs), that classroom mode holds there, that nginx sent every request of a browser to that browser's
process, and that neither process wrote to the shared model store. Skipped when nginx or Chromium is
missing, unless LATENT_LAB_REQUIRE_E2E=1 (CI), which makes it a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dashboard import cluster
from dashboard.launch import free_port
from testkit.app import REPO, app_env, browser_or_skip, wait_for_app, zoo_dir_for
from testkit.browser import chromium

SHOTS = Path("/tmp/cluster_shots")
LIVE = "window.__latentLabLive"  # the live element's debug hook (dashboard/live/live.js)
LOG_LINE = re.compile(r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) cookie=(?P<cookie>\S+) upstream=(?P<upstream>.+)$')


def nginx_or_skip() -> str:
    """The nginx executable; skip without it (fail under LATENT_LAB_REQUIRE_E2E=1, as browser_or_skip does)."""
    nginx = cluster.find_nginx()
    if nginx is None:
        if os.environ.get("LATENT_LAB_REQUIRE_E2E") == "1":
            pytest.fail(f"LATENT_LAB_REQUIRE_E2E=1 but {cluster.NGINX_INSTALL}")
        pytest.skip(cluster.NGINX_INSTALL)
    return nginx


def test_without_nginx_the_script_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(cluster, "find_nginx", lambda: None)
    with pytest.raises(SystemExit) as stopped:
        cluster.main(["--workers", "2"])
    assert stopped.value.code == 2 and "sudo apt-get install nginx" in capsys.readouterr().err


@pytest.mark.parametrize("workers", [1, 3])
def test_nginx_accepts_the_config_and_every_process_gets_a_share(tmp_path, workers):
    nginx = nginx_or_skip()
    backends = [f"127.0.0.1:{9000 + i}" for i in range(workers)]
    cluster.write_conf(nginx, backends, "0.0.0.0", 8501, tmp_path)  # raises if `nginx -t` refuses it
    conf = (tmp_path / "nginx.conf").read_text()
    assert all(f"upstream {cluster.upstream_name(i)} {{ server {b};" in conf for i, b in enumerate(backends))
    assert all(cluster.upstream_name(i) in " ".join(cluster.split_rules(workers)) for i in range(workers))
    assert "/etc/" not in conf and "/var/" not in conf, "everything nginx writes stays in the run folder"


def store_snapshot(store: Path) -> dict[str, tuple[int, int]]:
    """Every file of the model store with its size and modification time."""
    return {str(p.relative_to(store)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(store.rglob("*")) if p.is_file()}


@contextlib.contextmanager
def running_cluster(store: Path, run_dir: Path, workers: int = 2):
    """``scripts/classroom_cluster.py`` on a free loopback port; yields its cluster.json; SIGTERM afterwards."""
    command = [sys.executable, str(REPO / "scripts" / "classroom_cluster.py"), "--workers", str(workers),
               "--address", "127.0.0.1", "--port", str(free_port()), "--run-dir", str(run_dir)]
    log = (run_dir.parent / "cluster.log").open("w")
    process = subprocess.Popen(command, cwd=REPO, env={**os.environ, **app_env(store)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while not (run_dir / "cluster.json").exists():  # written once nginx answers through to a backend
            assert process.poll() is None, (run_dir.parent / "cluster.log").read_text()
            assert time.monotonic() < deadline, "the cluster did not start within 300 s"
            time.sleep(0.2)
        yield json.loads((run_dir / "cluster.json").read_text())
    finally:
        process.terminate()  # the script stops nginx and both dashboards on SIGTERM, as on Ctrl+C
        process.wait(60)
        log.close()


def sticky_cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == cluster.COOKIE), None)


def one_context_per_backend(browser, url: str, backends: dict[str, str]) -> dict[str, object]:
    """New browsers (contexts) until nginx has given each process one: the first request of each sets
    its cookie at random, as a student's first page load does; extra contexts are closed."""
    contexts: dict[str, object] = {}
    for _ in range(60):  # each new browser lands on a given one of 2 processes with p = 1/2
        context = browser.new_context(viewport={"width": 1400, "height": 1400})
        context.request.get(f"{url}/_stcore/health")
        name = sticky_cookie(context)
        assert name in backends, f"nginx set no {cluster.COOKIE} cookie naming a process: {context.cookies()}"
        if name in contexts:
            context.close()
        else:
            contexts[name] = context
        if len(contexts) == len(backends):
            return contexts
    raise AssertionError(f"60 new browsers all went to {sorted(contexts)}")


def exception_text(page) -> str:
    boxes = page.locator("[data-testid='stException']")
    return "\n\n".join(boxes.nth(i).inner_text() for i in range(boxes.count()))


def check_playground(page, url: str, name: str, image: int) -> str:
    """The playground renders its images through the proxy; returns the start image's /media/ URL."""
    page.goto(f"{url}/playground?dataset=digits&image={image}")
    wait_for_app(page, 180_000)
    picture = page.locator("[data-testid='stImage']").filter(has_text=f"test image #{image},").locator("img").first
    picture.wait_for(timeout=120_000)
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=picture.element_handle(), timeout=60_000)
    # the live decoder's runtime (dashboard/static, 14 MB of WebAssembly) came through the proxy and runs
    page.wait_for_function(f"() => {LIVE} && Object.values({LIVE}.instances).some(i => i.ready)", timeout=120_000)
    assert not exception_text(page), exception_text(page)
    page.screenshot(path=str(SHOTS / f"playground_{name}.png"), full_page=True)
    src = page.evaluate("(img) => img.src", picture.element_handle())
    assert src.startswith(f"{url}/media/"), src
    return src


def status_with_cookie(url: str, backend: str) -> int:
    """The HTTP status of ``url`` fetched through the proxy as a browser pinned to ``backend``."""
    request = urllib.request.Request(url, headers={"Cookie": f"{cluster.COOKIE}={backend}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def wait_closed(url: str, timeout: float = 30.0) -> None:
    """Until nothing answers at ``url`` (a stopped server's port is closed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
        except OSError:
            return
        time.sleep(0.1)
    raise AssertionError(f"{url} still answers {timeout:.0f} s after SIGTERM")


def check_classroom_mode(page, url: str) -> None:
    """Through the proxy the Train button is off and says why."""
    page.goto(f"{url}/train")
    wait_for_app(page, 180_000)
    button = page.get_by_role("button", name="Train", exact=True)
    button.wait_for(timeout=60_000)
    assert button.is_disabled()
    assert page.get_by_text("Training is switched off").count() >= 1
    assert not exception_text(page), exception_text(page)


def access_log(path: Path, need_streams: int, timeout: float = 15.0) -> list[dict[str, str]]:
    """nginx's access log, parsed; waits for the websocket lines (logged when a socket closes)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [m.groupdict() for m in map(LOG_LINE.search, path.read_text().splitlines()) if m]
        if sum(line["path"] == "/_stcore/stream" for line in lines) >= need_streams or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


@pytest.mark.e2e
@pytest.mark.slow
def test_two_processes_behind_nginx_keep_each_browser_on_its_own(request, tmp_path_factory):
    nginx_or_skip()
    browser_or_skip()
    SHOTS.mkdir(parents=True, exist_ok=True)
    work = tmp_path_factory.mktemp("cluster")
    store = work / "checkpoints"
    shutil.copytree(zoo_dir_for(request.config, tmp_path_factory), store, symlinks=True)
    before = store_snapshot(store)
    with running_cluster(store, work / "run") as info, chromium() as browser:
        url, backends = info["url"], info["backends"]
        assert len(backends) == 2 and Path(info["model_store"]) == store.resolve()
        contexts = one_context_per_backend(browser, url, backends)
        for image, (name, context) in zip((3, 8), contexts.items()):  # a different picture in each process
            page = context.new_page()
            src = check_playground(page, url, name, image)
            # an image exists only in the process that drew it: why routing must stick (checked while the page
            # shows it; Streamlit names a media file by its content, and the other process draws another image)
            other = next(b for b in backends if b != name)
            assert status_with_cookie(src, name) == 200
            assert status_with_cookie(src, other) == 404, f"{other} should not have {name}'s image"
            check_classroom_mode(page, url)
            assert sticky_cookie(context) == name, "the browser kept its process"
        for context in contexts.values():
            context.close()  # closes the websockets, so nginx logs them
        lines = access_log(Path(info["access_log"]), need_streams=2)
        os.kill(info["pids"]["ll_b0"], signal.SIGTERM)  # a process stops: its browsers go to its backup, ll_b1
        wait_closed(backends["ll_b0"])
        def health_lines() -> list[dict[str, str]]:
            return [line for line in access_log(Path(info["access_log"]), 0) if line["path"] == "/_stcore/health"]

        seen_checks = len(health_lines())
        assert status_with_cookie(f"{url}/_stcore/health", "ll_b0") == 200
        # that health check's own line, once nginx has written it (a websocket of the stopped process may be
        # logged after it, when it closes: the last line of the log is not always this request's)
        deadline = time.monotonic() + 15
        while len(checks := health_lines()) <= seen_checks and time.monotonic() < deadline:
            time.sleep(0.2)
        tried = checks[-1]["upstream"]  # "<ll_b0's address>, <ll_b1's address>"
        assert tried.endswith(backends["ll_b1"].removeprefix("http://")), tried
    address = {name: backend.removeprefix("http://") for name, backend in backends.items()}
    # the same files for every browser (Streamlit's web app, the decoder runtime) come from disk, never
    # through a dashboard process (upstream '-'): serving them was half of a student's visit's CPU
    from_disk = [line for line in lines if line["path"].startswith(("/static/", "/app/static/"))]
    assert len(from_disk) > 20 and any(line["path"].startswith("/app/static/vendor/") for line in from_disk)
    assert all(line["upstream"] == "-" and line["status"] in ("200", "304") for line in from_disk), from_disk[:5]
    pinned = [line for line in lines if line["cookie"] in address and line not in from_disk]
    wrong = [line for line in pinned if line["upstream"] != address[line["cookie"]]]
    assert pinned and not wrong, f"requests sent to another process than their cookie names: {wrong[:5]}"
    for name in backends:  # both processes served a whole session: its websocket and its images
        served = {line["path"].split("/")[1] for line in pinned if line["cookie"] == name and line["status"] in ("101", "200")}
        assert {"_stcore", "media"} <= served, (name, served)
        assert any(line["path"] == "/_stcore/stream" and line["cookie"] == name for line in lines), name
    for name in backends:  # each was started in classroom mode (python -m dashboard --classroom says so)
        assert "classroom mode: read-only" in (work / "run" / f"{name}.log").read_text()
    assert store_snapshot(store) == before, "the processes only read the model store"
