"""3-D maps of the test split (PCA-3 of a model's codes, PCA-3 of the pixels) and UMAP maps.

The same :class:`~core.analysis.embedding.Embedding` as the 2-D maps, with ``test_xy`` and
``train_xy`` of shape (N, k) for k = 2 or 3 numbers per point, so
:func:`~core.analysis.embedding.embedding_scores` (k-NN accuracy, trustworthiness, silhouette:
all of them work in any number of dimensions) scores them the same way.

UMAP (the ``umap-learn`` package) is an optional extra: it pulls numba and llvmlite (about 64 MB
of wheels) and compiles on first use, so it is not a requirement. :func:`umap_available` says
whether it can be used here; asking for ``projection='umap'`` without it raises a
:class:`ModuleNotFoundError` that says how to install it.
"""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import numpy as np

from core.analysis._common import subset_index
from core.analysis.embedding import MAX_TRAIN_POINTS, Embedding, encode_rows, pixel_pca_embedding, placed_train_rows

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer

PROJECTIONS_ND = ("pca", "umap")
UMAP_INSTALL = "pip install umap-learn"
UMAP_NEIGHBORS = 15  # umap-learn's default neighbourhood size


@functools.cache
def umap_available() -> bool:
    """True when ``import umap`` works (the optional ``umap-learn`` package)."""
    try:
        import umap  # noqa: F401
    except Exception:  # noqa: BLE001 - missing, or numba failing to load: either way not usable
        return False
    return True


def _umap(n_components: int, seed: int, n_points: int):
    try:
        import umap
    except ImportError as exc:
        raise ModuleNotFoundError(f"UMAP needs the optional umap-learn package: {UMAP_INSTALL}") from exc
    return umap.UMAP(n_components=n_components, n_neighbors=max(2, min(UMAP_NEIGHBORS, n_points - 1)),
                     random_state=seed, n_jobs=1)  # a seed makes it serial anyway


def _pad(points: np.ndarray, k: int) -> np.ndarray:
    """Codes shorter than ``k`` numbers: the missing axes are 0 (a 2-D code lies flat in 3-D)."""
    points = np.asarray(points, np.float32)
    if points.shape[1] >= k:
        return points[:, :k]
    return np.concatenate([points, np.zeros((len(points), k - points.shape[1]), np.float32)], axis=1)


def project_nd(train: np.ndarray, test: np.ndarray, projection: str = "pca", n_components: int = 3, seed: int = 0,
               fit_rows: np.ndarray | None = None):
    """(train_xy, test_xy, projector): rows of ``train`` (M, D) and ``test`` (N, D) as k numbers each.

    The projection is fitted on ``train[fit_rows]`` (all of ``train`` when None) and applied to
    ``train`` and ``test`` (both PCA and UMAP can place new points). Inputs with at most
    ``n_components`` numbers are kept as they are (padded with zeros) and ``projector`` is then None.

    Returns
    -------
    train_xy : (M, k) float32 ; test_xy : (N, k) float32 ; projector : fitted estimator or None
    """
    if projection not in PROJECTIONS_ND:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS_ND)}; got {projection!r}")
    if n_components not in (2, 3):
        raise ValueError(f"n_components must be 2 or 3; got {n_components}")
    train = np.asarray(train, np.float32).reshape(len(train), -1)
    test = np.asarray(test, np.float32).reshape(len(test), -1)
    if train.shape[1] <= n_components:
        return _pad(train, n_components), _pad(test, n_components), None
    if projection == "pca":
        from sklearn.decomposition import PCA

        projector = PCA(n_components=n_components, random_state=seed)
    else:
        projector = _umap(n_components, seed, len(train) if fit_rows is None else len(fit_rows))
    projector.fit(train if fit_rows is None else train[fit_rows])
    return (projector.transform(train).astype(np.float32), projector.transform(test).astype(np.float32), projector)


def embed_nd(reducer: Reducer, dataset: Dataset, projection: str = "pca", n_components: int = 3,
             max_points: int | None = 2000, seed: int = 0, max_train: int | None = MAX_TRAIN_POINTS,
             all_train: bool = False) -> Embedding:
    """A k-D map (k = 2 or 3) of a fitted reducer's codes of the test split, by PCA or UMAP of the codes.

    Parameters
    ----------
    reducer : fitted Reducer (PCA or any autoencoder)
    dataset : core.data.datasets.Dataset
    projection : {'pca', 'umap'}
        Fitted on the training codes (UMAP on at most ``max_points`` of them: it is slower).
    n_components : {2, 3}
    max_points : int or None
        Test images placed (a seeded subsample); None: all.
    seed : int
    max_train : int or None
        Training images that fit the projection and the k-NN score (a seeded subsample; None: all).
    all_train : bool
        Place every training image too; the projection and the k-NN are still fitted on the
        ``max_train`` subsample (see :func:`~core.analysis.embedding.embed`). With UMAP, placing
        60,000 points takes minutes.

    Returns
    -------
    Embedding
        ``projection`` is 'pca-3d' / 'umap-3d' for 3 components, 'pca' / 'umap' for 2 (or 'code'
        when the code is not longer than ``n_components``); ``test_xy`` (N, k), ``train_xy`` (M, k),
        ``test_codes`` (N, d).
    """
    start = time.perf_counter()
    if projection == "umap":
        max_train = max_points if max_train is None else min(max_train, max_points or max_train)
    test_index = subset_index(len(dataset.test), max_points, seed)
    train_index, train_fit = placed_train_rows(len(dataset.train), max_train, seed + 1, all_train)
    test_codes = encode_rows(reducer, dataset.test.images, test_index)
    train_codes = encode_rows(reducer, dataset.train.images, train_index)
    train_xy, test_xy, projector = project_nd(train_codes, test_codes, projection, n_components, seed, train_fit)
    name = "code" if projector is None else projection
    if n_components == 3:
        name += "-3d"
    return Embedding(reducer.method, int(reducer.latent_dim_), name, test_xy, dataset.test.labels[test_index],
                     test_index, train_xy, dataset.train.labels[train_index], projector, test_codes,
                     train_index, time.perf_counter() - start, train_fit)


def embed3d(reducer: Reducer, dataset: Dataset, max_points: int | None = 2000, seed: int = 0,
            projection: str = "pca") -> Embedding:
    """PCA-3 (or UMAP-3) of a reducer's codes of the test split: :func:`embed_nd` with 3 components.

    A code of 3 numbers is drawn as it is; shorter codes lie flat (missing axes 0). Check
    ``reducer.latent_dim_ >= 3`` for a map that uses all three axes.

    Returns
    -------
    Embedding with ``test_xy`` of shape (N, 3) and ``train_xy`` (M, 3).
    """
    return embed_nd(reducer, dataset, projection, 3, max_points, seed)


def pixel_pca_embedding3d(dataset: Dataset, max_points: int | None = 2000, seed: int = 0,
                          max_train: int | None = MAX_TRAIN_POINTS) -> Embedding:
    """PCA-3 of the raw pixels (fitted on the training split): the 3-D baseline map.

    Returns
    -------
    Embedding
        ``method`` 'pixels', ``projection`` 'pixels-pca-3d', ``latent_dim`` the pixel count,
        ``test_xy`` (N, 3), ``test_codes`` the flattened test pixels (N, C*H*W), ``projector`` the
        fitted scikit-learn PCA.
    """
    return pixel_pca_embedding(dataset, max_points, seed, max_train, n_components=3)
