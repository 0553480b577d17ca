"""Pure drawing helpers: arrays in, PNG bytes or plotly figures out (no Streamlit here)."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.models.methods import BASELINE, METHODS
from dashboard.text import plotly_text

PCA_TITLE = METHODS[BASELINE].title  # how tables name the baseline (the rows drawn as a curve)

MARKERS = ["diamond", "square", "circle", "triangle-up", "cross", "star", "hexagon", "triangle-down"]
METRIC_TITLES = {"test_mse": "test MSE (lower is better)", "test_psnr": "test PSNR, dB, mean per image (higher is better)",
                 "test_ssim": "test SSIM (higher is better)"}
# a qualitative palette with ten well-separated colours (classes 0-9), repeated beyond
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
# (dashboard/live/live.js keeps its own copy of PALETTE for the classes it paints: keep the two equal)

# One colour per method in every figure: colours that followed the order of the lines made JPEG green
# beside d=8 models and red beside d=2 ones. Keys are method labels as core.models.methods.method_label writes
# them ('PCA', 'conv', 'conv denoising'), plus the two lines that are not models (JPEG, the noisy input).
JPEG, NOISY = "JPEG", "noisy"
_MODEL_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#e377c2"]


def _darker(colour: str, factor: float = 0.6) -> str:
    """'#rrggbb' with each channel scaled by ``factor``: a denoising model's shade of its family's colour."""
    channels = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c * factor):02x}" for c in channels)


def _method_lines() -> dict[str, dict]:
    """Method label -> plotly line style, built from the registry (a new method gets the next colour)."""
    styles = {METHODS[BASELINE].title: {"color": "#444444"}, JPEG: {"color": "#d62728"},
              NOISY: {"color": "#7f7f7f", "dash": "dot"}}
    families = [m for name, m in METHODS.items() if name != BASELINE]
    for i, method in enumerate(families):
        colour = _MODEL_COLOURS[i % len(_MODEL_COLOURS)]
        styles[method.title] = {"color": colour}
        # the label core.models.methods.method_label gives a model trained on noisy inputs
        styles[f"{method.title} denoising"] = {"color": _darker(colour), "dash": "dash"}
    return styles


METHOD_LINES = _method_lines()
METHOD_COLOURS = {method: style["color"] for method, style in METHOD_LINES.items()}
_REPEAT_DASHES = ["solid", "dashdot", "longdash", "dot"]  # two lines of one method in one figure


def line_styles(names, methods: Mapping[str, str] | None = None) -> dict[str, dict]:
    """The line style (colour, dash) of each trace name, the same in every figure.

    Parameters
    ----------
    names : iterable of str
        Trace names in drawing order.
    methods : mapping of str -> str, optional
        Trace name -> method label (:data:`METHOD_LINES`' keys) where the name is not one itself,
        e.g. ``{"PCA (d=8)": "PCA", "denoising AE": "conv denoising"}``.

    Returns
    -------
    dict of str -> dict
        A plotly ``line`` dict per name. A name of no known method gets a colour from its own text
        (stable, whatever else is drawn); a second line of one method keeps the colour, not the dash.
    """
    methods = methods or {}
    styles, seen = {}, {}
    for name in names:
        style = METHOD_LINES.get(methods.get(name, name))
        if style is None:
            style = {"color": PALETTE[zlib.crc32(str(name).encode()) % len(PALETTE)]}
        repeat = seen.get(style["color"], 0)
        seen[style["color"]] = repeat + 1
        styles[name] = style if not repeat else {**style, "dash": _REPEAT_DASHES[repeat % len(_REPEAT_DASHES)]}
    return styles


def finite_or_none(values) -> list:
    """Values with NaN and +-inf as None: plotly leaves such a point out (an infinite PSNR has no place
    on an axis, and a cap drawn in its stead would pass for a measurement)."""
    return [float(v) if np.isfinite(v) else None for v in np.asarray(values, np.float64)]


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """(C, H, W) float in [0, 1] -> (H, W) or (H, W, 3) uint8."""
    array = np.clip(np.asarray(image, np.float32), 0.0, 1.0)
    array = (array * 255.0 + 0.5).astype(np.uint8)
    return array[0] if array.shape[0] == 1 else array.transpose(1, 2, 0)


def png(image: np.ndarray, size: int = 140) -> bytes:
    """One image (C, H, W) in [0, 1] as a crisp PNG about ``size`` pixels wide (nearest-neighbour)."""
    from PIL import Image

    pil = Image.fromarray(_to_uint8(image))
    scale = max(1, round(size / max(pil.size)))
    pil = pil.resize((pil.width * scale, pil.height * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    pil.save(buffer, format="PNG")
    return buffer.getvalue()


def mosaic(images: np.ndarray, ncols: int | None = None, cell: int = 64, pad: int = 2) -> bytes:
    """Images (N, C, H, W) tiled in a grid (one row by default) as one PNG, each about ``cell`` px."""
    images = np.ascontiguousarray(images, np.float32)
    key = (hashlib.blake2b(images.data, digest_size=16).digest(), images.shape, ncols, cell, pad)
    png = _MOSAICS.get(key)
    if png is None:  # the same tiles are drawn for every visitor: PNG encoding was ~4 % of a visit's CPU
        png = _mosaic_png(images, ncols, cell, pad)
        if len(_MOSAICS) >= _MOSAICS_MAX:
            _MOSAICS.pop(next(iter(_MOSAICS), None), None)
        _MOSAICS[key] = png
    return png


_MOSAICS: dict[tuple, bytes] = {}  # mosaic PNGs drawn in this process, oldest first
_MOSAICS_MAX = 512


def _mosaic_png(images: np.ndarray, ncols: int | None, cell: int, pad: int) -> bytes:
    from PIL import Image

    n, c, h, w = images.shape
    ncols = ncols or n
    nrows = -(-n // ncols)
    scale = max(1, round(cell / max(h, w)))
    hh, ww = h * scale, w * scale
    canvas = np.full((nrows * (hh + pad) + pad, ncols * (ww + pad) + pad, 3), 255, np.uint8)
    for i, image in enumerate(images):
        tile = _to_uint8(image)
        tile = np.kron(tile if tile.ndim == 3 else tile[..., None], np.ones((scale, scale, 1), np.uint8))
        if tile.shape[2] == 1:
            tile = np.repeat(tile, 3, axis=2)
        r, col = divmod(i, ncols)
        y, x = pad + r * (hh + pad), pad + col * (ww + pad)
        canvas[y:y + hh, x:x + ww] = tile
    buffer = io.BytesIO()
    Image.fromarray(canvas).save(buffer, format="PNG")
    return buffer.getvalue()


LOSS_AXIS_TITLE, MSE_AXIS_TITLE = "loss (minimised)", "MSE per pixel"  # the loss curve's two axes


def loss_curve(history: list[dict], title: str = "Loss per epoch", loss_name: str = "loss") -> go.Figure:
    """The training objective (train and validation, left axis) and the validation images' mean
    squared error per pixel (right axis) against epoch: the objective may be binary cross-entropy,
    whose numbers (0.1-0.5) are not comparable with MSE (0.01-0.05), so both are drawn."""
    frame = pd.DataFrame(history)
    fig = go.Figure()
    if not frame.empty:
        fig.add_scatter(x=frame["epoch"], y=frame["train_loss"], mode="lines+markers", name=f"training {loss_name}")
        fig.add_scatter(x=frame["epoch"], y=frame["val_loss"], mode="lines+markers", name=f"validation {loss_name}")
        if "val_mse" in frame:
            fig.add_scatter(x=frame["epoch"], y=frame["val_mse"], mode="lines+markers", yaxis="y2",
                            name="validation MSE per pixel (right axis)", line=dict(dash="dot"))
    # Axis titles stay short (the legend names the objective): 'binary cross-entropy (what training
    # minimises)' was longer than the axis and was cut off. automargin makes room for the tick labels
    # and titles; tickmode 'auto' because plotly.js syncs an overlaying axis's ticks to the left axis's
    # grid by default, which labelled the right axis 0.0296, 0.0427...
    fig.update_layout(title=title, xaxis_title="epoch", height=340, margin=dict(l=10, r=10, t=40, b=10),
                      yaxis=dict(title=LOSS_AXIS_TITLE, automargin=True),
                      yaxis2=dict(title=MSE_AXIS_TITLE, overlaying="y", side="right", showgrid=False, automargin=True,
                                  tickmode="auto", nticks=6),
                      legend=dict(orientation="h", y=-0.3))
    return fig


def error_vs_latent(frame: pd.DataFrame, metric: str = "test_mse") -> go.Figure:
    """PCA's curve and the autoencoders' points: ``metric`` against latent size."""
    fig = go.Figure()
    pca = frame[frame["method"] == PCA_TITLE].sort_values("latent_dim")  # the curve: the baseline at every size
    if not pca.empty:
        fig.add_scatter(x=pca["latent_dim"], y=pca[metric], mode="lines+markers", name=PCA_TITLE,
                        line=METHOD_LINES[PCA_TITLE], marker=dict(size=5))
    groups = list(frame[frame["method"] != PCA_TITLE].groupby("method", sort=False))
    styles = line_styles([str(method) for method, _ in groups])
    for i, (method, group) in enumerate(groups):
        # models often land on the same spot (dense and sparse d=2): a different symbol each, and a small
        # sideways offset, keep every marker visible; the hover says the exact size and value
        offset = (i - (len(groups) - 1) / 2) * 0.12
        fig.add_scatter(x=group["latent_dim"] + offset, y=group[metric], mode="markers", name=str(method),
                        customdata=group["latent_dim"],
                        hovertemplate=f"{method}<br>d=%{{customdata}}<br>%{{y:.4f}}<extra></extra>",
                        marker=dict(size=12, symbol=MARKERS[i % len(MARKERS)], color=styles[str(method)]["color"],
                                    line=dict(width=1, color="white")))
    fig.update_layout(xaxis_title="latent size (numbers per image)", yaxis_title=METRIC_TITLES.get(metric, metric),
                      height=380, margin=dict(l=10, r=10, t=30, b=10))
    return fig


SPLITS = ("test", "training")  # customdata[:, 1] of a map point: 0 a test image, 1 a training image; -1 empty space


def latent_map(xy: np.ndarray, labels: np.ndarray, class_names, index: np.ndarray, title: str,
               grid: np.ndarray | None = None, highlight: np.ndarray | None = None,
               axis_titles: tuple[str, str] = ("", ""), train_xy: np.ndarray | None = None,
               train_labels: np.ndarray | None = None, train_index: np.ndarray | None = None,
               webgl: bool = True, region: np.ndarray | None = None, values: np.ndarray | None = None,
               values_title: str = "", values_range: tuple[float, float] | None = None,
               lens: str | None = None) -> go.Figure:
    """A scatter of test images (and optionally training images) coloured by class.

    Parameters
    ----------
    xy : (N, 2) ; labels : (N,) ; index : (N,)
        Test points, their classes and their rows in ``dataset.test``.
    grid : (G, 2), optional
        Faint, selectable markers that make empty space clickable (trace 0).
    train_xy : (M, 2) ; train_labels : (M,) ; train_index : (M,), optional
        Training points, drawn smaller and paler under the test points, in the same class colour.
    webgl : bool
        Scattergl (WebGL, the default) or Scatter (SVG). Measured in ``bench/map_scale.py``: at
        10,000 and 70,000 points WebGL draws, pans and hovers far faster.
    region : (N,) bool, optional
        Test points inside a selected box or lasso: ringed in black on top.
    values : (N,), optional
        A number per test point (e.g. its reconstruction error): the test points are coloured by it on
        one colour scale (``values_title`` names it on the colour bar) instead of by class;
        ``values_range`` fixes the scale's ends (so two maps or two methods share one scale).
    lens : str, optional
        The name :func:`dashboard.live.map_lens` finds this map by (``layout.meta.lens``): it draws the
        images of the dots when zoomed in, and decodes under the pointer.

    Each point's ``customdata`` is ``[row, split]``: split 0 for a test image, 1 for a training
    image, ``[-1, -1]`` for the grid. Arrays go out as float32 / small ints, which plotly sends as
    base64 typed arrays, and the hover text is one template per trace, not a string per point:
    70,000 points cost about 1 MB instead of several.
    """
    trace = go.Scattergl if webgl else go.Scatter
    fig = go.Figure()
    if grid is not None:
        fig.add_trace(trace(x=np.asarray(grid[:, 0], np.float32), y=np.asarray(grid[:, 1], np.float32),
                            mode="markers", name="empty space (click to decode)",
                            marker=dict(size=7, color="rgba(120,120,120,0.08)"), customdata=np.full((len(grid), 2), -1, np.int8),
                            selected=dict(marker=dict(size=14, color="black")),
                            unselected=dict(marker=dict(color="rgba(120,120,120,0.08)")),
                            hovertemplate="decode (%{x:.2f}, %{y:.2f})<extra></extra>", showlegend=True))
    layers = [] if train_xy is None or not len(train_xy) else [(1, train_xy, train_labels, train_index)]
    layers.append((0, xy, labels, index))  # test points last: on top
    for split, points, classes, rows in layers:
        points, classes, rows = np.asarray(points, np.float32), np.asarray(classes), np.asarray(rows)
        # 2 bytes a number up to 65,535 rows (MNIST's 60,000 training images included)
        custom = np.column_stack([rows, np.full(len(rows), split)]).astype(np.uint16 if len(rows) and rows.max() < 2 ** 16 else np.int32)
        if split == 0 and values is not None:  # one trace, coloured by the value
            fig.add_trace(trace(
                x=points[:, 0], y=points[:, 1], mode="markers", customdata=custom, name=plotly_text(values_title),
                marker=dict(size=5, color=np.asarray(values, np.float32), colorscale="Viridis", showscale=True,
                            cmin=None if values_range is None else float(values_range[0]),
                            cmax=None if values_range is None else float(values_range[1]),
                            colorbar=dict(title=dict(text=plotly_text(values_title), side="right"), thickness=12)),
                selected=dict(marker=dict(size=14, color="black", opacity=1.0)),
                hovertemplate=f"{plotly_text(values_title)} %{{marker.color:.4f}}<br>test image #%{{customdata[0]}}<extra></extra>"))
            continue
        for c in np.unique(classes):
            mask = classes == c
            name = plotly_text(class_names[c] if c < len(class_names) else c)
            fig.add_trace(trace(
                x=points[mask, 0], y=points[mask, 1], mode="markers", customdata=custom[mask],
                name=name if split == 0 else f"{name} (training)", legendgroup=name, showlegend=split == 0,
                marker=dict(size=5 if split == 0 else 3, color=PALETTE[int(c) % len(PALETTE)],
                            opacity=0.8 if split == 0 else 0.35),
                # a click marks its point instead of dimming the whole map
                selected=dict(marker=dict(size=14, color="black", opacity=1.0)),
                unselected=dict(marker=dict(opacity=0.8 if split == 0 else 0.35)),
                hovertemplate=f"class {name}<br>{SPLITS[split]} image #%{{customdata[0]}}<extra></extra>",
            ))
    if region is not None and np.any(region):
        mask = np.asarray(region, bool)
        inside = np.asarray(xy, np.float32)[mask]
        rows = np.asarray(index)[mask]  # a click on a ring still names its test image
        # thin, half-transparent rings (fainter when many): at MNIST's density bold black rings merged into a
        # black blob that hid the points' colours
        fig.add_trace(trace(x=inside[:, 0], y=inside[:, 1], mode="markers", name="selected region",
                            customdata=np.column_stack([rows, np.zeros(len(rows))]).astype(np.int32),
                            marker=dict(size=8, symbol="circle-open", color="black",
                                        opacity=0.3 if len(inside) > 200 else 0.6, line=dict(width=1)),
                            hoverinfo="skip"))
    if highlight is not None:
        fig.add_trace(trace(x=[highlight[0]], y=[highlight[1]], mode="markers", name="selected",
                            marker=dict(size=16, symbol="x", color="black"), hoverinfo="skip"))
    # the toolbar stands upright at the right edge, so it never covers the title
    fig.update_layout(title=title, height=520, margin=dict(l=10, r=40, t=40, b=10), dragmode="pan", modebar=dict(orientation="v"),
                      legend=dict(itemsizing="constant", orientation="h", y=-0.18), xaxis_title=axis_titles[0],
                      yaxis_title=axis_titles[1],
                      clickmode="event+select",
                      uirevision=title)  # a rerun (a selection, the lens's images) keeps the reader's zoom
    if lens is not None:
        fig.update_layout(meta={"lens": lens})
    return fig


def map_point(point: dict | None) -> tuple[str, int] | None:
    """('test' or 'training', row) of a point picked on :func:`latent_map`, None for empty space.

    ``point`` is one entry of Streamlit's plotly selection (its ``customdata`` is ``[row, split]``).
    """
    custom = None if point is None else point.get("customdata")
    if custom is None:
        return None
    if isinstance(custom, dict):  # a row of a typed array reaches Python as {"0": row, "1": split}
        custom = [value for _, value in sorted(custom.items(), key=lambda item: int(item[0]))]
    row, split = (custom[0], custom[1]) if isinstance(custom, (list, tuple)) and len(custom) > 1 else (custom, 0)
    row = row[0] if isinstance(row, (list, tuple)) else row
    if int(row) < 0 or int(split) < 0:
        return None
    return SPLITS[int(split)], int(row)


QUALITY_TITLES = {"psnr": "PSNR (dB, higher is better)", "ssim": "SSIM (0 to 1, higher is better)"}


def rate_distortion(frame: pd.DataFrame, budget: float | None = None, metric: str = "psnr",
                    methods: Mapping[str, str] | None = None) -> go.Figure:
    """PSNR (or SSIM) against bits per image, one line per method, each in its method's colour
    (``methods``: line name -> method label, see :func:`line_styles`)."""
    fig = go.Figure()
    groups = list(frame.groupby("method", sort=False))
    styles = line_styles([str(method) for method, _ in groups], methods)
    for method, group in groups:
        group = group.sort_values("bits_per_image")
        fig.add_scatter(x=group["bits_per_image"], y=group[metric], mode="lines+markers", name=str(method),
                        text=group["setting"].astype(str), hovertemplate="%{text}<br>%{x:.0f} bits: %{y:.3f}<extra></extra>",
                        line=styles[str(method)])
    if budget and not frame.empty:  # a trace, not add_vline: shapes on a log axis take log10 units
        low, high = float(frame[metric].min()), float(frame[metric].max())
        fig.add_scatter(x=[budget, budget], y=[low, high], mode="lines", name="your budget",
                        line=dict(color="#888", dash="dot"), hoverinfo="skip")
    fig.update_layout(xaxis_title="bits per image (smaller = more compressed)", yaxis_title=QUALITY_TITLES.get(metric, metric),
                      xaxis_type="log", height=400, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def lines(frame: pd.DataFrame, x: str, y: str, color: str, title: str = "", x_title: str = "", y_title: str = "",
          methods: Mapping[str, str] | None = None) -> go.Figure:
    """One line per value of ``color``, each in its method's colour (``methods``: value -> method
    label, see :func:`line_styles`); points whose ``y`` is not finite (an infinite PSNR) are left out."""
    fig = go.Figure()
    groups = list(frame.groupby(color, sort=False))
    styles = line_styles([str(name) for name, _ in groups], methods)
    for name, group in groups:
        group = group.sort_values(x)
        fig.add_scatter(x=group[x], y=finite_or_none(group[y]), mode="lines+markers", name=str(name),
                        line=styles[str(name)])
    fig.update_layout(title=title, height=340, margin=dict(l=10, r=10, t=40, b=10),
                      xaxis_title=x_title or x, yaxis_title=y_title or y)
    return fig


def class_counts(labels: np.ndarray, class_names, title: str = "") -> go.Figure:
    """How many of ``labels`` (S,) fall in each class: one bar per class present, in the class's map colour."""
    labels = np.asarray(labels, int)
    classes, counts = np.unique(labels, return_counts=True)
    names = [plotly_text(class_names[c] if c < len(class_names) else c) for c in classes]
    fig = go.Figure(go.Bar(x=names, y=counts, marker_color=[PALETTE[int(c) % len(PALETTE)] for c in classes],
                           hovertemplate="class %{x}: %{y} images<extra></extra>"))
    fig.update_layout(title=title, height=320, margin=dict(l=10, r=10, t=40, b=10), yaxis_title="images",
                      xaxis=dict(type="category", title="class"))
    return fig


def latent_map3d(xyz: np.ndarray, labels: np.ndarray, class_names, index: np.ndarray, title: str,
                 axis_titles: tuple[str, str, str] = ("", "", "")) -> go.Figure:
    """A 3-D scatter (plotly Scatter3d, drag to turn it) coloured by class; hover shows the test image number.

    ``xyz`` (N, 3); ``index`` (N,) the test-set row of each point (its ``customdata``).
    """
    fig = go.Figure()
    for c in np.unique(labels):
        mask = labels == c
        name = plotly_text(class_names[c] if c < len(class_names) else c)
        fig.add_trace(go.Scatter3d(
            x=xyz[mask, 0], y=xyz[mask, 1], z=xyz[mask, 2], mode="markers", name=str(name), customdata=index[mask],
            marker=dict(size=2.5, color=PALETTE[int(c) % len(PALETTE)], opacity=0.8),
            hovertemplate=f"class {name}<br>test image #%{{customdata}}<extra></extra>",
        ))
    fig.update_layout(title=title, height=560, margin=dict(l=0, r=0, t=40, b=0), modebar=dict(orientation="v"),
                      legend=dict(itemsizing="constant", orientation="h", y=-0.05),
                      scene=dict(xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], zaxis_title=axis_titles[2],
                                 aspectmode="cube"))
    return fig


def pixel_values(image: np.ndarray) -> go.Figure:
    """An image as the grid of numbers it is: a heatmap of channel 0 (C, H, W), each cell labelled with
    its value when the image is small enough to read them (at most 16 x 16)."""
    values = np.asarray(image, np.float32)[0]
    h, w = values.shape
    fig = go.Figure(go.Heatmap(z=values[::-1], zmin=0, zmax=1, colorscale="gray", showscale=False,
                               text=np.round(values[::-1], 2) if h * w <= 256 else None,
                               texttemplate="%{text:.2f}" if h * w <= 256 else None,
                               hovertemplate="row %{y}, column %{x}: %{z:.3f}<extra></extra>"))
    fig.update_traces(textfont=dict(color="#d62728"))  # red reads on black and on white
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=10, b=10), xaxis=dict(visible=False),
                      yaxis=dict(visible=False, scaleanchor="x"))
    return fig


def explained_variance(ratio: np.ndarray) -> go.Figure:
    """The share of the pixel variance each principal component explains (bars) and the first k together
    (line), with the 90 % mark."""
    ratio = np.asarray(ratio, np.float64)
    k = np.arange(1, len(ratio) + 1)
    fig = go.Figure()
    fig.add_bar(x=k, y=ratio * 100, name="this component", marker_color=PALETTE[0])
    fig.add_scatter(x=k, y=np.cumsum(ratio) * 100, mode="lines+markers", name="the first k together",
                    line=dict(color=PALETTE[1]))
    fig.add_hline(y=90, line=dict(color="#888", dash="dot"), annotation_text="90 %")
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=10, b=10), xaxis_title="principal component k",
                      yaxis_title="share of the pixel variance (%)", yaxis_range=[0, 100],
                      legend=dict(orientation="h", y=1.1))
    return fig
