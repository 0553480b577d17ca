"""Learning moments: what a model looked like at chosen steps of its training, kept with its checkpoint.

One file, ``moments.safetensors``, in the checkpoint's version folder, written by the checkpoint's
atomic save (so it comes and goes with the weights it describes). Arrays as safetensors (no pickle),
the few scalars as JSON in the file's metadata, with the weights' SHA-256 (the moments of another
checkpoint are refused) and a SHA-256 of the arrays (a damaged file is refused). A checkpoint saved
before moments were kept has no file: :func:`load_moments` returns None, and
``python -m core zoo --with-moments`` retrains the zoo's models that lack them.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.errors import CheckpointError

if TYPE_CHECKING:
    from core.store.checkpoints import CheckpointStore
    from core.store.records import ModelRecord

MOMENTS_FILE = "moments.safetensors"
FORMAT = "latent_lab.moments/1"
_SCALE = 255  # reconstructions are kept as 8-bit pictures: they are for looking at, not for metrics


def to_pixels(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] (any shape) as uint8 0..255, rounded: how reconstructions are kept."""
    return np.rint(np.clip(np.asarray(images, np.float32), 0.0, 1.0) * _SCALE).astype(np.uint8)


def from_pixels(pixels: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 in [0, 1] (the exact inverse of :func:`to_pixels` on its outputs)."""
    return np.asarray(pixels, np.uint8).astype(np.float32) / np.float32(_SCALE)


@dataclass(frozen=True, eq=False)
class Moments:
    """What a model looked like at M moments of its training (M >= 2: step 0 and the last step).

    The sample is a fixed, seeded subset of the held-out (test) split, the same images at every
    moment; the 8 shown images are fixed test images too (one per class where there are 8 classes).

    Attributes
    ----------
    steps : np.ndarray of int64, shape (M,)
        Optimizer steps taken at each moment, ascending; ``steps[0] == 0`` (the initialised model).
    epochs : np.ndarray of float64, shape (M,)
        ``steps`` in epochs (fractional: step / steps per epoch).
    seconds : np.ndarray of float64, shape (M,)
        The training clock at each moment (time spent recording moments left out).
    sample_index : np.ndarray of int64, shape (S,)
        Rows of the test split in the sample (S <= 2,000).
    sample_labels : np.ndarray of int64, shape (S,)
        Their labels.
    codes : np.ndarray of float32, shape (M, S, d)
        The sample's codes at each moment.
    views_2d : np.ndarray of float32, shape (M, S, 2)
        One 2-D view per moment, all in one frame (:mod:`core.learning.views`: the code itself for
        d <= 2, else one PCA fitted on the final codes); ``view`` says which.
    recon_index : np.ndarray of int64, shape (R,)
        Rows of the test split that are shown reconstructed (R = 8, fewer in a tiny test split).
    reconstructions : np.ndarray of float32, shape (M, R, C, H, W)
        Their reconstructions at each moment, in [0, 1], to 8 bits (kept as pictures).
    sample_mse : np.ndarray of float64, shape (M,)
        Per-pixel MSE of the sample's reconstructions (clipped to [0, 1], as the model's test metrics).
    angles_deg : np.ndarray of float64, shape (M, d), or None
        For a family whose decoder is one linear map (``linear``): the principal angles between the
        decoder's column space and PCA's top-d subspace of the training split, smallest first
        (:func:`core.learning.subspace.principal_angles_deg`); None for the other families.
    pca_sample_mse : float or None
        With ``angles_deg``: PCA-d's per-pixel MSE on the same sample, the error the linear model
        approaches.
    view : str
        How ``views_2d`` was made: 'code' or 'pca of the final codes'.
    """

    steps: np.ndarray
    epochs: np.ndarray
    seconds: np.ndarray
    sample_index: np.ndarray
    sample_labels: np.ndarray
    codes: np.ndarray
    views_2d: np.ndarray
    recon_index: np.ndarray
    reconstructions: np.ndarray
    sample_mse: np.ndarray
    angles_deg: np.ndarray | None = None
    pca_sample_mse: float | None = None
    view: str = "code"

    def __post_init__(self):
        m, s = len(self.steps), len(self.sample_index)
        shapes = {"epochs": (m,), "seconds": (m,), "sample_labels": (s,), "sample_mse": (m,)}
        bad = [name for name, shape in shapes.items() if np.shape(getattr(self, name)) != shape]
        if np.ndim(self.codes) != 3 or np.shape(self.codes)[:2] != (m, s):
            bad.append("codes")
        if np.shape(self.views_2d) != (m, s, 2):
            bad.append("views_2d")
        if np.ndim(self.reconstructions) != 5 or np.shape(self.reconstructions)[:2] != (m, len(self.recon_index)):
            bad.append("reconstructions")
        if self.angles_deg is not None and np.shape(self.angles_deg) != (m, np.shape(self.codes)[2]):
            bad.append("angles_deg")
        if bad:
            raise ValueError(f"moments of {m} steps and {s} sample images: {', '.join(bad)} do not fit")

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def latent_dim(self) -> int:
        return int(self.codes.shape[2])

    @property
    def max_angle_deg(self) -> np.ndarray | None:
        """(M,) the largest principal angle at each moment (None without angles)."""
        return None if self.angles_deg is None else self.angles_deg.max(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array as it is kept on disk (reconstructions as uint8), C-contiguous."""
        arrays = {"steps": self.steps.astype(np.int64), "epochs": self.epochs.astype(np.float64),
                  "seconds": self.seconds.astype(np.float64), "sample_index": self.sample_index.astype(np.int64),
                  "sample_labels": self.sample_labels.astype(np.int64), "codes": self.codes.astype(np.float32),
                  "views_2d": self.views_2d.astype(np.float32), "recon_index": self.recon_index.astype(np.int64),
                  "reconstructions": to_pixels(self.reconstructions), "sample_mse": self.sample_mse.astype(np.float64)}
        if self.angles_deg is not None:
            arrays["angles_deg"] = self.angles_deg.astype(np.float64)
        return {k: np.ascontiguousarray(v) for k, v in arrays.items()}


def _arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(json.dumps([name, value.dtype.str, value.shape]).encode())
        digest.update(value.reshape(-1).view(np.uint8))
    return digest.hexdigest()


def write_moments(path: str | os.PathLike, moments: Moments, weights_sha256: str) -> None:
    """Write ``moments`` to ``path`` (a safetensors file) for the checkpoint whose weights hash to
    ``weights_sha256``, and fsync it. The checkpoint's save calls it inside its version folder."""
    from safetensors.numpy import save_file

    arrays = moments.arrays()
    meta = {"format": FORMAT, "weights_sha256": weights_sha256, "arrays_sha256": _arrays_sha256(arrays),
            "view": moments.view, "pca_sample_mse": json.dumps(moments.pca_sample_mse), "split": "test"}
    save_file(arrays, str(path), metadata=meta)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def read_moments(path: str | os.PathLike, weights_sha256: str) -> Moments:
    """The moments in ``path``, checked against the checkpoint's ``weights_sha256``.

    Raises
    ------
    CheckpointError
        When the file is unreadable, of another format, of another checkpoint or damaged.
    """
    from safetensors import safe_open

    fix = f"delete {path} (the model loads without it; retrain to keep its moments again)"
    try:
        with safe_open(str(path), framework="numpy") as handle:
            meta = handle.metadata() or {}
            arrays = {name: handle.get_tensor(name) for name in handle.keys()}
    except Exception as exc:  # noqa: BLE001 - safetensors raises several kinds for a damaged file
        raise CheckpointError(f"learning moments {path} are unreadable ({exc}); {fix}") from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"learning moments {path} are of format {meta.get('format')!r}, not {FORMAT!r}; {fix}")
    if meta.get("weights_sha256") != weights_sha256:
        raise CheckpointError(f"learning moments {path} belong to other weights than their checkpoint's; {fix}")
    if meta.get("arrays_sha256") != _arrays_sha256(arrays):
        raise CheckpointError(f"learning moments {path} are damaged (checksum mismatch); {fix}")
    try:
        pca_mse = json.loads(meta.get("pca_sample_mse", "null"))
        return Moments(steps=arrays["steps"], epochs=arrays["epochs"], seconds=arrays["seconds"],
                       sample_index=arrays["sample_index"], sample_labels=arrays["sample_labels"],
                       codes=arrays["codes"], views_2d=arrays["views_2d"], recon_index=arrays["recon_index"],
                       reconstructions=from_pixels(arrays["reconstructions"]), sample_mse=arrays["sample_mse"],
                       angles_deg=arrays.get("angles_deg"), pca_sample_mse=None if pca_mse is None else float(pca_mse),
                       view=str(meta.get("view", "code")))
    except (KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"learning moments {path} are incomplete ({exc}); {fix}") from None


def moments_path(store: CheckpointStore, record: ModelRecord) -> Path:
    """Where a checkpoint's moments are (through its link, so the current version's)."""
    return store.folder_of(record) / MOMENTS_FILE


def has_moments(store: CheckpointStore, record: ModelRecord) -> bool:
    """Whether the checkpoint kept its learning moments (a file check: no torch, nothing read)."""
    return moments_path(store, record).is_file()


def load_moments(store: CheckpointStore, record: ModelRecord) -> Moments | None:
    """The learning moments of a cached model, or None when it was trained before moments were kept
    (or is PCA, which is fitted, not trained): retrain it to watch it learn.

    Parameters
    ----------
    store : CheckpointStore
    record : ModelRecord
        The checkpoint's record (``store.list().records``, ``Trained.record``).

    Returns
    -------
    Moments or None

    Raises
    ------
    CheckpointError
        When the file is there but damaged or of another checkpoint (the message says what to do).
    """
    path = moments_path(store, record)
    if not path.is_file():
        return None
    return read_moments(path, record.weights_sha256)
