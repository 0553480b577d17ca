"""The checkpoint cache: train once then load, atomic saves, clear errors on corruption."""

from __future__ import annotations

import json

import numpy as np
import pytest

import core.store.checkpoints as checkpoints
from core.config import TrainConfig
from core.errors import CheckpointError
from core.models.methods import METHODS, build_reducer, default_model_config
from core.store.checkpoints import RECORD, WEIGHTS
from core.store.trained import load_or_train


def test_second_call_loads_from_the_cache_without_training(small_digits, store, tiny_train):
    epochs_seen = []
    first = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, callback=epochs_seen.append)
    assert first.cached is False and len(epochs_seen) == 3
    second = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, callback=epochs_seen.append)
    assert second.cached is True and len(epochs_seen) == 3  # no epoch ran
    images = small_digits.test.images
    np.testing.assert_allclose(second.reducer.reconstruct(images), first.reducer.reconstruct(images), atol=1e-6)
    assert second.record.metric("test_mse") == pytest.approx(first.record.metric("test_mse"))
    assert second.reducer.history_ == first.reducer.history_ and second.record.versions["torch"]
    assert second.record == first.record  # the typed record reads back exactly as it was written


def test_a_different_config_is_a_different_checkpoint(small_digits, store, tiny_train):
    load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    other = load_or_train(small_digits, default_model_config("dense", 3), tiny_train, store=store)
    assert other.cached is False
    more_epochs = load_or_train(small_digits, default_model_config("dense", 2), TrainConfig(epochs=4), store=store)
    assert more_epochs.cached is False
    assert len(store.list().records) == 3


def test_cache_only_never_trains(small_digits, store, tiny_train):
    with pytest.raises(FileNotFoundError, match="not trained"):
        load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, cache_only=True)


def test_an_interrupted_save_leaves_nothing_loadable(small_digits, store, tiny_train, monkeypatch):
    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process is stopped while the weights are written

    monkeypatch.setattr("safetensors.numpy.save_file", killed)
    with pytest.raises(KeyboardInterrupt):
        load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    assert store.list().records == []
    assert [p.name for p in store.root.iterdir()] == [".locks"]  # no half-written folder, no temporary left
    monkeypatch.undo()
    assert load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store).cached is False


def test_leftovers_of_killed_saves_are_never_listed_and_clean_removes_them(small_digits, store, tiny_train):
    trained = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    half = store.root / f".{trained.folder}.v-deadbeef0000"  # a save killed before its switch
    half.mkdir()
    (half / WEIGHTS).write_bytes(b"half")
    old_style = store.root / ".dense-digits-d2-abc.tmp-1234"  # what older versions left
    old_style.mkdir()
    assert [r.name for r in store.list().records] == [trained.folder]
    assert set(store.leftovers()) == {half, old_style}
    assert store.clean() == 2 and store.leftovers() == []
    assert store.load(store.root / trained.folder).latent_dim_ == 2  # the real checkpoint is untouched


def test_retrain_replaces_the_checkpoint_in_one_step(small_digits, store, tiny_train):
    first = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    second = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store, retrain=True)
    folder = store.root / first.folder
    assert folder.is_symlink() and store.record(folder).created == second.record.created
    assert store.leftovers() == []  # the superseded version is gone


def test_a_store_that_cannot_be_written_fails_before_training(small_digits, tmp_path, tiny_train):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    seen = []
    with pytest.raises(CheckpointError, match="cannot be written"):
        load_or_train(small_digits, default_model_config("dense", 2), tiny_train,
                      store=checkpoints.CheckpointStore(blocker), callback=seen.append)
    assert seen == []  # not one epoch was spent


def test_a_code_longer_than_the_image_is_refused_before_training(small_digits, store):
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="between 1 and 64"):
        load_or_train(small_digits, default_model_config("dense", 100000), TrainConfig(epochs=1), store=store)


@pytest.fixture
def saved(small_digits, store, tiny_train):
    return store.root / load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store).folder


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



def test_a_record_read_before_is_read_again_once_it_changes(saved, store):
    """Records are kept per process (every page run lists the store); an edit of the same length made
    right after a read, or a retrain, is still seen at once."""
    before = store.record(saved)
    assert store.record(saved) is before  # unchanged: the parsed record is reused
    text = (saved / RECORD).read_text()
    edited = text.replace('"latent_dim": 2', '"latent_dim": 3')
    assert edited != text and len(edited) == len(text)
    (saved / RECORD).write_text(edited)
    assert store.record(saved).latent_dim == 3
    (saved / RECORD).write_text(text[:-3] + "???")
    assert saved.name in store.list().problems

def test_mismatched_config_never_loads_wrong_weights(saved, store):
    record = json.loads((saved / RECORD).read_text())
    record["model"]["latent_dim"] = 5
    (saved / RECORD).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match="does not match"):
        store.load(saved)


def test_an_edited_record_is_not_taken_for_the_model_asked_for(small_digits, saved, store, tiny_train):
    """A record that says d=5 in the folder of the d=2 model: the lookup refuses it, naming the folder."""
    record = json.loads((saved / RECORD).read_text())
    record["model"]["latent_dim"] = 5
    (saved / RECORD).write_text(json.dumps(record))
    with pytest.raises(CheckpointError, match=saved.name):
        load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)


@pytest.mark.parametrize("broken", ["[]", '"text"', "{}", '{"format": 1, "model": "dense"}',
                                    '{"format": 1, "data": {"name": "digits"}, "model": {"family": "nosuch"}}'])
def test_a_broken_record_is_reported_and_hides_no_healthy_checkpoint(saved, store, broken):
    bad = store.root / "dense-digits-d2-000000000000"
    bad.mkdir()
    (bad / RECORD).write_text(broken)
    listing = store.list()
    assert [r.name for r in listing.records] == [saved.name]
    assert bad.name in listing.problems and str(bad / RECORD) in listing.problems[bad.name]
    with pytest.raises(CheckpointError, match="--retrain"):
        store.load(bad)


@pytest.mark.parametrize("method", list(METHODS))
def test_save_then_load_rebuilds_the_same_reducer(method, small_digits, store):
    """Every method of the registry, PCA included, comes back from the store as it was saved."""
    trained = load_or_train(small_digits, default_model_config(method, 3), TrainConfig(epochs=1), store=store)
    loaded = store.load(store.root / trained.folder)
    images = small_digits.test.images[:20]
    assert type(loaded) is type(trained.reducer) and loaded.model_config == trained.reducer.model_config
    # the same numbers; BLAS may sum in another order for differently aligned arrays, hence 1e-6
    np.testing.assert_allclose(loaded.encode(images), trained.reducer.encode(images), atol=1e-6)
    np.testing.assert_allclose(loaded.reconstruct(images), trained.reducer.reconstruct(images), atol=1e-6)
    assert loaded.capabilities == METHODS[method].capabilities


def test_unfitted_reducers_come_from_the_registry():
    for name, method in METHODS.items():
        reducer = build_reducer(default_model_config(name, 2))
        assert isinstance(reducer, method.reducer_class()) and not reducer.is_fitted


def test_weights_are_safetensors_not_pickle(saved):
    assert (saved / WEIGHTS).read_bytes()[8:9] == b"{"  # safetensors: 8-byte length, then a JSON header


def test_delete_removes_only_checkpoints_of_the_store(saved, store, tmp_path):
    with pytest.raises(CheckpointError):
        store.delete(tmp_path)
    store.delete(saved)
    assert store.list().records == []


def test_stores_are_independent(small_digits, tmp_path, tiny_train):
    a, b = checkpoints.CheckpointStore(tmp_path / "a"), checkpoints.CheckpointStore(tmp_path / "b")
    load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=a)
    assert len(a.list().records) == 1 and b.list().records == []


def test_a_model_trained_for_one_epoch_is_labelled_one_epoch(small_digits, store):
    from dataclasses import replace

    record = load_or_train(small_digits, default_model_config("dense", 2), TrainConfig(epochs=1), store=store).record
    assert record.label == "dense d=2 (1 epoch)"
    assert replace(record, train=replace(record.train, epochs=3)).label == "dense d=2 (3 epochs)"
