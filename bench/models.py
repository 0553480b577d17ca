"""The plain-PyTorch side of the comparisons: the seed tutorial's conv autoencoder written out as an
nn.Sequential, and the plain training loop (DataLoader over a TensorDataset, Adam, constant LR,
default threads), independent of ``core`` so the baseline is what a tutorial reader would write."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def seed_conv_autoencoder(latent_dim: int = 30) -> nn.Sequential:
    """Two stride-2 convs (32, 64 channels) -> Linear code -> Linear -> two transposed convs (logits).
    For 1x28x28 images: the same layers, shapes and parameter count as core's ``conv`` family."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 7 * 7, latent_dim),
        nn.Linear(latent_dim, 64 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (64, 7, 7)),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1),
    )


def plain_loop(model: nn.Module, images: np.ndarray, *, epochs: int | None = None, seconds: float | None = None,
               batch_size: int = 128, lr: float = 1e-3, seed: int = 0) -> dict:
    """Train ``model`` (logits out) with BCE the plain way; stop after ``epochs`` or ``seconds``.

    Returns {"images": images trained on, "seconds": wall time, "epochs": epochs started}.
    """
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=batch_size, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    seen, epoch, start = 0, 0, time.perf_counter()
    done = False
    while not done:
        epoch += 1
        for (x,) in loader:
            loss = F.binary_cross_entropy_with_logits(model(x), x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(x)
            if seconds is not None and time.perf_counter() - start >= seconds:
                done = True
                break
        if epochs is not None and epoch >= epochs:
            done = True
    model.eval()
    return {"images": seen, "seconds": time.perf_counter() - start, "epochs": epoch}


@torch.inference_mode()
def test_losses(decode_logits, images: np.ndarray, batch: int = 2048) -> dict:
    """Per-pixel BCE and MSE, and SSE per image, of a logits-producing autoencoder on ``images``."""
    bce = se = 0.0
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch])
        logits = decode_logits(x)
        bce += F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item()
        se += (torch.sigmoid(logits) - x).pow(2).sum().item()
    return {"test_bce": bce / images.size, "test_mse": se / images.size, "test_sse_per_image": se / len(images)}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
