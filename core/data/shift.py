"""Small random shifts as more training data (``TrainConfig.shift``).

A photograph moved a few pixels is another plausible photograph, so a model trained on each image moved
by a random offset, drawn afresh for every batch, sees many more distinct images for the same folder and
generalises better from it (bench/NOTES.md part 2c: on 64 px colour images, with mirror images too). The
edges are reflected rather than filled with black, so a shifted image has no border a photo never has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where a batch is made, not by everything that imports the data package
    import torch


def shift_some(images: torch.Tensor, most: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image moved by a random offset of up to ``most`` pixels each way, its edges reflected.

    Parameters
    ----------
    images : torch.Tensor, shape (N, C, H, W)
    most : int
        The largest move, in pixels, along each axis (0 returns ``images``); under H and W.
    generator : torch.Generator, optional
        Draws the offsets (seeded: the same training run moves the same images the same way).

    Returns
    -------
    torch.Tensor, shape (N, C, H, W)
        A new tensor in the memory layout of ``images``; offsets are drawn uniformly from
        ``-most..most`` per axis, so about one image in ``(2 * most + 1) ** 2`` is unchanged.
    """
    import torch

    if most == 0:
        return images
    n, channels, height, width = images.shape  # ``most`` < H, W: checked once by core.models.training.train
    padded = torch.nn.functional.pad(images, (most, most, most, most), mode="reflect")
    down = torch.randint(0, 2 * most + 1, (n,), generator=generator).to(images.device)
    right = torch.randint(0, 2 * most + 1, (n,), generator=generator).to(images.device)
    # two gathers (rows, then columns) rather than one fancy index: no (N, C, H, W) index tensors per axis
    rows = (down[:, None] + torch.arange(height, device=images.device)).view(n, 1, height, 1)
    moved = padded.gather(2, rows.expand(n, channels, height, width + 2 * most))
    cols = (right[:, None] + torch.arange(width, device=images.device)).view(n, 1, 1, width)
    moved = moved.gather(3, cols.expand(n, channels, height, width))
    if images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous():
        return moved.contiguous(memory_format=torch.channels_last)
    return moved
