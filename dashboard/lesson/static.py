"""What each lesson element shows in the static lesson: the same content the Lesson page draws
(:mod:`dashboard.lesson.elements`, computed by the same functions), as blocks that ``lesson.js`` draws.

A block is a small JSON object:

- ``{"type": "text", "text": str, "style": "caption" | "note"}``: plain text (drawn as text, never as HTML);
- ``{"type": "command", "text": str}``: a command to copy;
- ``{"type": "images", "items": [{"src", "caption", "px"}]}``: pictures in a row, each with a caption;
- ``{"type": "image_row", "label": str, "src": str}``: a labelled strip of pictures;
- ``{"type": "plot", "figure": dict}``: a plotly figure (``fig.to_json()``), drawn by Plotly.newPlot;
- ``{"type": "metrics", "items": [[label, value], ...]}``;
- ``{"type": "live", "data": dict}``: a live element of ``dashboard/live/live.js`` (its ``data``; the
  runtime's place is added by ``lesson.js`` from the lesson's manifest);
- ``{"type": "legend", "items": [[class name, colour], ...]}``;
- ``{"type": "columns", "columns": [[block, ...], ...]}``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.analysis import subset_index
from dashboard import elements, figures, live, resources
from dashboard.lesson import elements as lesson
from dashboard.lesson.elements import StepContext
from dashboard.presenter import LIVE_LIMIT

LIVE_PX = 200  # a live picture's longer side, CSS px: sliders, picture and words fit 853 x 480 CSS px
PAD_PX = 190  # the latent pad's side beside PCA's map, CSS px (pad and picture fit half of 853 CSS px)
PAD_IMAGE_PX = 120
PLOT_HEIGHT = 300  # CSS px
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"  # no web font is fetched


@dataclass
class Assets:
    """Files a step needs besides its JSON: pictures and decoders, written under the lesson's folder.

    Parameters
    ----------
    root : Path
        The lesson's folder; every path handed out is relative to it.
    """

    root: Path
    models: dict[str, bytes] = field(default_factory=dict)  # model id -> ONNX bytes (to pick the runtime)

    def _write(self, folder: str, name: str, blob: bytes) -> str:
        path = self.root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        return f"{folder}/{name}"

    def png(self, blob: bytes) -> str:
        """A PNG, named by its content (the same picture is written once)."""
        return self._write("images", hashlib.sha256(blob).hexdigest()[:16] + ".png", blob)

    def model(self, model_id: str, model_onnx: bytes) -> dict:
        """A decoder as an ``.onnx`` file; returns what ``live.js`` reads for it (``{"url": ...}``)."""
        self.models[model_id] = model_onnx
        name = hashlib.sha256(model_id.encode()).hexdigest()[:16] + ".onnx"
        return {"url": self._write("models", name, model_onnx)}


def plot(fig, height: int = PLOT_HEIGHT) -> dict:
    """A plotly figure as a block (its JSON, at a height that fits a projector's screen)."""
    # a legend below the plot sits at a fraction of the height: keep its distance in pixels at the new height
    old_height, legend_y = fig.layout.height, fig.layout.legend.y
    if old_height and legend_y is not None and legend_y < 0:
        fig.update_layout(legend_y=1.25 * legend_y * old_height / height)  # 1.25: a legend wraps in a column
    # the pages' margins are tight (Streamlit's theme makes room for tick labels): automargin does it here
    fig = fig.update_layout(height=height, autosize=True, font=dict(family=FONT, size=13))
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return {"type": "plot", "figure": json.loads(fig.to_json())}


def text(value: str, style: str = "caption") -> dict:
    return {"type": "text", "text": str(value), "style": style}


def _live(key: str, data: dict, models: dict[str, bytes], assets: Assets) -> dict:
    urls = {model_id: assets.model(model_id, blob) for model_id, blob in models.items()}
    return {"type": "live", "data": {**data, "key": key, "models": urls, "failure_reported": True,
                                     "fallback_text": "Live decoding is not available in this browser."}}


def pixels(ctx: StepContext, assets: Assets) -> list[dict]:
    index = int(ctx.settings.get("image", 0))
    image = ctx.dataset.test.images[index]
    picture = {"type": "images", "items": [{"src": assets.png(figures.png(image, 160)),
                                            "caption": f"test image #{index}", "px": 160}]}
    return [{"type": "columns", "columns": [[picture], [plot(figures.pixel_values(image))]]},
            text(lesson.pixels_caption(ctx.dataset))]


def eigen_images(ctx: StepContext, assets: Assets) -> list[dict]:
    images, captions, ratio = lesson.eigen_content(ctx)
    items = [{"src": assets.png(figures.png(p, 64)), "caption": c, "px": 64} for p, c in zip(images, captions)]
    return [{"type": "images", "items": items}, plot(figures.explained_variance(ratio), 250)]


def pixel_map(ctx: StepContext, assets: Assets) -> list[dict]:
    fig, scores = lesson.pixel_map_content(ctx)
    return [plot(fig, 340), text(scores)]


def model_map(ctx: StepContext, assets: Assets) -> list[dict]:
    """PCA's map beside the model's code plane as a live pad: the pointer decodes the code under it."""
    sel, record = ctx.selection, ctx.record
    fig, pca_scores = lesson.pixel_map_content(ctx)
    emb, scores = lesson.model_map_content(ctx)
    shown = subset_index(len(emb.test_xy), lesson.MAP_POINTS, 0)
    model_id = resources.browser_id(sel.config, record.ref)
    data = live.pad_data(model_id, ctx.dataset.image_shape, points=emb.test_xy[shown], labels=emb.test_labels[shown],
                         label=f"{record.method} decodes the code under the pointer", pad_px=PAD_PX,
                         display_px=min(PAD_IMAGE_PX, LIVE_LIMIT))
    onnx = resources.decoder_onnx(sel.config, sel.data_dir, record.ref)
    legend = {"type": "legend", "items": [[name, figures.PALETTE[i % len(figures.PALETTE)]]
                                          for i, name in enumerate(ctx.dataset.class_names)]}
    right = [text(f"{record.method}: its own two numbers. Point anywhere on the plane: the decoder draws the code "
                  "under the pointer.", "note"),
             _live(f"lesson_pad_{record.name}", data, {model_id: onnx}, assets), legend, text(elements.score_line(scores))]
    return [{"type": "columns", "columns": [[plot(fig, 290), text(pca_scores)], right]}]


def live_sliders(ctx: StepContext, assets: Assets) -> list[dict]:
    index = int(ctx.settings.get("image", 0))
    base, pca_base = elements.start_codes(ctx.selection, ctx.dataset, ctx.record, index)
    args = elements.code_slider_args(ctx.selection, ctx.dataset, ctx.record, base, pca_base,
                                     display_px=min(LIVE_PX, LIVE_LIMIT))
    main_onnx, side = args.pop("model_onnx"), args["side"]
    data = live.decoder_data(**args)
    models = {args["model_id"]: main_onnx, side.model_id: side.model_onnx}
    return [_live(f"lesson_live_{ctx.record.name}", data, models, assets)]


def _rows(out: dict, assets: Assets) -> list[dict]:
    return [{"type": "image_row", "label": label, "src": assets.png(figures.mosaic(images, cell=48))}
            for label, images in out.items()]


def linear_vs_pca(ctx: StepContext, assets: Assets) -> list[dict]:
    metrics, grid = lesson.linear_content(ctx)
    replay = watch_it_learn(ctx)
    return [{"type": "metrics", "items": [list(m) for m in metrics]}, *(replay or _rows(grid, assets))]


def watch_it_learn(ctx: StepContext) -> list[dict]:
    """The training replayed (the page's player and its data), or nothing when the model kept no moments."""
    from dashboard.player import player_data

    sel, record = ctx.selection, ctx.record
    kept = resources.moments(sel.config, sel.data_dir, record.ref)
    if kept is None:
        return []
    pca_view, pca_recon, originals = resources.pca_targets(
        sel.config, sel.data_dir, record.latent_dim, tuple(int(i) for i in kept.sample_index),
        tuple(int(i) for i in kept.recon_index))
    data = player_data("lesson_player", kept, pca_view, pca_recon, originals, figures.PALETTE,
                       f"{record.method} d={record.latent_dim}", f"PCA d={record.latent_dim}", map_px=260, cell_px=40)
    return [{"type": "player", "data": data}]


def denoising(ctx: StepContext, assets: Assets) -> list[dict]:
    out, caption = lesson.denoising_content(ctx)
    return [*_rows(out, assets), text(caption)]


def rate_distortion(ctx: StepContext, assets: Assets) -> list[dict]:
    fig, caption = lesson.rd_content(ctx)
    return [plot(fig, 280), text(caption)]


#: element name -> its static blocks; the same keys as :data:`dashboard.lesson.elements.ELEMENTS`
STATIC: dict[str, Callable[[StepContext, Assets], list[dict]]] = {
    "pixels": pixels,
    "eigen_images": eigen_images,
    "pixel_map": pixel_map,
    "model_map": model_map,
    "live_sliders": live_sliders,
    "linear_vs_pca": linear_vs_pca,
    "denoising": denoising,
    "rate_distortion": rate_distortion,
}
