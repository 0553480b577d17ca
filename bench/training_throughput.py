"""Part 1: training throughput (images/s) of the project's trainer vs a plain PyTorch loop.

Both sides train the very same network, core's conv family at its defaults (d=30, BCE, GELU, one grid
convolution each side: ``bench.models.core_network``, the same initial weights), for the same number
of epochs on the same MNIST images, in interleaved rounds (plain, core, core 1-thread, plain, ...),
each run in a fresh process of its own (so the C allocator settings the core trainer makes, and the
allocator's warm-up, never carry over to the next side), and are then scored on the MNIST test set. Before anything is timed the bench
asserts that the two sides have the same layers, shapes and parameter count. The plain side trains
it the way a tutorial would (DataLoader, Adam, constant LR, float32, default threads). The core side is ``core.models.training.train`` exactly as
the CLI and dashboard call it: whole split in one tensor, channels_last, fused AdamW, its default peak LR
held for 80% of the run and then decayed by a cosine, and
a validation pass after every epoch (counted in its time), with the C allocator's thresholds raised
(``core.models.allocator``); the plain side runs with Python's defaults. Its throughput counts the images it
trained on (90% of the split; 10% is its validation set).

``--device cuda`` runs the same comparison on a GPU (its own section of RESULTS.md, named with the GPU):
the plain side moves each DataLoader batch there as a tutorial does, the core side keeps the whole split
there; each process makes its CUDA context before either side's clock, and both clocks wait for the
GPU's queue. The threads=1 side is left out there (its threads feed the GPU, they do not compute), and
each run trains more epochs (a GPU's 2 epochs are over in about a second, mostly warm-up).
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import torch

from bench.common import Options, PartResult, median_ratio, mnist_dir
from bench.models import Logits, assert_same_architecture, core_network, parameter_count, plain_loop, test_losses
from core.config import TrainConfig

NAME = "training"
TITLE = "1. Training throughput: core trainer vs a plain PyTorch loop (the same conv AE, d=30)"
GPU_NAME, GPU_TITLE = "training_gpu", "1g. Training throughput on a GPU: core trainer vs a plain PyTorch loop (the same conv AE, d=30)"
GPU_EPOCHS = 10
FAMILY, LATENT = "conv", 30
GOAL_RATIO = 2.0


def load(options: Options):
    from core.data.datasets import load_dataset

    folder = mnist_dir(options)
    if folder is None:
        return load_dataset("digits"), "digits (MNIST not found: pass --data-dir)"
    data = load_dataset("mnist", data_dir=folder, limit=10_000 if options.quick else 30_000)
    return data, f"MNIST ({len(data.train)} train / {len(data.test)} test)"


def core_model(image_shape: tuple[int, int, int]) -> torch.nn.Module:
    """What the core side trains: core's network for FAMILY at its defaults."""
    return core_network(FAMILY, LATENT, image_shape)


def plain_model(image_shape: tuple[int, int, int]) -> torch.nn.Module:
    """What the plain side trains: the same network, seen as images in, logits out."""
    return Logits(core_network(FAMILY, LATENT, image_shape))


def core_side(train_images, test_images, epochs: int, device: torch.device, threads: int | None = None) -> dict:
    from core.models.training import train

    # the product's learning rate and schedule (TrainConfig's defaults); batch 128 as the plain side's
    config = TrainConfig(epochs=epochs, batch_size=128, seed=0, threads=threads)
    model = core_model(train_images.shape[1:])
    start = time.perf_counter()
    history = train(model, train_images, config, device=device)  # ends on a validation pass: nothing left queued
    seconds = time.perf_counter() - start
    n_train = len(train_images) - max(1, round(len(train_images) * config.val_fraction))
    return {"images": n_train * len(history), "seconds": seconds, "params": parameter_count(model),
            **test_losses(lambda x: model(x)["logits"], test_images, device=device)}


def plain_side(train_images, test_images, epochs: int, device: torch.device) -> dict:
    model = plain_model(train_images.shape[1:])
    out = plain_loop(model, train_images, epochs=epochs, device=device)
    return {**out, "params": parameter_count(model), **test_losses(model, test_images, device=device)}


def check_equal_sides(image_shape: tuple[int, int, int]) -> int:
    """Build each side's model as the timed runs do and assert they are the same architecture (layers,
    shapes, parameter count): a comparison of two different models is no comparison. Returns the count."""
    return assert_same_architecture(core_model(image_shape), plain_model(image_shape))


def side_in_fresh_process(name: str, epochs: int, options: Options) -> dict:
    """Run ``SIDES[name]`` in a new Python process (spawned: nothing inherited from this one) on the
    data ``load(options)`` gives, on ``options.device``, and return its result."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_side, name, epochs, options).result()


def _side(name: str, epochs: int, options: Options) -> dict:
    import torch._dynamo  # noqa: F401 - the first optimizer of a process imports it (~1.3 s): paid before either side's clock

    device = torch.device(options.device)
    if device.type == "cuda":
        torch.zeros(1, device=device)  # the CUDA context (seconds): made before either side's clock
    data, _ = load(options)
    return SIDES[name](np.ascontiguousarray(data.train.images), np.ascontiguousarray(data.test.images), epochs, device)


PLAIN = "plain loop (DataLoader, Adam, batch 128, default threads)"
ONE_THREAD = "core.models.training.train (threads=1)"
SIDES = {  # each called as side(train_images, test_images, epochs, device)
    PLAIN: plain_side,
    "core.models.training.train (default threads)": core_side,
    ONE_THREAD: functools.partial(core_side, threads=1),
}


def sides_on(device: str) -> list[str]:
    """The sides compared on ``device``: on a GPU the 1-thread side is left out (its thread only feeds the GPU)."""
    return [name for name in SIDES if device == "cpu" or name != ONE_THREAD]


def gpu_name() -> str:
    return f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}"


def name_and_title(options: Options) -> tuple[str, str]:
    """The part's section name and title in RESULTS.md: the GPU comparison has its own, beside the CPU's."""
    return (GPU_NAME, GPU_TITLE) if options.device == "cuda" else (NAME, TITLE)


def run(options: Options) -> PartResult:
    gpu = options.device == "cuda"
    part_name, title = name_and_title(options)
    if gpu and not torch.cuda.is_available():
        return PartResult(part_name, title, [], notes=["skipped: --device cuda, but torch sees no GPU here"])
    data, label = load(options)
    if data.train.shape != (1, 28, 28):
        return PartResult(part_name, title, [], notes=[f"skipped: {label}"])
    params = check_equal_sides(data.train.shape)  # before anything is timed
    epochs = 1 if options.quick else GPU_EPOCHS if gpu else 2
    rounds = options.rounds or 1
    runs: dict[str, list[dict]] = {name: [] for name in sides_on(options.device)}
    for r in range(rounds):
        for name in runs:
            out = side_in_fresh_process(name, epochs, options)
            out["rate"] = out["images"] / out["seconds"]
            runs[name].append(out)
            print(f"  round {r + 1}: {name}: {out['rate']:.0f} images/s, test SSE/image {out['test_sse_per_image']:.2f}", flush=True)
    baseline = PLAIN
    rows = []
    for name, outs in runs.items():
        rows.append({
            "side": name,
            "images/s (median)": statistics.median(o["rate"] for o in outs),
            "x plain (median of rounds)": median_ratio([o["rate"] for o in outs], [o["rate"] for o in runs[baseline]]),
            "test BCE/pixel": statistics.median(o["test_bce"] for o in outs),
            "test SSE/image": statistics.median(o["test_sse_per_image"] for o in outs),
            "params": outs[0]["params"],
            "runs images/s": ", ".join(f"{o['rate']:.0f}" for o in outs),
        })
    goals = []
    for row in rows[1:]:
        met = row["x plain (median of rounds)"] >= GOAL_RATIO and row["test BCE/pixel"] <= rows[0]["test BCE/pixel"]
        goals.append(f"{row['side']}: {row['x plain (median of rounds)']:.2f}x the plain loop "
                     f"(goal >= {GOAL_RATIO:.0f}x), test BCE {row['test BCE/pixel']:.4f} vs plain {rows[0]['test BCE/pixel']:.4f}: "
                     f"{'met' if met else 'not met'}")
    where = f"on a GPU ({gpu_name()}; {os.cpu_count()} CPU cores)" if gpu else "on the CPU"
    notes = [f"data: {label}; {epochs} epoch(s) per run, {rounds} interleaved round(s), each run in a fresh process, "
             f"{where}; torch threads default {torch.get_num_threads()}",
             f"core side: conv family d=30 loss=bce, TrainConfig(epochs, batch_size=128): peak lr {TrainConfig().lr:g} held for "
             f"{TrainConfig().lr_decay_from:.0%} of the run then a cosine, fused AdamW, channels_last, "
             "bf16 forward passes where native (a GPU; CPUs with AVX512-BF16 or AMX); "
             "its time includes one validation pass per epoch; it trains on 90% of the split",
             f"plain side: the very same network ({FAMILY} d={LATENT} at core's defaults, core.models, same initial weights; "
             f"layers, shapes and parameter count asserted equal before timing: {params:,} parameters each), "
             "trained by a plain loop: DataLoader, Adam, constant lr 1e-3, float32, all of the split"]
    return PartResult(part_name, title, rows, goals, notes)
