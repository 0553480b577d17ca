"""Datasets: shapes, ranges, fixed splits, the torchvision path on tiny IDX files, user folders."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from core.datasets import load_dataset
from core.errors import DatasetError


def test_digits_is_float_images_in_unit_range_with_a_fixed_stratified_split(digits):
    assert digits.train.images.shape == (1437, 1, 8, 8) and digits.test.images.shape == (360, 1, 8, 8)
    assert digits.train.images.dtype == np.float32
    assert 0.0 <= digits.train.images.min() and digits.train.images.max() <= 1.0
    assert digits.class_names == tuple("0123456789")
    # stratified: every class has about 20% of its images in the test split
    test_share = np.bincount(digits.test.labels) / (np.bincount(digits.test.labels) + np.bincount(digits.train.labels))
    assert np.all(np.abs(test_share - 0.2) < 0.02)
    again = load_dataset("digits")
    np.testing.assert_array_equal(again.test.labels, digits.test.labels)
    np.testing.assert_array_equal(again.test.images, digits.test.images)


def test_limit_subsamples_each_split_keeping_classes(digits):
    small = load_dataset("digits", limit=100)
    assert len(small.train) == 100 and len(small.test) == 100
    assert set(small.train.labels) == set(range(10))


def _write_idx(path, array: np.ndarray):
    magic = 0x0803 if array.ndim == 3 else 0x0801
    with open(path, "wb") as handle:
        handle.write(struct.pack(">I", magic))
        handle.write(struct.pack(">" + "I" * array.ndim, *array.shape))
        handle.write(array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist_dir(tmp_path, rng):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 40), ("t10k", 12)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10)
    return tmp_path


def test_torchvision_path_reads_idx_files_from_the_data_dir(tiny_mnist_dir):
    data = load_dataset("mnist", data_dir=tiny_mnist_dir, download=False)
    assert data.train.images.shape == (40, 1, 28, 28) and data.test.images.shape == (12, 1, 28, 28)
    assert data.train.images.dtype == np.float32 and data.train.images.max() <= 1.0
    assert data.train.labels[:3].tolist() == [0, 1, 2]
    assert len(data.class_names) == 10


def test_data_dir_comes_from_the_environment(tiny_mnist_dir, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_DATA_DIR", str(tiny_mnist_dir))
    assert len(load_dataset("mnist", download=False).test) == 12


def test_missing_dataset_names_the_folder_and_files(tmp_path):
    with pytest.raises(DatasetError) as info:
        load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path / "FashionMNIST") in message and "train-images-idx3-ubyte" in message and "--data-dir" in message


def _save_pngs(folder, count, value, size=(12, 10)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        Image.new("RGB", size, (value, (i * 20) % 256, 0)).save(folder / f"img{i}.png")


def test_folder_with_class_subfolders_is_resized_and_labelled(tmp_path):
    _save_pngs(tmp_path / "cats", 10, 200)
    _save_pngs(tmp_path / "dogs", 10, 50)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not an image")
    data = load_dataset(f"folder:{tmp_path}", image_size=16)
    assert data.class_names == ("cats", "dogs")
    assert data.train.images.shape[1:] == (1, 16, 16)
    assert len(data.train) + len(data.test) == 20
    assert data.skipped_files == (str(tmp_path / "dogs" / "broken.png"),)


def test_flat_folder_in_rgb(tmp_path):
    _save_pngs(tmp_path / "flat", 12, 120)
    data = load_dataset(f"folder:{tmp_path / 'flat'}", image_size=8, grayscale=False)
    assert data.train.images.shape[1:] == (3, 8, 8) and data.class_names == ("flat",)


def test_folder_with_too_few_images_says_so(tmp_path):
    _save_pngs(tmp_path / "few", 3, 10)
    with pytest.raises(DatasetError, match="at least 10"):
        load_dataset(f"folder:{tmp_path / 'few'}")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'nowhere'}")


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(DatasetError, match="digits, mnist"):
        load_dataset("cifar")
