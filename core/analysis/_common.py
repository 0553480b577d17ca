"""Helpers shared by the analysis modules: seeded subsets, a batched SSIM and mean metrics."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter

from core.metrics import _ssim_window, per_image_psnr

SSIM_K1, SSIM_K2 = 0.01, 0.03  # scikit-image's defaults


def subset_index(n: int, max_items: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``range(n)``; all of them when ``max_items`` is
    None or >= n. Shape (min(n, max_items),)."""
    if max_items is None or max_items >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_items, replace=False))


def batch_ssim(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """SSIM per image, vectorised over the batch; equal to :func:`core.metrics.per_image_ssim`
    (scikit-image's ``structural_similarity`` with the same uniform window, sample covariance,
    data range 1 and the mean over channels), but one filter pass for all images.

    Parameters
    ----------
    originals, reconstructions : np.ndarray, shape (N, C, H, W), values in [0, 1]

    Returns
    -------
    np.ndarray, shape (N,), float64
    """
    a = np.asarray(originals, np.float64)
    b = np.asarray(reconstructions, np.float64)
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"expected two arrays of the same shape (N, C, H, W); got {a.shape} and {b.shape}")
    n, c, h, w = a.shape
    win = _ssim_window(h, w)
    if win < 3:
        raise ValueError(f"SSIM needs images of at least 3x3 pixels; got {h}x{w}")
    if n == 0:
        return np.zeros(0)
    size = (1, 1, win, win)
    cov_norm = win * win / (win * win - 1.0)  # sample covariance, as scikit-image does by default
    pad = (win - 1) // 2
    inner = (slice(None), slice(None), slice(pad, h - pad), slice(pad, w - pad))  # scikit-image averages
    # away from the border only, where the window never leaves the image

    def local_mean(x):
        return uniform_filter(x, size=size)[inner]

    ux, uy = local_mean(a), local_mean(b)
    vx = cov_norm * (local_mean(a * a) - ux * ux)
    vy = cov_norm * (local_mean(b * b) - uy * uy)
    vxy = cov_norm * (local_mean(a * b) - ux * uy)
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2  # data range 1
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.reshape(n, c, -1).mean(axis=2).mean(axis=1)


def mean_quality(originals: np.ndarray, reconstructions: np.ndarray) -> tuple[float, float]:
    """(mean PSNR in dB, mean SSIM) over the images. (N, C, H, W) x2 -> two floats."""
    return (float(per_image_psnr(originals, reconstructions).mean()),
            float(batch_ssim(originals, reconstructions).mean()))


def method_name(reducer) -> str:
    """The reducer's short name for tables ('PCA', 'conv', 'conv denoising', ...)."""
    return str(getattr(reducer, "method", type(reducer).__name__))
