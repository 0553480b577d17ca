"""Page elements that more than one page draws: the functions behind a view, with their inputs as
parameters (Streamlit demos' style), so the Lesson shows the same element a page shows, never a copy.

Each function reads no widget state of its own page: it gets the dataset, the sidebar's selection
and the model, draws, and returns what the caller may need.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from core.analysis import slider_maps, slider_specs
from core.data.datasets import Dataset
from core.learning import Moments
from core.samples import MAX_SLIDER_DIMS
from core.store.records import ModelRecord, ModelRef
from dashboard import figures, live, resources
from dashboard.presenter import image_px
from dashboard.ui import Selection


def live_code_sliders(key: str, sel: Selection, dataset: Dataset, entry: ModelRecord, base, pca_base,
                      display_px: int = 220) -> live.LiveResult:
    """The playground's code sliders: the model's decoder redraws as you drag, PCA at the same size makes
    the same move beside it, both in the browser (:func:`dashboard.live.live_decoder`).

    Parameters
    ----------
    key : str
        Element key (unique on the page; change it to reset the sliders).
    sel : Selection
    dataset : Dataset
    entry : ModelRecord
    base, pca_base : array, shape (d,)
        The start codes of the model and of PCA-d (the same image encoded by each).
    display_px : int
        Size of the longer image side on screen (the live element doubles it in presenter view).

    Returns
    -------
    LiveResult
        The code at the last release (None before any), and whether the browser could decode.
    """
    return live.live_decoder(key, **code_slider_args(sel, dataset, entry, base, pca_base, display_px))


def code_slider_args(sel: Selection, dataset: Dataset, entry: ModelRecord, base, pca_base,
                     display_px: int = 220) -> dict:
    """The arguments of :func:`dashboard.live.live_decoder` (less the key) that :func:`live_code_sliders`
    draws with: the static lesson builds the same element from them (:func:`dashboard.live.decoder_data`)."""
    pca_ref = ModelRef.baseline(entry.latent_dim)
    stats = resources.code_stats(sel.config, sel.data_dir, entry.ref)
    pca_stats = resources.code_stats(sel.config, sel.data_dir, pca_ref)
    by_dimension = entry.latent_dim <= MAX_SLIDER_DIMS
    specs = slider_specs(stats, base, by_dimension)
    maps = slider_maps(stats, pca_stats, base, pca_base, by_dimension)
    widen = 0.25 * (stats.high - stats.low)  # the server's warning tolerance, per coordinate
    pca_onnx = resources.decoder_onnx(sel.config, sel.data_dir, pca_ref)
    return dict(
        model_onnx=resources.decoder_onnx(sel.config, sel.data_dir, entry.ref),
        model_id=resources.browser_id(sel.config, entry.ref), image_shape=dataset.image_shape,
        sliders=[(s.label, s.low, s.high, s.value) for s in specs], base_code=maps.origin, directions=maps.directions,
        side=live.Side(pca_onnx, resources.browser_id(sel.config, pca_ref), maps.pca_origin, maps.pca_directions,
                       f"PCA (d={entry.latent_dim}), the same move"),
        ranges=(stats.low - widen, stats.high + widen), label=f"{entry.method} decodes this code",
        display_px=display_px)


def map_figure(dataset: Dataset, emb, title: str, axes: tuple[str, str], grid=None):
    """A 2-D map of the test images coloured by class (:func:`dashboard.figures.latent_map`)."""
    return figures.latent_map(emb.test_xy, emb.test_labels, dataset.class_names, emb.test_index, title,
                              grid=grid, axis_titles=axes)


def score_line(scores: dict) -> str:
    """One line that says what a map's scores measure (k-NN accuracy and trustworthiness)."""
    parts = []
    if "knn_accuracy" in scores:
        parts.append(f"k-NN accuracy {scores['knn_accuracy']:.2f} (share of test images whose nearest neighbours "
                     "on the map are of their own class)")
    if "trustworthiness" in scores:
        parts.append(f"trustworthiness {scores['trustworthiness']:.2f} (1: map neighbours were neighbours before)")
    return "; ".join(parts)


def start_codes(sel: Selection, dataset: Dataset, entry: ModelRecord, image_index: int) -> tuple[np.ndarray, np.ndarray]:
    """The codes of one test image under the model and under PCA at its size: (d,), (d,)."""
    image = dataset.test.images[image_index:image_index + 1]
    model = resources.reducer(sel.config, sel.data_dir, entry.ref)
    pca = resources.reducer(sel.config, sel.data_dir, ModelRef.baseline(entry.latent_dim))
    return model.encode(image)[0], pca.encode(image)[0]


def show_chart(fig, key: str) -> None:
    """A plotly chart at the page's width (its height grows in presenter view)."""
    st.plotly_chart(fig, key=key, width="stretch")


def watch_it_learn(key: str, sel: Selection, dataset: Dataset, entry: ModelRecord) -> bool:
    """The replay of a model's training (:mod:`dashboard.player`): its map and reconstructions at each
    kept moment beside PCA's at the same size, the held-out error with a cursor. Returns False (with the
    way forward) when the model kept no moments."""
    kept = resources.moments(sel.config, sel.data_dir, entry.ref)
    if kept is None:
        st.info("This model was trained before Latent Lab kept learning moments, so there is nothing to replay: "
                "train it again (the Train page, with *Train again*), or run `python -m core zoo --with-moments` "
                "for the default models.", icon=":material/history:")
        return False
    moments_player(key, sel, kept, entry.method, entry.latent_dim)
    return True


def moments_player(key: str, sel: Selection, kept: Moments, method: str, latent_dim: int) -> None:
    """The player over ``kept`` (a saved model's moments, or those of a training still running), PCA
    at the same latent size beside it."""
    from dashboard.player import learning_player

    pca_view, pca_recon, originals = resources.pca_targets(
        sel.config, sel.data_dir, latent_dim, tuple(int(i) for i in kept.sample_index),
        tuple(int(i) for i in kept.recon_index))
    learning_player(key, kept, pca_view, pca_recon, originals, figures.PALETTE, f"{method} d={latent_dim}",
                    f"PCA d={latent_dim}", map_px=image_px(300, 420), cell_px=image_px(40))
