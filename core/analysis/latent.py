"""Latent navigation for the decoder playground: ranges, principal directions, decoding,
interpolation, latent grids and prior samples. PCA and autoencoders take the same code path."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.analysis._common import subset_index
from core.samples import DEFAULT_DIRECTIONS, STATS_IMAGES  # sliders for a wide code; training images encoded

if TYPE_CHECKING:
    from core.models.reducers import Reducer

LOW_PCT, HIGH_PCT = 1.0, 99.0  # the "training range" of a coordinate: its 1st..99th percentile


@dataclass
class LatentStats:
    """Where the training codes live.

    Attributes
    ----------
    mean : np.ndarray, shape (d,)
    low, high : np.ndarray, shape (d,)
        1st and 99th percentile of each code coordinate.
    directions : np.ndarray, shape (k, d)
        Unit principal directions of the training codes, most variance first (sign fixed so
        each direction's largest entry is positive: for PCA codes direction j is exactly axis j).
    direction_low, direction_high : np.ndarray, shape (k,)
        1st and 99th percentile of the centred codes projected on each direction.
    direction_std : np.ndarray, shape (k,)
        Standard deviation of those projections.
    direction_variance_ratio : np.ndarray, shape (k,)
        Share of the codes' total variance along each direction.
    n_codes : int
        How many training codes the statistics come from.
    """

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    directions: np.ndarray
    direction_low: np.ndarray
    direction_high: np.ndarray
    direction_std: np.ndarray
    direction_variance_ratio: np.ndarray | None = None
    n_codes: int = 0

    @property
    def latent_dim(self) -> int:
        return len(self.mean)

    def project(self, code) -> np.ndarray:
        """Coefficients of ``code`` (d,) or (n, d) along the directions: (k,) or (n, k)."""
        code = np.asarray(code, np.float64)
        return (code - self.mean) @ self.directions.T


def latent_stats_from_codes(codes: np.ndarray, n_directions: int | None = None) -> LatentStats:
    """:class:`LatentStats` of codes (n, d) directly."""
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(f"need at least 2 codes of shape (n, d); got shape {codes.shape}")
    n, d = codes.shape
    k = min(d, DEFAULT_DIRECTIONS) if n_directions is None else int(n_directions)
    if not 1 <= k <= min(d, n):
        raise ValueError(f"n_directions must be between 1 and {min(d, n)}; got {n_directions}")
    mean = codes.mean(axis=0)
    centred = codes - mean
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    directions = vt[:k]
    signs = np.sign(directions[np.arange(k), np.abs(directions).argmax(axis=1)])
    directions = directions * signs[:, None]
    variance = singular ** 2
    projections = centred @ directions.T
    return LatentStats(
        mean=mean.astype(np.float32),
        low=np.percentile(codes, LOW_PCT, axis=0).astype(np.float32),
        high=np.percentile(codes, HIGH_PCT, axis=0).astype(np.float32),
        directions=directions.astype(np.float32),
        direction_low=np.percentile(projections, LOW_PCT, axis=0).astype(np.float32),
        direction_high=np.percentile(projections, HIGH_PCT, axis=0).astype(np.float32),
        direction_std=projections.std(axis=0).astype(np.float32),
        direction_variance_ratio=(variance[:k] / max(variance.sum(), 1e-30)).astype(np.float32),
        n_codes=n,
    )


def latent_stats(reducer: Reducer, images: np.ndarray, n_directions: int | None = None,
                 max_images: int | None = STATS_IMAGES, seed: int = 0) -> LatentStats:
    """Ranges and principal directions of a reducer's codes of ``images`` (the training split).

    Parameters
    ----------
    reducer : fitted Reducer
        An autoencoder, or a PCAReducer (its codes are the PCA coefficients, whose principal
        directions are the coordinate axes: "PCA direction k" is "PCA component k").
    images : np.ndarray, shape (N, C, H, W)
    n_directions : int, optional
        Directions to keep (default ``min(d, 8)``): a 30- or 128-number code steered by a few sliders.
    max_images : int or None
        Encode at most this many images (seeded subsample; default 5000).
    seed : int

    Returns
    -------
    LatentStats
    """
    rows = subset_index(len(images), max_images, seed)  # sampled first: a uint8 view converts only these rows
    return latent_stats_from_codes(reducer.encode(images[rows]), n_directions)


def code_along_directions(stats: LatentStats, base_code, coefficients) -> np.ndarray:
    """``base_code + sum_j coefficients[j] * directions[j]``.

    Parameters
    ----------
    stats : LatentStats
    base_code : array, shape (d,)
        E.g. ``stats.mean`` or the code of an image.
    coefficients : array, shape (k',) with k' <= k
        Steps along the first k' directions (in code units; ``stats.direction_low/high`` bound
        the training codes).

    Returns
    -------
    np.ndarray, shape (d,), float32
    """
    base = np.asarray(base_code, np.float32).reshape(-1)
    coefficients = np.asarray(coefficients, np.float32).reshape(-1)
    if len(base) != stats.latent_dim:
        raise ValueError(f"base_code must have {stats.latent_dim} numbers; got {len(base)}")
    if len(coefficients) > len(stats.directions):
        raise ValueError(f"at most {len(stats.directions)} coefficients (one per direction); got {len(coefficients)}")
    return base + coefficients @ stats.directions[:len(coefficients)]


def decode_code(reducer: Reducer, code) -> np.ndarray:
    """Decode one code (d,) or many (n, d) to images (n, C, H, W) in [0, 1]; for PCA this is its
    inverse transform (clipped)."""
    return reducer.decode(np.atleast_2d(np.asarray(code, np.float32)))


def range_excess(stats: LatentStats, code) -> float:
    """How far ``code`` (d,) lies outside the training codes' range, in units of the range.

    The largest amount by which a coordinate leaves its 1st..99th percentile interval (or the
    projection on a principal direction leaves its interval), divided by that interval's width.
    0.0 inside; 0.5 means half a range-width beyond the edge.
    """
    code = np.asarray(code, np.float32).reshape(-1)
    if len(code) != stats.latent_dim:
        raise ValueError(f"code must have {stats.latent_dim} numbers; got {len(code)}")

    def excess(value, low, high):
        width = np.maximum(high - low, 1e-12)
        return np.maximum(np.maximum(low - value, value - high), 0.0) / width

    per_dim = excess(code, stats.low, stats.high)
    per_direction = excess(stats.project(code), stats.direction_low, stats.direction_high)
    return float(max(per_dim.max(initial=0.0), per_direction.max(initial=0.0)))


def outside_range(stats: LatentStats, code, tolerance: float = 0.0) -> bool:
    """True when ``code`` (d,) leaves the training codes' range (see :func:`range_excess`) by more
    than ``tolerance`` range-widths: the page can warn "you are decoding from empty space".

    The range is per coordinate and per principal direction, from the 1st to the 99th percentile,
    so about 2% of real training codes already sit just outside on any one coordinate.
    """
    return range_excess(stats, code) > tolerance


def interpolate_codes(code_a, code_b, steps: int = 8, spherical: bool = False) -> np.ndarray:
    """Codes from ``code_a`` to ``code_b`` (both (d,)), endpoints included: shape (steps, d).

    Linear, or spherical (slerp about the origin, for codes whose prior is N(0, I): the path keeps
    a typical norm instead of cutting through the low-density centre). Slerp falls back to linear
    when the two codes are (anti)parallel or one is zero.
    """
    a = np.asarray(code_a, np.float64).reshape(-1)
    b = np.asarray(code_b, np.float64).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"the two codes differ in size: {a.shape} vs {b.shape}")
    if steps < 2:
        raise ValueError(f"steps must be >= 2 (the two endpoints); got {steps}")
    t = np.linspace(0.0, 1.0, steps)[:, None]
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    if spherical and norms > 1e-12:
        omega = np.arccos(np.clip(a @ b / norms, -1.0, 1.0))
        if 1e-6 < omega < np.pi - 1e-6:
            codes = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)
            codes[0], codes[-1] = a, b
            return codes.astype(np.float32)
    return ((1 - t) * a + t * b).astype(np.float32)


def interpolate(reducer: Reducer, image_a, image_b, steps: int = 8, spherical: bool | None = None) -> np.ndarray:
    """Decoded strip between two images' codes.

    Parameters
    ----------
    reducer : fitted Reducer
    image_a, image_b : np.ndarray, shape (C, H, W)
    steps : int
        Images in the strip, endpoints included.
    spherical : bool, optional
        Slerp instead of a straight line; default True for methods whose codes follow a prior
        (``reducer.capabilities.prior``: the VAE), False otherwise.

    Returns
    -------
    np.ndarray, shape (steps, C, H, W)
        The first and last are the reconstructions of ``image_a`` and ``image_b``.
    """
    if spherical is None:
        spherical = reducer.capabilities.prior
    codes = reducer.encode(np.stack([np.asarray(image_a, np.float32), np.asarray(image_b, np.float32)]))
    return reducer.decode(interpolate_codes(codes[0], codes[1], steps, spherical))


def latent_grid(reducer: Reducer, stats: LatentStats, n: int = 10, dims=(0, 1), base_code=None,
                use_directions: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decoded n x n grid over a 2-D plane of the latent space (the classic manifold picture).

    Parameters
    ----------
    reducer : fitted Reducer
    stats : LatentStats
        Its training range bounds the grid (1st..99th percentile), not a fixed +-3.
    n : int
        Points per side.
    dims : (int, int)
        The two code coordinates that vary (or two direction indices with ``use_directions``).
    base_code : array (d,), optional
        Value of the other coordinates (default ``stats.mean``).
    use_directions : bool
        Move along principal directions ``dims`` of the codes instead of raw coordinates (for codes
        with more than 2 numbers this is the plane that holds most of the data).

    Returns
    -------
    images : np.ndarray, shape (n*n, C, H, W)
        ``images[i*n + j]`` decodes x = ``xs[j]``, y = ``ys[i]``.
    xs : np.ndarray, shape (n,), increasing
    ys : np.ndarray, shape (n,), decreasing, so the tiled grid reads like a plot (top row = high y)
    """
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    d0, d1 = (int(v) for v in dims)
    limit = len(stats.directions) if use_directions else stats.latent_dim
    if d0 == d1 or not (0 <= d0 < limit and 0 <= d1 < limit):
        what = "directions" if use_directions else "code coordinates"
        raise ValueError(f"dims must be two different {what} in 0..{limit - 1}; got {dims}"
                         + ("" if limit >= 2 else ": a 1-number code has no plane"))
    base = stats.mean if base_code is None else np.asarray(base_code, np.float32).reshape(-1)
    if use_directions:
        lows, highs = stats.direction_low, stats.direction_high
    else:
        lows, highs = stats.low, stats.high
    xs = np.linspace(lows[d0], highs[d0], n, dtype=np.float32)
    ys = np.linspace(highs[d1], lows[d1], n, dtype=np.float32)
    gy, gx = np.meshgrid(ys, xs, indexing="ij")  # (n, n): row i is ys[i], column j is xs[j]
    if use_directions:  # the plane through base spanned by the two directions; x, y are projections
        origin = base - stats.project(base)[[d0, d1]] @ stats.directions[[d0, d1]]
        codes = origin[None] + gx.reshape(-1, 1) * stats.directions[d0] + gy.reshape(-1, 1) * stats.directions[d1]
    else:
        codes = np.repeat(base[None].astype(np.float32), n * n, axis=0)
        codes[:, d0], codes[:, d1] = gx.reshape(-1), gy.reshape(-1)
    return reducer.decode(codes.astype(np.float32)), xs, ys


def sample_prior(reducer: Reducer, n: int = 16, seed: int = 0) -> np.ndarray:
    """Decode ``n`` random codes from a VAE's prior N(0, I): images (n, C, H, W).

    Raises
    ------
    TypeError
        For a reducer without a prior (``capabilities.prior`` False: PCA, plain autoencoders).
    """
    return reducer.decode(reducer.sample_prior(n, seed=seed))


RANGE_TOLERANCE = 0.25  # warn beyond a quarter range-width past the 1st..99th percentile: with 30 numbers
# about half of real test codes sit just outside one coordinate's interval, 1-2% this far out


def far_outside_range(stats: LatentStats, code) -> bool:
    """True when ``code`` (d,) is far enough outside the training range that a page should warn
    (more than :data:`RANGE_TOLERANCE` range-widths past the 1st..99th percentile)."""
    return outside_range(stats, code, tolerance=RANGE_TOLERANCE)


def slider_values_to_code(stats: LatentStats, base_code, values, by_dimension: bool) -> np.ndarray:
    """The code a playground's sliders stand for.

    Parameters
    ----------
    stats : LatentStats
    base_code : array, shape (d,)
        The start code.
    values : array, shape (d,) or (k,)
        One value per code coordinate (``by_dimension``), or positions along the first k
        principal directions, measured from the codes' mean (as :meth:`LatentStats.project` gives).
    by_dimension : bool

    Returns
    -------
    np.ndarray, shape (d,), float32
    """
    values = np.asarray(values, np.float32).reshape(-1)
    if by_dimension:
        return values
    base = np.asarray(base_code, np.float32)
    steps = values - stats.project(base)[:len(values)]
    return code_along_directions(stats, base, steps)


def matching_move(stats: LatentStats, pca_stats: LatentStats, base_code, pca_base, code,
                  by_dimension: bool) -> np.ndarray:
    """PCA's code for "the same move" the model's code made from its start.

    Each coordinate (or principal direction) moves by the same share of its training range in
    PCA's code as it did in the model's, starting from PCA's code of the same image.

    Parameters
    ----------
    stats, pca_stats : LatentStats
        Of the model's codes and of PCA's codes (same latent size d).
    base_code, pca_base : array, shape (d,)
        The two start codes.
    code : array, shape (d,)
        Where the model's code is now.
    by_dimension : bool
        Move coordinate by coordinate (short codes) or along principal directions (long codes).

    Returns
    -------
    np.ndarray, shape (d,), float32
    """
    base, pca_base, code = (np.asarray(v, np.float32).reshape(-1) for v in (base_code, pca_base, code))
    if by_dimension:
        span = np.maximum(stats.high - stats.low, 1e-6)
        return (pca_base + (code - base) / span * (pca_stats.high - pca_stats.low)).astype(np.float32)
    k = min(len(stats.directions), len(pca_stats.directions))
    steps = stats.project(code)[:k] - stats.project(base)[:k]
    ratio = pca_stats.direction_std[:k] / np.maximum(stats.direction_std[:k], 1e-6)
    return code_along_directions(pca_stats, pca_base, (steps * ratio).astype(np.float32))


@dataclass(frozen=True)
class SliderSpec:
    """One playground slider: its label, range, start value and help text."""

    label: str
    low: float
    high: float
    value: float
    help: str


def slider_specs(stats: LatentStats, base_code, by_dimension: bool) -> list[SliderSpec]:
    """The sliders that move a code: one per code coordinate (``by_dimension``), else one per principal
    direction of the training codes; each reaches 50 % of the data's range beyond it on both sides (and
    always reaches the start value, which may lie outside).

    Parameters
    ----------
    stats : LatentStats
    base_code : array, shape (d,)
        Where the sliders start.
    by_dimension : bool

    Returns
    -------
    list of SliderSpec
        d specs (``by_dimension``) or one per principal direction.
    """
    base = np.asarray(base_code, np.float32).reshape(-1)
    if by_dimension:
        low, high = np.asarray(stats.low, float), np.asarray(stats.high, float)
        raw = [(f"code {i + 1}", low[i], high[i], float(base[i]), f"data range {low[i]:.2f} .. {high[i]:.2f}")
               for i in range(len(base))]
    else:
        lows, highs = np.asarray(stats.direction_low, float), np.asarray(stats.direction_high, float)
        projection = stats.project(base)
        raw = [(f"direction {k + 1}", lows[k], highs[k], float(projection[k]),
                f"position along principal direction {k + 1} of the training codes, measured from their mean "
                f"(data range {lows[k]:.2f} .. {highs[k]:.2f})") for k in range(len(lows))]
    specs = []
    for label, low, high, value, help_text in raw:
        span = max(high - low, 1e-3)
        specs.append(SliderSpec(label, float(min(low - 0.5 * span, value)), float(max(high + 0.5 * span, value)),
                                value, help_text))
    return specs


@dataclass(frozen=True)
class SliderMaps:
    """The playground's sliders as two affine maps, for a decoder that runs elsewhere (the browser).

    With slider values ``v`` (k,): the model's code is ``origin + v @ directions`` (exactly
    :func:`slider_values_to_code`) and PCA's matching code is ``pca_origin + v @ pca_directions``
    (exactly :func:`matching_move`).

    Attributes
    ----------
    origin : np.ndarray, shape (d,)
    directions : np.ndarray, shape (k, d)
    pca_origin : np.ndarray, shape (d,)
    pca_directions : np.ndarray, shape (k, d)
    """

    origin: np.ndarray
    directions: np.ndarray
    pca_origin: np.ndarray
    pca_directions: np.ndarray


def slider_maps(stats: LatentStats, pca_stats: LatentStats, base_code, pca_base, by_dimension: bool) -> SliderMaps:
    """The affine maps behind :func:`slider_values_to_code` and :func:`matching_move` (see
    :class:`SliderMaps`). Sliders are code coordinates (``by_dimension``) or positions along the first
    k principal directions of the codes, measured from their mean."""
    base = np.asarray(base_code, np.float64).reshape(-1)
    pca_base = np.asarray(pca_base, np.float64).reshape(-1)
    if by_dimension:
        d = len(base)
        scale = (pca_stats.high - pca_stats.low).astype(np.float64) / np.maximum(stats.high - stats.low, 1e-6)
        return SliderMaps(np.zeros(d, np.float32), np.eye(d, dtype=np.float32),
                          (pca_base - base * scale).astype(np.float32), np.diag(scale).astype(np.float32))
    k = min(len(stats.directions), len(pca_stats.directions))
    directions = stats.directions[:k].astype(np.float64)
    base_projection = stats.project(base)[:k]
    ratio = pca_stats.direction_std[:k].astype(np.float64) / np.maximum(stats.direction_std[:k], 1e-6)
    pca_directions = ratio[:, None] * pca_stats.directions[:k].astype(np.float64)
    return SliderMaps((base - base_projection @ directions).astype(np.float32), directions.astype(np.float32),
                      (pca_base - base_projection @ pca_directions).astype(np.float32), pca_directions.astype(np.float32))


def plane_through(stats: LatentStats, code, dims: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """The plane through ``code`` spanned by two principal directions of the codes.

    Returns
    -------
    origin : np.ndarray, shape (d,)
        The point of the plane at coordinates (0, 0); ``code`` sits at ``stats.project(code)[dims]``.
    plane : np.ndarray, shape (2, d)
        The two unit directions: ``origin + u * plane[0] + v * plane[1]``. For a 2-D code with
        ``dims=(0, 1)`` use the identity instead (the code plane itself).
    """
    code = np.asarray(code, np.float64).reshape(-1)
    plane = stats.directions[list(dims)].astype(np.float64)
    return (code - stats.project(code)[list(dims)] @ plane).astype(np.float32), plane.astype(np.float32)
