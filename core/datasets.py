"""Image datasets as in-memory arrays with a fixed train/test split.

``load_dataset`` is the one entry point. Every dataset comes back as float32 images in [0, 1] with
shape (N, C, H, W), integer labels and class names, so every model and every page treats them alike.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.config import DataConfig
from core.errors import DatasetError

DATA_DIR_ENV = "LATENT_LAB_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
SPLIT_SEED = 0  # fixed: the same split on every machine and every run
FOLDER_DEFAULT_SIZE = 28
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".pgm", ".ppm")


@dataclass(frozen=True)
class ImageSet:
    """One split of a dataset.

    Attributes
    ----------
    images : np.ndarray, shape (N, C, H, W), float32 in [0, 1]
    labels : np.ndarray, shape (N,), int64
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one image."""
        return tuple(self.images.shape[1:])


@dataclass(frozen=True)
class Dataset:
    """A named dataset with a fixed train/test split and its class names."""

    name: str
    train: ImageSet
    test: ImageSet
    class_names: tuple[str, ...]
    config: DataConfig
    source: str = ""  # where the images came from (shown in the dashboard)
    skipped_files: tuple[str, ...] = field(default=())  # unreadable files in a user folder

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.train.shape


TORCHVISION_DATASETS = {
    "mnist": ("MNIST", "MNIST"),
    "fashion-mnist": ("FashionMNIST", "FashionMNIST"),
    "kmnist": ("KMNIST", "KMNIST"),
}
BUILTIN_DATASETS = ("digits", *TORCHVISION_DATASETS)


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder torchvision datasets are read from (and downloaded to when online).

    Order: the explicit argument, then ``$LATENT_LAB_DATA_DIR``, then ``<repo>/data``.
    """
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    return DEFAULT_DATA_DIR


def load_dataset(
    name: str | DataConfig = "digits",
    *,
    data_dir: str | os.PathLike | None = None,
    limit: int | None = None,
    image_size: int | None = None,
    grayscale: bool = True,
    download: bool = True,
) -> Dataset:
    """Load a dataset with its fixed train/test split.

    Parameters
    ----------
    name : str or DataConfig
        ``digits`` (scikit-learn's 8x8 digits, offline, the default), ``mnist``, ``fashion-mnist``,
        ``kmnist`` (through torchvision) or ``folder:PATH`` (your own images).
    data_dir : path, optional
        Where torchvision datasets live; see :func:`resolve_data_dir`.
    limit : int, optional
        At most this many images per split, a stratified subsample with a fixed seed.
    image_size : int, optional
        Folder images are resized to ``image_size x image_size`` (default 28).
    grayscale : bool
        Folder images: one channel (True) or three (False).
    download : bool
        Try torchvision's download when the files are absent.

    Returns
    -------
    Dataset
        ``train.images`` of shape (N_train, C, H, W) and ``test.images`` of shape (N_test, C, H, W),
        float32 in [0, 1].
    """
    config = name if isinstance(name, DataConfig) else DataConfig(name, limit, image_size, grayscale)
    key = config.name.lower()
    if key == "digits":
        dataset = _load_digits(config)
    elif key in TORCHVISION_DATASETS:
        dataset = _load_torchvision(config, key, resolve_data_dir(data_dir), download)
    elif key.startswith("folder:"):
        dataset = _load_folder(config, Path(config.name[len("folder:"):]).expanduser())
    else:
        raise DatasetError(
            f"unknown dataset {config.name!r}: use one of {', '.join(BUILTIN_DATASETS)} or folder:PATH"
        )
    return _apply_limit(dataset, config.limit)


def _stratified_split(labels: np.ndarray, test_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split

    counts = np.bincount(labels)
    stratify = labels if len(counts) > 1 and counts[counts > 0].min() >= 2 else None
    index = np.arange(len(labels))
    train_idx, test_idx = train_test_split(
        index, test_size=test_fraction, random_state=SPLIT_SEED, stratify=stratify
    )
    return np.sort(train_idx), np.sort(test_idx)


def _subsample(split: ImageSet, limit: int) -> ImageSet:
    if len(split) <= limit:
        return split
    keep, _ = _stratified_split(split.labels, 1 - limit / len(split))
    return ImageSet(split.images[keep], split.labels[keep])


def _apply_limit(dataset: Dataset, limit: int | None) -> Dataset:
    if limit is None:
        return dataset
    return Dataset(
        dataset.name, _subsample(dataset.train, limit), _subsample(dataset.test, limit),
        dataset.class_names, dataset.config, dataset.source, dataset.skipped_files,
    )


def _load_digits(config: DataConfig) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.astype(np.float32) / 16.0)[:, None, :, :]  # pixel values are 0..16
    labels = bunch.target.astype(np.int64)
    train_idx, test_idx = _stratified_split(labels, 0.2)
    return Dataset(
        "digits",
        ImageSet(images[train_idx], labels[train_idx]),
        ImageSet(images[test_idx], labels[test_idx]),
        tuple(str(n) for n in bunch.target_names),
        config,
        source="scikit-learn (embedded, 8x8)",
    )


def _expected_files(folder: Path) -> str:
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    return ", ".join(str(folder / "raw" / n) for n in names)


def _load_torchvision(config: DataConfig, key: str, data_dir: Path, download: bool) -> Dataset:
    import torchvision.datasets as tvd

    class_name, folder_name = TORCHVISION_DATASETS[key]
    cls = getattr(tvd, class_name)
    splits = {}
    for train in (True, False):
        try:
            ds = cls(root=str(data_dir), train=train, download=False)
        except RuntimeError:
            ds = None
            if download:
                try:
                    ds = cls(root=str(data_dir), train=train, download=True)
                except Exception:  # no network, a proxy, a half download: all mean "not here"
                    ds = None
            if ds is None:
                raise DatasetError(
                    f"{key} was not found in {data_dir / folder_name} and could not be downloaded. "
                    f"Put the raw files there ({_expected_files(data_dir / folder_name)}; .gz is fine), "
                    f"or point --data-dir / ${DATA_DIR_ENV} at a folder that holds {folder_name}/raw/."
                ) from None
        images = ds.data.numpy().astype(np.float32)[:, None, :, :] / 255.0
        splits[train] = ImageSet(images, ds.targets.numpy().astype(np.int64))
    class_names = tuple(str(c).split(" - ")[-1] for c in cls.classes)
    return Dataset(key, splits[True], splits[False], class_names, config, source=str(data_dir / folder_name))


def _readable_image(path: str) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.verify()
        return True
    except Exception:
        return False


def load_image_file(path_or_file, size: int, grayscale: bool = True) -> np.ndarray:
    """Read one image, convert its mode and resize it.

    Returns
    -------
    np.ndarray, shape (C, size, size), float32 in [0, 1]
    """
    from PIL import Image

    with Image.open(path_or_file) as img:
        img = img.convert("L" if grayscale else "RGB").resize((size, size), Image.Resampling.BILINEAR)
        array = np.asarray(img, dtype=np.float32) / 255.0
    return array[None] if grayscale else array.transpose(2, 0, 1)


def _load_folder(config: DataConfig, folder: Path) -> Dataset:
    if not folder.is_dir():
        raise DatasetError(f"image folder {folder} does not exist: give a folder of images, optionally one sub-folder per class")
    size = config.image_size or FOLDER_DEFAULT_SIZE
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if subfolders:
        classes = [p.name for p in subfolders]
        candidates = [(f, i) for i, sub in enumerate(subfolders) for f in sorted(sub.rglob("*"))]
    else:
        classes = [folder.name or "images"]
        candidates = [(f, 0) for f in sorted(folder.iterdir())]
    candidates = [(f, i) for f, i in candidates if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    images, labels, skipped = [], [], []
    for path, label in candidates:
        if not _readable_image(str(path)):
            skipped.append(str(path))
            continue
        try:
            images.append(load_image_file(path, size, config.grayscale))
            labels.append(label)
        except Exception:
            skipped.append(str(path))
    if len(images) < 10:
        raise DatasetError(
            f"{folder} holds {len(images)} readable images ({len(skipped)} unreadable); at least 10 are needed "
            f"(formats: {', '.join(IMAGE_SUFFIXES)})"
        )
    images_arr = np.stack(images).astype(np.float32)
    labels_arr = np.asarray(labels, dtype=np.int64)
    train_idx, test_idx = _stratified_split(labels_arr, 0.2)
    return Dataset(
        f"folder:{folder}",
        ImageSet(images_arr[train_idx], labels_arr[train_idx]),
        ImageSet(images_arr[test_idx], labels_arr[test_idx]),
        tuple(classes), config, source=str(folder), skipped_files=tuple(skipped),
    )


MAX_UPLOAD_BYTES = 5 * 1024 * 1024
UPLOAD_TYPES = ("png", "jpg", "jpeg", "bmp", "gif", "webp")
MAX_UPLOAD_SIDE = 8000


def image_from_upload(data: bytes, name: str, image_shape: tuple[int, int, int],
                      invert: str = "auto") -> tuple[np.ndarray, str]:
    """Validate an uploaded image file and bring it to a dataset's image shape.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        Its file name (the suffix must be one of :data:`UPLOAD_TYPES`).
    image_shape : (C, H, W)
        The dataset's image shape: the upload is converted to C channels and resized to H x W.
    invert : {'auto', 'yes', 'no'}
        'auto' inverts a mostly light image (the training images are light strokes on dark).

    Returns
    -------
    image : np.ndarray, shape (1, C, H, W), float32 in [0, 1]
    note : str
        What was done to it, for the page to show.

    Raises
    ------
    core.errors.UploadError
        Too large, wrong type, unreadable, or too small/large in pixels; the message says which.
    """
    import io

    from PIL import Image, UnidentifiedImageError

    from core.errors import UploadError

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
    if min(size) < 4 or max(size) > MAX_UPLOAD_SIDE:
        raise UploadError(f"{name} is {size[0]}x{size[1]} pixels; use an image between 4 and "
                          f"{MAX_UPLOAD_SIDE} pixels a side")
    c, h, w = image_shape
    image = load_image_file(io.BytesIO(data), h, grayscale=(c == 1))
    if image.shape[1:] != (h, w):
        image = image[:, :h, :w]
    note = f"{size[0]}x{size[1]} {mode} image, converted to {'grayscale' if c == 1 else 'RGB'} {w}x{h}"
    if invert == "yes" or (invert == "auto" and float(image.mean()) > 0.5):
        image = 1.0 - image
        note += ", inverted (the training images are light on dark)"
    return image[None].astype(np.float32), note
