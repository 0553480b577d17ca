"""Part 6: peak memory (RSS) of the dashboard process after visiting every page on MNIST.

The default zoo is trained on MNIST by the CLI with a time budget per model (not timed, kept between
runs in a temporary folder: checkpoints are content-addressed). The dashboard finds those models
although ``dashboard.resources.default_train_config`` would train MNIST for 4 epochs: the pages use
every cached model trained on the data, and Home's zoo table matches a cached model of the same
architecture trained with other settings (its "trained with" column then says "time budget").

The dashboard is started with ``LATENT_LAB_DATA_DIR`` at the MNIST folder; headless Chromium opens
Home, picks MNIST in the sidebar, then opens every page by the sidebar, twice (the second pass shows
whether memory keeps growing once every cache is filled). VmRSS and VmHWM (the peak) are read from
``/proc/<pid>/status`` of the Streamlit process after each page, plus the RSS of any child process.
Beside it, in the same run: the bare Streamlit + torch app (``bench/bare_app.py``) after one page
load, and the dashboard on digits before MNIST is picked.

The zoo command keeps each model's ONNX graphs, so the pages run them in ONNX Runtime and the
dashboard process never imports torch (~520 MB of it). The derived values the pages compute
themselves (maps, tables) are kept in the zoo's folder too: a second run of this part is a second
server's visit, the first one after ``python -m core zoo`` a first server's.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import (
    OUT,
    PAGES,
    REPO,
    browser_problem,
    chromium,
    exception_text,
    new_page,
    open_by_sidebar,
    proc_status,
    streamlit_app,
    wait_page_done,
)
from bench.common import Options, PartResult, load_average, mnist_dir

NAME = "memory"
TITLE = "6. Peak memory (RSS) of the dashboard process after visiting every page on MNIST"

BUDGET_S = 20  # training seconds per zoo model (quick: 5)
GOAL_MIB = 1024  # issue 11: <= 1 GiB (it was 1,987 MiB)


def children_rss_kib(pid: int) -> tuple[int, int]:
    """(number of descendant processes, their summed VmRSS in KiB)."""
    count, total, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            kids = [int(k) for t in Path(f"/proc/{current}/task").iterdir()
                    for k in (t / "children").read_text().split()]
        except OSError:
            continue
        for kid in kids:
            try:
                total += proc_status(kid).get("VmRSS", 0)
                count += 1
            except OSError:
                pass
            todo.append(kid)
    return count, total


def train_zoo(data_dir: str, budget: float) -> tuple[Path, float]:
    root = Path(tempfile.gettempdir()) / f"latent-lab-bench-mnist-zoo-{budget:g}s"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", "zoo", "--dataset", "mnist", "--data-dir", data_dir,
                    "--time-budget", str(budget), "--checkpoints", str(root)], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return root, time.perf_counter() - start


def pick_dataset(page, label: str) -> None:
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(has_text="Dataset").first.click()
    page.get_by_role("option", name=label, exact=True).click()


def mib(kib: int) -> float:
    return kib / 1024


def run(options: Options) -> PartResult:
    problem = browser_problem()
    data_dir = mnist_dir(options)
    if problem or not data_dir:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem or 'MNIST raw files not found'}"])
    budget = 5 if options.quick else BUDGET_S
    passes = 1 if options.quick else 2
    root, train_seconds = train_zoo(data_dir, budget)
    env = {"LATENT_LAB_CHECKPOINTS": str(root), "LATENT_LAB_DATA_DIR": data_dir}
    rows, problems, loads = [], [], [load_average()]

    def record(what: str, pid: int, seconds: float | str = "") -> None:
        status = proc_status(pid)
        kids, kids_rss = children_rss_kib(pid)
        rows.append({"after": what, "open s": seconds, "VmRSS MiB": mib(status["VmRSS"]),
                     "VmHWM (peak) MiB": mib(status["VmHWM"]), "children": kids, "children RSS MiB": mib(kids_rss)})

    with tempfile.TemporaryDirectory(prefix="latent-lab-bare-") as elsewhere, chromium() as browser:
        with streamlit_app(str(REPO / "bench" / "bare_app.py"), cwd=elsewhere, log_name="memory-bare.log") as (url, process):
            page = new_page(browser)
            page.goto(url)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning'] [data-testid='stImage'] img")
            time.sleep(1)
            record("bare Streamlit + torch app, one page load (floor)", process.pid)
            page.context.close()
        with streamlit_app("dashboard/app.py", env, log_name="memory-app.log") as (url, process):
            page = new_page(browser)
            start = time.perf_counter()
            page.goto(url)
            wait_page_done(page, "Home")
            record("dashboard: Home on digits (the default)", process.pid, time.perf_counter() - start)
            start = time.perf_counter()
            pick_dataset(page, "MNIST")
            page.get_by_text("Every default model is trained").wait_for(timeout=600_000)
            wait_page_done(page, "Home")
            record("MNIST picked: Home", process.pid, time.perf_counter() - start)
            for p in range(passes):
                for name in PAGES:
                    seconds = open_by_sidebar(page, name, timeout_ms=900_000)
                    problems += [f"{name}: {t[:300]}" for t in [exception_text(page)] if t]
                    if p == 0:
                        page.screenshot(path=str(OUT / f"memory-mnist-{PAGES[name][0] or 'home'}.png"), full_page=True)
                    record(f"MNIST pass {p + 1}: {name}", process.pid, seconds)
                loads.append(load_average())
    peak = max(r["VmHWM (peak) MiB"] for r in rows[1:])
    floor = rows[0]["VmHWM (peak) MiB"]
    last_pass = [r for r in rows if r["after"].startswith(f"MNIST pass {passes}")]
    notes = [f"MNIST zoo trained by `python -m core zoo --dataset mnist --time-budget {budget}` into {root} "
             f"({train_seconds:.0f} s this run; a cached zoo is reused)",
             "open s: seconds from the sidebar click until the page is done (pass 1: first visit on MNIST, "
             "caches cold; pass 2: warm)",
             f"load average at start and after each pass: {loads}"]
    if passes > 1:
        first_end = [r for r in rows if r["after"].startswith("MNIST pass 1")][-1]["VmRSS MiB"]
        notes.append(f"VmRSS after pass 1 {first_end:.0f} MiB, after pass 2 {last_pass[-1]['VmRSS MiB']:.0f} MiB "
                     f"(growth {last_pass[-1]['VmRSS MiB'] - first_end:+.0f} MiB with every cache warm)")
    notes += [f"exception on screen: {p}" for p in problems]
    verdict = "met" if peak <= GOAL_MIB else "NOT met"
    goals = [f"peak RSS (VmHWM) of the dashboard process after every page on MNIST: {peak:.0f} MiB, goal <= {GOAL_MIB} MiB: "
             f"{verdict} ({peak / floor:.1f}x the bare Streamlit + torch app's {floor:.0f} MiB)"]
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
