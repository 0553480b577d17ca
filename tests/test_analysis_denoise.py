"""The denoising table and examples (core.analysis.denoise)."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import denoise_examples, denoising_table
from core.config import NoiseConfig
from core.reducers import PCAReducer


def test_denoising_table_rows_and_pca_cleans_gaussian_noise(digits):
    pca = PCAReducer(8).fit(digits.train.images)
    noises = [NoiseConfig("gaussian", 0.5), NoiseConfig("salt_pepper", 0.2), NoiseConfig("masking", 0.0)]
    frame = denoising_table(digits, {"PCA": pca}, noises, n_images=200)
    assert list(frame.columns) == ["method", "noise", "level", "psnr", "ssim"]
    assert frame["method"].tolist() == ["noisy", "PCA"] * 3
    assert frame["noise"].tolist() == ["gaussian", "gaussian", "salt_pepper", "salt_pepper", "masking", "masking"]
    gaussian = frame[frame.noise == "gaussian"].set_index("method")
    assert gaussian.loc["PCA", "psnr"] > gaussian.loc["noisy", "psnr"] + 2  # projection removes most of the noise
    assert gaussian.loc["PCA", "ssim"] > gaussian.loc["noisy", "ssim"]
    untouched = frame[(frame.noise == "masking") & (frame.method == "noisy")].iloc[0]
    assert untouched["psnr"] == pytest.approx(100.0) and untouched["ssim"] == pytest.approx(1.0)


def test_denoise_examples_pictures(digits):
    pca = PCAReducer(8).fit(digits.train.images)
    images = digits.test.images[:5]
    out = denoise_examples(images, {"PCA": pca}, NoiseConfig("masking", 0.5), seed=3)
    assert list(out) == ["clean", "noisy", "PCA"]
    assert all(v.shape == (5, 1, 8, 8) for v in out.values())
    np.testing.assert_array_equal(out["clean"], images)
    assert 0.3 < np.mean(out["noisy"][images > 0] == 0) < 0.7  # about half the ink is masked
    again = denoise_examples(images, {"PCA": pca}, NoiseConfig("masking", 0.5), seed=3)
    np.testing.assert_array_equal(out["noisy"], again["noisy"])
