"""Input corruption for denoising autoencoders and the denoising comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.config import NoiseConfig

if TYPE_CHECKING:
    import torch


def corrupt(images: torch.Tensor, noise: NoiseConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Corrupt a batch of images; the result stays in [0, 1].

    Parameters
    ----------
    images : torch.Tensor, shape (N, C, H, W), values in [0, 1]
    noise : NoiseConfig
        ``gaussian``: add N(0, level^2) and clip; ``salt_pepper``: set a fraction ``level`` of
        pixels to 0 or 1 at random; ``masking``: set a fraction ``level`` of pixels to 0.
    generator : torch.Generator, optional
        For reproducible noise.

    Returns
    -------
    torch.Tensor, same shape as ``images``
    """
    import torch

    if noise.kind == "gaussian":
        sample = torch.randn(images.shape, generator=generator, dtype=images.dtype, device=images.device)
        return (images + noise.level * sample).clamp_(0.0, 1.0)
    hit = torch.rand(images.shape, generator=generator, device=images.device) < noise.level
    if noise.kind == "masking":
        return images.masked_fill(hit, 0.0)
    salt = torch.rand(images.shape, generator=generator, device=images.device) < 0.5
    return torch.where(hit, salt.to(images.dtype), images)


def corrupt_array(images: np.ndarray, noise: NoiseConfig, seed: int = 0) -> np.ndarray:
    """The same corruption as :func:`corrupt`, in NumPy (what the pages show: no torch needed), from a
    fixed seed. Shape (N, C, H, W) in and out, float32 in [0, 1]."""
    rng = np.random.default_rng(seed)
    images = np.asarray(images, dtype=np.float32)
    if noise.kind == "gaussian":
        return np.clip(images + np.float32(noise.level) * rng.standard_normal(images.shape, dtype=np.float32), 0.0, 1.0)
    hit = rng.random(images.shape, dtype=np.float32) < noise.level
    if noise.kind == "masking":
        return np.where(hit, np.float32(0.0), images)
    salt = rng.random(images.shape, dtype=np.float32) < 0.5
    return np.where(hit, salt.astype(np.float32), images)


CURVE_POINTS = 7  # noise levels on the Denoising page's curve


def curve_levels(kind: str) -> tuple[float, ...]:
    """The levels the Denoising page's curve sweeps for a noise ``kind``: 7 from 0 to 0.6 (a gaussian
    standard deviation) or to 0.8 (a share of the pixels hit), rounded to 3 decimals."""
    top = 0.6 if kind == "gaussian" else 0.8
    return tuple(float(v) for v in np.round(np.linspace(0.0, top, CURVE_POINTS), 3))
