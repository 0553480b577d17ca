"""Upload a zip of images: how long from the file to a dataset that can be trained on.

The zip: 2,000 28x28 grayscale PNGs (MNIST training images when the raw files are found, else
scikit-learn's digits up-scaled), ten class folders inside one wrapping folder, as Finder zips them.

Timed in this process (``core`` only), each round into a fresh data folder:
  extract  ``core.data.archives.extract_archive`` of the zip's bytes (hash, checks, write, atomic rename)
  again    the same zip once more (found by its content hash: nothing written)
  resolve  the folder's content fingerprint (``resolve_data_config``: what the dashboard does first)
  load     ``load_dataset(folder:...)``: decode and resize every PNG, split; the dataset is train-ready
And once in the real dashboard in headless Chromium: from ``set_input_files`` on the sidebar's uploader
to the success message (upload over loopback + extraction), then to Home showing the dataset (loaded).

Run alone: ``python -m bench.upload_zip [--quick]`` (the part contract is the same as every bench part:
``NAME``, ``TITLE``, ``run(options) -> PartResult``).
"""

from __future__ import annotations

import io
import shutil
import statistics
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from bench.common import Options, PartResult, load_average, mnist_dir

NAME = "upload"
TITLE = "Upload a zip of 2,000 28x28 PNGs: extract, fingerprint, load (train-ready); the same in the browser"
N_IMAGES = 2000


def make_zip(options: Options, n: int = N_IMAGES) -> tuple[bytes, str]:
    """(zip bytes, what the images are)."""
    from PIL import Image

    from core.data.datasets import load_dataset
    from core.errors import DatasetError

    source = "scikit-learn digits up-scaled to 28x28"
    images = labels = None
    folder = mnist_dir(options)
    if folder:
        try:
            dataset = load_dataset("mnist", data_dir=folder, download=False)
            images, labels, source = np.asarray(dataset.train.images[:n]), dataset.train.labels[:n], "MNIST training images"
        except DatasetError:
            pass
    if images is None:
        digits = load_dataset("digits")
        pick = np.resize(np.arange(len(digits.train)), n)
        small = np.asarray(digits.train.images[pick])
        images = np.stack([np.asarray(Image.fromarray(im[0]).resize((28, 28)))[None] for im in small])
        labels = digits.train.labels[pick]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (image, label) in enumerate(zip(images, labels)):
            png = io.BytesIO()
            Image.fromarray((np.clip(image[0], 0, 1) * 255).astype(np.uint8)).save(png, format="PNG")
            archive.writestr(f"mnist-{n}/{int(label)}/{i:05d}.png", png.getvalue())
    return buffer.getvalue(), source


def core_round(data: bytes, n: int) -> dict[str, float]:
    from core.config import DataConfig
    from core.data.archives import extract_archive
    from core.data.datasets import load_dataset, resolve_data_config

    with tempfile.TemporaryDirectory() as tmp:
        times = {}
        start = time.perf_counter()
        upload = extract_archive(data, tmp, "mnist.zip")
        times["extract"] = time.perf_counter() - start
        start = time.perf_counter()
        again = extract_archive(data, tmp, "mnist.zip")
        times["again"] = time.perf_counter() - start
        assert again.reused and again.folder == upload.folder
        start = time.perf_counter()
        config = resolve_data_config(DataConfig(f"folder:{upload.folder}"))
        times["resolve"] = time.perf_counter() - start
        start = time.perf_counter()
        dataset = load_dataset(config)
        times["load"] = time.perf_counter() - start
        assert len(dataset.train) + len(dataset.test) == n and not dataset.skipped_files
        times["total"] = times["extract"] + times["resolve"] + times["load"]
        return times


def browser_round(data: bytes) -> dict[str, float] | str:
    """Seconds from choosing the file to the success message, and to Home showing the dataset; or why not."""
    from dashboard.launch import streamlit_app
    from testkit.app import wait_for_app
    from testkit.browser import browser_problem, chromium

    problem = browser_problem()
    if problem:
        return problem
    root = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    try:
        (root / "mnist.zip").write_bytes(data)
        env = {"LATENT_LAB_DATA_DIR": str(root / "data"), "LATENT_LAB_CHECKPOINTS": str(root / "checkpoints")}
        with streamlit_app("dashboard/app.py", env=env, log_name="bench-upload.log") as (url, _), chromium() as browser:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url)
            wait_for_app(page, 120_000)
            page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Dataset").first.click()
            page.get_by_role("option", name="Upload a zip of images").click()
            wait_for_app(page)
            start = time.perf_counter()
            page.locator("[data-testid='stSidebar'] input[type='file']").set_input_files(str(root / "mnist.zip"))
            page.get_by_text("Unpacked mnist.zip").wait_for(timeout=300_000)
            unpacked = time.perf_counter() - start
            page.locator("[data-testid='stMain']").get_by_text("Source: ").wait_for(timeout=300_000)
            shown = time.perf_counter() - start
            wait_for_app(page, 300_000)
            return {"unpacked": unpacked, "home": shown, "settled": time.perf_counter() - start}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(options: Options) -> PartResult:
    rounds = options.rounds or (1 if options.quick else 3)
    n = 200 if options.quick else N_IMAGES
    data, source = make_zip(options, n)
    load_before = load_average()
    samples = [core_round(data, n) for _ in range(rounds)]
    rows = [{"step": step, "median s": round(statistics.median(s[step] for s in samples), 3),
             "min s": round(min(s[step] for s in samples), 3), "rounds": rounds}
            for step in ("extract", "again", "resolve", "load", "total")]
    browser = browser_round(data)
    notes = [f"zip: {n:,} PNGs ({source}), {len(data) / 1e6:.2f} MB; load average before "
             f"{load_before}, after {load_average()} (2 shared cores)"]
    if isinstance(browser, dict):
        rows += [{"step": f"browser: {k}", "median s": round(v, 3), "min s": round(v, 3), "rounds": 1}
                 for k, v in browser.items()]
    else:
        notes.append(f"browser round skipped: {browser}")
    goals = [f"zip -> train-ready dataset in core (extract + fingerprint + load): {rows[4]['median s']} s median"]
    if isinstance(browser, dict):
        goals.append(f"in the browser, choosing the file -> Home shows the loaded dataset: {browser['home']:.2f} s")
    return PartResult(NAME, TITLE, rows, goals, notes)


if __name__ == "__main__":
    import argparse

    from bench.common import print_part

    parser = argparse.ArgumentParser(prog="python -m bench.upload_zip", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    print_part(run(Options(quick=args.quick, rounds=args.rounds, data_dir=args.data_dir)))
