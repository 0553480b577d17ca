"""What each lesson step draws: one function per element name of :mod:`dashboard.lesson.steps`.

Each calls the functions the pages call (``dashboard.resources`` for cached core results,
``dashboard.figures`` for plotly, ``dashboard.elements`` for the live sliders), with the step's settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.analysis import centred_on_grey, subset_index
from core.analysis.compression import rd_view
from core.config import NoiseConfig
from core.data.datasets import Dataset
from core.store.records import ModelRecord, ModelRef
from dashboard import elements, figures, resources, ui
from dashboard.text import md

MAP_POINTS = 2000  # test images on a map


@dataclass(frozen=True)
class StepContext:
    """What an element draws with: the dataset, the sidebar's selection, the step's model (None when the
    step needs none) and the step's settings."""

    dataset: Dataset
    selection: ui.Selection
    record: ModelRecord | None
    settings: dict


# --- what each element shows, without drawing: the Lesson page and the static lesson both call these ----
def pixels_caption(dataset: Dataset) -> str:
    """How many numbers an image is (under the pixel grid)."""
    c, h, w = dataset.image_shape
    return (f"{h} x {w} pixels" + (" x 3 colours" if c == 3 else "") + f" = {c * h * w:,} numbers per image"
            + (" (the grid shows the red channel)" if c == 3 else "") + ".")


def eigen_content(ctx: StepContext) -> tuple[np.ndarray, list[str], np.ndarray]:
    """PCA's mean image and first k components (k + 1, C, H, W), their captions, and the variance ratios."""
    sel, shape = ctx.selection, ctx.dataset.image_shape
    pca = resources.pixel_pca(sel.config, sel.data_dir)
    k = min(int(ctx.settings.get("components", 8)), pca.n_components)
    images = np.concatenate([pca.mean.reshape(1, *shape), centred_on_grey(pca.components[:k].reshape(k, *shape))])
    captions = ["mean image"] + [f"PC{i + 1}: {pca.explained_variance_ratio[i]:.0%}" for i in range(k)]
    return images, captions, pca.explained_variance_ratio


def linear_content(ctx: StepContext) -> tuple[list[tuple[str, str]], dict[str, np.ndarray]]:
    """The linear autoencoder against PCA at its size: (label, value) metrics and label -> image rows."""
    sel, record = ctx.selection, ctx.record
    d = record.latent_dim
    table = resources.error_table(sel.config, sel.data_dir, (record.ref,), max_pca_dim=d)
    pca_mse = float(table.loc[(table["method"] == figures.PCA_TITLE) & (table["latent_dim"] == d), "test_mse"].iloc[0])
    model_mse = record.metric("test_mse")
    metrics = [(f"Test MSE of the linear autoencoder (d={d})", f"{model_mse:.4f}"),
               (f"Test MSE of PCA (d={d}), its output clipped to [0, 1]", f"{pca_mse:.4f}"),
               ("linear minus PCA", f"{model_mse - pca_mse:+.4f}")]
    index = tuple(int(i) for i in subset_index(len(ctx.dataset.test), 8, 0))
    grid = resources.reconstructions(sel.config, sel.data_dir,
                                     {f"linear AE (d={d})": record.ref, f"PCA (d={d})": ModelRef.baseline(d)}, index)
    return metrics, grid


def denoising_content(ctx: StepContext) -> tuple[dict[str, np.ndarray], str]:
    """label -> image rows (clean, noisy, each method's output) and the caption naming the noise."""
    sel, record = ctx.selection, ctx.record
    noise = NoiseConfig(str(ctx.settings.get("kind", "gaussian")), float(ctx.settings.get("level", 0.3)))
    index = tuple(int(i) for i in subset_index(len(ctx.dataset.test), 6, 1))
    models = {"denoising AE": record.ref, f"PCA (d={record.latent_dim})": ModelRef.baseline(record.latent_dim)}
    out = resources.denoise_test_images(sel.config, sel.data_dir, models, noise, index)
    caption = (f"Noise: {noise.kind}, level {noise.level:g} (the standard deviation of the noise added to each pixel)."
               if noise.kind == "gaussian" else f"Noise: {noise.kind}, level {noise.level:g}.")
    return out, caption


def rd_content(ctx: StepContext):
    """The rate-distortion figure (plotly) and its caption (plain text: the dataset's name is outside text)."""
    sel, record = ctx.selection, ctx.record
    d = record.latent_dim
    label = f"{record.method} d={d}"
    table = resources.rd_table(sel.config, sel.data_dir, {f"PCA (d={d})": ModelRef.baseline(d), label: record.ref})
    methods = {f"PCA (d={d})": figures.PCA_TITLE, "JPEG": figures.JPEG, label: record.method}
    fig = figures.rate_distortion(rd_view(table, "bits_per_image"), None, "psnr", methods=methods)
    caption = (f"Bits counted as stored: d x b bits for a code of {d} numbers at b bits each, the whole file for "
               f"JPEG. PSNR in dB over the same test images ({ctx.dataset.name}).")
    return fig, caption


# --- the elements as the Lesson page draws them ------------------------------------------------------
def pixels(ctx: StepContext) -> None:
    """One test image, and the same image as the grid of numbers it is."""
    index = int(ctx.settings.get("image", 0))
    image = ctx.dataset.test.images[index]
    left, right = st.columns([1, 2], vertical_alignment="center")
    with left:
        ui.image(image, f"test image #{index}", size=160)
    with right:
        elements.show_chart(figures.pixel_values(image), key="lesson_pixels")
    st.caption(pixels_caption(ctx.dataset))


def eigen_images(ctx: StepContext) -> None:
    """PCA's mean image and first components, and the share of the variance the first k keep."""
    images, captions, ratio = eigen_content(ctx)
    columns = st.columns(len(images))
    for column, picture, caption in zip(columns, images, captions):
        with column:
            ui.image(picture, caption, size=64)
    elements.show_chart(figures.explained_variance(ratio), key="lesson_variance")


def pixel_map_content(ctx: StepContext):
    """PCA-2 of the pixels as a plotly map, and the line that says what its scores measure."""
    sel = ctx.selection
    emb, scores = resources.pixel_map(sel.config, sel.data_dir, MAP_POINTS)
    fig = elements.map_figure(ctx.dataset, emb, "PCA of the pixels: the first two numbers", ("PC1", "PC2"))
    return fig, elements.score_line(scores)


def model_map_content(ctx: StepContext):
    """The model's own 2-D map: (Embedding, scores) of its codes (:func:`dashboard.resources.model_map`)."""
    return resources.model_map(ctx.selection.config, ctx.selection.data_dir, ctx.record.ref, "auto", MAP_POINTS)


def _pixel_map(ctx: StepContext, key: str) -> None:
    fig, scores = pixel_map_content(ctx)
    elements.show_chart(fig, key=key)
    st.caption(scores)


def pixel_map(ctx: StepContext) -> None:
    """PCA-2 of the pixels: every test image as a point, coloured by class."""
    _pixel_map(ctx, "lesson_pixel_map")


def model_map(ctx: StepContext) -> None:
    """The autoencoder's 2-D code beside PCA-2 of the pixels: the same budget of two numbers."""
    record = ctx.record
    left, right = st.columns(2)
    with left:
        _pixel_map(ctx, "lesson_map_pca")
    with right:
        emb, scores = model_map_content(ctx)
        elements.show_chart(elements.map_figure(ctx.dataset, emb, f"{record.method}: its own two numbers",
                                                ("code 1", "code 2")), key="lesson_map_model")
        st.caption(elements.score_line(scores))


def live_sliders(ctx: StepContext) -> None:
    """Drag the code of a test image: the model's decoder and PCA's matching move, live in the browser."""
    index = int(ctx.settings.get("image", 0))
    base, pca_base = elements.start_codes(ctx.selection, ctx.dataset, ctx.record, index)
    result = elements.live_code_sliders(f"lesson_live_{ctx.record.name}", ctx.selection, ctx.dataset, ctx.record,
                                        base, pca_base)
    if not result.ok:
        st.caption("This browser could not run the decoder itself; the Decoder playground page draws the same "
                   "images on the server.")


def linear_vs_pca(ctx: StepContext) -> None:
    """The linear autoencoder's reconstructions and error beside PCA's at the same size."""
    metrics, grid = linear_content(ctx)
    (model_label, model_mse), (pca_label, pca_mse), (delta_label, delta) = metrics
    left, right = st.columns(2)
    left.metric(model_label, model_mse)
    right.metric(pca_label, pca_mse, delta=f"{delta} {delta_label}", delta_color="off")
    # the training replayed: the largest angle to PCA's plane falls as the error approaches PCA's
    if not elements.watch_it_learn("lesson_player", ctx.selection, ctx.dataset, ctx.record):
        for label, images in grid.items():
            ui.image_row(label, images, cell=48)


def denoising(ctx: StepContext) -> None:
    """Noisy test images, cleaned by the denoising autoencoder and by PCA at its size."""
    out, caption = denoising_content(ctx)
    for label, images in out.items():
        ui.image_row(label, images, cell=48)
    st.caption(caption)


def rate_distortion(ctx: StepContext) -> None:
    """Quality against bits per image: the autoencoder's code, PCA's code and JPEG."""
    fig, caption = rd_content(ctx)
    elements.show_chart(fig, key="lesson_rd")
    st.caption(md(caption))


ELEMENTS: dict[str, Callable[[StepContext], None]] = {
    "pixels": pixels,
    "eigen_images": eigen_images,
    "pixel_map": pixel_map,
    "model_map": model_map,
    "live_sliders": live_sliders,
    "linear_vs_pca": linear_vs_pca,
    "denoising": denoising,
    "rate_distortion": rate_distortion,
}
