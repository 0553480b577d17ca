"""Part 8 of issue 11: a folder of 20,000 RGB 64x64 images, from the CLI to every page of the dashboard.

The folder is generated (seeded, kept between runs in the temp folder): four classes of filled shapes
(disc, square, triangle, ring) of random colour, size and place on a random two-colour background, so
colour and shape both matter and nothing is recognisable from one pixel. PNG, 64x64, 5,000 a class.

Measured, each in a fresh process so the peak RSS (``ru_maxrss`` of the child) is that step's own:
  load      ``load_dataset(folder:..., image_size=64, rgb)``: decode, quantise to uint8, split
  zoo       ``python -m core zoo --dataset folder:... --image-size 64 --rgb --time-budget B``: the default
            zoo (conv families among them: their depth grows with the image, see core.models.conv)
  conv d=30 ``python -m core train --model conv --latent-dim 30`` with the same budget: test SSE vs PCA-30
(the peak RSS of each is that process's own, read with ``os.wait4``)
Then the dashboard on that folder (opened by a link: ``?dataset=folder&folder=...&size=64&rgb=1``):
every page in headless Chromium, first open (cold caches) and the server's peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

from bench.browser import (
    OUT,
    PAGES,
    REPO,
    browser_problem,
    chromium,
    exception_text,
    new_page,
    proc_status,
    streamlit_app,
    wait_page_done,
)
from bench.common import Options, PartResult, load_average

NAME = "bigfolder"
TITLE = "8. A folder of 20,000 RGB 64x64 images: load, train, every page"
N_IMAGES, SIZE = 20_000, 64
CLASSES = ("disc", "square", "triangle", "ring")


def write_folder(root: Path, n: int, draw, seed: int = 0) -> Path:
    """Write ``n`` PNGs into ``root/<class>/``, class ``CLASSES[i % 4]`` for the i-th, each drawn by
    ``draw(rng, class_name) -> PIL.Image`` from one seeded generator (kept when already complete)."""
    done = root / f".complete-{n}"
    if done.exists():
        return root
    rng = np.random.default_rng(seed)
    for name in CLASSES:
        (root / name).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        label = CLASSES[i % len(CLASSES)]
        draw(rng, label).save(root / label / f"{i:05d}.png")
    done.touch()
    return root


def flat_shape(rng: np.random.Generator, label: str, size: int = SIZE):
    """One image: a filled shape of random colour, size and place on a random two-colour ramp."""
    from PIL import Image, ImageDraw

    top, bottom = rng.integers(0, 256, (2, 3))
    ramp = np.linspace(0, 1, size)[:, None, None]
    background = (top * (1 - ramp) + bottom * ramp).repeat(size, axis=1).astype(np.uint8)
    img = Image.fromarray(background, "RGB")
    draw = ImageDraw.Draw(img)
    radius = int(rng.integers(size // 6, size // 3))
    cx, cy = rng.integers(radius, size - radius, 2)
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    box = (cx - radius, cy - radius, cx + radius, cy + radius)
    if label == "disc":
        draw.ellipse(box, fill=colour)
    elif label == "square":
        draw.rectangle(box, fill=colour)
    elif label == "triangle":
        draw.polygon([(cx, cy - radius), (cx - radius, cy + radius), (cx + radius, cy + radius)], fill=colour)
    else:
        draw.ellipse(box, outline=colour, width=max(2, radius // 3))
    return img


def make_folder(root: Path, n: int = N_IMAGES, size: int = SIZE, seed: int = 0) -> Path:
    """Write ``n`` RGB PNGs of ``size`` px into ``root/<class>/`` (kept when already complete)."""
    return write_folder(root, n, lambda rng, label: flat_shape(rng, label, size), seed)


def child(*argv: str) -> tuple[float, float, str]:
    """Run ``python *argv`` in a fresh process: (seconds, its own peak RSS in MiB, its last stdout line)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        process = subprocess.Popen([sys.executable, *argv], cwd=REPO, stdout=out, stderr=subprocess.DEVNULL, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not the largest child's so far
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        if process.returncode:
            raise RuntimeError(f"python {' '.join(argv)[:200]} exited with {process.returncode}")
        out.seek(0)
        lines = out.read().strip().splitlines()
    return seconds, usage.ru_maxrss / 1024, (lines or [""])[-1]


def run(options: Options) -> PartResult:
    n = 2000 if options.quick else N_IMAGES
    budget = 10 if options.quick else (options.budget or 60)
    loads = [load_average()]
    start = time.perf_counter()
    folder = make_folder(Path(tempfile.gettempdir()) / f"latent-lab-bench-rgb{SIZE}-{n}", n)
    generate = time.perf_counter() - start
    rows = []
    dataset = ["--dataset", f"folder:{folder}", "--image-size", str(SIZE), "--rgb"]
    seconds, peak, line = child(
        "-c", "import json; from core.data.datasets import load_dataset; "
        f"d = load_dataset('folder:{folder}', image_size={SIZE}, grayscale=False); "
        "print(json.dumps({'train': len(d.train), 'test': len(d.test), 'mib': d.nbytes / 2**20, 'shape': d.image_shape}))")
    info = json.loads(line)
    rows.append({"step": "load the folder (decode, uint8, split)", "seconds": seconds, "peak RSS MiB": peak,
                 "result": f"{info['train']} train + {info['test']} test of {tuple(info['shape'])}; "
                           f"{info['mib']:.0f} MiB in memory (float32 would be {info['mib'] * 4:.0f})"})
    checkpoints = Path(tempfile.mkdtemp(prefix="latent-lab-bench-bigfolder-"))
    where = ["--checkpoints", str(checkpoints)]
    seconds, peak, _ = child("-m", "core", "zoo", *dataset, *where, "--time-budget", str(budget))
    rows.append({"step": f"default zoo, --time-budget {budget} per model", "seconds": seconds, "peak RSS MiB": peak,
                 "result": "every default model trained"})
    pca = ("import json; from core.data.datasets import load_dataset; from core.models.reducers import PCAReducer; "
           "from core.metrics import reconstruction_metrics; "
           f"d = load_dataset('folder:{folder}', image_size={SIZE}, grayscale=False); r = PCAReducer(30).fit(d.train.images); "
           "print(json.dumps(reconstruction_metrics(d.test.images, r.reconstruct(d.test.images))))")
    for step, argv in ((f"conv d=30, --time-budget {budget}", ["-m", "core", "train", *dataset, *where, "--model", "conv",
                                                                "--latent-dim", "30", "--time-budget", str(budget), "--json"]),
                       ("PCA-30 (fit on the training split)", ["-c", pca])):
        seconds, peak, line = child(*argv)
        rows.append({"step": step, "seconds": seconds, "peak RSS MiB": peak,
                     "result": f"test SSE/image {json.loads(line)['test_sse_per_image']:.1f} (of {3 * SIZE * SIZE} values)"})
    loads.append(load_average())
    notes = [f"folder generated in {generate:.0f} s (kept between runs): {folder}",
             f"checkpoints: {checkpoints}"]
    problem = browser_problem()
    if problem:
        notes.append(f"pages skipped: {problem}")
        return PartResult(NAME, TITLE, rows, notes=notes)
    link = "?" + urlencode({"dataset": "folder", "folder": str(folder), "size": SIZE, "rgb": 1})
    env = {"LATENT_LAB_CHECKPOINTS": str(checkpoints)}
    problems = []
    with chromium() as browser, streamlit_app("dashboard/app.py", env, log_name="bigfolder-app.log") as (url, process):
        for name, (path, _) in PAGES.items():
            page = new_page(browser)
            start = time.perf_counter()
            page.goto(f"{url}/{path}{link}")
            wait_page_done(page, name, 900_000)
            seconds = time.perf_counter() - start
            problems += [f"{name}: {t[:300]}" for t in [exception_text(page)] if t]
            page.screenshot(path=str(OUT / f"bigfolder-{path or 'home'}.png"), full_page=True)
            status = proc_status(process.pid)
            rows.append({"step": f"page: {name} (first open, new session)", "seconds": seconds,
                         "peak RSS MiB": status["VmHWM"] / 1024, "result": "ok" if not problems or not
                         problems[-1].startswith(name) else "exception on screen"})
            page.context.close()
    loads.append(load_average())
    notes.append(f"load average before, after training, after the pages: {loads}")
    notes += [f"exception on screen: {p}" for p in problems]
    slowest = max((r for r in rows if r["step"].startswith("page:")), key=lambda r: r["seconds"])
    goals = [f"20,000 RGB 64x64 images: every page opened ({len(problems)} with an exception); slowest first open "
             f"{slowest['seconds']:.1f} s ({slowest['step'][6:]}); dashboard peak RSS {rows[-1]['peak RSS MiB']:.0f} MiB"]
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)


if __name__ == "__main__":
    from bench.common import print_part

    print_part(run(Options(quick="--quick" in sys.argv)))
