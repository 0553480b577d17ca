"""How well each reducer cleans corrupted test images: the denoising table and example pictures.

Noise on colour images (C = 3) is drawn per value, i.e. independently in each channel of each pixel, as
:func:`core.noise.corrupt` does in training: gaussian grain is coloured, salt-and-pepper and masking hit a
``level`` share of the values (a hit pixel may turn red or cyan rather than black or white). PSNR and SSIM
compare all 3*H*W values with the clean image (:mod:`core.metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.analysis._common import mean_quality, subset_index

if TYPE_CHECKING:
    from core.datasets import Dataset
    from core.reducers import Reducer

DENOISE_COLUMNS = ["method", "noise", "level", "psnr", "ssim"]


def denoising_table(dataset: Dataset, reducers: dict[str, Reducer], noises, n_images: int | None = 500, seed: int = 0) -> pd.DataFrame:
    """PSNR and SSIM against the clean test images: of the noisy input, and of each reducer's
    reconstruction of the noisy input.

    Parameters
    ----------
    dataset : core.datasets.Dataset
    reducers : dict of str -> fitted Reducer
        E.g. ``{"PCA": pca, "conv": plain, "conv denoising": denoiser}``; the keys name the rows.
    noises : list of core.config.NoiseConfig
        Kinds (gaussian, salt_pepper, masking) and levels.
    n_images : int or None
        A seeded subsample of this many test images (None: all); every row uses the same images
        and, for one noise, the same corruption (``corrupt_array`` with ``seed``).
    seed : int

    Returns
    -------
    pd.DataFrame
        Columns ``method`` ('noisy' or a key of ``reducers``), ``noise`` (kind), ``level``,
        ``psnr`` (mean dB over images), ``ssim`` (mean over images). One 'noisy' row and one row per
        reducer for each noise, in that order.
    """
    from core.noise import corrupt_array

    clean = dataset.test.images[subset_index(len(dataset.test), n_images, seed)]
    rows = []
    for noise in noises:
        noisy = corrupt_array(clean, noise, seed)
        outputs = {"noisy": noisy, **{name: r.reconstruct(noisy) for name, r in reducers.items()}}
        for name, images in outputs.items():
            psnr, ssim = mean_quality(clean, images)
            rows.append({"method": name, "noise": noise.kind, "level": float(noise.level), "psnr": psnr, "ssim": ssim})
    return pd.DataFrame(rows, columns=DENOISE_COLUMNS)


def denoise_examples(images: np.ndarray, reducers: dict[str, Reducer], noise, seed: int = 0) -> dict[str, np.ndarray]:
    """Pictures for the denoising page's columns.

    Parameters
    ----------
    images : np.ndarray, shape (n, C, H, W), clean, in [0, 1]
    reducers : dict of str -> fitted Reducer
    noise : core.config.NoiseConfig
    seed : int
        Seed of the corruption.

    Returns
    -------
    dict of str -> np.ndarray (n, C, H, W)
        ``"clean"``, ``"noisy"`` and one entry per reducer name (its reconstruction of the noisy images).
    """
    from core.noise import corrupt_array

    clean = np.asarray(images, np.float32)
    noisy = corrupt_array(clean, noise, seed)
    return {"clean": clean, "noisy": noisy, **{name: r.reconstruct(noisy) for name, r in reducers.items()}}
