"""The latent map's default 2-D view of a long code (issue 21 item 1): t-SNE of every test point,
scored like every map, and kept on disk beside the model it came from."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.analysis import embed, embedding_scores
from core.analysis.embedding import DEFAULT_VIEW, resolve_projection
from core.config import DataConfig
from core.data.datasets import Dataset, ImageSet
from core.store.derived import Derived, map_params, model_map_of

CLASSES, DIM = 6, 10


class Identity:
    """A reducer whose code is the flattened 'image' (the blobs' 10 coordinates)."""

    method, latent_dim_ = "blobs", DIM

    @staticmethod
    def encode(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images, np.float32)
        return images.reshape(len(images), -1)


def blobs(n_train: int = 180, n_test: int = 150, seed: int = 0) -> Dataset:
    """Six well-separated Gaussian blobs in 10-D (centres 12 apart on the axes, unit spread), shaped as
    1x1x10 'images': k-NN accuracy ~1 and trustworthiness near 1 are what a good map keeps."""
    rng = np.random.default_rng(seed)
    centres = np.eye(CLASSES, DIM) * 12.0

    def split(n: int) -> ImageSet:
        labels = rng.integers(0, CLASSES, n)
        points = centres[labels] + rng.normal(0, 1, (n, DIM))
        return ImageSet(points.astype(np.float32).reshape(n, 1, 1, DIM), labels.astype(np.int64))

    return Dataset("blobs", split(n_train), split(n_test), tuple(f"blob {i}" for i in range(CLASSES)), DataConfig())


@pytest.fixture(scope="module")
def data() -> Dataset:
    return blobs()


def test_auto_is_the_code_for_2_numbers_and_tsne_past_2():
    assert resolve_projection("auto", 2) == "code" and resolve_projection("auto", 1) == "code"
    assert DEFAULT_VIEW == "tsne" and resolve_projection("auto", 3) == "tsne" and resolve_projection("auto", 30) == "tsne"


def test_default_view_of_separated_blobs_keeps_every_class_apart(data):
    emb = embed(Identity(), data, max_points=None)
    assert emb.projection == "tsne" and emb.test_xy.shape == (len(data.test), 2)  # every test point, no cap
    assert emb.train_xy.shape == (len(data.train), 2) and np.isfinite(emb.test_xy).all()
    scores = embedding_scores(emb, data)
    assert scores["knn_accuracy"] >= 0.99  # placed training points share their blob's island
    assert scores["trustworthiness"] > 0.9 and scores["code_trustworthiness"] > 0.9
    assert scores["silhouette"] > 0.5


def test_placing_every_training_point_moves_no_test_point(data):
    few = embed(Identity(), data, max_points=None, max_train=40)
    every = embed(Identity(), data, max_points=None, max_train=40, all_train=True)
    assert every.train_xy.shape == (len(data.train), 2) and few.train_xy.shape == (40, 2)
    np.testing.assert_allclose(every.test_xy, few.test_xy, atol=1e-4)  # fitted on the test points alone


def test_the_map_is_kept_on_disk_and_read_back_identically(data, tmp_path):
    shelf = Derived(tmp_path / "derived", "model:blobs:weights-a")
    emb, scores = model_map_of(shelf, {}, Identity, data, "auto", len(data.test), latent_dim=DIM)
    assert emb.projection == "tsne" and scores["knn_accuracy"] >= 0.99
    [kept] = [p for p in shelf.files() if p.name.startswith("map-")]

    def no_model():
        raise AssertionError("a kept map is read, not computed")

    again, again_scores = model_map_of(shelf, {}, no_model, data, "auto", len(data.test), latent_dim=DIM)
    np.testing.assert_array_equal(again.test_xy, emb.test_xy)
    np.testing.assert_array_equal(again.test_index, emb.test_index)
    np.testing.assert_array_equal(again.train_xy, emb.train_xy)
    np.testing.assert_array_equal(again.test_labels, data.test.labels[emb.test_index])
    assert again_scores == scores
    # other weights are another key: nothing of this model's map is read for them
    other = Derived(tmp_path / "derived", "model:blobs:weights-b")
    assert other.stored_arrays("map", map_params({}, "tsne", len(data.test), False)) is None and kept.exists()
    assert shelf.stored_arrays("map", map_params({}, "tsne", len(data.test), False)) is not None


def test_latent_map_draws_a_long_code_by_tsne_beside_pca_at_the_same_size(env):
    """Item 2: beside a d=8 model's t-SNE map, the same view of PCA's 8-number code, with the same scores;
    PCA-2 of the pixels is the other choice; one line says what a 2-D view of a long code can show."""
    from core.config import DataConfig
    from dashboard import resources
    from tests.test_dashboard import no_exception, start

    at = start("latent_map")
    eight = next(e for e in resources.cached_models(DataConfig("digits")) if e.latent_dim == 8)
    at.selectbox(key="map_model").set_value(eight.name).run()
    no_exception(at)

    def titles() -> list[str]:
        return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")[:2]]

    assert "PCA (d=8): tsne map" in titles()[0] and "tsne map" in titles()[1]
    assert [m.label for m in at.metric].count("k-NN accuracy") == 2
    assert any("2-D view of an 8-number code can show who is next to whom" in c.value for c in at.caption)
    at.segmented_control(key="map_beside").set_value("pixels").run()
    no_exception(at)
    assert "PCA-2 of the pixels" in titles()[0]
