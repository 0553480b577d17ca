"""Reconstruction metrics on held-out images.

SSIM comes from scikit-image (``structural_similarity``); PSNR is ``10 log10(1 / MSE)`` per image
for data in [0, 1] (the same formula as ``skimage.metrics.peak_signal_noise_ratio``, vectorised;
a test holds the two equal).

Colour: every number of an image counts alike, so for (C, H, W) images the mean squared error is taken
**per value** (over all C*H*W numbers: each channel of each pixel), the squared error per image is summed
over all C*H*W values, PSNR follows from that per-value MSE, and SSIM is the mean of the per-channel SSIMs
(scikit-image's ``channel_axis``). For one channel a value is a pixel, so grey numbers are unchanged.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

PSNR_CAP_DB = 100.0  # a perfect reconstruction has infinite PSNR; report this instead


def per_image_mse(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Mean squared error per image, over all C*H*W values. (N, C, H, W) x2 -> (N,)."""
    diff = np.asarray(originals, np.float32) - np.asarray(reconstructions, np.float32)
    return np.square(diff).reshape(len(diff), -1).mean(axis=1)


def psnr_from_mse(mse: np.ndarray) -> np.ndarray:
    """PSNR in dB for data range 1 from per-image MSE, capped at :data:`PSNR_CAP_DB`. (N,) -> (N,)."""
    return np.minimum(10.0 * np.log10(1.0 / np.maximum(mse, 1e-12)), PSNR_CAP_DB)


def per_image_psnr(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """PSNR in dB per image for data range 1, from the per-value MSE. (N, C, H, W) x2 -> (N,)."""
    return psnr_from_mse(per_image_mse(originals, reconstructions))


def _ssim_window(height: int, width: int) -> int:
    side = min(7, height, width)
    return side if side % 2 == 1 else side - 1


def per_image_ssim(originals: np.ndarray, reconstructions: np.ndarray) -> np.ndarray:
    """Structural similarity per image (scikit-image, gaussian-free 7x7 window or smaller for
    tiny images); for C > 1 the mean of the channels' SSIMs. (N, C, H, W) x2 -> (N,)."""
    originals = np.asarray(originals, np.float32)
    reconstructions = np.asarray(reconstructions, np.float32)
    _, c, h, w = originals.shape
    win = _ssim_window(h, w)
    if win < 3:
        raise ValueError(f"SSIM needs images of at least 3x3 pixels; got {h}x{w}")
    out = np.empty(len(originals), np.float64)
    for i, (a, b) in enumerate(zip(originals, reconstructions)):
        out[i] = structural_similarity(a, b, data_range=1.0, win_size=win, channel_axis=0)
    return out


def reconstruction_metrics(originals: np.ndarray, reconstructions: np.ndarray) -> dict[str, float]:
    """Test-set summary: ``test_mse`` (per value: mean over images and all C*H*W numbers),
    ``test_sse_per_image`` (squared error summed over all C*H*W values of an image, mean over images),
    ``test_psnr`` (mean dB over images), ``test_ssim`` (mean over images).

    Parameters
    ----------
    originals, reconstructions : np.ndarray, shape (N, C, H, W), values in [0, 1]
    """
    mse = per_image_mse(originals, reconstructions)
    values = int(np.prod(np.shape(originals)[1:]))  # C*H*W: three per pixel in colour
    return {
        "test_mse": float(mse.mean()),
        "test_sse_per_image": float(mse.mean() * values),
        "test_psnr": float(per_image_psnr(originals, reconstructions).mean()),
        "test_ssim": float(per_image_ssim(originals, reconstructions).mean()),
    }


def mean_image_mse(train_images: np.ndarray, test_images: np.ndarray) -> float:
    """Per-value MSE (over all C*H*W numbers) on the test images of the simplest "model": always draw the mean training image.

    A trained model that does no better has collapsed (e.g. a too-large learning rate pushed it to one
    constant output). Shapes (N, C, H, W) and (M, C, H, W).
    """
    # by chunks: 60k MNIST images as one float64 array would be 376 MB for a single mean image
    chunks = range(0, len(train_images), 4096)
    mean = sum(np.asarray(train_images[i:i + 4096], np.float64).sum(axis=0) for i in chunks) / len(train_images)
    return float(((np.asarray(test_images, np.float64) - mean[None]) ** 2).mean())
