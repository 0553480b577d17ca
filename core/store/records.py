"""Typed checkpoint records, and the small hashable reference the dashboard names models by.

A checkpoint's ``record.json`` is read once, validated against a schema, and becomes a
:class:`ModelRecord`: its configs are real config objects, and its method, label and training
description are computed here and nowhere else. A record that does not fit the schema raises
:class:`core.errors.CheckpointError` naming the file, so one broken folder never hides the others.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import (
    ConfigError,
    DataConfig,
    ModelConfig,
    TrainConfig,
    data_config_from_dict,
    model_config_from_dict,
    train_config_from_dict,
)
from core.errors import CheckpointError
from core.models.methods import BASELINE, get_method, method_label, model_label

FORMAT_VERSION = 1
METRIC_NAMES = ("test_mse", "test_sse_per_image", "test_psnr", "test_ssim")
#: A record is about 2 KB plus 212 bytes per epoch of history (measured): a long run of 10,000 epochs
#: writes 2.1 MB, the longest TrainConfig allows (MAX_EPOCHS, 100,000) 21 MB. Anything larger is not a
#: record this code wrote, and is refused before it is read whole or parsed (a hostile 32 MB of JSON
#: still parses into a few hundred MB of Python objects at most).
MAX_RECORD_BYTES = 32 * 2**20
#: A real record nests 3 deep ({"history": [{...}]}). JSON nested ~1,000 deep makes the parser raise
#: RecursionError (caught); shallower but still absurd nesting is refused after parsing, before any
#: code that walks the value recursively (repr, comparisons, to_json) sees it.
MAX_RECORD_DEPTH = 16
#: Images up to this side: DataConfig.image_size's upper bound (the built-in datasets are 32 px at most).
#: A record is only a claim: a larger one would make loading allocate for images no dataset here has.
MAX_IMAGE_SIDE = 256
MAX_CHANNELS = 4


def nesting_depth(value: Any) -> int:
    """How deep lists and dicts nest in a parsed JSON value (0 for a number or a string); iterative,
    so it never recurses however deep the value is."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_record_bytes(raw: bytes) -> Any:
    """The JSON value of a record file's bytes; ``ValueError`` saying why when it cannot be a record
    (larger than MAX_RECORD_BYTES: refused before parsing; nested deeper than MAX_RECORD_DEPTH; not
    UTF-8 or not JSON)."""
    if len(raw) > MAX_RECORD_BYTES:
        raise ValueError(f"it is larger than {MAX_RECORD_BYTES // 2**20} MB, far more than any record")
    too_deep = ValueError(f"it is nested more than {MAX_RECORD_DEPTH} levels deep (a record nests 3)")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise too_deep from None
    if nesting_depth(payload) > MAX_RECORD_DEPTH:
        raise too_deep
    return payload


def _require(payload: Any, name: str, kind: type | tuple[type, ...], where: str):
    if not isinstance(payload, dict) or name not in payload:
        raise CheckpointError(f"{where} has no {name!r} field")
    value = payload[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckpointError(f"{where}: field {name!r} should be {getattr(kind, '__name__', kind)}, got {value!r:.60}")
    return value


def _skipped(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CheckpointError(f"{where}: skipped_files should be a list of strings")
    return tuple(value)


def _sane_image_shape(shape: list) -> bool:
    """[C, H, W] of whole numbers no dataset here exceeds (see MAX_IMAGE_SIDE)."""
    whole = len(shape) == 3 and all(isinstance(s, int) and not isinstance(s, bool) for s in shape)
    return whole and 1 <= shape[0] <= MAX_CHANNELS and all(1 <= s <= MAX_IMAGE_SIDE for s in shape[1:])


@dataclass(frozen=True)
class ModelRecord:
    """What a checkpoint says about its model (``record.json``), validated.

    Attributes
    ----------
    name : str
        The checkpoint folder's name (unique in a store).
    key : str
        The content hash of data + model + training configs.
    data, model, train : DataConfig, ModelConfig, TrainConfig
    image_shape : tuple of int
        (C, H, W) of the training images.
    history : tuple of dict
        Per-epoch training statistics (:class:`core.models.training.EpochStats`; ``steps`` since issue 24).
    test_metrics : dict of str to float
        ``test_mse``, ``test_sse_per_image``, ``test_psnr``, ``test_ssim`` on the held-out split.
    train_seconds : float
        Wall time of the whole fit: setup, validation passes and kept moments included. A time budget
        is spent on the loop's own clock (optimizer steps only): see :attr:`steps` and the history's
        ``seconds``.
    created : str
        ISO time stamp of the save.
    versions : dict of str to str
    weights_sha256 : str
    skipped_files : tuple of str
        Files of an own folder that could not be used, each "path: reason".
    """

    name: str
    key: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    image_shape: tuple[int, int, int]
    history: tuple[dict, ...]
    test_metrics: dict[str, float]
    train_seconds: float
    created: str
    versions: dict[str, str]
    weights_sha256: str
    skipped_files: tuple[str, ...] = ()  # own folders: files left out of the training data, "path: reason"

    # --- described in one place --------------------------------------------------------------------
    @property
    def family(self) -> str:
        return self.model.family

    @property
    def latent_dim(self) -> int:
        return self.model.latent_dim

    @property
    def noise_label(self) -> str | None:
        """``'gaussian:0.3'`` for a denoising model, else None."""
        return self.train.noise.label() if self.train.noise else None

    @property
    def method(self) -> str:
        """'conv', 'conv denoising', 'PCA'."""
        return method_label(self.model, self.train)

    @property
    def steps(self) -> int | None:
        """Optimizer steps the training took (what a time budget bought on the machine that trained
        it); None for PCA and for records written before steps were kept."""
        last = self.history[-1].get("steps") if self.history else None
        return last if isinstance(last, int) and not isinstance(last, bool) and last > 0 else None

    @property
    def step_seconds(self) -> float | None:
        """Seconds the optimizer steps took: the training clock a time budget is spent on (validation
        passes, kept moments and setup left out; :attr:`train_seconds` counts them). None for PCA and for
        records written before steps were kept (their history's seconds were wall time)."""
        last = self.history[-1].get("seconds") if self.steps else None
        return float(last) if isinstance(last, (int, float)) and not isinstance(last, bool) and last > 0 else None

    @property
    def reproducible(self) -> bool:
        """Whether training the same configs again gives this model (on CPU). Not for a time budget:
        the steps it buys, and the learning rate at each (fitted to the clock), depend on the machine's
        speed at the time, so a retrain with the same budget is another model under the same name."""
        return not (get_method(self.family).capabilities.learned and self.train.time_budget)

    @property
    def trained_with(self) -> str:
        """'60 epochs' ('1 epoch'), 'time budget 30 s: 1,234 steps' (the steps it bought; records
        from before steps were kept say 'time budget 30 s') or 'fitted' (PCA); ', with mirror images',
        ', with shifts of up to 4 px' or ', with mirror images and shifts of up to 4 px' after either when
        it was also trained on left-right mirror images or shifted images."""
        if not get_method(self.family).capabilities.learned:
            return "fitted"
        extras = [words for on, words in ((self.train.mirror, "mirror images"),
                                          (self.train.shift, f"shifts of up to {self.train.shift} px")) if on]
        augmented = ", with " + " and ".join(extras) if extras else ""
        if self.train.time_budget:
            bought = f": {self.steps:,} steps" if self.steps else ""
            return f"time budget {self.train.time_budget:g} s{bought}{augmented}"
        return f"{self.train.epochs} epoch" + ("" if self.train.epochs == 1 else "s") + augmented

    @property
    def label(self) -> str:
        """'conv d=8 denoising gaussian:0.3 (60 epochs)'."""
        return f"{model_label(self.model, self.train)} ({self.trained_with})"

    @property
    def short_key(self) -> str:
        """Six hex digits of the key: tells apart two models with the same label."""
        return self.key[:6]

    def metric(self, name: str) -> float:
        return float(self.test_metrics.get(name, math.nan))

    @property
    def collapsed(self) -> bool:
        """The model rebuilds held-out images no better (within 5%) than drawing the mean training image
        (a sign of a too-large learning rate); False when the record predates that measurement."""
        baseline = self.metric("mean_image_mse")
        return bool(math.isfinite(baseline) and self.metric("test_mse") >= 0.95 * baseline)

    @property
    def collapse_warning(self) -> str:
        """What to tell a person about a model no better than the mean image ('' when it is fine)."""
        if not self.collapsed:
            return ""
        default_lr = TrainConfig().lr
        if self.train.lr > 5 * default_lr:
            advice = (f"its learning rate {self.train.lr:g} is very large, so it collapsed to a near-constant "
                      f"output: train it again with a lower one (e.g. --lr {default_lr:g} --retrain)")
        else:
            advice = ("it has not learned yet: train it longer (more --epochs, or a --time-budget), "
                      "or with a lower learning rate if more training does not help")
        return (f"{self.label} rebuilds test images no better than drawing the mean training image "
                f"(test MSE {self.metric('test_mse'):.4f} vs {self.metric('mean_image_mse'):.4f}): {advice}.")

    @property
    def ref(self) -> "ModelRef":
        return ModelRef.of(self)

    # --- JSON ------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {
            "format": FORMAT_VERSION, "key": self.key, "data": self.data.to_dict(), "model": self.model.to_dict(),
            "train": self.train.to_dict(), "image_shape": list(self.image_shape), "history": list(self.history),
            "test_metrics": dict(self.test_metrics), "train_seconds": self.train_seconds, "created": self.created,
            "versions": dict(self.versions), "weights_sha256": self.weights_sha256,
            "skipped_files": list(self.skipped_files),
        }

    @classmethod
    def from_json(cls, payload: Any, folder: Path) -> "ModelRecord":
        """Validate a parsed record.json; raises :class:`CheckpointError` naming the file and the field."""
        where = f"checkpoint record {Path(folder) / 'record.json'}"
        if not isinstance(payload, dict):
            raise CheckpointError(f"{where} is not a JSON object")
        version = payload.get("format")
        if version != FORMAT_VERSION:
            raise CheckpointError(f"{where} has format {version!r}, expected {FORMAT_VERSION}")
        try:
            data = data_config_from_dict(_require(payload, "data", dict, where))
            model = model_config_from_dict(_require(payload, "model", dict, where))
            train = train_config_from_dict(_require(payload, "train", dict, where))
        except (ConfigError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{where} holds an invalid configuration ({exc})") from None
        shape = _require(payload, "image_shape", list, where)
        if not _sane_image_shape(shape):
            raise CheckpointError(f"{where}: image_shape should be [C, H, W] with C from 1 to {MAX_CHANNELS} and H, W "
                                  f"from 1 to {MAX_IMAGE_SIDE}, got {shape!r:.60}")
        if model.latent_dim > shape[0] * shape[1] * shape[2]:  # a hostile record must not make us allocate 10^12
            raise CheckpointError(f"{where}: latent_dim {model.latent_dim} is more than the image's {shape} pixels")
        history = _require(payload, "history", list, where)
        if not all(isinstance(h, dict) for h in history):
            raise CheckpointError(f"{where}: history should be a list of objects")
        metrics = _require(payload, "test_metrics", dict, where)
        if not all(isinstance(metrics.get(m), (int, float)) and not isinstance(metrics.get(m), bool) for m in METRIC_NAMES[:1]):
            raise CheckpointError(f"{where}: test_metrics should hold a number test_mse")
        seconds = _require(payload, "train_seconds", (int, float), where)
        return cls(
            name=Path(folder).name, key=str(_require(payload, "key", str, where)), data=data, model=model, train=train,
            image_shape=(shape[0], shape[1], shape[2]), history=tuple(history),
            test_metrics={k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))},
            train_seconds=float(seconds), created=str(_require(payload, "created", str, where)),
            versions={str(k): str(v) for k, v in _require(payload, "versions", dict, where).items()},
            weights_sha256=str(_require(payload, "weights_sha256", str, where)),
            skipped_files=_skipped(payload.get("skipped_files", []), where),
        )


@dataclass(frozen=True)
class ModelRef:
    """A small hashable name for one reducer on one dataset: what the dashboard's caches key on.

    Either a checkpoint (``checkpoint`` is its folder name; ``created`` changes when it is
    retrained, so cached results of the old model are not reused) or a method fitted on the spot
    (``checkpoint`` None: PCA of the training images at ``latent_dim``).
    """

    method: str
    latent_dim: int
    checkpoint: str | None = None
    created: str = ""

    @classmethod
    def of(cls, record: ModelRecord) -> "ModelRef":
        """The reference of a cached checkpoint."""
        return cls(record.family, record.latent_dim, record.name, record.created)

    @classmethod
    def fitted(cls, method: str, latent_dim: int) -> "ModelRef":
        """A reducer fitted on the training split when first asked for."""
        get_method(method)
        return cls(method, int(latent_dim))

    @classmethod
    def baseline(cls, latent_dim: int) -> "ModelRef":
        """The baseline every page compares with (PCA) at this latent size, fitted on the spot."""
        return cls.fitted(BASELINE, latent_dim)


def unique_labels(records: list[ModelRecord], short: bool = False) -> dict[str, str]:
    """Checkpoint name -> label that tells it apart from the others (pickers key options by label).

    ``short`` leaves out how a model was trained unless another record has the same short label
    (chips and legends have little room); ``#<short key>`` is added where labels still collide.
    """
    def base(record: ModelRecord) -> str:
        return model_label(record.model, record.train) if short else record.label

    bases = [base(r) for r in records]
    labels = [r.label if short and bases.count(base(r)) > 1 else base(r) for r in records]
    return {r.name: label + (f" #{r.short_key}" if labels.count(label) > 1 else "") for r, label in zip(records, labels)}
