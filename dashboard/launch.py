"""Start the dashboard (or any Streamlit script of the repo) as a server on a free loopback port.

One launcher for everything that needs a running dashboard: the classroom cluster, the browser tests,
the benchmarks. Nothing here asserts or measures (the browser that drives it is in ``testkit.browser``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"  # git-ignored: server logs (and the bench's screenshots)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def streamlit_command(script: str, port: int, python: str = sys.executable) -> list[str]:
    return [python, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120.0, what: str = "streamlit") -> None:
    """Until ``url`` answers Streamlit's health check (through a proxy too); RuntimeError naming ``what``
    when ``process`` (the server, or the proxy in front of it) ends or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer at {url} (exit code {process.poll()})")
        time.sleep(0.05)


@contextlib.contextmanager
def streamlit_app(script: str, env: dict[str, str] | None = None, cwd: Path = REPO, python: str = sys.executable,
                  log_name: str | None = None, wait: bool = True):
    """``streamlit run script`` on a free port; yields (url, process); stops it afterwards."""
    port = free_port()
    OUT.mkdir(parents=True, exist_ok=True)
    log = open(OUT / (log_name or f"streamlit-{port}.log"), "w")
    process = subprocess.Popen(streamlit_command(script, port, python), cwd=cwd, env={**os.environ, **(env or {})},
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if wait:
            wait_healthy(url, process)
        yield url, process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen) -> None:
    """Terminate a server, kill it if it has not exited within 10 s."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
