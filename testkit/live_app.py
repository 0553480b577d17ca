"""A small Streamlit app that shows the live-decoding elements (dashboard/live) on exported models.

It reads ``$LATENT_LAB_LIVE_MODELS``: a folder of ``<name>.onnx`` + ``<name>.json`` written by
``testkit.live.prepare_models`` (it trains nothing). Served by ``live_support.live_app``,
which puts dashboard/static beside it. Views (query parameter ``view``):

- ``all`` (default): one live decoder per model, a latent pad and an interpolation scrubber (with PCA
  beside when a PCA model is in the folder);
- ``one`` (``&model=NAME``): one live decoder (the bench drags it);
- ``server`` (``&model=NAME``): today's server path, an ``st.slider`` in a fragment and ``st.image``.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import streamlit as st

from dashboard.live import Side, interpolation_scrubber, latent_pad, live_decoder, side_between

FOLDER = Path(os.environ["LATENT_LAB_LIVE_MODELS"])
MAX_SLIDERS = 16


@st.cache_resource
def models() -> dict[str, dict]:
    found = {}
    for meta_path in sorted(FOLDER.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        meta["onnx"] = meta_path.with_suffix(".onnx").read_bytes()
        meta["id"] = f"{meta['name']}-{hash(meta['onnx']) & 0xFFFFFFFF:08x}"
        meta["codes"] = np.asarray(meta["codes"], dtype=np.float64)
        found[meta["name"]] = meta
    return found


@st.cache_resource
def server_session(name: str):
    import onnxruntime

    return onnxruntime.InferenceSession(models()[name]["onnx"], providers=["CPUExecutionProvider"])


def server_png(name: str, code: np.ndarray, size: int = 200) -> bytes:
    """Decode on the server and make the PNG the dashboard would show (the fallback path)."""
    from PIL import Image

    image = server_session(name).run(None, {"code": np.asarray(code, np.float32)[None]})[0][0]
    array = (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)
    pil = Image.fromarray(array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0))
    scale = max(1, round(size / max(pil.size)))
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def slider_setup(meta: dict):
    """Sliders over the coordinates (d <= 16) or the codes' principal directions (through the mean code)."""
    codes = meta["codes"]
    low, high = np.asarray(meta["low"]), np.asarray(meta["high"])
    if meta["d"] <= MAX_SLIDERS:
        span = np.maximum(high - low, 1e-3)
        sliders = [(f"code {i + 1}", float(low[i] - 0.25 * span[i]), float(high[i] + 0.25 * span[i]), float(codes[0, i]))
                   for i in range(meta["d"])]
        return sliders, None, None, (low, high), "code"
    mean = codes.mean(0)
    _, s, vt = np.linalg.svd(codes - mean, full_matrices=False)
    k = min(8, len(vt))
    spread = s[:k] / np.sqrt(len(codes))
    coefficients = (codes - mean) @ vt[:k].T
    sliders = [(f"direction {i + 1}", float(-3 * spread[i]), float(3 * spread[i]), 0.0) for i in range(k)]
    return sliders, mean, vt[:k], (coefficients.min(0), coefficients.max(0)), "params"


def decoder_for(meta: dict, key: str, pca: dict | None) -> None:
    sliders, base, directions, ranges, space = slider_setup(meta)
    side = None
    if pca is not None and pca["name"] != meta["name"] and pca["d"] == meta["d"] and directions is None:
        # PCA's matching move: the same coordinate values in PCA's own code
        side = Side(pca["onnx"], pca["id"], np.zeros(pca["d"]), np.eye(pca["d"]), label=pca["label"])
    result = live_decoder(key, meta["onnx"], meta["id"], meta["shape"], sliders, base_code=base, directions=directions,
                          side=side, ranges=ranges, range_space=space, label=meta["label"])
    if not result.ok:  # the browser could not decode: the server draws the image, as today
        code = np.asarray([s[3] for s in sliders]) if directions is None else base
        st.image(server_png(meta["name"], code), caption=f"{meta['label']} decodes this code (server)")
    released = "none yet" if result.code is None else ", ".join(f"{v:.3f}" for v in result.code)
    st.caption(f"released code ({key}): {released}")


st.set_page_config(page_title="Live decoding test app", layout="wide")
st.title("Live decoding")
view = st.query_params.get("view", "all")
available = models()
pca = available.get("pca")

if view == "server":
    meta = available[st.query_params.get("model", "conv")]

    @st.fragment
    def server_path() -> None:
        value = st.slider("code 1", float(meta["low"][0]) - 1, float(meta["high"][0]) + 1, float(meta["codes"][0, 0]),
                          0.01, key="server_code")
        code = meta["codes"][0].copy()
        code[0] = value
        st.image(server_png(meta["name"], code), caption="server decodes this code")

    server_path()
elif view == "one":
    meta = available[st.query_params.get("model", "conv")]
    decoder_for(meta, f"dec-{meta['name']}", pca)
else:
    for name, meta in available.items():
        st.subheader(meta["label"])
        decoder_for(meta, f"dec-{name}", None)
    main = available.get("conv") or next(iter(available.values()))
    st.subheader("Latent pad")
    codes = main["codes"]
    if main["d"] == 2:
        origin, plane, points = None, None, codes[:, :2]
    else:  # two principal directions through the mean code
        origin = codes.mean(0)
        plane = np.linalg.svd(codes - origin, full_matrices=False)[2][:2]
        points = (codes - origin) @ plane.T
    pad = latent_pad("pad", main["onnx"], main["id"], main["shape"], points=points, labels=main["labels"],
                     origin=origin, plane=plane, label=main["label"])
    st.caption(f"pinned: {'none yet' if pad.code is None else ', '.join(f'{v:.3f}' for v in pad.code)}")
    st.subheader("Interpolation")
    side = None
    if pca is not None:
        pca_codes = pca["codes"]
        side = side_between(pca["onnx"], pca["id"], pca_codes[0], pca_codes[1], label=pca["label"])
    scrub = interpolation_scrubber("scrub", main["onnx"], main["id"], main["shape"], codes[0], codes[1], side=side,
                                   label=main["label"])
    st.caption(f"released t: {'none yet' if scrub.params is None else f'{scrub.params[0]:.2f}'}")
