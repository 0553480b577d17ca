"""Left-right mirror images as more training data (``TrainConfig.mirror``).

A photograph mirrored left to right is another plausible photograph, so a model trained on each image or
its mirror image, drawn afresh for every batch, sees twice the distinct images for the same folder
(bench/NOTES.md part 2c: what it buys on 64 px colour images). Digits and letters are not mirror-symmetric,
which is why it is a training setting and not always on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch is imported where a batch is made, not by everything that imports the data package
    import torch


def mirror_some(images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each image, or its left-right mirror image, with even odds.

    Parameters
    ----------
    images : torch.Tensor, shape (N, C, H, W)
    generator : torch.Generator, optional
        Draws which images are mirrored (seeded: the same training run mirrors the same images).

    Returns
    -------
    torch.Tensor, shape (N, C, H, W)
        A new tensor in the memory layout of ``images``; the images not drawn are unchanged.
    """
    import torch

    flip = torch.rand(len(images), generator=generator) < 0.5
    return torch.where(flip.to(images.device).view(-1, *([1] * (images.ndim - 1))), images.flip(-1), images)
