"""Reconstruction error against latent size: PCA at every size from one fit, autoencoders as points.

The fit is :func:`core.analysis.pixel_pca.fit_pixel_pca` (exact, a chunk of images at a time); a
caller that keeps one (the dashboard keeps it on disk) passes it as ``pca``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.analysis._common import subset_index
from core.analysis.pixel_pca import PixelPCA, fit_pixel_pca
from core.metrics import per_image_mse, per_image_psnr, per_image_ssim, psnr_from_mse
from core.models.methods import METHODS, get_method

if TYPE_CHECKING:
    from core.config import ModelConfig
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer

ERROR_COLUMNS = ["method", "latent_dim", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim"]
DEFAULT_MAX_PCA_DIM = 64
PCA_TITLE = METHODS["pca"].title  # the curve's rows are named as the registry names PCA
# SSIM (scikit-image, one image at a time: the slow metric) is averaged over this fixed subsample; stored
# error rows are not keyed by it (core.store.derived.error_row_of): changing it means bumping core.store.derived.CODE_VERSION
SSIM_IMAGES = 100


def _default_max_dim(dataset: Dataset, max_dim: int | None) -> int:
    pixels = int(np.prod(dataset.image_shape))
    limit = min(pixels, len(dataset.train))
    if max_dim is None:
        return min(DEFAULT_MAX_PCA_DIM, limit)
    if not 1 <= max_dim <= limit:
        raise ValueError(f"max PCA size must be between 1 and {limit} (pixels and training images); got {max_dim}")
    return int(max_dim)


def _fit_pca(dataset: Dataset, n_components: int, pca: PixelPCA | None = None) -> PixelPCA:
    """The pixel PCA of the training images with at least ``n_components`` components: ``pca`` when
    it holds enough, else fitted now (a chunk of images at a time; no torch import needed)."""
    if pca is not None and pca.n_components >= n_components:
        return pca
    return fit_pixel_pca(dataset.train.images, n_components)


def explained_variance(dataset: Dataset, max_dim: int | None = None, pca: PixelPCA | None = None) -> pd.DataFrame:
    """PCA's explained-variance curve on the training split.

    Parameters
    ----------
    dataset : core.data.datasets.Dataset
    max_dim : int, optional
        Largest number of components (default ``min(64, pixels, training images)``).
    pca : PixelPCA, optional
        An already fitted pixel PCA of the training split (used when it holds ``max_dim`` components).

    Returns
    -------
    pd.DataFrame, one row per component (``max_dim`` rows)
        ``latent_dim`` (1..max_dim), ``explained_variance_ratio`` (share of the total pixel
        variance that component explains) and ``cumulative`` (share explained by the first
        ``latent_dim`` components).
    """
    k = _default_max_dim(dataset, max_dim)
    ratio = _fit_pca(dataset, k, pca).explained_variance_ratio[:k]
    return pd.DataFrame({"latent_dim": np.arange(1, k + 1), "explained_variance_ratio": ratio,
                         "cumulative": np.cumsum(ratio)})


def pca_error_curve(dataset: Dataset, max_dim: int | None = None, ssim_images: int | None = SSIM_IMAGES,
                    seed: int = 0, pca: PixelPCA | None = None) -> pd.DataFrame:
    """Held-out error of PCA at every latent size 1..max_dim from a single fit.

    The first k components of one ``max_dim``-component PCA are exactly the k-component PCA, so
    the reconstruction at size k is built up one rank-one term at a time (clipped to [0, 1] as
    :class:`core.models.reducers.PCAReducer` does). See :func:`error_vs_latent` for the columns; ``pca``
    is an already fitted pixel PCA of the training split (used when it holds ``max_dim`` components).
    """
    k_max = _default_max_dim(dataset, max_dim)
    pca = _fit_pca(dataset, k_max, pca)
    test = np.asarray(dataset.test.images, np.float32)  # (N, C, H, W)
    x = test.reshape(len(test), -1)
    components = pca.components[:k_max]  # (k_max, P)
    codes = (x - pca.mean) @ components.T  # (N, k_max)
    ssim_rows = subset_index(len(x), ssim_images, seed)
    recon = np.broadcast_to(pca.mean, x.shape).copy()  # size 0: the mean image
    term, clipped = np.empty_like(recon), np.empty_like(recon)
    pixels = x.shape[1]
    rows = []
    for k in range(k_max):
        np.multiply(codes[:, k, None], components[k], out=term)
        recon += term
        np.clip(recon, 0.0, 1.0, out=clipped)
        clipped -= x
        mse = np.einsum("ij,ij->i", clipped, clipped) / pixels  # per image
        psnr = psnr_from_mse(mse)
        sub = np.clip(recon[ssim_rows], 0.0, 1.0).reshape(len(ssim_rows), *test.shape[1:])
        rows.append({"method": PCA_TITLE, "latent_dim": k + 1, "test_mse": float(mse.mean()),
                     "test_sse_per_image": float(mse.mean() * pixels), "test_psnr": float(psnr.mean()),
                     "test_ssim": float(per_image_ssim(test[ssim_rows], sub).mean())})
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)


def per_image_errors(reducer: Reducer, images: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Each image's reconstruction error: the mean squared error over its C*H*W values.

    Parameters
    ----------
    reducer : fitted Reducer
    images : np.ndarray, shape (N, C, H, W)
    chunk : int
        Images reconstructed at a time (bounds the memory of large test sets).

    Returns
    -------
    np.ndarray, shape (N,), float32
    """
    errors = [per_image_mse(images[i:i + chunk], reducer.reconstruct(images[i:i + chunk]))
              for i in range(0, len(images), chunk)]
    return np.concatenate(errors).astype(np.float32) if errors else np.zeros(0, np.float32)


def reducer_error_row(reducer: Reducer, dataset: Dataset, ssim_images: int | None = SSIM_IMAGES, seed: int = 0,
                      reconstructions: np.ndarray | None = None) -> dict:
    """One fitted reducer's held-out error as a row of :func:`error_vs_latent`; ``reconstructions``
    (N_test, C, H, W): the reducer's reconstructions of the test split when already made."""
    test = dataset.test.images
    recon = reducer.reconstruct(test) if reconstructions is None else reconstructions
    mse = per_image_mse(test, recon)
    ssim_rows = subset_index(len(test), ssim_images, seed)
    return {"method": reducer.method, "latent_dim": int(reducer.latent_dim_), "test_mse": float(mse.mean()),
            "test_sse_per_image": float(mse.mean() * np.prod(test.shape[1:])),
            "test_psnr": float(per_image_psnr(test, recon).mean()),
            "test_ssim": float(per_image_ssim(test[ssim_rows], recon[ssim_rows]).mean())}


def error_vs_latent(dataset: Dataset, reducers: Iterable[Reducer] = (), max_pca_dim: int | None = None,
                    ssim_images: int | None = SSIM_IMAGES, seed: int = 0, pca: PixelPCA | None = None) -> pd.DataFrame:
    """Reconstruction error on the test split against latent size.

    PCA appears at every size 1..``max_pca_dim`` from a single fit on the training split (the
    first k components of a larger PCA are the k-component PCA); each given reducer adds one point.

    Parameters
    ----------
    dataset : core.data.datasets.Dataset
        Test images of shape (N, C, H, W).
    reducers : iterable of fitted Reducer
        Autoencoders (or anything with the Reducer contract) to place on the curve.
    max_pca_dim : int, optional
        Largest PCA size (default ``min(64, pixels, training images)``).
    ssim_images : int or None
        SSIM is the slow metric (64 PCA sizes x thousands of images), so it is averaged over a fixed
        seeded subsample of this many test images (default SSIM_IMAGES = 100; None: all). The same subsample is
        used for every row, so the rows compare fairly. MSE and PSNR always use the whole test split.
    seed : int
        Seed of the SSIM subsample.
    pca : PixelPCA, optional
        An already fitted pixel PCA of the training split (:func:`core.analysis.pixel_pca.fit_pixel_pca`).

    Returns
    -------
    pd.DataFrame
        Columns ``method`` ('PCA' or the reducer's method), ``latent_dim``, ``test_mse`` (per
        pixel), ``test_sse_per_image``, ``test_psnr`` (mean dB over images), ``test_ssim``.
        PCA reconstructions are clipped to [0, 1], as :class:`core.models.reducers.PCAReducer` does.
    """
    frame = pca_error_curve(dataset, max_pca_dim, ssim_images, seed, pca)
    extra = [reducer_error_row(r, dataset, ssim_images, seed) for r in reducers]
    if extra:
        frame = pd.concat([frame, pd.DataFrame(extra, columns=ERROR_COLUMNS)], ignore_index=True)
    return frame


def pca_sizes_to_show(image_shape: tuple[int, int, int], n_train: int, model_dims: Iterable[int]) -> int:
    """How far the PCA curve of a comparison runs: at least 32 (or twice the largest model's size),
    at most 64, and below the pixel count (the last sizes of tiny images rebuild them exactly)."""
    pixels = int(np.prod(image_shape))
    return int(min(DEFAULT_MAX_PCA_DIM, pixels - 1, n_train, max(32, 2 * max(model_dims, default=1))))


def decoder_size(model: ModelConfig, image_shape: tuple[int, int, int]) -> int:
    """How many numbers a method's decoder holds: the same d is the same code, not the same decoder.

    PCA (no network) keeps d patterns of C*H*W values and the mean image: ``d*C*H*W + C*H*W``
    (192 for PCA-2 on 8x8 digits); an autoencoder, the parameters its decode uses
    (:func:`core.models.summary.decoder_parameter_count`; tens of thousands for conv d=2).
    """
    values = int(np.prod(image_shape))
    if get_method(model.family).network is None:
        return int(model.latent_dim) * values + values
    from core.models import build_model
    from core.models.summary import decoder_parameter_count

    return decoder_parameter_count(build_model(model, image_shape))


def versus_pca(table: pd.DataFrame) -> pd.DataFrame:
    """Each non-PCA row of an :func:`error_vs_latent` table beside PCA's error at the same size.

    Adds ``psnr_of_mean_mse`` (``10 log10(1 / test_mse)``, the PSNR of the mean error: lower than
    ``test_psnr``, the mean of per-image PSNRs, because a log of a mean is not the mean of the logs),
    ``pca_test_mse``, ``mse_vs_pca`` (the model's MSE / PCA's: below 1 the model beats PCA) and, when
    the table has ``decoder_params`` (:func:`decoder_size`), ``pca_decoder_params``; sorted by latent
    size, then error.
    """
    is_pca = table["method"] == PCA_TITLE
    models, pca = table[~is_pca], table[is_pca]
    keep = {"test_mse": "pca_test_mse"} | ({"decoder_params": "pca_decoder_params"} if "decoder_params" in table else {})
    out = models.merge(pca[["latent_dim", *keep]].rename(columns=keep), on="latent_dim", how="left")
    out.insert(out.columns.get_loc("test_psnr"), "psnr_of_mean_mse", psnr_from_mse(out["test_mse"].to_numpy()))
    out["mse_vs_pca"] = out["test_mse"] / out["pca_test_mse"]
    return out.sort_values(["latent_dim", "test_mse"], ignore_index=True)
