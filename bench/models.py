"""The plain-PyTorch side of the comparisons: the plain training loop a tutorial reader would write
(DataLoader over a TensorDataset, Adam, constant LR, default threads, float32), run on the very same
network class as the core side (``core.models``), so a comparison measures the training, not two
architectures; :func:`architecture` is what a bench asserts equal before it times anything."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Logits(nn.Module):
    """A core autoencoder seen the plain way: images in, logits out (its ``forward`` returns a dict)."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)["logits"]


def core_network(family: str, latent_dim: int, image_shape: tuple[int, int, int], seed: int = 0) -> nn.Module:
    """The network ``core`` trains for ``family`` at its default settings (the conv family's default
    is GELU with one grid convolution each side), initialised from ``seed``: both sides of a
    comparison build it here, so they start from the same weights too."""
    from core.models import build_model
    from core.models.methods import default_model_config

    torch.manual_seed(seed)
    return build_model(default_model_config(family, latent_dim, loss="bce"), image_shape)


def architecture(model: nn.Module) -> list[tuple[str, str, tuple[int, ...]]]:
    """(module class, parameter name, shape) of every parameter in order: two models with equal lists
    have the same layers, shapes and parameter count."""
    return [(type(module).__name__, name, tuple(p.shape))
            for module in model.modules() for name, p in module.named_parameters(recurse=False)]


def assert_same_architecture(a: nn.Module, b: nn.Module) -> int:
    """Raise ``AssertionError`` naming the first difference unless ``a`` and ``b`` have the same layers
    and shapes; returns their parameter count."""
    left, right = architecture(a), architecture(b)
    differ = next((pair for pair in zip(left, right) if pair[0] != pair[1]), None)
    assert left == right, f"the sides differ: {differ or (len(left), len(right))}"
    assert parameter_count(a) == parameter_count(b)
    return parameter_count(a)


def plain_loop(model: nn.Module, images: np.ndarray, *, epochs: int | None = None, seconds: float | None = None,
               batch_size: int = 128, lr: float = 1e-3, seed: int = 0, device: torch.device | None = None) -> dict:
    """Train ``model`` (logits out) with BCE the plain way; stop after ``epochs`` or ``seconds``.

    On a GPU (``device``) it does what a tutorial does: the model moves there once (before the clock),
    the DataLoader yields CPU batches and each is moved there.

    Returns {"images": images trained on, "seconds": wall time, "epochs": epochs started}.
    """
    device = device or torch.device("cpu")
    torch.manual_seed(seed)
    loader = DataLoader(TensorDataset(torch.from_numpy(images)), batch_size=batch_size, shuffle=True)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    seen, epoch, start = 0, 0, time.perf_counter()
    done = False
    while not done:
        epoch += 1
        for (x,) in loader:
            x = x.to(device)
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
    if device.type == "cuda":
        torch.cuda.synchronize()  # the queued steps are part of its time
    model.eval()
    return {"images": seen, "seconds": time.perf_counter() - start, "epochs": epoch}


@torch.inference_mode()
def test_losses(decode_logits, images: np.ndarray, batch: int = 2048, device: torch.device | None = None) -> dict:
    """Per-pixel BCE and MSE, and SSE per image, of a logits-producing autoencoder on ``images``
    (each batch moved to ``device``, where the model is)."""
    bce = se = 0.0
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i:i + batch]).to(device or torch.device("cpu"))
        logits = decode_logits(x)
        bce += F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item()
        se += (torch.sigmoid(logits) - x).pow(2).sum().item()
    return {"test_bce": bce / images.size, "test_mse": se / images.size, "test_sse_per_image": se / len(images)}


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
