"""Images kept as 8-bit integers, read as float32 in [0, 1] one slice at a time.

MNIST as float32 is 4 bytes a pixel: 219 MB for its 70,000 images, and every full conversion
(a PCA fit, a training run, encoding for a map) used to add another copy. Stored as uint8 it is
55 MB, and a :class:`Pixels` view converts only the images asked for: ``view[idx]`` returns a
float32 array of just those, so a batch, a chunk for encoding or one image for a page costs its
own size. ``np.asarray(view)`` converts everything, for the few callers that need one array
(a PCA fit).

The scale is per dataset: 255 for 8-bit images, 16 for scikit-learn's digits (values 0..16), so
``view[i]`` equals what the loaders returned as float32 before, bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np


class Pixels:
    """A read-only float32 view of uint8 images: ``raw / scale``, converted on indexing.

    Parameters
    ----------
    raw : np.ndarray, shape (N, C, H, W), uint8
    scale : float
        The value that means 1.0 (255 for 8-bit images).

    Notes
    -----
    Behaves like the float32 array (N, C, H, W) in [0, 1] for what the project does with one:
    ``len``, ``shape``, ``ndim``, ``dtype``, indexing with an int, a slice, an index array or a mask,
    ``np.asarray`` and :meth:`mean`. It is not writable: the dataset's images are shared by every
    page and session.
    """

    __slots__ = ("raw", "scale")
    dtype = np.dtype(np.float32)

    def __init__(self, raw: np.ndarray, scale: float = 255.0):
        if raw.dtype != np.uint8 or raw.ndim != 4:
            raise ValueError(f"Pixels needs uint8 images of shape (N, C, H, W); got {raw.dtype} {raw.shape}")
        self.raw = raw
        self.scale = float(scale)

    @classmethod
    def from_float(cls, images: np.ndarray, scale: float = 255.0) -> Pixels:
        """Quantise float images in [0, 1], shape (N, C, H, W), to the nearest of ``scale + 1`` levels."""
        levels = np.rint(np.clip(np.asarray(images, dtype=np.float32), 0.0, 1.0) * scale)
        return cls(levels.astype(np.uint8), scale)

    def __len__(self) -> int:
        return len(self.raw)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.raw.shape

    @property
    def ndim(self) -> int:
        return 4

    @property
    def nbytes(self) -> int:
        """Bytes held in memory (the uint8 storage)."""
        return self.raw.nbytes

    def _float(self, raw: np.ndarray) -> np.ndarray:
        # float32 / Python float stays float32 (NEP 50): the same values the float loaders gave
        return raw.astype(np.float32) / self.scale

    def __getitem__(self, index) -> np.ndarray:
        return self._float(np.asarray(self.raw[index]))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        array = self._float(self.raw)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __iter__(self) -> Iterator[np.ndarray]:
        for start in range(0, len(self), 1024):
            yield from self[start:start + 1024]

    def subset(self, index: np.ndarray) -> Pixels:
        """Another view of the images at ``index`` (still uint8)."""
        return Pixels(self.raw[index], self.scale)

    def mean(self) -> float:
        """Mean pixel value in [0, 1] (over every image, channel and pixel)."""
        return float(self.raw.mean(dtype=np.float64) / self.scale)

    def __repr__(self) -> str:
        return f"Pixels({self.raw.shape}, uint8 / {self.scale:g})"
