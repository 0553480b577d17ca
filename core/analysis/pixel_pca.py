"""The PCA of a dataset's raw training pixels, fitted once for every size at once.

The pixel-PCA map (2-D and 3-D), the PCA error curve (sizes 1..64) and PCA baselines of any size
are all the leading components of one PCA of the training pixels. :func:`fit_pixel_pca` fits it
exactly from the pixel covariance, accumulated a chunk of images at a time: on MNIST (60,000 x 784)
the float32 working set is one chunk (25 MB) plus the 784 x 784 covariance instead of the 188 MB
float copy (and scikit-learn's centred second copy) a PCA of the whole array needs, and one
eigendecomposition yields every component, so the 2-D map, the 3-D map and the curve share one fit.
Exact rather than randomized, and no subsample: the components are those scikit-learn's full
solver finds (same signs, see :func:`_flip`), so maps and numbers do not change with this shortcut.
Images with more than :data:`MAX_COVARIANCE_PIXELS` numbers (CIFAR-10's 3,072, a colour folder) fall
back to scikit-learn's randomized PCA on a seeded subsample of at most :data:`MAX_RANDOMIZED_VALUES`
float32 values: the covariance of 50,000 CIFAR images alone is 472 GFLOP and a full 3,072 x 3,072
eigendecomposition took a minute on 2 busy cores (the first open of Autoencoder vs PCA on colour data
took 57.6 s); 20,000 RGB 64x64 images as one float32 array would be 983 MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 8192  # images converted to float32 at a time
MAX_COVARIANCE_PIXELS = 1024  # exact up to 32x32 grey (MNIST's 784); a P x P float64 covariance is 8 MB here
MAX_RANDOMIZED_VALUES = 25_000_000  # larger images: float32 values of the subsample fitted at once (100 MB)
MAX_COMPONENTS = 64  # what the pages use: the error curve's longest PCA (and any baseline up to it)


@dataclass(frozen=True)
class LinearProjection:
    """Flattened images to their coordinates on fixed components and back (a fitted PCA without
    whitening). NumPy only: the latent map opens without importing scikit-learn (~1.2 s of a fresh
    server's first visit on 2 cores), since its pixel PCA is read from disk already fitted.

    Attributes
    ----------
    mean : np.ndarray, shape (P,), float32
    components : np.ndarray, shape (k, P), float32
        Orthonormal rows.
    """

    mean: np.ndarray
    components: np.ndarray

    def transform(self, flat: np.ndarray) -> np.ndarray:
        """(N, P) pixels -> (N, k) coordinates, float32."""
        return (np.asarray(flat, np.float32) - self.mean) @ self.components.T

    def inverse_transform(self, coordinates: np.ndarray) -> np.ndarray:
        """(N, k) coordinates -> (N, P) pixels (not clipped), float32."""
        return np.asarray(coordinates, np.float32) @ self.components + self.mean


@dataclass(frozen=True)
class PixelPCA:
    """A fitted PCA of flattened training images (the first ``k`` components of it are PCA-k).

    Attributes
    ----------
    mean : np.ndarray, shape (P,), float32
        Mean training image, flattened (P = C*H*W).
    components : np.ndarray, shape (K, P), float32
        Unit principal directions, most variance first.
    explained_variance : np.ndarray, shape (K,), float32
        Variance of the training images along each component (ddof 1, as scikit-learn).
    explained_variance_ratio : np.ndarray, shape (K,), float32
        Its share of the total pixel variance.
    n_samples : int
        Training images it was fitted on.
    """

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    n_samples: int

    @property
    def n_components(self) -> int:
        return len(self.components)

    def arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays (for :class:`core.store.derived.Derived`); :meth:`from_arrays` reads them back."""
        return {"mean": self.mean, "components": self.components, "explained_variance": self.explained_variance,
                "explained_variance_ratio": self.explained_variance_ratio, "n_samples": np.array(self.n_samples)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PixelPCA:
        return cls(np.asarray(arrays["mean"], np.float32), np.asarray(arrays["components"], np.float32),
                   np.asarray(arrays["explained_variance"], np.float32),
                   np.asarray(arrays["explained_variance_ratio"], np.float32), int(arrays["n_samples"]))

    def _check(self, k: int) -> None:
        if not 1 <= k <= self.n_components:
            raise ValueError(f"this pixel PCA holds {self.n_components} components; {k} were asked for")

    def projection(self, k: int) -> LinearProjection:
        """The first ``k`` components as a map's projector (:class:`core.analysis.Embedding`): pixels to
        PCA coordinates and back, as a fitted scikit-learn PCA's ``transform`` / ``inverse_transform``."""
        self._check(k)
        return LinearProjection(self.mean, self.components[:k])

    def reducer(self, k: int, image_shape: tuple[int, int, int]):
        """A fitted :class:`core.models.reducers.PCAReducer` of latent size ``k``."""
        from core.config import TrainConfig
        from core.models.methods import default_model_config
        from core.models.reducers import PCAReducer

        self._check(k)
        arrays = {"components": self.components[:k], "mean": self.mean, "explained_variance": self.explained_variance[:k],
                  "explained_variance_ratio": self.explained_variance_ratio[:k]}
        return PCAReducer.from_state(default_model_config("pca", k), TrainConfig(), tuple(image_shape), arrays, [], 0.0)


def _flip(components: np.ndarray) -> np.ndarray:
    """scikit-learn's sign convention (``svd_flip`` on the components): the entry of largest
    magnitude of each component is positive, so the same data gives the same map."""
    rows = np.arange(len(components))
    signs = np.sign(components[rows, np.argmax(np.abs(components), axis=1)])
    signs[signs == 0] = 1.0
    return components * signs[:, None]


def fit_pixel_pca(images, max_components: int | None = MAX_COMPONENTS) -> PixelPCA:
    """PCA of the flattened images, every component up to ``max_components`` from one fit.

    Parameters
    ----------
    images : np.ndarray or core.data.pixels.Pixels, shape (N, C, H, W)
        Training images in [0, 1] (a dataset split's read-only view works: it is read a chunk at a time).
    max_components : int or None
        Components kept (default 64; None: all ``min(N, P)``).

    Returns
    -------
    PixelPCA
        With ``K = min(max_components, N, P)`` components.
    """
    n = len(images)
    if n < 2:
        raise ValueError(f"a pixel PCA needs at least 2 images; got {n}")
    pixels = int(np.prod(images.shape[1:]))
    k = min(n, pixels) if max_components is None else min(int(max_components), n, pixels)
    if pixels > MAX_COVARIANCE_PIXELS:
        return _fit_randomized(images, n, pixels, k)
    # two passes of float32 chunks: the mean (float64 sums), then the centred covariance
    total = np.zeros(pixels, np.float64)
    for start in range(0, n, CHUNK):
        total += np.asarray(images[start:start + CHUNK], np.float32).reshape(-1, pixels).sum(axis=0, dtype=np.float64)
    mean = total / n
    mean32 = mean.astype(np.float32)
    scatter = np.zeros((pixels, pixels), np.float64)
    for start in range(0, n, CHUNK):
        x = np.asarray(images[start:start + CHUNK], np.float32).reshape(-1, pixels) - mean32
        scatter += x.T @ x  # float32 product (BLAS syrk), accumulated in float64
    variances, vectors = np.linalg.eigh(scatter / (n - 1))
    order = np.argsort(variances)[::-1]
    variances = np.clip(variances[order], 0.0, None)
    components = _flip(vectors[:, order[:k]].T)
    ratio = variances[:k] / max(float(variances.sum()), np.finfo(np.float64).tiny)
    return PixelPCA(mean32, np.ascontiguousarray(components, np.float32), variances[:k].astype(np.float32),
                    ratio.astype(np.float32), n)


def _fit_randomized(images, n: int, pixels: int, k: int) -> PixelPCA:
    from sklearn.decomposition import PCA

    from core.analysis._common import subset_index

    rows = subset_index(n, max(4 * k, MAX_RANDOMIZED_VALUES // pixels), seed=0)
    x = np.asarray(images[rows], np.float32).reshape(len(rows), pixels)  # ours: scikit-learn may centre it in place
    pca = PCA(n_components=k, svd_solver="randomized", random_state=0, copy=False).fit(x)
    return PixelPCA(pca.mean_.astype(np.float32), np.ascontiguousarray(pca.components_, np.float32),
                    pca.explained_variance_.astype(np.float32), pca.explained_variance_ratio_.astype(np.float32),
                    len(rows))
