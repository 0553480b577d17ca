"""Datasets: shapes, ranges, fixed splits, the torchvision path on tiny IDX files, user folders."""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import pytest
from PIL import Image

from core.config import ConfigError, DataConfig, run_key
from core.data.datasets import SkippedFile, folder_fingerprint, load_dataset, resolve_data_config
from core.errors import DatasetError


def test_digits_is_float_images_in_unit_range_with_a_fixed_stratified_split(digits):
    assert digits.train.images.shape == (1437, 1, 8, 8) and digits.test.images.shape == (360, 1, 8, 8)
    train = np.asarray(digits.train.images)
    assert train.dtype == np.float32 and digits.train.images[:5].dtype == np.float32
    assert 0.0 <= train.min() and train.max() == 1.0
    # held as 8-bit levels, read back exactly as the 0..16 values over 16
    np.testing.assert_array_equal(train * 16, np.round(train * 16))
    assert digits.train.images.nbytes == train.size, "one byte a pixel in memory"
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
    assert data.train.images.dtype == np.float32 and np.asarray(data.train.images).max() <= 1.0
    assert data.train.labels[:3].tolist() == [0, 1, 2]
    assert len(data.class_names) == 10


def test_data_dir_comes_from_the_environment(tiny_mnist_dir, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_DATA_DIR", str(tiny_mnist_dir))
    assert len(load_dataset("mnist", download=False).test) == 12


def test_a_truncated_raw_file_is_called_damaged_not_missing(tiny_mnist_dir):
    images = tiny_mnist_dir / "MNIST" / "raw" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:3000])  # cut short, as an interrupted copy leaves it
    with pytest.raises(DatasetError, match="truncated or damaged") as info:
        load_dataset("mnist", data_dir=tiny_mnist_dir, download=False)
    assert "not found" not in str(info.value)


def test_a_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    def offline(self, *args, **kwargs):
        (tmp_path / "data" / "KMNIST" / "raw").mkdir(parents=True, exist_ok=True)  # what torchvision does first
        raise RuntimeError("no network")

    monkeypatch.setattr(tvd.KMNIST, "download", offline)
    with pytest.raises(DatasetError, match="could not be downloaded"):
        load_dataset("kmnist", data_dir=tmp_path / "data", download=True)
    assert not (tmp_path / "data").exists(), "nothing left behind"


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
    assert data.skipped_files == (SkippedFile(str(tmp_path / "dogs" / "broken.png"), "not an image file this app reads"),)


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


# --- folders are keyed by their content ------------------------------------------------------------
def test_builtin_configs_keep_their_keys_and_are_not_resolved():
    digits = DataConfig("digits")
    assert "content" not in digits.to_dict() and resolve_data_config(digits) is digits
    # the key a digits model had before content fingerprints existed (checkpoints stay found)
    assert digits.key() == DataConfig("digits", None, None, True).key()
    assert digits.to_dict() == {"name": "digits", "limit": None, "image_size": None, "grayscale": True}
    with pytest.raises(ConfigError, match="only for folder"):
        DataConfig("digits", content="abc")


def test_folder_config_is_resolved_from_the_files_and_changes_with_them(tmp_path):
    folder = tmp_path / "imgs"
    _save_pngs(folder / "a", 6, 200)
    _save_pngs(folder / "b", 6, 50)
    plain = DataConfig(f"folder:{folder}", image_size=8)
    resolved = resolve_data_config(plain)
    assert resolved.content == folder_fingerprint(folder) and len(resolved.content) == 16
    assert resolved.key() != plain.key() and resolved.key() == resolve_data_config(plain).key()  # stable
    data = load_dataset(plain)
    assert data.config == resolved, "load_dataset returns the resolved config"
    assert load_dataset(resolved).config == resolved
    (folder / "notes.txt").write_text("not an image: not part of the identity")
    assert folder_fingerprint(folder) == resolved.content

    # every image rewritten (same names, new pixels): a new key
    _save_pngs(folder / "a", 6, 10, size=(13, 10))
    changed = resolve_data_config(plain)
    assert changed.content != resolved.content
    assert load_dataset(resolved).config == changed, "a stale fingerprint is replaced by what was read"
    # touching one file (same bytes, new mtime), adding, removing: each changes it
    before = changed.content
    path = folder / "b" / "img0.png"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert folder_fingerprint(folder) != before
    before = folder_fingerprint(folder)
    _save_pngs(folder / "b", 7, 50)
    assert folder_fingerprint(folder) != before
    before = folder_fingerprint(folder)
    (folder / "b" / "img6.png").unlink()
    assert folder_fingerprint(folder) != before
    with pytest.raises(DatasetError, match="does not exist"):
        resolve_data_config(DataConfig(f"folder:{tmp_path / 'nowhere'}"))


def test_run_key_of_a_folder_follows_its_content(tmp_path):
    from core.config import ModelConfig, TrainConfig

    _save_pngs(tmp_path / "f", 12, 100)
    config = DataConfig(f"folder:{tmp_path / 'f'}")
    key = run_key(resolve_data_config(config), ModelConfig(), TrainConfig())
    _save_pngs(tmp_path / "f", 12, 30)
    assert run_key(resolve_data_config(config), ModelConfig(), TrainConfig()) != key


def test_cli_trains_anew_after_the_images_change_and_is_cached_when_nothing_changed(tmp_path, capsys):
    from core.cli import main

    folder = tmp_path / "mine"
    _save_pngs(folder / "a", 8, 220)
    _save_pngs(folder / "b", 8, 30)
    args = ["train", "--dataset", f"folder:{folder}", "--image-size", "8", "--epochs", "1",
            "--checkpoints", str(tmp_path / "ckpt"), "--json"]

    def train():
        assert main(args) == 0
        return json.loads(capsys.readouterr().out)

    first = train()
    assert first["cached"] is False
    assert train()["cached"] is True, "nothing changed: the cached model answers"
    for sub, value in (("a", 20), ("b", 240)):  # replace every image: the classes swap brightness
        _save_pngs(folder / sub, 8, value, size=(9, 9))
    third = train()
    assert third["cached"] is False and third["checkpoint"] != first["checkpoint"]
    assert train()["cached"] is True


# --- what a messy folder holds ---------------------------------------------------------------------
def test_truncated_empty_and_fake_files_are_skipped_with_a_reason(tmp_path):
    _save_pngs(tmp_path / "ok", 10, 120)
    good = (tmp_path / "ok" / "img0.png").read_bytes()
    (tmp_path / "ok" / "truncated.png").write_bytes(good[: len(good) // 2])
    (tmp_path / "ok" / "empty.png").write_bytes(b"")
    (tmp_path / "ok" / "fake.jpg").write_bytes(b"<html>not a photo</html>")
    (tmp_path / "ok" / ".hidden.png").write_bytes(b"macOS resource fork")  # hidden: ignored, not reported
    data = load_dataset(f"folder:{tmp_path / 'ok'}", image_size=8)
    assert len(data.train) + len(data.test) == 10
    reasons = {os.path.basename(s.path): s.reason for s in data.skipped_files}
    assert set(reasons) == {"truncated.png", "empty.png", "fake.jpg"}
    assert reasons["empty.png"] == "empty file (0 bytes)"
    assert reasons["fake.jpg"] == "not an image file this app reads"
    assert reasons["truncated.png"].startswith("truncated or damaged")
    assert all(str(s) == f"{s.path}: {s.reason}" for s in data.skipped_files)


def test_an_empty_class_folder_is_no_class(tmp_path):
    _save_pngs(tmp_path / "cats", 10, 200)
    (tmp_path / "empty").mkdir()
    _save_pngs(tmp_path / "zebras", 10, 50)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"nope")
    data = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert data.class_names == ("cats", "zebras")
    assert set(np.unique(np.concatenate([data.train.labels, data.test.labels]))) == {0, 1}
    assert SkippedFile(str(tmp_path / "empty"), "class folder without readable images: not a class") in data.skipped_files
    assert str(tmp_path / "broken") in {s.path for s in data.skipped_files}


def _folder_of(tmp_path, images: list[Image.Image], name="odd", suffix=".png") -> str:
    folder = tmp_path / name
    folder.mkdir()
    for i, img in enumerate(images):
        img.save(folder / f"{i:02d}{suffix}")
    return f"folder:{folder}"


def test_16_bit_images_are_scaled_not_clipped(tmp_path):
    ramp = np.linspace(0, 65535, 16 * 16).reshape(16, 16).astype(np.uint16)
    img = Image.fromarray(ramp)
    assert img.mode == "I;16"
    data = load_dataset(_folder_of(tmp_path, [img] * 10), image_size=16)
    pixels = data.train.images[0, 0]
    assert abs(pixels.mean() - 0.5) < 0.01, "a 0..65535 ramp averages one half"
    assert pixels.min() < 0.05 and pixels.max() > 0.95 and (pixels >= 0.99).mean() < 0.1
    # the same values as 32-bit integers (mode I, here a TIFF) read the same
    data_i = load_dataset(_folder_of(tmp_path, [img.convert("I")] * 10, "as_i", ".tif"), image_size=16)
    assert not data_i.skipped_files
    np.testing.assert_allclose(data_i.train.images[0, 0], pixels, atol=1e-4)


def test_alpha_is_composited_over_the_background_of_the_light_on_dark_convention(tmp_path):
    def sheet(ink):  # a 3-pixel-wide bar of ink on a transparent sheet
        rgba = np.zeros((12, 12, 4), np.uint8)
        rgba[:, 4:8, :3], rgba[:, 4:8, 3] = ink, 255
        return Image.fromarray(rgba, "RGBA")

    light = load_dataset(_folder_of(tmp_path, [sheet(255)] * 10, "light"), image_size=12).train.images[0, 0]
    assert light[:, 4:8].min() > 0.95 and light[:, :3].max() < 0.05, "white ink: transparent -> black (the convention)"
    dark = load_dataset(_folder_of(tmp_path, [sheet(0)] * 10, "dark"), image_size=12).train.images[0, 0]
    assert dark[:, 4:8].max() < 0.05 and dark[:, :3].min() > 0.95, "black ink stays visible: over white"
    la = load_dataset(_folder_of(tmp_path, [sheet(255).convert("LA")] * 10, "la"), image_size=12).train.images[0, 0]
    np.testing.assert_allclose(la, light, atol=0.01)
    half = np.zeros((12, 12, 4), np.uint8)
    half[..., :3], half[..., 3] = 255, 128  # half-transparent white over black: about one half
    mid = load_dataset(_folder_of(tmp_path, [Image.fromarray(half, "RGBA")] * 10, "half"), image_size=12)
    assert abs(mid.train.images.mean() - 128 / 255) < 0.01


def test_palette_and_cmyk_convert_correctly(tmp_path):
    rgb = Image.new("RGB", (10, 10), (255, 0, 0))
    palette = rgb.convert("P")
    assert palette.mode == "P"
    data = load_dataset(_folder_of(tmp_path, [palette] * 10, "p"), image_size=10, grayscale=False)
    np.testing.assert_allclose(data.train.images[0, :, 5, 5], [1, 0, 0], atol=0.01)
    gray = load_dataset(_folder_of(tmp_path, [palette] * 10, "pg"), image_size=10).train.images[0, 0, 5, 5]
    assert abs(gray - 0.299) < 0.01, "grayscale by ITU-R 601-2 luma, as Pillow's convert('L')"
    folder = tmp_path / "cmyk"
    folder.mkdir()
    for i in range(10):  # full cyan in CMYK is (0, 255, 255) in RGB
        Image.new("CMYK", (10, 10), (255, 0, 0, 0)).save(folder / f"{i}.jpg", quality=100)
        Image.new("CMYK", (10, 10), (255, 0, 0, 0)).save(folder / f"{i}.tiff")
    cmyk = load_dataset(f"folder:{folder}", image_size=10, grayscale=False)
    assert not cmyk.skipped_files and len(cmyk.train) + len(cmyk.test) == 20
    np.testing.assert_allclose(cmyk.train.images[:, :, 5, 5].mean(axis=0), [0, 1, 1], atol=0.03)


def test_class_names_are_torchvision_s(tiny_mnist_dir):
    import torchvision.datasets as tvd

    from core.data.data_sources import SOURCES

    for source in (s for s in SOURCES.values() if s.torchvision):
        assert source.class_names == tuple(str(c).split(" - ")[-1] for c in getattr(tvd, source.torchvision).classes)


def test_raw_files_read_alone_equal_torchvision_s_reading_and_gz_works(tiny_mnist_dir):
    import gzip

    import torchvision.datasets as tvd

    ours = load_dataset("mnist", data_dir=tiny_mnist_dir, download=False)
    theirs = tvd.MNIST(root=str(tiny_mnist_dir), train=True, download=False)
    np.testing.assert_array_equal(ours.train.images.raw[:, 0], theirs.data.numpy())
    np.testing.assert_array_equal(ours.train.labels, theirs.targets.numpy())
    raw = tiny_mnist_dir / "MNIST" / "raw"
    for path in list(raw.iterdir()):  # the same files, gzipped, as the official downloads come
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
    again = load_dataset("mnist", data_dir=tiny_mnist_dir, download=False)
    np.testing.assert_array_equal(again.test.images.raw, ours.test.images.raw)
