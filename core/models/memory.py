"""How much memory a model would take to train, known before it is built, so an impossible size
(``--channels 100000,100000`` asks for hundreds of GB) is refused with a figure instead of failing
inside torch's allocator.

The network is built on torch's ``meta`` device: every layer gets its parameters' shapes, none of
their storage, so the count is exact for every family without a second, hand-written formula.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from core.config import FIELD, ConfigError, ModelConfig

#: bytes per parameter while training: float32 weights, their gradients and AdamW's two moments
TRAINING_BYTES_PER_PARAMETER = 4 * 4
#: the share of the machine's memory one model's training state may take: the data set, the
#: activations, the evaluation and the rest of the system need the other three quarters
MEMORY_SHARE = 0.25


@dataclass(frozen=True)
class MemoryEstimate:
    """What a model would hold while it trains.

    Attributes
    ----------
    parameters : int
        Learned numbers (the sum of ``p.numel()`` of the real model).
    width_field : str
        The ModelConfig field that sets the network's width, the one to shrink: ``'channels'`` for a
        network with convolutions, ``'hidden'`` otherwise.
    """

    parameters: int
    width_field: str

    @property
    def training_bytes(self) -> int:
        """Weights, gradients and optimizer state, in bytes."""
        return self.parameters * TRAINING_BYTES_PER_PARAMETER


def estimate_memory(config: ModelConfig, image_shape: tuple[int, int, int]) -> MemoryEstimate:
    """Count the parameters of ``config``'s network for images of shape (C, H, W) without allocating them.

    Parameters
    ----------
    config : ModelConfig
        An autoencoder's config (a method with a network in :data:`core.models.methods.METHODS`).
    image_shape : (C, H, W)

    Returns
    -------
    MemoryEstimate
    """
    from core.models.methods import get_method

    with torch.device("meta"):  # shapes only: a 360 GB layer costs nothing here
        network = get_method(config.family).network_class()(config, tuple(int(s) for s in image_shape))
    convolutional = any(isinstance(m, torch.nn.Conv2d) for m in network.modules())
    return MemoryEstimate(sum(p.numel() for p in network.parameters()), "channels" if convolutional else "hidden")


def total_memory_bytes() -> int | None:
    """The machine's physical memory in bytes; None where the system does not say (then nothing is refused)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        pass
    try:
        import psutil
    except ImportError:
        return None
    return int(psutil.virtual_memory().total)


def _gigabytes(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:,.0f} GB" if n_bytes >= 10e9 else f"{n_bytes / 1e9:.1f} GB"


def check_memory(config: ModelConfig, image_shape: tuple[int, int, int],
                 total_bytes: int | None = -1) -> MemoryEstimate:
    """Refuse, before it is built, a model whose training state would not fit in memory.

    Parameters
    ----------
    config : ModelConfig
    image_shape : (C, H, W)
    total_bytes : int or None, optional
        The machine's memory; by default :func:`total_memory_bytes`. None refuses nothing.

    Returns
    -------
    MemoryEstimate
        The estimate, when the model fits.

    Raises
    ------
    ConfigError
        When weights, gradients and optimizer state would take more than :data:`MEMORY_SHARE` of the
        memory; the message gives both figures and names the setting to shrink.
    """
    estimate = estimate_memory(config, image_shape)
    total = total_memory_bytes() if total_bytes == -1 else total_bytes
    if total is None or estimate.training_bytes <= MEMORY_SHARE * total:
        return estimate
    raise ConfigError(
        f"this {config.family} model would need about {_gigabytes(estimate.training_bytes)} for its weights, gradients "
        f"and optimizer state ({estimate.parameters:,} parameters); this machine has {_gigabytes(total)} of memory "
        f"and one model may take a quarter of it: use smaller {FIELD} or smaller images", estimate.width_field)
