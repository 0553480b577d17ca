"""The shelf: a folder of derived files, each under a hashed key, checked on every read.

Generic: it knows nothing of what the values are (the catalogue, :mod:`core.store.derived`, does).
Each entry's file name holds a hash of (identity, analysis parameters, :data:`CODE_VERSION`), and the
file repeats the full key and a SHA-256 of the key and the payload together, both checked on read: a
payload swapped in under another's key is treated as a damaged file. Files are written to a temporary
name and renamed into place (``os.replace``), and read without pickle: ``.npz`` through
``np.load(allow_pickle=False)``, tables as parquet, small dicts as JSON. A shelf that cannot be written
(classroom mode, a read-only folder, a full disk) or a file that cannot be read never stops the
caller: the value is computed in memory and returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from core.config import DataConfig
    from core.store.records import ModelRecord

#: bump when a derived computation changes what it returns: every older file is then ignored
CODE_VERSION = 4  # 2: pixel PCA over 1,024 values fitted on a subsample; 3: noise drawn by NumPy; 4: payload hashes

DERIVED = "derived"  # a model's folder inside its checkpoint version
DATASETS = ".derived"  # dataset-level folders under the store root (hidden: never listed as a checkpoint)
_KEY = "__derived_key__"
_SHA = "__derived_sha256__"  # SHA-256 of the key and the payload together (written in the same file)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def arrays_sha256(key: str, arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of a key and named arrays (each one's name, dtype, shape and bytes, in name order).

    The key is hashed in, so a payload moved under another entry's key fails the check even when its
    own hash comes along. Hashing reads each array's buffer in place: no copy of a 31 MB image array.
    """
    digest = hashlib.sha256(key.encode())
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(json.dumps([name, value.dtype.str, value.shape]).encode())
        digest.update(value.reshape(-1).view(np.uint8))  # a byte view: strings and 0-d arrays included
    return digest.hexdigest()


def _frame_sha256(key: str, frame: pd.DataFrame) -> str:
    """SHA-256 of a key and a table's columns (names, dtypes, values), as a parquet file reads back."""
    columns = {}
    for i, name in enumerate(frame.columns):
        values = frame[name].to_numpy()
        if values.dtype.kind not in "biufcmM":  # text and mixed columns: their values as JSON text
            values = np.frombuffer(json.dumps(values.tolist(), default=str, allow_nan=True).encode(), np.uint8)
        columns[f"{i:06d}:{name}:{frame[name].dtype}"] = values
    return arrays_sha256(key, columns)


def _value_sha256(key: str, value: Mapping) -> str:
    """SHA-256 of a key and a JSON value (canonical text: a read-back value hashes the same)."""
    return hashlib.sha256(key.encode() + json.dumps(value, sort_keys=True, allow_nan=True).encode()).hexdigest()


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-").lower() or "data"


@dataclass(frozen=True)
class Derived:
    """A folder of derived files that belong to one checkpoint or one dataset.

    Parameters
    ----------
    folder : Path
        Where the files go (created on the first write).
    identity : str
        What the values are computed from (a model's weights hash, a dataset's key); part of every key.
    writable : bool
        False: read what is there, compute the rest in memory, write nothing (classroom mode).
    weights_sha256 : str, optional
        The checkpoint's weights SHA-256 (a model's folder): what its exported graphs must say they
        were exported from (:func:`onnx_graphs_of`).

    Notes
    -----
    Every getter takes ``name`` (what is stored), ``params`` (the analysis parameters: plain JSON
    values) and ``compute`` (called only on a miss).
    """

    folder: Path
    identity: str
    writable: bool = True
    weights_sha256: str | None = None

    def __post_init__(self):
        object.__setattr__(self, "folder", Path(self.folder))  # a str works too

    @classmethod
    def of_model(cls, root: str | os.PathLike, record: ModelRecord, writable: bool = True) -> Derived:
        """The derived folder of a cached model: inside its current checkpoint version."""
        return cls(Path(root) / record.name / DERIVED, f"model:{record.name}:{record.weights_sha256}", writable,
                   record.weights_sha256)

    @classmethod
    def for_version(cls, version: str | os.PathLike, record: ModelRecord) -> Derived:
        """The same folder as :meth:`of_model`, reached through a version folder not yet linked."""
        return cls(Path(version) / DERIVED, f"model:{record.name}:{record.weights_sha256}", True, record.weights_sha256)

    @classmethod
    def of_dataset(cls, root: str | os.PathLike, config: DataConfig, writable: bool = True) -> Derived:
        """The derived folder of a dataset (any of its models' analyses that need no model)."""
        key = config.key()
        return cls(Path(root) / DATASETS / f"{safe_name(config.name)[:40]}-{key}", f"data:{config.name}:{key}", writable)

    # --- keys and files --------------------------------------------------------------------------
    def key(self, name: str, params: Mapping | None = None) -> str:
        """The full key of one entry: identity, name, parameters and code version, as canonical JSON."""
        return json.dumps({"identity": self.identity, "name": name, "params": dict(params or {}),
                           "version": CODE_VERSION}, sort_keys=True, default=str)

    def path(self, name: str, params: Mapping | None, suffix: str) -> Path:
        return self.folder / f"{safe_name(name)}-{_hash(self.key(name, params))}{suffix}"

    def _write(self, path: Path, write: Callable[[Path], None]) -> bool:
        """Write through a temporary file and rename it into place; False (and nothing left) on failure."""
        if not self.writable:
            return False
        tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write(tmp)
            os.replace(tmp, path)  # atomic: a reader sees no file or the whole file
            return True
        except (OSError, ValueError, TypeError):  # read-only, full, removed under us, unwritable value
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            return False

    # --- the three kinds of value ----------------------------------------------------------------
    def arrays(self, name: str, params: Mapping | None, compute: Callable[[], Mapping[str, np.ndarray]],
               valid: Callable[[dict[str, np.ndarray]], bool] | None = None) -> dict[str, np.ndarray]:
        """Named numeric arrays (``.npz``, read with ``allow_pickle=False``).

        Parameters
        ----------
        valid : callable, optional
            A check of what is stored beyond its key and hash (an exported graph's own identity):
            stored arrays it refuses are computed and written again, as a damaged file is.

        Returns
        -------
        dict of str to np.ndarray
            What ``compute()`` returned (or read back from disk: same names, dtypes and shapes).
        """
        stored = self.stored_arrays(name, params, valid)
        if stored is not None:
            return stored
        path, key = self.path(name, params, ".npz"), self.key(name, params)
        values = {k: np.asarray(v) for k, v in compute().items()}

        def write(tmp: Path) -> None:
            sha = arrays_sha256(key, values)  # raises TypeError for object arrays: not kept
            with open(tmp, "wb") as handle:
                np.savez(handle, allow_pickle=False, **values, **{_KEY: np.array(key), _SHA: np.array(sha)})

        self._write(path, write)
        return values

    def stored_arrays(self, name: str, params: Mapping | None,
                      valid: Callable[[dict[str, np.ndarray]], bool] | None = None) -> dict[str, np.ndarray] | None:
        """What :meth:`arrays` would read from disk, or None when nothing valid is stored (nothing is computed)."""
        path, key = self.path(name, params, ".npz"), self.key(name, params)
        try:
            with np.load(path, allow_pickle=False) as stored:
                if str(stored[_KEY]) != key:
                    return None
                values = {k: stored[k] for k in stored.files if k not in (_KEY, _SHA)}
                if str(stored[_SHA]) == arrays_sha256(key, values) and (valid is None or valid(values)):
                    return values
        except Exception:  # noqa: BLE001 - absent, truncated, corrupt, foreign or swapped: compute it again
            pass
        return None

    def table(self, name: str, params: Mapping | None, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """A DataFrame (parquet; the key is kept in the file's metadata)."""
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        path, key = self.path(name, params, ".parquet"), self.key(name, params)
        try:
            stored = pq.read_table(path)
            metadata = stored.schema.metadata or {}
            if metadata.get(_KEY.encode(), b"").decode() == key:
                frame = stored.to_pandas()
                if metadata.get(_SHA.encode(), b"").decode() == _frame_sha256(key, frame):
                    return frame
        except Exception:  # noqa: BLE001 - see arrays()
            pass
        frame = compute()
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{name}: compute() must return a DataFrame, got {type(frame).__name__}")

        def write(tmp: Path) -> None:
            stored = pa.Table.from_pandas(frame, preserve_index=False)
            sha = _frame_sha256(key, stored.to_pandas())  # hashed as a read gives it back (dtypes included)
            pq.write_table(stored.replace_schema_metadata({**(stored.schema.metadata or {}), _KEY.encode(): key.encode(),
                                                           _SHA.encode(): sha.encode()}), str(tmp))

        self._write(path, write)
        return frame.reset_index(drop=True)

    def values(self, name: str, params: Mapping | None, compute: Callable[[], Mapping]) -> dict:
        """A small dict of JSON values (numbers, strings, lists)."""
        path, key = self.path(name, params, ".json"), self.key(name, params)
        try:
            stored = json.loads(path.read_text())
            if stored.get("key") == key and stored.get("sha256") == _value_sha256(key, stored["value"]):
                return stored["value"]
        except Exception:  # noqa: BLE001 - see arrays()
            pass
        value = json.loads(json.dumps(dict(compute()), allow_nan=True))  # a non-JSON value raises here, not later;
        # and the same types a later read gives (tuples become lists), hashed as a read will hash them
        text = json.dumps({"key": key, "sha256": _value_sha256(key, value), "value": value}, allow_nan=True)
        self._write(path, lambda tmp: tmp.write_text(text))
        return value

    def files(self) -> list[Path]:
        """The entries stored so far (temporary files excluded)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if not p.name.startswith("."))
