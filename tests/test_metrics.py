"""Metrics agree with scikit-image and behave at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from core.metrics import PSNR_CAP_DB, per_image_psnr, per_image_ssim, reconstruction_metrics


@pytest.fixture
def pair(rng):
    a = rng.random((6, 1, 12, 12), dtype=np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    return a, b


def test_psnr_equals_scikit_image(pair):
    a, b = pair
    expected = [peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b)]
    np.testing.assert_allclose(per_image_psnr(a, b), expected, rtol=1e-5)


def test_ssim_equals_scikit_image_and_is_one_for_identical_images(pair):
    a, b = pair
    np.testing.assert_allclose(per_image_ssim(a, b)[0], structural_similarity(a[0], b[0], data_range=1.0, channel_axis=0))
    np.testing.assert_allclose(per_image_ssim(a, a), 1.0)


def test_summary_numbers_are_consistent(pair):
    a, b = pair
    m = reconstruction_metrics(a, b)
    assert m["test_sse_per_image"] == pytest.approx(m["test_mse"] * 144, rel=1e-5)
    assert reconstruction_metrics(a, a)["test_psnr"] == PSNR_CAP_DB


def test_tiny_and_colour_images_work(rng):
    digits_like = rng.random((3, 1, 8, 8), dtype=np.float32)
    assert per_image_ssim(digits_like, digits_like).tolist() == pytest.approx([1, 1, 1])
    colour = rng.random((2, 3, 16, 16), dtype=np.float32)
    assert per_image_ssim(colour, colour).shape == (2,)


@pytest.mark.parametrize("channels", [1, 3])
def test_every_value_counts_once_in_grey_and_colour(rng, channels):
    """Per value, not per pixel: MSE averages all C*H*W numbers, the squared error per image sums them,
    PSNR follows from that MSE (as scikit-image's on the whole (C, H, W) array), SSIM averages the channels."""
    a = rng.random((4, channels, 10, 10), dtype=np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    m = reconstruction_metrics(a, b)
    squared = (a.astype(np.float64) - b) ** 2
    assert m["test_mse"] == pytest.approx(squared.mean(), rel=1e-5)
    assert m["test_sse_per_image"] == pytest.approx(squared.sum(axis=(1, 2, 3)).mean(), rel=1e-5)
    np.testing.assert_allclose(per_image_psnr(a, b), [peak_signal_noise_ratio(x, y, data_range=1.0) for x, y in zip(a, b)],
                               rtol=1e-5)
    per_channel = [np.mean([structural_similarity(x[c], y[c], data_range=1.0, win_size=7) for c in range(channels)])
                   for x, y in zip(a, b)]
    np.testing.assert_allclose(per_image_ssim(a, b), per_channel, rtol=1e-5)


def test_an_error_in_one_colour_channel_costs_a_third_of_the_same_error_in_all_three():
    clean = np.full((1, 3, 8, 8), 0.5, np.float32)
    red_only, all_three = clean.copy(), clean + 0.2
    red_only[:, 0] += 0.2
    one, three = reconstruction_metrics(clean, red_only), reconstruction_metrics(clean, all_three)
    assert one["test_mse"] == pytest.approx(three["test_mse"] / 3, rel=1e-5)
    assert one["test_sse_per_image"] == pytest.approx(0.04 * 64, rel=1e-4), "64 red values off by 0.2"
    assert one["test_psnr"] == pytest.approx(three["test_psnr"] + 10 * np.log10(3), abs=1e-3)
