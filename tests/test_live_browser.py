"""The live-decoding elements (dashboard/live) in real headless Chromium, served by Streamlit.

- For every method (PCA included) the browser's decode of 5 codes equals torch's ``decode`` within
  1e-3 (max absolute pixel difference), and the pixels painted on the canvas are torch's, quantised.
- Dragging a slider repaints while the pointer is still down; the released value reaches Python.
- The pad decodes under the pointer and a click pins the code; the scrubber decodes while dragging.
- No request leaves the Streamlit server's origin.
- With the runtime's files blocked, the fallback note appears and the server draws the image.

Skipped when /usr/bin/chromium (or playwright) is missing, unless LATENT_LAB_REQUIRE_E2E=1.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from testkit.app import browser_or_skip

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOTS = Path("/tmp/live_shots")
HOOK = "window.__latentLabLive"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """Every method fitted (1 epoch, d=2) on digits; their ONNX + metadata in a folder."""
    browser_or_skip()
    from core.data.datasets import load_dataset
    from testkit.live import prepare_models

    folder = tmp_path_factory.mktemp("live-models")
    dataset = load_dataset("digits")
    return folder, prepare_models(folder, dataset), dataset


@pytest.fixture(scope="module")
def app_url(fitted):
    from testkit.live import live_app

    with live_app(fitted[0]) as (url, _process):
        yield url


@pytest.fixture(scope="module")
def browser():
    browser_or_skip()
    from testkit.browser import chromium

    SHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def live_page(browser, app_url):
    """The app's page with every element live; every request the page made is in ``page.requests``."""
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.requests = requests
    page.goto(app_url)
    page.wait_for_function(f"() => {HOOK} && ['dec-conv', 'pad', 'scrub'].every(k => {HOOK}.instances[k]?.ready)",
                           timeout=120_000)
    yield page
    page.close()


def wait_ready(page, key: str) -> None:
    page.wait_for_function(f"(k) => {HOOK} && {HOOK}.instances[k] && {HOOK}.instances[k].ready", arg=key,
                           timeout=60_000)


def stats(page, key: str) -> dict:
    return page.evaluate(f"(k) => JSON.parse(JSON.stringify({HOOK}.instances[k].stats))", key)


def quantise(images: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(images, 0, 1) * 255 + 0.5).astype(np.int64)


def test_browser_decode_equals_torch_for_every_method(live_page, fitted):
    _folder, reducers, dataset = fitted
    rng = np.random.default_rng(0)
    for name, reducer in reducers.items():
        key = f"dec-{name}"
        wait_ready(live_page, key)
        codes = np.concatenate([reducer.encode(dataset.test.images[:3]),
                                rng.normal(0, 2, (2, reducer.latent_dim_)).astype(np.float32)])
        got = live_page.evaluate(f"async ([k, codes]) => await {HOOK}.instances[k].decode(codes)",
                                 [key, codes.tolist()])
        got = np.asarray(got, dtype=np.float32).reshape(5, *reducer.image_shape_)
        want = reducer.decode(codes)
        assert np.abs(got - want).max() <= 1e-3, f"{name}: max difference {np.abs(got - want).max()}"
        assert np.ptp(want) > 0  # the codes differ: the check compares real images

        # what is painted: the canvas holds torch's decode of the element's current code
        code = np.asarray(live_page.evaluate(f"(k) => {HOOK}.instances[k].code()", key), dtype=np.float32)
        rgba = np.asarray(live_page.evaluate(f"(k) => {HOOK}.instances[k].pixels()", key)).reshape(8, 8, 4)
        expected = quantise(reducer.decode(code[None]))[0, 0]
        assert np.abs(rgba[..., 0] - expected).max() <= 1, name
        assert (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 3] == 255).all()


def drag(page, slider, fraction_from: float, fraction_to: float, steps: int = 40, shot: str | None = None) -> dict:
    """Press on the slider at one fraction of its width, move to another in ``steps`` moves, with
    the pointer down all the way; returns the distinct paints counted before the release."""
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    x = lambda f: box["x"] + 8 + f * (box["width"] - 16)  # noqa: E731 (the thumb's travel)
    page.mouse.move(x(fraction_from), y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.mouse.move(x(fraction_from + (fraction_to - fraction_from) * i / steps), y)
        page.wait_for_timeout(16)
        if shot and i == steps // 2:
            page.screenshot(path=str(SHOTS / shot))
    page.wait_for_timeout(100)
    return {"moves": steps}


def test_dragging_repaints_while_down_and_release_reaches_python(live_page):
    key = "dec-conv"
    host = live_page.locator(f".ll-root[data-key='{key}']")
    slider = host.locator("input[type=range]").first
    slider.scroll_into_view_if_needed()
    before = stats(live_page, key)
    canvas = host.locator("canvas.ll-image").first
    first_shot = canvas.screenshot()
    drag(live_page, slider, 0.1, 0.9, shot="decoder_mid_drag.png")
    during = stats(live_page, key)
    assert live_page.evaluate("() => document.querySelector('[data-testid=stApp]')"
                              ".getAttribute('data-test-script-state')") == "notRunning"  # no rerun yet
    mid_shot = canvas.screenshot()  # still pressed
    assert during["distinct"] - before["distinct"] >= 5, (before, during)
    assert mid_shot != first_shot
    assert not during["errors"]
    live_page.mouse.up()
    code = live_page.evaluate(f"(k) => {HOOK}.instances[k].code()", key)
    caption = live_page.get_by_text(f"released code ({key}):")
    expected = ", ".join(f"{v:.3f}" for v in code)
    caption.filter(has_text=expected).wait_for(timeout=30_000)
    wait_ready(live_page, key)
    # after the rerun the slider stays where it was released
    live_page.wait_for_timeout(300)
    after = live_page.evaluate(f"(k) => {HOOK}.instances[k].code()", key)
    np.testing.assert_allclose(after, code, atol=1e-6)
    host.screenshot(path=str(SHOTS / "decoder_after_release.png"))


def test_pad_decodes_under_the_pointer_and_pins_on_click(live_page, fitted):
    reducer = fitted[1]["conv"]
    pad = live_page.locator(".ll-root[data-key='pad'] canvas.ll-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    before = stats(live_page, "pad")
    for i in range(30):
        live_page.mouse.move(box["x"] + box["width"] * (0.1 + 0.8 * i / 29), box["y"] + box["height"] * (0.2 + 0.02 * i))
        live_page.wait_for_timeout(16)
    live_page.wait_for_timeout(100)
    after = stats(live_page, "pad")
    assert after["distinct"] - before["distinct"] >= 5
    code = np.asarray(live_page.evaluate(f"() => {HOOK}.instances['pad'].code()"), dtype=np.float32)
    rgba = np.asarray(live_page.evaluate(f"() => {HOOK}.instances['pad'].pixels()")).reshape(8, 8, 4)
    assert np.abs(rgba[..., 0] - quantise(reducer.decode(code[None]))[0, 0]).max() <= 1
    live_page.screenshot(path=str(SHOTS / "pad_hover.png"))
    live_page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    pinned = live_page.evaluate(f"() => {HOOK}.instances['pad'].code()")
    live_page.get_by_text("pinned:").filter(has_text=", ".join(f"{v:.3f}" for v in pinned)).wait_for(timeout=30_000)
    wait_ready(live_page, "pad")
    live_page.locator(".ll-root[data-key='pad']").screenshot(path=str(SHOTS / "pad_pinned.png"))


def test_scrubber_decodes_both_models_while_dragging(live_page, fitted):
    reducers = fitted[1]
    host = live_page.locator(".ll-root[data-key='scrub']")
    slider = host.locator("input[type=range]")
    slider.scroll_into_view_if_needed()
    before = stats(live_page, "scrub")
    drag(live_page, slider, 0.0, 1.0, steps=30, shot="scrubber_mid_drag.png")
    during = stats(live_page, "scrub")
    assert during["distinct"] - before["distinct"] >= 5
    params = live_page.evaluate(f"() => {HOOK}.instances['scrub'].params()")
    for which, name in (("main", "conv"), ("side", "pca")):
        data = json.loads((fitted[0] / f"{name}.json").read_text())
        a, b = np.asarray(data["codes"][0]), np.asarray(data["codes"][1])
        code = ((1 - params[0]) * a + params[0] * b).astype(np.float32)  # what the scrubber decodes
        rgba = np.asarray(live_page.evaluate(f"(w) => {HOOK}.instances['scrub'].pixels(w)", which)).reshape(8, 8, 4)
        assert np.abs(rgba[..., 0] - quantise(reducers[name].decode(code[None]))[0, 0]).max() <= 1, which
    live_page.mouse.up()
    live_page.get_by_text(re.compile(r"released t: \d")).wait_for(timeout=30_000)


def test_no_request_leaves_the_server_origin(live_page, app_url):
    origin = urlsplit(app_url)[:2]
    assert any("/app/static/vendor/onnxruntime-web/" in url for url in live_page.requests)
    outside = [url for url in live_page.requests
               if not url.startswith(("blob:", "data:")) and urlsplit(url)[:2] != origin]
    assert not outside, outside


def test_fallback_when_the_runtime_is_blocked(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    try:
        page.route(re.compile(r".*/vendor/onnxruntime-web/.*"), lambda route: route.abort())
        page.goto(f"{app_url}/?view=one&model=conv")
        note = page.locator(".ll-root[data-key='dec-conv'] .ll-fallback")
        note.wait_for(timeout=60_000)
        assert "not available" in note.inner_text()
        # the browser told Python: the page draws the server's image instead
        page.get_by_text("decodes this code (server)").wait_for(timeout=60_000)
        page.screenshot(path=str(SHOTS / "fallback.png"))
    finally:
        page.close()
