"""Exploring a code space: nearest neighbours, class means and attribute walks, latent arithmetic,
traversal grids, and what the basis looks like (PCA's eigen-images beside a decoder's unit moves).

Every function takes any fitted reducer (PCA or an autoencoder: :mod:`core.models.reducers`) and returns
plain arrays, small dataclasses or a pandas DataFrame; the dashboard's Explore page only draws them.

Colour images (C = 3) go through unchanged: pixel distances use all 3*H*W values, and signed pictures
(eigen-images, a decoder's unit moves) are mapped to colour by :func:`centred_on_grey` with one scale for
all three channels, so grey is no change and a hue says which channels rise (red: more red, cyan: less red).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.analysis._common import subset_index
from core.samples import CLASS_MEAN_IMAGES  # training images class_means encodes at most

if TYPE_CHECKING:
    from core.analysis.latent import LatentStats
    from core.data.datasets import Dataset
    from core.models.reducers import PCAReducer, Reducer

#: the three spaces :func:`nearest_neighbours` searches, in the order a page shows them
SPACES = ("code", "pixels", "pca")
MAX_TRAVERSAL_DIMS = 8  # codes up to this long: one traversal row per number; longer: principal directions


def principal_components(reducer: Reducer) -> bool:
    """Whether the reducer's code numbers are positions along fixed principal components (PCA's are).

    Parameters
    ----------
    reducer : fitted Reducer

    Returns
    -------
    bool
        True when it has ``components_`` (as :func:`eigen_images` needs): its numbers are then named
        PC1, PC2... as students meet them everywhere else, not 'code 1'.
    """
    return getattr(reducer, "components_", None) is not None


def coordinate_names(reducer: Reducer, n: int) -> list[str]:
    """How the first ``n`` numbers of the reducer's code are named on a page: ``'PC1'``... for PCA,
    ``'code 1'``... for every other method."""
    return [f"PC{i + 1}" if principal_components(reducer) else f"code {i + 1}" for i in range(n)]


# --- 1. nearest neighbours ---------------------------------------------------------------------------
def baseline_for(reducer: Reducer, dataset: Dataset) -> Reducer:
    """The baseline (PCA) with the same latent size as ``reducer``, fitted on ``dataset``'s training split."""
    from core.models.methods import BASELINE, build_reducer, default_model_config

    return build_reducer(default_model_config(BASELINE, reducer.latent_dim_)).fit(dataset.train.images)


def neighbours_of(points: np.ndarray, index: int, k: int, include_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` points nearest (Euclidean) to ``points[index]``.

    Parameters
    ----------
    points : np.ndarray, shape (N, D)
    index : int
        The query row.
    k : int
        How many neighbours (at most N, or N - 1 without the query).
    include_self : bool
        Keep the query itself (always first, at distance 0); by default it is left out.

    Returns
    -------
    rows : np.ndarray, shape (k,), int
        Row numbers, nearest first (ties in row order).
    distances : np.ndarray, shape (k,), float64
    """
    points = np.asarray(points, np.float64)
    if points.ndim != 2:
        raise ValueError(f"points must have shape (N, D); got {points.shape}")
    n = len(points)
    if not 0 <= index < n:
        raise IndexError(f"index {index} is outside 0..{n - 1}")
    available = n if include_self else n - 1
    if not 1 <= k <= available:
        raise ValueError(f"k must be between 1 and {available}; got {k}")
    distances = np.sqrt(np.maximum(((points - points[index]) ** 2).sum(axis=1), 0.0))
    distances[index] = -1.0 if include_self else np.inf  # the query sorts first, or last
    rows = np.argsort(distances, kind="stable")[:k]
    distances[index] = 0.0
    return rows, distances[rows]


def nearest_neighbours(reducer: Reducer, dataset: Dataset, index: int, k: int = 8, pca: Reducer | None = None,
                       codes: np.ndarray | None = None, pca_codes: np.ndarray | None = None,
                       include_self: bool = False) -> pd.DataFrame:
    """The ``k`` test images nearest to test image ``index``, in three spaces.

    Distances are Euclidean: between the reducer's codes (``'code'``), between raw pixels
    (``'pixels'``, all C*H*W values) and between PCA's codes at the same latent size (``'pca'``).

    Parameters
    ----------
    reducer : fitted Reducer
        Any method, PCA included.
    dataset : Dataset
        Its test split is searched.
    index : int
        The query test image.
    k : int
        Neighbours per space.
    pca : fitted Reducer, optional
        PCA with ``reducer``'s latent size (default: fitted here on the training split).
    codes, pca_codes : np.ndarray, shape (N_test, d), optional
        The test split's codes, when the caller has them already (a cache).
    include_self : bool
        Keep the query as rank 0 at distance 0 in every space; by default it is left out, so rank 1
        is the nearest *other* image.

    Returns
    -------
    pd.DataFrame
        ``3 * k`` rows (``3 * (k + 1)`` with ``include_self``), columns ``space`` (one of
        :data:`SPACES`), ``space_title``, ``rank`` (1 = nearest; 0 = the query), ``index`` (test
        image), ``label`` (int), ``class_name``, ``distance`` (float).
    """
    images = dataset.test.images
    values = int(np.prod(dataset.test.shape))  # C*H*W numbers per image: three per pixel in colour
    if not 0 <= index < len(images):
        raise IndexError(f"test image {index} does not exist: the test split has {len(images)} images")
    if codes is None:
        codes = reducer.encode(images)
    if pca_codes is None:
        pca_codes = (pca if pca is not None else baseline_for(reducer, dataset)).encode(images)
    spaces = {
        "code": (f"{reducer.label} code", codes),
        "pixels": (f"pixels ({values} numbers)", np.asarray(images, np.float32).reshape(len(images), -1)),
        "pca": (f"PCA (d={np.shape(pca_codes)[1]}) code", pca_codes),
    }
    frames = []
    for space, (title, points) in spaces.items():
        rows, distances = neighbours_of(points, index, k + int(include_self), include_self)
        labels = dataset.test.labels[rows]
        frames.append(pd.DataFrame({
            "space": space, "space_title": title, "rank": np.arange(len(rows)) + (0 if include_self else 1),
            "index": rows.astype(int), "label": labels.astype(int),
            "class_name": [_class_name(dataset, label) for label in labels], "distance": distances,
        }))
    return pd.concat(frames, ignore_index=True)


def _class_name(dataset: Dataset, label: int) -> str:
    return str(dataset.class_names[label]) if 0 <= label < len(dataset.class_names) else str(label)


# --- 2. attribute vectors and latent arithmetic --------------------------------------------------------
def class_means(reducer: Reducer, dataset: Dataset, max_images: int | None = CLASS_MEAN_IMAGES, seed: int = 0) -> np.ndarray:
    """The mean code of each class over the training split.

    Parameters
    ----------
    reducer : fitted Reducer
    dataset : Dataset
    max_images : int or None
        Encode at most this many training images (seeded subsample; None: all of them).
    seed : int

    Returns
    -------
    np.ndarray, shape (n_classes, d), float32
        Row c is the mean code of class c (``dataset.class_names[c]``); NaN for a class with no
        image in the (sub)sample.
    """
    rows = subset_index(len(dataset.train), max_images, seed)
    codes = reducer.encode(dataset.train.images[rows]).astype(np.float64)
    labels = dataset.train.labels[rows]
    n_classes = max(len(dataset.class_names), int(labels.max(initial=-1)) + 1)
    means = np.full((n_classes, codes.shape[1]), np.nan)
    for c in range(n_classes):
        mask = labels == c
        if mask.any():
            means[c] = codes[mask].mean(axis=0)
    return means.astype(np.float32)


@dataclass
class Walk:
    """Codes along a straight path and what the decoder draws there.

    Attributes
    ----------
    t : np.ndarray, shape (steps,)
        How far along the path (0 = the start code, 1 = the full move).
    codes : np.ndarray, shape (steps, d)
    images : np.ndarray, shape (steps, C, H, W)
    """

    t: np.ndarray
    codes: np.ndarray
    images: np.ndarray


def attribute_walk(reducer: Reducer, code, from_class_mean, to_class_mean, steps: int = 7, amount: float = 1.0) -> Walk:
    """Move a code along the attribute vector "class A -> class B" and decode each step.

    ``codes[i] = code + t[i] * (to_class_mean - from_class_mean)`` with ``t`` from 0 to ``amount``:
    the same arrow is added to every image's code, so at ``t = 1`` the code sits as far from B's mean
    as it sat from A's. Only where class B's codes are a shifted copy of class A's does the end look
    like this image drawn as a B; in a curved code space it may not look like a B at all (the page
    says so, and shows B's decoded mean to compare with). The move is the same whatever the start's
    own class. For PCA's matching move, call it with PCA, PCA's code of the same image and PCA's
    class means.

    Parameters
    ----------
    reducer : fitted Reducer
    code : array, shape (d,)
        The start, e.g. a test image's code.
    from_class_mean, to_class_mean : array, shape (d,)
        Rows of :func:`class_means`.
    steps : int
        Images along the path, both ends included (>= 2).
    amount : float
        How far to go: 1 moves by the whole difference of the two means; more overshoots.

    Returns
    -------
    Walk
        ``codes[0]`` is ``code`` and ``codes[-1]`` is ``code + amount * (to - from)``.
    """
    start = np.asarray(code, np.float64).reshape(-1)
    move = np.asarray(to_class_mean, np.float64).reshape(-1) - np.asarray(from_class_mean, np.float64).reshape(-1)
    if move.shape != start.shape:
        raise ValueError(f"the code has {start.size} numbers but the class means have {move.size}")
    if not np.all(np.isfinite(move)):
        raise ValueError("a class mean is not finite (no training image of that class?)")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (the two ends); got {steps}")
    t = np.linspace(0.0, float(amount), steps)
    codes = (start + t[:, None] * move).astype(np.float32)
    return Walk(t=t, codes=codes, images=reducer.decode(codes))


@dataclass
class Analogy:
    """Latent arithmetic ``a - b + c``.

    Attributes
    ----------
    codes : np.ndarray, shape (4, d)
        The codes of a, b and c, then ``a - b + c``.
    images : np.ndarray, shape (4, C, H, W)
        Each decoded: the reconstructions of a, b and c, then the answer.
    """

    codes: np.ndarray
    images: np.ndarray


def analogy(reducer: Reducer, images: np.ndarray) -> Analogy:
    """Encode three images a, b, c and decode ``a - b + c`` ("a is to b as the answer is to c").

    Parameters
    ----------
    reducer : fitted Reducer
    images : np.ndarray, shape (3, C, H, W)
        a, b and c.

    Returns
    -------
    Analogy
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or len(images) != 3:
        raise ValueError(f"give three images a, b, c as an array of shape (3, C, H, W); got {images.shape}")
    a, b, c = reducer.encode(images).astype(np.float64)
    codes = np.stack([a, b, c, a - b + c]).astype(np.float32)
    return Analogy(codes=codes, images=reducer.decode(codes))


# --- 3. traversal grid -----------------------------------------------------------------------------------
@dataclass
class Traversal:
    """A traversal grid: each row moves one number of the code (or one principal direction of the
    codes) across the training data's range, all else kept at the centre code.

    Attributes
    ----------
    images : np.ndarray, shape (rows * cols, C, H, W)
        Row-major: row r, column j is ``images[r * cols + j]``.
    codes : np.ndarray, shape (rows * cols, d)
    row_labels : list of str
        E.g. ``'code 2'`` (``'PC2'`` for PCA) or ``'direction 1 (41% of the variance)'``.
    values : np.ndarray, shape (rows, cols)
        The moved coordinate in each cell: the code number itself, or the position along the
        direction measured from the codes' mean (as :meth:`LatentStats.project` gives).
    by_dimension : bool
        Rows are code numbers (True) or principal directions (False).
    centre : int
        The column that decodes the centre code itself (``cols // 2``).
    """

    images: np.ndarray
    codes: np.ndarray
    row_labels: list[str]
    values: np.ndarray
    by_dimension: bool
    centre: int

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols)."""
        return self.values.shape


def _centred_values(low: float, centre: float, high: float, cols: int) -> np.ndarray:
    """``cols`` (odd) values from min(low, centre) to max(high, centre) with ``centre`` exactly in the middle."""
    half = cols // 2
    left = np.linspace(min(low, centre), centre, half + 1)
    right = np.linspace(centre, max(high, centre), half + 1)
    return np.concatenate([left, right[1:]])


def traversal_grid(reducer: Reducer, stats: LatentStats, code, cols: int = 9, max_rows: int = MAX_TRAVERSAL_DIMS,
                   by_dimension: bool | None = None) -> Traversal:
    """Decode a traversal grid centred on ``code`` (the standard figure of the beta-VAE papers).

    Row r varies code number r from its training range's low to its high (1st..99th percentile,
    ``stats.low/high``), or, with principal directions, the position along direction r from
    ``stats.direction_low`` to ``direction_high``; every other number stays at ``code``. Each row's
    values run low -> ``code``'s own value (the middle column) -> high, so the middle column is the
    centre code in every row.

    Parameters
    ----------
    reducer : fitted Reducer
    stats : LatentStats
        Of the reducer's training codes (:func:`core.analysis.latent_stats`).
    code : array, shape (d,)
        The centre, e.g. a test image's code.
    cols : int
        Values per row; odd, >= 3.
    max_rows : int
        At most this many rows (the first code numbers, or the directions with most variance).
    by_dimension : bool, optional
        Rows are code numbers (default when d <= :data:`MAX_TRAVERSAL_DIMS`) or principal directions.

    Returns
    -------
    Traversal
    """
    centre = np.asarray(code, np.float64).reshape(-1)
    d = stats.latent_dim
    if centre.size != d:
        raise ValueError(f"code must have {d} numbers; got {centre.size}")
    if cols < 3 or cols % 2 == 0:
        raise ValueError(f"cols must be odd and >= 3 (the centre code sits in the middle column); got {cols}")
    if max_rows < 1:
        raise ValueError(f"max_rows must be >= 1; got {max_rows}")
    if by_dimension is None:
        by_dimension = d <= MAX_TRAVERSAL_DIMS
    codes, values, labels = [], [], []
    if by_dimension:
        names = coordinate_names(reducer, d)  # PCA's rows are PC1, PC2...
        for r in range(min(d, max_rows)):
            row = _centred_values(float(stats.low[r]), centre[r], float(stats.high[r]), cols)
            grid = np.repeat(centre[None], cols, axis=0)
            grid[:, r] = row
            codes.append(grid), values.append(row), labels.append(names[r])
    else:
        position = stats.project(centre)
        ratios = stats.direction_variance_ratio
        for r in range(min(len(stats.directions), max_rows)):
            row = _centred_values(float(stats.direction_low[r]), float(position[r]), float(stats.direction_high[r]), cols)
            steps = row - position[r]
            codes.append(centre + steps[:, None] * stats.directions[r].astype(np.float64))
            values.append(row)
            share = f" ({ratios[r]:.0%} of the variance)" if ratios is not None else ""
            labels.append(f"direction {r + 1}{share}")
    codes = np.concatenate(codes).astype(np.float32)
    codes[cols // 2::cols] = centre  # the middle column is the centre code exactly, whatever the rounding
    return Traversal(images=reducer.decode(codes), codes=codes, row_labels=labels,
                     values=np.asarray(values, np.float32), by_dimension=by_dimension, centre=cols // 2)


# --- 4. what the basis looks like --------------------------------------------------------------------
def eigen_images(pca: PCAReducer) -> tuple[np.ndarray, np.ndarray]:
    """PCA's components as images ("eigen-digits").

    Parameters
    ----------
    pca : fitted PCAReducer
        Anything with ``components_`` (d, C*H*W), ``explained_variance_ratio_`` (d,) and
        ``image_shape_`` (C, H, W).

    Returns
    -------
    images : np.ndarray, shape (d, C, H, W)
        ``components_`` reshaped, unchanged: signed values (unit-length vectors over all C*H*W values),
        to be shown with :func:`centred_on_grey`. For RGB data each component is one colour pattern
        (channel c of component i is ``images[i, c]``), not three grey ones.
    explained_variance_ratio : np.ndarray, shape (d,)
        The share of the training images' pixel variance each one explains.
    """
    components = getattr(pca, "components_", None)
    if components is None:
        raise TypeError(f"{getattr(pca, 'method', type(pca).__name__)} has no linear components: eigen-images are PCA's")
    return (np.asarray(components).reshape(len(components), *pca.image_shape_),
            np.asarray(pca.explained_variance_ratio_, np.float32))


@dataclass
class UnitMoves:
    """What a decoder draws for a move along each code axis (or direction) from a base code.

    Attributes
    ----------
    deltas : np.ndarray, shape (k, C, H, W)
        ``decode(base + step * axis_i) - decode(base)``: signed pixel changes.
    base_image : np.ndarray, shape (C, H, W)
        ``decode(base)``.
    labels : list of str
        ``'code 1'`` ... (``'PC1'`` ... for PCA) or ``'direction 1'`` ...
    step : float
    strength : np.ndarray, shape (k,)
        The largest absolute pixel change of each move (how much the image changes at all).
    """

    deltas: np.ndarray
    base_image: np.ndarray
    labels: list[str]
    step: float
    strength: np.ndarray


def unit_moves(reducer: Reducer, base_code, step: float = 1.0, directions: np.ndarray | None = None,
               max_moves: int | None = None) -> UnitMoves:
    """The decoder's answer to a move of ``step`` along each code axis from ``base_code``.

    For PCA with ``step=1`` from a code whose decoded image is not clipped, each delta is exactly
    its component (eigen-image): PCA adds one fixed pattern per number. An autoencoder's answer
    depends on where it starts.

    Parameters
    ----------
    reducer : fitted Reducer
    base_code : array, shape (d,)
        Usually the mean training code (``LatentStats.mean``).
    step : float
        The size of the move, in code units.
    directions : np.ndarray, shape (k, d), optional
        Move along these (e.g. the codes' principal directions, ``LatentStats.directions``, for a
        long code) instead of the d code axes.
    max_moves : int, optional
        At most this many moves (the first axes / directions).

    Returns
    -------
    UnitMoves
    """
    base = np.asarray(base_code, np.float64).reshape(-1)
    d = base.size
    if directions is None:
        axes, names = np.eye(d), coordinate_names(reducer, d)
    else:
        axes = np.atleast_2d(np.asarray(directions, np.float64))
        names = [f"direction {i + 1}" for i in range(len(axes))]
        if axes.shape[1] != d:
            raise ValueError(f"directions must have {d} columns; got shape {axes.shape}")
    if max_moves is not None:
        axes = axes[:max_moves]
    codes = np.concatenate([base[None], base + step * axes]).astype(np.float32)
    decoded = reducer.decode(codes).astype(np.float64)
    deltas = (decoded[1:] - decoded[0]).astype(np.float32)
    strength = np.abs(deltas.reshape(len(deltas), -1)).max(axis=1, initial=0.0)
    return UnitMoves(deltas=deltas, base_image=decoded[0].astype(np.float32),
                     labels=names[:len(axes)], step=float(step), strength=strength)


def centred_on_grey(deltas: np.ndarray, per_image: bool = True) -> np.ndarray:
    """Signed images mapped to [0, 1] symmetrically around grey: 0 -> 0.5, +max -> 1, -max -> 0.

    The scale is shared by all channels of an image (never one per channel), so an RGB pattern keeps its
    hue: a change only in red shows as red (or cyan where it is negative) on grey.

    Parameters
    ----------
    deltas : np.ndarray, shape (N, C, H, W)
    per_image : bool
        Scale each image by its own largest absolute value (patterns of very different strength all
        visible), or all by the largest one (strengths comparable).

    Returns
    -------
    np.ndarray, shape (N, C, H, W), float32 in [0, 1]
        An all-zero image becomes plain grey.
    """
    deltas = np.asarray(deltas, np.float64)  # (N, C, H, W): one scale per image, over all its channels
    if deltas.ndim != 4:
        raise ValueError(f"deltas must have shape (N, C, H, W); got {deltas.shape}")
    flat = np.abs(deltas.reshape(len(deltas), -1))
    scale = flat.max(axis=1, initial=0.0) if per_image else np.full(len(deltas), flat.max(initial=0.0))
    scale = np.where(scale > 0, scale, 1.0)[:, None, None, None]
    return np.clip(0.5 + 0.5 * deltas / scale, 0.0, 1.0).astype(np.float32)
