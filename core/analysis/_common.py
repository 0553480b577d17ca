"""Helpers shared by the analysis modules: seeded subsets and mean metrics."""

from __future__ import annotations

import numpy as np

from core.metrics import per_image_psnr, per_image_ssim


def subset_index(n: int, max_items: int | None, seed: int = 0) -> np.ndarray:
    """Sorted indices of a seeded random subset of ``range(n)``; all of them when ``max_items`` is
    None or >= n. Shape (min(n, max_items),)."""
    if max_items is None or max_items >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_items, replace=False))


def mean_quality(originals: np.ndarray, reconstructions: np.ndarray) -> tuple[float, float]:
    """(mean PSNR in dB, mean SSIM) over the images. (N, C, H, W) x2 -> two floats."""
    return (float(per_image_psnr(originals, reconstructions).mean()),
            float(per_image_ssim(originals, reconstructions).mean()))


