"""Rate-distortion of quantised codes against JPEG (core.analysis.compression)."""

from __future__ import annotations

import io

import numpy as np
import pytest

from core.analysis import choose_at_budget, decode_at_settings, jpeg_roundtrip, quantize_codes, rate_distortion_table, symbol_entropy_bits
from core.analysis.compression import JPEG_SUBSAMPLING, rd_view
from core.models.reducers import PCAReducer


def test_uniform_quantiser(rng):
    codes = rng.uniform(-1, 3, size=(500, 4))
    values, symbols = quantize_codes(codes, 3, codes.min(axis=0), codes.max(axis=0))
    assert symbols.min() == 0 and symbols.max() == 7 and values.shape == codes.shape
    width = (codes.max(axis=0) - codes.min(axis=0)) / 8
    assert np.all(np.abs(values - codes) <= width / 2 + 1e-6)
    clipped, _ = quantize_codes(np.array([[10.0]]), 2, [0.0], [1.0])  # beyond the training range: clipped
    assert clipped[0, 0] == pytest.approx(0.875)
    assert symbol_entropy_bits(symbols) == pytest.approx(12.0, abs=0.1)  # uniform: 3 bits x 4 numbers
    with pytest.raises(ValueError, match="between 1 and 24"):
        quantize_codes(codes, 0, 0, 1)


def test_high_bit_depth_converges_to_the_unquantised_error(digits):
    pca = PCAReducer(8).fit(digits.train.images)
    frame = rate_distortion_table(digits, {"PCA": pca}, bits=(1, 2, 4, 8, 12), jpeg_qualities=(50,), n_images=200)
    rows = frame[frame.method == "PCA"].set_index("setting")
    exact = rows.loc["float32", "psnr"]
    assert abs(rows.loc["12 bit", "psnr"] - exact) < 0.01
    psnr = rows.loc[["1 bit", "2 bit", "4 bit", "8 bit", "12 bit"], "psnr"].to_numpy()
    assert np.all(np.diff(psnr) > -1e-3) and psnr[0] < exact - 1  # 1 bit per number costs visible quality
    assert rows.loc["4 bit", "bits_per_image"] == 32
    assert rows.loc["4 bit", "entropy_bits_per_image"] <= 32  # entropy never exceeds the raw size


def test_jpeg_bits_grow_with_quality(digits):
    images = digits.test.images[:50]
    sizes, psnrs = [], []
    for q in (10, 50, 90):
        decoded, file_bytes, scan_bytes = jpeg_roundtrip(images, q, with_scan_bytes=True)
        assert decoded.shape == images.shape and np.all(scan_bytes < file_bytes)
        sizes.append(file_bytes.mean())
        psnrs.append(float(np.mean(10 * np.log10(1 / np.mean((decoded - images) ** 2, axis=(1, 2, 3))))))
    assert sizes[0] < sizes[1] < sizes[2] and psnrs[0] < psnrs[1] < psnrs[2]
    frame = rate_distortion_table(digits, {}, bits=(), jpeg_qualities=(10, 50, 90), n_images=50)
    assert frame["setting"].tolist() == ["q10", "q50", "q90"]
    assert frame["bits_per_image"].is_monotonic_increasing and frame["entropy_bits_per_image"].is_monotonic_increasing
    assert (frame["bits_per_image"] - frame["entropy_bits_per_image"]).min() > 8 * 200  # the header counts


def test_jpeg_handles_colour(rng):
    images = rng.random((3, 3, 16, 16)).astype(np.float32)
    decoded, sizes = jpeg_roundtrip(images, 90)
    assert decoded.shape == images.shape and len(sizes) == 3


def test_the_setting_at_a_budget_respects_it(digits):
    pca = PCAReducer(8).fit(digits.train.images)
    view = rd_view(rate_distortion_table(digits, {"PCA": pca}, n_images=50))
    out = choose_at_budget(view, 40).set_index("method")
    assert out.loc["PCA", "setting"] == "5 bit" and out.loc["PCA", "bits_per_image"] == 40
    assert not out.loc["PCA", "over_budget"]
    assert out.loc["JPEG", "over_budget"] and out.loc["JPEG", "setting"] == "q5"  # no JPEG file is as small as 40 bits
    rich = choose_at_budget(view, 3000).set_index("method")
    assert not rich.loc["JPEG", "over_budget"] and rich.loc["JPEG", "psnr"] > out.loc["JPEG", "psnr"]
    pictures = decode_at_settings(digits, {"PCA": pca}, {"PCA": "5 bit", "JPEG": "q5"}, np.arange(4))
    assert set(pictures) == {"original", "PCA", "JPEG"} and pictures["PCA"].shape == (4, 1, 8, 8)


# --- colour ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def colour(tmp_path_factory):
    from core.data.datasets import load_dataset
    from testkit.colour import colour_config, write_rgb_folder

    return load_dataset(colour_config(write_rgb_folder(tmp_path_factory.mktemp("rgb"), per_class=15)))


def _red_on_blue(size: int = 16) -> np.ndarray:
    image = np.zeros((1, 3, size, size), np.float32)
    image[0, 2] = 0.6  # blue ground
    image[0, :, 4:12, 4:12] = np.array([0.9, 0.1, 0.1])[:, None, None]  # a red square
    return image


def test_colour_images_are_written_as_colour_jpeg_with_the_stated_subsampling():
    from PIL import Image, JpegImagePlugin

    image = _red_on_blue()
    decoded, sizes, scans = jpeg_roundtrip(image, 90, with_scan_bytes=True)
    inside, ground = decoded[0, :, 7, 7], decoded[0, :, 1, 1]
    assert inside[0] > 0.7 and inside[1] < 0.3 and inside[2] < 0.3, f"the square stays red: {inside}"
    assert ground[2] > 0.45 and ground[0] < 0.2, f"the ground stays blue: {ground}"
    grey = image.mean(axis=1, keepdims=True)
    _, grey_sizes, grey_scans = jpeg_roundtrip(grey, 90, with_scan_bytes=True)
    assert (sizes - scans)[0] > (grey_sizes - grey_scans)[0] + 200, "colour JPEG carries chroma tables too"
    pixels = np.round(image[0].transpose(1, 2, 0) * 255).astype(np.uint8)  # what jpeg_roundtrip writes
    for subsampling, code in (("4:2:0", 2), ("4:4:4", 0)):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, subsampling=subsampling)
        with Image.open(buffer) as jpeg:
            assert jpeg.mode == "RGB" and JpegImagePlugin.get_sampling(jpeg) == code
        _, ours = jpeg_roundtrip(image, 90, subsampling=subsampling)
        assert ours[0] == len(buffer.getvalue()), f"{subsampling}: the file measured is the file Pillow writes"
    assert JPEG_SUBSAMPLING == "4:2:0"


def test_rate_distortion_on_colour_counts_bits_and_quality_over_three_channels(colour):
    pca = PCAReducer(8).fit(colour.train.images)
    frame = rate_distortion_table(colour, {"PCA": pca}, bits=(4,), jpeg_qualities=(50,), n_images=None)
    rows = frame.set_index("setting")
    assert rows.loc["4 bit", "bits_per_image"] == 32, "a code's bits do not depend on the channels"
    images = colour.test.images[np.arange(len(colour.test))]
    decoded, sizes = jpeg_roundtrip(images, 50)
    assert decoded.shape[1] == 3
    assert rows.loc["q50", "bits_per_image"] == pytest.approx(8 * sizes.mean())
    mse = ((decoded - images) ** 2).mean(axis=(1, 2, 3))  # per value, over all 3 x 32 x 32
    assert rows.loc["q50", "psnr"] == pytest.approx(float(np.mean(10 * np.log10(1 / mse))), rel=1e-4)
    out = decode_at_settings(colour, {"PCA": pca}, {"PCA": "8 bit", "JPEG": "q5"}, np.arange(3))
    assert all(out[k].shape == (3, 3, 32, 32) for k in ("original", "PCA", "JPEG"))
    chosen = choose_at_budget(rd_view(rows.reset_index()), 64).set_index("method")
    assert chosen.loc["JPEG", "over_budget"], "no colour JPEG file fits in 64 bits"
