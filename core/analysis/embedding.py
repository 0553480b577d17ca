"""2-D maps of the test split for any reducer, and how faithful each map is.

A map is the code itself when the reducer has a 2-D code; otherwise a projection of the codes:
t-SNE by default (openTSNE's FFT-accelerated t-SNE of every test point, up to :data:`TSNE_MAX_POINTS`
points; chosen by measurement in bench/projection.py: on MNIST conv d=30 it keeps the classes apart
where PCA of the same codes mixes them) or PCA (fitted on training codes). PCA-2 of the raw pixels is
the baseline map every other map is compared with; the fair comparison for a long code is the same
projection of PCA's code at the same size.

A map can hold every image of a dataset (``max_points=None, all_train=True``: 70,000 for MNIST).
What fits the map (the PCA projection, the k-NN classifier) is the same seeded subsample of at most
:data:`MAX_TRAIN_POINTS` training images whether or not the other training images are placed too,
so the test points and the scores do not move when training points are added. The quadratic scores
(trustworthiness, silhouette) run on seeded subsamples of the test points (:data:`TRUST_POINTS`,
:data:`SILHOUETTE_POINTS`) however many are drawn.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.analysis._common import subset_index

if TYPE_CHECKING:
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer

PROJECTIONS = ("auto", "code", "pca", "tsne")
KNN_NEIGHBORS = 5  # k of the k-NN classifier that scores a map
TRUST_NEIGHBORS = 5  # neighbourhood size of scikit-learn's trustworthiness
DEFAULT_MAP_POINTS = 10_000  # test images a latent map places by default: every one of MNIST's
MAX_TRAIN_POINTS = 5000  # training points that fit the PCA projection and the k-NN (all may be placed)
DEFAULT_VIEW = "tsne"  # what 'auto' draws for a code longer than 2 numbers (bench/projection.py)
TSNE_MAX_POINTS = 100_000  # points one t-SNE map places at most (70,000 = all of MNIST take minutes on 2 cores)
TSNE_PERPLEXITY = 30.0  # openTSNE's and scikit-learn's default neighbourhood size
TSNE_JOBS = 2  # openTSNE's threads: the machines this runs on have 2 cores
TRUST_POINTS = 2000  # trustworthiness compares all pairs: scored on this many seeded test points
SILHOUETTE_POINTS = 5000  # silhouette too is quadratic: this many seeded test points
ENCODE_CHUNK = 8192  # images encoded at a time (60,000 MNIST images at once would copy 188 MB of floats)
# openTSNE's defaults are 250 iterations of early exaggeration, then 500. On MNIST conv d=30's 10,000 test codes
# (bench part projection) 125 + 250 iterations, exact neighbours (Annoy's search alone took 11 s) and a
# coarser FFT grid (one interval per 2 units of the map, not 1) kept the k-NN accuracy (0.969 vs 0.969) in a fifth
# of the CPU time: 22 CPU-s instead of 117 (a shared 2-core machine, load 2 to 5)
TSNE_EARLY_ITERATIONS = 125
TSNE_ITERATIONS = 250
TSNE_INTS_IN_INTERVAL = 2
TSNE_EXACT_NEIGHBOURS_UP_TO = 20_000  # points: past this, openTSNE's approximate search (exact is quadratic)
EMBEDDING_COLUMNS = ["method", "latent_dim", "projection", "knn_accuracy", "trustworthiness",
                     "code_trustworthiness", "silhouette", "seconds"]


@dataclass
class Embedding:
    """A 2-D map of (a subsample of) the test split, with the training points placed on it.

    Attributes
    ----------
    method : str
        The reducer's name ('PCA', 'conv', ...; 'pixels' for the raw-pixel baseline).
    latent_dim : int
        Size of the code that was mapped (the pixel count for the baseline).
    projection : str
        'code' (the 2-D code itself), 'pca', 'tsne' or 'pixels-pca'.
    test_xy : np.ndarray, shape (N, 2), float32
    test_labels : np.ndarray, shape (N,)
    test_index : np.ndarray, shape (N,)
        Row of each point in ``dataset.test``.
    train_xy : np.ndarray, shape (M, 2), float32
        Training points on the same map (the k-NN score is fitted on them).
    train_labels : np.ndarray, shape (M,)
    projector : object or None
        What maps codes to the plane: None for projection 'code' (then a map location *is* a code
        and can be decoded); a fitted scikit-learn PCA for 'pca' / 'pixels-pca'; the TSNE
        estimator for 'tsne' (it cannot place new points).
    test_codes : np.ndarray, shape (N, d)
        The codes that were projected (flattened pixels for the baseline).
    train_index : np.ndarray, shape (M,)
        Row of each training point in ``dataset.train``.
    seconds : float
        Wall time to build the map (encoding included).
    train_fit : np.ndarray or None, shape (F,)
        Rows of ``train_xy`` that fitted the projection and the k-NN score (None: all of them).
        When every training image is placed, these are the same seeded rows a map without them
        uses, so both score alike.
    """

    method: str
    latent_dim: int
    projection: str
    test_xy: np.ndarray
    test_labels: np.ndarray
    test_index: np.ndarray
    train_xy: np.ndarray
    train_labels: np.ndarray
    projector: object | None
    test_codes: np.ndarray
    train_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    seconds: float = 0.0  # wall time to build the map (encoding included)
    train_fit: np.ndarray | None = None

    @property
    def fit_xy(self) -> np.ndarray:
        """(F, k) the training points that fitted the map (and fit the k-NN score)."""
        return self.train_xy if self.train_fit is None else self.train_xy[self.train_fit]

    @property
    def fit_labels(self) -> np.ndarray:
        """(F,) their labels."""
        return self.train_labels if self.train_fit is None else self.train_labels[self.train_fit]


def resolve_projection(projection: str, latent_dim: int) -> str:
    """'auto' -> 'code' for a code of at most 2 numbers, else :data:`DEFAULT_VIEW` (t-SNE); checks the name."""
    if projection not in PROJECTIONS:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}; got {projection!r}")
    if projection == "auto":
        return "code" if latent_dim <= 2 else DEFAULT_VIEW
    if projection == "code" and latent_dim > 2:
        raise ValueError(f"projection 'code' needs a code of at most 2 numbers; this one has {latent_dim}: use 'pca' or 'tsne'")
    return projection


def _as_plane(codes: np.ndarray) -> np.ndarray:
    """A 1-D code is drawn on the x axis (y = 0); a 2-D code is the plane itself."""
    codes = np.asarray(codes, np.float32)
    return np.column_stack([codes, np.zeros(len(codes), np.float32)]) if codes.shape[1] == 1 else codes


def encode_rows(reducer: Reducer, images, index: np.ndarray, chunk: int = ENCODE_CHUNK) -> np.ndarray:
    """Codes (len(index), d) of ``images[index]``, encoded ``chunk`` images at a time.

    ``images`` is a split's images (N, C, H, W) or the dataset's read-only view of them; a chunk at a
    time keeps the float copy of 60,000 MNIST images (188 MB) out of memory.
    """
    index = np.asarray(index)
    if len(index) <= chunk:
        return np.asarray(reducer.encode(images[index]), np.float32)
    return np.concatenate([np.asarray(reducer.encode(images[index[i:i + chunk]]), np.float32)
                           for i in range(0, len(index), chunk)])


def placed_train_rows(n_train: int, max_train: int | None, seed: int, all_train: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(train_index, train_fit): the training rows placed on a map and, when that is every row,
    which of them fit it (the same seeded subsample a map without the others uses; else None)."""
    fit = subset_index(n_train, max_train, seed)
    if not all_train or len(fit) == n_train:
        return fit, None
    return np.arange(n_train), fit


def _project(train_codes: np.ndarray, test_codes: np.ndarray, projection: str, seed: int,
             fit_rows: np.ndarray | None = None):
    """(train_xy, test_xy, projector) for codes (M, d) and (N, d); a PCA is fitted on
    ``train_codes[fit_rows]`` (all rows when None)."""
    if projection == "code":
        return _as_plane(train_codes), _as_plane(test_codes), None
    if projection == "pca":
        from sklearn.decomposition import PCA

        if train_codes.shape[1] < 2:
            return _as_plane(train_codes), _as_plane(test_codes), None
        pca = PCA(n_components=2, random_state=seed).fit(train_codes if fit_rows is None else train_codes[fit_rows])
        return (pca.transform(train_codes).astype(np.float32), pca.transform(test_codes).astype(np.float32), pca)
    # t-SNE is fitted on the test points alone (what the map shows); training points are placed onto the
    # finished map, so adding all of them (all_train) moves no test point and changes no score
    test_xy, train_xy = tsne_plane(test_codes, train_codes, seed)
    return train_xy, test_xy, None


def projection_params(projection: str) -> dict:
    """What a map by ``projection`` depends on besides the codes and the points: the library and its
    settings (part of the key a map is kept on disk under, so a new setting computes a new map)."""
    if projection != "tsne":
        return {}
    from importlib.metadata import version

    return {"library": f"openTSNE {version('openTSNE')}", "perplexity": TSNE_PERPLEXITY, "iterations": TSNE_ITERATIONS,
            "early": TSNE_EARLY_ITERATIONS, "ints_in_interval": TSNE_INTS_IN_INTERVAL,
            "exact_neighbours_up_to": TSNE_EXACT_NEIGHBOURS_UP_TO, "gradient": "auto", "placed": "transform"}


def tsne_plane(fit_codes: np.ndarray, place_codes: np.ndarray | None = None, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """openTSNE's t-SNE of ``fit_codes`` (FFT-accelerated from 10,000 points), ``place_codes`` placed onto it.

    Parameters
    ----------
    fit_codes : np.ndarray, shape (N, d)
        Embedded together (perplexity :data:`TSNE_PERPLEXITY`, lowered for tiny sets).
    place_codes : np.ndarray, shape (M, d), optional
        Placed by openTSNE's ``transform``: each point optimised against the fixed map (its
        interactions with the other placed points ignored), so they do not move the fitted ones.
    seed : int

    Returns
    -------
    fit_xy : np.ndarray, shape (N, 2), float32
    place_xy : np.ndarray, shape (M, 2), float32 (M = 0 without ``place_codes``)
    """
    from openTSNE import TSNE

    fit_codes = np.asarray(fit_codes, np.float64).reshape(len(fit_codes), -1)
    perplexity = float(min(TSNE_PERPLEXITY, max(2.0, (len(fit_codes) - 1) / 3.0)))
    # openTSNE's own choice of gradient: FFT interpolation from 10,000 points, Barnes-Hut below (where the
    # FFT's fixed grid costs more: 300 points took 18 s of CPU by FFT, 3.8 s by Barnes-Hut)
    fitted = TSNE(n_components=2, perplexity=perplexity, n_iter=TSNE_ITERATIONS, negative_gradient_method="auto",
                  early_exaggeration_iter=TSNE_EARLY_ITERATIONS, ints_in_interval=TSNE_INTS_IN_INTERVAL,
                  neighbors="exact" if len(fit_codes) <= TSNE_EXACT_NEIGHBOURS_UP_TO else "auto",
                  n_jobs=TSNE_JOBS, random_state=seed).fit(fit_codes)
    placed = np.zeros((0, 2), np.float32)
    if place_codes is not None and len(place_codes):
        k = min(25, len(fit_codes) - 1)  # openTSNE's default neighbours, fewer on a tiny map
        placed = np.asarray(fitted.transform(np.asarray(place_codes, np.float64).reshape(len(place_codes), -1),
                                             perplexity=min(5.0, k / 3.0), k=k), np.float32)
    return np.asarray(fitted, np.float32), placed


def embed(reducer: Reducer, dataset: Dataset, projection: str = "auto", max_points: int | None = 2000, seed: int = 0,
          max_train: int | None = MAX_TRAIN_POINTS, all_train: bool = False) -> Embedding:
    """Map the test split to 2-D through ``reducer``'s codes.

    Parameters
    ----------
    reducer : fitted Reducer
        Any reducer (PCA or autoencoder).
    dataset : core.data.datasets.Dataset
    projection : {'auto', 'code', 'pca', 'tsne'}
        'auto' is 'code' when the code has at most 2 numbers (a 1-D code is drawn with y = 0),
        else 'tsne' (:data:`DEFAULT_VIEW`). 'pca': PCA of the codes, fitted on the training codes.
        'tsne': openTSNE's t-SNE of the test codes, the training codes placed onto it
        (:func:`tsne_plane`); at most :data:`TSNE_MAX_POINTS` points in all.
    max_points : int or None
        At most this many test points (a seeded random subsample; None: all; for 'tsne' at most
        :data:`TSNE_MAX_POINTS`).
    seed : int
        Seed of the subsamples and of t-SNE.
    max_train : int or None
        At most this many training points (a seeded subsample, default 5000; None: all) fit the
        PCA projection and the k-NN classifier of :func:`embedding_scores`.
    all_train : bool
        Place every training image on the map too (``train_xy`` then has ``len(dataset.train)``
        rows); the projection and the k-NN are still fitted on the ``max_train`` subsample
        (``train_fit``), so the test points and the scores are those of the map without them.
        For 'tsne', the test and training points must not exceed :data:`TSNE_MAX_POINTS`.

    Returns
    -------
    Embedding
        ``test_xy`` (N, 2), ``train_xy`` (M, 2), ``test_codes`` (N, d), indices and labels.
    """
    start = time.perf_counter()
    latent_dim = int(reducer.latent_dim_)
    projection = resolve_projection(projection, latent_dim)
    if projection == "tsne":
        max_points = min(max_points or TSNE_MAX_POINTS, TSNE_MAX_POINTS)
        if all_train and min(max_points, len(dataset.test)) + len(dataset.train) > TSNE_MAX_POINTS:
            raise ValueError(f"a t-SNE map places at most {TSNE_MAX_POINTS:,} points; this one would hold "
                             f"{min(max_points, len(dataset.test)) + len(dataset.train):,}: use projection 'pca' for "
                             "a map of the whole dataset, or all_train=False")
    test_index = subset_index(len(dataset.test), max_points, seed)
    train_index, train_fit = placed_train_rows(len(dataset.train), max_train, seed + 1, all_train)
    test_codes = encode_rows(reducer, dataset.test.images, test_index)
    train_codes = encode_rows(reducer, dataset.train.images, train_index)
    train_xy, test_xy, projector = _project(train_codes, test_codes, projection, seed, train_fit)
    return Embedding(reducer.method, latent_dim, projection, test_xy, dataset.test.labels[test_index],
                     test_index, train_xy, dataset.train.labels[train_index], projector, test_codes,
                     train_index, time.perf_counter() - start, train_fit)


class _Flatten:
    """A stand-in reducer whose code is the flattened pixels (for :func:`encode_rows`)."""

    @staticmethod
    def encode(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        return images.reshape(len(images), -1)


def pixel_pca_embedding(dataset: Dataset, max_points: int | None = 2000, seed: int = 0,
                        max_train: int | None = MAX_TRAIN_POINTS, n_components: int = 2,
                        all_train: bool = False, pca=None) -> Embedding:
    """The baseline map: PCA-2 (or PCA-``n_components``) of the raw pixels, fitted on the training split.

    Same fields as :func:`embed` (``all_train`` places every training image; the PCA is fitted on
    every training image either way); ``method`` is 'pixels', ``projection`` 'pixels-pca' (for 3
    components 'pixels-pca-3d'), ``latent_dim`` the pixel count, ``test_xy`` (N, n_components),
    ``test_codes`` the flattened test pixels (N, C*H*W) and ``projector`` the fitted PCA.
    ``pca``: that PCA already fitted on the training pixels (anything with ``transform`` and
    ``inverse_transform``, e.g. :meth:`core.analysis.pixel_pca.PixelPCA.projection` of the one kept on
    disk), instead of fitting a scikit-learn PCA here.
    """
    start = time.perf_counter()
    test_index = subset_index(len(dataset.test), max_points, seed)
    train_index, train_fit = placed_train_rows(len(dataset.train), max_train, seed + 1, all_train)
    pixels = int(np.prod(dataset.image_shape))
    if pca is None:
        from sklearn.decomposition import PCA

        pca = PCA(n_components=n_components, random_state=0).fit(np.asarray(dataset.train.images).reshape(len(dataset.train), pixels))
    test_codes = encode_rows(_Flatten, dataset.test.images, test_index)
    # placed a chunk at a time: 60,000 flattened MNIST images would be 188 MB of floats
    train_xy = np.concatenate([pca.transform(encode_rows(_Flatten, dataset.train.images, train_index[i:i + ENCODE_CHUNK]))
                               for i in range(0, len(train_index), ENCODE_CHUNK)] or [np.zeros((0, n_components))])
    projection = "pixels-pca" if n_components == 2 else f"pixels-pca-{n_components}d"
    return Embedding("pixels", pixels, projection, pca.transform(test_codes).astype(np.float32),
                     dataset.test.labels[test_index], test_index, train_xy.astype(np.float32),
                     dataset.train.labels[train_index], pca, test_codes, train_index, time.perf_counter() - start,
                     train_fit)


def knn_accuracy(train_xy: np.ndarray, train_labels: np.ndarray, test_xy: np.ndarray, test_labels: np.ndarray,
                 n_neighbors: int = KNN_NEIGHBORS) -> float:
    """Accuracy of a k-NN classifier fitted on training points and scored on test points.

    Parameters
    ----------
    train_xy : (M, k) ; train_labels : (M,) ; test_xy : (N, k) ; test_labels : (N,)

    Returns
    -------
    float in [0, 1]: 1.0 when every class forms its own island in the map, about 1/classes when
    the map (or the labelling) carries no class information.
    """
    from sklearn.neighbors import KNeighborsClassifier

    k = max(1, min(n_neighbors, len(train_xy)))
    return float(KNeighborsClassifier(n_neighbors=k).fit(train_xy, train_labels).score(test_xy, test_labels))


def trustworthiness_score(high: np.ndarray, low: np.ndarray, n_neighbors: int = TRUST_NEIGHBORS,
                          max_points: int | None = TRUST_POINTS, seed: int = 0) -> float:
    """scikit-learn's trustworthiness of ``low`` (N, 2) as a map of ``high`` (N, D), on at most
    ``max_points`` seeded points (its cost is quadratic). 1.0: no false neighbours in the map."""
    from sklearn.manifold import trustworthiness

    rows = subset_index(len(high), max_points, seed)
    high = np.asarray(high, np.float32)[rows].reshape(len(rows), -1)
    low = np.asarray(low, np.float32)[rows]
    k = max(1, min(n_neighbors, len(rows) // 2 - 1))
    return float(trustworthiness(high, low, n_neighbors=k))


def silhouette(xy: np.ndarray, labels: np.ndarray, max_points: int | None = SILHOUETTE_POINTS, seed: int = 0) -> float:
    """Silhouette of the classes in the map (-1..1, higher: classes better separated), on at most
    ``max_points`` seeded points (its cost is quadratic); NaN when there are fewer than 2 classes
    or no class has 2 points. ``xy`` (N, k), ``labels`` (N,)."""
    from sklearn.metrics import silhouette_score

    rows = subset_index(len(labels), max_points, seed)
    xy, labels = np.asarray(xy)[rows], np.asarray(labels)[rows]
    n_classes = len(np.unique(labels))
    if not 2 <= n_classes <= len(labels) - 1:
        return float("nan")
    return float(silhouette_score(xy, labels))


def scored_points(n_test_points: int) -> dict[str, int]:
    """How many of a map's test points each score of :func:`embedding_scores` is measured on.

    Parameters
    ----------
    n_test_points : int
        The test points the map places (``len(emb.test_index)``).

    Returns
    -------
    dict
        ``knn_accuracy``: all of them; ``trustworthiness``: at most :data:`TRUST_POINTS`;
        ``silhouette``: at most :data:`SILHOUETTE_POINTS` (both quadratic, on seeded samples).
        Digits has 360 test images: a page says 360, not the cap of 2,000.
    """
    n = int(n_test_points)
    return {"knn_accuracy": n, "trustworthiness": min(n, TRUST_POINTS), "silhouette": min(n, SILHOUETTE_POINTS)}


def embedding_scores(emb: Embedding, dataset: Dataset | None = None) -> dict[str, float]:
    """How faithful a map is.

    Parameters
    ----------
    emb : Embedding
    dataset : core.data.datasets.Dataset, optional
        The dataset the map was made from. With it, ``trustworthiness`` compares the map with the
        test images' pixels (the question a user asks: are the map's neighbours similar images?),
        which makes maps of different models comparable. Without it, ``trustworthiness`` falls
        back to the codes (the same as ``code_trustworthiness``).

    Returns
    -------
    dict
        ``knn_accuracy``: 5-NN classifier fitted on the training points that fitted the map
        (``emb.train_fit``), scored on all its test points. ``trustworthiness``: scikit-learn's
        trustworthiness (5 neighbours, on :data:`TRUST_POINTS` seeded test points) of the map against
        the pixels (see above). ``code_trustworthiness``: the same against the reducer's codes, i.e.
        what the 2-D projection step loses (1.0 for projection 'code'). ``silhouette``: of the test
        classes in the map (on :data:`SILHOUETTE_POINTS` seeded test points).
        ``trustworthiness_space`` is 'pixels' or 'codes'.
    """
    rows = subset_index(len(emb.test_index), TRUST_POINTS, 0)  # the quadratic scores' seeded subsample
    code_trust = 1.0 if emb.projection == "code" and emb.test_codes.shape[1] <= 2 else \
        trustworthiness_score(emb.test_codes[rows], emb.test_xy[rows], max_points=None)
    if emb.projection == "pixels-pca":  # its codes are the pixels
        trust, space = code_trust, "pixels"
    elif dataset is not None:
        pixels = np.asarray(dataset.test.images[emb.test_index[rows]], np.float32).reshape(len(rows), -1)
        trust, space = trustworthiness_score(pixels, emb.test_xy[rows], max_points=None), "pixels"
    else:
        trust, space = code_trust, "codes"
    return {"knn_accuracy": knn_accuracy(emb.fit_xy, emb.fit_labels, emb.test_xy, emb.test_labels),
            "trustworthiness": trust, "code_trustworthiness": code_trust,
            "silhouette": silhouette(emb.test_xy, emb.test_labels), "trustworthiness_space": space}


def embedding_table(dataset: Dataset, reducers: Iterable[Reducer], projections=("auto",), max_points: int | None = 2000,
                    seed: int = 0) -> pd.DataFrame:
    """Scores of every (reducer, projection) map, with the pixel-PCA baseline as the first row.

    Parameters
    ----------
    dataset : core.data.datasets.Dataset
    reducers : iterable of fitted Reducer
    projections : iterable of str
        Any of 'auto', 'code', 'pca', 'tsne'; 'code' is skipped for codes of more than 2 numbers
        and a projection that resolves to one already done for that reducer is not repeated.
    max_points, seed : see :func:`embed`.

    Returns
    -------
    pd.DataFrame
        Columns method, latent_dim, projection, knn_accuracy, trustworthiness (against the pixels),
        code_trustworthiness, silhouette, seconds (building and scoring the map).
    """
    def row(emb: Embedding, start: float) -> dict:
        scores = embedding_scores(emb, dataset)
        return {"method": emb.method, "latent_dim": emb.latent_dim, "projection": emb.projection,
                **{k: scores[k] for k in EMBEDDING_COLUMNS[3:7]}, "seconds": time.perf_counter() - start}

    start = time.perf_counter()
    rows = [row(pixel_pca_embedding(dataset, max_points, seed), start)]
    for reducer in reducers:
        done = set()
        for projection in projections:
            if projection == "code" and reducer.latent_dim_ > 2:
                continue
            resolved = resolve_projection(projection, reducer.latent_dim_)
            if resolved in done:
                continue
            done.add(resolved)
            start = time.perf_counter()
            rows.append(row(embed(reducer, dataset, resolved, max_points, seed), start))
    return pd.DataFrame(rows, columns=EMBEDDING_COLUMNS)


def map_grid(emb: Embedding, n: int = 25, margin: float = 0.08) -> np.ndarray:
    """Points covering a map's extent plus a margin: the clickable "empty space" of a 2-D code map.

    Returns
    -------
    np.ndarray, shape (n*n, 2), float32
    """
    xy = emb.test_xy if emb.train_xy is None or not len(emb.train_xy) else np.concatenate([emb.test_xy, emb.train_xy])
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = (high - low) * margin
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], n)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], n)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)


def decode_pixel_map(emb: Embedding, x: float, y: float, image_shape: tuple[int, int, int]) -> np.ndarray:
    """The image at (x, y) of the pixel-PCA map (:func:`pixel_pca_embedding`): PCA's own decoder.

    Returns
    -------
    np.ndarray, shape (C, H, W), float32 in [0, 1]
    """
    flat = emb.projector.inverse_transform(np.array([[x, y]], np.float32))
    return np.clip(flat.reshape(image_shape), 0.0, 1.0).astype(np.float32)


def coordinates_table(pixel_map: Embedding, model_map: Embedding, dataset: Dataset) -> pd.DataFrame:
    """Both maps' coordinates of every test image either map shows, one row per image.

    Columns ``test_index``, ``label``, ``class``, ``pixel_pca_x``, ``pixel_pca_y``, ``model_x``,
    ``model_y`` (NaN where a map leaves the image out).
    """
    pixels = pd.DataFrame({"test_index": pixel_map.test_index, "pixel_pca_x": pixel_map.test_xy[:, 0],
                           "pixel_pca_y": pixel_map.test_xy[:, 1]})
    model = pd.DataFrame({"test_index": model_map.test_index, "model_x": model_map.test_xy[:, 0],
                          "model_y": model_map.test_xy[:, 1]})
    table = pixels.merge(model, on="test_index", how="outer").sort_values("test_index", ignore_index=True)
    labels = dataset.test.labels[table["test_index"].to_numpy()]
    table.insert(1, "label", labels)
    table.insert(2, "class", [dataset.class_names[c] for c in labels])
    return table
