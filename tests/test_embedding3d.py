"""3-D maps and the optional UMAP projection (core.analysis.embedding3d)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from core.analysis import (
    embed3d,
    embed_nd,
    embedding_scores,
    pixel_pca_embedding,
    pixel_pca_embedding3d,
    project_nd,
    umap_available,
)
from core.models.reducers import PCAReducer


def test_pixel_pca3_extends_the_2d_baseline(digits):
    flat, deep = pixel_pca_embedding(digits, 200), pixel_pca_embedding3d(digits, 200)
    assert deep.projection == "pixels-pca-3d" and deep.test_xy.shape == (200, 3) and deep.train_xy.shape[1] == 3
    np.testing.assert_array_equal(flat.test_index, deep.test_index)
    np.testing.assert_allclose(deep.test_xy[:, :2], flat.test_xy, atol=1e-4)  # the first two axes are PCA-2's
    assert deep.test_xy[:, 2].std() > 0  # and the third adds one
    np.testing.assert_array_equal(deep.test_labels, digits.test.labels[deep.test_index])


def test_every_reducer_gets_a_3d_map_scored_like_a_2d_one(every_reducer, small_digits):
    for reducer in every_reducer.values():  # d = 3: the code is its own 3-D map
        emb = embed3d(reducer, small_digits, max_points=60)
        assert emb.test_xy.shape == (60, 3) and emb.train_xy.shape == (len(emb.train_index), 3)
        assert emb.test_codes.shape == (60, reducer.latent_dim_) and emb.test_xy.dtype == np.float32
        assert emb.projection == ("code-3d" if reducer.latent_dim_ <= 3 else "pca-3d")
        scores = embedding_scores(emb, small_digits)
        assert 0 <= scores["knn_accuracy"] <= 1 and 0 <= scores["trustworthiness"] <= 1


def test_pca3_of_pca_codes_is_the_pixel_pca3_map(digits):
    reducer = PCAReducer(10).fit(digits.train.images)
    emb = embed3d(reducer, digits, max_points=150)
    base = pixel_pca_embedding3d(digits, 150)
    full = embed_nd(reducer, digits, "pca", 3, max_points=150, max_train=None)  # fitted on every training code
    np.testing.assert_allclose(np.abs(full.test_xy), np.abs(base.test_xy), atol=1e-3)
    assert emb.projection == "pca-3d" and emb.projector is not None
    # three numbers keep more of the neighbourhoods than two
    two = embed_nd(reducer, digits, "pca", 2, max_points=150, max_train=None)
    assert embedding_scores(full, digits)["trustworthiness"] > embedding_scores(two, digits)["trustworthiness"]


def test_short_codes_lie_flat_and_bad_arguments_are_refused(rng):
    train, test = rng.normal(size=(20, 2)), rng.normal(size=(5, 2))
    a, b, projector = project_nd(train, test, "pca", 3)
    assert projector is None and a.shape == (20, 3) and np.all(b[:, 2] == 0)
    np.testing.assert_allclose(b[:, :2], test.astype(np.float32))
    with pytest.raises(ValueError, match="projection must be one of"):
        project_nd(train, test, "tsne", 3)
    with pytest.raises(ValueError, match="n_components must be 2 or 3"):
        project_nd(train, test, "pca", 4)


def test_umap_without_the_package_says_how_to_install_it(monkeypatch, rng):
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap now fails, as where it is not installed
    umap_available.cache_clear()
    try:
        assert umap_available() is False
        with pytest.raises(ModuleNotFoundError, match="pip install umap-learn"):
            project_nd(rng.normal(size=(30, 8)), rng.normal(size=(5, 8)), "umap", 2)
    finally:
        umap_available.cache_clear()


@pytest.mark.skipif(not umap_available(), reason="umap-learn is an optional extra (pip install umap-learn)")
def test_umap_map_when_installed(small_digits):
    reducer = PCAReducer(8).fit(small_digits.train.images)
    emb = embed_nd(reducer, small_digits, "umap", 2, max_points=80)
    assert emb.projection == "umap" and emb.test_xy.shape == (80, 2)
    assert embedding_scores(emb, small_digits)["knn_accuracy"] > 0.3
