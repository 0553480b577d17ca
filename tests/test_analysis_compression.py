"""Rate-distortion of quantised codes against JPEG (core.analysis.compression)."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import compressed_examples, jpeg_roundtrip, quantize_codes, rate_distortion_table, symbol_entropy_bits
from core.reducers import PCAReducer


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


def test_compressed_examples_respect_the_budget(digits):
    pca = PCAReducer(8).fit(digits.train.images)
    out = compressed_examples(digits, {"PCA": pca}, budget_bits=40, n_images=4)
    assert set(out) == {"original", "PCA", "JPEG"}
    assert out["PCA"]["setting"] == "5 bit" and out["PCA"]["bits_per_image"] == 40 and not out["PCA"]["over_budget"]
    assert out["PCA"]["images"].shape == (4, 1, 8, 8)
    assert out["JPEG"]["over_budget"]  # no JPEG file is as small as 40 bits
    rich = compressed_examples(digits, {"PCA": pca}, budget_bits=3000, n_images=4)
    assert not rich["JPEG"]["over_budget"] and rich["JPEG"]["psnr"] > out["JPEG"]["psnr"]
