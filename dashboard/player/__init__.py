"""Watch it learn: a player over a training's moments (:class:`core.learning.Moments`) that replays in
the browser: the sample's 2-D map and 8 reconstructions at each moment, PCA's map and reconstructions
at the same size beside them as the target to beat, the held-out error with a cursor at the moment.

One Streamlit Components v2 element (``player.js`` + ``player.css`` beside this file). The moments
are sent once as typed arrays (base64); play, pause and the scrubber run in the page, interpolating
positions between moments on every animation frame: no rerun per frame.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import streamlit as st

from core.learning import Moments

HERE = Path(__file__).resolve().parent
NAME = "latent_lab_player"
MAX_POINTS = 1_000  # points replayed (of the moments' sample of up to 2,000): the map stays readable and light
SECONDS_PER_MOMENT = 0.25  # replay speed: 24 moments in about 6 s, every frame interpolated


@functools.cache
def _component():
    """Registered once per process (see dashboard.live for the same pattern)."""
    return st.components.v2.component(NAME, js=(HERE / "player.js").read_text(), css=(HERE / "player.css").read_text())


def _b64(array: np.ndarray, dtype) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype=dtype).tobytes()).decode("ascii")


def _bytes(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] as uint8 pixels (what a canvas draws)."""
    return np.clip(np.rint(np.asarray(images, np.float32) * 255), 0, 255).astype(np.uint8)


def player_data(key: str, moments: Moments, pca_view: np.ndarray, pca_recon: np.ndarray, originals: np.ndarray,
                palette: Sequence[str], model_label: str, pca_label: str, map_px: int = 300, cell_px: int = 48) -> dict:
    """The element's data (a pure function: the Streamlit element and a static page share it).

    Parameters
    ----------
    key : str
    moments : Moments
        M moments of S sample images (views_2d (M, S, 2)) and R reconstructions (M, R, C, H, W).
    pca_view : np.ndarray, shape (S, 2)
        The same sample on PCA's 2-D map at the model's latent size.
    pca_recon, originals : np.ndarray, shape (R, C, H, W)
        PCA's reconstructions of the R shown images, and the images themselves.
    palette : sequence of str
        Class colours (the maps' palette).
    model_label, pca_label : str
    map_px, cell_px : int
        Size of each map and of each reconstructed image on screen.
    """
    sample = np.arange(len(moments.sample_index))
    if len(sample) > MAX_POINTS:
        sample = np.linspace(0, len(sample) - 1, MAX_POINTS).round().astype(int)
    angles = None if moments.angles_deg is None else np.asarray(moments.angles_deg, float).max(axis=1).tolist()
    shape = list(np.shape(moments.reconstructions)[2:])
    return {"key": key, "steps": [int(s) for s in moments.steps], "epochs": [float(e) for e in moments.epochs],
            "sample_mse": [float(v) for v in moments.sample_mse],
            "pca_mse": None if moments.pca_sample_mse is None else float(moments.pca_sample_mse),
            "max_angle": angles, "labels": [int(v) for v in moments.sample_labels[sample]],
            "views": _b64(np.asarray(moments.views_2d)[:, sample], np.float32),
            "pca_view": _b64(np.asarray(pca_view)[sample], np.float32),
            "recon": _b64(_bytes(moments.reconstructions), np.uint8), "recon_count": int(np.shape(moments.reconstructions)[1]),
            "pca_recon": _b64(_bytes(pca_recon), np.uint8), "originals": _b64(_bytes(originals), np.uint8),
            "shape": [int(v) for v in shape], "palette": list(palette), "model_label": model_label,
            "pca_label": pca_label, "view_label": "its code" if moments.view == "code" else "PCA of its final codes",
            # PCA's 2-D view of its own d-number code is its first two numbers, the same map at every d: say so
            "pca_view_label": pca_label if np.shape(moments.codes)[-1] <= 2 else f"{pca_label}: its first 2 numbers",
            "map_px": int(map_px), "cell_px": int(cell_px), "seconds_per_moment": SECONDS_PER_MOMENT}


def learning_player(key: str, moments: Moments, pca_view: np.ndarray, pca_recon: np.ndarray, originals: np.ndarray,
                    palette: Sequence[str], model_label: str, pca_label: str, map_px: int = 300, cell_px: int = 48) -> None:
    """Draw the player (see :func:`player_data` for the parameters)."""
    _component()(key=key, data=player_data(key, moments, pca_view, pca_recon, originals, palette, model_label,
                                           pca_label, map_px, cell_px), height="content")
