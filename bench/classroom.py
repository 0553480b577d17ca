"""Part "classroom": what a room full of people and a messy machine do to one server and its cache.

1. Kill soak: ``python -m core train ... --retrain`` killed with SIGKILL at a random moment (torch
   import, training, the save) N times (100; quick 10) over a checkpoint that already exists. After
   every kill: the previous model is still listed and loads (checksum verified), nothing else is
   listed; at the end ``clean`` leaves no leftover.
2. Concurrency: 4 processes asking for the same untrained model at once (one trains, the others
   wait on its lock and load it), then 4 browser sessions pressing Train on the same untrained model
   on the Train page at once.
3. Load: 8 headless Chromium sessions against one dashboard for 60 s (quick 15 s): 4 move a
   playground slider (slider -> new image latency), 4 reopen the latent map; errors counted, server
   RSS before and after.

Nothing here asserts: the numbers go to RESULTS.md.
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import REPO, browser_problem, percentile, proc_status, streamlit_app
from bench.common import Options, PartResult

NAME = "classroom"
TITLE = "Classroom: kill -9 soak, concurrent requests for one model, 8 browser sessions at once"

TRAIN = ["-m", "core", "train", "--model", "dense", "--latent-dim", "2", "--limit", "300", "--epochs", "4", "--json"]
NOT_RUNNING = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _train(store: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *TRAIN, "--checkpoints", str(store), *extra], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def kill_soak(kills: int) -> dict:
    from core.store.checkpoints import CheckpointStore

    with tempfile.TemporaryDirectory(prefix="latent-lab-soak-") as root:
        store = CheckpointStore(root)
        out, err = _train(Path(root)).communicate()
        folder = Path(json.loads(out)["checkpoint"])
        full = time.perf_counter()
        _train(Path(root), "--retrain").communicate()
        span = time.perf_counter() - full  # how long one retrain process lives: kills land anywhere in it
        rng = random.Random(0)
        lost = half_loaded = broken = 0
        leftovers_seen = 0
        for _ in range(kills):
            process = _train(Path(root), "--retrain")
            time.sleep(rng.uniform(0.0, span))
            process.send_signal(signal.SIGKILL)
            process.wait()
            names = [r.name for r in store.list().records]
            lost += names != [folder.name]
            half_loaded += any(n != folder.name for n in names)
            try:
                store.load(folder)
            except Exception:  # noqa: BLE001 - counting, not handling
                broken += 1
            leftovers_seen += len(store.leftovers())
        removed = store.clean()
        return {"kills": kills, "process span s": round(span, 2), "lost previous": lost,
                "half-written listed": half_loaded, "unloadable after a kill": broken,
                "leftovers seen (sum)": leftovers_seen, "cleaned": removed, "left after clean": len(store.leftovers())}


def four_processes() -> dict:
    with tempfile.TemporaryDirectory(prefix="latent-lab-conc-") as root:
        start = time.perf_counter()
        processes = [_train(Path(root)) for _ in range(4)]
        outputs = [p.communicate() for p in processes]
        seconds = time.perf_counter() - start
        rows = [json.loads(out) for out, _ in outputs if out.strip()]
        return {"processes": 4, "errors": sum(p.returncode != 0 for p in processes),
                "trained": sum(not r["cached"] for r in rows), "same model": len({r["test_mse"] for r in rows}) == 1,
                "seconds": round(seconds, 1)}


async def _train_in_browser(browser, url: str):
    page = await browser.new_page(viewport={"width": 1400, "height": 1600})
    await page.goto(f"{url}/train")
    await page.wait_for_selector("text=Train a model")
    await page.wait_for_selector(NOT_RUNNING, timeout=120_000)
    latent = page.get_by_role("spinbutton", name="Latent size (numbers in the code)")
    await latent.fill("5")
    await latent.press("Tab")
    epochs = page.get_by_role("spinbutton", name="Epochs")
    await epochs.fill("3")
    await epochs.press("Tab")
    return page


async def four_browsers(url: str, store: Path) -> dict:
    from playwright.async_api import async_playwright

    from bench.browser import CHROMIUM, CHROMIUM_ARGS

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = await asyncio.gather(*[_train_in_browser(browser, url) for _ in range(4)])
        start = time.perf_counter()
        await asyncio.gather(*[p.get_by_role("button", name="Train", exact=True).click() for p in pages])
        for p in pages:
            await p.wait_for_selector("text=/Trained and cached|Loaded from the cache|cannot|Error/", timeout=300_000)
        seconds = time.perf_counter() - start
        texts = [await p.locator("[data-testid='stAlert']").all_inner_texts() for p in pages]
        await browser.close()
    flat = [" ".join(t) for t in texts]
    # the sessions share one server: the second to fourth join the first one's job (core.store.jobs), and
    # a second process would wait on the checkpoint's lock; either way one model is trained
    return {"sessions": 4, "sessions shown the model": sum("Trained and cached" in t or "Loaded from the cache" in t
                                                           for t in flat),
            "errors": sum("rror" in t or "cannot" in t for t in flat),
            "checkpoints of that model": len([p for p in store.iterdir() if p.name.startswith("conv-digits-d5-")]),
            "seconds": round(seconds, 1)}


async def _slider_session(browser, url: str, until: float, times: list, errors: list, releases: list) -> None:
    """Drag the playground's live slider back and forth; each drag ends in a release that reruns the
    fragment on the server. ``times``: the element's input -> painted frame latencies (s);
    ``releases``: release -> Python's code caption updated (s)."""
    page = await browser.new_page(viewport={"width": 1400, "height": 1600})
    await page.goto(f"{url}/playground")
    hook = "window.__latentLabLive"
    await page.wait_for_function(f"() => {hook} && Object.keys({hook}.instances).some(k => k.startsWith('pg_live_') "
                                 f"&& {hook}.instances[k].ready)", timeout=180_000)
    key = await page.evaluate(f"() => Object.keys({hook}.instances).find(k => k.startsWith('pg_live_'))")
    slider = page.locator(f".ll-root[data-key='{key}'] input[type=range]").first
    await slider.scroll_into_view_if_needed()
    box = await slider.bounding_box()
    y = box["y"] + box["height"] / 2
    i = 0
    while time.perf_counter() < until:
        a, b = (0.1, 0.9) if i % 2 == 0 else (0.9, 0.1)
        await page.mouse.move(box["x"] + 8 + a * (box["width"] - 16), y)
        await page.mouse.down()
        for j in range(1, 21):
            await page.mouse.move(box["x"] + 8 + (a + (b - a) * j / 20) * (box["width"] - 16), y)
            await page.wait_for_timeout(16)
        await page.mouse.up()
        start = time.perf_counter()
        code = await page.evaluate(f"(k) => {hook}.instances[k].code()", key)
        caption = "code = [" + ", ".join(f"{v:.2f}" for v in code) + "]"
        try:
            await page.get_by_text(caption).wait_for(timeout=60_000)
            releases.append(time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001 - counted, the session goes on
            errors.append(f"release: {exc}"[:200])
        if await page.locator("[data-testid='stException']").count():
            errors.append("exception box on the playground")
        i += 1
    stats = await page.evaluate(f"(k) => JSON.parse(JSON.stringify({hook}.instances[k].stats))", key)
    times.extend(ms / 1000 for ms in stats["latencies"])
    errors.extend(stats["errors"])
    await page.close()


async def _map_session(browser, url: str, until: float, opens: list, errors: list) -> None:
    page = await browser.new_page(viewport={"width": 1400, "height": 1600})
    while time.perf_counter() < until:
        start = time.perf_counter()
        try:
            await page.goto(f"{url}/latent_map")
            await page.wait_for_selector("[data-testid='stPlotlyChart'] .main-svg", timeout=180_000)
            await page.wait_for_selector(NOT_RUNNING, timeout=180_000)
            opens.append(time.perf_counter() - start)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"map: {exc}"[:200])
        if await page.locator("[data-testid='stException']").count():
            errors.append("exception box on the latent map")
    await page.close()


async def eight_sessions(url: str, seconds: float) -> tuple[list, list, list, list]:
    from playwright.async_api import async_playwright

    from bench.browser import CHROMIUM, CHROMIUM_ARGS

    times, opens, errors, releases = [], [], [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        until = time.perf_counter() + seconds

        async def guarded(session):  # a session that fails is an error to count, not the end of the run
            try:
                await session
            except Exception as exc:  # noqa: BLE001
                errors.append(f"session: {type(exc).__name__}: {str(exc)[:160]}")

        await asyncio.gather(*[guarded(_slider_session(browser, url, until, times, errors, releases)) for _ in range(4)],
                             *[guarded(_map_session(browser, url, until, opens, errors)) for _ in range(4)])
        await browser.close()
    return times, opens, errors, releases


def run(options: Options) -> PartResult:
    rows, notes = [], []
    soak = kill_soak(10 if options.quick else 100)
    rows.append({"what": "kill -9 soak of train --retrain", **soak})
    rows.append({"what": "4 processes, one untrained model", **four_processes()})
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, rows, notes=[f"browser parts skipped: {problem}"])
    with tempfile.TemporaryDirectory(prefix="latent-lab-classroom-") as root:
        subprocess.run([sys.executable, "-m", "core", "zoo", "--dataset", "digits", "--epochs", "2", "--no-pca",
                        "--checkpoints", root], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        env = {"LATENT_LAB_CHECKPOINTS": root, "LATENT_LAB_EPOCHS": "2"}
        with streamlit_app("dashboard/serve.py", env, log_name="classroom-app.log") as (url, process):
            rows.append({"what": "4 browser sessions press Train on one untrained model",
                         **asyncio.run(four_browsers(url, Path(root)))})
            rss_before = proc_status(process.pid).get("VmRSS", 0) / 1024
            seconds = 15.0 if options.quick else 60.0
            times, opens, errors, releases = asyncio.run(eight_sessions(url, seconds))
            rss_after = proc_status(process.pid).get("VmRSS", 0) / 1024
            hwm = proc_status(process.pid).get("VmHWM", 0) / 1024
        shutil.rmtree(root, ignore_errors=True)
    ms = [1000 * t for t in times] or [float("nan")]
    rows.append({"what": f"8 sessions for {seconds:.0f} s: live slider input -> painted image (4 sessions)",
                 "moves": len(times), "p50 ms": round(statistics.median(ms), 1), "p95 ms": round(percentile(ms, 95), 1),
                 "errors": len(errors), "server RSS before MiB": round(rss_before), "after MiB": round(rss_after),
                 "peak MiB": round(hwm)})
    release_ms = [1000 * t for t in releases] or [float("nan")]
    rows.append({"what": f"8 sessions for {seconds:.0f} s: slider release -> Python's code shown (4 sessions)",
                 "moves": len(releases), "p50 ms": round(statistics.median(release_ms), 1),
                 "p95 ms": round(percentile(release_ms, 95), 1)})
    open_ms = [1000 * t for t in opens] or [float("nan")]
    rows.append({"what": f"8 sessions for {seconds:.0f} s: latent map opened (4 sessions)", "opens": len(opens),
                 "p50 ms": round(statistics.median(open_ms), 1), "p95 ms": round(percentile(open_ms, 95), 1)})
    notes += sorted(set(errors))[:10]
    return PartResult(NAME, TITLE, rows, notes=notes)
