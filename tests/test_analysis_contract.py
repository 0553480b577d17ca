"""The analyses every page draws work for every method of the registry alike (PCA included), and the
page logic that moved into core.analysis (PCA's matching move, the error table beside PCA, the map's
grid, pixel-map decoding and coordinates table) does what the pages promise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.analysis import (
    coordinates_table,
    decode_pixel_map,
    embed,
    error_vs_latent,
    interpolate,
    latent_stats,
    map_grid,
    matching_move,
    pca_sizes_to_show,
    pixel_pca_embedding,
    slider_values_to_code,
    versus_pca,
)
from core.analysis.embedding import resolve_projection
from core.models.methods import METHODS

ALL = list(METHODS)


@pytest.mark.parametrize("method", ALL)
def test_latent_stats_bound_the_training_codes(method, every_reducer, small_digits):
    reducer = every_reducer[method]
    stats = latent_stats(reducer, small_digits.train.images)
    codes = reducer.encode(small_digits.train.images)
    assert stats.latent_dim == 3 and stats.directions.shape == (3, 3)
    inside = ((codes >= stats.low) & (codes <= stats.high)).mean()
    assert 0.9 < inside <= 1.0  # 1st..99th percentile per coordinate
    np.testing.assert_allclose(np.linalg.norm(stats.directions, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("method", ALL)
def test_embed_places_every_test_point_with_its_label(method, every_reducer, small_digits):
    emb = embed(every_reducer[method], small_digits, max_points=50)
    assert emb.test_xy.shape == (50, 2) and np.isfinite(emb.test_xy).all()
    np.testing.assert_array_equal(emb.test_labels, small_digits.test.labels[emb.test_index])
    expected = resolve_projection("auto", every_reducer[method].latent_dim_)  # the code itself at d=2, else t-SNE
    assert emb.method == every_reducer[method].method and emb.projection == expected


@pytest.mark.parametrize("method", ALL)
def test_interpolation_runs_between_the_two_reconstructions(method, every_reducer, small_digits):
    reducer = every_reducer[method]
    a, b = small_digits.test.images[0], small_digits.test.images[1]
    strip = interpolate(reducer, a, b, steps=5)
    ends = reducer.reconstruct(np.stack([a, b]))
    assert strip.shape == (5, *a.shape)
    np.testing.assert_allclose(strip[[0, -1]], ends, atol=1e-5)


@pytest.mark.parametrize("by_dimension", [True, False])
def test_pca_makes_the_same_move_as_the_model(by_dimension, every_reducer, small_digits):
    """Moving the model's code by a share of its range moves PCA's code by the same share of PCA's range."""
    model, pca = every_reducer["conv"], every_reducer["pca"]
    images = small_digits.train.images
    stats, pca_stats = latent_stats(model, images), latent_stats(pca, images)
    image = small_digits.test.images[:1]
    base, pca_base = model.encode(image)[0], pca.encode(image)[0]
    assert np.allclose(matching_move(stats, pca_stats, base, pca_base, base, by_dimension), pca_base, atol=1e-5)
    if by_dimension:
        code = base.copy()
        code[1] += 0.5 * (stats.high[1] - stats.low[1])
        moved = matching_move(stats, pca_stats, base, pca_base, code, True)
        np.testing.assert_allclose(moved - pca_base, [0, 0.5 * (pca_stats.high[1] - pca_stats.low[1]), 0], atol=1e-5)
    else:
        values = stats.project(base)[:2] + np.array([stats.direction_std[0], 0.0], np.float32)
        code = slider_values_to_code(stats, base, values, False)
        np.testing.assert_allclose(stats.project(code)[:2], values, atol=1e-4)  # the sliders say where the code is
        moved = matching_move(stats, pca_stats, base, pca_base, code, False)
        step = pca_stats.project(moved) - pca_stats.project(pca_base)
        assert step[0] == pytest.approx(pca_stats.direction_std[0], rel=1e-3) and abs(step[1]) < 1e-4


def test_each_model_beside_pca_at_its_size(every_reducer, small_digits):
    reducers = [every_reducer[m] for m in ("dense", "conv")]
    table = error_vs_latent(small_digits, reducers, max_pca_dim=5)
    joined = versus_pca(table)
    assert list(joined["method"]) == sorted(["dense", "conv"], key=lambda m: float(table.loc[table.method == m, "test_mse"].iloc[0]))
    pca3 = float(table[(table.method == "PCA") & (table.latent_dim == 3)]["test_mse"].iloc[0])
    assert (joined["pca_test_mse"] == pca3).all()
    np.testing.assert_allclose(joined["mse_vs_pca"], joined["test_mse"] / pca3)


def test_the_pca_curve_stops_below_the_pixel_count():
    assert pca_sizes_to_show((1, 8, 8), 1437, [2, 8]) == 32
    assert pca_sizes_to_show((1, 4, 4), 1437, [2]) == 15  # 16 pixels: PCA-16 would be exact
    assert pca_sizes_to_show((1, 28, 28), 60000, [30, 40]) == 64


def test_the_map_grid_covers_the_map_and_the_pixel_map_decodes(small_digits):
    emb = pixel_pca_embedding(small_digits, max_points=80)
    grid = map_grid(emb, n=7)
    assert grid.shape == (49, 2)
    xy = np.concatenate([emb.test_xy, emb.train_xy])
    assert (grid.min(axis=0) < xy.min(axis=0)).all() and (grid.max(axis=0) > xy.max(axis=0)).all()
    i = 3  # a test point decodes to its PCA-2 reconstruction
    image = decode_pixel_map(emb, *emb.test_xy[i], small_digits.image_shape)
    flat = emb.projector.inverse_transform(emb.test_xy[i:i + 1]).reshape(small_digits.image_shape)
    np.testing.assert_allclose(image, np.clip(flat, 0, 1), atol=1e-5)


def test_the_coordinates_table_joins_both_maps(every_reducer, small_digits):
    left = pixel_pca_embedding(small_digits, max_points=40)
    right = embed(every_reducer["dense"], small_digits, max_points=30, seed=5)
    table = coordinates_table(left, right, small_digits)
    assert len(table) == len(set(left.test_index) | set(right.test_index))
    assert table["test_index"].is_monotonic_increasing
    row = table[table.test_index == right.test_index[0]].iloc[0]
    assert row["model_x"] == pytest.approx(right.test_xy[0, 0])
    assert row["class"] == small_digits.class_names[small_digits.test.labels[right.test_index[0]]]
    assert isinstance(table, pd.DataFrame) and table["model_x"].isna().sum() == len(table) - 30


@pytest.mark.parametrize("by_dimension", [True, False])
def test_the_browser_maps_compute_what_the_server_does(by_dimension, every_reducer, small_digits):
    """The live decoder moves codes as origin + values @ directions: the same codes as the server path."""
    from core.analysis import slider_maps

    model, pca = every_reducer["vae"], every_reducer["pca"]
    images = small_digits.train.images
    stats, pca_stats = latent_stats(model, images), latent_stats(pca, images)
    image = small_digits.test.images[3:4]
    base, pca_base = model.encode(image)[0], pca.encode(image)[0]
    maps = slider_maps(stats, pca_stats, base, pca_base, by_dimension)
    rng = np.random.default_rng(0)
    start = base if by_dimension else stats.project(base)[:len(maps.directions)]
    for _ in range(5):
        values = (start + rng.normal(0, 0.5, size=start.shape)).astype(np.float32)
        code = slider_values_to_code(stats, base, values, by_dimension)
        np.testing.assert_allclose(maps.origin + values @ maps.directions, code, atol=1e-4)
        np.testing.assert_allclose(maps.pca_origin + values @ maps.pca_directions,
                                   matching_move(stats, pca_stats, base, pca_base, code, by_dimension), atol=1e-4)


def test_the_pad_plane_passes_through_the_code(every_reducer, small_digits):
    from core.analysis import plane_through

    stats = latent_stats(every_reducer["conv"], small_digits.train.images)
    code = every_reducer["conv"].encode(small_digits.test.images[:1])[0]
    origin, plane = plane_through(stats, code, (0, 2))
    u, v = stats.project(code)[[0, 2]]
    np.testing.assert_allclose(origin + u * plane[0] + v * plane[1], code, atol=1e-4)
