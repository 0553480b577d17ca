"""Data-parallel training with torchrun + DDP (core/models/distributed.py): the sharding of every batch,
and two gloo processes on CPU training the model one process would, saved once by rank 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import build_parser, main
from core.cli.options import data_config_from_args, dataset_loader, train_config_from_args
from core.models import distributed
from core.models.methods import default_model_config
from core.store.checkpoints import CheckpointStore

ROOT = Path(__file__).resolve().parent.parent
TRAIN_ARGS = ["train", "--model", "dense", "--latent-dim", "2", "--limit", "300", "--epochs", "3", "--json"]

# The tolerance on test MSE between 2 ranks and 1 process. Two ranks solve the same optimisation
# problem as one process: the same batches of --batch-size images (each rank takes half of every
# batch), the same steps and learning-rate schedule, and loss weights that make DDP's averaged
# gradient the whole batch's gradient. Only the floating-point summation order differs (gradients
# are summed per rank, then across ranks), so the two runs agree to a few decimals; 2% leaves room
# for that rounding to grow over 3 epochs without hiding a real difference (a doubled effective
# batch, for instance, changes this model's test MSE by far more).
MSE_TOLERANCE = 0.02


@pytest.mark.parametrize("size, world", [(10, 2), (11, 2), (1, 2), (7, 3), (2, 3), (128, 4), (5, 1)])
def test_shares_cover_a_batch_once(size, world):
    shares = [distributed.share_of(size, rank, world) for rank in range(world)]
    positions = [i for part, weight in shares if weight for i in range(size)[part]]
    assert sorted(positions) == list(range(size))  # every image of the batch, once
    # DDP averages over ranks: weights summing to the rank count make that the batch mean
    assert sum(weight for _, weight in shares) == pytest.approx(world)
    assert all(weight == pytest.approx((part.stop - part.start) * world / size) for part, weight in shares if weight)
    assert all(part.stop - part.start == 1 for part, weight in shares if not weight)  # a stand-in, never empty


def test_every_index_once_per_epoch_across_ranks():
    """The training loop's walk: one seeded permutation per epoch, batches of it, a share per rank."""
    n, batch, world = 103, 16, 3
    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        order = torch.randperm(n, generator=generator)
        seen = []
        for first in range(0, n, batch):
            chunk = order[first:first + batch]
            for rank in range(world):
                part, weight = distributed.share_of(len(chunk), rank, world)
                if weight:
                    seen += chunk[part].tolist()
        assert sorted(seen) == list(range(n))


def test_one_process_uses_no_process_group(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert not distributed.enabled() and distributed.is_main() and not distributed.setup()
    assert distributed.from_rank0(lambda: 42) == 42
    assert not torch.distributed.is_initialized()


def _configs(checkpoints: Path):
    """The configs (and folder) the CLI derives from TRAIN_ARGS, as a single process would."""
    args = build_parser().parse_args([*TRAIN_ARGS, "--checkpoints", str(checkpoints)])
    dataset = dataset_loader(args)
    data = data_config_from_args(args)
    model = default_model_config(args.model, args.latent_dim, dataset().image_shape, loss=args.loss, beta=args.beta)
    train = train_config_from_args(args, dataset, args.noise, args.model)
    return data, model, train


def _torchrun(checkpoints: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
               "-m", "core", *TRAIN_ARGS, "--checkpoints", str(checkpoints)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def _rows(result: subprocess.CompletedProcess) -> list[dict]:
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_two_gloo_ranks_train_the_single_process_model(tmp_path, capsys):
    together, alone = tmp_path / "ddp", tmp_path / "single"
    rows = _rows(_torchrun(together))
    assert len(rows) == 1  # rank 0 reports for the training (two ranks on one pipe interleaved their lines)
    row = rows[0]
    assert row["cached"] is False

    store = CheckpointStore(together)
    folders = [p for p in together.iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1  # written once, by rank 0
    assert folders[0] == store.folder_for(*_configs(together)) and Path(row["checkpoint"]) == folders[0]
    reducer = store.load(folders[0])
    images = np.random.default_rng(0).random((4, *reducer.model_.image_shape), dtype=np.float32)
    assert reducer.reconstruct(images).shape == images.shape

    assert main([*TRAIN_ARGS, "--checkpoints", str(alone)]) == 0  # the same arguments in one process
    single = json.loads(capsys.readouterr().out)
    assert Path(single["checkpoint"]).name == folders[0].name  # the same cache key: process count is not in it
    mine, theirs = store.record(folders[0]), CheckpointStore(alone).record(single["checkpoint"])
    assert (mine.key, mine.name) == (theirs.key, theirs.name)
    assert row["test_mse"] == pytest.approx(single["test_mse"], rel=MSE_TOLERANCE)

    cached = _rows(_torchrun(together))  # rank 0 finds it and tells the other rank
    assert len(cached) == 1 and cached[0]["cached"] is True and cached[0]["test_mse"] == row["test_mse"]
