"""A zip of images uploaded in a real headless Chromium becomes the dataset of every page.

The zip holds 60 digits (three class folders inside one wrapping folder, as Finder makes them, and one
text file that is skipped); the default models are trained on it (2 epochs each) and the latent map
shows its test images. Screenshots: tests/screenshots/upload_home.png and upload_latent_map.png.
Skipped when no browser can be driven here, unless LATENT_LAB_REQUIRE_E2E=1.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile

import numpy as np
import pytest
from PIL import Image

from testkit.app import REPO, app_env, browser_or_skip, chromium_page, running_app, wait_for_app, zoo_dir_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SHOTS = REPO / "tests" / "screenshots"
CLASSES = ("zero", "one", "seven")


def digits_zip(path) -> None:
    """``digits/<class>/<n>.png`` for 20 of each class (28x28, up-scaled from scikit-learn's 8x8), a readme."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, label in zip(CLASSES, (0, 1, 7)):
            for n, index in enumerate(np.flatnonzero(digits.target == label)[:20]):
                pixels = (digits.images[index] / 16 * 255).astype(np.uint8)
                buffer = io.BytesIO()
                Image.fromarray(pixels).resize((28, 28), Image.Resampling.BILINEAR).save(buffer, format="PNG")
                archive.writestr(f"digits/{name}/{n}.png", buffer.getvalue())
        archive.writestr("digits/readme.txt", "three classes of handwritten digits")


def test_an_uploaded_zip_becomes_the_dataset_of_every_page(request, tmp_path_factory):
    browser_or_skip()
    SHOTS.mkdir(parents=True, exist_ok=True)
    root = tmp_path_factory.mktemp("upload")
    shutil.copytree(zoo_dir_for(request.config, tmp_path_factory), root / "checkpoints", symlinks=True)
    digits_zip(root / "my digits.zip")
    env = {**app_env(root / "checkpoints"), "LATENT_LAB_DATA_DIR": str(root / "data")}

    with running_app(env) as url, chromium_page(1400, 1100) as page:
        page.goto(url)
        wait_for_app(page, 120_000)
        page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Dataset").first.click()
        page.get_by_role("option", name="Upload a zip of images").click()
        wait_for_app(page)
        page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(root / "my digits.zip"))
        page.get_by_text("Unpacked my digits.zip (60 images, 3 classes).").wait_for(timeout=60_000)
        wait_for_app(page, 120_000)
        folders = list((root / "data" / "uploads").iterdir())
        assert [f.name.startswith("my-digits-") for f in folders] == [True], "one folder, no temporary one left"
        assert sorted(p.name for p in folders[0].iterdir() if p.is_dir()) == sorted(CLASSES), "wrapper unwrapped"
        main = page.locator("[data-testid='stMain']")
        main.get_by_text(f"Source: {folders[0]}").wait_for(timeout=60_000)
        assert page.locator("[data-testid='stSidebar']").get_by_text("1 entry of the zip was left out").count() == 1
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=str(SHOTS / "upload_home.png"), full_page=True)

        page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Latent map").click()
        main.get_by_text("none is cached yet").wait_for(timeout=60_000)
        assert main.get_by_text(f"folder:{folders[0]}").count() >= 1, "the page asks for a model of the upload"

        page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Home").click()
        page.get_by_role("button", name=re.compile(r"Train the default models \(\d+ to train\)")).click()  # 2 epochs each (the env)
        main.get_by_text("Every default model is trained").wait_for(timeout=300_000)
        page.locator("[data-testid='stSidebarNav'] a").filter(has_text="Latent map").click()
        try:
            page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=120_000)
        except Exception:
            page.screenshot(path=str(SHOTS / "upload_failure.png"), full_page=True)  # what the page showed instead
            raise
        wait_for_app(page, 120_000)
        page.wait_for_timeout(1000)  # let plotly draw
        assert main.get_by_text("none is cached yet").count() == 0
        assert not page.locator("[data-testid='stException']").count()
        page.screenshot(path=str(SHOTS / "upload_latent_map.png"), full_page=True)
