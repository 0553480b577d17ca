"""CIFAR-10 from torchvision's offline layout, read without unpickling arbitrary objects.

torchvision keeps CIFAR-10 as ``<root>/cifar-10-batches-py/`` (what ``cifar-10-python.tar.gz`` unpacks
to): five training batches ``data_batch_1`` .. ``data_batch_5``, one ``test_batch`` and ``batches.meta``.
Each is a Python pickle of a dict: ``data`` a uint8 array (n, 3072) whose rows hold the red, green and blue
32x32 planes one after the other, ``labels`` a list of ints, and for the meta file ``label_names``.

``pickle.load`` on a file from disk may run any callable the file names. :class:`_BatchUnpickler` lets a
file name only the few globals a numpy array needs (``_reconstruct``, ``ndarray``, ``dtype``, and
``_codecs.encode`` for latin-1 only, which Python 3 writes for bytes under protocol 2); anything else is
refused and reported as a damaged file. The contents are then checked (shape, dtype, label range) so a
wrong file gives a :class:`~core.errors.DatasetError` that says what to put where, never a traceback.
"""

from __future__ import annotations

import codecs
import io
import pickle
from pathlib import Path

import numpy as np

from core.errors import DatasetError

BATCH_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
ARCHIVE = "cifar-10-python.tar.gz"  # what torchvision downloads; it unpacks to BATCH_FOLDER
IMAGE_SHAPE = (3, 32, 32)
N_CLASSES = 10


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """``_codecs.encode`` as Python 3 pickles bytes (protocol 2), and nothing else: other codecs refused."""
    if codecs.lookup(encoding).name != "iso8859-1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"codec {encoding!r} is not allowed in a CIFAR batch")
    return codecs.encode(text, "latin1", errors)


def _allowed_globals() -> dict[tuple[str, str], object]:
    try:
        from numpy._core.multiarray import _reconstruct  # numpy 2
    except ImportError:  # numpy 1
        from numpy.core.multiarray import _reconstruct

    allowed: dict[tuple[str, str], object] = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                                              ("_codecs", "encode"): _latin1_encode}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):  # numpy 1 writes the first, numpy 2 the second
        allowed[(module, "_reconstruct")] = _reconstruct
    return allowed


class _BatchUnpickler(pickle.Unpickler):
    """An Unpickler that builds dicts, lists, str/bytes, numbers and numpy arrays, and nothing else."""

    def __init__(self, file, allowed: dict[tuple[str, str], object]):
        super().__init__(file, encoding="latin1")  # the files were written by Python 2: str holds bytes
        self._allowed = allowed

    def find_class(self, module: str, name: str):
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a CIFAR batch") from None


def _load(path: Path) -> dict:
    """One pickle file as a dict with str keys; raises DatasetError when it is not a CIFAR batch."""
    try:
        data = path.read_bytes()
        obj = _BatchUnpickler(io.BytesIO(data), _allowed_globals()).load()
    except OSError as exc:
        raise DatasetError(f"cifar10: {path} cannot be read ({exc.strerror or type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the file is not what it should be
        raise DatasetError(f"cifar10: {path} is damaged or not a CIFAR-10 batch ({type(exc).__name__}: "
                           f"{str(exc)[:120]}). {_fix()}") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"cifar10: {path} holds a {type(obj).__name__}, not a CIFAR-10 batch dict. {_fix()}")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def _fix() -> str:
    return (f"Unpack {ARCHIVE} (from https://www.cs.toronto.edu/~kriz/cifar.html) into the data folder, so that "
            f"<data folder>/{BATCH_FOLDER}/ holds {', '.join(TRAIN_BATCHES)}, {TEST_BATCH} and {META}.")


def _read_batches(folder: Path, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    pixels, labels = [], []
    for name in names:
        path = folder / name
        entry = _load(path)
        data, batch_labels = entry.get("data"), entry.get("labels")
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                or data.shape[1] != int(np.prod(IMAGE_SHAPE)):
            found = f"{data.dtype} {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
            raise DatasetError(f"cifar10: {path}: 'data' should be a uint8 array (n, 3072), found {found}. {_fix()}")
        try:
            batch_labels = np.asarray(batch_labels, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError):
            batch_labels = None
        if batch_labels is None or len(batch_labels) != len(data):
            raise DatasetError(f"cifar10: {path}: 'labels' should be {len(data)} integers, one per image. {_fix()}")
        if len(batch_labels) and not (0 <= batch_labels.min() and batch_labels.max() < N_CLASSES):
            raise DatasetError(f"cifar10: {path}: labels outside 0..{N_CLASSES - 1}. {_fix()}")
        # a row is the red plane, then green, then blue, each 32x32 row-major: (n, 3072) -> (n, 3, 32, 32)
        pixels.append(data.reshape(len(data), *IMAGE_SHAPE))
        labels.append(batch_labels)
    return np.ascontiguousarray(np.concatenate(pixels)), np.concatenate(labels)


def read_cifar10(root: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Read CIFAR-10 from ``<root>/cifar-10-batches-py/`` (torchvision's offline layout).

    Parameters
    ----------
    root : path
        The data folder, the one torchvision's ``CIFAR10(root=...)`` takes (it holds ``cifar-10-batches-py``).

    Returns
    -------
    train_pixels : np.ndarray, shape (N_train, 3, 32, 32), uint8
        50,000 images for the real files, in batch order.
    train_labels : np.ndarray, shape (N_train,), int64 in 0..9
    test_pixels : np.ndarray, shape (N_test, 3, 32, 32), uint8
        10,000 images for the real files.
    test_labels : np.ndarray, shape (N_test,), int64 in 0..9
    class_names : tuple of str
        ``label_names`` from ``batches.meta`` ('airplane', 'automobile', ...).

    Raises
    ------
    core.errors.DatasetError
        A file is missing, damaged, or names a Python object beyond a numpy array (it is not unpickled);
        the message names the files and where they go.
    """
    root = Path(root).expanduser()
    folder = root / BATCH_FOLDER
    missing = [n for n in (*TRAIN_BATCHES, TEST_BATCH, META) if not (folder / n).is_file()]
    if missing:
        hint = (f" {root / ARCHIVE} is there but not unpacked: run `tar -xzf {ARCHIVE}` in {root}."
                if (root / ARCHIVE).is_file() else "")
        raise DatasetError(f"cifar10 was not found in {folder} (missing: {', '.join(missing)}).{hint} {_fix()} "
                           "Or point --data-dir / $LATENT_LAB_DATA_DIR at a folder that holds it.")
    meta = _load(folder / META)
    names = meta.get("label_names")
    if not isinstance(names, list) or len(names) != N_CLASSES or not all(isinstance(n, (str, bytes)) for n in names):
        raise DatasetError(f"cifar10: {folder / META}: 'label_names' should list {N_CLASSES} class names. {_fix()}")
    class_names = tuple(n.decode("latin1") if isinstance(n, bytes) else n for n in names)
    train_pixels, train_labels = _read_batches(folder, TRAIN_BATCHES)
    test_pixels, test_labels = _read_batches(folder, (TEST_BATCH,))
    return train_pixels, train_labels, test_pixels, test_labels, class_names


CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def write_fake_cifar10(root: str | Path, per_batch: int = 20, seed: int = 0) -> Path:
    """Write tiny CIFAR-10 batches in torchvision's layout, for tests and demos without the real files.

    Every image is a flat colour with a little noise: class c is a fixed hue (class 0 pure red, 1 green,
    2 blue, ...), so a test can tell colour from grey and a channel mix-up from the right order.

    Parameters
    ----------
    root : path
        ``<root>/cifar-10-batches-py/`` is created and filled.
    per_batch : int
        Images in each of the six batches (the real ones hold 10,000): 5 * per_batch train, per_batch test.
    seed : int

    Returns
    -------
    Path
        The ``cifar-10-batches-py`` folder.
    """
    folder = Path(root) / BATCH_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, name in enumerate((*TRAIN_BATCHES, TEST_BATCH)):
        labels = [(i + j) % N_CLASSES for j in range(per_batch)]
        pixels = fake_colours()[labels][:, :, None, None] + rng.integers(-10, 11, (per_batch, *IMAGE_SHAPE))
        entry = {"batch_label": f"{name} (fake)", "labels": labels, "filenames": [f"{name}_{j}.png" for j in range(per_batch)],
                 "data": np.clip(pixels, 0, 255).astype(np.uint8).reshape(per_batch, -1)}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
    meta = {"num_cases_per_batch": per_batch, "label_names": list(CLASS_NAMES), "num_vis": int(np.prod(IMAGE_SHAPE))}
    (folder / META).write_bytes(pickle.dumps(meta, protocol=2))
    return folder


def fake_colours() -> np.ndarray:
    """The flat colour of each class in :func:`write_fake_cifar10`, shape (10, 3), int (R, G, B) in 0..255."""
    return np.array([[230, 20, 20], [20, 230, 20], [20, 20, 230], [230, 230, 20], [230, 20, 230],
                     [20, 230, 230], [240, 140, 20], [120, 20, 200], [128, 128, 128], [240, 240, 240]])


__all__ = ["read_cifar10", "write_fake_cifar10", "fake_colours", "CLASS_NAMES", "BATCH_FOLDER"]
