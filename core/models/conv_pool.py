"""Convolutional autoencoder with a *spatial* code (the Keras-tutorial shape, e.g. a 4x4x8 code).

Encoder: K stages of Conv3x3 -> ReLU -> MaxPool(2); the last conv has ``code_channels`` outputs and
no ReLU, and the pooled map *is* the code (flattened to ``latent_dim = code_channels * s * s``).
Decoder: K stages of Conv3x3 -> ReLU -> 2x up-sampling (nearest or transposed conv), then Conv3x3 to
the image channels and a sigmoid. K is the shallowest depth at which ``latent_dim`` is a whole number
of s x s maps, so 128 on 28x28 gives 4x4x8, 8 on 8x8 gives 2x2x2 and 2 gives 1x1x2.
"""

from __future__ import annotations

import math

from torch import nn

from core.models.base import Autoencoder, crop_to


def spatial_code_layout(height: int, width: int, latent_dim: int) -> tuple[int, int, int, int]:
    """(pool stages K, code channels, code height, code width) for a latent size."""
    h, w, stages = height, width, 0
    while True:
        h, w, stages = math.ceil(h / 2), math.ceil(w / 2), stages + 1
        if h * w <= latent_dim and latent_dim % (h * w) == 0:
            return stages, latent_dim // (h * w), h, w


class ConvPoolAutoencoder(Autoencoder):
    def __init__(self, config, image_shape):
        super().__init__(config, image_shape)
        c, height, width = self.image_shape
        stages, code_channels, ch, cw = spatial_code_layout(height, width, config.latent_dim)
        self.code_shape = (code_channels, ch, cw)
        widths = [config.channels[min(i, len(config.channels) - 1)] for i in range(stages - 1)] + [code_channels]
        down: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip((c, *widths[:-1]), widths)):
            down.append(nn.Conv2d(c_in, c_out, 3, padding=1))
            if i < stages - 1:
                down.append(nn.ReLU(inplace=True))
            down.append(nn.MaxPool2d(2, ceil_mode=True))
        self.encoder = nn.Sequential(*down, nn.Flatten())
        up: list[nn.Module] = []
        c_in = code_channels
        for c_out in [*reversed(widths[:-1]), config.channels[0]]:  # K stages, mirroring the encoder
            up += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=True)]
            up.append(nn.Upsample(scale_factor=2) if config.decoder == "upsample" else nn.ConvTranspose2d(c_out, c_out, 2, stride=2))
            c_in = c_out
        up.append(nn.Conv2d(c_in, c, 3, padding=1))
        self.decoder = nn.Sequential(*up)

    def encode(self, x):
        return self.encoder(x)

    def decode_logits(self, z):
        out = self.decoder(z.view(-1, *self.code_shape))
        return crop_to(out, *self.image_shape[1:])
