"""The denoising table and examples (core.analysis.denoise)."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import denoise_examples, denoising_table
from core.config import NoiseConfig
from core.models.reducers import PCAReducer


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
    assert np.isinf(untouched["psnr"]) and untouched["ssim"] == pytest.approx(1.0)  # exact: no 100 dB cap


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


@pytest.mark.parametrize("channels", [1, 3])
def test_noise_is_drawn_per_channel_and_scored_over_every_value(channels):
    clean = np.full((40, channels, 12, 12), 0.5, np.float32)
    out = denoise_examples(clean, {}, NoiseConfig("gaussian", 0.1), seed=0)
    noise = (out["noisy"] - clean).transpose(1, 0, 2, 3).reshape(channels, -1)
    assert out["noisy"].shape == clean.shape and np.all(noise.std(axis=1) > 0.08), "every channel gets its grain"
    if channels == 3:  # independent in each channel: coloured grain, not grey grain
        assert np.abs(np.corrcoef(noise)[np.triu_indices(3, 1)]).max() < 0.05
    hit = denoise_examples(clean, {}, NoiseConfig("masking", 0.3), seed=0)["noisy"] == 0
    assert hit.mean() == pytest.approx(0.3, abs=0.02), "masking hits a share `level` of the values"
    if channels == 3:
        whole_pixels = hit.all(axis=1).mean()
        assert whole_pixels == pytest.approx(0.3 ** 3, abs=0.01), "channels are hit independently"


def test_denoising_table_on_colour_images(tmp_path):
    from core.data.datasets import load_dataset
    from testkit.colour import colour_config, write_rgb_folder

    colour = load_dataset(colour_config(write_rgb_folder(tmp_path, per_class=15)))
    pca = PCAReducer(8).fit(colour.train.images)
    frame = denoising_table(colour, {"PCA": pca}, [NoiseConfig("gaussian", 0.3)], n_images=None).set_index("method")
    clean = colour.test.images[np.arange(len(colour.test))]
    from core.data.noise import corrupt_array

    noisy = corrupt_array(clean, NoiseConfig("gaussian", 0.3), 0)
    mse = ((noisy - clean) ** 2).mean(axis=(1, 2, 3))  # over all 3 x 32 x 32 values
    assert frame.loc["noisy", "psnr"] == pytest.approx(float(np.mean(10 * np.log10(1 / mse))), rel=1e-5)
    assert frame.loc["PCA", "psnr"] > frame.loc["noisy", "psnr"], "projection onto 8 colour patterns removes grain"
