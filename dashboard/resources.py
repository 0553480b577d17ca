"""The only place where the dashboard caches work from ``core``: thin wrappers, nothing else.

``st.cache_resource`` holds what lives once per process (datasets, fitted reducers);
``st.cache_data`` holds computed arrays and tables, keyed by plain hashable values: the data config,
the data folder and :class:`core.store.records.ModelRef` references. :func:`reducer` is the one resolver
from a reference to a fitted reducer. Pages call these and never train, open files or touch torch.

What is expensive and the same for every session and every server run is also kept on disk by
:mod:`core.store.derived`, beside the checkpoint (or under the dataset's key) it was computed from: the
built-in datasets' pixels (so a new server reads MNIST without importing torchvision), the pixel PCA
(fitted once for every size: maps, the error curve and PCA baselines share it) and the pixel map's
scores, the PCA error curve, each model's error row, test codes, code ranges, class means and
encoder and decoder as ONNX (the pages run models in ONNX Runtime, not torch), the denoising and
rate-distortion tables (keyed by every model's weights), and the architecture tables (so the Train
page need not import torch). In classroom mode nothing is written (the store is read-only to the
room): what is on disk is read, the rest computed in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import streamlit as st

from core.config import DataConfig, ModelConfig, NoiseConfig, TrainConfig
from core.data.datasets import Dataset, resolve_data_config, resolve_data_dir
from core.errors import CheckpointError
from core.models.methods import BASELINE, build_reducer, default_model_config, get_method
from core.store.checkpoints import WEIGHTS, CheckpointStore
from core.store.derived import (
    Derived,
    architecture_of,
    class_means_of,
    code_stats_of,
    decoder_size_of,
    denoising_rows_of,
    error_row_of,
    load_dataset_cached,
    model_map_of,
    onnx_graphs_of,
    pca_curve_of,
    pixel_map_of,
    pixel_pca_of,
    rd_rows_of,
    test_codes_of,
)
from core.store.jobs import Job, TrainingJobs
from core.store.records import ModelRecord, ModelRef
from core.store.zoo import ZooModel, default_train_config, default_zoo, zoo_status

if TYPE_CHECKING:  # core.analysis imports scipy and scikit-image: not before a page computes something
    from core.analysis.pixel_pca import PixelPCA


def store() -> CheckpointStore:
    """The checkpoint store (``$LATENT_LAB_CHECKPOINTS`` or ./checkpoints), read at each call."""
    return CheckpointStore()


def data_dir_in_use(data_dir: str | None = None) -> str:
    return str(resolve_data_dir(data_dir))


def _writable() -> bool:
    """Derived files are written unless this server is in classroom mode (read-only to the room)."""
    from dashboard.policy import policy

    return not policy().classroom


def _data_derived(config: DataConfig) -> Derived:
    return Derived.of_dataset(store().root, config, _writable())


def _derived(config: DataConfig, ref: ModelRef) -> tuple[Derived, dict]:
    """Where one model's derived values live, and the key parameters that name the model there:
    a checkpoint's own folder, or (a method fitted on the spot) the dataset's folder."""
    if ref.checkpoint is None:
        return _data_derived(config), {"method": ref.method, "latent_dim": ref.latent_dim}
    record = store().record(ref.checkpoint)
    return Derived.of_model(store().root, record, _writable()), {}


# --- datasets and models ---------------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading the dataset...", max_entries=4)
def load_data(config: DataConfig, data_dir: str, download: bool = False) -> Dataset:
    """The dataset, once per process (a built-in one read back from disk after the first load: see
    :func:`core.store.derived.load_dataset_cached`). Raises ``core.errors.DatasetError`` with a fix when absent."""
    return load_dataset_cached(config, data_dir, store().root, _writable(), download=download)


@st.cache_data(ttl=10, show_spinner=False, max_entries=16)
def resolve(config: DataConfig, data_dir: str) -> DataConfig:
    """The config with an own folder's content fingerprint (names, sizes, times of its images), so
    changed images are new data; re-read at most every 10 s (0.14 s per 20k files)."""
    return resolve_data_config(config, data_dir)


def cached_models(config: DataConfig) -> list[ModelRecord]:
    """Every cached learned model (autoencoder) trained on this data: zoo models first, then newest."""
    records = [r for r in store().list().records
               if r.data == config and get_method(r.family).capabilities.learned]
    zoo_order = {(z.model, z.train.noise): i for i, z in enumerate(default_zoo())}
    return sorted(records, key=lambda r: zoo_order.get((r.model, r.train.noise), len(zoo_order)))


def damaged_models(records: list[ModelRecord]) -> dict[str, str]:
    """Checkpoint name -> what is wrong, for those of ``records`` whose weights are missing or do not match
    their record's SHA-256 (one flipped byte is enough): pages treat them as missing models, so no page
    meets them half-way through drawing. Each weights file is hashed once per size and modification time."""
    root = store().root
    problems = {r.name: _weights_problem(str(root), r.name, _file_state(root / r.name / WEIGHTS)) for r in records}
    return {name: problem for name, problem in problems.items() if problem}


def _file_state(path: Path) -> tuple[int, int]:
    try:
        stat = path.stat()  # through the checkpoint's link: its current version's file
    except OSError:
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


@st.cache_data(show_spinner="Checking the models' weights...", max_entries=256)
def _weights_problem(root: str, name: str, state: tuple[int, int]) -> str:
    """'' when the weights match their checksum, else the store's message (what is wrong and the fix);
    ``state`` (size, time of the file) is only the cache key: a changed file is hashed again."""
    try:
        CheckpointStore(root).verified_record(name)
    except CheckpointError as exc:
        return str(exc)
    return ""


@st.cache_resource(show_spinner="Loading the model...", max_entries=32)
def _checkpoint(root: str, name: str, created: str):
    from core.store.derived import runnable_checkpoint  # ONNX Runtime: imported by the first page that runs a model

    # the model's exported graphs in ONNX Runtime: no page waits for torch (core.runtime.onnx_reducer)
    return runnable_checkpoint(CheckpointStore(root), name, _writable())


@st.cache_resource(show_spinner="Fitting PCA to the training images...", max_entries=8)
def pixel_pca(config: DataConfig, data_dir: str) -> PixelPCA:
    """The PCA of the training pixels, up to 64 components (:mod:`core.analysis.pixel_pca`), fitted
    once per dataset and kept on disk: the pixel maps, the error curve and PCA baselines share it."""
    return pixel_pca_of(_data_derived(config), load_data(config, data_dir).train.images)


@st.cache_resource(show_spinner="Fitting PCA...", max_entries=32)
def _fitted(config: DataConfig, data_dir: str, method: str, latent_dim: int):
    dataset = load_data(config, data_dir)
    if method == BASELINE and latent_dim <= pixel_pca(config, data_dir).n_components:
        return pixel_pca(config, data_dir).reducer(latent_dim, dataset.image_shape)  # PCA-k: its first k components
    return build_reducer(default_model_config(method, latent_dim)).fit(dataset.train.images)


def reducer(config: DataConfig, data_dir: str, ref: ModelRef):
    """The fitted reducer behind a reference: a cached checkpoint, or a method fitted on the spot."""
    if ref.checkpoint is not None:
        return _checkpoint(str(store().root), ref.checkpoint, ref.created)
    return _fitted(config, data_dir, ref.method, ref.latent_dim)


def _reducers(config: DataConfig, data_dir: str, models: dict[str, ModelRef]) -> dict:
    return {label: reducer(config, data_dir, ref) for label, ref in models.items()}


# --- the zoo and training (in the background: a training outlives its page) -------------------------
def zoo(dataset: Dataset, train: TrainConfig | None = None) -> list[ZooModel]:
    """The default models for this dataset and the cached model standing for each (see core.store.zoo)."""
    return zoo_status(dataset.config, store().list().records, train or default_train_config(len(dataset.train), dataset.image_shape))


@st.cache_resource
def jobs() -> TrainingJobs:
    """The training queue of this server process: trainings outlive the page that started them."""
    return TrainingJobs()


def submit_training(dataset: Dataset, model: ModelConfig, train: TrainConfig, retrain: bool = False) -> Job:
    """Queue one model (or join the job already training it)."""
    return jobs().submit(dataset, model, train, store(), retrain=retrain)


def submit_zoo(dataset: Dataset, train: TrainConfig) -> list[Job]:
    """Queue every default model that has no cached model yet."""
    return [submit_training(dataset, z.model, z.train) for z in zoo(dataset, train) if not z.trained]


def delete_model(record: ModelRecord) -> None:
    store().delete(record)
    _checkpoint.clear()
    st.cache_data.clear()


@st.cache_data(show_spinner=False, max_entries=64)
def architecture(config: ModelConfig, image_shape: tuple[int, int, int]) -> pd.DataFrame:
    """A Keras-like summary table: layer, type, output shape, parameters (kept on disk: building the
    model needs torch, which the Train page need not wait for when the table is known)."""
    return architecture_of(store().root, config, image_shape, _writable())


# --- computed tables and arrays ---------------------------------------------------------------------
@st.cache_data(show_spinner="Measuring reconstruction error at every latent size...", max_entries=16)
def error_table(config: DataConfig, data_dir: str, models: tuple[ModelRef, ...], max_pca_dim: int | None = None) -> pd.DataFrame:
    """:func:`core.analysis.error_vs_latent`: PCA's curve (kept on disk per dataset) and one row per
    model (kept in its checkpoint), so a second server loads no model to draw it."""
    from core.analysis.error_curve import ERROR_COLUMNS, pca_error_curve

    dataset = load_data(config, data_dir)
    curve = pca_curve_of(_data_derived(config), dataset, lambda: pixel_pca(config, data_dir))  # up to 64
    if max_pca_dim is not None and max_pca_dim > curve["latent_dim"].max():
        curve = pca_error_curve(dataset, max_pca_dim, pca=pixel_pca(config, data_dir))  # longer than kept: validated there
    elif max_pca_dim is not None:
        curve = curve[curve["latent_dim"] <= max_pca_dim].reset_index(drop=True)
    rows = []
    for ref in models:
        derived, named = _derived(config, ref)
        rows.append({**error_row_of(derived, named, lambda ref=ref: reducer(config, data_dir, ref), lambda: dataset),
                     "decoder_params": decoder_size(config, data_dir, ref)})
    # the same d is not the same decoder: each row says how many numbers its decoder holds
    curve = curve.assign(decoder_params=[decoder_size(config, data_dir, ModelRef.baseline(int(d))) for d in curve["latent_dim"]])
    if not rows:
        return curve
    return pd.concat([curve, pd.DataFrame(rows, columns=[*ERROR_COLUMNS, "decoder_params"])], ignore_index=True)


@st.cache_data(show_spinner=False, max_entries=256)
def decoder_size(config: DataConfig, data_dir: str, ref: ModelRef) -> int:
    """:func:`core.analysis.error_curve.decoder_size` of one model (a checkpoint's architecture, or
    the method's defaults for one fitted on the spot, e.g. PCA)."""
    from core.analysis.error_curve import decoder_size as size

    shape = load_data(config, data_dir).image_shape
    if ref.checkpoint is None:  # PCA (or a method fitted on the spot): counted from its config, no network built
        return size(default_model_config(ref.method, ref.latent_dim), shape)
    # kept on disk (the zoo command counts it): counting an autoencoder's decoder builds it in torch
    return decoder_size_of(store().root, store().record(ref.checkpoint).model, shape, _writable())


@st.cache_data(show_spinner="Rebuilding the images...", max_entries=32)
def reconstructions(config: DataConfig, data_dir: str, models: dict[str, ModelRef],
                    index: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Originals and each model's reconstructions of the same test images: label -> (n, C, H, W)."""
    images = load_data(config, data_dir).test.images[list(index)]
    return {"original": images, **{label: r.reconstruct(images) for label, r in _reducers(config, data_dir, models).items()}}


@st.cache_data(show_spinner="Placing the test images on the pixel-PCA map...", max_entries=16)
def pixel_map(config: DataConfig, data_dir: str, max_points: int, n_components: int = 2, all_train: bool = False):
    """(Embedding, scores) of PCA-2 (or PCA-3, for the 3-D view) on raw pixels; ``all_train`` places
    every training image too (the PCA fit and the scores are kept on disk)."""
    return pixel_map_of(_data_derived(config), load_data(config, data_dir), lambda: pixel_pca(config, data_dir),
                        max_points, n_components, all_train)


@st.cache_data(show_spinner="Drawing the model's map: the first t-SNE of a long code takes 1-5 minutes on 10,000 "
                             "images on 2 cores (more with the training images); then it is kept on disk...", max_entries=32)
def model_map(config: DataConfig, data_dir: str, ref: ModelRef, projection: str, max_points: int, all_train: bool = False):
    """(Embedding, scores) of one model's codes (2-D codes directly, else projected: t-SNE by default);
    ``all_train`` places every training image too. The map and its scores are kept on disk beside the
    weights (:func:`core.store.derived.model_map_of`): computed once per model, then read."""
    derived, named = _derived(config, ref)
    return model_map_of(derived, named, lambda: reducer(config, data_dir, ref), load_data(config, data_dir),
                        projection, max_points, all_train, latent_dim=ref.latent_dim)


@st.cache_data(show_spinner="Measuring the code's range on the training images...", max_entries=32)
def code_stats(config: DataConfig, data_dir: str, ref: ModelRef):
    """LatentStats of a reducer's codes over the training images (principal directions for long codes),
    kept on disk (it encodes thousands of training images)."""
    from core.analysis import LatentStats

    derived, named = _derived(config, ref)
    fields = code_stats_of(derived, named, lambda: reducer(config, data_dir, ref), lambda: load_data(config, data_dir),
                           ref.latent_dim)
    return LatentStats(**{k: int(v) if k == "n_codes" else v for k, v in fields.items()})


@st.cache_data(show_spinner=False, max_entries=64)
def interpolation(config: DataConfig, data_dir: str, ref: ModelRef, a: int, b: int, steps: int) -> np.ndarray:
    """(steps, C, H, W) decoded along the code line between test images a and b."""
    from core.analysis import interpolate

    images = load_data(config, data_dir).test.images
    return interpolate(reducer(config, data_dir, ref), images[a], images[b], steps=steps)


@st.cache_data(show_spinner=False, max_entries=32)
def manifold(config: DataConfig, data_dir: str, ref: ModelRef, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The n x n grid of decoded images over a 2-D code's data range: (images, xs, ys)."""
    from core.analysis import latent_grid

    return latent_grid(reducer(config, data_dir, ref), code_stats(config, data_dir, ref), n=n)


@st.cache_data(show_spinner=False, max_entries=32)
def prior_samples(config: DataConfig, data_dir: str, ref: ModelRef, n: int, seed: int) -> np.ndarray:
    from core.analysis import sample_prior

    return sample_prior(reducer(config, data_dir, ref), n=n, seed=seed)


@st.cache_data(show_spinner="Adding noise and cleaning it up...", max_entries=64)
def denoise_test_images(config: DataConfig, data_dir: str, models: dict[str, ModelRef], noise: NoiseConfig,
                        index: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    """label -> (n, C, H, W): 'clean', 'noisy' and each model's output on the noisy images."""
    from core.analysis import denoise_examples

    images = load_data(config, data_dir).test.images[list(index)]
    return denoise_examples(images, _reducers(config, data_dir, models), noise, seed=seed)


def denoise_images(config: DataConfig, data_dir: str, models: dict[str, ModelRef], images: np.ndarray,
                   noise: NoiseConfig | None, seed: int = 0) -> dict[str, np.ndarray]:
    """The same for the user's own images; ``noise=None`` cleans them as they are."""
    from core.analysis import denoise_examples

    reducers = _reducers(config, data_dir, models)
    if noise is not None:
        return denoise_examples(images, reducers, noise, seed=seed)
    return {"clean": images, "noisy": images, **{k: r.reconstruct(images) for k, r in reducers.items()}}


@st.cache_data(show_spinner="Measuring every method at several noise levels...", max_entries=32)
def denoising_curve(config: DataConfig, data_dir: str, models: dict[str, ModelRef], kind: str) -> pd.DataFrame:
    """PSNR and SSIM of the noisy test images and of each model's reconstruction of them, at every
    level of :func:`core.data.noise.curve_levels` (``kind``): each method's rows kept on disk with its
    checkpoint (``python -m core zoo`` writes the default models' rows)."""
    from core.analysis.denoise import denoising_frame

    def dataset() -> Dataset:
        return load_data(config, data_dir)

    parts = {"noisy": denoising_rows_of(_data_derived(config), {"method": "noisy"}, None, dataset, kind)}
    for label, ref in models.items():
        derived, named = _derived(config, ref)
        parts[label] = denoising_rows_of(derived, named, lambda ref=ref: reducer(config, data_dir, ref), dataset, kind)
    return denoising_frame(parts)


@st.cache_data(show_spinner="Compressing the test images at every setting...", max_entries=32)
def rd_table(config: DataConfig, data_dir: str, models: dict[str, ModelRef]) -> pd.DataFrame:
    """Rate-distortion rows of quantised codes (each model and PCA) and of JPEG on the same test
    images, each method's rows kept on disk with its checkpoint."""
    from core.analysis.compression import rd_frame

    def dataset() -> Dataset:
        return load_data(config, data_dir)

    rows = []
    for label, ref in models.items():
        derived, named = _derived(config, ref)
        rows += [{"method": label, **row}
                 for row in rd_rows_of(derived, named, lambda ref=ref: reducer(config, data_dir, ref), dataset)]
    rows += [{"method": "JPEG", **row} for row in rd_rows_of(_data_derived(config), {"method": "jpeg"}, None, dataset)]
    return rd_frame(rows)


@st.cache_data(show_spinner=False, max_entries=64)
def compressed(config: DataConfig, data_dir: str, models: dict[str, ModelRef], settings: tuple[tuple[str, str], ...],
               index: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Test images as each method delivers them at one setting of the rate-distortion table
    (``settings``: (method label, setting) pairs, e.g. the rows the page picked at its budget)."""
    from core.analysis.compression import decode_at_settings

    reducers = _reducers(config, data_dir, {label: ref for label, ref in models.items() if label in dict(settings)})
    return decode_at_settings(load_data(config, data_dir), reducers, dict(settings), np.asarray(index))


@st.cache_data(show_spinner=False, max_entries=8)
def raw_bits(config: DataConfig, data_dir: str) -> dict:
    """:func:`core.analysis.compression.raw_bits` of a seeded sample of the training images."""
    from core.analysis import compression, subset_index

    train = load_data(config, data_dir).train.images
    return compression.raw_bits(train[subset_index(len(train), compression.RANGE_IMAGES)])


# --- the decoder in the browser ----------------------------------------------------------------------
def browser_id(config: DataConfig, ref: ModelRef) -> str:
    """A stable id of one model for the browser, which keeps one decoder session per id."""
    return f"{ref.method}-d{ref.latent_dim}-{ref.checkpoint or config.key()}-{ref.created}"


@st.cache_data(show_spinner="Preparing the decoder for your browser...", max_entries=32)
def decoder_onnx(config: DataConfig, data_dir: str, ref: ModelRef) -> bytes:
    """The model's decoder as ONNX bytes (for the live decoder and the download), once per model."""
    # kept in the checkpoint: exporting costs seconds (and torch.onnx's import) on every new server
    derived, named = _derived(config, ref)
    return onnx_graphs_of(derived, named, lambda: _trainable(config, data_dir, ref))["decoder"]


def _trainable(config: DataConfig, data_dir: str, ref: ModelRef):
    """The model as a :class:`core.models.reducers.Reducer` (torch for a checkpoint): what an export needs, where
    :func:`reducer` may hand out an ONNX Runtime codec (called only when the graphs must be exported again)."""
    if ref.checkpoint is None:
        return reducer(config, data_dir, ref)
    return store().load(ref.checkpoint)


def test_codes(config: DataConfig, data_dir: str, ref: ModelRef, max_points: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Codes (n, d) and labels (n,) of a seeded sample of the test images (the pad's faint dots)."""
    from core.analysis import subset_index

    index = subset_index(len(load_data(config, data_dir).test), max_points, seed=0)
    return all_test_codes(config, data_dir, ref)[index], load_data(config, data_dir).test.labels[index]


@st.cache_data(show_spinner="Rebuilding every test image...", max_entries=16)
def test_errors(config: DataConfig, data_dir: str, ref: ModelRef) -> np.ndarray:
    """Each test image's reconstruction error (N_test,): mean squared error per value (the Latent map's
    colour by error)."""
    from core.analysis.error_curve import per_image_errors

    return per_image_errors(reducer(config, data_dir, ref), load_data(config, data_dir).test.images)


# --- Explore: neighbours, attribute vectors, traversal grids, the basis ------------------------------
@st.cache_data(show_spinner="Encoding every test image...", max_entries=16)
def all_test_codes(config: DataConfig, data_dir: str, ref: ModelRef) -> np.ndarray:
    """Codes (N_test, d) of the whole test split (what nearest neighbours search), kept on disk."""
    dataset = load_data(config, data_dir)
    return test_codes_of(*_derived(config, ref), lambda: reducer(config, data_dir, ref), lambda: dataset)


@st.cache_data(show_spinner="Finding the nearest test images...", max_entries=64)
def neighbours(config: DataConfig, data_dir: str, ref: ModelRef, index: int, k: int) -> pd.DataFrame:
    """The k nearest test images to test image ``index`` in the model's code, in pixels and in PCA's
    code at the same size (:func:`core.analysis.nearest_neighbours`)."""
    from core.analysis import nearest_neighbours

    pca_ref = ModelRef.baseline(ref.latent_dim)
    return nearest_neighbours(reducer(config, data_dir, ref), load_data(config, data_dir), index, k,
                              codes=all_test_codes(config, data_dir, ref),
                              pca_codes=all_test_codes(config, data_dir, pca_ref))


@st.cache_data(show_spinner="Averaging the codes of each class...", max_entries=32)
def class_mean_codes(config: DataConfig, data_dir: str, ref: ModelRef) -> np.ndarray:
    """(n_classes, d): the mean training code of each class (kept on disk)."""
    derived, named = _derived(config, ref)
    return class_means_of(derived, named, lambda: reducer(config, data_dir, ref), lambda: load_data(config, data_dir))


@st.cache_data(show_spinner="Decoding the traversal grid...", max_entries=64)
def traversal(config: DataConfig, data_dir: str, ref: ModelRef, index: int, cols: int):
    """The traversal grid (:class:`core.analysis.Traversal`) centred on test image ``index``'s code."""
    from core.analysis import traversal_grid

    model = reducer(config, data_dir, ref)
    code = model.encode(load_data(config, data_dir).test.images[index:index + 1])[0]
    return traversal_grid(model, code_stats(config, data_dir, ref), code, cols=cols)


@st.cache_data(show_spinner=False, max_entries=32)
def unit_move_images(config: DataConfig, data_dir: str, ref: ModelRef, max_moves: int = 16):
    """:class:`core.analysis.UnitMoves` of the decoder from the mean training code: along each code
    number for codes up to ``max_moves`` long, else along the codes' principal directions."""
    from core.analysis import unit_moves

    stats = code_stats(config, data_dir, ref)
    directions = None if ref.latent_dim <= max_moves else stats.directions
    return unit_moves(reducer(config, data_dir, ref), stats.mean, directions=directions, max_moves=max_moves)


# --- 3-D and UMAP maps (core.analysis.embedding3d) ---------------------------------------------------

@st.cache_data(show_spinner="Encoding the test images...", max_entries=32)
def model_map_nd(config: DataConfig, data_dir: str, ref: ModelRef, projection: str, n_components: int, max_points: int):
    """(Embedding, scores) of one model's codes in ``n_components`` (2 or 3) numbers by 'pca' or 'umap'."""
    from core.analysis import embed_nd, embedding_scores

    dataset = load_data(config, data_dir)
    emb = embed_nd(reducer(config, data_dir, ref), dataset, projection, n_components, max_points=max_points)
    return emb, embedding_scores(emb, dataset)


# --- watch it learn ----------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=16)
def moments(config: DataConfig, data_dir: str, ref: ModelRef):
    """The learning moments kept with a cached model (:func:`core.learning.load_moments`), or None when it
    was trained before they were kept (or is PCA, which is fitted, not trained)."""
    from core.learning import load_moments

    if ref.checkpoint is None:
        return None
    return load_moments(store(), store().record(ref.checkpoint))


@st.cache_data(show_spinner=False, max_entries=16)
def pca_targets(config: DataConfig, data_dir: str, latent_dim: int, sample_index: tuple[int, ...],
                shown_index: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a replay is measured against: the sample on PCA-d's 2-D map (its first two numbers: PCA's own
    top directions) (S, 2), PCA-d's reconstructions of the shown images and the images themselves
    (R, C, H, W) each."""
    pca = reducer(config, data_dir, ModelRef.baseline(latent_dim))
    test = load_data(config, data_dir).test.images
    codes = np.asarray(pca.encode(test[list(sample_index)]), np.float32)
    view = codes[:, :2] if codes.shape[1] >= 2 else np.column_stack([codes[:, 0], np.zeros(len(codes), np.float32)])
    shown = test[list(shown_index)]
    return view, pca.reconstruct(shown), np.asarray(shown, np.float32)


# --- figures the same for every session ---------------------------------------------------------------

@st.cache_resource(show_spinner=False, max_entries=64)
def shared_figure(key: tuple, _build):
    """A plotly figure built once per process for ``key`` and handed to every session (not a copy).

    For figures that only depend on what ``key`` names (data, model, view settings): e.g. the Latent
    map's scatters, whose building (plotly validating 10,000-70,000 points) was a fifth of the server's
    CPU per student visit (bench part "visits"). ``st.plotly_chart`` only reads the figure, so sessions
    may share it; a page must not change it after drawing.

    Parameters
    ----------
    key : tuple
        Everything the figure is drawn from, as hashable values (configs, :class:`ModelRef`, numbers,
        strings). Two figures that may differ must differ in ``key``.
    _build : callable
        ``() -> plotly.graph_objects.Figure``, called once per key (not hashed: Streamlit skips
        parameters whose name starts with an underscore).
    """
    return _build()
