"""Content-addressed model cache under ``checkpoints/``.

One folder per trained model, ``<family>-<dataset>-d<latent>-<key>``, where ``key`` hashes the data
config, the split, the model config and the training config. It holds ``model.safetensors`` (no
pickle) and ``record.json`` (configs, per-epoch history, test metrics, training seconds, library
versions, and the weights' SHA-256). A save is written to a hidden temporary folder and renamed into
place, so a killed process never leaves a half-written checkpoint that later loads as valid.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from core.config import (DataConfig, ModelConfig, TrainConfig, model_config_from_dict, run_key,
                         train_config_from_dict)
from core.errors import CheckpointError

if TYPE_CHECKING:  # torch, safetensors and the reducers are imported where they are used, so that
    # listing the cache or reporting a cached result (the CLI's fast path) never imports torch
    import torch

    from core.datasets import Dataset
    from core.reducers import AutoencoderReducer
    from core.training import ProgressCallback

CHECKPOINTS_ENV = "LATENT_LAB_CHECKPOINTS"
DEFAULT_ROOT = Path(__file__).resolve().parent.parent / "checkpoints"
WEIGHTS, RECORD = "model.safetensors", "record.json"
FORMAT_VERSION = 1
STALE_TEMP_SECONDS = 3600  # a temporary folder this old belongs to a process that died


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _how_to_fix(folder: Path) -> str:
    return f"delete {folder} (or pass --retrain to `python -m core train`) to train it again"


def _slug(text: str) -> str:
    if text.startswith("folder:"):
        text = "folder-" + Path(text[len("folder:"):]).name
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "data"


def library_versions() -> dict[str, str]:
    import numpy as np
    import sklearn
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__}


@dataclass(frozen=True)
class CheckpointInfo:
    """One cached model as listed by :meth:`CheckpointStore.list`."""

    folder: Path
    record: dict

    @property
    def name(self) -> str:
        return self.folder.name


class CheckpointStore:
    """The folder of cached models. ``root`` defaults to ``$LATENT_LAB_CHECKPOINTS`` or ``checkpoints/``."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or os.environ.get(CHECKPOINTS_ENV) or DEFAULT_ROOT)

    def folder_for(self, data: DataConfig, model: ModelConfig, train: TrainConfig) -> Path:
        name = f"{model.family}-{_slug(data.name)}-d{model.latent_dim}-{run_key(data, model, train)}"
        return self.root / name

    # --- writing -----------------------------------------------------------------------------
    def save(self, folder: Path, reducer: AutoencoderReducer, data: DataConfig, test_metrics: dict) -> Path:
        """Write weights + record atomically to ``folder`` (replacing an older one)."""
        from safetensors.torch import save_file

        self.root.mkdir(parents=True, exist_ok=True)
        self.clean_stale_temporaries()  # leftovers of processes killed mid-save
        temp = self.root / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
        temp.mkdir()
        try:
            state = {k: v.detach().cpu().contiguous() for k, v in reducer.model_.state_dict().items()}
            save_file(state, str(temp / WEIGHTS))
            record = {
                "format": FORMAT_VERSION,
                "key": folder.name.rsplit("-", 1)[-1],
                "data": data.to_dict(),
                "model": reducer.model_config.to_dict(),
                "train": reducer.train_config.to_dict(),
                "image_shape": list(reducer.image_shape_),
                "history": reducer.history_,
                "test_metrics": test_metrics,
                "train_seconds": reducer.train_seconds_,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "versions": library_versions(),
                "weights_sha256": _sha256(temp / WEIGHTS),
            }
            with open(temp / RECORD, "w") as handle:
                json.dump(record, handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            old = None
            if folder.exists():  # retrain: move the old one aside, then swap
                old = self.root / f".{folder.name}.old-{uuid.uuid4().hex[:8]}"
                os.rename(folder, old)
            os.rename(temp, folder)  # atomic on one filesystem: the folder appears complete or not at all
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
        return folder

    def delete(self, folder: str | os.PathLike) -> None:
        """Remove one cached model (only folders inside this store)."""
        folder = Path(folder)
        if folder.parent.resolve() != self.root.resolve():
            raise CheckpointError(f"{folder} is not a checkpoint of {self.root}")
        shutil.rmtree(folder)

    def clean_stale_temporaries(self) -> int:
        """Remove temporary folders left by killed processes; returns how many."""
        removed = 0
        if self.root.is_dir():
            for path in self.root.glob(".*.tmp-*"):
                if time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
                    removed += 1
        return removed

    # --- reading -----------------------------------------------------------------------------
    def verified_record(self, folder: str | os.PathLike) -> dict:
        """The record of a checkpoint whose weights match their recorded SHA-256 (no torch needed).

        Raises :class:`CheckpointError` naming the folder and the fix when anything is off.
        """
        folder = Path(folder)
        try:
            record = json.loads((folder / RECORD).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"checkpoint {folder / RECORD} is unreadable ({exc}); {_how_to_fix(folder)}") from None
        if record.get("format") != FORMAT_VERSION:
            raise CheckpointError(f"checkpoint {folder} has format {record.get('format')}, expected {FORMAT_VERSION}; {_how_to_fix(folder)}")
        weights = folder / WEIGHTS
        if not weights.is_file() or _sha256(weights) != record.get("weights_sha256"):
            raise CheckpointError(f"checkpoint weights {weights} are missing or corrupt (checksum mismatch); {_how_to_fix(folder)}")
        return record

    def list(self) -> list[CheckpointInfo]:
        """Every complete checkpoint (hidden temporary folders are never listed), newest first."""
        if not self.root.is_dir():
            return []
        infos = []
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not (folder / RECORD).is_file():
                continue
            try:
                infos.append(CheckpointInfo(folder, json.loads((folder / RECORD).read_text())))
            except (OSError, json.JSONDecodeError):
                continue  # a corrupt record surfaces when it is loaded, with the fix
        return sorted(infos, key=lambda i: i.record.get("created", ""), reverse=True)

    def load(self, folder: str | os.PathLike, map_location: str | torch.device = "cpu") -> AutoencoderReducer:
        """Rebuild a trained reducer from a folder; raises :class:`CheckpointError` if anything is off."""
        from safetensors.torch import load_file

        from core.models import build_model
        from core.reducers import AutoencoderReducer

        folder = Path(folder)
        record = self.verified_record(folder)
        weights = folder / WEIGHTS
        try:
            model_config = model_config_from_dict(record["model"])
            train_config = train_config_from_dict(record["train"])
            model = build_model(model_config, tuple(record["image_shape"]))
            model.load_state_dict(load_file(str(weights), device=str(map_location)))
        except Exception as exc:  # mismatched shapes, unknown family, bad config
            raise CheckpointError(f"checkpoint {folder} does not match its model config ({exc}); {_how_to_fix(folder)}") from None
        model.to(map_location)
        reducer = AutoencoderReducer.from_model(model, train_config, record["history"], record["train_seconds"])
        reducer.record_ = record
        reducer.checkpoint_ = folder
        return reducer


def load_or_train(
    dataset: Dataset,
    model: ModelConfig,
    train: TrainConfig | None = None,
    *,
    store: CheckpointStore | None = None,
    callback: ProgressCallback | None = None,
    retrain: bool = False,
    cache_only: bool = False,
) -> AutoencoderReducer:
    """The trained reducer for (dataset, model, train): from the cache, or trained once and saved.

    Parameters
    ----------
    dataset : Dataset
        Its ``train`` split is used for fitting, its ``test`` split for the recorded metrics.
    model, train : ModelConfig, TrainConfig
    store : CheckpointStore, optional
    callback : callable, optional
        Per-epoch progress while training.
    retrain : bool
        Train again even if cached (replaces the checkpoint).
    cache_only : bool
        Never train: raise ``FileNotFoundError`` when the model is not cached.

    Returns
    -------
    AutoencoderReducer
        With ``cached_`` (True when loaded), ``checkpoint_`` (its folder) and ``record_``.
    """
    from core.metrics import reconstruction_metrics
    from core.reducers import AutoencoderReducer

    store = store or CheckpointStore()
    train = train or TrainConfig()
    folder = store.folder_for(dataset.config, model, train)
    if folder.exists() and not retrain:
        reducer = store.load(folder)
        reducer.cached_ = True
        return reducer
    if cache_only:
        raise FileNotFoundError(f"{model.family} d={model.latent_dim} is not trained for {dataset.name} yet")
    reducer = AutoencoderReducer(model, train, callback).fit(dataset.train.images)
    metrics = reconstruction_metrics(dataset.test.images, reducer.reconstruct(dataset.test.images))
    store.save(folder, reducer, dataset.config, metrics)
    reducer.record_ = json.loads((folder / RECORD).read_text())
    reducer.checkpoint_ = folder
    reducer.cached_ = False
    return reducer
