"""Issue 21 items 4 and 5: the Latent map's own plotly maps decode under the pointer (2-D codes) and
draw each dot as its image when zoomed in (the lens, ``dashboard/live``: ``map_lens`` + ``live.js``).

- The lens's request for images is outside input: only known splits and rows are answered, a bounded
  number, with the bytes the live decoder would paint.
- In Chromium with the tiny zoo: the pointer over the model's 2-D code map decodes the code under it
  (next to the pointer and in the lens's panel), the same pixels as the server's decode of that code;
  zoomed out the map stays dots, zoomed in the dots become their own test images.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

from testkit.app import app_env, browser_or_skip, chromium_page, running_app, wait_for_app, zoo_copy

HOOK = "window.__latentLabLive"


def test_a_request_for_images_answers_known_rows_only_and_at_most_a_bound():
    from dashboard.live import images_for

    rng = np.random.default_rng(0)
    images = {0: rng.random((5, 3, 4, 4), dtype=np.float32), 1: rng.random((2, 3, 4, 4), dtype=np.float32)}
    got = images_for({"rows": [[0, 4], [1, 1], [1, 2], [2, 0], [0, -1], "0:1", [0], ["x", 1], [0, 10 ** 30], None]},
                     images, most=10)
    assert sorted(got) == ["0:4", "1:1"], "unknown splits, rows out of range and malformed items are skipped"
    pixels = np.frombuffer(base64.b64decode(got["0:4"]), np.uint8).reshape(3, 4, 4)
    np.testing.assert_array_equal(pixels, np.floor(images[0][4] * 255 + 0.5).astype(np.uint8))
    assert len(images_for({"rows": [[0, i] for i in range(5)]}, images, most=3)) == 3
    for junk in (None, [], "rows", {"rows": "0:1"}, {"rows": [[0, 1]] * 2}):
        assert len(images_for(junk, images, most=3)) <= 1


# --- in the browser ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app_url(request, tmp_path_factory):
    """The dashboard on a copy of the tiny zoo; this process reads the same copy (the server's decodes)."""
    browser_or_skip()
    env = app_env(zoo_copy(request.config, tmp_path_factory, "lens"))
    with pytest.MonkeyPatch.context() as patch, running_app(env) as url:
        for key, value in env.items():
            patch.setenv(key, value)
        yield url


@pytest.fixture(scope="module")
def page():
    browser_or_skip()
    with chromium_page(1400, 1400) as page:
        yield page


def open_map(page, app_url: str) -> str:
    """Open the Latent map; the lens's key once it is attached to both maps, the model map in view."""
    page.goto(f"{app_url}/latent_map")
    wait_for_app(page, 180_000)
    key = lens_key(page)
    page.locator(".js-plotly-plot").nth(1).scroll_into_view_if_needed()
    return key


def lens_key(page) -> str:
    page.wait_for_function(f"() => {HOOK} && Object.keys({HOOK}.instances).some(k => k.startsWith('map_lens_') "
                           f"&& {HOOK}.instances[k].attached && {HOOK}.instances[k].attached().length === 2)",
                           timeout=120_000)
    return page.evaluate(f"() => Object.keys({HOOK}.instances).find(k => k.startsWith('map_lens_'))")


def plot_area(page, lens: str) -> dict:
    """The map's plot area on screen and its axes' ranges now."""
    return page.evaluate("""(name) => {
        const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.layout.meta && g.layout.meta.lens === name);
        const r = gd.querySelector('.nsewdrag').getBoundingClientRect();
        return {x: r.left, y: r.top, width: r.width, height: r.height,
                xr: gd._fullLayout.xaxis.range.map(Number), yr: gd._fullLayout.yaxis.range.map(Number)};
    }""", lens)


def area_pixels(page, area: dict) -> np.ndarray:
    from PIL import Image

    shot = page.screenshot(clip={k: area[k] for k in ("x", "y", "width", "height")})
    return np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)


@pytest.mark.e2e
@pytest.mark.slow
def test_the_pointer_over_the_model_map_decodes_the_code_under_it_as_the_server_does(app_url, page):
    from core.analysis import decode_code
    from core.config import DataConfig
    from dashboard import resources

    key = open_map(page, app_url)
    page.wait_for_function(f"(k) => {HOOK}.instances[k].ready", arg=key, timeout=60_000)
    area = plot_area(page, "model")
    fx, fy = 0.3, 0.65
    before = page.evaluate(f"(k) => {HOOK}.instances[k].stats.paints", key)
    page.mouse.move(area["x"] + area["width"] * fx, area["y"] + area["height"] * fy)
    page.wait_for_function(f"([k, n]) => {HOOK}.instances[k].stats.paints > n", arg=[key, before], timeout=30_000)
    page.wait_for_timeout(300)
    code = np.asarray(page.evaluate(f"(k) => {HOOK}.instances[k].code()", key), np.float32)
    (x0, x1), (y0, y1) = area["xr"], area["yr"]
    expected = [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)]  # the code plane's axes are the code itself
    np.testing.assert_allclose(code, expected, atol=0.01 * max(x1 - x0, y1 - y0), err_msg="the code under the pointer")
    tip = page.locator(".ll-tip[data-lens='model']")
    assert tip.is_visible(), "the decoded image is drawn next to the pointer"
    tip_box = tip.bounding_box()
    assert area["x"] <= tip_box["x"] and tip_box["x"] + tip_box["width"] <= area["x"] + area["width"] + 1, "inside the map"

    # the same pixels as the server's decode of that code (the page's model, from the app's checkpoints)
    name = key.removeprefix("map_lens_")
    rgba = np.asarray(page.evaluate(f"(k) => {HOOK}.instances[k].pixels()", key)).reshape(8, 8, 4)
    config = DataConfig("digits")
    record = next(r for r in resources.store().list().records if r.name == name)
    server = decode_code(resources.reducer(config, resources.data_dir_in_use(), record.ref), code)[0, 0]
    np.testing.assert_allclose(rgba[..., 0] / 255, server, atol=2 / 255, err_msg="browser and server decode alike")
    page.mouse.move(area["x"] - 40, area["y"] - 40)  # off the map: the image beside the pointer goes
    page.wait_for_timeout(300)
    assert not tip.is_visible()


@pytest.mark.e2e
@pytest.mark.slow
def test_zoomed_in_the_dots_become_their_images_and_zoomed_out_they_stay_dots(app_url, page):
    from core.config import DataConfig
    from dashboard import resources

    key = open_map(page, app_url)
    page.wait_for_timeout(500)
    assert page.evaluate(f"(k) => {HOOK}.instances[k].shown()", key) == {"pixels": [], "model": []}, "all 360: dots"
    area = plot_area(page, "model")
    dark_before = (area_pixels(page, area).max(axis=2) < 40).mean()
    # zoom in around a test image's dot (the first class's first dot) with the wheel, as a reader would
    x, y = page.evaluate("""() => {
        const gd = document.querySelectorAll('.js-plotly-plot')[1], f = gd._fullData[1];
        const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
        return [r.left + xa._offset + xa.l2p(Number(f.x[0])), r.top + ya._offset + ya.l2p(Number(f.y[0]))];
    }""")
    page.mouse.move(x, y)
    for _ in range(60):  # plotly zooms a little per wheel event
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(250)
        if page.evaluate(f"(k) => {HOOK}.instances[k].shown().model.length", key):
            break
    page.wait_for_function(f"(k) => {HOOK}.instances[k].shown().model.length > 0", arg=key, timeout=60_000)
    page.wait_for_timeout(500)
    shown = page.evaluate(f"(k) => {HOOK}.instances[k].shown().model", key)
    assert 0 < len(shown) <= 150
    area = plot_area(page, "model")
    page.screenshot(path="tests/screenshots/latent_map_zoomed_images.png", clip={k: area[k] + (-20 if k in "xy" else 40)
                                                                                 for k in ("x", "y", "width", "height")})
    dark_after = (area_pixels(page, area).max(axis=2) < 40).mean()
    assert dark_after > dark_before + 0.03, f"digits' black backgrounds cover the map: {dark_before:.3f} -> {dark_after:.3f}"
    # the image drawn for a dot is that dot's own test image
    split, row = shown[0]
    drawn = np.asarray(page.evaluate("""([key, id]) => { const c = window.__latentLabLive.thumbs.get(id);
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }""",
        [key, f"{DataConfig('digits').key()}:{split}:{row}"])).reshape(8, 8, 4)
    dataset = resources.load_data(DataConfig("digits"), resources.data_dir_in_use())
    assert split == 0
    np.testing.assert_allclose(drawn[..., 0] / 255, dataset.test.images[row, 0], atol=1 / 255)


@pytest.mark.e2e
@pytest.mark.slow
def test_a_box_drawn_on_the_map_opens_its_panel_and_goes_into_the_link(app_url, page):
    """The maps are a fragment: a box drawn on one reruns only the maps, and the link still gets the region."""
    open_map(page, app_url)
    page.wait_for_timeout(500)
    model = page.locator(".js-plotly-plot").nth(1)
    model.hover()
    model.locator("[data-title='Box Select']").click()
    area = plot_area(page, "model")
    page.mouse.move(area["x"] + area["width"] * 0.2, area["y"] + area["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(area["x"] + area["width"] * 0.8, area["y"] + area["height"] * 0.8, steps=8)
    page.mouse.up()
    page.get_by_text("Selected on the model map:").wait_for(timeout=60_000)
    page.wait_for_function("() => location.search.includes('region=model')", timeout=30_000)
    assert "region=model%3Abox%3A" in page.url or "region=model:box:" in page.url, page.url
