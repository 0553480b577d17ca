"""Watch it learn in the dashboard (issue 20 item 3): the player's data, and the replay in Chromium
(distinct frames while playing, no rerun per frame)."""

from __future__ import annotations

import base64
import re
import time
from pathlib import Path

import numpy as np
import pytest

from core.learning import Moments
from dashboard.player import MAX_POINTS, player_data
from testkit.app import app_env, browser_or_skip, chromium_page, running_app, wait_for_app, zoo_dir_for


def moments(m: int = 5, s: int = 1500, d: int = 2, angles: bool = True) -> Moments:
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(m, s, d)).astype(np.float32)
    return Moments(steps=np.arange(m) * 10, epochs=np.arange(m) / 2.0, seconds=np.arange(m) * 0.1,
                   sample_index=np.arange(s), sample_labels=rng.integers(0, 10, s), codes=codes,
                   views_2d=codes[..., :2].copy(), recon_index=np.arange(8),
                   reconstructions=rng.random((m, 8, 1, 8, 8)).astype(np.float32), sample_mse=np.linspace(0.2, 0.05, m),
                   angles_deg=np.tile(np.linspace(80, 5, m)[:, None], (1, d)) if angles else None,
                   pca_sample_mse=0.05 if angles else None)


def decoded(text: str, dtype) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype)


def test_the_player_gets_every_moment_and_a_readable_number_of_points():
    kept = moments()
    data = player_data("k", kept, np.zeros((1500, 2)), np.zeros((8, 1, 8, 8)), np.ones((8, 1, 8, 8)),
                       ["#000"], "linear d=2", "PCA d=2")
    assert data["steps"] == [0, 10, 20, 30, 40] and len(data["labels"]) == MAX_POINTS
    views = decoded(data["views"], np.float32).reshape(5, MAX_POINTS, 2)
    np.testing.assert_array_equal(views[:, 0], kept.views_2d[:, 0])  # the first sample point, at every moment
    assert decoded(data["recon"], np.uint8).size == 5 * 8 * 64 and decoded(data["originals"], np.uint8).max() == 255
    assert data["max_angle"] == pytest.approx(list(np.linspace(80, 5, 5))) and data["pca_mse"] == 0.05
    assert data["pca_view_label"] == "PCA d=2", "a 2-D code's map is PCA's own 2-D code"
    long = player_data("k", moments(d=30), np.zeros((1500, 2)), np.zeros((8, 1, 8, 8)), np.ones((8, 1, 8, 8)),
                       ["#000"], "conv d=30", "PCA d=30")
    assert long["pca_view_label"] == "PCA d=30: its first 2 numbers", "not a picture of all 30"
    assert player_data("k", moments(angles=False), np.zeros((1500, 2)), np.zeros((8, 1, 8, 8)), np.zeros((8, 1, 8, 8)),
                       ["#000"], "dense d=2", "PCA d=2")["max_angle"] is None, "only the linear family has angles"


@pytest.mark.e2e
@pytest.mark.slow
def test_the_train_page_replays_a_training_in_the_browser(request, tmp_path_factory):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    browser_or_skip()
    zoo = zoo_dir_for(request.config, tmp_path_factory)
    with running_app(app_env(Path(zoo))) as url, chromium_page(1400, 1000) as page:
        page.goto(f"{url}/train?dataset=digits")
        wait_for_app(page, 120_000)
        box = page.locator("[data-testid='stSelectbox']").filter(has_text="Inspect or delete").first
        for attempt in range(3):  # a rerun still under way on a loaded machine closes an open list: open it again
            box.click()
            try:
                page.locator("[role='option']").filter(has_text="linear d=2").first.click(timeout=20_000)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
                wait_for_app(page, 120_000)
        wait_for_app(page, 120_000)
        # the linear model's player (its rerun replaces the first model's; it lives in a shadow root,
        # which Playwright's locators pierce and document.querySelectorAll does not)
        page.wait_for_function("() => Object.keys(window.__latentLabPlayer || {}).some(k => k.startsWith('tr_player_linear'))",
                               timeout=120_000)
        wait_for_app(page, 120_000)
        player = page.locator(".lp-root[data-key^='tr_player_linear']")
        caption = player.locator(".lp-caption").inner_text()
        assert "largest angle" in caption, "the linear model's angle to PCA"
        # whole-split batches: every moment falls on a whole epoch, written as one ("epoch 50", not "epoch 50.00")
        assert re.search(r"\(epoch \d+\)", caption), caption
        player.locator(".lp-play").click()
        started = time.perf_counter()
        page.wait_for_timeout(1500)
        stats = page.evaluate("() => Object.entries(window.__latentLabPlayer)"
                              ".find(([key]) => key.startsWith('tr_player_linear'))[1]")
        fps = stats["distinct"] / (time.perf_counter() - started)
        print(f"player: {stats['distinct']} distinct frames, {fps:.1f} per second")
        assert fps >= 20, stats
        assert page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").count() == 1, \
            "playing reruns nothing"


@pytest.mark.e2e
@pytest.mark.slow
def test_a_training_in_the_background_shows_its_moments_as_they_come(request, tmp_path_factory):
    """Issue 20 item 3: while the Train page's training runs, the player shows the moments kept so far,
    and more appear without a click (the page's progress fragment reruns each second)."""
    from testkit.app import zoo_copy

    browser_or_skip()
    with running_app(app_env(zoo_copy(request.config, tmp_path_factory, "live-moments"))) as url, \
            chromium_page(1400, 1400) as page:
        page.goto(f"{url}/train?dataset=digits")
        wait_for_app(page, 120_000)
        epochs = page.get_by_role("spinbutton", name="Epochs")
        epochs.fill("300")  # long enough to watch (and stopped below)
        epochs.press("Enter")
        wait_for_app(page, 60_000)
        page.get_by_text("Train again, even if cached").click()
        wait_for_app(page, 60_000)
        page.get_by_role("button", name="Train", exact=True).click()
        player = page.locator(".lp-root[data-key^='tr_live_']")
        player.wait_for(timeout=120_000)

        def kept() -> int:  # "moment k of M: ..." (the newest moment is shown)
            return int(player.locator(".lp-caption").inner_text().split(" of ")[1].split(":")[0])

        first = kept()
        deadline = time.monotonic() + 120
        while kept() <= first and time.monotonic() < deadline:
            page.wait_for_timeout(500)
        assert kept() > first, "new moments appeared while it trained"
        # the page, scrolled by the wheel (not through the element: it is drawn again each second while the
        # model trains, and an element replaced mid-action fails the action)
        page.mouse.move(700, 700)
        page.mouse.wheel(0, 900)
        page.wait_for_timeout(300)
        page.screenshot(path=str(Path(__file__).parent / "screenshots" / "train_live_moments.png"))
