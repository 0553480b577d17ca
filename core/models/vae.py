"""Convolutional beta-VAE (Kingma & Welling; Higgins et al.).

The encoder gives a mean and log-variance; training decodes a sample ``mu + sigma * eps`` (the
reparameterisation trick) and adds ``beta * KL(q(z|x) || N(0, I))``. Both terms are summed per image
and averaged over the batch, the usual ELBO scale, so beta=1 is the textbook VAE.
``encode`` returns the mean: the point a map or a slider should show.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from core.models.base import Autoencoder
from core.models.conv import ConvTrunk, activation_layer


class VariationalAutoencoder(Autoencoder):
    def __init__(self, config, image_shape):
        super().__init__(config, image_shape)
        self.trunk = ConvTrunk(self.image_shape, config.channels, config.decoder, config.activation, config.grid_convs)
        self.to_mu = nn.Linear(self.trunk.flat, config.latent_dim)
        self.to_logvar = nn.Linear(self.trunk.flat, config.latent_dim)
        self.from_code = nn.Sequential(nn.Linear(config.latent_dim, self.trunk.flat), activation_layer(config.activation))
        self.pixels = math.prod(self.image_shape)

    def encode(self, x):
        return self.to_mu(self.trunk.features(x))

    def decode_logits(self, z):
        return self.trunk.image_logits(self.from_code(z), *self.image_shape[1:])

    def forward(self, x):
        features = self.trunk.features(x)
        mu, logvar = self.to_mu(features), self.to_logvar(features).clamp(-12, 12)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        return {"code": mu, "mu": mu, "logvar": logvar, "logits": self.decode_logits(z)}

    def reconstruction_loss(self, logits, target):
        # per image sum (mean per pixel x pixels): the scale the KL term is defined against
        if self.config.loss == "bce":
            per_pixel = F.binary_cross_entropy_with_logits(logits, target)
        else:
            per_pixel = F.mse_loss(torch.sigmoid(logits), target)
        return per_pixel * self.pixels

    def regularizer(self, out):
        mu, logvar = out["mu"], out["logvar"]
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()
        return self.config.beta * kl
