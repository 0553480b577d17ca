"""CIFAR-10 in torchvision's offline layout (core.data.cifar), on tiny fake batches: shapes, colours, channel
order, and refusal of files that are missing, damaged or name Python objects beyond a numpy array."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest

from core.data.cifar import BATCH_FOLDER, CLASS_NAMES, fake_colours, read_cifar10, write_fake_cifar10
from core.errors import DatasetError


@pytest.fixture
def cifar_root(tmp_path):
    write_fake_cifar10(tmp_path, per_batch=6)
    return tmp_path


def test_reads_the_fake_batches_in_colour_and_in_channel_order(cifar_root):
    train, train_labels, test, test_labels, names = read_cifar10(cifar_root)
    assert train.shape == (30, 3, 32, 32) and test.shape == (6, 3, 32, 32)
    assert train.dtype == np.uint8 and train_labels.dtype == np.int64 and test_labels.dtype == np.int64
    assert names == CLASS_NAMES
    # every image is its class's flat colour (+-10): red stays in channel 0, blue in channel 2
    for pixels, labels in ((train, train_labels), (test, test_labels)):
        means = pixels.reshape(len(pixels), 3, -1).mean(axis=2)
        np.testing.assert_allclose(means, fake_colours()[labels], atol=3)
    red = train[train_labels == 0][0]
    assert red[0].mean() > 200 and red[1].mean() < 40 and red[2].mean() < 40


def test_matches_what_torchvision_does_with_the_same_file(cifar_root):
    train, train_labels, *_ = read_cifar10(cifar_root)
    with open(cifar_root / BATCH_FOLDER / "data_batch_1", "rb") as f:
        entry = pickle.load(f, encoding="latin1")  # torchvision's own read (trusted here: the test wrote it)
    hwc = np.vstack([entry["data"]]).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))  # torchvision's CIFAR10.data
    np.testing.assert_array_equal(train[:6], hwc.transpose(0, 3, 1, 2))
    assert train_labels[:6].tolist() == entry["labels"]


def _py2_batch(data: np.ndarray, labels: list[int]) -> bytes:
    """A pickle as Python 2 and numpy 1 wrote the real CIFAR files: str keys and the array's bytes as
    (SHORT_)BINSTRING, and the global ``numpy.core.multiarray._reconstruct``."""
    def s(text: bytes) -> bytes:  # SHORT_BINSTRING
        return b"U" + bytes([len(text)]) + text

    def i(value: int) -> bytes:  # BININT
        return b"J" + struct.pack("<i", value)

    raw = data.tobytes()
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85" + s(b"b") + b"\x87R"
             + b"(K\x01" + i(len(data)) + i(data.shape[1]) + b"\x86"
             + b"cnumpy\ndtype\n" + s(b"u1") + b"K\x00K\x01\x87R" + b"(K\x03" + s(b"|")
             + b"NNN" + i(-1) + i(-1) + b"K\x00tb" + b"\x89" + b"T" + struct.pack("<I", len(raw)) + raw + b"tb")
    label_list = b"]" + b"(" + b"".join(b"K" + bytes([v]) for v in labels) + b"e"
    return b"\x80\x02}(" + s(b"data") + array + s(b"labels") + label_list + b"u."


def test_reads_python2_pickles_like_the_real_files(cifar_root):
    data = np.arange(2 * 3072, dtype=np.int64).astype(np.uint8).reshape(2, 3072)
    (cifar_root / BATCH_FOLDER / "test_batch").write_bytes(_py2_batch(data, [3, 7]))
    _, _, test, test_labels, _ = read_cifar10(cifar_root)
    assert test_labels.tolist() == [3, 7]
    np.testing.assert_array_equal(test, data.reshape(2, 3, 32, 32))


def test_missing_files_say_what_to_put_where(tmp_path):
    with pytest.raises(DatasetError, match=r"not found in .*cifar-10-batches-py.*data_batch_1.*batches\.meta"):
        read_cifar10(tmp_path)
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"not really")
    with pytest.raises(DatasetError, match="not unpacked: run `tar -xzf cifar-10-python.tar.gz`"):
        read_cifar10(tmp_path)


class _Boom:
    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("content, message", [
    (b"\x80\x02}(X\x04\x00", "damaged or not a CIFAR-10 batch"),  # cut off
    (pickle.dumps([1, 2, 3], protocol=2), "holds a list"),
    (pickle.dumps({"data": np.zeros((2, 10), np.uint8), "labels": [0, 1]}, protocol=2), r"uint8 array \(n, 3072\)"),
    (pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0]}, protocol=2), "2 integers"),
    (pickle.dumps({"data": np.zeros((1, 3072), np.uint8), "labels": [12]}, protocol=2), "outside 0..9"),
], ids=["cut off", "a list", "wrong shape", "too few labels", "label 12"])
def test_damaged_batches_are_refused_with_the_fix(cifar_root, content, message):
    (cifar_root / BATCH_FOLDER / "data_batch_3").write_bytes(content)
    with pytest.raises(DatasetError, match=message) as info:
        read_cifar10(cifar_root)
    assert "data_batch_3" in str(info.value) and "Unpack cifar-10-python.tar.gz" in str(info.value)


def test_a_pickle_that_names_any_other_callable_is_not_run(cifar_root, capsys):
    for payload in (_Boom(), {"data": _Boom()}):
        (cifar_root / BATCH_FOLDER / "batches.meta").write_bytes(pickle.dumps(payload, protocol=2))
        with pytest.raises(DatasetError, match=r"\.print is not allowed"):
            read_cifar10(cifar_root)
    evil_codec = pickle.dumps({"data": b"x"}, protocol=2).replace(b"latin1", b"base64")  # bytes through a codec
    (cifar_root / BATCH_FOLDER / "batches.meta").write_bytes(evil_codec)
    with pytest.raises(DatasetError, match="codec 'base64' is not allowed"):
        read_cifar10(cifar_root)
    assert "must never run" not in capsys.readouterr().out


def test_load_dataset_serves_cifar10_as_colour_images(cifar_root):
    from core.data.datasets import load_dataset

    data = load_dataset("cifar10", data_dir=cifar_root)
    assert data.image_shape == (3, 32, 32) and data.class_names == CLASS_NAMES
    assert len(data.train) == 30 and len(data.test) == 6
    images = np.asarray(data.test.images)
    assert images.dtype == np.float32 and 0 <= images.min() and images.max() <= 1
    np.testing.assert_allclose(images.mean(axis=(2, 3)) * 255, fake_colours()[data.test.labels], atol=3)


def test_load_dataset_gives_cifar10_as_a_colour_dataset(cifar_root):
    from core.data.datasets import load_dataset

    data = load_dataset("cifar10", data_dir=cifar_root)
    assert data.image_shape == (3, 32, 32) and data.class_names[0] == "airplane"
    assert len(data.train) == 30 and len(data.test) == 6, "five training batches and one test batch"
    first = data.train.images[:1]
    assert first.dtype == np.float32 and 0.0 <= first.min() and first.max() <= 1.0
