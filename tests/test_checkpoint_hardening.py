"""Issue 22: a checkpoint store that one hostile or damaged folder cannot break.

A record that parses into a deep structure, a record that claims huge images or layers, weights with
a flipped byte, and a process killed while an old-style folder moves to the versioned layout: the
healthy models stay listed and loadable, and every failure is a message that says what to do.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from core.cli import main
from core.errors import CheckpointError
from core.models.methods import default_model_config
from core.store.checkpoints import RECORD, WEIGHTS, CheckpointStore
from core.store.trained import load_or_train
from tests.test_cli import run_cli


@pytest.fixture
def healthy(small_digits, store, tiny_train) -> Path:
    """One trained dense d=2 model: its folder in the store."""
    return store.root / load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store).folder


def _hostile(store: CheckpointStore, text: str) -> Path:
    folder = store.root / "dense-digits-d9-000000000000"
    folder.mkdir()
    (folder / RECORD).write_text(text)
    return folder


# --- item 4: one record never hides the others ------------------------------------------------------
@pytest.mark.parametrize("text", [
    "[" * 1000 + "]" * 1000,
    '{"format": 1, "history": [' + "[" * 5000 + "]" * 5000 + "]}",
])
def test_a_deeply_nested_record_is_a_problem_and_hides_no_healthy_model(healthy, store, text, capsys):
    hostile = _hostile(store, text)
    listing = store.list()
    assert [r.name for r in listing.records] == [healthy.name]
    assert "nested" in listing.problems[hostile.name] and "delete" in listing.problems[hostile.name]
    with pytest.raises(CheckpointError, match="nested"):
        store.load(hostile)
    assert main(["list", "--checkpoints", str(store.root), "--json"]) == 0
    out = capsys.readouterr()
    assert [row["name"] for row in json.loads(out.out)] == [healthy.name]
    assert f"skipped {hostile.name}" in out.err


def test_python_m_core_list_survives_a_nested_record(healthy, store):
    _hostile(store, "[" * 1000 + "]" * 1000)
    result = run_cli("list", "--checkpoints", str(store.root))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert healthy.name in result.stdout and "dense-digits-d9-000000000000" in result.stderr


def test_an_oversized_record_is_refused_before_it_is_parsed(healthy, store, monkeypatch):
    from core.store.records import MAX_RECORD_BYTES

    record = json.loads((healthy / RECORD).read_text())
    pad = [{"pad": "x" * 2**20}] * (MAX_RECORD_BYTES // 2**20 + 1)
    hostile = _hostile(store, json.dumps({**record, "history": pad}))
    parsed, loads = [], json.loads

    def measured(text, *args, **kwargs):
        parsed.append(len(text))
        return loads(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", measured)
    listing = store.list()
    assert [r.name for r in listing.records] == [healthy.name]
    assert "MB" in listing.problems[hostile.name] and max(parsed) < 10**6, "the oversized file was never parsed"


def test_any_failure_reading_one_folder_is_a_problem_not_a_crash(healthy, store, monkeypatch):
    hostile = _hostile(store, "{}")
    original = CheckpointStore.record

    def record(self, folder):
        if Path(folder).name == hostile.name:
            raise MemoryError("boom")  # whatever a future parser may raise
        return original(self, folder)

    monkeypatch.setattr(CheckpointStore, "record", record)
    listing = store.list()
    assert [r.name for r in listing.records] == [healthy.name]
    assert "MemoryError" in listing.problems[hostile.name]


def test_every_record_training_can_write_is_below_the_size_limit(healthy):
    from core.config import MAX_EPOCHS
    from core.store.records import MAX_RECORD_BYTES

    record = json.loads((healthy / RECORD).read_text())
    per_epoch = len(json.dumps(record["history"][-1], indent=1)) + 2
    size = len((healthy / RECORD).read_bytes())
    assert 10 * (size + 10_000 * per_epoch) < MAX_RECORD_BYTES, "ten times a 10,000-epoch record"
    assert size + MAX_EPOCHS * per_epoch < MAX_RECORD_BYTES, "the longest training allowed"


# --- item 5: a record cannot demand any amount of memory -------------------------------------------
@pytest.fixture
def big_allocations(monkeypatch):
    """Every attempt to allocate a tensor over 200 MB off the meta device: recorded and refused."""
    import torch

    attempts, empty = [], torch.empty

    def guarded(*size, **kwargs):
        shape = size[0] if len(size) == 1 and isinstance(size[0], (tuple, list, torch.Size)) else size
        numel = 1
        for s in shape:
            numel *= int(s)
        device = torch.device(kwargs.get("device") or torch.get_default_device())
        if numel * 4 > 200 * 2**20 and device.type != "meta":
            attempts.append(tuple(shape))
            raise MemoryError(f"test guard: {tuple(shape)}")
        return empty(*size, **kwargs)

    monkeypatch.setattr(torch, "empty", guarded)
    return attempts


def _edit_record(folder: Path, **fields) -> None:
    record = json.loads((folder / RECORD).read_text())
    for name, value in fields.items():
        record[name] = value if not isinstance(value, dict) else {**record[name], **value}
    (folder / RECORD).write_text(json.dumps(record))  # the weights and their SHA-256 stay valid


def test_a_record_claiming_huge_images_is_refused_before_any_allocation(healthy, store, big_allocations):
    _edit_record(healthy, image_shape=[1, 4096, 4096])
    with pytest.raises(CheckpointError) as info:
        store.load(healthy)
    assert big_allocations == [], "nothing was allocated for the claimed images"
    assert "image_shape" in str(info.value) and "delete" in str(info.value)
    assert healthy.name in store.list().problems


def test_a_record_claiming_huge_layers_is_refused_before_any_allocation(healthy, store, big_allocations):
    _edit_record(healthy, model={"hidden": [2**20, 128]})  # 1 GB of weights in the decoder's last layers
    with pytest.raises(CheckpointError) as info:
        store.load(healthy)
    assert big_allocations == [], "the model was not built at the record's sizes"
    message = str(info.value)
    assert "1048576" in message and "model.safetensors" in message and "delete" in message


def test_a_cached_model_for_other_image_shapes_is_refused(small_digits, store, tiny_train):
    import dataclasses

    from core.data.datasets import ImageSet

    model = default_model_config("dense", 2)
    load_or_train(small_digits, model, tiny_train, store=store)

    def padded(split: ImageSet) -> ImageSet:
        import numpy as np

        return dataclasses.replace(split, images=np.zeros((len(split.images), 1, 9, 9), np.float32))

    other = dataclasses.replace(small_digits, train=padded(small_digits.train), test=padded(small_digits.test))
    with pytest.raises(CheckpointError, match="image"):
        load_or_train(other, model, tiny_train, store=store)


# --- item 7: damaged weights, found by `list --verify` ---------------------------------------------
def _flip_a_byte(folder: Path) -> None:
    data = bytearray((folder / WEIGHTS).read_bytes())
    data[-5] ^= 0xFF
    (folder / WEIGHTS).write_bytes(bytes(data))


def test_list_verify_reports_damaged_weights_and_fails(small_digits, store, tiny_train, capsys):
    damaged = store.root / load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store).folder
    fine = store.root / load_or_train(small_digits, default_model_config("dense", 3), tiny_train, store=store).folder
    _flip_a_byte(damaged)
    assert main(["list", "--checkpoints", str(store.root), "--json"]) == 0, "without --verify weights are not read"
    capsys.readouterr()
    assert main(["list", "--verify", "--checkpoints", str(store.root), "--json"]) == 1
    out = capsys.readouterr()
    assert [row["name"] for row in json.loads(out.out)] == [fine.name]
    assert damaged.name in out.err and "corrupt" in out.err and "--retrain" in out.err
    _flip_a_byte(damaged)  # flipped back: healthy again
    assert main(["list", "--verify", "--checkpoints", str(store.root), "--json"]) == 0


def test_list_help_says_what_verify_does():
    result = run_cli("list", "--help")
    assert "--verify" in result.stdout and "SHA-256" in result.stdout and "exit" in result.stdout


# --- item 9: crash-safe migration of an old-style folder --------------------------------------------
@pytest.fixture
def old_style(small_digits, store, tiny_train):
    """A checkpoint saved before versioned saves: a plain folder, no link. Returns (trained, folder)."""
    trained = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    folder = store.root / trained.folder
    version = store.root / os.readlink(folder)
    folder.unlink()
    os.rename(version, folder)
    assert folder.is_dir() and not folder.is_symlink()
    return trained, folder


def _find(store: CheckpointStore, trained):
    return store.find(trained.record.data, trained.record.model, trained.record.train)


def _still_there(store: CheckpointStore, trained, folder: Path) -> None:
    """What a user notices: the model is found, listed and loads, before and after `clean`."""
    for _ in range(2):
        assert _find(store, trained) is not None, "lookup still finds the model"
        assert [r.name for r in store.list().records] == [folder.name]
        assert store.load(folder).latent_dim_ == 2
        store.clean()
    assert store.leftovers() == []


FS_STEPS = ("rename", "replace", "symlink")


def _counting(monkeypatch, at: int, act) -> list[str]:
    """Patch os.rename/replace/symlink so that ``act`` runs at their ``at``-th call (1-based) instead."""
    calls = []
    for name in FS_STEPS:
        real = getattr(os, name)

        def step(*args, _name=name, _real=real, **kwargs):
            calls.append(_name)
            if len(calls) == at:
                act()
            return _real(*args, **kwargs)

        monkeypatch.setattr(os, name, step)
    return calls


def _resave(store: CheckpointStore, trained, folder: Path, small_digits):
    return store.save(folder, trained.reducer, small_digits.config, dict(trained.record.test_metrics))


@pytest.mark.parametrize("at", range(1, 7))
def test_a_migration_failing_at_any_step_keeps_the_model(old_style, store, small_digits, monkeypatch, at):
    trained, folder = old_style

    def fail():
        raise OSError("disk full")

    calls = _counting(monkeypatch, at, fail)
    try:
        _resave(store, trained, folder, small_digits)
    except OSError:
        pass
    monkeypatch.undo()
    assert calls, "the save renamed or linked something"
    _still_there(store, trained, folder)


@pytest.mark.parametrize("at", range(1, 7))
def test_a_migration_killed_at_any_step_keeps_the_model(old_style, store, small_digits, monkeypatch, at):
    trained, folder = old_style
    pid = os.fork()
    if pid == 0:  # the child saves and is killed at the at-th rename/link: no handler, no cleanup runs
        try:
            _counting(monkeypatch, at, lambda: os._exit(9))
            _resave(store, trained, folder, small_digits)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    killed = os.waitstatus_to_exitcode(status) == 9
    _still_there(store, trained, folder)
    if not killed:  # it ran to the end: the migration is done and the old plain folder gone
        assert folder.is_symlink() and not [p for p in store.root.iterdir() if "legacy" in p.name]


def test_clean_never_deletes_the_only_copy_of_a_half_migrated_model(old_style, store):
    trained, folder = old_style
    hidden = store.root / f".{folder.name}.v-legacy0badc0de"
    os.rename(folder, hidden)  # what a process killed right after the first rename of the migration left
    shutil.copytree(hidden, store.root / f".{folder.name}.v-0123456789ab")  # and its new version, unlinked
    store.clean()
    _still_there(store, trained, folder)


def test_the_store_names_checkpoints_itself_and_a_name_never_leaves_it(healthy, store):
    """Callers hand the store a record or a name (a name may come from a link): the store builds the path,
    and a name that is a path, hidden or climbs out is refused before anything is read or deleted."""
    record = store.record(healthy.name)
    assert store.folder_of(record) == store.folder_of(healthy.name) == healthy
    assert store.load(record).latent_dim_ == 2
    outside = store.root.parent / "outside"
    outside.mkdir()
    for name in ("../outside", str(outside), ".locks", f".{healthy.name}", "a..b", "", "x/y"):
        for read in (store.record, store.load, store.delete):
            with pytest.raises(CheckpointError, match="is not the name of a checkpoint"):
                read(name)
    assert outside.is_dir() and healthy.is_dir()
