"""Dense autoencoder: flatten -> hidden ReLU layers -> code -> mirrored decoder -> sigmoid."""

from __future__ import annotations

import math

import torch
from torch import nn

from core.models.base import Autoencoder


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class DenseAutoencoder(Autoencoder):
    """The simplest autoencoder; ``hidden`` widths are mirrored in the decoder."""

    def __init__(self, config, image_shape):
        super().__init__(config, image_shape)
        pixels = math.prod(self.image_shape)
        self.encoder = mlp([pixels, *config.hidden, config.latent_dim])
        self.decoder = mlp([config.latent_dim, *reversed(config.hidden), pixels])

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).view(-1, *self.image_shape)


class LinearAutoencoder(DenseAutoencoder):
    """One linear layer each way, no activation: the autoencoder PCA is the optimum of.

    Useful as a check (it cannot beat PCA at the same size) and for teaching.
    """

    sigmoid_output = False

    def __init__(self, config, image_shape):
        Autoencoder.__init__(self, config, image_shape)
        pixels = math.prod(self.image_shape)
        self.encoder = nn.Linear(pixels, config.latent_dim)
        self.decoder = nn.Linear(config.latent_dim, pixels)

    def decoder_subspace(self) -> torch.Tensor:
        """(pixels, latent_dim): the decoder's weight; at the optimum its columns span PCA's top
        ``latent_dim`` principal subspace (not the components themselves: any basis of it)."""
        return self.decoder.weight
