"""Content-addressed model cache under ``checkpoints/``: PCA and every autoencoder alike.

One folder per fitted reducer, ``<method>-<dataset>-d<latent>-<key>``, where ``key`` hashes the data
config, the split, the model config and the training config. It holds ``model.safetensors`` (the
reducer's :meth:`~core.models.reducers.Reducer.state`; no pickle) and ``record.json`` (a
:class:`core.store.records.ModelRecord`: configs, per-epoch history, test metrics, training seconds,
library versions, and the weights' SHA-256). A save is written to a hidden temporary folder and
renamed into place, so a killed process never leaves a half-written checkpoint that later loads.

A checkpoint's version folder may also hold ``derived/``: values computed from it (its error row,
its test codes, its decoder as ONNX; see :mod:`core.store.derived`). They live and die with the version:
a retrained model gets a new folder without them, a deleted one takes them along.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import DataConfig, ModelConfig, TrainConfig, run_key
from core.data.data_sources import split_name
from core.errors import CheckpointError
from core.models.methods import canonical_train_config, get_method
from core.store.records import MAX_RECORD_BYTES, ModelRecord, parse_record_bytes
from core.store.shelf import DERIVED, Derived

if TYPE_CHECKING:  # torch, safetensors and the reducers are imported where they are used, so that
    # listing the cache or reporting a cached result (the CLI's fast path) never imports torch
    from core.learning import Moments
    from core.models.reducers import Reducer

CHECKPOINTS_ENV = "LATENT_LAB_CHECKPOINTS"
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "checkpoints"  # <repo>/checkpoints (this file: <repo>/core/store/)
WEIGHTS, RECORD = "model.safetensors", "record.json"
#: hidden names saves create: .<name>.v-<id> (versions), .<name>.link-<id>, and the older .tmp- / .old-
_LEFTOVER = re.compile(r"^\.(.+)\.(?:v|link|tmp|old)-[0-9a-z]+$")
# a checkpoint's folder name as folder_for makes it (family, data slug, size, key): never hidden, never a path
_NAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.-]{0,254}")
#: the version an old-style plain folder became (CheckpointStore._migrate)
_LEGACY = re.compile(r"^\.(.+)\.v-legacy[0-9a-z]+$")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:  # removed meanwhile: sorts first, and is skipped where it is used
        return 0


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    """Make a folder's entries (a new file, a rename) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def how_to_fix(folder: Path) -> str:
    return f"delete {folder} (or pass --retrain to `python -m core train`) to train it again"


def _slug(text: str) -> str:
    source, folder = split_name(text)
    if folder is not None:
        text = f"{source}-{Path(folder).name}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "data"


def library_versions() -> dict[str, str]:
    import numpy as np
    import sklearn
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "scikit-learn": sklearn.__version__}


#: records parsed so far in this process (see CheckpointStore.record), oldest first; ModelRecord is frozen
_PARSED: dict[tuple, ModelRecord] = {}
_PARSED_MAX = 4096


@dataclass(frozen=True)
class Listing:
    """What :meth:`CheckpointStore.list` found: the healthy records, and the folders it had to skip
    with the reason for each (a broken record never hides the healthy ones)."""

    records: list[ModelRecord]
    problems: dict[str, str]


class CheckpointStore:
    """The folder of cached models. ``root`` defaults to ``$LATENT_LAB_CHECKPOINTS`` or ``checkpoints/``."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root or os.environ.get(CHECKPOINTS_ENV) or DEFAULT_ROOT)

    def folder_of(self, checkpoint: str | os.PathLike | ModelRecord) -> Path:
        """Where one checkpoint lives: the store owns its layout, so callers name a checkpoint by its
        record or its name (a ``str``: a name, or the path of a checkpoint of this store); a ``Path`` is taken as it is.

        Raises :class:`CheckpointError` for a name that is not a plain folder name of this store (a
        name may come from a link: ``../x`` or ``.hidden`` never leaves the store or reaches a version)."""
        if isinstance(checkpoint, ModelRecord):
            checkpoint = checkpoint.name
        if isinstance(checkpoint, str):
            if _NAME.fullmatch(checkpoint):
                return self.root / checkpoint
            path = Path(checkpoint)  # the CLI prints a checkpoint's path: one inside this store is its name too
            if _NAME.fullmatch(path.name) and path.parent.resolve() == self.root.resolve():
                return path
            raise CheckpointError(f"{checkpoint!r} is not the name of a checkpoint in {self.root}")
        return Path(checkpoint)

    def folder_for(self, data: DataConfig, model: ModelConfig, train: TrainConfig) -> Path:
        train = canonical_train_config(model, train)
        name = f"{model.family}-{_slug(data.name)}-d{model.latent_dim}-{run_key(data, model, train)}"
        return self.root / name

    # --- locks -------------------------------------------------------------------------------
    def lock(self, name: str, timeout: float = -1):
        """The per-checkpoint lock (a file lock, so it holds across processes and threads alike).

        ``load_or_train`` holds it from the cache lookup to the save, so two processes or browser
        sessions asking for the same model train it once: the second waits, then loads.
        """
        from filelock import FileLock

        locks = self.root / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        return FileLock(str(locks / f"{name}.lock"), timeout=timeout)

    def _writable_or_raise(self) -> None:
        """Fail before a long training, not after it, when the store cannot be written."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / f".write-test-{uuid.uuid4().hex[:8]}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise CheckpointError(f"the checkpoint folder {self.root} cannot be written ({exc.strerror or exc}); "
                                  "pass --checkpoints DIR (or set $LATENT_LAB_CHECKPOINTS) to a writable folder") from None

    # --- writing -----------------------------------------------------------------------------
    def save(self, folder: Path, reducer: Reducer, data: DataConfig, test_metrics: dict,
             skipped_files: tuple[str, ...] = (), derive: Callable[[Derived], None] | None = None,
             moments: Moments | None = None) -> ModelRecord:
        """Write the reducer's state + record to ``folder``, replacing an older one atomically.

        The files go to a new hidden version folder (``.<name>.v-<id>``), are fsynced, and then
        ``<name>`` (a symbolic link) is switched to it in one ``rename``: a reader always sees the old
        complete checkpoint or the new complete one, and a process killed at any moment leaves at
        most an unlinked version folder (a leftover that never loads; :meth:`clean` removes it).
        Call it holding :meth:`lock` (``load_or_train`` does). ``derive`` is given the new version's
        :class:`core.store.derived.Derived` before the switch, to write what the pages will ask for; if it
        fails, the checkpoint is saved without them (they are computed when first asked for).
        ``moments`` (:class:`core.learning.Moments`, kept while it trained) go into the version too, as
        ``moments.safetensors``; if writing them fails the checkpoint is saved without them.
        """
        import numpy as np
        from safetensors.numpy import save_file

        self.root.mkdir(parents=True, exist_ok=True)
        version = self.root / f".{folder.name}.v-{uuid.uuid4().hex[:12]}"
        version.mkdir()
        try:
            # safetensors writes an array's buffer as it lies: Fortran-ordered arrays (scikit-learn's
            # components_) would come back transposed-scrambled, so every array is made C-contiguous
            save_file({k: np.ascontiguousarray(v) for k, v in reducer.state().items()}, str(version / WEIGHTS))
            _fsync_file(version / WEIGHTS)
            record = ModelRecord(
                name=folder.name, key=folder.name.rsplit("-", 1)[-1], data=data, model=reducer.model_config,
                train=canonical_train_config(reducer.model_config, reducer.train_config),
                image_shape=reducer.image_shape_, history=tuple(reducer.history_),
                test_metrics={k: float(v) for k, v in test_metrics.items()}, train_seconds=reducer.train_seconds_,
                created=time.strftime("%Y-%m-%dT%H:%M:%S%z"), versions=library_versions(),
                weights_sha256=_sha256(version / WEIGHTS), skipped_files=tuple(str(f) for f in skipped_files))
            with open(version / RECORD, "w") as handle:
                json.dump(record.to_json(), handle, indent=1)
                handle.flush()
                os.fsync(handle.fileno())
            if moments is not None:
                from core.learning import MOMENTS_FILE, write_moments

                try:
                    write_moments(version / MOMENTS_FILE, moments, record.weights_sha256)
                except Exception:  # noqa: BLE001 - extras only: never lose a trained model over them
                    (version / MOMENTS_FILE).unlink(missing_ok=True)
            if derive is not None:
                try:
                    derive(Derived.for_version(version, record))
                except Exception:  # noqa: BLE001 - extras only: never lose a trained model over them
                    shutil.rmtree(version / DERIVED, ignore_errors=True)
            _fsync_dir(version)
            self._migrate(folder)  # a checkpoint from before versioned saves: a version behind a link first
            previous = self._target(folder)
            self._link(folder, version)  # atomic: readers see the old checkpoint or the new one, never neither
        except BaseException:
            shutil.rmtree(version, ignore_errors=True)
            raise
        if previous is not None and previous != version:
            shutil.rmtree(previous, ignore_errors=True)  # superseded; a reader that had it open keeps its inode
        return record

    def _link(self, folder: Path, version: Path) -> None:
        """Point ``folder`` (a link, or nothing yet) at ``version`` in one atomic ``rename``, durably."""
        link = self.root / f".{folder.name}.link-{uuid.uuid4().hex[:8]}"
        os.symlink(version.name, link)
        os.replace(link, folder)
        _fsync_dir(self.root)

    def _migrate(self, folder: Path) -> None:
        """Turn a checkpoint saved before versioned saves (a plain folder) into a version behind a link.

        No rename replaces a folder by a link, so for a moment ``<name>`` is absent and the model
        lives only in ``.<name>.v-legacy<id>``. An error rolls the rename back here; a process killed
        then leaves that state, which :meth:`_finish_migrations` (run by lookups, :meth:`list` and
        :meth:`clean`) completes by linking ``<name>`` to it: the only copy is never a leftover.
        """
        if not folder.is_dir() or folder.is_symlink():
            return
        legacy = self.root / f".{folder.name}.v-legacy{uuid.uuid4().hex[:8]}"
        os.rename(folder, legacy)
        _fsync_dir(self.root)
        try:
            self._link(folder, legacy)
        except BaseException:
            if not os.path.lexists(folder):
                os.rename(legacy, folder)  # the plain folder back where it was
            raise

    def _half_migrated(self) -> list[Path]:
        """Old-style versions whose checkpoint name is missing (a migration killed midway), oldest first."""
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.iterdir() if (match := _LEGACY.match(p.name)) and p.is_dir()
                 and not (self.root / match.group(1)).exists()]
        return sorted(found, key=_mtime)

    def _finish_migrations(self, name: str | None = None) -> None:
        """Link each checkpoint name a killed migration left missing (``name``: only that one) to its
        newest old-style version. A name whose lock is held is skipped: a save of it is under way
        and ends with a link either way; a store that cannot be written is left as it is."""
        from filelock import Timeout

        newest = {_LEGACY.match(p.name).group(1): p for p in self._half_migrated()}
        for missing, legacy in newest.items():
            if name is not None and missing != name:
                continue
            folder = self.root / missing
            try:
                with self.lock(missing, timeout=0):
                    if not folder.exists() and legacy.is_dir():  # still missing now that we hold the lock
                        self._link(folder, legacy)
            except (Timeout, OSError):
                continue

    def _target(self, folder: Path) -> Path | None:
        """The version folder ``folder`` points to (itself for an old-style folder), or None."""
        if folder.is_symlink():
            return self.root / os.readlink(folder)
        return folder if folder.is_dir() else None

    def delete(self, folder: str | os.PathLike | ModelRecord) -> None:
        """Remove one cached model (only folders inside this store)."""
        folder = self.folder_of(folder)
        if folder.parent.resolve() != self.root.resolve() or folder.name.startswith("."):
            raise CheckpointError(f"{folder} is not a checkpoint of {self.root}")
        with self.lock(folder.name):
            target = self._target(folder)
            if folder.is_symlink():
                folder.unlink()
            if target is not None:
                # a page may be writing a derived file into it right now: retry once, then leave a
                # leftover for `clean` rather than fail a delete whose link is already gone
                shutil.rmtree(target, ignore_errors=True)
                shutil.rmtree(target, ignore_errors=True)

    def leftovers(self) -> list[Path]:
        """Hidden folders and links no checkpoint points to: what killed or superseded saves left.
        None of them is ever listed or loaded."""
        if not self.root.is_dir():
            return []
        # a half-done migration's version is the model's only copy: never a leftover
        current = {self._target(p) for p in self.root.iterdir() if not p.name.startswith(".")} | set(self._half_migrated())
        return sorted(p for p in self.root.iterdir()
                      if p.name.startswith(".") and p.name not in (".locks",) and p not in current
                      and _LEFTOVER.match(p.name))

    def clean(self) -> int:
        """Remove every leftover whose checkpoint is not being saved right now; returns how many."""
        from filelock import Timeout

        self._finish_migrations()
        removed = 0
        for path in self.leftovers():
            try:
                with self.lock(_LEFTOVER.match(path.name).group(1), timeout=0):
                    if path.is_symlink() or path.is_file():
                        path.unlink()
                    else:
                        shutil.rmtree(path)
                    removed += 1
            except Timeout:
                continue  # a save of that model is under way: its version folder is not a leftover yet
        return removed

    # --- reading -----------------------------------------------------------------------------
    def record(self, folder: str | os.PathLike | ModelRecord) -> ModelRecord:
        """The validated record of one checkpoint (no torch needed, weights not checked).

        Parsed records are kept per process, keyed by the record file's identity (device, inode, size,
        modification time): every page run lists the store, and reading and validating each record
        again was ~8 % of the server's CPU per student visit (bench part "visits", py-spy). A saved
        version is a new file (a new inode), so a retrained or replaced model is read afresh."""
        folder = self.folder_of(folder)
        try:
            with open(folder / RECORD, "rb") as handle:  # a larger file is refused without reading it all
                stat = os.fstat(handle.fileno())
                key = (str(folder), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
                if key in _PARSED:
                    return _PARSED[key]
                payload = parse_record_bytes(handle.read(MAX_RECORD_BYTES + 1))
        except (OSError, ValueError) as exc:  # ValueError: too large or too deep, not UTF-8, not JSON
            raise CheckpointError(f"checkpoint {folder / RECORD} is unreadable ({exc}); {how_to_fix(folder)}") from None
        try:
            record = ModelRecord.from_json(payload, folder)
        except CheckpointError as exc:
            raise CheckpointError(f"{exc}; {how_to_fix(folder)}") from None
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED), None), None)
        _PARSED[key] = record
        return record

    def verified_record(self, folder: str | os.PathLike | ModelRecord) -> ModelRecord:
        """The record of a checkpoint whose weights match their recorded SHA-256 (no torch needed).

        Raises :class:`CheckpointError` naming the folder and the fix when anything is off.
        """
        folder = self.folder_of(folder)
        record = self.record(folder)
        weights = folder / WEIGHTS
        if not weights.is_file() or _sha256(weights) != record.weights_sha256:
            raise CheckpointError(f"checkpoint weights {weights} are missing or corrupt (checksum mismatch); {how_to_fix(folder)}")
        return record

    def list(self, verify: bool = False) -> Listing:
        """Every complete checkpoint (hidden temporary folders are never listed), newest first, and
        the folders whose record could not be read, each with the reason. ``verify`` also hashes each
        weights file (reads every byte) and lists those that do not match their record as problems."""
        self._finish_migrations()
        records, problems = [], {}
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.name.startswith("."):
                    continue
                try:
                    if (folder / RECORD).is_file():
                        records.append(self.verified_record(folder) if verify else self.record(folder))
                except CheckpointError as exc:
                    problems[folder.name] = str(exc)
                except Exception as exc:  # noqa: BLE001 - whatever one folder does, it never hides the others
                    problems[folder.name] = (f"checkpoint {folder} cannot be read ({type(exc).__name__}: {exc}); "
                                             f"{how_to_fix(folder)}")
        return Listing(sorted(records, key=lambda r: r.created, reverse=True), problems)

    def load(self, folder: str | os.PathLike | ModelRecord, map_location: str = "cpu") -> Reducer:
        """Rebuild a fitted reducer from a checkpoint (its record, name or folder); raises
        :class:`CheckpointError` if anything is off."""
        folder = self.folder_of(folder)
        if not folder.exists():
            self._finish_migrations(folder.name)  # a migration killed midway: its only copy is linked again
        try:
            return self._load(folder, map_location)
        except CheckpointError:
            if not folder.is_symlink():
                raise
            return self._load(folder, map_location)  # it was replaced while being read: read the new one

    def _load(self, folder: Path, map_location: str) -> Reducer:
        from safetensors.numpy import load_file

        target = self._target(folder) or folder  # read record and weights from one version
        record = self.verified_record(folder)
        method = get_method(record.family)
        try:
            weights = target / WEIGHTS
            _check_shapes(folder, weights, method.reducer_class().state_shapes(record.model, record.image_shape))
            arrays = load_file(str(weights))
            if _sha256(weights) != record.weights_sha256:
                raise CheckpointError(f"checkpoint {folder} changed while it was read; {how_to_fix(folder)}")
            reducer = method.reducer_class().from_state(record.model, record.train, record.image_shape, arrays,
                                                        list(record.history), record.train_seconds)
        except CheckpointError:
            raise
        except Exception as exc:  # mismatched shapes, missing tensors, a version removed under us
            raise CheckpointError(f"checkpoint {folder} does not match its model config ({exc}); {how_to_fix(folder)}") from None
        if map_location != "cpu" and hasattr(reducer, "model_"):
            reducer.model_.to(map_location)
        return reducer

    def find(self, data: DataConfig, model: ModelConfig, train: TrainConfig) -> ModelRecord | None:
        """The verified record cached for exactly these configs, or None. A folder whose record
        describes other configs than its name promises (edited or foreign) raises CheckpointError."""
        folder = self.folder_for(data, model, train)
        if not folder.exists():
            self._finish_migrations(folder.name)  # a migration killed midway: its only copy is linked again
            if not folder.exists():
                return None
        record = self.verified_record(folder)
        wanted = (data, model, canonical_train_config(model, train))
        if (record.data, record.model, _without_execution(record.train)) != (wanted[0], wanted[1], _without_execution(wanted[2])):
            raise CheckpointError(f"checkpoint {folder} holds {record.label} on {record.data.name}, not the "
                                  f"model its name stands for; {how_to_fix(folder)}")
        return record


def _header_shapes(weights: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape in a safetensors file, from its header alone (no tensor is read)."""
    from safetensors import safe_open

    with safe_open(str(weights), framework="numpy") as handle:
        return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}


def _check_shapes(folder: Path, weights: Path, expected: dict[str, tuple[int, ...]] | None) -> None:
    """Refuse, before anything is built, a record whose model config needs other tensors than its
    weights hold: the record is only a claim (an edited one could ask for a 17 GB layer), while the
    weights' shapes are what was trained. ``expected`` None: the reducer checks shapes itself."""
    if expected is None:
        return
    found = _header_shapes(weights)
    for name in sorted(expected.keys() | found.keys()):
        if expected.get(name) != found.get(name):
            needs, holds = expected.get(name, "no such tensor"), found.get(name, "no such tensor")
            raise CheckpointError(
                f"checkpoint {folder}: its record describes a model that does not match its weights (tensor {name!r}: "
                f"the record's config needs {needs}, {WEIGHTS} holds {holds}); the record was edited or belongs to "
                f"other weights: {how_to_fix(folder)}")


def _without_execution(train: TrainConfig) -> TrainConfig:
    from dataclasses import fields, replace

    from core.config import EXECUTION_ONLY_FIELDS

    defaults = {f.name: f.default for f in fields(TrainConfig) if f.name in EXECUTION_ONLY_FIELDS}
    return replace(train, **defaults)
