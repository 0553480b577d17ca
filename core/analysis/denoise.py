"""How well each reducer cleans corrupted test images: the denoising table and example pictures.

Noise on colour images (C = 3) is drawn per value, i.e. independently in each channel of each pixel, as
:func:`core.data.noise.corrupt` does in training: gaussian grain is coloured, salt-and-pepper and masking hit a
``level`` share of the values (a hit pixel may turn red or cyan rather than black or white). PSNR and SSIM
compare all 3*H*W values with the clean image (:mod:`core.metrics`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.analysis._common import mean_quality, subset_index
from core.metrics import PSNR_CAP_DB

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer

DENOISE_COLUMNS = ["method", "noise", "level", "psnr", "ssim"]


def denoising_rows(dataset: Dataset, reducer: Reducer | None, noises, n_images: int | None = 500, seed: int = 0) -> list[dict]:
    """One method's rows of :func:`denoising_table` (without ``method``): one per noise, in order.

    ``reducer`` None gives the noisy input's own rows. Each method's rows are computed on their own
    (the pages keep them per model, :func:`core.store.derived.denoising_rows_of`) and equal that method's
    rows of the whole table: the same seeded images and, for one noise, the same corruption.
    """
    from core.data.noise import corrupt_array

    clean = dataset.test.images[subset_index(len(dataset.test), n_images, seed)]
    rows = []
    for noise in noises:
        noisy = corrupt_array(clean, noise, seed)
        psnr, ssim = mean_quality(clean, noisy if reducer is None else reducer.reconstruct(noisy))
        rows.append({"noise": noise.kind, "level": float(noise.level), "psnr": psnr, "ssim": ssim})
    return rows


def denoising_frame(rows_by_method: dict[str, list[dict]]) -> pd.DataFrame:
    """The table from each method's :func:`denoising_rows` (all for the same noises): for each noise,
    every method's row in the dict's order.

    A mean PSNR at :data:`core.metrics.PSNR_CAP_DB` means every image came back exactly (the noisy
    input at level 0 is the clean image): its PSNR is infinite, and the table says ``inf`` rather
    than the cap, which a chart would draw as a measurement (rows kept on disk hold the cap).
    """
    parts = list(rows_by_method.items())
    count = len(parts[0][1]) if parts else 0
    rows = [{"method": name, **rows[i]} for i in range(count) for name, rows in parts]
    frame = pd.DataFrame(rows, columns=DENOISE_COLUMNS)
    frame.loc[frame["psnr"] >= PSNR_CAP_DB, "psnr"] = np.inf  # the mean reaches the cap only when every image does
    return frame


def denoising_table(dataset: Dataset, reducers: dict[str, Reducer], noises, n_images: int | None = 500, seed: int = 0) -> pd.DataFrame:
    """PSNR and SSIM against the clean test images: of the noisy input, and of each reducer's
    reconstruction of the noisy input.

    Parameters
    ----------
    dataset : core.data.datasets.Dataset
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
        ``psnr`` (mean dB over images; ``inf`` where every image is exact, e.g. the noisy input at
        level 0), ``ssim`` (mean over images). One 'noisy' row and one row per reducer for each
        noise, in that order.
    """
    methods = {"noisy": None, **reducers}
    return denoising_frame({name: denoising_rows(dataset, r, noises, n_images, seed) for name, r in methods.items()})


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
    from core.data.noise import corrupt_array

    clean = np.asarray(images, np.float32)
    noisy = corrupt_array(clean, noise, seed)
    return {"clean": clean, "noisy": noisy, **{name: r.reconstruct(noisy) for name, r in reducers.items()}}
