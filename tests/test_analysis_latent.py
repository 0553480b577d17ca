"""Latent navigation (core.analysis.latent): ranges, directions, decoding, interpolation, grids, prior."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import (
    code_along_directions,
    decode_code,
    interpolate,
    interpolate_codes,
    latent_grid,
    latent_stats,
    outside_range,
    range_excess,
    sample_prior,
)
from core.models.autoencoder_reducer import AutoencoderReducer
from core.models.methods import default_model_config
from core.models.reducers import PCAReducer


@pytest.fixture(scope="module")
def pca8(digits):
    return PCAReducer(8).fit(digits.train.images)


@pytest.fixture(scope="module")
def tiny_models(small_digits):
    from core.config import TrainConfig

    train = TrainConfig(epochs=3, batch_size=64, lr=3e-3, seed=0)
    return {family: AutoencoderReducer(default_model_config(family, 2), train).fit(small_digits.train.images)
            for family in ("conv", "vae")}


def test_pca_directions_are_its_components(pca8, digits):
    stats = latent_stats(pca8, digits.train.images)
    assert stats.directions.shape == (8, 8) and stats.mean.shape == (8,)
    np.testing.assert_allclose(stats.directions, np.eye(8), atol=1e-5)  # PCA codes are already decorrelated
    assert np.all(stats.low < stats.mean) and np.all(stats.mean < stats.high)
    assert np.all(np.diff(stats.direction_std) < 0)  # most variance first
    # moving along "direction k" is moving along PCA component k: the same image as PCA's inverse transform
    code = code_along_directions(stats, stats.mean, [0.0, 0.0, 2.0])
    expected = np.clip((stats.mean + 2.0 * np.eye(8)[2]) @ pca8.components_ + pca8.mean_, 0, 1)[None]
    np.testing.assert_allclose(decode_code(pca8, code).reshape(1, -1), expected, atol=1e-5)


def test_wide_codes_get_a_handful_of_directions(digits):
    wide = PCAReducer(30).fit(digits.train.images)
    stats = latent_stats(wide, digits.train.images)
    assert stats.directions.shape == (8, 30)
    np.testing.assert_allclose(np.linalg.norm(stats.directions, axis=1), 1.0, atol=1e-5)
    assert latent_stats(wide, digits.train.images, n_directions=3).directions.shape == (3, 30)
    with pytest.raises(ValueError, match="at most 8 coefficients"):
        code_along_directions(stats, stats.mean, np.ones(9))


def test_outside_range_warns_for_empty_space(pca8, digits):
    stats = latent_stats(pca8, digits.train.images)
    assert not outside_range(stats, stats.mean) and range_excess(stats, stats.mean) == 0.0
    far = stats.mean.copy()
    far[0] = stats.high[0] + (stats.high[0] - stats.low[0])  # one range-width beyond the edge
    assert outside_range(stats, far) and range_excess(stats, far) == pytest.approx(1.0, rel=1e-4)
    inside = np.mean(~np.array([outside_range(stats, c) for c in pca8.encode(digits.test.images[:100])]))
    assert inside > 0.5  # most real test codes are inside the training range


def test_interpolation_endpoints_are_the_reconstructions(pca8, digits, tiny_models):
    a, b = digits.test.images[0], digits.test.images[1]
    for reducer in (pca8, tiny_models["conv"], tiny_models["vae"]):
        strip = interpolate(reducer, a, b, steps=6)  # the vae's path is spherical by default
        assert strip.shape == (6, 1, 8, 8)
        np.testing.assert_allclose(strip[0], reducer.reconstruct(a[None])[0], atol=1e-5)
        np.testing.assert_allclose(strip[-1], reducer.reconstruct(b[None])[0], atol=1e-5)
    # the middle of a linear PCA path is the average of the endpoints' codes, decoded
    mid = interpolate(pca8, a, b, steps=3)[1]
    np.testing.assert_allclose(mid, decode_code(pca8, pca8.encode(np.stack([a, b])).mean(axis=0))[0], atol=1e-5)


def test_spherical_interpolation_keeps_the_norm():
    a, b = np.array([3.0, 0.0]), np.array([0.0, 3.0])
    arc = interpolate_codes(a, b, steps=5, spherical=True)
    np.testing.assert_allclose(np.linalg.norm(arc, axis=1), 3.0, atol=1e-5)
    line = interpolate_codes(a, b, steps=5, spherical=False)
    assert np.linalg.norm(line[2]) < 2.2  # the straight line cuts through the low-norm middle
    np.testing.assert_allclose(arc[[0, -1]], [a, b], atol=1e-6)


def test_latent_grid_uses_the_data_range(pca8, digits):
    stats = latent_stats(pca8, digits.train.images)
    images, xs, ys = latent_grid(pca8, stats, n=4, dims=(0, 1))
    assert images.shape == (16, 1, 8, 8) and xs.shape == ys.shape == (4,)
    assert xs[0] == pytest.approx(stats.low[0]) and xs[-1] == pytest.approx(stats.high[0])
    assert ys[0] == pytest.approx(stats.high[1]) and ys[-1] == pytest.approx(stats.low[1])  # top row = high y
    code = stats.mean.copy()
    code[0], code[1] = xs[2], ys[1]
    np.testing.assert_allclose(images[1 * 4 + 2], decode_code(pca8, code)[0], atol=1e-5)
    along, _, _ = latent_grid(pca8, stats, n=4, use_directions=True)
    np.testing.assert_allclose(along, images, atol=1e-4)  # PCA's directions are its axes
    with pytest.raises(ValueError, match="two different"):
        latent_grid(pca8, stats, dims=(0, 0))


def test_prior_samples_only_for_the_vae(pca8, tiny_models):
    samples = sample_prior(tiny_models["vae"], n=5, seed=1)
    assert samples.shape == (5, 1, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, sample_prior(tiny_models["vae"], n=5, seed=1))
    assert not np.allclose(samples, sample_prior(tiny_models["vae"], n=5, seed=2))
    for reducer in (pca8, tiny_models["conv"]):
        with pytest.raises(TypeError, match="only a VAE"):
            sample_prior(reducer)
