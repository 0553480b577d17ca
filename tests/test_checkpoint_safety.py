"""What a classroom or a messy machine does to the cache: processes killed mid-save, several
processes asking for one model at once, and a hostile checkpoint folder. Nothing is lost, nothing
half-written ever loads, nothing foreign is executed. (bench/checkpoint_safety.py runs the long soak.)"""

from __future__ import annotations

import json
import os
import pickle
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import CheckpointError
from core.store.checkpoints import RECORD, WEIGHTS, CheckpointStore

ROOT = Path(__file__).resolve().parent.parent
TRAIN = ["-m", "core", "train", "--model", "dense", "--latent-dim", "2", "--limit", "200", "--epochs", "3", "--json"]


def cli(store: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *TRAIN, "--checkpoints", str(store), *extra], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_four_processes_asking_for_one_model_train_it_once(tmp_path):
    processes = [cli(tmp_path) for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    rows = [json.loads(out) for out, _ in outputs]
    assert sum(not r["cached"] for r in rows) == 1, "one trained, three waited and loaded it"
    assert len({r["test_mse"] for r in rows}) == 1 and len({r["checkpoint"] for r in rows}) == 1
    store = CheckpointStore(tmp_path)
    assert len(store.list().records) == 1 and store.leftovers() == []


@pytest.mark.slow
def test_killed_retrains_never_lose_the_model_nor_leave_one_that_loads_half_written(tmp_path):
    first = cli(tmp_path)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    folder = Path(json.loads(out)["checkpoint"])
    store = CheckpointStore(tmp_path)
    rng = random.Random(0)
    for _ in range(5):
        process = cli(tmp_path, "--retrain")
        time.sleep(rng.uniform(0.5, 4.0))  # torch import, training or the save: wherever it is
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert [r.name for r in store.list().records] == [folder.name], "the model is still there"
        store.load(folder)  # and it loads, complete (the checksum is verified)
    store.clean()
    assert store.leftovers() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".locks", folder.name, os.readlink(folder)])


class _Payload:
    def __reduce__(self):  # unpickling this would run os.system: it must never happen
        return (os.system, (f"touch {_Payload.marker}",))


def test_a_hostile_checkpoint_folder_executes_nothing_and_hides_nothing(tmp_path, small_digits, tiny_train):
    from core.models.methods import default_model_config
    from core.store.trained import load_or_train

    store = CheckpointStore(tmp_path / "store")
    healthy = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    marker = tmp_path / "pwned"
    _Payload.marker = marker
    payload = pickle.dumps(_Payload())
    hostile = tmp_path / "store" / "dense-digits-d2-666666666666"
    hostile.mkdir()
    for name in (WEIGHTS, "model.pt", "model.pth", "model.pkl", "weights.bin", "state.pickle", "checkpoint.ckpt"):
        (hostile / name).write_bytes(payload)
    record = json.loads((store.root / healthy.folder / RECORD).read_text())
    for field, value in [("model", {"family": "os.system", "latent_dim": 10**12}), ("image_shape", [1, 10**9, 8]),
                         ("model", {**record["model"], "latent_dim": 10**12}),
                         ("history", "rm -rf /"), ("weights_sha256", None)]:
        (hostile / RECORD).write_text(json.dumps({**record, field: value}))
        listing = store.list()
        assert [r.name for r in listing.records] == [healthy.folder] and hostile.name in listing.problems
        with pytest.raises(CheckpointError):
            store.load(hostile)
    (hostile / RECORD).write_text(json.dumps(record))  # a valid record over pickled "weights"
    with pytest.raises(CheckpointError, match="corrupt"):
        store.load(hostile)
    assert not marker.exists(), "no pickle was ever unpickled"
    assert store.load(store.root / healthy.folder).latent_dim_ == 2
