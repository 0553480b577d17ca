"""Derived artefacts on disk: what is computed from a checkpoint or a dataset, kept for the next server.

The pages reuse results that are expensive on MNIST and the same for every session and every server
run: a built-in dataset's pixels (read without torchvision), the pixel PCA of the training split and
PCA's error curve, a model's test codes, error row, code ranges and its encoder and decoder as ONNX
(which the pages run instead of torch: :mod:`core.runtime.onnx_reducer`), the scores of a map. They are kept
beside what they were computed from, so they are keyed and invalidated like checkpoints:

* a model's files live in its checkpoint's version folder (``<root>/<name>/derived/``, i.e. inside
  ``.<name>.v-<id>``): a retrained model gets a new version folder and a deleted one loses its folder,
  so their derived files go with them; the record's weights SHA-256 is part of every key besides.
* a dataset's files live under ``<root>/.derived/<dataset>-<data key>/``; the data key covers the
  config (a folder dataset's includes a fingerprint of its files), so changed data is a new key.
  Tables over several models (denoising, rate-distortion) are kept one method at a time, each
  model's rows in its own folder (a fitted-on-the-spot PCA's, the noisy input's and JPEG's in the
  dataset's), so any choice of models on a page is read, not computed.

:func:`precompute_model` (called by a checkpoint save) and :func:`precompute_dataset` (called by
``python -m core zoo`` after training) write the first answers while the model or data is in memory;
:func:`precompute_models` (``python -m core zoo``, every time) what the zoo's models need torch for.

They are kept on the shelf, :mod:`core.store.shelf` (hashed keys checked on every read, atomic writes,
no pickle; a store that cannot be written never stops the caller). A model's ONNX graphs also carry
what they were exported from (its weights' SHA-256) in their own metadata, checked before a page
runs them or sends the decoder to the browser (:func:`onnx_graphs_of`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.samples import CLASS_MEAN_IMAGES, CURVE_IMAGES, RD_IMAGES, STATS_IMAGES, stats_directions
from core.store.shelf import DATASETS, Derived, arrays_sha256

if TYPE_CHECKING:
    import pandas as pd

    from core.analysis.embedding import Embedding
    from core.analysis.pixel_pca import PixelPCA
    from core.config import DataConfig, ModelConfig
    from core.data.datasets import Dataset
    from core.models.reducers import Reducer
    from core.store.checkpoints import CheckpointStore
    from core.store.records import ModelRecord

#: what an exported graph's metadata_props say it was exported from (core.runtime.export.graph_metadata reads them)
GRAPH_SOURCE, GRAPH_WEIGHTS = "latent_lab.exported_from", "latent_lab.weights_sha256"


# --- the dataset itself ----------------------------------------------------------------------------
def _embedded_file(package: str, relative: str) -> Path | None:
    """A data file inside an installed package (digits: scikit-learn's ``digits.csv.gz``), found
    without importing the package (0.3 ms, where ``importlib.metadata.distribution`` took 170 ms)."""
    from importlib.util import find_spec

    spec = find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = Path(folder) / relative
        if path.is_file():
            return path
    return None


def _source_identity(config: DataConfig, data_dir: str | os.PathLike | None) -> str | None:
    """What a built-in dataset's images are read from: the raw files' names, sizes and times (as a
    folder dataset's fingerprint), or for digits the SHA-256 of scikit-learn's digits file (57 kB:
    under a millisecond). None for own folders (their config already fingerprints them, but a load
    also reports skipped files, which are not stored): they are not kept on disk."""
    from core.data.data_sources import get_source
    from core.data.datasets import resolve_data_dir

    source = get_source(config.name)  # the table of datasets says where each one's files are
    if source.embedded is not None:
        path = _embedded_file(*source.embedded)
        if path is None:
            return None
        with open(path, "rb") as handle:
            return f"{'/'.join(source.embedded)} sha256:{hashlib.file_digest(handle, 'sha256').hexdigest()}"
    if source.files is None:
        return None
    raw = resolve_data_dir(data_dir) / source.files
    if not raw.is_dir():
        return None
    files = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in raw.iterdir() if p.is_file())
    return f"{raw.resolve()}:{files}" if files else None


def _dataset_arrays(dataset: Dataset) -> dict[str, np.ndarray]:
    return {"train_raw": dataset.train.images.raw, "train_labels": dataset.train.labels,
            "test_raw": dataset.test.images.raw, "test_labels": dataset.test.labels,
            "scale": np.array([dataset.train.images.scale, dataset.test.images.scale]),
            "class_names": np.array(dataset.class_names), "name": np.array(dataset.name),
            "source": np.array(dataset.source)}


def load_dataset_cached(config: DataConfig, data_dir: str | os.PathLike | None, root: str | os.PathLike,
                        writable: bool = True, download: bool = False):
    """:func:`core.data.datasets.load_dataset`, kept on disk as uint8 arrays for built-in datasets.

    MNIST's loader goes through torchvision (importing torch: seconds) and digits' through
    scikit-learn; a second server (or the CLI) reads the same 55 MB of uint8 pixels back in a
    fraction of a second and imports neither. The key covers the data config and the source
    (:func:`_source_identity`: the raw files' names, sizes and modification times, digits' file
    SHA-256), so replaced files are read again; the stored payload's SHA-256 is checked on every read
    (55 MB of MNIST arrays: ~36 ms of CPU), so another dataset's arrays under this key are not used.

    Returns
    -------
    core.data.datasets.Dataset
        Equal to what ``load_dataset`` returns (same pixels, labels, class names, config).
    """
    from core.data.datasets import Dataset, ImageSet, load_dataset
    from core.data.pixels import Pixels

    source = _source_identity(config, data_dir)
    if source is None:
        return load_dataset(config, data_dir=data_dir, download=download)
    derived = Derived.of_dataset(root, config, writable)

    arrays = derived.arrays("dataset", {"source": source},
                            lambda: _dataset_arrays(load_dataset(config, data_dir=data_dir, download=download)))
    scale = arrays["scale"]
    return Dataset(str(arrays["name"]), ImageSet(Pixels(arrays["train_raw"], float(scale[0])), arrays["train_labels"]),
                   ImageSet(Pixels(arrays["test_raw"], float(scale[1])), arrays["test_labels"]),
                   tuple(str(c) for c in arrays["class_names"]), config, str(arrays["source"]))


# --- what the pages keep, named once (the dashboard, the CLI and a save share these keys) -------------
def pixels_sha256(images) -> str:
    """SHA-256 of a set of images' content (:class:`core.data.pixels.Pixels`: its uint8 values and scale;
    any other array: its values), what a value fitted on them is keyed by."""
    raw = getattr(images, "raw", None)
    if raw is not None:
        return arrays_sha256(f"pixels/{float(images.scale)!r}", {"raw": raw})
    return arrays_sha256("array", {"images": np.asarray(images)})


def pixel_pca_of(derived: Derived, images) -> PixelPCA:
    """The dataset's pixel PCA (:func:`core.analysis.pixel_pca.fit_pixel_pca`, 64 components), keyed
    by the training images' content besides the dataset's key (hashing MNIST's 47 MB costs ~60 ms)."""
    from core.analysis.pixel_pca import MAX_COMPONENTS, PixelPCA, fit_pixel_pca

    params = {"max_components": MAX_COMPONENTS, "images": pixels_sha256(images)}
    return PixelPCA.from_arrays(derived.arrays("pixel-pca", params, lambda: fit_pixel_pca(images, MAX_COMPONENTS).arrays()))


def pca_curve_of(derived: Derived, dataset: Dataset, pca: Callable[[], PixelPCA]) -> pd.DataFrame:
    """PCA's error curve at every size up to ``min(64, pixels, training images)`` (a page shows a
    prefix of it: one stored curve serves every comparison)."""
    from core.analysis.error_curve import SSIM_IMAGES, pca_error_curve

    return derived.table("pca-error-curve", {"ssim_images": SSIM_IMAGES, "seed": 0},
                         lambda: pca_error_curve(dataset, None, SSIM_IMAGES, 0, pca=pca()))


def error_row_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer], dataset: Callable[[], Dataset],
                 reconstructions: np.ndarray | None = None) -> dict:
    """One model's row of the error table (:func:`core.analysis.error_curve.reducer_error_row`);
    ``reducer`` and ``dataset`` are called only when the row is not on disk.

    The key leaves out the row's SSIM sample size (``SSIM_IMAGES``, which changes with
    :data:`core.store.shelf.CODE_VERSION`): reading a stored row then imports nothing of :mod:`core.analysis` (pandas,
    pyarrow), which keeps a cached ``python -m core zoo`` (``make run``) at a fraction of a second."""
    def compute() -> dict:
        from core.analysis.error_curve import reducer_error_row

        return reducer_error_row(reducer(), dataset(), reconstructions=reconstructions)

    return derived.values("error-row", {**named, "seed": 0}, compute)


def test_codes_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer], dataset: Callable[[], Dataset]
                  ) -> np.ndarray:
    """(N_test, d) codes of the whole test split (computed only when not on disk)."""
    return derived.arrays("test-codes", named, lambda: {"codes": np.asarray(reducer().encode(dataset().test.images),
                                                                              np.float32)})["codes"]


def pixel_map_of(derived: Derived, dataset: Dataset, pca: Callable[[], PixelPCA], max_points: int,
                 n_components: int = 2, all_train: bool = False) -> tuple[Embedding, dict]:
    """The latent map's baseline, PCA-2 (or 3) of the pixels, and its scores (kept on disk: the
    trustworthiness of 2,000 points against the pixels takes seconds on MNIST). The returned
    embedding's ``test_codes`` (the flattened test pixels, 31 MB on MNIST) are dropped once scored."""
    import dataclasses

    from core.analysis import embedding_scores, pixel_pca_embedding

    fitted = pca()
    emb = pixel_pca_embedding(dataset, max_points=max_points, n_components=n_components, all_train=all_train,
                              pca=fitted.projection(n_components) if n_components <= fitted.n_components else None)
    scores = derived.values("pixel-map-scores", {"max_points": max_points, "n_components": n_components, "all_train": all_train},
                            lambda: embedding_scores(emb, dataset))
    return dataclasses.replace(emb, test_codes=emb.test_codes[:, :0]), scores


def model_map_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer], dataset: Dataset, projection: str,
                 max_points: int, all_train: bool = False, latent_dim: int | None = None) -> tuple[Embedding, dict]:
    """One model's latent map (:func:`core.analysis.embed`) and its scores, both kept on disk.

    Every 2-D view is a derived value: the map's coordinates (a t-SNE of 10,000 codes takes tens of
    seconds) are kept beside the weights, keyed by them, the resolved projection with its library and
    settings (:func:`core.analysis.embedding.projection_params`) and the points, so a page reads them
    and neither loads the model nor imports the library. ``latent_dim`` (the code's size) resolves
    'auto' without loading the model; ``reducer`` is called only on a miss.

    Returns
    -------
    (Embedding, dict)
        The map without its codes (``test_codes`` of shape (N, 0)) or projector, and
        :func:`core.analysis.embedding_scores` of it against the pixels.
    """
    from core.analysis.embedding import resolve_projection

    latent_dim = int(reducer().latent_dim_) if latent_dim is None else int(latent_dim)
    params = map_params(named, resolve_projection(projection, latent_dim), max_points, all_train)
    return _map_from_arrays(derived.arrays("map", params, lambda: _map_arrays(reducer(), dataset, params)), dataset)


def map_params(named: Mapping, projection: str, max_points: int, all_train: bool) -> dict:
    """The key parameters of a kept map: the method's names, the resolved projection, its library and
    settings, the test points, the training points that fit it (seeded) and whether all are placed."""
    from core.analysis.embedding import MAX_TRAIN_POINTS, projection_params

    return {**named, "projection": projection, **projection_params(projection), "max_points": max_points,
            "all_train": all_train, "max_train": MAX_TRAIN_POINTS, "seed": 0}


_SCORES = ("knn_accuracy", "trustworthiness", "code_trustworthiness", "silhouette")


def _map_arrays(reducer: Reducer, dataset: Dataset, params: Mapping) -> dict[str, np.ndarray]:
    """A map computed (:func:`core.analysis.embed`) and scored, as the arrays :meth:`Derived.arrays` keeps."""
    from core.analysis import embed, embedding_scores

    emb = embed(reducer, dataset, projection=params["projection"], max_points=params["max_points"],
                all_train=params["all_train"])
    scores = embedding_scores(emb, dataset)
    arrays = {"test_xy": emb.test_xy, "test_index": emb.test_index, "train_xy": emb.train_xy,
              "train_index": emb.train_index, "method": np.array(emb.method), "latent_dim": np.array(emb.latent_dim),
              "projection": np.array(emb.projection), "seconds": np.array(emb.seconds),
              "space": np.array(scores["trustworthiness_space"]), **{k: np.array(scores[k], np.float64) for k in _SCORES}}
    if emb.train_fit is not None:
        arrays["train_fit"] = emb.train_fit
    return arrays


def _map_from_arrays(arrays: Mapping[str, np.ndarray], dataset: Dataset) -> tuple[Embedding, dict]:
    """(Embedding, scores) from a kept map; labels come from the dataset by row."""
    from core.analysis.embedding import Embedding

    test_index, train_index = arrays["test_index"], arrays["train_index"]
    emb = Embedding(str(arrays["method"]), int(arrays["latent_dim"]), str(arrays["projection"]), arrays["test_xy"],
                    dataset.test.labels[test_index], test_index, arrays["train_xy"], dataset.train.labels[train_index],
                    None, np.zeros((len(test_index), 0), np.float32), train_index, float(arrays["seconds"]),
                    arrays.get("train_fit"))
    return emb, {**{k: float(arrays[k]) for k in _SCORES}, "trustworthiness_space": str(arrays["space"])}


def runnable_checkpoint(store: CheckpointStore, folder: str | Path | ModelRecord, writable: bool = True) -> Reducer:
    """The reducer a page runs for one cached model: ONNX Runtime on its stored graphs, without torch.

    When the graphs are not on disk yet (a model trained before they existed, or by a training that
    did not export them) or are refused (damaged, or not exported from this checkpoint's weights:
    :func:`core.store.derived.onnx_graphs_of`), the checkpoint is loaded in torch and, if the store may be
    written, its graphs are exported and kept for the next server; that first call returns the torch
    reducer, already in memory.

    Raises
    ------
    core.errors.CheckpointError
        When the checkpoint is missing, corrupt or does not match its record.
    """
    from core.runtime.onnx_reducer import OnnxReducer  # ONNX Runtime: imported by the first page that runs a model

    record = store.verified_record(folder)
    derived = Derived.of_model(store.root, record, writable)
    graphs = onnx_graphs_of(derived, {}, None)
    if graphs is not None:
        try:
            return OnnxReducer.from_record(record, graphs)
        except Exception:  # noqa: BLE001 - a graph this runtime cannot load: the weights still can
            pass
    reducer = store.load(folder)
    if writable:
        onnx_graphs_of(derived, {}, lambda: reducer)
    return reducer


def precompute_maps(store: CheckpointStore, dataset: Dataset) -> None:
    """The latent map's first answers for a dataset in memory (``python -m core zoo`` after it
    trained): the scores of the pixel map, every cached model's default map (every test image up to
    :data:`core.analysis.embedding.DEFAULT_MAP_POINTS`, projection 'auto': t-SNE of a code longer
    than 2) and the same map of PCA's code at each of their sizes (what the page draws beside them)."""
    from core.analysis.embedding import DEFAULT_MAP_POINTS
    from core.models.methods import BASELINE, get_method

    points = min(len(dataset.test), DEFAULT_MAP_POINTS)
    data_derived = Derived.of_dataset(store.root, dataset.config)
    pixels = pixel_pca_of(data_derived, dataset.train.images)
    pixel_map_of(data_derived, dataset, lambda: pixels, points)
    records = [r for r in store.list().records if r.data == dataset.config and get_method(r.family).capabilities.learned]
    for record in records:
        model_map_of(Derived.of_model(store.root, record), {}, lambda record=record: runnable_checkpoint(
            store, record), dataset, "auto", points, latent_dim=record.latent_dim)
    for size in sorted({r.latent_dim for r in records if 2 < r.latent_dim <= pixels.n_components}):
        model_map_of(data_derived, {"method": BASELINE, "latent_dim": size},  # as dashboard.resources names PCA-k
                     lambda size=size: pixels.reducer(size, dataset.image_shape), dataset, "auto", points, latent_dim=size)


def graph_source(derived: Derived, named: Mapping) -> dict[str, str]:
    """What a graph exported for this entry says it was exported from (its ONNX ``metadata_props``):
    the shelf's identity and the method's parameters, and a checkpoint's weights SHA-256."""
    source = {GRAPH_SOURCE: json.dumps({"identity": derived.identity, "named": dict(named)}, sort_keys=True, default=str)}
    if derived.weights_sha256 is not None:
        source[GRAPH_WEIGHTS] = derived.weights_sha256
    return source


def _graphs_match(graphs: Mapping[str, np.ndarray], source: Mapping[str, str]) -> bool:
    """Whether both graphs say they were exported from ``source`` (not from another model of the same shapes)."""
    from core.runtime.export import graph_metadata

    try:
        return all({k: graph_metadata(graphs[part].tobytes()).get(k) for k in source} == dict(source)
                   for part in ("encoder", "decoder"))
    except (KeyError, ValueError, UnicodeDecodeError):  # a part missing, or not an ONNX model
        return False


def onnx_graphs_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer] | None) -> dict[str, bytes] | None:
    """The model's encoder and decoder as ONNX (:mod:`core.runtime.export`), ``{'encoder': bytes, 'decoder': bytes}``.

    Keyed by the exporter (torch's version, the opset) besides the weights. Each graph carries
    :func:`graph_source` in its metadata (a checkpoint's weights SHA-256), checked on every read: a
    graph copied in from another model is refused (exported again from ``reducer``, or None), so
    what a page runs and what the browser is sent is this model's. With ``reducer=None`` only what
    is stored is read (None when absent or refused): the caller decides whether to pay for torch.
    """
    from importlib.metadata import version

    from core.runtime.export import OPSET, decoder_onnx, encoder_onnx

    params = {**named, "torch": version("torch"), "opset": OPSET}
    source = graph_source(derived, named)

    def valid(graphs: dict[str, np.ndarray]) -> bool:
        return _graphs_match(graphs, source)

    if reducer is None:
        stored = derived.stored_arrays("onnx", params, valid)
    else:
        def export() -> dict[str, np.ndarray]:
            fitted = reducer()
            return {"encoder": np.frombuffer(encoder_onnx(fitted, metadata=source), np.uint8),
                    "decoder": np.frombuffer(decoder_onnx(fitted, metadata=source), np.uint8)}

        stored = derived.arrays("onnx", params, export, valid)
    return None if stored is None else {part: stored[part].tobytes() for part in ("encoder", "decoder")}


def precompute_model(derived: Derived, reducer: Reducer, dataset: Dataset, reconstructions: np.ndarray) -> None:
    """What a just-trained model's pages will ask for first, written while the model is in memory
    (a save calls it on the new version folder, so the checkpoint appears with them)."""
    error_row_of(derived, {}, lambda: reducer, lambda: dataset, reconstructions)
    test_codes_of(derived, {}, lambda: reducer, lambda: dataset)


DEFAULT_CURVE_NOISE = "gaussian"  # the Denoising page's first choice: the curve the zoo command keeps


def code_stats_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer], dataset: Callable[[], Dataset],
                  latent_dim: int) -> dict[str, np.ndarray]:
    """The fields of a model's :class:`core.analysis.LatentStats` over its training codes (the
    playground's slider ranges, the explorer's traversals), with :func:`core.samples.stats_directions`
    principal directions: it encodes thousands of training images, so it is kept."""
    n_directions = stats_directions(latent_dim)

    def compute() -> dict[str, np.ndarray]:
        import dataclasses

        from core.analysis import latent_stats

        stats = latent_stats(reducer(), dataset().train.images, n_directions=n_directions)
        return {k: v for k, v in dataclasses.asdict(stats).items() if v is not None}

    return derived.arrays("code-stats", {**named, "n_directions": n_directions, "max_images": STATS_IMAGES, "seed": 0},
                          compute)


def class_means_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer], dataset: Callable[[], Dataset]
                   ) -> np.ndarray:
    """(n_classes, d): each class's mean training code (:func:`core.analysis.class_means`), kept."""
    def compute() -> dict[str, np.ndarray]:
        from core.analysis import class_means

        return {"means": class_means(reducer(), dataset())}

    return derived.arrays("class-means", {**named, "max_images": CLASS_MEAN_IMAGES, "seed": 0}, compute)["means"]


def denoising_rows_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer] | None,
                      dataset: Callable[[], Dataset], kind: str, levels: Sequence[float] | None = None,
                      n_images: int = CURVE_IMAGES) -> list[dict]:
    """One method's rows of the Denoising page's curve (:func:`core.analysis.denoise.denoising_rows`):
    PSNR and SSIM of its reconstructions of noisy test images at each level of ``kind`` (default
    :func:`core.data.noise.curve_levels`). ``reducer`` None: the noisy images' own rows (kept with the
    dataset). Kept per method, so a table over any choice of models is read, not computed, and a
    retrained model's rows go with its old version folder.

    Returns
    -------
    list of dict
        One per level: ``noise``, ``level``, ``psnr``, ``ssim``.
    """
    from core.data.noise import curve_levels

    levels = [float(v) for v in (curve_levels(kind) if levels is None else levels)]

    def compute() -> dict:
        from core.analysis.denoise import denoising_rows
        from core.config import NoiseConfig

        noises = [NoiseConfig(kind, level) for level in levels]
        return {"rows": denoising_rows(dataset(), None if reducer is None else reducer(), noises, n_images)}

    params = {**named, "kind": kind, "levels": levels, "n_images": n_images, "seed": 0}
    return derived.values("denoising-rows", params, compute)["rows"]


def rd_rows_of(derived: Derived, named: Mapping, reducer: Callable[[], Reducer] | None, dataset: Callable[[], Dataset],
               n_images: int = RD_IMAGES) -> list[dict]:
    """One method's rows of the Compression page's rate-distortion table: its quantised codes at every
    bit depth (:func:`core.analysis.compression.code_rd_rows`), or JPEG's at every quality when
    ``reducer`` is None (kept with the dataset). Kept per method, as :func:`denoising_rows_of`.

    Returns
    -------
    list of dict
        ``setting``, ``bits_per_image``, ``entropy_bits_per_image``, ``psnr``, ``ssim`` (no ``method``).
    """
    def compute() -> dict:
        from core.analysis import subset_index
        from core.analysis.compression import DEFAULT_BITS, DEFAULT_JPEG_QUALITIES, code_rd_rows, jpeg_rd_rows

        data = dataset()
        images = data.test.images[subset_index(len(data.test), n_images, 0)]
        rows = (jpeg_rd_rows(images, DEFAULT_JPEG_QUALITIES) if reducer is None
                else code_rd_rows("", reducer(), images, data.train.images, DEFAULT_BITS, 0))
        return {"rows": [{k: v for k, v in row.items() if k != "method"} for row in rows]}

    return derived.values("rd-rows", {**named, "n_images": n_images, "seed": 0}, compute)["rows"]


def architecture_of(root: str | os.PathLike, config: ModelConfig, image_shape: tuple[int, int, int],
                    writable: bool = True) -> pd.DataFrame:
    """A Keras-like summary of a model config on images of ``image_shape``: columns layer, type,
    output shape, params (building the model needs torch; the Train page reads the stored table)."""
    import pandas as pd

    def summary() -> pd.DataFrame:
        from core.models import build_model
        from core.models.summary import layer_summary

        frame = pd.DataFrame(layer_summary(build_model(config, image_shape), image_shape))
        frame["output_shape"] = frame["output_shape"].map(lambda s: "(" + ", ".join("N" if v is None else str(v) for v in s) + ")")
        return frame.rename(columns={"output_shape": "output shape"})[["layer", "type", "output shape", "params"]]

    shelf, params = _architecture_entry(root, config, image_shape, writable)
    return shelf.table("architecture", params, summary)


def decoder_size_of(root: str | os.PathLike, config: ModelConfig, image_shape: tuple[int, int, int],
                    writable: bool = True) -> int:
    """:func:`core.analysis.error_curve.decoder_size` of a model config, kept beside its architecture
    table (counting an autoencoder's decoder builds it, which needs torch: pages only read it)."""
    def count() -> dict:
        from core.analysis.error_curve import decoder_size

        return {"decoder_size": decoder_size(config, image_shape)}

    shelf, params = _architecture_entry(root, config, image_shape, writable)
    return int(shelf.values("decoder-size", params, count)["decoder_size"])


def _architecture_entry(root, config: ModelConfig, image_shape, writable: bool = True) -> tuple[Derived, dict]:
    return (Derived(Path(root) / DATASETS / "architectures", "architecture", writable),
            {"model": config.key(), "image_shape": list(image_shape)})


def _precompute_method(derived: Derived, named: Mapping, reducer: Callable[[], Reducer], dataset: Callable[[], Dataset],
                       latent_dim: int, compression: bool, denoising: bool) -> None:
    """What the pages ask of any method (a cached model or PCA-k) on their first visit: its ONNX graphs,
    test codes, code statistics (the playground's and the explorer's sliders) and class means, its
    rows of the Compression table (``compression``) and of the Denoising page's default curve
    (``denoising``). Each is read when kept, else computed and kept."""
    onnx_graphs_of(derived, named, reducer)
    test_codes_of(derived, named, reducer, dataset)
    code_stats_of(derived, named, reducer, dataset, latent_dim)
    class_means_of(derived, named, reducer, dataset)
    if compression:
        rd_rows_of(derived, named, reducer, dataset)
    if denoising:
        denoising_rows_of(derived, named, reducer, dataset, DEFAULT_CURVE_NOISE)


def precompute_models(store: CheckpointStore, data: DataConfig, dataset: Callable[[], Dataset]) -> None:
    """What the pages ask of each cached model of this data first, where it is not on disk yet
    (``python -m core zoo``, every time): its encoder and decoder as ONNX (:func:`onnx_graphs_of`: the
    pages run them in ONNX Runtime, :mod:`core.runtime.onnx_reducer`, and never import torch), its
    architecture table, its error row (kept by a save, missing for a model saved before), and what
    :func:`_precompute_method` lists (Compression rows for plain models, Denoising rows for denoisers
    and the models of their sizes). Every learned model of the data, not only the zoo's: the pages
    show them all. Reading what is already there costs milliseconds and imports no
    torch, and ``dataset`` is called (and a model loaded) only when something is missing, so a
    cached zoo stays fast."""
    from functools import cache

    from core.models.methods import get_method

    dataset = cache(dataset)
    records = [r for r in store.list().records if r.data == data and get_method(r.family).capabilities.learned]
    denoiser_sizes = {r.latent_dim for r in records if r.train.noise is not None}
    for record in records:
        derived = Derived.of_model(store.root, record)
        reducer = cache(lambda record=record: store.load(record))
        shelf, params = _architecture_entry(store.root, record.model, record.image_shape)
        if not shelf.path("architecture", params, ".parquet").exists():  # reading it would import pandas and pyarrow
            architecture_of(store.root, record.model, record.image_shape)
        decoder_size_of(store.root, record.model, record.image_shape)  # the Compare table's column
        error_row_of(derived, {}, reducer, dataset)
        _precompute_method(derived, {}, reducer, dataset, record.latent_dim, compression=record.train.noise is None,
                           denoising=record.train.noise is not None or record.latent_dim in denoiser_sizes)


def precompute_dataset(root: str | os.PathLike, dataset: Dataset, data_dir: str | os.PathLike | None = None) -> None:
    """The dataset-level values for a dataset already in memory (``python -m core zoo`` after
    training): its pixels for built-in sets, the pixel PCA, PCA's error curve, JPEG's and the noisy
    input's table rows, and at the zoo's latent sizes what :func:`_precompute_method` lists for PCA-k
    (the playground's live decoder runs its graphs beside each model)."""
    from core.models.methods import BASELINE
    from core.store.zoo import default_zoo

    source = _source_identity(dataset.config, data_dir)
    derived = Derived.of_dataset(root, dataset.config)
    if source is not None:
        derived.arrays("dataset", {"source": source}, lambda: _dataset_arrays(dataset))
    pca = pixel_pca_of(derived, dataset.train.images)
    pca_curve_of(derived, dataset, lambda: pca)
    denoiser_sizes = {entry.model.latent_dim for entry in default_zoo() if entry.train.noise is not None}
    for size in sorted({entry.model.latent_dim for entry in default_zoo()}):
        if size > pca.n_components:
            continue
        # the dashboard's PCA-k beside the zoo's models (fitted on the spot: kept in the dataset's folder)
        _precompute_method(derived, {"method": BASELINE, "latent_dim": size},
                           lambda size=size: pca.reducer(size, dataset.image_shape), lambda: dataset, size,
                           compression=True, denoising=size in denoiser_sizes)
    rd_rows_of(derived, {"method": "jpeg"}, None, lambda: dataset)
    denoising_rows_of(derived, {"method": "noisy"}, None, lambda: dataset, DEFAULT_CURVE_NOISE)
