"""Convolutional autoencoder with a vector code.

Encoder: stride-2 3x3 convolutions (one per entry of ``channels``, and more for large images: see
:func:`stage_channels`) -> ``grid_convs`` stride-1 3x3 convolutions on the smallest feature map ->
flatten -> Linear(latent_dim).
Decoder: Linear -> reshape -> ``grid_convs`` stride-1 3x3 convolutions -> one 2x up-sampling stage
per encoder stage (transposed convolution, or nearest up-sampling + 3x3 convolution) -> sigmoid.
Inputs of any size are zero-padded to a multiple of 2**stages and the output is cropped back, so
every image size the data gives works.
"""

from __future__ import annotations

import torch
from torch import nn

from core.models.base import Autoencoder, crop_to, pad_to, padded

MAX_CODE_GRID = 8  # the last feature map is at most 8x8: 28 and 32 px need 2 stages, 64 px 3, 128 px 4
MAX_STAGE_CHANNELS = 256


def stage_channels(channels: tuple[int, ...], height: int, width: int) -> tuple[int, ...]:
    """The channels of each stride-2 stage for an image size: ``channels``, then stages with twice the
    last width (at most 256) until the feature map is at most 8x8.

    Depth grows with the image: with the two default stages a 64x64 image would end at 16x16x64, and
    the Linear to the code alone would hold 16,384 x d weights; a third stage makes it 8x8x128.
    """
    stages = list(channels)
    while max(padded(height, 2 ** len(stages)), padded(width, 2 ** len(stages))) // 2 ** len(stages) > MAX_CODE_GRID:
        stages.append(min(2 * stages[-1], MAX_STAGE_CHANNELS))
    return tuple(stages)


def activation_layer(name: str) -> nn.Module:
    """The non-linearity between layers: ReLU, or GELU (smooth: measured to train a conv d=30 MNIST
    model to a lower error in the same time, see bench/NOTES.md part 2)."""
    return nn.GELU() if name == "gelu" else nn.ReLU(inplace=True)


def up_stage(c_in: int, c_out: int, mode: str) -> nn.Module:
    """Double the spatial size: ConvTranspose(4, stride 2) or nearest Upsample + Conv(3)."""
    if mode == "transpose":
        return nn.ConvTranspose2d(c_in, c_out, kernel_size=4, stride=2, padding=1)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1))


def grid_layers(channels: int, count: int, activation: str) -> list[nn.Module]:
    """``count`` stride-1 3x3 convolutions (``channels`` in and out), each followed by the activation."""
    layers: list[nn.Module] = []
    for _ in range(count):
        layers += [nn.Conv2d(channels, channels, 3, padding=1), activation_layer(activation)]
    return layers


class ConvTrunk(nn.Module):
    """Shared by ``conv`` and ``vae``: the strided encoder and the up-sampling decoder body."""

    def __init__(self, image_shape, channels, decoder_mode, activation: str = "relu", grid_convs: int = 0):
        super().__init__()
        c, h, w = image_shape
        channels = stage_channels(tuple(channels), h, w)
        factor = 2 ** len(channels)
        self.padded_hw = (padded(h, factor), padded(w, factor))
        self.code_shape = (channels[-1], self.padded_hw[0] // factor, self.padded_hw[1] // factor)
        down: list[nn.Module] = []
        for c_in, c_out in zip((c, *channels[:-1]), channels):
            down += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1), activation_layer(activation)]
        # depth where it is cheap: the smallest map (7x7 on MNIST) costs a quarter of the 14x14 stage per
        # channel pair; one such layer each side: 9% lower test error on MNIST d=30 after 6 epochs for
        # 1.3x the time per epoch (bench/NOTES.md part 2)
        down += grid_layers(channels[-1], grid_convs, activation)
        self.down = nn.Sequential(*down, nn.Flatten())
        up: list[nn.Module] = grid_layers(channels[-1], grid_convs, activation)
        rev = list(reversed(channels))
        for i, (c_in, c_out) in enumerate(zip(rev, (*rev[1:], c))):
            up.append(up_stage(c_in, c_out, decoder_mode))
            if i < len(rev) - 1:
                up.append(activation_layer(activation))
        self.up = nn.Sequential(*up)
        self.flat = self.code_shape[0] * self.code_shape[1] * self.code_shape[2]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(pad_to(x, *self.padded_hw))

    def image_logits(self, flat: torch.Tensor, height: int, width: int) -> torch.Tensor:
        return crop_to(self.up(flat.view(-1, *self.code_shape)), height, width)


class ConvAutoencoder(Autoencoder):
    def __init__(self, config, image_shape):
        super().__init__(config, image_shape)
        self.trunk = ConvTrunk(self.image_shape, config.channels, config.decoder, config.activation, config.grid_convs)
        self.to_code = nn.Linear(self.trunk.flat, config.latent_dim)
        self.from_code = nn.Sequential(nn.Linear(config.latent_dim, self.trunk.flat), activation_layer(config.activation))

    def encode(self, x):
        return self.to_code(self.trunk.features(x))

    def decode_logits(self, z):
        return self.trunk.image_logits(self.from_code(z), *self.image_shape[1:])
