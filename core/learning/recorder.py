"""The training callback that keeps learning moments: built outside the loop, shown the model by it.

:class:`MomentRecorder` is a progress callback (it passes every epoch's stats on to the one it
wraps) that is also a :class:`core.models.training.StepObserver`: the loop asks it at each step whether it
wants to look (:mod:`core.learning.schedule`) and shows it the model when it does. At each moment it
encodes a fixed sample of held-out images and keeps their codes and their reconstruction error,
reconstructs 8 fixed test images, and, for a model whose decoder is one linear map, measures the
principal angles between the decoder's span and PCA's (PCA is fitted once, at the first moment,
and only for such a model). The training loop knows none of this.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch

from core.learning.moments import Moments, from_pixels, to_pixels
from core.learning.schedule import MOMENTS, on_open_grid, planned_steps
from core.learning.subspace import principal_angles_deg
from core.learning.views import stable_views

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer
    from core.models.training import EpochStats, ProgressCallback, StepState

SAMPLE_IMAGES = 2000  # held-out images whose codes every moment keeps (the map's points), at most
# a moment encodes and decodes its whole sample while the training waits, so its cost grows with the image:
# at 64x64x3, 1.75 s for 2,000 images on 2 cores, where a 30 s budget keeps 24-25 moments (bench/NOTES.md
# part "moments"); 500 images take 0.46 s
SAMPLE_VALUES = SAMPLE_IMAGES * 3 * 32 * 32  # the values of 2,000 images of 32x32x3: past that, fewer images
MIN_SAMPLE_IMAGES = 250  # a map and a k-NN score still worth reading, whatever the image size
SHOWN_IMAGES = 8  # held-out images shown reconstructed at every moment
SAMPLE_SEED = 0  # the sample is the same for every model of a dataset, so moments compare across models
CHUNK = 1024  # images per forward pass while recording (memory, not maths)


def shown_rows(labels: np.ndarray, count: int = SHOWN_IMAGES) -> np.ndarray:
    """(min(count, N),) rows to show: the first image of each class in class order, then the first
    rows not yet taken, so 8 of 10 digits appear rather than whatever a random draw gives."""
    labels = np.asarray(labels)
    first = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)][:count]
    rest = [i for i in range(len(labels)) if i not in set(first)][:count - len(first)]
    return np.sort(np.asarray(first + rest, np.int64))


def sample_size(image_shape: tuple[int, ...]) -> int:
    """How many held-out images every learning moment encodes, for images of one shape.

    Parameters
    ----------
    image_shape : tuple of int, (C, H, W)
        The dataset's image shape.

    Returns
    -------
    int
        :data:`SAMPLE_IMAGES` up to 32x32x3, then as many images as hold :data:`SAMPLE_VALUES` values
        (500 at 64x64x3), never fewer than :data:`MIN_SAMPLE_IMAGES`.
    """
    return max(MIN_SAMPLE_IMAGES, min(SAMPLE_IMAGES, SAMPLE_VALUES // math.prod(image_shape)))


class MomentRecorder:
    """Keeps a model's learning moments while it trains; pass it as the training callback.

    Parameters
    ----------
    sample : np.ndarray, shape (S, C, H, W), float32 in [0, 1]
        Held-out images encoded at every moment.
    sample_index, sample_labels : np.ndarray, shape (S,)
        Their rows in the test split and their labels.
    shown : np.ndarray, shape (R, C, H, W)
        Held-out images reconstructed at every moment; ``shown_index`` (R,) their rows.
    reference : callable, optional
        ``reference(d)`` -> a fitted PCA reducer with ``d`` components (``components_`` (d, P)): asked
        once, at the first moment of a model whose ``decoder_subspace()`` is not None.
    progress : callable, optional
        The per-epoch progress callback this one passes stats on to.
    count : int
        Moments to keep when the number of steps is known (:func:`~core.learning.schedule.planned_steps`).
    """

    def __init__(self, sample: np.ndarray, sample_index: np.ndarray, sample_labels: np.ndarray,
                 shown: np.ndarray, shown_index: np.ndarray, reference: Callable[[int], Reducer] | None = None,
                 progress: ProgressCallback | None = None, count: int = MOMENTS):
        self.sample = np.ascontiguousarray(sample, np.float32)
        self.sample_index = np.asarray(sample_index, np.int64)
        self.sample_labels = np.asarray(sample_labels, np.int64)
        self.shown = np.ascontiguousarray(shown, np.float32)
        self.shown_index = np.asarray(shown_index, np.int64)
        self.reference, self.progress, self.count = reference, progress, count
        self._planned: tuple[int | None, frozenset[int]] = (None, frozenset())
        self._on_device: dict[torch.device, tuple[torch.Tensor, torch.Tensor]] = {}
        self._pca: Reducer | None = None
        self._pca_mse: float | None = None
        self._rows: list[dict] = []

    @classmethod
    def for_dataset(cls, dataset: Dataset, progress: ProgressCallback | None = None,
                    max_sample: int | None = None, seed: int = SAMPLE_SEED) -> MomentRecorder:
        """A recorder on ``dataset``'s test split: a seeded sample of at most ``max_sample`` images
        (default: :func:`sample_size` of its images) and 8 shown images; PCA (for the linear family's
        angles) is fitted on its training split."""
        from core.analysis._common import subset_index
        from core.models.reducers import PCAReducer

        test = dataset.test
        index = subset_index(len(test), sample_size(dataset.image_shape) if max_sample is None else max_sample, seed)
        shown = shown_rows(test.labels)
        return cls(test.images[index], index, test.labels[index], test.images[shown], shown,
                   reference=lambda d: PCAReducer(d).fit(dataset.train.images), progress=progress)

    # --- the callback ---------------------------------------------------------------------------
    def __call__(self, stats: EpochStats) -> None:
        if self.progress is not None:
            self.progress(stats)

    def wants(self, step: int, total_steps: int | None) -> bool:
        if total_steps is None:
            return on_open_grid(step)
        if self._planned[0] != total_steps:
            self._planned = (total_steps, frozenset(planned_steps(total_steps, self.count).tolist()))
        return step in self._planned[1]

    @torch.inference_mode()
    def observe(self, state: StepState) -> None:
        if self._rows and self._rows[-1]["step"] == state.step:
            return  # the last step was on the schedule too
        model = state.model
        was_training = model.training
        model.eval()  # a VAE encodes its mean; nothing random is drawn, so training is unchanged
        try:
            sample, shown = self._tensors(next(model.parameters()).device)
            codes, squared = [], 0.0
            for first in range(0, len(sample), CHUNK):
                images = sample[first:first + CHUNK]
                code = model.encode(images)
                # clipped as the reducer clips the linear family's output: the error the test metrics measure
                squared += (model.decode(code).clamp(0.0, 1.0) - images).pow(2).sum().item()
                codes.append(code.float().reshape(len(images), -1).cpu().numpy())
            pictures = model.decode(model.encode(shown)).clamp(0.0, 1.0).float().cpu().numpy()
            angles = self._angles(model)
        finally:
            model.train(was_training)
        self._rows.append({"step": state.step, "epoch": state.epoch, "seconds": state.seconds,
                           "codes": np.concatenate(codes), "mse": squared / max(1, self.sample.size),
                           "pictures": to_pixels(pictures), "angles": angles})

    def _tensors(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """The sample and the shown images on ``device``, moved once."""
        if device not in self._on_device:
            self._on_device[device] = (torch.from_numpy(self.sample).to(device), torch.from_numpy(self.shown).to(device))
        return self._on_device[device]

    def _angles(self, model) -> np.ndarray | None:
        basis = model.decoder_subspace()
        if basis is None or self.reference is None:
            return None
        if self._pca is None:  # once per training, and only for a linear decoder
            self._pca = self.reference(basis.shape[1])
            recon = np.asarray(self._pca.reconstruct(self.sample), np.float32)
            self._pca_mse = float(np.mean((recon - self.sample) ** 2))
        return principal_angles_deg(basis.detach().float().cpu().numpy(), self._pca.components_.T)

    # --- the result -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._rows)

    def moments(self) -> Moments:
        """What was kept, as :class:`~core.learning.moments.Moments` (with the 2-D views computed now).

        It may be called while the model trains (from another thread): the moments kept so far, their
        2-D view fitted on the newest of them (:func:`~core.learning.views.stable_views`)."""
        rows = list(self._rows)  # a snapshot: a page may ask while the training thread appends
        if not rows:
            raise ValueError("no moments were recorded: pass the recorder as the training callback")
        codes = np.stack([r["codes"] for r in rows])
        views, how = stable_views(codes)
        angles = None if rows[0]["angles"] is None else np.stack([r["angles"] for r in rows])
        return Moments(steps=np.array([r["step"] for r in rows], np.int64),
                       epochs=np.array([r["epoch"] for r in rows], np.float64),
                       seconds=np.array([r["seconds"] for r in rows], np.float64),
                       sample_index=self.sample_index, sample_labels=self.sample_labels, codes=codes, views_2d=views,
                       recon_index=self.shown_index,
                       reconstructions=from_pixels(np.stack([r["pictures"] for r in rows])),
                       sample_mse=np.array([r["mse"] for r in rows], np.float64),
                       angles_deg=angles, pca_sample_mse=self._pca_mse if angles is not None else None, view=how)
