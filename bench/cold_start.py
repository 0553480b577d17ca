"""Part 5: cold start and warm start, measured for real.

Cold: ``git clone`` of this repository into a temporary folder, this checkout's ``.venv`` symlinked
into the clone (dependencies installed: not timed, that is ``make setup``), ``LATENT_LAB_CHECKPOINTS``
pointed at an empty folder, then what ``make run`` runs -- ``python -m core zoo --dataset digits`` (the
default zoo's training) and ``python -m streamlit run dashboard/app.py`` -- and a headless Chromium
(already open, as a user's browser is) loads the printed address as soon as the server answers. The
clock stops when Home shows the model zoo table with every model cached ("Every default model is
trained") and nothing is running or spinning. ``make`` itself is not called: in a fresh clone its
setup step would reinstall into the shared venv (the requirement files are newer than its stamp).
The working tree's uncommitted changes (tracked and untracked files) are applied to the clone after the
timed clone, so a run measures the code as it stands, not the last commit.

Warm: the same two commands again with the cache filled, a fresh browser context each time (no cached
page bundle). Beside it, in the same run, the floor: ``streamlit run bench/bare_app.py`` until its
slider page is usable (Streamlit and torch imported, one fragment run).
Warm start is <= 5 s when the zoo CLI returns from the verified records without importing torch or
loading the data, and Home renders from the dataset's pixels kept on disk (``core.store.derived``: no
scikit-learn, no torch) -- so it can come in under the floor, which imports torch.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.browser import (
    OUT,
    REPO,
    browser_problem,
    chromium,
    exception_text,
    free_port,
    new_page,
    stop,
    streamlit_command,
    wait_page_done,
)
from bench.common import Options, PartResult, load_average
from dashboard.launch import wait_healthy

NAME = "coldstart"
TITLE = "5. Cold start: fresh clone -> default zoo trained -> Home usable; warm start"

COLD_GOAL_S = 60.0
WARM_GOAL_S = 5.0
ALL_TRAINED = "Every default model is trained"


def overlay_working_tree(clone: Path) -> int:
    """Bring this checkout's uncommitted work into the clone (tracked changes as a patch, untracked
    files that git does not ignore as copies), so the numbers are of the code as it stands; returns
    how many files differ from HEAD."""
    patch = subprocess.run(["git", "diff", "HEAD", "--binary"], cwd=REPO, capture_output=True, check=True).stdout
    if patch:
        subprocess.run(["git", "apply", "--whitespace=nowarn"], cwd=clone, input=patch, check=True)
    untracked = subprocess.run(["git", "ls-files", "--others", "--exclude-standard", "-z"], cwd=REPO,
                               capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, untracked):
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, clone / name)
    changed = subprocess.run(["git", "diff", "HEAD", "--name-only"], cwd=REPO, capture_output=True, text=True).stdout.split()
    return len(changed) + len(list(filter(None, untracked)))


def clean_env(checkpoints: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LATENT_LAB_", "STREAMLIT_"))}
    env["LATENT_LAB_CHECKPOINTS"] = str(checkpoints)
    return env


def zoo(clone: Path, env: dict[str, str], log_name: str) -> float:
    start = time.perf_counter()
    with open(OUT / log_name, "w") as log:
        subprocess.run([str(clone / ".venv" / "bin" / "python"), "-m", "core", "zoo", "--dataset", "digits", "--no-pca"],  # as `make run`
                       cwd=clone, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)
    return time.perf_counter() - start


def serve_and_open(browser, clone: Path, env: dict[str, str], script: str, log_name: str,
                   ready) -> tuple[float, float, str]:
    """Start ``streamlit run script``; (seconds until it answers, seconds until ``ready(page)``, problems)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(OUT / log_name, "w") as log:
        start = time.perf_counter()
        process = subprocess.Popen(streamlit_command(script, port, str(clone / ".venv" / "bin" / "python")),
                                   cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(url, process)
            healthy = time.perf_counter() - start
            page = new_page(browser)  # a new context: nothing cached from earlier loads
            try:
                page.goto(url)
                ready(page)
                usable = time.perf_counter() - start
                problem = exception_text(page)
                page.screenshot(path=str(OUT / log_name.replace(".log", ".png")), full_page=True)
            finally:
                page.context.close()
        finally:
            stop(process)
    return healthy, usable, problem


def home_ready(page) -> None:
    wait_page_done(page, "Home", timeout_ms=300_000)
    page.get_by_text(ALL_TRAINED).wait_for(timeout=60_000)


def bare_ready(page) -> None:
    page.wait_for_function("""() => {
      const app = document.querySelector("[data-testid='stApp']");
      const img = document.querySelector("[data-testid='stImage'] img");
      return app && app.getAttribute('data-test-script-state') === 'notRunning' && img && img.complete
        && document.querySelector("[data-testid='stSlider']"); }""", timeout=120_000)


def run(options: Options) -> PartResult:
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem}"])
    rounds = options.rounds or (1 if options.quick else 3)
    OUT.mkdir(parents=True, exist_ok=True)
    loads = [load_average()]
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True,
                           text=True).stdout.strip()
    rows, problems = [], []
    with tempfile.TemporaryDirectory(prefix="latent-lab-cold-") as tmp, chromium() as browser:
        clone, checkpoints = Path(tmp) / "latent-lab", Path(tmp) / "checkpoints"
        checkpoints.mkdir()
        env = clean_env(checkpoints)
        start = time.perf_counter()
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        cloned = time.perf_counter() - start
        overlaid = overlay_working_tree(clone)  # not timed: a user's clone has the committed code
        (clone / ".venv").symlink_to(REPO / ".venv")

        trained = zoo(clone, env, "cold-zoo.log")
        healthy, usable, problem = serve_and_open(browser, clone, env, "dashboard/app.py", "cold-app.log", home_ready)
        problems.append(problem)
        cold_total = cloned + trained + usable
        n_models = sum(1 for p in checkpoints.iterdir() if p.is_dir() and not p.name.startswith("."))
        rows.append({"start": "cold: clone + zoo training + dashboard", "round": 1, "clone s": cloned,
                     "zoo CLI s": trained, "server answers s": healthy, "Home usable s (from server start)": usable,
                     "total s": cold_total})
        loads.append(load_average())

        warm = {"full": [], "app": [], "bare": []}
        for r in range(rounds):
            zoo_s = zoo(clone, env, "warm-zoo.log")
            healthy, usable, problem = serve_and_open(browser, clone, env, "dashboard/app.py", "warm-app.log", home_ready)
            problems.append(problem)
            rows.append({"start": "warm: zoo CLI (all cached) + dashboard", "round": r + 1, "clone s": "",
                         "zoo CLI s": zoo_s, "server answers s": healthy, "Home usable s (from server start)": usable,
                         "total s": zoo_s + usable})
            warm["full"].append(zoo_s + usable)
            warm["app"].append(usable)
            b_healthy, b_usable, _ = serve_and_open(browser, clone, env, str(clone / "bench" / "bare_app.py"),
                                                    "warm-bare.log", bare_ready)
            rows.append({"start": "floor: bare app (streamlit + torch, one fragment)", "round": r + 1, "clone s": "",
                         "zoo CLI s": "", "server answers s": b_healthy, "Home usable s (from server start)": b_usable,
                         "total s": b_usable})
            warm["bare"].append(b_usable)
        loads.append(load_average())

    full, app, bare = (statistics.median(warm[k]) for k in ("full", "app", "bare"))
    goals = [
        f"cold start under {COLD_GOAL_S:.0f} s: {cold_total:.1f} s (clone {cloned:.1f} + zoo training {trained:.1f} + "
        f"dashboard to a usable Home {usable_of(rows):.1f}) -> {'met' if cold_total < COLD_GOAL_S else 'missed'} "
        f"({cold_total / COLD_GOAL_S:.2f}x the goal)",
        f"warm start under {WARM_GOAL_S:.0f} s: `make run`'s two commands {full:.1f} s (median of {rounds}) -> "
        f"{'met' if full < WARM_GOAL_S else 'missed'} ({full / WARM_GOAL_S:.2f}x the goal); the dashboard alone "
        f"{app:.1f} s -> {'met' if app < WARM_GOAL_S else 'missed'}; bare Streamlit+torch app floor {bare:.1f} s "
        f"(dashboard / floor {app / bare:.2f}x)",
    ]
    notes = [f"clone of {REPO} at {head}" + (f" plus the working tree's uncommitted changes ({overlaid} files, applied "
                                              "to the clone after the timed clone)" if dirty or overlaid else ""),
             f"{n_models} checkpoints trained by the cold zoo step; no LATENT_LAB_EPOCHS (the real 60-epoch digits zoo)",
             f"load average at start, after the cold start, after the warm rounds: {loads}",
             "Chromium was launched before the clock started (a user's browser is already open); each load uses a "
             "new browser context (no cached page bundle)"]
    notes += [f"exception on screen: {p[:300]}" for p in problems if p]
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)


def usable_of(rows: list[dict]) -> float:
    return rows[0]["Home usable s (from server start)"]
