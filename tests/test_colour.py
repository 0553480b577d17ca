"""Colour data on every page: a tiny RGB folder (tests/colour_data.py) and its zoo, every page under AppTest.

Each page must run without an error and draw its pictures in colour: the PNGs it hands to
``dashboard.ui.picture`` are recorded, decoded and measured (a grey page has no pixel whose channels differ,
a channel mix-up moves the mean colour). Figures' (C, H, W) -> (H, W, C) conversion is pinned here too.
The browser tests (e2e, slow) look at the same pages in headless Chromium, the decoder painting in the page
included.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from testkit.app import REPO
from testkit.colour import ZOO_EPOCHS

PAGES = ["home", "train", "compare", "latent_map", "playground", "explore", "denoising", "compression"]
PICTURE_PAGES = {"compare": 6, "playground": 3, "explore": 40, "denoising": 5, "compression": 4}  # pictures at least


def _rgb(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        return np.asarray(img.convert("RGB"), np.int16)


def _colourful_share(rgb: np.ndarray, spread: int = 40) -> float:
    """Share of the non-white pixels (white is the mosaic's padding) whose channels differ by more than ``spread``."""
    pixels = rgb.reshape(-1, 3)
    pixels = pixels[(pixels < 250).any(axis=1)]
    return float(((pixels.max(axis=1) - pixels.min(axis=1)) > spread).mean()) if len(pixels) else 0.0


# --- the conversion every picture goes through ------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
def test_png_and_mosaic_keep_the_channels_in_order(channels):
    from dashboard import figures

    image = np.zeros((channels, 4, 6), np.float32)
    image[0] = 1.0  # grey: white; colour: pure red
    if channels == 3:
        image[2, :, :3] = 1.0  # left half magenta (red + blue)
    rgb = _rgb(figures.png(image, size=6))
    assert rgb.shape == (4, 6, 3), "(C, H, W) -> (H, W, C), not transposed"
    if channels == 1:
        assert (rgb == 255).all()
    else:
        assert (rgb[:, 3:] == [255, 0, 0]).all() and (rgb[:, :3] == [255, 0, 255]).all()
    tiles = _rgb(figures.mosaic(np.stack([image, image * 0.5]), cell=6, pad=1))
    expected = [255, 0, 0] if channels == 3 else [255, 255, 255]
    assert (tiles[1, 1 + 3] == expected).all() and (tiles[1, 1 + 6 + 1 + 3] == np.round(np.array(expected) * 0.5)).all()


# --- every page on the colour folder ----------------------------------------------------------------------
@pytest.fixture(scope="session")
def colour_zoo(request, tmp_path_factory):
    """(folder, checkpoints): the colour folder and its zoo (``ZOO_EPOCHS``), kept in pytest's cache between runs
    (the folder's identity includes its files' times, so it is written once and then left alone)."""
    from testkit.colour import colour_zoo as train
    from testkit.colour import write_rgb_folder

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        root = Path(request.config.cache.mkdir(f"latent-lab-colour-{worker}"))
    except Exception:  # no cache plugin: a fresh temporary folder
        root = tmp_path_factory.mktemp("colour")
    folder = root / "rgb"
    if not (folder / "red_disc").is_dir():
        write_rgb_folder(folder, per_class=30)
    return folder, train(folder, root / "checkpoints")


@pytest.fixture
def colour_app(colour_zoo, monkeypatch):
    """Start a page on the colour folder; returns (run(page) -> AppTest, the PNGs the page drew)."""
    from streamlit.testing.v1 import AppTest

    from dashboard import ui

    folder, checkpoints = colour_zoo
    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(checkpoints))
    monkeypatch.setenv("LATENT_LAB_EPOCHS", str(ZOO_EPOCHS))
    drawn: list[bytes] = []
    original = ui.picture

    def recording(png: bytes, caption: str | None = None) -> None:
        drawn.append(png)
        original(png, caption)

    monkeypatch.setattr(ui, "picture", recording)

    def run(page: str) -> AppTest:
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
        at.session_state["dataset_choice"] = "folder"
        at.session_state["folder_path"] = str(folder)
        at.session_state["folder_rgb"] = True
        at.session_state["folder_size"] = 32
        at.run()
        if page != "home":
            drawn.clear()  # only what this page draws
            at.switch_page(f"views/{page}.py").run()
        return at

    return run, drawn


def test_the_train_page_offers_the_model_and_learning_rate_of_the_images_size_band(colour_app, colour_zoo):
    """The Train page's default conv model and peak rate are the ones `python -m core train` builds for the
    images: two grid convolutions at 2e-3 at 32 px, none above 32 px, mirror images and shifts for colour images
    at both; the rate and the extra images follow the family chosen."""
    import re

    from streamlit.testing.v1 import AppTest

    from core.models import build_model
    from core.models.methods import default_model_config

    folder = str(colour_zoo[0])  # colour_app has set the environment (checkpoints, epochs) for it

    def train_page(size: int) -> AppTest:
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300)
        for key, value in {"dataset_choice": "folder", "folder_path": folder, "folder_rgb": True, "folder_size": size}.items():
            at.session_state[key] = value
        at.run()
        at.switch_page("views/train.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    def shown(at: AppTest) -> tuple[str, int, int, float]:
        caption = next(c.value for c in at.caption if "parameters" in c.value)
        parameters = int(re.search(r"\*\*([\d,]+) parameters", caption).group(1).replace(",", ""))
        latent = int(re.search(r"latent size (\d+)", caption).group(1))
        return caption, parameters, latent, next(w.value for w in at.number_input if w.label == "Learning rate")

    for size, grid in ((32, 2), (64, 0)):
        at = train_page(size)
        caption, parameters, latent, lr = shown(at)
        assert f"3x{size}x{size} images" in caption
        expected = build_model(default_model_config("conv", latent, grid_convs=grid), (3, size, size))
        assert parameters == sum(p.numel() for p in expected.parameters()), f"{size} px: {caption}"
        assert lr == 2e-3, f"{size} px: the conv family's peak rate there, not 5e-3"
        mirror = next(w for w in at.checkbox if w.label == "Add mirror images")
        assert mirror.value, f"{size} px: mirror images are the conv default for colour images of 17 px and more"
        shift = next(w for w in at.number_input if w.label == "Random shifts (pixels)")
        assert shift.value == size // 16, f"{size} px: shifts of up to 2 px at 17-32 px, 4 px above"
        at.selectbox(key="tr_family").set_value("dense").run()
        assert shown(at)[3] == (5e-3 if size == 32 else 2e-3), f"{size} px: dense's own rate, not conv's carried over"
        assert not next(w for w in at.checkbox if w.label == "Add mirror images").value
        assert next(w for w in at.number_input if w.label == "Random shifts (pixels)").value == 0


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_colour_images_and_draws_them_in_colour(colour_app, page):
    run, drawn = colour_app
    at = run(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.toggle(key="folder_rgb").value, "the colour folder is in use"
    if page not in PICTURE_PAGES:
        return
    assert len(drawn) >= PICTURE_PAGES[page], f"{page} drew {len(drawn)} pictures"
    # spread 8: a 2-epoch model draws washed-out colour, but a grey rendering has R = G = B everywhere
    shares = [_colourful_share(_rgb(png), 8) for png in drawn]
    colourful = sum(share > 0.3 for share in shares)
    assert colourful >= 0.8 * len(drawn), f"{page}: only {colourful} of {len(drawn)} pictures in colour: {shares}"


def test_the_originals_show_the_test_images_own_colours(colour_app, colour_zoo):
    from core.analysis import subset_index
    from core.data.datasets import load_dataset
    from testkit.colour import colour_config

    run, drawn = colour_app
    at = run("compare")
    assert not at.exception
    n = at.slider(key="cmp_n").value
    dataset = load_dataset(colour_config(colour_zoo[0]))
    shown = dataset.test.images[subset_index(len(dataset.test), n, 0)]
    expected = shown.transpose(1, 0, 2, 3).reshape(3, -1).mean(axis=1) * 255  # mean red, green, blue
    seen = _rgb(drawn[0])
    inside = seen[(seen != 255).any(axis=2)]  # the tiles, not the white padding
    assert np.abs(expected[::-1] - expected).max() > 20, "a swap of red and blue would show"
    np.testing.assert_allclose(inside.mean(axis=0), expected, atol=4, err_msg="red stays red, blue stays blue")


def test_the_compression_page_counts_colour_bits_and_uses_colour_jpeg(colour_app):
    run, _ = colour_app
    at = run("compression")
    assert not at.exception
    notes = " ".join(m.value for m in at.markdown)
    assert "raw: 3,072 values x 8 bits = 24,576 bits as stored" in notes  # 32x32 pixels x 3 colours
    assert "colour 4:2:0" in notes
    table = at.dataframe[0].value
    jpeg = table[table.method == "JPEG"]
    assert (jpeg["bits_per_image"] - jpeg["entropy_bits_per_image"]).min() > 8 * 600, "a colour JPEG's header"


# --- the same in a real browser: server pictures and the decoder running in the page ------------------------
BROWSER_PAGES = ["compare", "playground", "explore", "denoising", "compression"]


@pytest.fixture(scope="module")
def colour_browser(colour_zoo, tmp_path_factory):
    """(base URL with the colour folder's query, a Chromium page) on a copy of the colour zoo."""
    import shutil
    import urllib.parse

    from testkit.app import app_env, browser_or_skip, chromium_page, running_app
    from testkit.colour import SIZE

    browser_or_skip()
    folder, checkpoints = colour_zoo
    store = tmp_path_factory.mktemp("colour-e2e") / "checkpoints"
    shutil.copytree(checkpoints, store, symlinks=True)  # the app may write: a copy
    query = urllib.parse.urlencode({"dataset": "folder", "folder": str(folder), "size": SIZE, "rgb": 1})
    with running_app(app_env(store)) as url, chromium_page(1400, 2000) as page:
        yield url, query, page


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.parametrize("name", BROWSER_PAGES)
def test_pages_in_the_browser_show_colour(colour_browser, name):
    import contextlib

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from testkit.app import wait_for_app

    url, query, page = colour_browser
    page.goto(f"{url}/{name}?{query}")
    wait_for_app(page, 300_000)
    page.wait_for_timeout(1000)  # images and the live element paint after the script ends
    pictures = page.locator("[data-testid='stMain'] [data-testid='stImage'] img")
    with contextlib.suppress(PlaywrightTimeout):  # a loaded machine may still be computing (CI: compression)
        pictures.first.wait_for(timeout=120_000)
    assert page.locator("[data-testid='stException']").count() == 0, page.locator("[data-testid='stException']").all_inner_texts()
    shots = [_rgb(img.screenshot()) for img in pictures.all()[:12]]
    assert shots, f"{name} shows no picture"
    colourful = sum(_colourful_share(rgb, 8) > 0.3 for rgb in shots)
    assert colourful >= 0.8 * len(shots), f"{name}: {colourful} of {len(shots)} pictures in colour"
    if name == "playground":  # the decoder that runs in the page paints colour on its canvas too
        canvas = page.locator("canvas.ll-image").first
        canvas.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        assert _colourful_share(_rgb(canvas.screenshot()), 8) > 0.3, "the in-browser decode is in colour"


@pytest.mark.e2e
@pytest.mark.slow
def test_the_latent_map_draws_its_dots_as_colour_images_when_few_are_in_view(colour_browser):
    """A few dozen test images: few enough in view that the lens draws each dot as its image, in colour."""
    from testkit.app import wait_for_app

    url, query, page = colour_browser
    page.goto(f"{url}/latent_map?{query}")
    wait_for_app(page, 300_000)
    hook = "window.__latentLabLive"
    page.wait_for_function(f"() => {hook} && Object.entries({hook}.instances).some(([k, i]) => k.startsWith('map_lens_') "
                           "&& i.shown && i.shown().pixels.length > 0)", timeout=120_000)
    shown = page.evaluate(f"() => Object.entries({hook}.instances).find(([k]) => k.startsWith('map_lens_'))[1].shown()")
    assert shown["pixels"], shown
    images = page.evaluate(f"""() => [...{hook}.thumbs.values()].map(c =>
        Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data))""")
    assert images and all(len(rgba) == 32 * 32 * 4 for rgba in images), "32x32 images"
    colourful = [_colourful_share(np.asarray(rgba).reshape(32, 32, 4)[..., :3], 8) > 0.3 for rgba in images]
    assert np.mean(colourful) >= 0.8, f"{sum(colourful)} of {len(colourful)} images in the map in colour"
    plot = page.locator(".js-plotly-plot").first
    plot.scroll_into_view_if_needed()
    shot = plot.screenshot(path=str(REPO / "tests" / "screenshots" / "colour_latent_map_images.png"))
    assert _colourful_share(_rgb(shot), 40) > 0.05, "the map shows them"
