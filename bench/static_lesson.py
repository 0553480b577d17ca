"""The static lesson (``python -m dashboard lesson``): folder size, first live decode, frames while
dragging, bytes downloaded, with each decoder runtime; and one decode's cost in each runtime.

The default zoo is trained for 2 epochs on digits in a temporary store (as the tests do: a decode
benchmark needs the architecture, not a good model). For each runtime (tiny_onnx, the JavaScript
forward pass; onnxruntime-web, 14 MB of wasm) the lesson is exported and served by
``python -m http.server``; in a fresh headless Chromium page at 853 x 480 CSS px:
- time from navigation start to the first live decode painted on the decode step, and the
  runtime's own load time;
- bytes the browser downloaded for that step (encoded body sizes);
- a 2 s in-page drag at 60 Hz (one input event per animation frame): distinct frames per second;
- per decode: median ms of 50 single-code decodes of the step's conv d=2 decoder.
Then both runtimes decode, in one page, untrained 2-D decoders for 28 x 28 images (conv and dense):
median ms per decode.
"""

from __future__ import annotations

import base64
import statistics
import tempfile
import time
from pathlib import Path

from bench.browser import OUT, browser_problem, chromium
from bench.common import Options, PartResult
from testkit.live import IN_PAGE_DRAG

NAME = "static"
TITLE = "Static lesson: folder size, first decode, frames while dragging, per-decode cost (tiny_onnx vs onnxruntime-web)"
HOOK = "window.__latentLabLive"


DECODE_TIMES = """async ([k, n]) => {
  const inst = window.__latentLabLive.instances[k], code = inst.code(), times = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await inst.decode([code]); times.push(performance.now() - t); }
  return times;
}"""

# both runtimes on the same graph in one page: median ms per decode of one code
RUNTIMES_ON = """async ([b64, d, n]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const ort = await import('./ort/ort.wasm.bundle.min.mjs');
  ort.env.wasm.numThreads = 1; ort.env.wasm.proxy = false;
  ort.env.wasm.wasmBinary = await (await fetch('./ort/ort-wasm-simd-threaded.wasm')).arrayBuffer();
  const tiny = await import('./vendor/tiny-onnx/tiny_onnx.mjs');
  const out = {};
  for (const [name, rt] of [['onnxruntime-web', ort], ['tiny_onnx', tiny]]) {
    const s = await rt.InferenceSession.create(bytes.slice());
    const feed = () => ({[s.inputNames[0]]: new rt.Tensor('float32', new Float32Array(d).fill(0.3), [1, d])});
    for (let i = 0; i < 10; i++) await s.run(feed());
    const times = [];
    for (let i = 0; i < n; i++) { const t = performance.now(); await s.run(feed()); times.push(performance.now() - t); }
    times.sort((a, b) => a - b);
    out[name] = times[Math.floor(times.length / 2)];
  }
  return out;
}"""


def measure(browser, origin: str, drag_ms: float) -> dict:
    page = browser.new_page(viewport={"width": 853, "height": 480}, device_scale_factor=1.5)
    sizes: list[int] = []
    asked: list[str] = []
    page.on("requestfinished", lambda r: sizes.append(r.sizes()["responseBodySize"]))
    page.on("request", lambda r: asked.append(r.url))
    try:
        page.goto(f"{origin}/#step=decode")
        page.wait_for_function(f"() => {HOOK} && Object.values({HOOK}.instances).some(i => i.ready)", timeout=120_000)
        key = page.evaluate(f"() => Object.keys({HOOK}.instances).find(k => k.startsWith('lesson_live_'))")
        first = page.evaluate(f"(k) => ({{first: {HOOK}.instances[k].stats.firstPaintMs, runtime: {HOOK}.runtimeMs}})", key)
        downloaded = sum(s for s in sizes if s > 0)
        page.wait_for_timeout(500)
        drag = page.evaluate(IN_PAGE_DRAG, [key, drag_ms])
        times = page.evaluate(DECODE_TIMES, [key, 50])
        page.screenshot(path=str(OUT / "static-lesson-decode.png"))
        outside = [u for u in asked if not u.startswith((origin + "/", "data:", "blob:"))]
        return {"first decode ms": first["first"], "runtime load ms": first["runtime"], "bytes downloaded": downloaded,
                "fps 60 Hz input": drag["distinct"] / drag["seconds"], "decode ms (median)": statistics.median(times),
                "requests off-origin": len(outside)}
    finally:
        page.close()


def decoders_28(folder: Path) -> dict[str, bytes]:
    """Untrained 2-D conv and dense decoders for 28 x 28 images (one epoch on 64 random images)."""
    import numpy as np

    from core.config import TrainConfig
    from core.models.methods import build_reducer, default_model_config
    from core.runtime.export import decoder_onnx

    images = np.random.default_rng(0).random((64, 1, 28, 28)).astype(np.float32)
    return {f"{family} d=2, 28x28": decoder_onnx(build_reducer(default_model_config(family, 2),
                                                               TrainConfig(epochs=1, batch_size=64)).fit(images))
            for family in ("conv", "dense")}


def run(options: Options) -> PartResult:
    problem = browser_problem()
    if problem:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem}"])
    import shutil

    from core.config import DataConfig
    from core.store.checkpoints import CheckpointStore
    from dashboard.lesson.export import export_lesson
    from dashboard.lesson.runtime import ORT_DIR
    from dashboard.lesson.serve import static_server
    from testkit.app import tiny_zoo

    rows, notes = [], []
    rounds = options.rounds or (1 if options.quick else 3)
    drag_ms = 1000 if options.quick else 2000
    with tempfile.TemporaryDirectory(prefix="latent-lab-static-bench-") as tmp:
        start = time.perf_counter()
        store = CheckpointStore(tiny_zoo(Path(tmp) / "zoo"))
        notes.append(f"tiny zoo (2 epochs, digits) trained in {time.perf_counter() - start:.0f} s")
        folders = {}
        for runtime in ("tiny", "ort"):
            start = time.perf_counter()
            report = export_lesson(DataConfig("digits"), None, Path(tmp) / runtime, store=store, runtime=runtime)
            folders[runtime] = report
            notes.append(f"{report.runtime}: exported in {time.perf_counter() - start:.1f} s; by part (KB): "
                         + ", ".join(f"{k} {v / 1e3:.1f}" for k, v in sorted(report.parts.items(), key=lambda kv: -kv[1])))
        with chromium() as browser:
            for report in folders.values():
                with static_server(report.out_dir) as origin:
                    runs = [measure(browser, origin, drag_ms) for _ in range(rounds)]
                med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append({"runtime": report.runtime, "rounds": rounds, "folder MB": report.total_bytes / 1e6, **med})
            # one page, both runtimes, on decoders for 28 x 28 images
            folder = folders["tiny"].out_dir
            shutil.copytree(ORT_DIR, folder / "ort")
            with static_server(folder) as origin:
                page = browser.new_page()
                try:
                    page.goto(f"{origin}/lesson.json")
                    for label, graph in decoders_28(Path(tmp)).items():
                        ms = page.evaluate(RUNTIMES_ON, [base64.b64encode(graph).decode(), 2, 50])
                        notes.append(f"{label}: median ms per decode: "
                                     + ", ".join(f"{name} {v:.2f}" for name, v in ms.items()))
                finally:
                    page.close()
    tiny = next(r for r in rows if r["runtime"] == "tiny_onnx")
    goals = [f"folder <= 25 MB (aim <= 5 MB) on digits: {tiny['folder MB']:.2f} MB with tiny_onnx -> "
             f"{'met' if tiny['folder MB'] <= 5 else 'within 25 MB' if tiny['folder MB'] <= 25 else 'missed'}",
             f"first live decode <= 3 s after opening: {tiny['first decode ms']:.0f} ms -> "
             f"{'met' if tiny['first decode ms'] <= 3000 else 'missed'}"]
    notes.append("bytes downloaded: encoded body sizes of the decode step's page (python -m http.server sends no gzip; "
                 "plotly.js is not loaded on that step)")
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
