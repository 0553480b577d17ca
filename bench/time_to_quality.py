"""Part 2: time to quality at latent size 30, by the command the README gives.

For MNIST and Fashion-MNIST, in one run: PCA-30 fitted on the training split (the same-run baseline),
then exactly ``python -m core train --dataset D --model conv --latent-dim 30 --time-budget B --json``
in a fresh process with the defaults a user gets (no thread, batch or learning-rate flags): it trains
until the budget is spent with the learning-rate schedule fitted to it and reports the test SSE
per image on the 10,000 test images. Hinton & Salakhutdinov (2006) report 3.00 SSE per image on MNIST
at 30-D (a deep autoencoder with RBM pre-training, far more compute).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import Options, PartResult, mnist_dir
from core.models.methods import default_model_config
from core.models.registry import size_band
from core.store.zoo import default_train_config

NAME = "quality"
TITLE = "2. Time to quality: test SSE per image at d=30 within a training budget (MNIST, Fashion-MNIST)"
GOAL_SSE, MOONSHOT_SSE = 2.50, 2.0
HINTON_2006 = 3.00
LATENT = 30
DATASETS = ("mnist", "fashion-mnist")


def pca_row(dataset: str, folder: str | None, **load: object) -> dict:
    """PCA-30 fitted on ``dataset``'s training split (``load``: more ``load_dataset`` arguments), scored on its test split."""
    from core.data.datasets import load_dataset
    from core.metrics import reconstruction_metrics
    from core.models.reducers import PCAReducer

    data = load_dataset(dataset, data_dir=folder, **load)
    start = time.perf_counter()
    pca = PCAReducer(LATENT).fit(data.train.images)
    seconds = time.perf_counter() - start
    sse = reconstruction_metrics(data.test.images, pca.reconstruct(data.test.images))["test_sse_per_image"]
    return {"dataset": dataset, "method": f"PCA-{LATENT}", "train seconds": seconds, "epochs": "",
            "test SSE/image": sse, "x lower than PCA": 1.0}


def cli_row(dataset: str, folder: str | None, budget: float, checkpoints: str, *flags: str) -> tuple[dict, dict]:
    """The README's command for ``dataset`` (``flags``: more of them, e.g. ``--image-size 64 --rgb``), in a fresh process."""
    data_dir = ["--data-dir", folder] if folder else []
    command = [sys.executable, "-m", "core", "train", "--dataset", dataset, *data_dir, *flags, "--model", "conv",
               "--latent-dim", str(LATENT), "--time-budget", f"{budget:g}", "--checkpoints", checkpoints, "--json"]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    record = json.loads(out.strip().splitlines()[-1])
    return record, {"dataset": dataset, "method": f"`python -m core train --model conv --latent-dim {LATENT} "
                                                  f"--time-budget {budget:g}`",
                    "train seconds": record["train_seconds"], "test SSE/image": record["test_sse_per_image"]}


def run(options: Options) -> PartResult:
    from core.store.checkpoints import CheckpointStore

    folder = mnist_dir(options)
    if folder is None:
        return PartResult(NAME, TITLE, [], notes=["skipped: MNIST not found (pass --data-dir)"])
    budget = options.budget or (45.0 if options.quick else 600.0)
    rows, goals, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="latent-lab-quality-") as checkpoints:
        for dataset in DATASETS:
            pca = pca_row(dataset, folder)
            record, row = cli_row(dataset, folder, budget, checkpoints)
            history = CheckpointStore(checkpoints).verified_record(Path(record["checkpoint"])).history
            row["epochs"] = len(history)
            row["x lower than PCA"] = pca["test SSE/image"] / row["test SSE/image"]
            rows += [pca, row]
            print(f"  {dataset}: PCA-{LATENT} {pca['test SSE/image']:.2f}, conv {row['test SSE/image']:.2f}", flush=True)
            sse = row["test SSE/image"]
            if dataset == "mnist":
                goals.append(f"MNIST conv d={LATENT}, {budget:.0f} s: {sse:.2f} SSE/image (goal <= {GOAL_SSE:.2f}: "
                             f"{'met' if sse <= GOAL_SSE else 'not met'}; moonshot <= {MOONSHOT_SSE:.1f}: "
                             f"{'met' if sse <= MOONSHOT_SSE else 'not met'}); PCA-{LATENT} {pca['test SSE/image']:.2f} "
                             f"in the same run; Hinton & Salakhutdinov 2006: {HINTON_2006:.2f}")
            else:
                goals.append(f"{dataset} conv d={LATENT}, {budget:.0f} s: {sse:.2f} SSE/image beside PCA-{LATENT}'s "
                             f"{pca['test SSE/image']:.2f} ({row['x lower than PCA']:.1f}x lower)")
            notes.append(f"{dataset}: {len(history)} epochs, last val_mse {history[-1]['val_mse']:.5f} at "
                         f"{history[-1]['seconds']:.0f} s; record {json.dumps({k: record[k] for k in ('test_mse', 'test_psnr', 'test_ssim')})}")
    # read from the code, so the note cannot drift from the defaults the command used
    mnist_shape = (1, 28, 28)
    model = default_model_config("conv", LATENT, mnist_shape)
    train = default_train_config(60_000, mnist_shape, "conv")
    notes.append(f"defaults in use at 28 px: conv with {model.activation.upper()} activations and {model.grid_convs} 3x3 convolution(s) "
                 f"each side at the 7x7 map (core.models.registry, size band {size_band(mnist_shape)!r}), AdamW (betas 0.9, 0.99) "
                 f"peak lr {train.lr:g} held for {train.lr_decay_from:.0%} of the budget then a cosine, batch {train.batch_size}, "
                 "bf16 autocast where native, torch's default threads; see bench/NOTES.md part 2 for how they were chosen")
    return PartResult(NAME, TITLE, rows, goals, notes)
