"""Torch modules that compute exactly what a reducer's ``encode`` and ``decode`` compute, so that
:mod:`core.runtime.export` can capture them as ONNX graphs (run in the browser and by
:class:`core.runtime.onnx_reducer.OnnxReducer`). Only export imports this module: it needs torch.
"""

from __future__ import annotations

import numpy as np
import torch

from core.models.base import Autoencoder


class LinearEncoder(torch.nn.Module):
    """PCA's transform: ``(flattened images - mean) @ components.T``, shape (N, C, H, W) -> (N, d)."""

    def __init__(self, components: np.ndarray, mean: np.ndarray):
        super().__init__()
        self.register_buffer("components", torch.from_numpy(np.asarray(components, np.float32)))
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, np.float32)))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return (images.flatten(1) - self.mean) @ self.components.T


class LinearDecoder(torch.nn.Module):
    """PCA's inverse transform: ``codes @ components + mean``, clipped, shape (N, d) -> (N, C, H, W)."""

    def __init__(self, components: np.ndarray, mean: np.ndarray, image_shape: tuple[int, ...], clip: bool):
        super().__init__()
        self.register_buffer("components", torch.from_numpy(np.asarray(components, np.float32)))
        self.register_buffer("mean", torch.from_numpy(np.asarray(mean, np.float32)))
        self.image_shape = tuple(int(s) for s in image_shape)
        self.clip = clip

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        flat = codes @ self.components + self.mean
        if self.clip:
            flat = flat.clamp(0.0, 1.0)
        return flat.reshape(-1, *self.image_shape)


class ModelEncoder(torch.nn.Module):
    """An autoencoder's ``encode`` (a VAE's mean), shape (N, C, H, W) -> (N, d)."""

    def __init__(self, model: Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.encode(images)


class ModelDecoder(torch.nn.Module):
    """An autoencoder's ``decode``, clipped to [0, 1] for families without a sigmoid."""

    def __init__(self, model: Autoencoder):
        super().__init__()
        self.model = model

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        images = self.model.decode(codes)
        return images if self.model.sigmoid_output else images.clamp(0.0, 1.0)
