"""Shared fixtures: the embedded digits data (small), a throw-away checkpoint store, and tiny
training settings so every test trains in a second or two."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import TrainConfig
from core.data.datasets import load_dataset
from core.store.checkpoints import CheckpointStore


@pytest.fixture(scope="session")
def digits():
    """The full digits dataset (1437 train / 360 test images of 1x8x8)."""
    return load_dataset("digits")


@pytest.fixture(scope="session")
def small_digits():
    """At most 300 images per split: for tests that train."""
    return load_dataset("digits", limit=300)


@pytest.fixture
def store(tmp_path):
    """An empty checkpoint store in a temporary folder."""
    return CheckpointStore(tmp_path / "checkpoints")


@pytest.fixture
def tiny_train():
    """A few quick epochs: enough to see learning, not enough to be slow."""
    return TrainConfig(epochs=3, batch_size=64, lr=3e-3, seed=0)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def every_reducer(small_digits):
    """One fitted reducer of every registry method (PCA included), d=3, trained for a moment."""
    from core.models.methods import METHODS, build_reducer, default_model_config

    train = TrainConfig(epochs=2, batch_size=64, lr=3e-3, seed=0)
    return {name: build_reducer(default_model_config(name, 3), train).fit(small_digits.train.images) for name in METHODS}


@pytest.fixture(scope="session")
def zoo_dir(request, tmp_path_factory):
    from testkit.app import zoo_dir_for

    return zoo_dir_for(request.config, tmp_path_factory)


@pytest.fixture
def env(zoo_dir, monkeypatch):
    """The dashboard's environment for the tiny pre-trained zoo (AppTest and browser tests)."""
    from testkit.app import app_env

    for key, value in app_env(zoo_dir).items():
        monkeypatch.setenv(key, value)
    return zoo_dir
