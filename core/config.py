"""Frozen, validated configuration for data, models and training.

Every config is a frozen dataclass validated in ``__post_init__`` so a bad value fails at the
edge with a message that says what to do. ``key()`` is a stable hash of the content, used by the
checkpoint cache: the same configs always map to the same checkpoint folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.data.data_sources import FOLDER, FOLDER_PREFIX, split_name
from core.models.registry import METHODS  # the registry names methods without importing torch

NOISE_KINDS = ("gaussian", "salt_pepper", "masking")
LOSSES = ("mse", "bce")
PRECISIONS = ("auto", "fp32", "bf16")
SPARSITY_KINDS = ("l1", "kl")
ACTIVATIONS = ("relu", "gelu")
MAX_GRID_CONVS = 4
MAX_EPOCHS = 100_000  # far past any useful run; refuses typing slips like 10**22 that would run forever
MAX_TIME_BUDGET = 7 * 24 * 3600  # seconds: a week; also refuses inf and 1e308, which never end
MAX_SHIFT = 16  # pixels: a training shift larger than this moves much of a small image out of view
# numpy's legacy seeding and scikit-learn's random_state take 0..2**32-1; torch takes more, and
# training also seeds with seed + 1, so this bound keeps every generator in its range
MAX_SEED = 2 ** 32 - 1
# a sanity bound on a layer's width (and the code's length), so sizes stay far inside int64 where torch
# counts them; what actually fits is decided by the memory estimate, core.models.memory
MAX_WIDTH = 2 ** 20
FIELD = "{field}"  # where a ConfigError's message names the field: the CLI puts its flag there


class ConfigError(ValueError):
    """A configuration value is invalid; the message says which and what is allowed.

    Parameters
    ----------
    message : str
        What is wrong and what to do; ``{field}`` (:data:`FIELD`) marks where the field is named.
    field : str, optional
        The config field at fault. ``str(error)`` names it by ``label`` or else this field name (as the
        dashboard shows it); :meth:`named` lets the CLI name the flag the user typed instead.
    label : str, optional
        A name in words for a field whose own name says little (``'dataset'`` for ``name``).
    """

    def __init__(self, message: str, field: str | None = None, label: str | None = None):
        self.template, self.field = message, field
        super().__init__(self.named(label or field) if field else message)

    def named(self, name: str) -> str:
        """The message with the field called ``name`` (a CLI flag, a widget's label)."""
        return self.template.replace(FIELD, name)


def _whole(value: Any) -> bool:
    """An integer, numpy's included, but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """A real number that is neither nan nor infinite (a bool is not a number here)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _widths(value: Any, empty: bool) -> bool:
    """Layer widths: a tuple or list of whole numbers from 1 to MAX_WIDTH (none at all when ``empty``)."""
    return (isinstance(value, (tuple, list)) and (empty or len(value) > 0)
            and all(_whole(v) and 1 <= v <= MAX_WIDTH for v in value))


#: what each checked field must be, as (test, the rule in words). The configs' ``__post_init__`` and the
#: CLI's argument types (core.cli.options) both check through :func:`check_field`, so they agree.
RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "limit": (lambda v: v is None or (_whole(v) and v >= 10), "a whole number of images, at least 10"),
    "image_size": (lambda v: v is None or (_whole(v) and 4 <= v <= 256), "a whole number of pixels from 4 to 256"),
    "latent_dim": (lambda v: _whole(v) and 1 <= v <= MAX_WIDTH, f"a whole number from 1 to {MAX_WIDTH}"),
    "hidden": (lambda v: _widths(v, empty=True), f"whole numbers from 1 to {MAX_WIDTH}"),
    "channels": (lambda v: _widths(v, empty=False), f"one or more whole numbers from 1 to {MAX_WIDTH}"),
    "grid_convs": (lambda v: _whole(v) and 0 <= v <= MAX_GRID_CONVS, f"a whole number from 0 to {MAX_GRID_CONVS}"),
    "beta": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "sparsity_weight": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "sparsity_target": (lambda v: _finite(v) and v >= 0, "a finite number >= 0"),
    "epochs": (lambda v: _whole(v) and 1 <= v <= MAX_EPOCHS, f"a whole number from 1 to {MAX_EPOCHS}"),
    "batch_size": (lambda v: _whole(v) and v >= 1, "a whole number >= 1"),
    "lr": (lambda v: _finite(v) and 0 < v < 1, "a number between 0 and 1 (both excluded)"),
    "lr_decay_from": (lambda v: _finite(v) and 0 <= v < 1, "a share of the training from 0 to below 1"),
    "seed": (lambda v: _whole(v) and 0 <= v <= MAX_SEED, f"a whole number from 0 to {MAX_SEED}"),
    "time_budget": (lambda v: v is None or (_finite(v) and 0 < v <= MAX_TIME_BUDGET),
                    f"a finite number of seconds above 0 and at most {MAX_TIME_BUDGET} (7 days)"),
    "shift": (lambda v: _whole(v) and 0 <= v <= MAX_SHIFT, f"a whole number of pixels from 0 to {MAX_SHIFT}"),
}


def check_field(field: str, value: Any) -> None:
    """Raise :class:`ConfigError` naming ``field`` when ``value`` breaks its rule in :data:`RULES`."""
    allowed, rule = RULES[field]
    if not allowed(value):
        raise ConfigError(f"{FIELD} must be {rule}, got {value!r}", field)


def check_folder_name(name: str) -> None:
    """A ``folder:PATH`` dataset must name a folder: an empty path would read the current directory."""
    source, folder = split_name(name)
    if source == FOLDER and not folder.strip():
        raise ConfigError(f"{FIELD} {name!r} names no folder: write its path after '{FOLDER_PREFIX}', "
                          f"e.g. {FOLDER_PREFIX}/path/to/images", "name", label="dataset")


def _stable_hash(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class _Hashable:
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def key(self) -> str:
        """Stable 12-hex-digit hash of the config's content."""
        return _stable_hash(self.to_dict())


@dataclass(frozen=True)
class DataConfig(_Hashable):
    """Which images, and how they are prepared. The data folder is *where* they live, so it is
    not part of the identity (the same MNIST read from two folders is the same data). A user folder's
    identity is its path *and* its content: ``content`` is a fingerprint of its image files, filled in
    by :func:`core.data.datasets.resolve_data_config` and :func:`core.data.datasets.load_dataset`."""

    name: str = "digits"  # digits | mnist | fashion-mnist | kmnist | cifar10 | folder:PATH
    limit: int | None = None  # at most this many images per split (stratified subsample)
    image_size: int | None = None  # folder images are resized to this square size (default 28)
    grayscale: bool = True  # folder images: one channel (True) or RGB (False)
    content: str | None = None  # folder datasets: fingerprint of the image files (core.data.datasets.resolve_data_config)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError("dataset name must be a non-empty string, e.g. 'digits' or 'folder:/path/to/images'")
        check_folder_name(self.name)
        if self.content is not None and (not isinstance(self.content, str) or not self.content or self.folder is None):
            raise ConfigError(f"content (a folder's fingerprint) must be a non-empty string and only for folder:PATH "
                              f"datasets; got {self.content!r} for {self.name!r}")
        check_field("limit", self.limit)
        check_field("image_size", self.image_size)

    @property
    def source(self) -> str:
        """Its entry in the table of datasets (:data:`core.data.data_sources.SOURCES`): 'mnist', 'folder'..."""
        return split_name(self.name)[0]

    @property
    def folder(self) -> str | None:
        """The path of an own-image folder (``folder:PATH``), None for a built-in dataset."""
        return split_name(self.name)[1]

    def to_dict(self) -> dict:
        """The fields, with ``content`` left out while it is None: built-in datasets keep the keys they
        had before folder fingerprints existed."""
        payload = dataclasses.asdict(self)
        if payload["content"] is None:
            del payload["content"]
        return payload


@dataclass(frozen=True)
class NoiseConfig(_Hashable):
    """Input corruption for denoising training: inputs are corrupted, targets stay clean."""

    kind: str = "gaussian"  # gaussian (sigma) | salt_pepper (p) | masking (p)
    level: float = 0.3  # gaussian: standard deviation; salt_pepper/masking: fraction of pixels

    def __post_init__(self):
        if self.kind not in NOISE_KINDS:
            raise ConfigError(f"noise kind must be one of {', '.join(NOISE_KINDS)}; got {self.kind!r}")
        if not 0.0 <= self.level <= (5.0 if self.kind == "gaussian" else 1.0):
            raise ConfigError(f"noise level {self.level} out of range for {self.kind}")

    @classmethod
    def parse(cls, text: str) -> "NoiseConfig":
        """Parse ``'gaussian:0.3'``, ``'salt_pepper:0.1'`` or ``'masking:0.5'``."""
        kind, sep, level = text.partition(":")
        kind = kind.strip().replace("-", "_")
        if kind == "salt_and_pepper":
            kind = "salt_pepper"
        try:
            value = float(level) if sep else 0.3
        except ValueError:
            raise ConfigError(f"noise must look like 'gaussian:0.3'; could not read level {level!r}") from None
        return cls(kind=kind, level=value)

    def label(self) -> str:
        return f"{self.kind}:{self.level:g}"


@dataclass(frozen=True)
class ModelConfig(_Hashable):
    """Architecture of one reducer. ``family`` is a method of the registry :data:`core.models.methods.METHODS`
    (PCA included: it uses only ``latent_dim``)."""

    family: str = "dense"  # pca | dense | conv | conv_pool | vae | sparse | linear
    latent_dim: int = 2  # size of the code
    loss: str = "bce"  # reconstruction loss: bce (robust: see core.models.methods) | mse
    hidden: tuple[int, ...] = (256, 128)  # dense/sparse: hidden layer widths (mirrored in the decoder)
    channels: tuple[int, ...] = (32, 64)  # conv/vae/conv_pool: channels per down-sampling stage
    decoder: str = "transpose"  # conv/vae/conv_pool up-sampling: transpose | upsample
    activation: str = "relu"  # conv: the non-linearity between layers, relu | gelu (see core.models.methods)
    grid_convs: int = 0  # conv/vae: stride-1 3x3 convolutions at the smallest feature map, each side (see core.models.methods)
    beta: float = 1.0  # vae: weight of the KL term (beta-VAE)
    sparsity: str = "l1"  # sparse: l1 (L1 on the code) | kl (KL to a target activation)
    sparsity_weight: float = 1e-3  # sparse: strength of the penalty
    sparsity_target: float = 0.05  # sparse with kl: target mean activation rho

    def __post_init__(self):
        if self.family not in METHODS:
            raise ConfigError(f"unknown model {self.family!r}; choose one of {', '.join(METHODS)}")
        check_field("latent_dim", self.latent_dim)
        if self.loss not in LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(LOSSES)}; got {self.loss!r}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {self.activation!r}")
        if self.decoder not in ("transpose", "upsample"):
            raise ConfigError(f"decoder must be 'transpose' or 'upsample'; got {self.decoder!r}")
        if self.sparsity not in SPARSITY_KINDS:
            raise ConfigError(f"sparsity must be one of {', '.join(SPARSITY_KINDS)}; got {self.sparsity!r}")
        for name in ("beta", "sparsity_weight", "sparsity_target", "grid_convs", "hidden", "channels"):
            check_field(name, getattr(self, name))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))

    def to_dict(self) -> dict:
        """The fields, with ``activation`` left out while it is ReLU and ``grid_convs`` while it is 0:
        models from before they existed keep their cache keys."""
        payload = dataclasses.asdict(self)
        if payload["activation"] == "relu":
            del payload["activation"]
        if payload["grid_convs"] == 0:
            del payload["grid_convs"]
        return payload


@dataclass(frozen=True)
class TrainConfig(_Hashable):
    """How a model is trained. Changing any field trains (and caches) a new model."""

    epochs: int = 60  # passes over the training split (ignored when time_budget is set)
    batch_size: int = 64  # images per optimiser step
    lr: float = 5e-3  # AdamW peak learning rate (bench/NOTES.md part 2: 2e-3 was too timid)
    # the learning rate stays at its peak for this share of the training (of its epochs, or of its time
    # budget), then a cosine takes it to 2%; 0 is a cosine all the way (every model before this field).
    # Conv d=30 on 20k MNIST images, 3 epochs: held for 70-80% reached 4.45-5.00 test SSE per image where
    # the cosine reached 5.89 (seed 0) and 6.83 (seed 1); the digits zoo gains up to 8%; 600 s runs tie
    # (bench/NOTES.md part 2b)
    lr_decay_from: float = 0.8
    seed: int = 0  # seeds weights, shuffling and noise: same seed, same model (on CPU)
    noise: NoiseConfig | None = None  # denoising: corrupt inputs, keep clean targets
    time_budget: float | None = None  # seconds: train until it is spent, the learning-rate schedule fitted to it
    weight_decay: float = 0.0  # AdamW decoupled weight decay
    # train on each image or its left-right mirror image, drawn afresh for every batch: twice the images
    # for a model to generalise from. A conv d=30 on 14,400 photo-like 64 px images fits the images it trains
    # on far better than the held-out ones (55.8 vs 76.8 SSE per image, PCA-30 83.8 on both) and mirroring
    # narrows that (bench/NOTES.md part 2c). Not for digits or letters, whose mirror images are other shapes.
    mirror: bool = False
    # train on each image moved by a random offset of up to this many pixels each way (edges reflected),
    # drawn afresh for every batch; 0 is off. On the same 64 px folder, mirror images plus shifts of up to
    # 4 px reach 0.83x PCA-30's test error in 600 s where mirror images alone reach 0.85x, and keep
    # improving for longer budgets where mirror images alone start to overfit (bench/NOTES.md part 2c).
    shift: int = 0
    val_fraction: float = 0.1  # share of the training split held out for the validation curve
    threads: int | None = None  # CPU threads while training (None: torch's setting; 1 wins on a busy 2-core box)
    # the forward pass's arithmetic: 'auto' is bfloat16 autocast for convolutional models where the device
    # computes it natively (CPUs with AVX512-BF16 or AMX, GPUs that support it: 1.27x the images per second
    # of a conv model on this EPYC, the same test error per epoch, bench/NOTES.md part 2), else float32;
    # 'fp32' or 'bf16' force it
    precision: str = "auto"

    def __post_init__(self):
        for name in ("epochs", "batch_size", "lr", "lr_decay_from", "seed", "time_budget"):
            check_field(name, getattr(self, name))
        if not 0.0 <= self.weight_decay < 1.0:
            raise ConfigError(f"weight_decay must be in [0, 1), got {self.weight_decay}")
        if not 0 < self.val_fraction < 0.5:
            raise ConfigError(f"val_fraction must be in (0, 0.5), got {self.val_fraction}")
        if self.threads is not None and (not isinstance(self.threads, int) or self.threads < 1):
            raise ConfigError(f"threads must be a positive integer or None, got {self.threads!r}")
        if not isinstance(self.mirror, bool):
            raise ConfigError(f"mirror must be true or false, got {self.mirror!r}")
        check_field("shift", self.shift)
        object.__setattr__(self, "shift", int(self.shift))  # a numpy integer would not serialise into the key
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}; got {self.precision!r}")
        if isinstance(self.noise, str):
            object.__setattr__(self, "noise", NoiseConfig.parse(self.noise))
        elif isinstance(self.noise, dict):
            object.__setattr__(self, "noise", NoiseConfig(**self.noise))

    def to_dict(self) -> dict:
        """The fields, with ``lr_decay_from`` left out while it is 0 (a cosine all the way) and ``mirror`` and
        ``shift`` while they are off: models trained before they existed keep their cache keys, and a new
        default trains (and caches) new models."""
        payload = dataclasses.asdict(self)
        if payload["lr_decay_from"] == 0:
            del payload["lr_decay_from"]
        if not payload["mirror"]:
            del payload["mirror"]
        if not payload["shift"]:
            del payload["shift"]
        return payload


def model_config_from_dict(payload: dict) -> ModelConfig:
    payload = dict(payload)
    for name in ("hidden", "channels"):
        if name in payload:
            payload[name] = tuple(payload[name])
    return ModelConfig(**payload)


def train_config_from_dict(payload: dict) -> TrainConfig:
    """A TrainConfig from its :meth:`TrainConfig.to_dict` (a record from before ``lr_decay_from`` was a cosine)."""
    return TrainConfig(**{"lr_decay_from": 0.0, **payload})


def data_config_from_dict(payload: dict) -> DataConfig:
    return DataConfig(**payload)


#: TrainConfig fields that change how fast a model trains, not which model comes out: not in the key
# how a training runs, not what it trains: left out of the cache key (like the device and the process count)
EXECUTION_ONLY_FIELDS = ("threads", "precision")


def run_key(data: DataConfig, model: ModelConfig, train: TrainConfig) -> str:
    """The cache key of one trained model: data + split + architecture + training.

    Execution settings (:data:`EXECUTION_ONLY_FIELDS`) are left out, so a model trained with one
    thread is found by a lookup with the default thread count.
    """
    training = {k: v for k, v in train.to_dict().items() if k not in EXECUTION_ONLY_FIELDS}
    return _stable_hash({"data": data.to_dict(), "model": model.to_dict(), "train": training, "split": 1})

