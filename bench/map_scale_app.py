"""The latent map alone, for part 12 (``bench/map_scale.py``): one map drawn by ``dashboard.figures.latent_map``.

The coordinates come from ``$MAP_SCALE_DIR/map.npz`` (written by the bench from real MNIST maps);
the URL picks how many points (``?n=10000`` test images, or ``?n=70000`` with the training images)
and the renderer (``?r=webgl`` for Scattergl, ``?r=svg`` for Scatter). The chart is drawn the way
the Latent map page draws it (same figure function, selection on, scroll zoom), and a click prints
which image it picked. Run: ``MAP_SCALE_DIR=... streamlit run bench/map_scale_app.py``.
"""

import os

import numpy as np
import streamlit as st

from dashboard import figures


@st.cache_resource
def coordinates() -> dict[str, np.ndarray]:
    with np.load(os.path.join(os.environ["MAP_SCALE_DIR"], "map.npz")) as data:
        return {k: data[k] for k in data.files}


data = coordinates()
n = int(st.query_params.get("n", len(data["test_xy"])))
webgl = st.query_params.get("r", "webgl") == "webgl"
train = n > len(data["test_xy"])
fig = figures.latent_map(data["test_xy"], data["test_labels"], [str(c) for c in range(10)], data["test_index"],
                         f"{n:,} points, {'WebGL' if webgl else 'SVG'}", grid=data["grid"],
                         train_xy=data["train_xy"] if train else None, train_labels=data["train_labels"] if train else None,
                         train_index=data["train_index"] if train else None, webgl=webgl)
event = st.plotly_chart(fig, key=f"map_{n}_{webgl}", on_select="rerun", selection_mode="points", config={"scrollZoom": True})
points = event.selection.points if event and event.selection else []
picked = figures.map_point(points[-1]) if points else None
st.write(f"picked: {picked[0]} image #{picked[1]}" if picked else "picked: nothing")
