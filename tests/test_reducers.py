"""The Reducer contract, held for PCA and every autoencoder family alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from core.config import TrainConfig
from core.metrics import per_image_mse
from core.models import build_model
from core.models.autoencoder_reducer import AutoencoderReducer
from core.models.methods import AUTOENCODERS, METHODS, build_reducer, default_model_config
from core.models.reducers import PCAReducer

FAMILIES = AUTOENCODERS


def make_reducer(name: str, latent_dim: int = 4, epochs: int = 4):
    # without a sigmoid (linear) a bigger step is needed to move in few epochs (PCA ignores it)
    lr = 3e-3 if METHODS[name].capabilities.bounded_output else 3e-2
    return build_reducer(default_model_config(name, latent_dim), TrainConfig(epochs=epochs, lr=lr))


@pytest.mark.parametrize("name", list(METHODS))
def test_reducer_contract(name, small_digits):
    images = small_digits.test.images[:50]
    reducer = make_reducer(name)
    with pytest.raises(NotFittedError, match="call fit"):
        reducer.encode(images)
    assert reducer.fit(small_digits.train.images) is reducer
    codes = reducer.encode(images)
    assert codes.shape == (50, 4) and codes.dtype == np.float32
    decoded = reducer.decode(codes)
    assert decoded.shape == images.shape and decoded.dtype == np.float32
    assert 0.0 <= decoded.min() and decoded.max() <= 1.0
    np.testing.assert_allclose(reducer.reconstruct(images), decoded, atol=1e-6)
    assert reducer.latent_dim_ == 4 and isinstance(reducer.history_, list)
    with pytest.raises(ValueError, match="columns"):
        reducer.decode(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("name", FAMILIES)
def test_training_improves_reconstruction(name, small_digits):
    """After fitting, held-out error is below the freshly initialised model's."""
    test = small_digits.test.images
    reducer = make_reducer(name, epochs=12).fit(small_digits.train.images)
    torch.manual_seed(0)
    fresh = {k: v.numpy() for k, v in build_model(reducer.model_config, test.shape[1:]).state_dict().items()}
    untrained = AutoencoderReducer.from_state(reducer.model_config, reducer.train_config, test.shape[1:], fresh, [], 0.0)
    assert per_image_mse(test, reducer.reconstruct(test)).mean() < 0.8 * per_image_mse(test, untrained.reconstruct(test)).mean()
    assert reducer.history_[-1]["train_loss"] < reducer.history_[0]["train_loss"]


def test_pca_beats_predicting_the_mean(small_digits):
    test = small_digits.test.images
    error = per_image_mse(test, PCAReducer(4).fit(small_digits.train.images).reconstruct(test)).mean()
    mean_error = per_image_mse(test, np.broadcast_to(np.asarray(small_digits.train.images).mean(0), test.shape)).mean()
    assert error < 0.7 * mean_error


def test_pca_reducer_matches_scikit_learn(digits):
    train, test = np.asarray(digits.train.images), np.asarray(digits.test.images)
    ours = PCAReducer(5, clip=False).fit(digits.train.images)
    reference = PCA(5).fit(train.reshape(len(train), -1))
    codes = ours.encode(test)
    np.testing.assert_allclose(np.abs(codes), np.abs(reference.transform(test.reshape(len(test), -1))), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(ours.decode(codes).reshape(len(test), -1), reference.inverse_transform(codes), atol=1e-4)


def test_encode_rejects_images_of_another_shape(small_digits):
    reducer = PCAReducer(2).fit(small_digits.train.images)
    with pytest.raises(ValueError, match="fitted on images of shape"):
        reducer.encode(np.zeros((2, 1, 9, 9), np.float32))
