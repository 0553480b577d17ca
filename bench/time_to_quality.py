"""Part 2: time to quality on real MNIST at latent size 30.

The project side is ``AutoencoderReducer.fit`` (core.training.train) with ``time_budget`` set: it
trains until the budget is spent with the cosine learning-rate schedule fitted to the budget, then
is scored on the 10,000 MNIST test images. Back to back, the plain loop (constant LR, BCE, the seed
conv autoencoder) trains for the same wall time. PCA-30 is fitted in the same run; Hinton &
Salakhutdinov (2006) report 3.00 SSE per image at 30-D (a deep autoencoder with RBM pre-training).
"""

from __future__ import annotations

import time

import numpy as np
import torch

from bench.common import Options, PartResult, mnist_dir
from bench.models import parameter_count, plain_loop, seed_conv_autoencoder, test_losses

NAME = "quality"
TITLE = "2. Time to quality: MNIST test SSE per image at d=30 within a training budget"
GOAL_SSE = 2.50
HINTON_2006 = 3.00
LATENT = 30


def project_settings(budget: float):
    """The ModelConfig and TrainConfig the project uses for this run (the choice is explained in
    the notes of RESULTS.md)."""
    from core.config import TrainConfig
    from core.methods import default_model_config

    model = default_model_config("conv", LATENT, loss="bce")
    train = TrainConfig(time_budget=budget, batch_size=128, lr=2e-3, seed=0, threads=1)
    return model, train


def run(options: Options) -> PartResult:
    from core.datasets import load_dataset
    from core.metrics import reconstruction_metrics
    from core.reducers import AutoencoderReducer, PCAReducer

    folder = mnist_dir(options)
    if folder is None:
        return PartResult(NAME, TITLE, [], notes=["skipped: MNIST not found (pass --data-dir)"])
    budget = options.budget or (45.0 if options.quick else 600.0)
    data = load_dataset("mnist", data_dir=folder)
    train_images, test_images = np.ascontiguousarray(data.train.images), np.ascontiguousarray(data.test.images)
    rows = []

    start = time.perf_counter()
    pca = PCAReducer(LATENT).fit(train_images)
    pca_seconds = time.perf_counter() - start
    pca_sse = reconstruction_metrics(test_images, pca.reconstruct(test_images))["test_sse_per_image"]
    rows.append({"method": f"PCA-{LATENT}", "train seconds": pca_seconds, "images seen": len(train_images),
                 "test SSE/image": pca_sse, "params": LATENT * (train_images[0].size + 1)})
    print(f"  PCA-{LATENT}: {pca_sse:.2f}", flush=True)

    model_config, train_config = project_settings(budget)
    reducer = AutoencoderReducer(model_config, train_config, device=torch.device("cpu")).fit(train_images)
    metrics = reconstruction_metrics(test_images, reducer.reconstruct(test_images))
    n_fit = len(train_images) - round(len(train_images) * train_config.val_fraction)
    epochs = reducer.history_
    seen = round(n_fit * (len(epochs) - 1 + min(1.0, 1.0)))  # the last epoch may stop early: upper bound
    rows.append({"method": "core trainer (time_budget, cosine fitted to it)", "train seconds": reducer.train_seconds_,
                 "images seen": f"<= {seen}", "test SSE/image": metrics["test_sse_per_image"],
                 "params": parameter_count(reducer.model_)})
    print(f"  core: {metrics['test_sse_per_image']:.2f} after {len(epochs)} epochs", flush=True)

    torch.manual_seed(0)
    model = seed_conv_autoencoder(LATENT)
    out = plain_loop(model, train_images, seconds=budget)
    plain = test_losses(model, test_images)
    rows.append({"method": "plain loop (constant lr 1e-3, BCE, batch 128, default threads)", "train seconds": out["seconds"],
                 "images seen": out["images"], "test SSE/image": plain["test_sse_per_image"], "params": parameter_count(model)})
    print(f"  plain: {plain['test_sse_per_image']:.2f}", flush=True)

    rows.append({"method": "Hinton & Salakhutdinov 2006 (published)", "train seconds": "", "images seen": "",
                 "test SSE/image": HINTON_2006, "params": ""})
    core_sse = metrics["test_sse_per_image"]
    goals = [f"core trainer: {core_sse:.2f} SSE/image in {budget:.0f} s (goal <= {GOAL_SSE:.2f}): "
             f"{'met' if core_sse <= GOAL_SSE else 'not met'}; {pca_sse / core_sse:.2f}x lower than PCA-{LATENT}, "
             f"{plain['test_sse_per_image'] / core_sse:.2f}x lower than the plain loop in the same time"]
    notes = [f"budget {budget:.0f} s per side, back to back in one process; test set: the 10,000 MNIST test images",
             f"core settings: {model_config.to_dict()} / {train_config.to_dict()}",
             f"core history: {len(epochs)} epochs, last val_mse {epochs[-1]['val_mse']:.5f} at {epochs[-1]['seconds']:.0f} s"]
    return PartResult(NAME, TITLE, rows, goals, notes)
