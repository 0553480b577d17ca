"""The only place where the dashboard caches work from ``core``.

``st.cache_resource`` holds things that live once per process (datasets, trained reducers);
``st.cache_data`` holds computed arrays and tables (embeddings, metrics, decoded grids), keyed by
plain values: the data config, the data folder and checkpoint names. Pages call these functions and
never train, open files or touch torch themselves.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.checkpoints import CheckpointStore, load_or_train
from core.config import DataConfig, ModelConfig, NoiseConfig, TrainConfig, model_config_from_dict
from core.datasets import Dataset, load_dataset, load_image_file, resolve_data_dir
from core.models import DESCRIPTIONS, MODELS, default_model_config
from core.zoo import ZooEntry, default_zoo
from core.zoo import default_train_config as scaled_train_config

EPOCHS_ENV = "LATENT_LAB_EPOCHS"  # tests set a tiny number; the zoo lookup and the zoo button agree on it

DATASET_CHOICES = {
    "digits": "Digits (embedded, 8x8)",
    "mnist": "MNIST",
    "fashion-mnist": "Fashion-MNIST",
    "kmnist": "KMNIST",
    "folder": "Own image folder",
}


# --- the one place the dashboard's training settings come from ------------------------------------
def default_train_config(n_train: int, **overrides) -> TrainConfig:
    """The training settings the dashboard looks models up with and trains the zoo with.

    Same rule as ``python -m core zoo`` (60 epochs on digits, a few on MNIST), so models trained by
    ``make run`` are found here. ``$LATENT_LAB_EPOCHS`` overrides the epochs (tests use 2).
    """
    if os.environ.get(EPOCHS_ENV) and "epochs" not in overrides:
        overrides["epochs"] = int(os.environ[EPOCHS_ENV])
    return scaled_train_config(n_train, **overrides)


def store() -> CheckpointStore:
    """The checkpoint store (``$LATENT_LAB_CHECKPOINTS`` or ./checkpoints), read at each call."""
    return CheckpointStore()


def data_dir_in_use(data_dir: str | None = None) -> str:
    return str(resolve_data_dir(data_dir))


# --- datasets ---------------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Loading the dataset...", max_entries=4)
def load_data(config: DataConfig, data_dir: str, download: bool = False) -> Dataset:
    """The dataset, once per process. Raises ``core.errors.DatasetError`` with a fix when absent."""
    return load_dataset(config, data_dir=data_dir, download=download)


@st.cache_data(show_spinner=False, max_entries=8)
def class_counts(config: DataConfig, data_dir: str) -> pd.DataFrame:
    ds = load_data(config, data_dir)
    counts = np.bincount(ds.train.labels, minlength=len(ds.class_names))
    return pd.DataFrame({"class": list(ds.class_names), "train images": counts})


# --- the model cache ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelEntry:
    """One cached checkpoint, described from its record (no torch needed)."""

    name: str  # checkpoint folder name: the key every page uses
    family: str
    latent_dim: int
    noise: str | None  # e.g. 'gaussian:0.3' for a denoising model
    trained_with: str  # '60 epochs' or 'time budget 30 s'
    test_mse: float
    test_psnr: float
    test_ssim: float
    train_seconds: float
    created: str
    model: dict  # the ModelConfig as a dict
    train: dict  # the TrainConfig as a dict
    tag: str = ""  # set when another cached model would have the same label

    @property
    def label(self) -> str:
        noise = f" denoising {self.noise}" if self.noise else ""
        tag = f" #{self.tag}" if self.tag else ""
        return f"{self.family} d={self.latent_dim}{noise} ({self.trained_with}){tag}"

    @property
    def method(self) -> str:
        return f"{self.family} denoising" if self.noise else self.family


def _entry(name: str, record: dict) -> ModelEntry:
    train = record.get("train", {})
    noise = train.get("noise")
    budget = train.get("time_budget")
    metrics = record.get("test_metrics", {})
    return ModelEntry(
        name=name, family=record["model"]["family"], latent_dim=int(record["model"]["latent_dim"]),
        noise=NoiseConfig(**noise).label() if noise else None,
        trained_with=f"time budget {budget:g} s" if budget else f"{train.get('epochs')} epochs",
        test_mse=float(metrics.get("test_mse", np.nan)), test_psnr=float(metrics.get("test_psnr", np.nan)),
        test_ssim=float(metrics.get("test_ssim", np.nan)), train_seconds=float(record.get("train_seconds", 0.0)),
        created=str(record.get("created", "")), model=record["model"], train=train,
    )


def cached_models(config: DataConfig) -> list[ModelEntry]:
    """Every cached checkpoint trained on this data, zoo models first, then newest first."""
    wanted = config.to_dict()
    entries = [_entry(info.name, info.record) for info in store().list() if info.record.get("data") == wanted]
    zoo_order = {(e.model.family, e.model.latent_dim, bool(e.train.noise)): i for i, e in enumerate(default_zoo())}
    entries = sorted(entries, key=lambda e: zoo_order.get((e.family, e.latent_dim, bool(e.noise)), 99))
    labels = [e.label for e in entries]  # widgets tell options apart by their label: keep labels unique
    return [replace(e, tag=e.name.rsplit("-", 1)[-1][:6]) if labels.count(e.label) > 1 else e for e in entries]


@st.cache_resource(show_spinner="Loading the model...", max_entries=32)
def _load_model(root: str, name: str, created: str):
    return CheckpointStore(root).load(Path(root) / name)


def load_model(entry: ModelEntry):
    """The trained reducer of one checkpoint, loaded once per process."""
    return _load_model(str(store().root), entry.name, entry.created)


def zoo_for(train: TrainConfig) -> list[ZooEntry]:
    """The default zoo trained with ``train``."""
    return default_zoo(train)


def zoo_entries(dataset: Dataset) -> list[ZooEntry]:
    return default_zoo(default_train_config(len(dataset.train)))


def zoo_table(dataset: Dataset) -> pd.DataFrame:
    """The default zoo for this dataset: one row per model, cached or not, with its test metrics."""
    st_ = store()
    by_name = {e.name: e for e in cached_models(dataset.config)}
    rows = []
    for entry in zoo_entries(dataset):
        folder = st_.folder_for(dataset.config, entry.model, entry.train)
        found = by_name.get(folder.name)
        if found is None:  # the same architecture trained with other settings (e.g. a time budget)
            noise = entry.train.noise.label() if entry.train.noise else None
            wanted = json.loads(json.dumps(entry.model.to_dict()))  # as the record holds it: lists, not tuples
            found = next((e for e in by_name.values() if e.model == wanted and e.noise == noise), None)
        rows.append({
            "model": entry.label, "family": entry.model.family, "latent size": entry.model.latent_dim,
            "cached": found is not None,
            "test MSE": found.test_mse if found else None,
            "training time (s)": round(found.train_seconds, 1) if found else None,
            "trained with": found.trained_with if found else "",
        })
    return pd.DataFrame(rows)


# --- actions (not cached: they change the cache) ------------------------------------------------------
def train_model(dataset: Dataset, model: ModelConfig, train: TrainConfig, callback=None, retrain: bool = False):
    """Train one model (or load it when this exact config is cached) and save it in the cache."""
    return load_or_train(dataset, model, train, store=store(), callback=callback, retrain=retrain)


def train_zoo(dataset: Dataset, train: TrainConfig, on_model=None, on_epoch=None) -> int:
    """Train every default-zoo model that is not cached yet; returns how many were trained.

    ``on_model(i, n, label)`` is called before each model, ``on_epoch(i, n, stats)`` after each epoch.
    """
    entries = default_zoo(train)
    missing = [e for e in entries if not store().folder_for(dataset.config, e.model, e.train).exists()]
    for i, entry in enumerate(missing):
        if on_model:
            on_model(i, len(missing), entry.label)
        callback = (lambda stats, i=i: on_epoch(i, len(missing), stats)) if on_epoch else None
        load_or_train(dataset, entry.model, entry.train, store=store(), callback=callback)
    return len(missing)


def delete_model(entry: ModelEntry) -> None:
    store().delete(store().root / entry.name)
    _load_model.clear()
    clear_computed()


def clear_computed() -> None:
    st.cache_data.clear()


# --- model descriptions -------------------------------------------------------------------------
FAMILIES = sorted(MODELS)


def family_description(family: str) -> str:
    return DESCRIPTIONS.get(family, "")


def model_config(family: str, latent_dim: int, **overrides) -> ModelConfig:
    return default_model_config(family, latent_dim, **overrides)


@st.cache_data(show_spinner=False, max_entries=64)
def architecture(config: ModelConfig, image_shape: tuple[int, int, int]) -> pd.DataFrame:
    """A Keras-like summary table: layer, type, output shape, parameters."""
    from core.models import build_model
    from core.models.summary import layer_summary

    rows = layer_summary(build_model(config, image_shape), image_shape)
    frame = pd.DataFrame(rows)
    frame["output_shape"] = frame["output_shape"].map(lambda s: "(" + ", ".join("N" if v is None else str(v) for v in s) + ")")
    return frame.rename(columns={"output_shape": "output shape"})[["layer", "type", "output shape", "params"]]


def entry_model_config(entry: ModelEntry) -> ModelConfig:
    return model_config_from_dict(entry.model)


# --- PCA ------------------------------------------------------------------------------------------
@st.cache_resource(show_spinner="Fitting PCA...", max_entries=32)
def pca(config: DataConfig, data_dir: str, latent_dim: int):
    from core.reducers import PCAReducer

    return PCAReducer(latent_dim).fit(load_data(config, data_dir).train.images)


# --- user images --------------------------------------------------------------------------------------
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_TYPES = ("png", "jpg", "jpeg", "bmp", "gif", "webp")


class UploadError(ValueError):
    """An uploaded file cannot be used; the message says why and what to do."""


def read_upload(data: bytes, name: str, image_shape: tuple[int, int, int], invert: str = "auto") -> tuple[np.ndarray, str]:
    """Validate an uploaded image and bring it to the dataset's shape.

    Returns (image (1, C, H, W) float32 in [0, 1], a note on what was done). Raises UploadError.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not name.lower().endswith(tuple("." + t for t in UPLOAD_TYPES)):
        raise UploadError(f"{name}: use one of {', '.join(UPLOAD_TYPES)}")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            mode, size = img.mode, img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(f"{name} is not a readable image (is the file complete?)") from None
    if min(size) < 4 or max(size) > 8000:
        raise UploadError(f"{name} is {size[0]}x{size[1]} pixels; use an image between 4 and 8000 pixels a side")
    c, h, w = image_shape
    image = load_image_file(io.BytesIO(data), h, grayscale=(c == 1))
    if image.shape[1:] != (h, w):
        image = image[:, :h, :w]
    note = f"{size[0]}x{size[1]} {mode} image, converted to {'grayscale' if c == 1 else 'RGB'} {w}x{h}"
    if invert == "yes" or (invert == "auto" and float(image.mean()) > 0.5):
        image = 1.0 - image
        note += ", inverted (the training images are light on dark)"
    return image[None].astype(np.float32), note


# --- computed tables and arrays (keyed by data config, data folder and checkpoint names) ----------------
def _entries(config: DataConfig, names: tuple[str, ...]) -> list[ModelEntry]:
    by_name = {e.name: e for e in cached_models(config)}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise FileNotFoundError(f"checkpoint(s) {', '.join(missing)} are no longer in the cache")
    return [by_name[n] for n in names]


def _models(config: DataConfig, names: tuple[str, ...]) -> list:
    return [load_model(e) for e in _entries(config, names)]


def signature(entries: list[ModelEntry]) -> tuple[str, ...]:
    """The cache key of a set of models: names plus creation stamps (a retrained model is new)."""
    return tuple(f"{e.name}@{e.created}" for e in entries)


def _names(sig: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(s.split("@", 1)[0] for s in sig)


@st.cache_data(show_spinner="Measuring reconstruction error at every latent size...", max_entries=16)
def error_table(config: DataConfig, data_dir: str, models: tuple[str, ...], max_pca_dim: int | None = None) -> pd.DataFrame:
    from core.analysis import error_vs_latent

    dataset = load_data(config, data_dir)
    return error_vs_latent(dataset, reducers=_models(config, _names(models)), max_pca_dim=max_pca_dim)


@st.cache_data(show_spinner=False, max_entries=16)
def variance_table(config: DataConfig, data_dir: str, max_dim: int | None = None) -> pd.DataFrame:
    from core.analysis import explained_variance

    return explained_variance(load_data(config, data_dir), max_dim=max_dim)


def test_subset(n_test: int, n: int, seed: int) -> np.ndarray:
    """``n`` test-image indices: a seeded random choice, sorted."""
    return np.sort(np.random.default_rng(seed).choice(n_test, size=min(n, n_test), replace=False))


@st.cache_data(show_spinner="Rebuilding the images...", max_entries=32)
def reconstructions(config: DataConfig, data_dir: str, models: tuple[str, ...], latent_dim: int,
                    index: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Originals, PCA and each model's reconstructions of the same test images: label -> (n, C, H, W)."""
    dataset = load_data(config, data_dir)
    images = dataset.test.images[list(index)]
    out = {"original": images, f"PCA (d={latent_dim})": pca(config, data_dir, latent_dim).reconstruct(images)}
    for entry in _entries(config, _names(models)):
        out[entry.label] = load_model(entry).reconstruct(images)
    return out


# --- latent maps --------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Placing the test images on the pixel-PCA map...", max_entries=16)
def pixel_map(config: DataConfig, data_dir: str, max_points: int):
    """(Embedding, scores) of PCA-2 on raw pixels."""
    from core.analysis import embedding_scores, pixel_pca_embedding

    dataset = load_data(config, data_dir)
    emb = pixel_pca_embedding(dataset, max_points=max_points)
    return emb, embedding_scores(emb, dataset)


@st.cache_data(show_spinner="Encoding the test images...", max_entries=32)
def model_map(config: DataConfig, data_dir: str, model: str, projection: str, max_points: int):
    """(Embedding, scores) of one model's codes (2-D codes directly, else projected)."""
    from core.analysis import embed, embedding_scores

    dataset = load_data(config, data_dir)
    (reducer,) = _models(config, _names((model,)))
    emb = embed(reducer, dataset, projection=projection, max_points=max_points)
    return emb, embedding_scores(emb, dataset)


def map_grid(emb, n: int = 25, margin: float = 0.08) -> np.ndarray:
    """(n*n, 2) points covering the map's extent (plus a margin): the clickable 'empty space'."""
    xy = np.concatenate([emb.test_xy, emb.train_xy]) if emb.train_xy is not None and len(emb.train_xy) else emb.test_xy
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = (high - low) * margin
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], n)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], n)
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)


def decode_pixel_map(config: DataConfig, data_dir: str, max_points: int, x: float, y: float) -> np.ndarray:
    """The image at (x, y) of the pixel-PCA map: PCA's own decoder. Returns (C, H, W)."""
    emb, _ = pixel_map(config, data_dir, max_points)
    shape = load_data(config, data_dir).image_shape
    flat = emb.projector.inverse_transform(np.array([[x, y]], np.float32))
    return np.clip(flat.reshape(shape), 0.0, 1.0).astype(np.float32)


def decode(config: DataConfig, model: str, codes) -> np.ndarray:
    """Decode codes (n, d) with a cached model: (n, C, H, W)."""
    from core.analysis import decode_code

    (reducer,) = _models(config, _names((model,)))
    return decode_code(reducer, np.asarray(codes, np.float32))


def encode(config: DataConfig, model: str, images: np.ndarray) -> np.ndarray:
    (reducer,) = _models(config, _names((model,)))
    return reducer.encode(images)


def reconstruct(config: DataConfig, model: str, images: np.ndarray) -> np.ndarray:
    (reducer,) = _models(config, _names((model,)))
    return reducer.reconstruct(images)


# --- decoder playground -----------------------------------------------------------------------------
MAX_SLIDER_DIMS = 16  # up to this many code numbers: one slider each; beyond: principal directions
N_DIRECTIONS = 8


def _reducer(config: DataConfig, data_dir: str, model: str):
    """A cached model by its signature, or PCA for 'PCA:<d>'."""
    if model.startswith("PCA:"):
        return pca(config, data_dir, int(model.split(":")[1]))
    (reducer,) = _models(config, _names((model,)))
    return reducer


@st.cache_data(show_spinner="Measuring the code's range on the training images...", max_entries=32)
def code_stats(config: DataConfig, data_dir: str, model: str):
    """LatentStats of a model's (or 'PCA:<d>') codes over the training images."""
    from core.analysis import latent_stats

    reducer = _reducer(config, data_dir, model)
    n_dir = None if reducer.latent_dim_ <= MAX_SLIDER_DIMS else min(N_DIRECTIONS, reducer.latent_dim_)
    return latent_stats(reducer, load_data(config, data_dir).train.images, n_directions=n_dir)


def reducer_for(config: DataConfig, data_dir: str, model: str):
    """The reducer behind a model signature or 'PCA:<d>' (fetch it once, outside a fragment)."""
    return _reducer(config, data_dir, model)


def decode_one(reducer, code) -> np.ndarray:
    """One code (d,) -> one image (C, H, W) with an already fetched reducer (the slider fast path)."""
    from core.analysis import decode_code

    return decode_code(reducer, np.asarray(code, np.float32))[0]


def encode_with(config: DataConfig, data_dir: str, model: str, images: np.ndarray) -> np.ndarray:
    return _reducer(config, data_dir, model).encode(images)


def decode_with(config: DataConfig, data_dir: str, model: str, codes) -> np.ndarray:
    from core.analysis import decode_code

    return decode_code(_reducer(config, data_dir, model), np.atleast_2d(np.asarray(codes, np.float32)))


def along_directions(stats, base_code, coefficients) -> np.ndarray:
    from core.analysis import code_along_directions

    return code_along_directions(stats, np.asarray(base_code, np.float32), np.asarray(coefficients, np.float32))


RANGE_TOLERANCE = 0.25  # warn beyond a quarter range-width past the 1st..99th percentile: with 30 numbers
# about half of real test codes sit just outside one coordinate's interval, 1-2% this far out


def out_of_range(stats, code) -> bool:
    from core.analysis import outside_range

    return bool(outside_range(stats, np.asarray(code, np.float32), tolerance=RANGE_TOLERANCE))


@st.cache_data(show_spinner=False, max_entries=64)
def interpolation(config: DataConfig, data_dir: str, model: str, a: int, b: int, steps: int) -> np.ndarray:
    """(steps, C, H, W) decoded along the code line between test images a and b."""
    from core.analysis import interpolate

    images = load_data(config, data_dir).test.images
    return interpolate(_reducer(config, data_dir, model), images[a], images[b], steps=steps)


@st.cache_data(show_spinner=False, max_entries=32)
def manifold(config: DataConfig, data_dir: str, model: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The n x n grid of decoded images over a 2-D code's data range: (images, xs, ys)."""
    from core.analysis import latent_grid

    return latent_grid(_reducer(config, data_dir, model), code_stats(config, data_dir, model), n=n)


@st.cache_data(show_spinner=False, max_entries=32)
def prior_samples(config: DataConfig, data_dir: str, model: str, n: int, seed: int) -> np.ndarray:
    from core.analysis import sample_prior

    return sample_prior(_reducer(config, data_dir, model), n=n, seed=seed)


# --- denoising -------------------------------------------------------------------------------------------
def _reducer_dict(config: DataConfig, data_dir: str, models: dict[str, str]) -> dict:
    return {label: _reducer(config, data_dir, key) for label, key in models.items()}


@st.cache_data(show_spinner="Adding noise and cleaning it up...", max_entries=64)
def denoise_test_images(config: DataConfig, data_dir: str, models: dict[str, str], noise: NoiseConfig,
                        index: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    """label -> (n, C, H, W): 'clean', 'noisy' and each model's output on the noisy images."""
    from core.analysis import denoise_examples

    images = load_data(config, data_dir).test.images[list(index)]
    return denoise_examples(images, _reducer_dict(config, data_dir, models), noise, seed=seed)


def denoise_images(config: DataConfig, data_dir: str, models: dict[str, str], images: np.ndarray,
                   noise: NoiseConfig | None, seed: int = 0) -> dict[str, np.ndarray]:
    """The same for the user's own images; ``noise=None`` cleans them as they are."""
    from core.analysis import denoise_examples

    reducers = _reducer_dict(config, data_dir, models)
    if noise is not None:
        return denoise_examples(images, reducers, noise, seed=seed)
    return {"clean": images, "noisy": images, **{k: r.reconstruct(images) for k, r in reducers.items()}}


@st.cache_data(show_spinner="Measuring every method at several noise levels...", max_entries=32)
def denoising_curve(config: DataConfig, data_dir: str, models: dict[str, str], kind: str,
                    levels: tuple[float, ...], n_images: int = 300) -> pd.DataFrame:
    from core.analysis import denoising_table

    noises = [NoiseConfig(kind, float(level)) for level in levels]
    return denoising_table(load_data(config, data_dir), _reducer_dict(config, data_dir, models), noises,
                           n_images=n_images)


def quality(clean: np.ndarray, images: np.ndarray) -> tuple[float, float]:
    """(mean PSNR dB, mean SSIM) of ``images`` against ``clean``."""
    from core.metrics import per_image_psnr, per_image_ssim

    return float(per_image_psnr(clean, images).mean()), float(per_image_ssim(clean, images).mean())


# --- compression --------------------------------------------------------------------------------------
@st.cache_data(show_spinner="Compressing the test images at every setting...", max_entries=32)
def rd_table(config: DataConfig, data_dir: str, models: dict[str, str], n_images: int = 300) -> pd.DataFrame:
    """Rate-distortion rows of quantised codes (each model and PCA) and of JPEG on the same test images."""
    from core.analysis import rate_distortion_table

    return rate_distortion_table(load_data(config, data_dir), _reducer_dict(config, data_dir, models), n_images=n_images)


@st.cache_data(show_spinner=False, max_entries=64)
def compressed(config: DataConfig, data_dir: str, models: dict[str, str], budget_bits: float,
               index: tuple[int, ...]) -> dict[str, dict]:
    """Test images as each method delivers them at (about) ``budget_bits`` bits per image."""
    from core.analysis import compressed_examples

    return compressed_examples(load_data(config, data_dir), _reducer_dict(config, data_dir, models),
                               budget_bits=budget_bits, index=np.asarray(index))
