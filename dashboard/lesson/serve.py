"""Serve a static lesson folder the way a school's web server would: ``python -m http.server``, nothing
of Latent Lab running. Used by the tests and the benchmark that open the folder in a browser."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def static_server(folder: str | Path, probe: str = "lesson.json") -> Iterator[str]:
    """``python -m http.server`` serving ``folder`` on a free loopback port; yields its origin
    (``http://127.0.0.1:PORT``) once ``probe`` answers, and stops the server afterwards."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=folder,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{origin}/{probe}", timeout=1).close()
                break
            time.sleep(0.1)
        yield origin
    finally:
        process.terminate()
        process.wait(10)
