"""What every autoencoder shares: encode/decode, the reconstruction loss and the output shape.

A family subclasses :class:`Autoencoder`, builds ``self.encoder``-like layers in ``__init__`` and
implements ``encode`` and ``decode_logits``; the trainer only calls ``forward`` and ``loss``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from core.config import ModelConfig


class Autoencoder(nn.Module):
    """Base class. Images are (N, C, H, W) in [0, 1]; codes are (N, latent_dim)."""

    #: whether the decoder ends in a sigmoid (every family but ``linear``)
    sigmoid_output: bool = True

    def __init__(self, config: ModelConfig, image_shape: tuple[int, int, int]):
        super().__init__()
        self.config = config
        self.image_shape = tuple(int(s) for s in image_shape)
        self.latent_dim = config.latent_dim

    # --- the part each family writes -------------------------------------------------------
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) -> (N, latent_dim)."""
        raise NotImplementedError

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> (N, C, H, W) before the output activation."""
        raise NotImplementedError

    def regularizer(self, out: dict) -> torch.Tensor | None:
        """Extra loss term (KL, sparsity); None when the family has none."""
        return None

    def decoder_subspace(self) -> torch.Tensor | None:
        """(pixels, latent_dim): columns spanning every image the decoder can make (minus its bias),
        for a family whose decoder is one linear map; None for the others (a curved decoder has no
        such subspace). What the principal angles to PCA's subspace are measured on."""
        return None

    # --- shared ------------------------------------------------------------------------------
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(N, latent_dim) -> images (N, C, H, W)."""
        return self.to_images(self.decode_logits(z))

    def to_images(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) logits -> the images they stand for: the sigmoid where the family has one; the linear
        family's output as it is (not clipped to [0, 1]: the reducer clips for display)."""
        return torch.sigmoid(logits) if self.sigmoid_output else logits

    def forward(self, x: torch.Tensor) -> dict:
        code = self.encode(x)
        return {"code": code, "logits": self.decode_logits(code)}

    def reconstruction_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean per pixel: MSE on the output, or binary cross-entropy on the logits (stable)."""
        if self.config.loss == "bce" and self.sigmoid_output:
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(self.to_images(logits), target)

    def loss(self, out: dict, target: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Total loss and its named parts (floats) for the history."""
        recon = self.reconstruction_loss(out["logits"], target)
        extra = self.regularizer(out)
        if extra is None:
            return recon, {"recon": recon.detach()}
        return recon + extra, {"recon": recon.detach(), "reg": extra.detach()}


def crop_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Crop the spatial size of ``x`` (N, C, H', W') with H' >= height to (N, C, height, width)."""
    return x[..., :height, :width]


def padded(size: int, factor: int) -> int:
    """Smallest multiple of ``factor`` that is >= ``size``."""
    return int(math.ceil(size / factor) * factor)


def pad_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Zero-pad (N, C, H, W) at the bottom/right to (N, C, height, width)."""
    dh, dw = height - x.shape[-2], width - x.shape[-1]
    return F.pad(x, (0, dw, 0, dh)) if dh or dw else x
