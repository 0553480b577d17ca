"""Helpers for the dashboard tests (AppTest and the browser test).

``tiny_zoo(root)`` trains the default zoo for 2 epochs on digits into ``root`` (a few seconds each);
the dashboard finds those models because the tests set ``LATENT_LAB_EPOCHS=2``, which
``dashboard.resources.default_train_config`` reads. ``running_app`` starts ``streamlit run`` on a
free port and waits until it answers.
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

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
TEST_EPOCHS = 2


def tiny_zoo(root: Path) -> Path:
    """Train (or find) the default zoo with TrainConfig(epochs=TEST_EPOCHS) on digits under ``root``."""
    from core.checkpoints import CheckpointStore, load_or_train
    from core.config import TrainConfig
    from core.datasets import load_dataset
    from core.zoo import default_zoo

    from core.errors import CheckpointError

    import shutil

    store = CheckpointStore(root)
    dataset = load_dataset("digits")
    wanted = set()
    for entry in default_zoo(TrainConfig(epochs=TEST_EPOCHS)):
        wanted.add(store.folder_for(dataset.config, entry.model, entry.train).name)
        try:
            load_or_train(dataset, entry.model, entry.train, store=store)
        except CheckpointError:  # left by an older version of the code: train it again
            load_or_train(dataset, entry.model, entry.train, store=store, retrain=True)
    for stale in Path(root).iterdir():  # models of older configs (a reused cache folder): not the zoo any more
        if stale.is_dir() and stale.name not in wanted:
            shutil.rmtree(stale, ignore_errors=True)
    return root


def zoo_dir_for(config, tmp_path_factory) -> Path:
    """The tiny zoo, kept in pytest's cache folder between runs (checkpoints are content-addressed
    and checksummed, so a reused one is the same model); one folder per xdist worker."""
    import os

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        root = Path(config.cache.mkdir(f"latent-lab-tiny-zoo-{worker}"))
    except Exception:  # no cache plugin (-p no:cacheprovider): a fresh temporary folder
        root = tmp_path_factory.mktemp("zoo")
    return tiny_zoo(root)


def app_env(checkpoints: Path) -> dict[str, str]:
    """Environment for a dashboard that uses the tiny zoo."""
    return {"LATENT_LAB_CHECKPOINTS": str(checkpoints), "LATENT_LAB_EPOCHS": str(TEST_EPOCHS)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(env: dict[str, str], port: int | None = None, timeout: float = 60.0):
    """``streamlit run dashboard/app.py`` on a free port; yields the base URL; stops it afterwards."""
    port = port or free_port()
    log = open(REPO / "tests" / "screenshots" / f"streamlit-{port}.log", "w") if (REPO / "tests" / "screenshots").is_dir() else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start on port {port} (exit code {process.poll()})")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log is not subprocess.DEVNULL:
            log.close()


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    """A Playwright page in headless Chromium (the system's /usr/bin/chromium)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms)
    page.wait_for_timeout(200)  # let the last delta paint
