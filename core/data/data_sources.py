"""The one table of datasets, as the method registry is for models: name -> title, loader, where its
files come from (what the disk cache keys on), colour.

The loader (:func:`core.data.datasets.load_dataset`), the disk cache (:func:`core.store.derived.load_dataset_cached`),
the dashboard's sidebar and the CLI's ``--dataset`` all read it. A folder of one's own images is the
``folder`` source; a dataset name ``folder:PATH`` is parsed here, once (:func:`split_name`), and
:class:`core.config.DataConfig` exposes the result (``.source``, ``.folder``). It imports nothing of the
project and nothing heavy: loaders are named by import path and imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from core.config import DataConfig
    from core.data.datasets import Dataset

FOLDER = "folder"
FOLDER_PREFIX = FOLDER + ":"


@dataclass(frozen=True)
class DataSource:
    """One entry of the table.

    Attributes
    ----------
    name : str
        The dataset's name (``DataConfig.name``; ``folder:PATH`` for the folder source).
    title : str
        How the sidebar names it.
    loader : str
        ``module:function`` called as ``function(config, data_dir, download) -> Dataset``.
    colour : bool
        Its images are in colour (a folder's depend on its config's ``grayscale``).
    files : str or None
        The folder under the data folder that holds its files (``'MNIST/raw'``): their names, sizes and
        times identify what the cache keeps. None when it has no such folder.
    embedded : tuple of (package, path) or None
        A file inside an installed package it is read from (digits: scikit-learn's ``digits.csv.gz``):
        its SHA-256 identifies what the cache keeps; such a dataset works offline with no files.
    torchvision : str or None
        torchvision's class for a download (the MNIST family).
    class_names : tuple of str
        As torchvision lists them (empty: the loader finds them).
    """

    name: str
    title: str
    loader: str
    colour: bool = False
    files: str | None = None
    embedded: tuple[str, str] | None = None
    torchvision: str | None = None
    class_names: tuple[str, ...] = ()

    def load(self, config: DataConfig, data_dir: Path, download: bool) -> Dataset:
        module, _, function = self.loader.partition(":")
        return getattr(import_module(module), function)(config, data_dir, download)

    @property
    def cached(self) -> bool:
        """Whether its pixels are kept on disk (a built-in set read from known files; a folder's config
        already fingerprints its images, and its load also reports skipped files, which are not kept)."""
        return self.files is not None or self.embedded is not None


_TV = "core.data.datasets:_load_torchvision"
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")

#: every dataset, in the order the sidebar and ``--help`` list them
SOURCES: dict[str, DataSource] = {s.name: s for s in [
    DataSource("digits", "Digits (embedded, 8x8)", "core.data.datasets:_load_digits",
               embedded=("sklearn", "datasets/data/digits.csv.gz")),
    DataSource("mnist", "MNIST", _TV, files="MNIST/raw", torchvision="MNIST", class_names=DIGITS),
    DataSource("fashion-mnist", "Fashion-MNIST", _TV, files="FashionMNIST/raw", torchvision="FashionMNIST",
               class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                            "Bag", "Ankle boot")),
    DataSource("kmnist", "KMNIST", _TV, files="KMNIST/raw", torchvision="KMNIST",
               class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")),
    DataSource("cifar10", "CIFAR-10 (colour, 32x32)", "core.data.datasets:_load_cifar10", colour=True,
               files="cifar-10-batches-py"),
    DataSource(FOLDER, "Own image folder", "core.data.datasets:_load_folder"),
]}

#: the datasets named by name alone (all but one's own folder)
BUILTIN: tuple[str, ...] = tuple(name for name in SOURCES if name != FOLDER)


def split_name(name: str) -> tuple[str, str | None]:
    """A dataset name as (source, folder path): ``'MNIST'`` -> ``('mnist', None)``,
    ``'folder:/data/pets'`` -> ``('folder', '/data/pets')``; the one place ``folder:`` is parsed."""
    if name[:len(FOLDER_PREFIX)].lower() == FOLDER_PREFIX:
        return FOLDER, name[len(FOLDER_PREFIX):]
    return name.lower(), None


def get_source(name: str) -> DataSource:
    """The table's entry for a dataset name (``folder:PATH`` included); KeyError naming the choices."""
    source, _ = split_name(name)
    try:
        return SOURCES[source]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}: use one of {', '.join(BUILTIN)} or {FOLDER_PREFIX}PATH") from None
