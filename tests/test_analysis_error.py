"""Error against latent size and PCA's explained variance (core.analysis.error_curve)."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import error_vs_latent, explained_variance
from core.config import TrainConfig
from core.metrics import reconstruction_metrics
from core.models.autoencoder_reducer import AutoencoderReducer
from core.models.methods import default_model_config
from core.models.reducers import PCAReducer


def test_pca_curve_from_one_fit_equals_separate_fits(digits):
    frame = error_vs_latent(digits, max_pca_dim=24, ssim_images=None)
    assert list(frame.columns) == ["method", "latent_dim", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim"]
    assert frame["latent_dim"].tolist() == list(range(1, 25))
    for k in (1, 5, 20):
        separate = PCAReducer(k).fit(digits.train.images)
        expected = reconstruction_metrics(digits.test.images, separate.reconstruct(digits.test.images))
        row = frame[frame.latent_dim == k].iloc[0]
        for column, value in expected.items():
            assert row[column] == pytest.approx(value, rel=1e-4, abs=1e-6), (k, column)
    # more components never hurt on held-out data in this range
    assert np.all(np.diff(frame["test_mse"].to_numpy()) < 0)


def test_full_pca_reconstructs_perfectly_and_default_size(digits):
    frame = error_vs_latent(digits)
    assert len(frame) == 64  # default min(64, pixels)
    assert frame["test_mse"].iloc[-1] < 1e-10 and frame["test_psnr"].iloc[-1] == pytest.approx(100.0)


def test_reducer_points_join_the_curve(small_digits, tiny_train):
    conv = AutoencoderReducer(default_model_config("conv", 3), tiny_train).fit(small_digits.train.images)
    frame = error_vs_latent(small_digits, [conv], max_pca_dim=4)
    point = frame[frame.method == "conv"]
    assert len(frame) == 5 and point["latent_dim"].tolist() == [3]
    expected = reconstruction_metrics(small_digits.test.images, conv.reconstruct(small_digits.test.images))
    assert point["test_mse"].iloc[0] == pytest.approx(expected["test_mse"], rel=1e-5)


def test_max_pca_dim_is_checked(digits):
    with pytest.raises(ValueError, match="between 1 and 64"):
        error_vs_latent(digits, max_pca_dim=65)


def test_explained_variance_curve(digits):
    frame = explained_variance(digits, max_dim=10)
    assert list(frame.columns) == ["latent_dim", "explained_variance_ratio", "cumulative"]
    ratio = frame["explained_variance_ratio"].to_numpy()
    assert np.all(np.diff(ratio) <= 1e-9) and np.all(np.diff(frame["cumulative"]) > 0)
    assert 0.5 < frame["cumulative"].iloc[-1] < 1.0
    full = explained_variance(digits)
    assert full["cumulative"].iloc[-1] == pytest.approx(1.0, abs=1e-5)


@pytest.mark.slow
def test_linear_autoencoder_approaches_but_cannot_beat_pca(digits):
    d = 4
    linear = AutoencoderReducer(default_model_config("linear", d),
                                TrainConfig(epochs=40, batch_size=128, lr=2e-2, seed=0)).fit(digits.train.images)
    frame = error_vs_latent(digits, [linear], max_pca_dim=d)
    pca_mse = frame[(frame.method == "PCA") & (frame.latent_dim == d)]["test_mse"].iloc[0]
    ae_mse = frame[frame.method == "linear"]["test_mse"].iloc[0]
    assert 0.97 * pca_mse <= ae_mse <= 1.2 * pca_mse
