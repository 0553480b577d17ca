"""The dashboard under test, for the tests and the benchmarks (AppTest and the browser).

``tiny_zoo(root)`` trains the default zoo for 2 epochs on digits into ``root`` (a few seconds each);
the dashboard finds them as the zoo (``core.store.zoo.zoo_status`` counts a model whatever it was trained
with), and ``LATENT_LAB_EPOCHS=2`` (read by ``core.store.zoo.default_train_config``) keeps any training short.
``running_app`` starts ``streamlit run`` on a
free port and waits until it answers.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST_EPOCHS = 2


def tiny_zoo(root: Path) -> Path:
    """Train (or find) the default zoo with TrainConfig(epochs=TEST_EPOCHS) on digits under ``root``."""

    from core.config import TrainConfig
    from core.data.datasets import load_dataset
    from core.errors import CheckpointError
    from core.store.checkpoints import CheckpointStore
    from core.store.derived import precompute_models
    from core.store.trained import load_or_train
    from core.store.zoo import default_zoo

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
        if not stale.name.startswith(".") and stale.name not in wanted:
            store.delete(stale)
    store.clean()  # and what replaced saves left behind
    precompute_models(store, dataset.config, lambda: dataset)  # as `python -m core zoo` does: the pages run ONNX, not torch
    return root


def zoo_dir_for(config, tmp_path_factory) -> Path:
    """The tiny zoo, kept in pytest's cache folder between runs (checkpoints are content-addressed
    and checksummed, so a reused one is the same model); one folder per xdist worker."""

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        root = Path(config.cache.mkdir(f"latent-lab-tiny-zoo-{worker}"))
    except Exception:  # no cache plugin (-p no:cacheprovider): a fresh temporary folder
        root = tmp_path_factory.mktemp("zoo")
    return tiny_zoo(root)


def app_env(checkpoints: Path) -> dict[str, str]:
    """Environment for a dashboard that uses the tiny zoo."""
    return {"LATENT_LAB_CHECKPOINTS": str(checkpoints), "LATENT_LAB_EPOCHS": str(TEST_EPOCHS)}


def zoo_copy(config, tmp_path_factory, name: str = "app") -> Path:
    """A copy of the tiny zoo in a fresh folder (a server under test may write: never into the shared cache)."""
    import shutil

    store = tmp_path_factory.mktemp(name) / "checkpoints"
    shutil.copytree(zoo_dir_for(config, tmp_path_factory), store, symlinks=True)
    return store


@contextlib.contextmanager
def running_app(env: dict[str, str]):
    """``streamlit run dashboard/serve.py`` (what ``make run`` and ``python -m dashboard`` serve) on a free
    port; yields the base URL; stops it afterwards.

    The one launcher (``dashboard.launch.streamlit_app``), which the bench uses too; its server log
    lands in bench/out/.
    """
    from dashboard.launch import streamlit_app

    with streamlit_app("dashboard/serve.py", env=env) as (url, _process):
        yield url


@contextlib.contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    """A Playwright page in headless Chromium (the system's /usr/bin/chromium)."""
    from testkit.browser import chromium

    with chromium() as browser:
        yield browser.new_page(viewport={"width": width, "height": height})


def browser_or_skip() -> None:
    """Skip a browser test when no browser can be driven here; fail instead under LATENT_LAB_REQUIRE_E2E=1."""
    import os

    import pytest

    from testkit.browser import browser_problem

    problem = browser_problem()
    if problem:
        if os.environ.get("LATENT_LAB_REQUIRE_E2E") == "1":
            pytest.fail(f"LATENT_LAB_REQUIRE_E2E=1 but {problem}")
        pytest.skip(problem)


def click_download(page, name: str, timeout_ms: float = 60_000, attempts: int = 3):
    """Click the download button labelled ``name`` on ``page``; the Playwright Download it gave.

    A deferred download's data function lives only as long as the script run that drew its button: a
    click that lands while the page reruns (the Latent map's lens asks for images just after it opens)
    can name a function Streamlit has already dropped, and no download comes; or a rerun that starts just
    as the file is sent clears Streamlit's answer from its queue (Streamlit 1.67 keeps only lifecycle
    messages), and the button spins for 180 s. Then, as a person would, reload the page, wait for it to
    settle and click again (at most ``attempts`` clicks). A reload starts a new session: the page keeps what
    its URL holds, so a button drawn only after some interaction cannot be retried this way."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        button = page.get_by_role("button", name=name)
        button.scroll_into_view_if_needed()
        try:
            with page.expect_download(timeout=timeout_ms / attempts) as download:
                button.click()
            return download.value
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
            page.reload()
            wait_for_app(page, 120_000)


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' indicator)."""
    # 'notRunning' also holds for a moment after the page connects, before the first run starts: wait for
    # a drawn element too (every page draws one), so a slow first run is not taken for a finished one
    idle = ("() => document.querySelector(\"[data-testid='stApp'][data-test-script-state='notRunning']\")"
            " && document.querySelector(\"[data-testid='stMain'] [data-testid='stElementContainer']\")")
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        page.wait_for_function(idle, timeout=max(1.0, (deadline - time.monotonic()) * 1000))
        page.wait_for_timeout(200)  # let the last delta paint
        # a run stopped for a rerun (clicks during a run) reads 'notRunning' for a moment before the next
        # run starts, longer on a loaded machine: idle only if it still is after the pause
        if page.evaluate(idle) or time.monotonic() > deadline:
            return
