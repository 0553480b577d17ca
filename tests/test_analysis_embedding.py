"""2-D maps and their scores (core.analysis.embedding)."""

from __future__ import annotations

import numpy as np
import pytest

from core.analysis import (
    Embedding,
    embed,
    embedding_scores,
    embedding_table,
    knn_accuracy,
    pixel_pca_embedding,
    trustworthiness_score,
)
from core.models.reducers import PCAReducer


def _toy_embedding(xy_train, y_train, xy_test, y_test, codes=None):
    return Embedding("toy", 2, "code", xy_test.astype(np.float32), y_test, np.arange(len(xy_test)),
                     xy_train.astype(np.float32), y_train, None, xy_test if codes is None else codes)


def _islands(rng, n_per_class=40, classes=5):
    centres = np.stack([np.arange(classes) * 10.0, np.zeros(classes)], axis=1)
    labels = np.repeat(np.arange(classes), n_per_class)
    return centres[labels] + rng.normal(0, 0.5, (len(labels), 2)), labels


def test_knn_is_perfect_on_separable_islands_and_chance_on_shuffled_labels(rng):
    train_xy, train_y = _islands(rng)
    test_xy, test_y = _islands(rng)
    assert knn_accuracy(train_xy, train_y, test_xy, test_y) == 1.0
    shuffled = rng.permutation(train_y)
    chance = knn_accuracy(train_xy, shuffled, test_xy, test_y)
    assert chance < 0.4  # 5 classes: chance is 0.2
    scores = embedding_scores(_toy_embedding(train_xy, train_y, test_xy, test_y))
    assert scores["knn_accuracy"] == 1.0 and scores["silhouette"] > 0.8


def test_trustworthiness_of_an_identity_map_is_one(rng):
    xy = rng.normal(size=(300, 2))
    assert trustworthiness_score(xy, xy) == pytest.approx(1.0)
    high = rng.normal(size=(300, 20))
    assert trustworthiness_score(high, rng.normal(size=(300, 2))) < 0.7  # a random map is not trustworthy


def test_pca2_code_map_is_the_pixel_pca_baseline(digits):
    reducer = PCAReducer(2).fit(digits.train.images)
    emb = embed(reducer, digits)
    base = pixel_pca_embedding(digits)
    assert emb.projection == "code" and emb.projector is None and emb.latent_dim == 2
    assert base.projection == "pixels-pca" and base.test_codes.shape == (len(digits.test), 64)
    np.testing.assert_allclose(emb.test_xy, base.test_xy, atol=1e-4)
    np.testing.assert_array_equal(emb.test_labels, digits.test.labels[emb.test_index])
    a, b = embedding_scores(emb, digits), embedding_scores(base, digits)
    assert a["knn_accuracy"] == b["knn_accuracy"] and a["trustworthiness"] == pytest.approx(b["trustworthiness"])
    assert a["code_trustworthiness"] == 1.0 and a["trustworthiness_space"] == "pixels"
    assert 0.3 < a["knn_accuracy"] < 0.9  # PCA-2 of digits separates some classes, far from all


def test_wide_codes_are_projected_and_subsampled(digits):
    reducer = PCAReducer(10).fit(digits.train.images)
    emb = embed(reducer, digits, "pca", max_points=100, seed=3, max_train=100)
    assert emb.projection == "pca" and emb.projector is not None
    assert emb.test_xy.shape == (100, 2) and emb.test_codes.shape == (100, 10) and emb.train_xy.shape == (100, 2)
    assert len(np.unique(emb.test_index)) == 100 and emb.test_index.max() < len(digits.test)
    again = embed(reducer, digits, "pca", max_points=100, seed=3, max_train=100)
    np.testing.assert_array_equal(emb.test_index, again.test_index)  # fixed seed, same map
    # PCA of 10 PCA coefficients (fitted on all training codes) gives back the pixel-PCA map
    full = embed(reducer, digits, "pca", max_points=100, seed=3, max_train=None)
    np.testing.assert_allclose(np.abs(full.test_xy), np.abs(pixel_pca_embedding(digits, 100, 3).test_xy), atol=1e-3)
    with pytest.raises(ValueError, match="use 'pca' or 'tsne'"):
        embed(reducer, digits, projection="code")


def test_one_number_code_is_drawn_on_a_line(digits):
    emb = embed(PCAReducer(1).fit(digits.train.images), digits, max_points=50)
    assert emb.projection == "code" and emb.test_xy.shape == (50, 2) and np.all(emb.test_xy[:, 1] == 0)


@pytest.mark.slow
def test_tsne_map_separates_digits_better_than_pca2(digits):
    reducer = PCAReducer(20).fit(digits.train.images)
    emb = embed(reducer, digits, projection="tsne", max_points=400)  # every test image: digits has 360
    assert emb.projection == "tsne" and emb.test_xy.shape == (360, 2) and emb.train_xy.shape == (len(digits.train), 2)
    scores = embedding_scores(emb, digits)
    assert scores["knn_accuracy"] > 0.8  # t-SNE of digits is the famous ten islands


def test_embedding_table_rows(digits):
    reducers = [PCAReducer(2).fit(digits.train.images), PCAReducer(6).fit(digits.train.images)]
    frame = embedding_table(digits, reducers, projections=("auto", "code", "pca"), max_points=300)
    assert frame.iloc[0]["method"] == "pixels" and frame.iloc[0]["projection"] == "pixels-pca"
    # 'auto' is the code itself for 2 numbers, t-SNE for 6 (issue 21: the default view of a long code)
    assert list(zip(frame.latent_dim, frame.projection)) == [(64, "pixels-pca"), (2, "code"), (2, "pca"), (6, "tsne"),
                                                             (6, "pca")]
    assert frame["knn_accuracy"].between(0, 1).all() and frame["trustworthiness"].between(0, 1).all()
    # projecting 6 numbers onto a plane loses some neighbours; showing a 2-D code as it is loses none
    assert frame.iloc[4]["code_trustworthiness"] < 1.0 and frame.iloc[1]["code_trustworthiness"] == 1.0


# --- maps of every image (issue 11: all of MNIST on the map) -------------------------------------------------
def test_placing_every_training_image_keeps_the_test_points_and_the_scores(digits):
    reducer = PCAReducer(6).fit(digits.train.images)
    plain = embed(reducer, digits, max_points=None, max_train=200)
    everything = embed(reducer, digits, max_points=None, max_train=200, all_train=True)
    assert plain.train_xy.shape == (200, 2) and plain.train_fit is None
    # every training image is placed, each at its own row, with its own label
    assert everything.train_xy.shape == (len(digits.train), 2)
    np.testing.assert_array_equal(everything.train_index, np.arange(len(digits.train)))
    np.testing.assert_array_equal(everything.train_labels, digits.train.labels)
    # the map is fitted on the same 200 images: the test points do not move, the training ones sit where they did
    np.testing.assert_array_equal(everything.train_index[everything.train_fit], plain.train_index)
    # float32 positions of up to ~15 projected in batches of another shape (BLAS blocks them differently): a few
    # ulps apart (CI once read 1.3e-5 at 11.9), where a moved point is off by whole units
    close = {"rtol": 1e-5, "atol": 1e-5}
    np.testing.assert_allclose(everything.test_xy, plain.test_xy, **close)
    np.testing.assert_allclose(everything.train_xy[everything.train_fit], plain.train_xy, **close)
    assert embedding_scores(everything, digits) == embedding_scores(plain, digits)


def test_pixel_map_of_every_image_places_the_training_images_by_the_same_pca(digits):
    plain = pixel_pca_embedding(digits, max_points=None, max_train=300)
    everything = pixel_pca_embedding(digits, max_points=None, max_train=300, all_train=True)
    assert everything.train_xy.shape == (len(digits.train), 2) and len(everything.test_xy) == len(digits.test)
    flat = np.asarray(digits.train.images).reshape(len(digits.train), -1)
    np.testing.assert_allclose(everything.train_xy, everything.projector.transform(flat), atol=1e-4)
    np.testing.assert_allclose(everything.test_xy, plain.test_xy, atol=1e-6)
    assert embedding_scores(everything, digits) == embedding_scores(plain, digits)


def test_chunked_encoding_is_the_same_as_encoding_at_once(digits):
    from core.analysis import encode_rows

    reducer = PCAReducer(4).fit(digits.train.images)
    rows = np.arange(0, len(digits.train), 3)
    np.testing.assert_allclose(encode_rows(reducer, digits.train.images, rows, chunk=50),
                               reducer.encode(digits.train.images[rows]), atol=1e-6)


def test_quadratic_scores_run_on_a_seeded_subsample(rng):
    from sklearn.metrics import silhouette_score

    from core.analysis import silhouette, subset_index

    xy, labels = _islands(rng, n_per_class=200)  # 1000 points
    rows = subset_index(len(labels), 300, 0)
    assert silhouette(xy, labels, max_points=300) == pytest.approx(silhouette_score(xy[rows], labels[rows]))
    assert silhouette(xy, labels, max_points=None) == pytest.approx(silhouette_score(xy, labels))
    high = np.concatenate([xy, rng.normal(size=(len(xy), 8))], axis=1)
    assert trustworthiness_score(high, xy, max_points=300) == trustworthiness_score(high[rows], xy[rows], max_points=None)


def test_tsne_keeps_a_cap_and_refuses_more_points_than_it(digits, monkeypatch):
    """Past :data:`TSNE_MAX_POINTS` a t-SNE map takes a seeded sample of the test images (the page says
    so) and refuses to place every training image too (the page offers PCA for that)."""
    from core.analysis import embedding

    reducer = PCAReducer(6).fit(digits.train.images)
    monkeypatch.setattr(embedding, "TSNE_MAX_POINTS", 80)
    with pytest.raises(ValueError, match="use projection 'pca'"):
        embed(reducer, digits, projection="tsne", max_points=None, all_train=True)
    emb = embed(reducer, digits, projection="tsne", max_points=None, max_train=100)  # "all" means at most the cap
    assert emb.test_xy.shape == (80, 2) and emb.train_xy.shape == (100, 2)
