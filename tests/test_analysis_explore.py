"""Exploring a code space (core.analysis.explore), for every registry method, PCA included."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import (
    analogy,
    attribute_walk,
    centred_on_grey,
    class_means,
    eigen_images,
    latent_stats,
    nearest_neighbours,
    neighbours_of,
    traversal_grid,
    unit_moves,
)
from core.analysis.explore import SPACES
from core.models.methods import METHODS
from core.models.reducers import PCAReducer

K = 5


@pytest.fixture(scope="module")
def pca3(small_digits):
    return PCAReducer(3).fit(small_digits.train.images)


@pytest.fixture(scope="module")
def stats(every_reducer, small_digits):
    return {name: latent_stats(r, small_digits.train.images) for name, r in every_reducer.items()}


# --- nearest neighbours ----------------------------------------------------------------------------
def test_neighbours_of_leaves_out_or_keeps_the_query():
    points = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [0.0, 0.0], [10.0, 0.0]])
    rows, dist = neighbours_of(points, 0, 3)
    assert rows.tolist() == [3, 2, 1] and dist.tolist() == [0.0, 1.0, 5.0], "an exact duplicate is a neighbour, the query is not"
    rows, dist = neighbours_of(points, 0, 3, include_self=True)
    assert rows.tolist() == [0, 3, 2] and dist.tolist() == [0.0, 0.0, 1.0], "the query first, even before a duplicate"
    with pytest.raises(ValueError, match="between 1 and 4"):
        neighbours_of(points, 0, 5)
    with pytest.raises(IndexError):
        neighbours_of(points, 5, 1)


@pytest.mark.parametrize("method", list(METHODS))
def test_nearest_neighbours_in_three_spaces(method, every_reducer, small_digits, pca3):
    reducer, test = every_reducer[method], small_digits.test
    index = 7
    table = nearest_neighbours(reducer, small_digits, index, K, pca=pca3)
    assert len(table) == 3 * K and list(table["space"].unique()) == list(SPACES)
    assert set(table.columns) >= {"space", "space_title", "rank", "index", "label", "class_name", "distance"}
    for space, group in table.groupby("space", sort=False):
        assert group["rank"].tolist() == list(range(1, K + 1))
        assert index not in group["index"].tolist(), "by default the query is left out"
        assert np.all(np.diff(group["distance"].to_numpy()) >= 0), f"{space}: nearest first"
        assert (group["label"].to_numpy() == test.labels[group["index"]]).all()
    # the distances are what they say: Euclidean in each space
    codes, pca_codes, pixels = reducer.encode(test.images), pca3.encode(test.images), np.asarray(test.images).reshape(len(test), -1)
    for space, points in {"code": codes, "pca": pca_codes, "pixels": pixels}.items():
        group = table[table["space"] == space]
        expected = np.linalg.norm(points[group["index"]] - points[index], axis=1)
        np.testing.assert_allclose(group["distance"], expected, rtol=1e-4, atol=1e-5)
        others = np.delete(np.linalg.norm(points - points[index], axis=1), index)
        assert group["distance"].iloc[0] == pytest.approx(others.min(), rel=1e-4, abs=1e-5)

    with_self = nearest_neighbours(reducer, small_digits, index, K, pca=pca3, include_self=True)
    first = with_self[with_self["rank"] == 0]
    assert len(with_self) == 3 * (K + 1) and (first["index"] == index).all() and (first["distance"] == 0).all()
    pixels_first = with_self[(with_self["space"] == "pixels")].iloc[0]
    assert pixels_first["index"] == index and pixels_first["distance"] == 0.0, "in pixel space the query is itself at 0"


def test_nearest_neighbours_fits_pca_when_not_given_and_checks_the_index(every_reducer, small_digits, pca3):
    conv = every_reducer["conv"]
    table = nearest_neighbours(conv, small_digits, 3, 4)
    given = nearest_neighbours(conv, small_digits, 3, 4, pca=pca3)
    np.testing.assert_allclose(table["distance"], given["distance"], rtol=1e-4, atol=1e-5)
    with pytest.raises(IndexError, match="test split has"):
        nearest_neighbours(conv, small_digits, len(small_digits.test), 4, pca=pca3)


# --- attribute vectors and latent arithmetic ---------------------------------------------------------
@pytest.mark.parametrize("method", list(METHODS))
def test_class_means_are_the_mean_codes_of_each_class(method, every_reducer, small_digits):
    reducer, train = every_reducer[method], small_digits.train
    means = class_means(reducer, small_digits, max_images=None)
    assert means.shape == (len(small_digits.class_names), 3) and means.dtype == np.float32
    codes = reducer.encode(train.images)
    for c in np.unique(train.labels):
        np.testing.assert_allclose(means[c], codes[train.labels == c].mean(axis=0), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("method", list(METHODS))
def test_attribute_walk_runs_from_the_code_by_the_class_difference(method, every_reducer, small_digits):
    reducer = every_reducer[method]
    means = class_means(reducer, small_digits)
    code = reducer.encode(small_digits.test.images[:1])[0]
    walk = attribute_walk(reducer, code, means[3], means[8], steps=6)
    assert walk.codes.shape == (6, 3) and walk.images.shape == (6, *small_digits.image_shape) and walk.t.shape == (6,)
    np.testing.assert_allclose(walk.codes[0], code, atol=1e-6)
    np.testing.assert_allclose(walk.codes[-1], code + means[8] - means[3], atol=1e-5)
    np.testing.assert_allclose(walk.images, reducer.decode(walk.codes), atol=1e-6)
    assert walk.images.min() >= 0.0 and walk.images.max() <= 1.0
    further = attribute_walk(reducer, code, means[3], means[8], steps=3, amount=2.0)
    np.testing.assert_allclose(further.codes[1], code + means[8] - means[3], atol=1e-5)


def test_attribute_walk_rejects_mismatched_or_missing_means(every_reducer):
    pca = every_reducer["pca"]
    with pytest.raises(ValueError, match="3 numbers"):
        attribute_walk(pca, np.zeros(3), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="not finite"):
        attribute_walk(pca, np.zeros(3), np.full(3, np.nan), np.ones(3))
    with pytest.raises(ValueError, match="steps"):
        attribute_walk(pca, np.zeros(3), np.zeros(3), np.ones(3), steps=1)


@pytest.mark.parametrize("method", list(METHODS))
def test_analogy_decodes_a_minus_b_plus_c(method, every_reducer, small_digits):
    reducer = every_reducer[method]
    images = small_digits.test.images[[0, 1, 2]]
    result = analogy(reducer, images)
    codes = reducer.encode(images)
    assert result.codes.shape == (4, 3) and result.images.shape == (4, *small_digits.image_shape)
    np.testing.assert_allclose(result.codes[:3], codes, atol=1e-6)
    np.testing.assert_allclose(result.codes[3], codes[0] - codes[1] + codes[2], atol=1e-5)
    np.testing.assert_allclose(result.images[:3], reducer.reconstruct(images), atol=1e-5)
    with pytest.raises(ValueError, match="three images"):
        analogy(reducer, images[:2])


# --- traversal grid -------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", list(METHODS))
def test_traversal_grid_rows_are_code_numbers_centred_on_the_image(method, every_reducer, stats, small_digits):
    reducer, s = every_reducer[method], stats[method]
    code = reducer.encode(small_digits.test.images[4:5])[0]
    grid = traversal_grid(reducer, s, code, cols=7)
    assert grid.by_dimension and grid.shape == (3, 7) and grid.centre == 3
    assert grid.images.shape == (21, *small_digits.image_shape) and grid.codes.shape == (21, 3)
    # PCA's numbers are its principal components, named as students meet them everywhere else
    assert grid.row_labels == (["PC1", "PC2", "PC3"] if method == "pca" else ["code 1", "code 2", "code 3"])
    centre = grid.images.reshape(3, 7, *small_digits.image_shape)[:, 3]
    np.testing.assert_allclose(centre, np.repeat(reducer.decode(code[None]), 3, axis=0), atol=1e-6)
    codes = grid.codes.reshape(3, 7, 3)
    for r in range(3):
        assert grid.values[r, 0] == pytest.approx(min(s.low[r], code[r]))
        assert grid.values[r, -1] == pytest.approx(max(s.high[r], code[r]))
        assert np.all(np.diff(grid.values[r]) >= 0)
        np.testing.assert_allclose(codes[r, :, r], grid.values[r], atol=1e-6)
        others = np.delete(codes[r], r, axis=1)
        np.testing.assert_allclose(others, np.broadcast_to(np.delete(code, r), others.shape), atol=1e-6)


@pytest.mark.parametrize("method", list(METHODS))
def test_traversal_grid_along_principal_directions(method, every_reducer, stats, small_digits):
    reducer, s = every_reducer[method], stats[method]
    code = reducer.encode(small_digits.test.images[4:5])[0]
    grid = traversal_grid(reducer, s, code, cols=5, max_rows=2, by_dimension=False)
    assert not grid.by_dimension and grid.shape == (2, 5) and grid.images.shape == (10, *small_digits.image_shape)
    assert grid.row_labels[0].startswith("direction 1 (") and "variance" in grid.row_labels[0]
    np.testing.assert_allclose(grid.codes[2::5], np.repeat(code[None], 2, axis=0), atol=1e-6)
    np.testing.assert_allclose(grid.images[2::5], np.repeat(reducer.decode(code[None]), 2, axis=0), atol=1e-6)
    # each row moves along its direction only: its projection runs through the row's values
    projected = s.project(grid.codes).reshape(2, 5, -1)
    for r in range(2):
        np.testing.assert_allclose(projected[r, :, r], grid.values[r], atol=1e-4)


def test_long_codes_traverse_principal_directions_and_bad_columns_fail(small_digits):
    wide = PCAReducer(12).fit(small_digits.train.images)
    s = latent_stats(wide, small_digits.train.images)
    code = wide.encode(small_digits.test.images[:1])[0]
    grid = traversal_grid(wide, s, code, cols=3)
    assert not grid.by_dimension and grid.shape == (8, 3)
    with pytest.raises(ValueError, match="odd"):
        traversal_grid(wide, s, code, cols=4)
    with pytest.raises(ValueError, match="12 numbers"):
        traversal_grid(wide, s, code[:3])


# --- what the basis looks like ------------------------------------------------------------------------
def test_eigen_images_reshape_pcas_components_exactly(pca3, small_digits):
    images, ratio = eigen_images(pca3)
    assert images.shape == (3, *small_digits.image_shape)
    np.testing.assert_array_equal(images.reshape(3, -1), pca3.components_)
    np.testing.assert_array_equal(ratio, pca3.explained_variance_ratio_)
    assert np.all(np.diff(ratio) <= 0) and ratio.sum() < 1


def test_only_pca_has_eigen_images(every_reducer):
    with pytest.raises(TypeError, match="eigen-images are PCA's"):
        eigen_images(every_reducer["conv"])


@pytest.mark.parametrize("method", list(METHODS))
def test_unit_moves_are_decoded_differences(method, every_reducer, stats):
    reducer, s = every_reducer[method], stats[method]
    moves = unit_moves(reducer, s.mean, step=0.5)
    assert moves.deltas.shape == (3, 1, 8, 8) and moves.base_image.shape == (1, 8, 8)
    assert moves.labels == (["PC1", "PC2", "PC3"] if method == "pca" else ["code 1", "code 2", "code 3"])
    assert moves.strength.shape == (3,)
    for i in range(3):
        expected = reducer.decode(s.mean + 0.5 * np.eye(3)[i])[0] - reducer.decode(s.mean)[0]
        np.testing.assert_allclose(moves.deltas[i], expected, atol=1e-5)
    along = unit_moves(reducer, s.mean, directions=s.directions, max_moves=2)
    assert along.deltas.shape == (2, 1, 8, 8) and along.labels == ["direction 1", "direction 2"]


def test_pcas_unit_moves_are_its_eigen_images_where_nothing_clips(small_digits):
    pca = PCAReducer(3, clip=False).fit(small_digits.train.images)
    moves = unit_moves(pca, np.zeros(3))
    np.testing.assert_allclose(moves.deltas, eigen_images(pca)[0], atol=1e-5)


def test_centred_on_grey_is_symmetric():
    deltas = np.array([[[[-2.0, 0.0, 1.0]]], [[[0.0, 0.0, 0.0]]], [[[0.5, -0.25, 0.0]]]], np.float32)
    out = centred_on_grey(deltas)
    np.testing.assert_allclose(out[0, 0, 0], [0.0, 0.5, 0.75])
    np.testing.assert_allclose(out[1], 0.5)
    np.testing.assert_allclose(out[2, 0, 0], [1.0, 0.25, 0.5])
    shared = centred_on_grey(deltas, per_image=False)
    np.testing.assert_allclose(shared[2, 0, 0], [0.625, 0.4375, 0.5])


# --- colour -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def colour(tmp_path_factory):
    from core.data.datasets import load_dataset
    from testkit.colour import colour_config, write_rgb_folder

    return load_dataset(colour_config(write_rgb_folder(tmp_path_factory.mktemp("rgb"), per_class=15)))


def test_neighbours_in_colour_pixels_use_all_three_channels(colour):
    pca = PCAReducer(4).fit(colour.train.images)
    table = nearest_neighbours(pca, colour, 0, 3, pca=pca)
    pixels = table[table.space == "pixels"]
    assert pixels["space_title"].iloc[0] == "pixels (3072 numbers)", "3 x 32 x 32 values"
    flat = colour.test.images[np.arange(len(colour.test))].reshape(len(colour.test), -1)
    expected = np.sort(np.sqrt(((flat - flat[0]) ** 2).sum(axis=1)))[1:4]
    np.testing.assert_allclose(pixels["distance"], expected, rtol=1e-4)


def test_eigen_images_of_colour_pca_are_colour_patterns(colour):
    pca = PCAReducer(6).fit(colour.train.images)
    images, ratio = eigen_images(pca)
    assert images.shape == (6, 3, 32, 32) and ratio.shape == (6,)
    np.testing.assert_allclose(images[2].reshape(-1), pca.components_[2])  # channel c of PC i is images[i, c]
    shown = centred_on_grey(images)
    assert shown.shape == images.shape and shown.min() >= 0 and shown.max() <= 1
    for signed, picture in zip(images, shown):  # one symmetric scale over all three channels, never one each
        scale = np.abs(signed).max()
        np.testing.assert_allclose(picture, 0.5 + 0.5 * signed / scale, atol=1e-6)
    spread = shown.max(axis=1) - shown.min(axis=1)  # how far from grey each pixel's hue is
    assert spread.max() > 0.3, "the components of hue-coded classes are coloured, not grey"


def test_centred_on_grey_keeps_the_hue_of_a_one_channel_change():
    delta = np.zeros((1, 3, 2, 2))
    delta[0, 0] = 1.0  # more red only
    delta[0, 1, 0, 0] = -0.5  # and less green at one pixel
    out = centred_on_grey(delta)[0]
    np.testing.assert_allclose(out[:, 1, 1], [1.0, 0.5, 0.5])  # red on grey
    np.testing.assert_allclose(out[:, 0, 0], [1.0, 0.25, 0.5])  # green's change on the same scale as red's
