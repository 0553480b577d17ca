"""Part 4: dashboard latency in headless Chromium.

Slider: the Decoder playground's "code 1" slider moved by one keyboard step, timed from the key press
until the new decoded image is loaded in the page (``img.complete``, checked once per animation
frame), 20 moves per round. The floor is ``bench/bare_app.py`` (one slider in an ``st.fragment``
decoding a tiny linear layer into an image shown the same way), served by a second Streamlit process
in the same run with Streamlit's defaults (started from a folder without a ``.streamlit/config.toml``);
a third process serves it with the project's config (``runner.postScriptGC = false``), to show what
the config alone is worth, and a fourth serves the dashboard with Streamlit's default GC setting (the
state before that config line). The moves rotate between the apps (who goes first rotates too), so all
see the same load.

Page open: with every cache warm (each page visited once first), each of the 7 pages is opened by a
click in the sidebar (same session, the usual way) and by loading its URL in the tab (a new session:
page bundle, websocket, sidebar and page script), timed until the page's title and main content are
on screen, every chart is drawn and every image loaded, and no spinner, skeleton, stale element or
running script remains.

The app runs on digits with the default zoo trained for 2 epochs (``LATENT_LAB_EPOCHS=2``, as the
browser test does): the architectures, and so the per-move work, are those of the real zoo.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time

from bench.browser import (
    OUT,
    PAGES,
    REPO,
    browser_problem,
    chromium,
    exception_text,
    new_page,
    open_by_sidebar,
    open_by_url,
    percentile,
    streamlit_app,
    wait_page_done,
)
from bench.common import Options, PartResult, load_average

NAME = "dashboard"
TITLE = "4. Dashboard latency in headless Chromium: playground slider -> new image, and page-open times"

EPOCHS = 2
MOVES = 20
GOAL_RATIO = 1.2

BARE = str(REPO / "bench" / "bare_app.py")
NEW_IMAGE = """(old) => {
  const box = Array.from(document.querySelectorAll('[data-testid="stImage"]'))
      .find(e => e.innerText.includes('decodes this code'));
  const img = box && box.querySelector('img');
  return img && img.getAttribute('src') !== old && img.complete && img.naturalWidth > 0;
}"""
DECODED_SRC = """() => {
  const box = Array.from(document.querySelectorAll('[data-testid="stImage"]'))
      .find(e => e.innerText.includes('decodes this code'));
  const img = box && box.querySelector('img');
  return img ? img.getAttribute('src') : null;
}"""
NOT_RUNNING = "[data-testid='stApp'][data-test-script-state='notRunning']"


def train_tiny_zoo(root: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "core", "zoo", "--dataset", "digits", "--epochs", str(EPOCHS),
                    "--checkpoints", root], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def move(page, key: str) -> float:
    """One slider step; seconds from the key press until the new image is loaded."""
    before = page.evaluate(DECODED_SRC)
    start = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_function(NEW_IMAGE, arg=before, timeout=60_000, polling="raf")
    elapsed = time.perf_counter() - start
    page.wait_for_selector(NOT_RUNNING, timeout=60_000)  # the rest of the fragment, untimed
    return elapsed


def focus_slider(page) -> None:
    page.get_by_role("slider", name="code 1").first.focus()


def slider_rounds(pages: dict, moves: int, rounds: int) -> tuple[dict[str, list[float]], list[dict[str, float]]]:
    """Seconds per move for each page; the pages take turns move by move, the order rotating."""
    times = {name: [] for name in pages}
    medians = []
    for page in pages.values():
        focus_slider(page)
        for key in ("ArrowRight", "ArrowLeft"):  # warm-up: first runs of the fragment, image URLs
            move(page, key)
    order = list(pages.items())
    for r in range(rounds):
        this = {name: [] for name in pages}
        for i in range(moves):
            key = "ArrowRight" if i < moves // 2 else "ArrowLeft"
            shift = (i + r) % len(order)
            for name, page in order[shift:] + order[:shift]:
                this[name].append(move(page, key))
        medians.append({name: statistics.median(v) for name, v in this.items()})
        for name in times:
            times[name] += this[name]
    return times, medians


def page_opens(page, url: str, rounds: int) -> dict[str, dict[str, list[float]]]:
    """name -> {'sidebar': [...], 'url': [...]} seconds, caches warmed by one visit of each page first."""
    page.goto(url)
    wait_page_done(page, "Home")
    for name in PAGES:  # warm every cache (and the browser's copy of every image) once
        open_by_sidebar(page, name)
        problem = exception_text(page)
        if problem:
            raise RuntimeError(f"{name} shows an exception: {problem[:500]}")
    times = {name: {"sidebar": [], "url": []} for name in PAGES}
    for _ in range(rounds):
        for name in PAGES:
            times[name]["sidebar"].append(open_by_sidebar(page, name))
        for name in PAGES:
            times[name]["url"].append(open_by_url(page, url, name))
    for name in PAGES:
        open_by_sidebar(page, name)
        page.screenshot(path=str(OUT / f"page-{PAGES[name][0] or 'home'}.png"), full_page=True)
    return times


def run(options: Options) -> PartResult:
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem}"])
    moves = 10 if options.quick else MOVES
    rounds = options.rounds or (1 if options.quick else 2)
    page_rounds = 1 if options.quick else 3
    loads = [load_average()]
    with tempfile.TemporaryDirectory(prefix="latent-lab-bench-zoo-") as root:
        train_seconds = train_tiny_zoo(root)
        env = {"LATENT_LAB_CHECKPOINTS": root, "LATENT_LAB_EPOCHS": str(EPOCHS)}
        with tempfile.TemporaryDirectory(prefix="latent-lab-bare-") as elsewhere, \
                streamlit_app("dashboard/app.py", env, log_name="dashboard-latency-app.log") as (url, _), \
                streamlit_app("dashboard/app.py", {**env, "STREAMLIT_RUNNER_POST_SCRIPT_GC": "true"},
                              log_name="dashboard-latency-app-gc.log") as (gc_url, _), \
                streamlit_app(BARE, cwd=elsewhere, log_name="dashboard-latency-bare.log") as (bare_url, _), \
                streamlit_app(BARE, log_name="dashboard-latency-bare-config.log") as (bare_config_url, _), \
                chromium() as browser:
            project = new_page(browser)
            project.goto(f"{url}/playground")
            wait_page_done(project, "Decoder playground")
            pages = {"project": project, "project+gc": new_page(browser)}
            pages["project+gc"].goto(f"{gc_url}/playground")
            wait_page_done(pages["project+gc"], "Decoder playground")
            for name, address in (("bare", bare_url), ("bare+config", bare_config_url)):
                pages[name] = new_page(browser)
                pages[name].goto(address)
                pages[name].wait_for_selector("text=Bare slider")
                pages[name].wait_for_selector(NOT_RUNNING)
            times, medians = slider_rounds(pages, moves, rounds)
            loads.append(load_average())
            problem = exception_text(project)
            project.screenshot(path=str(OUT / "playground-after-moves.png"), full_page=True)
            opens = page_opens(project, url, page_rounds)
            loads.append(load_average())

    rows = []
    labels = {"project": "Decoder playground (dashboard)",
              "project+gc": "the same with Streamlit's default postScriptGC (before this config)",
              "bare": "bare app, Streamlit defaults (the floor)",
              "bare+config": "bare app with the project's .streamlit/config.toml"}
    for name, label in labels.items():
        ms = [1000 * t for t in times[name]]
        rows.append({"what": f"slider -> new image: {label}", "n": len(ms), "median ms": statistics.median(ms),
                     "p95 ms": percentile(ms, 95), "min ms": min(ms), "max ms": max(ms)})
    by = {name: row for name, row in zip(labels, rows)}
    med = by["project"]["median ms"] / by["bare"]["median ms"]
    p95 = by["project"]["p95 ms"] / by["bare"]["p95 ms"]
    med_gc = by["project+gc"]["median ms"] / by["bare"]["median ms"]
    med_config = by["project"]["median ms"] / by["bare+config"]["median ms"]
    p95_config = by["project"]["p95 ms"] / by["bare+config"]["p95 ms"]
    round_ratios = [m["project"] / m["bare"] for m in medians]
    rows.append({"what": "slider ratio dashboard / floor", "n": len(times["project"]), "median ms": med, "p95 ms": p95})
    rows.append({"what": "slider ratio dashboard / bare app with the project's config", "n": len(times["project"]),
                 "median ms": med_config, "p95 ms": p95_config})
    for name, by in opens.items():
        side, fresh = [1000 * t for t in by["sidebar"]], [1000 * t for t in by["url"]]
        rows.append({"what": f"open {name}: sidebar click (same session)", "n": len(side),
                     "median ms": statistics.median(side), "p95 ms": "", "min ms": min(side), "max ms": max(side)})
        rows.append({"what": f"open {name}: load its URL (new session)", "n": len(fresh),
                     "median ms": statistics.median(fresh), "p95 ms": "", "min ms": min(fresh), "max ms": max(fresh)})
    verdict = "met" if med <= GOAL_RATIO else "missed"
    goals = [f"slider within {GOAL_RATIO}x of the bare Streamlit floor: median {med:.2f}x, p95 {p95:.2f}x "
             f"(per-round median ratios {', '.join(f'{r:.2f}' for r in round_ratios)}) -> {verdict} on the median",
             f"before the config change (Streamlit's gc.collect() after every run): median {med_gc:.2f}x",
             f"against the bare app under the same config as the dashboard (postScriptGC off): median "
             f"{med_config:.2f}x, p95 {p95_config:.2f}x"]
    notes = [f"{rounds} round(s) x {moves} moves per app, interleaved move by move (three Streamlit servers, one "
             f"Chromium); load average at start, after "
             f"the slider rounds, after the page opens: {loads}",
             f"default zoo trained for {EPOCHS} epochs on digits in {train_seconds:.0f} s before the timing "
             "(not timed); the playground opens on the conv d=2 model (2 sliders, 3 images in its fragment)",
             "page opens: median of the rounds after one warm-up visit of every page; the first (cold) visit "
             "is not in the table (part 5 covers a cold start)"]
    if problem:
        notes.append(f"the playground showed an exception: {problem[:300]}")
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
