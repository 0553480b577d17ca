"""Helpers for the live-decoding browser test and bench part ``live``.

``prepare_models(folder, dataset, ...)`` fits PCA and one quick model per method and writes, per
model, ``<name>.onnx`` (:func:`core.runtime.export.decoder_onnx`) and ``<name>.json`` (shape, a few test codes
and their classes, code ranges) into ``folder``; ``testkit/live_app.py`` reads only those files, so
the test keeps the torch reducers in its own process to check the browser's pixels against.

``live_app(folder)`` serves that app: Streamlit serves ``<main script folder>/static``, so the app
runs from a temporary folder holding a copy of the script and a link ``static`` ->
``dashboard/static`` (where the vendored onnxruntime-web lives), with the repository as working
directory (its ``.streamlit/config.toml`` turns static serving on).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from dashboard.launch import streamlit_app
from testkit.app import REPO

APP = REPO / "testkit" / "live_app.py"
RUNTIME = REPO / "dashboard" / "static" / "vendor" / "onnxruntime-web"


#: A 60 Hz pointer without the driver's round trips: in the page, once per animation frame, move the first
#: slider of the live element ``k`` (found in its shadow root in the dashboard, in the page in the static
#: lesson) and fire its "input" event, as a dragging hand does, for ``ms``; counts the distinct frames painted.
#: Used by bench parts live and staticlesson.
IN_PAGE_DRAG = """([k, ms]) => new Promise(resolve => {
  const find = root => {
    const hit = root.querySelector(`.ll-root[data-key="${k}"] input[type=range]`);
    if (hit) return hit;
    for (const node of root.querySelectorAll('*')) if (node.shadowRoot) { const f = find(node.shadowRoot); if (f) return f; }
    return null;
  };
  const input = find(document), inst = window.__latentLabLive.instances[k];
  const lo = +input.min, hi = +input.max, before = inst.stats.distinct;
  let start = null, events = 0;
  function step(now) {
    if (start === null) start = now;
    const phase = ((now - start) / 1000) % 1;
    input.value = String(lo + (hi - lo) * (0.1 + 0.8 * (phase < 0.5 ? 2 * phase : 2 - 2 * phase)));
    input.dispatchEvent(new Event('input', {bubbles: true}));
    events += 1;
    if (now - start < ms) requestAnimationFrame(step);
    else setTimeout(() => resolve({events, distinct: inst.stats.distinct - before,
                                   seconds: (performance.now() - start) / 1000}), 50);
  }
  requestAnimationFrame(step);
})"""

def describe(reducer, dataset, name: str, label: str) -> dict:
    """What the app needs to know about a fitted reducer besides its ONNX: shapes, codes, ranges."""
    test = dataset.test
    codes = reducer.encode(test.images[:400]).astype(np.float64)
    return {"name": name, "label": label, "shape": list(reducer.image_shape_), "d": int(reducer.latent_dim_),
            "codes": np.round(codes, 5).tolist(), "labels": [int(v) for v in test.labels[:400]],
            "low": codes.min(0).tolist(), "high": codes.max(0).tolist(), "std": codes.std(0).tolist()}


def write_model(folder: Path, reducer, dataset, name: str, label: str) -> None:
    from core.runtime.export import decoder_onnx

    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.onnx").write_bytes(decoder_onnx(reducer))
    (folder / f"{name}.json").write_text(json.dumps(describe(reducer, dataset, name, label)))


def prepare_models(folder: Path, dataset, latent_dim: int = 2, methods=None, epochs: int = 1) -> dict:
    """Fit every method (default: all of the registry, PCA included) on ``dataset`` and write them.

    Returns
    -------
    dict
        name -> fitted reducer (to decode with torch in the caller's process).
    """
    from core.config import TrainConfig
    from core.models.methods import METHODS, build_reducer, default_model_config, model_label

    reducers = {}
    for name in methods or list(METHODS):
        model = default_model_config(name, latent_dim)
        train = TrainConfig(epochs=epochs, seed=0)
        reducer = build_reducer(model, train).fit(dataset.train.images)
        write_model(Path(folder), reducer, dataset, name, model_label(model))
        reducers[name] = reducer
    return reducers


@contextlib.contextmanager
def live_app(models: Path, log_name: str = "live-app.log"):
    """Serve testkit/live_app.py on a free port with the runtime under /app/static; yields (url, process)."""
    with tempfile.TemporaryDirectory(prefix="latent-lab-live-app-") as tmp:
        script = Path(tmp) / "live_app.py"
        shutil.copyfile(APP, script)
        (Path(tmp) / "static").symlink_to(REPO / "dashboard" / "static", target_is_directory=True)
        with streamlit_app(str(script), env={"LATENT_LAB_LIVE_MODELS": str(models), "PYTHONPATH": str(REPO)},
                           log_name=log_name) as (url, process):
            yield url, process
