"""Part 10: the first open of every page on MNIST, cold and from a second server.

The default zoo trained on MNIST is copied into a temporary folder without any derived file (no
``.derived/`` dataset folder, no ``derived/`` folder in a checkpoint: see :mod:`core.store.derived`), then,
page by page:

* cold: a fresh copy, a fresh ``streamlit run`` (started and answering before the clock starts),
  a new browser context loads ``/<page>?dataset=mnist`` (the page as a shared link opens it): the
  clock stops when the page is done as in part 4 (title and main content on screen, every chart
  drawn and image loaded, nothing running or spinning). Everything the page needs is computed:
  MNIST read through torchvision, the pixel PCA fitted, models loaded, codes encoded.
* floor: ``bench/bare_app.py`` (Streamlit + torch, one slider decoding one image) opened the same way.
* second server: that server is stopped, a new one started on the same folder (now holding what
  the first one kept on disk) and the same page loaded the same way.
* after the zoo command: a fresh copy holding what ``python -m core zoo`` keeps when it has trained
  the zoo (:func:`core.store.derived.precompute_dataset` and :func:`core.store.derived.precompute_models`: MNIST's
  pixels, the pixel PCA, PCA's error curve, each model's error row, test codes, ONNX graphs and
  architecture), opened by a fresh server: the first visit after ``make zoo``, which the goal is about.

The zoo comes from ``$LATENT_LAB_BENCH_MNIST_ZOO`` (default ``/tmp/mnist_zoo``, what ``python -m core
zoo --dataset mnist --checkpoints /tmp/mnist_zoo`` writes); without one, the zoo is trained for one
epoch first (not timed; the numbers then hold for those models).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import OUT, PAGES, REPO, browser_problem, chromium, exception_text, new_page, streamlit_app, wait_page_done
from bench.cold_start import bare_ready
from bench.common import DEFAULT_MNIST_DIR, Options, PartResult, load_average

NAME = "coldpages"
TITLE = "First open of every page on MNIST: after the zoo command, cold (nothing derived on disk), second server"

GOAL_S = 5.0
ZOO_ENV = "LATENT_LAB_BENCH_MNIST_ZOO"
DEFAULT_ZOO = Path("/tmp/mnist_zoo")


def _ignore_derived(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n in (".derived", "derived", ".locks")]


def mnist_zoo(scratch: Path, data_dir: str) -> tuple[Path, str]:
    """(a folder holding the default zoo trained on MNIST, where it came from)."""
    given = Path(os.environ.get(ZOO_ENV) or DEFAULT_ZOO)
    if given.is_dir() and any(p.name.split("-")[1:2] == ["mnist"] for p in given.iterdir()):
        return given, str(given)
    root = scratch / "trained-zoo"
    subprocess.run([sys.executable, "-m", "core", "zoo", "--dataset", "mnist", "--epochs", "1", "--data-dir", data_dir,
                    "--checkpoints", str(root)], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return root, "trained here for 1 epoch (no zoo found at $" + ZOO_ENV + " or /tmp/mnist_zoo)"


def after_zoo_template(source: Path, scratch: Path, data_dir: str) -> Path:
    """A copy of the zoo holding exactly what ``python -m core zoo`` keeps after training it."""
    root = scratch / "after-zoo"
    shutil.copytree(source, root, symlinks=True, ignore=_ignore_derived)
    script = ("import sys\n"
              "from core.store.checkpoints import CheckpointStore\n"
              "from core.data.datasets import load_dataset\n"
              "from core.store.derived import precompute_dataset, precompute_maps, precompute_models\n"
              "root, data_dir = sys.argv[1:]\n"
              "data = load_dataset('mnist', data_dir=data_dir)\n"
              "precompute_dataset(root, data, data_dir)\n"
              "precompute_models(CheckpointStore(root), data.config, lambda: data)\n"
              "precompute_maps(CheckpointStore(root), data)\n")
    subprocess.run([sys.executable, "-c", script, str(root), data_dir], cwd=REPO, check=True)
    return root


def open_once(browser, env: dict[str, str], name: str, log_name: str, shot: str | None,
              script: str = "dashboard/app.py") -> tuple[float, float, str]:
    """(seconds until the server answers, seconds until the page is done, exception text);
    ``name`` None: the bare app (the floor), done when its slider and image are there."""
    start = time.perf_counter()
    with streamlit_app(script, env, log_name=log_name) as (url, _):
        healthy = time.perf_counter() - start
        page = new_page(browser)  # a new context: nothing cached by the browser either
        try:
            start = time.perf_counter()
            if name is None:
                page.goto(url)
                bare_ready(page)
            else:
                page.goto(f"{url}/{PAGES[name][0]}?dataset=mnist")
                wait_page_done(page, name)
            done = time.perf_counter() - start
            problem = exception_text(page)
            if shot:
                page.screenshot(path=str(OUT / shot), full_page=True)
        finally:
            page.context.close()
    return healthy, done, problem


def run(options: Options) -> PartResult:
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem}"])
    data_dir = options.data_dir or os.environ.get("LATENT_LAB_DATA_DIR") or str(DEFAULT_MNIST_DIR)
    if not (Path(data_dir) / "MNIST" / "raw").is_dir():
        return PartResult(NAME, TITLE, [], notes=[f"skipped: no MNIST/raw under {data_dir}"])
    rounds = options.rounds or 1
    pages = ["Home", "Autoencoder vs PCA", "Latent map"] if options.quick else list(PAGES)
    OUT.mkdir(parents=True, exist_ok=True)
    loads = [load_average()]
    times: dict[str, dict[str, list[float]]] = {name: {"cold": [], "second": [], "after zoo": [], "server": []}
                                                for name in pages}
    problems, floor = [], []
    with tempfile.TemporaryDirectory(prefix="latent-lab-cold-pages-") as tmp, chromium() as browser:
        source, origin = mnist_zoo(Path(tmp), data_dir)
        template = after_zoo_template(source, Path(tmp), data_dir)
        for r in range(rounds):
            for name in pages:
                slug = PAGES[name][0] or "home"
                for kind in ("cold", "second", "after zoo"):
                    root = Path(tmp) / f"zoo-{r}-{slug}-{'zoo' if kind == 'after zoo' else 'cold'}"
                    if kind != "second":  # a second server opens the folder the cold one left
                        shutil.copytree(template if kind == "after zoo" else source, root, symlinks=True,
                                        ignore=None if kind == "after zoo" else _ignore_derived)
                    env = {"LATENT_LAB_CHECKPOINTS": str(root), "LATENT_LAB_DATA_DIR": data_dir}
                    healthy, done, problem = open_once(browser, env, name, f"cold-pages-{kind.replace(' ', '-')}.log",
                                                       f"cold-pages-{kind.replace(' ', '-')}-{slug}.png" if r == 0 else None)
                    times[name][kind].append(done)
                    times[name]["server"].append(healthy)
                    if problem:
                        problems.append(f"{name} ({kind}): {problem[:300]}")
                    if kind != "cold":
                        shutil.rmtree(root, ignore_errors=True)
            floor.append(open_once(browser, {}, None, "cold-pages-bare.log", None, str(REPO / "bench" / "bare_app.py"))[1])
        loads.append(load_average())

    rows = []
    for name in pages:
        median = {kind: statistics.median(times[name][kind]) for kind in ("cold", "second", "after zoo")}
        rows.append({"page": name, "n": rounds, "after zoo command s": median["after zoo"], "cold s": median["cold"],
                     "second server s": median["second"], "server answers s": statistics.median(times[name]["server"])})
    bare = statistics.median(floor)
    floor_row = {"page": "floor: bare app (streamlit + torch, one fragment), opened the same way", "n": rounds,
                 "after zoo command s": bare, "cold s": bare, "second server s": bare, "server answers s": ""}
    worst_zoo = max(rows, key=lambda row: row["after zoo command s"])
    worst_cold = max(rows, key=lambda row: row["cold s"])
    worst_second = max(rows, key=lambda row: row["second server s"])
    met = all(row["after zoo command s"] <= GOAL_S for row in rows)
    goals = [f"first open of every page on MNIST <= {GOAL_S:.0f} s with the zoo trained by `python -m core zoo`: slowest "
             f"{worst_zoo['page']} {worst_zoo['after zoo command s']:.1f} s -> {'met' if met else 'missed'} "
             f"({sum(row['after zoo command s'] <= GOAL_S for row in rows)} of {len(rows)} pages within {GOAL_S:.0f} s)",
             f"second server (everything the first one computed on disk): slowest {worst_second['page']} "
             f"{worst_second['second server s']:.1f} s",
             f"cold (a zoo with nothing derived on disk, e.g. trained before the zoo command kept anything: computed "
             f"on this first open, then kept): slowest {worst_cold['page']} {worst_cold['cold s']:.1f} s; "
             f"{sum(row['cold s'] <= GOAL_S for row in rows)} of {len(rows)} pages within {GOAL_S:.0f} s"]
    ratios = ", ".join(f"{row['page']} {row['after zoo command s'] / bare:.1f}x" for row in rows)
    goals.append(f"the same open of a bare Streamlit app that imports torch and draws one image: {bare:.1f} s; "
                 f"pages after the zoo command / that floor: {ratios}")
    rows.append(floor_row)
    notes = [f"zoo: {origin}; data: {data_dir}; the page opened as a link with ?dataset=mnist, in a new browser "
             "context, after the server answered (server start not in the page time: column 'server answers s')",
             f"each page: its own copy of the zoo without derived files (cold), then a second server on that copy, then "
             f"a fresh copy of what the zoo command keeps with a fresh server; "
             f"{rounds} round(s), median; load average at start and end: {loads}",
             "`python -m core zoo` keeps what every page's first visit reads (core.store.derived: MNIST's pixels, the pixel "
             "PCA and PCA's error curve; each model's ONNX graphs, architecture, error row, test codes, code statistics, "
             "class means, map scores and rows of the Denoising and Compression tables; PCA's, JPEG's and the noisy "
             "input's rows): after `make zoo` on MNIST the cold case happens only for a zoo trained before it kept them"]
    notes += problems
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
