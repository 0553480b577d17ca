"""The checkpoint cache: train once then load, atomic saves, clear errors on corruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

import core.checkpoints as checkpoints
from core.checkpoints import RECORD, WEIGHTS, load_or_train
from core.config import TrainConfig
from core.errors import CheckpointError
from core.models import default_model_config


def test_second_call_loads_from_the_cache_without_training(small_digits, store, tiny_train):
    epochs_seen = []
    first = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, callback=epochs_seen.append)
    assert first.cached_ is False and len(epochs_seen) == 3
    second = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, callback=epochs_seen.append)
    assert second.cached_ is True and len(epochs_seen) == 3  # no epoch ran
    images = small_digits.test.images
    np.testing.assert_allclose(second.reconstruct(images), first.reconstruct(images), atol=1e-6)
    assert second.record_["test_metrics"]["test_mse"] == pytest.approx(first.record_["test_metrics"]["test_mse"])
    assert second.history_ == first.history_ and second.record_["versions"]["torch"]


def test_a_different_config_is_a_different_checkpoint(small_digits, store, tiny_train):
    load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    other = load_or_train(small_digits, default_model_config("dense", 3), tiny_train, store=store)
    assert other.cached_ is False
    more_epochs = load_or_train(small_digits, default_model_config("dense", 2), TrainConfig(epochs=4), store=store)
    assert more_epochs.cached_ is False
    assert len(store.list()) == 3


def test_cache_only_never_trains(small_digits, store, tiny_train):
    with pytest.raises(FileNotFoundError, match="not trained"):
        load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, cache_only=True)


def test_an_interrupted_save_leaves_nothing_loadable(small_digits, store, tiny_train, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process is stopped while the weights are written

    monkeypatch.setattr("safetensors.torch.save_file", killed)
    with pytest.raises(KeyboardInterrupt):
        load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    assert store.list() == []
    assert list(store.root.iterdir()) == []  # no half-written folder, no temporary left
    monkeypatch.undo()
    assert load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store).cached_ is False


def test_a_temporary_folder_from_a_killed_process_is_ignored_and_cleaned(small_digits, store, tiny_train):
    store.root.mkdir(parents=True)
    stale = store.root / ".dense-digits-d2-abc.tmp-1234"
    stale.mkdir()
    (stale / WEIGHTS).write_bytes(b"half")
    assert store.list() == []
    import os
    os.utime(stale, (0, 0))
    assert store.clean_stale_temporaries() == 1 and not stale.exists()


@pytest.fixture
def saved(small_digits, store, tiny_train):
    return load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store).checkpoint_


def test_corrupt_weights_raise_a_clear_error(saved, store):
    data = bytearray((saved / WEIGHTS).read_bytes())
    data[-5] ^= 0xFF
    (saved / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        store.load(saved)
    assert str(saved / WEIGHTS) in str(info.value) and "--retrain" in str(info.value)


def test_corrupt_record_raises_a_clear_error(saved, store):
    (saved / RECORD).write_text("{ not json")
    with pytest.raises(CheckpointError, match="unreadable"):
        store.load(saved)


def test_mismatched_config_never_loads_wrong_weights(saved, store):
    record = json.loads((saved / RECORD).read_text())
    record["model"]["latent_dim"] = 5
    (saved / RECORD).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="does not match"):
        store.load(saved)


def test_weights_are_safetensors_not_pickle(saved):
    assert (saved / WEIGHTS).read_bytes()[8:9] == b"{"  # safetensors: 8-byte length, then a JSON header


def test_delete_removes_only_checkpoints_of_the_store(saved, store, tmp_path):
    with pytest.raises(CheckpointError):
        store.delete(tmp_path)
    store.delete(saved)
    assert store.list() == []


def test_stores_are_independent(small_digits, tmp_path, tiny_train):
    a, b = checkpoints.CheckpointStore(tmp_path / "a"), checkpoints.CheckpointStore(tmp_path / "b")
    load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=a)
    assert len(a.list()) == 1 and b.list() == []
