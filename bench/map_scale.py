"""Part 12: the latent map at MNIST scale: SVG (plotly Scatter) against WebGL (Scattergl), 10,000 and 70,000 points.

Maps: PCA-2 of the raw MNIST pixels (fitted on the training split), every test image (10,000) and
every image (70,000: train + test), with the page's own ``dashboard.figures.latent_map`` (one trace
per class and split, float32 coordinates and [row, split] as base64 typed arrays, one hover template
per trace). Building them (encoding, projection, scores) is timed cold, for the pixel map and for the
first learned 2-D MNIST model in the checkpoint store when there is one.

Browser: ``bench/map_scale_app.py`` serves one map (the same figure function, selection on, scroll
zoom) and headless Chromium measures, per renderer and size:

- open: page load (new session) until every point is drawn (SVG: every marker path is in the DOM;
  WebGL: the canvas is there and the traces are computed) plus two animation frames;
- hover: pointer moved onto a test point until plotly's hover label is on screen;
- pan: a 200 px drag in 20 pointer moves (ms per move, the longest gap between painted frames while
  dragging) and release until plotly's relayout is done and painted (the full redraw);
- zoom: one mouse-wheel step until the relayout is done and painted (plotly waits 50 ms after the
  last wheel event before it redraws: that is in the number);
- click: a training point (70,000) or a test point (10,000) clicked until the app names the image it
  picked (a Streamlit rerun that sends the figure again).

Bytes: the figure JSON Streamlit sends (``plotly.io.to_json``), against the same points sent the
naive way (float64 lists and a hover string per point).

Dashboard: with MNIST data and a store holding a learned MNIST model, the real Latent map page is
opened (cold: maps computed; warm: cached), switched to all 70,000, and a training point clicked on
the model map until its image is shown.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time

import numpy as np

from bench.browser import OUT, new_page, wait_page_done
from bench.common import Options, PartResult, load_average, mnist_dir
from dashboard.launch import streamlit_app
from testkit.browser import browser_problem, chromium

NAME = "map"
TITLE = "12. The latent map at MNIST scale: SVG vs WebGL at 10,000 and 70,000 points"

TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
GD = "document.querySelector('.js-plotly-plot')"
DRAWN = """(n) => {
  const gd = GD_EXPR;
  if (!gd || !gd._fullData || !gd.querySelector('.main-svg')) return false;
  let total = 0;
  for (const t of gd._fullData) if (!String(t.name).startsWith('empty space')) total += t._length || 0;
  if (total !== n) return false;
  if (gd._fullData[0].type === 'scatter') return gd.querySelectorAll('.scatterlayer .point').length >= n;
  return !!gd.querySelector('canvas');
}""".replace("GD_EXPR", GD)
POINT_PIXEL = """([name, i]) => {
  const gd = GD_EXPR;
  const f = gd._fullData.find(t => String(t.name) === name);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  return [r.left + xa._offset + xa.l2p(Number(f.x[i])), r.top + ya._offset + ya.l2p(Number(f.y[i]))];
}""".replace("GD_EXPR", GD)
CENTRE = """() => {
  const gd = GD_EXPR; const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  return [r.left + xa._offset + xa._length / 2, r.top + ya._offset + ya._length / 2];
}""".replace("GD_EXPR", GD)
ARM_RELAYOUT = """() => { const gd = GD_EXPR;
  window.__relayout = new Promise(res => gd.once('plotly_relayout',
      () => requestAnimationFrame(() => requestAnimationFrame(() => res(true))))); }""".replace("GD_EXPR", GD)
START_FRAMES = """() => { window.__frames = []; window.__recording = true;
  const tick = t => { if (!window.__recording) return; window.__frames.push(t); requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""
STOP_FRAMES = "() => { window.__recording = false; return window.__frames; }"
# the point farthest out along some direction, when it is a training point: (trace name, point index)
RIM_TRAINING_POINT = """() => {
  const gd = document.querySelectorAll('.js-plotly-plot')[1];
  for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1], [1, -1], [-1, 1]]) {
    let best = null;
    for (const t of gd._fullData) {
      if (String(t.name).startsWith('empty space')) continue;
      for (let i = 0; i < t._length; i++) {
        const v = dx * t.x[i] + dy * t.y[i];
        if (!best || v > best[0]) best = [v, t.name, i];
      }
    }
    if (String(best[1]).includes('(training)')) return [best[1], best[2]];
  }
  return null;
}"""
HOVER_LABEL = "() => !!document.querySelector('.hoverlayer .hovertext')"
NO_HOVER_LABEL = "() => !document.querySelector('.hoverlayer .hovertext')"


def mnist_maps(data_dir: str) -> tuple[dict, list[dict], object]:
    """Coordinates of the 70,000-point pixel-PCA map, rows of build times, and the dataset."""
    from core.analysis import embedding_scores, map_grid, pixel_pca_embedding
    from core.data.datasets import load_dataset

    dataset = load_dataset("mnist", data_dir=data_dir)
    rows = []
    for all_train in (False, True):
        start = time.perf_counter()
        emb = pixel_pca_embedding(dataset, max_points=None, all_train=all_train)
        built = time.perf_counter() - start
        scores, scored = timed_call(embedding_scores, emb, dataset)
        rows.append({"what": f"build the pixel-PCA map of {len(emb.test_xy) + (len(emb.train_xy) if all_train else 0):,} "
                             "images (cold; scores on seeded subsamples)", "n": 1, "median ms": 1000 * built,
                     "scores ms": 1000 * scored, "k-NN": scores["knn_accuracy"], "trust": scores["trustworthiness"]})
    coords = {"test_xy": emb.test_xy, "test_labels": emb.test_labels, "test_index": emb.test_index,
              "train_xy": emb.train_xy, "train_labels": emb.train_labels, "train_index": emb.train_index,
              "grid": map_grid(emb)}
    return coords, rows, dataset


def timed_call(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def model_map_rows(dataset) -> tuple[list[dict], str | None]:
    """Cold build times of the first learned 2-D MNIST model's map (10,000 and 70,000 points)."""
    from core.analysis import embed, embedding_scores
    from core.models.methods import get_method
    from core.store.checkpoints import CheckpointStore

    store = CheckpointStore()
    records = [r for r in store.list().records if r.data == dataset.config and r.model.latent_dim == 2
               and get_method(r.family).capabilities.learned]
    if not records:
        return [], None
    reducer = store.load(records[0])
    rows = []
    for all_train in (False, True):
        start = time.perf_counter()
        emb = embed(reducer, dataset, max_points=None, all_train=all_train)
        built = time.perf_counter() - start
        _, scored = timed_call(embedding_scores, emb, dataset)
        rows.append({"what": f"build {records[0].name}'s map of {10_000 + (60_000 if all_train else 0):,} images "
                             "(cold: encoding included)", "n": 1, "median ms": 1000 * built, "scores ms": 1000 * scored})
    return rows, records[0].name


def figure_bytes(coords: dict) -> list[dict]:
    import plotly.graph_objects as go
    import plotly.io as pio

    from dashboard import figures

    rows = []
    for n, train in ((10_000, False), (70_000, True)):
        fig = figures.latent_map(coords["test_xy"], coords["test_labels"], [str(c) for c in range(10)],
                                 coords["test_index"], "map", grid=coords["grid"],
                                 train_xy=coords["train_xy"] if train else None,
                                 train_labels=coords["train_labels"] if train else None,
                                 train_index=coords["train_index"] if train else None)
        sent = len(pio.to_json(fig, validate=False))
        # the naive way: lists of float64 and a hover string per point, one trace per class
        naive = go.Figure()
        xy = np.concatenate([coords["test_xy"], coords["train_xy"]]) if train else coords["test_xy"]
        labels = np.concatenate([coords["test_labels"], coords["train_labels"]]) if train else coords["test_labels"]
        rows_ = np.concatenate([coords["test_index"], coords["train_index"]]) if train else coords["test_index"]
        for c in range(10):
            mask = labels == c
            naive.add_trace(go.Scattergl(x=xy[mask, 0].astype(float).tolist(), y=xy[mask, 1].astype(float).tolist(),
                                         mode="markers", text=[f"class {c}<br>image #{i}" for i in rows_[mask]]))
        rows.append({"what": f"figure sent to the browser, {n:,} points", "n": 1, "KB": sent / 1024,
                     "naive KB": len(json.dumps(naive.to_plotly_json(), default=str)) / 1024})
    return rows


def browser_rounds(url: str, browser, coords: dict, rounds: int) -> tuple[list[dict], dict]:
    rows, medians = [], {}
    n_test = len(coords["test_xy"])
    # a training point far from every test point (so no test marker covers it), for the click
    from sklearn.neighbors import NearestNeighbors

    dist, _ = NearestNeighbors(n_neighbors=1).fit(coords["test_xy"]).kneighbors(coords["train_xy"])
    lonely = int(np.argmax(dist[:, 0]))
    label = int(coords["train_labels"][lonely])
    lonely_pos = int(np.nonzero(coords["train_labels"] == label)[0].tolist().index(lonely))
    # and the test point farthest from the other test points (for the click on the 10,000-point map)
    dist, _ = NearestNeighbors(n_neighbors=2).fit(coords["test_xy"]).kneighbors(coords["test_xy"])
    alone = int(np.argmax(dist[:, 1]))
    alone_label = int(coords["test_labels"][alone])
    alone_pos = int(np.nonzero(coords["test_labels"] == alone_label)[0].tolist().index(alone))
    for n in (10_000, 70_000):
        for renderer in ("webgl", "svg"):
            page = new_page(browser, 1200, 900)
            times = {"open": [], "hover": [], "pan ms/move": [], "pan longest frame": [], "pan release": [], "zoom": [],
                     "click": []}
            for _ in range(rounds):
                start = time.perf_counter()
                page.goto(f"{url}/?n={n}&r={renderer}")
                page.wait_for_function(DRAWN, arg=n, timeout=300_000, polling="raf")
                page.evaluate(TWO_FRAMES)
                times["open"].append(time.perf_counter() - start)
            page.wait_for_timeout(300)
            for i in range(rounds + 2):  # hover: onto a test point of class i
                page.mouse.move(5, 5)
                page.wait_for_function(NO_HOVER_LABEL, timeout=60_000, polling="raf")
                x, y = page.evaluate(POINT_PIXEL, [str(i % 10), 0])
                start = time.perf_counter()
                page.mouse.move(x, y)
                page.wait_for_function(HOVER_LABEL, timeout=60_000, polling="raf")
                times["hover"].append(time.perf_counter() - start)
            for r in range(rounds):
                cx, cy = page.evaluate(CENTRE)
                page.mouse.move(cx, cy)
                page.evaluate(START_FRAMES)
                start = time.perf_counter()
                page.mouse.down()
                page.mouse.move(cx + (200 if r % 2 == 0 else -200), cy + 80, steps=20)
                times["pan ms/move"].append((time.perf_counter() - start) / 20)
                frames = page.evaluate(STOP_FRAMES)
                times["pan longest frame"].append(max(np.diff(frames)) / 1000 if len(frames) > 1 else float("nan"))
                page.evaluate(ARM_RELAYOUT)
                start = time.perf_counter()
                page.mouse.up()
                page.evaluate("() => window.__relayout")
                times["pan release"].append(time.perf_counter() - start)
            for r in range(rounds):
                cx, cy = page.evaluate(CENTRE)
                page.mouse.move(cx, cy)
                page.evaluate(ARM_RELAYOUT)
                start = time.perf_counter()
                page.mouse.wheel(0, -200 if r % 2 == 0 else 200)
                page.evaluate("() => window.__relayout")
                times["zoom"].append(time.perf_counter() - start)
            # click: reload (a fresh, unzoomed view), then a lonely training point (70k) or a test point (10k)
            page.goto(f"{url}/?n={n}&r={renderer}")
            page.wait_for_function(DRAWN, arg=n, timeout=300_000, polling="raf")
            page.get_by_text("picked: nothing").wait_for(timeout=60_000)
            page.wait_for_timeout(300)
            if n > n_test:
                target, expect = [f"{label} (training)", lonely_pos], f"picked: training image #{int(coords['train_index'][lonely])}"
            else:
                target, expect = [str(alone_label), alone_pos], f"picked: test image #{int(coords['test_index'][alone])}"
            x, y = page.evaluate(POINT_PIXEL, target)
            start = time.perf_counter()
            page.mouse.click(x, y)
            page.get_by_text(expect).wait_for(timeout=120_000)
            times["click"].append(time.perf_counter() - start)
            page.screenshot(path=str(OUT / f"map-scale-{n}-{renderer}.png"))
            page.close()
            medians[(n, renderer)] = {k: statistics.median(v) for k, v in times.items()}
            row = {"what": f"{n:,} points, {'WebGL (Scattergl)' if renderer == 'webgl' else 'SVG (Scatter)'}",
                   "n": rounds}
            for key, values in times.items():
                row[f"{key} ms"] = 1000 * statistics.median(values)
            rows.append(row)
    return rows, medians


def dashboard_rows(browser, data_dir: str) -> tuple[list[dict], list[str]]:
    """The real Latent map page on MNIST: open cold and warm, all 70,000, a training point clicked."""
    rows, notes = [], []
    env = {"LATENT_LAB_DATA_DIR": data_dir}
    with streamlit_app("dashboard/app.py", env, log_name="map-scale-dashboard.log") as (url, _):
        page = new_page(browser, 1400, 1600)
        opens = []
        for _ in range(2):  # cold (maps computed), then warm (cached)
            start = time.perf_counter()
            page.goto(f"{url}/latent_map?dataset=mnist")
            wait_page_done(page, "Latent map")
            page.wait_for_function(DRAWN.replace(GD, "document.querySelectorAll('.js-plotly-plot')[1]"), arg=10_000,
                                   timeout=600_000, polling="raf")
            opens.append(time.perf_counter() - start)
        rows.append({"what": "dashboard Latent map on MNIST, 10,000 test images: open (cold, then warm)",
                     "n": 2, "median ms": 1000 * opens[1], "cold ms": 1000 * opens[0]})
        slider = page.locator("[data-testid='stSlider']").filter(has_text="Points").get_by_role("slider")
        switches = []
        for _ in range(2):  # to 70,000 (cold the first time), back, and again (warm)
            slider.focus()
            start = time.perf_counter()
            page.keyboard.press("End")
            wait_page_done(page, "Latent map")
            page.wait_for_function(DRAWN.replace(GD, "document.querySelectorAll('.js-plotly-plot')[1]"), arg=70_000,
                                   timeout=600_000, polling="raf")
            switches.append(time.perf_counter() - start)
            if len(switches) < 2:
                slider.focus()
                page.keyboard.press("ArrowLeft")
                wait_page_done(page, "Latent map")
        rows.append({"what": "dashboard: Points -> all 70,000 (train + test) until both maps are drawn (cold, then warm)",
                     "n": 2, "median ms": 1000 * switches[1], "cold ms": 1000 * switches[0]})
        page.screenshot(path=str(OUT / "map-scale-dashboard-70k.png"), full_page=True)
        # click a training point on the model map (second plot), one on the rim of the cloud so that no
        # test point covers it, and wait for its image
        name, i = page.evaluate(RIM_TRAINING_POINT)
        x, y = page.evaluate(POINT_PIXEL.replace(GD, "document.querySelectorAll('.js-plotly-plot')[1]"), [name, i])
        start = time.perf_counter()
        page.mouse.click(x, y)
        page.get_by_text("training image #").first.wait_for(timeout=120_000)
        wait_page_done(page, "Latent map")
        clicked = time.perf_counter() - start
        text = page.locator("[data-testid='stMarkdown']").filter(has_text="Selected on the model map").first.inner_text()
        rows.append({"what": "dashboard 70,000: click a training point on the model map until its image is shown", "n": 1,
                     "median ms": 1000 * clicked})
        notes.append(f"the dashboard click picked: {text.strip()!r}")
        page.screenshot(path=str(OUT / "map-scale-dashboard-70k-click.png"), full_page=True)
    return rows, notes


def run(options: Options) -> PartResult:
    problem = browser_problem()
    data_dir = mnist_dir(options)
    if problem or data_dir is None:
        return PartResult(NAME, TITLE, [], notes=[f"skipped: {problem or 'MNIST is not on this machine'}"])
    rounds = options.rounds or (2 if options.quick else 3)
    loads = [load_average()]
    coords, rows, dataset = mnist_maps(data_dir)
    model_rows, model_name = model_map_rows(dataset)
    rows += model_rows
    rows += figure_bytes(coords)
    loads.append(load_average())
    notes = []
    with tempfile.TemporaryDirectory(prefix="latent-lab-map-scale-") as folder:
        np.savez(os.path.join(folder, "map.npz"), **coords)
        with streamlit_app("bench/map_scale_app.py", {"MAP_SCALE_DIR": folder}, log_name="map-scale-app.log") as (url, _), \
                chromium() as browser:
            browser_table, medians = browser_rounds(url, browser, coords, rounds)
            loads.append(load_average())
            if model_name and not options.quick:
                try:
                    more, notes = dashboard_rows(browser, data_dir)
                    rows += more
                except Exception as exc:  # noqa: BLE001 - the part's other numbers still stand; say what failed
                    notes = [f"the dashboard stage failed: {type(exc).__name__}: {str(exc)[:300]}"]
                loads.append(load_average())
    rows += browser_table
    goals = []
    for n in (10_000, 70_000):
        gl, svg = medians[(n, "webgl")], medians[(n, "svg")]
        goals.append(f"{n:,} points, SVG / WebGL: open {svg['open'] / gl['open']:.1f}x, hover {svg['hover'] / gl['hover']:.1f}x, "
                     f"pan per move {svg['pan ms/move'] / gl['pan ms/move']:.1f}x, pan release {svg['pan release'] / gl['pan release']:.1f}x, "
                     f"zoom {svg['zoom'] / gl['zoom']:.1f}x, click {svg['click'] / gl['click']:.1f}x")
    notes += [f"median of {rounds} rounds per cell (hover: {rounds + 2}); load average at start, after the maps, after "
              f"the browser rounds{', after the dashboard' if len(loads) > 3 else ''}: {loads}",
              "Chromium runs with --disable-gpu here, so WebGL is drawn in software (SwiftShader): the WebGL pan "
              "numbers are a floor that a browser with a GPU beats; SVG is drawn by the CPU either way",
              "pan longest frame: the longest gap between two painted animation frames during the drag "
              "(16.7 ms = every frame painted); zoom includes plotly's 50 ms wait after the last wheel event",
              f"dashboard rows use the store at {os.environ.get('LATENT_LAB_CHECKPOINTS', './checkpoints')}"
              + (f" (model map: {model_name})" if model_name else " (no learned 2-D MNIST model there: no dashboard rows)"),
              "screenshots in bench/out/map-scale-*.png"]
    return PartResult(NAME, TITLE, rows, goals=goals, notes=notes)
