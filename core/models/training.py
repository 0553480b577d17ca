"""One training loop for every autoencoder.

Read it top to bottom: the whole training split lives in one tensor on the training device (no
per-item DataLoader work for MNIST-sized data; a dataset's uint8 images stay uint8 there and each
batch is converted to float as it is drawn, so MNIST holds 47 MB instead of 188), each epoch is a
seeded permutation sliced into batches, some images are mirrored left-right when ``config.mirror``
asks and moved a few pixels when ``config.shift`` does, inputs are corrupted when training a denoiser, and the
model's own ``loss`` is minimised with AdamW, the learning rate at its peak for most of the run and then
taken down by a cosine (:func:`scheduled_lr`). The trainer knows nothing about
the model's family; progress leaves through a callback (the CLI passes a progress bar, the dashboard
passes ``st.progress``).

Speed (measured in ``bench/``): convolutional models and their data are put in channels_last
layout (oneDNN's fast path on CPU), their forward passes run in bfloat16 autocast where the device
computes it natively (``TrainConfig.precision``; weights, gradients and evaluation stay float32), the
optimiser is the fused AdamW kernel, the C allocator keeps the step's buffers instead of mapping
them afresh at every step (``core.models.allocator``), and
``config.threads`` can pin the CPU thread count for the run (1 is much faster when other processes
share a 2-core machine: spinning OpenMP threads then wait on each other).

Several processes (torchrun): each rank trains on its share of every batch through a
DistributedDataParallel wrapper; losses, validation sums and the clock are shared so every rank
keeps the same history and stops at the same step. The hooks are marked ``# DDP:``; with one
process they are skipped. See ``core/models/distributed.py``.

Watching it learn: a callback that is also a :class:`StepObserver` (``core.learning.MomentRecorder``)
is asked at every optimizer step whether it wants to look, and shown the model at the steps it chose
(step 0 before any update, and the last step whatever its schedule). The loop knows nothing of what
it keeps; the time it spends looking is left out of the training clock, so a time budget buys the
same training with or without it.

Time budgets: the clock counts optimizer steps only (validation passes and observers are left out, as
is the setup before the first step: moving the data, building the optimizer, which imports
``torch._dynamo`` in the first training of a process, ~5 s on a busy 2-core machine), and the loop
stops at the step boundary nearest the budget, so it trains within half a step of it. How many steps
that buys depends on the machine: each epoch's stats carry the steps taken, and the checkpoint's
record names them (``ModelRecord.steps``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from core.config import FIELD, ConfigError, TrainConfig
from core.data.mirror import mirror_some
from core.data.noise import corrupt
from core.data.pixels import Pixels
from core.data.shift import shift_some
from core.errors import TrainingDiverged
from core.models import distributed
from core.models.allocator import training_allocator
from core.models.base import Autoencoder

MIN_LR_FRACTION = 0.02  # the schedule ends at 2% of the peak learning rate
EVAL_BATCH = 1024  # images per forward pass when evaluating (memory, not maths: ~40 MB of conv activations)


@dataclass
class EpochStats:
    """What the callback receives after every epoch."""

    epoch: int  # 1-based
    epochs: int | None  # planned epochs (None when training to a time budget)
    train_loss: float  # mean training loss over the epoch (the model's full objective)
    val_loss: float  # same objective on the held-out validation images
    val_mse: float  # per-pixel MSE of clean reconstructions on the validation images
    lr: float  # learning rate at the end of the epoch
    seconds: float  # the training clock: time spent in optimizer steps (validation and observers left out)
    progress: float  # 0..1 share of the planned epochs or of the time budget
    steps: int = 0  # optimizer steps taken so far (what a time budget bought)

    def to_dict(self) -> dict:
        return asdict(self)


ProgressCallback = Callable[[EpochStats], None]


@dataclass(frozen=True)
class StepState:
    """What a :class:`StepObserver` is shown at one optimizer step.

    ``model`` is the module being trained (never the DDP wrapper), in training mode and possibly in
    channels_last layout: an observer may run it (in eval mode, without gradients) but must leave it,
    its mode and every random generator as it found them, so a watched training is the same training.
    """

    step: int  # optimizer steps taken so far: 0 is the initialised model, before any update
    epoch: float  # step / steps per epoch (fractional)
    seconds: float  # the training clock (time spent observing left out)
    total_steps: int | None  # planned steps; None when training to a time budget (unknown in advance)
    last: bool  # True for the final state, shown once after the last step whatever the schedule
    model: Autoencoder


@runtime_checkable
class StepObserver(Protocol):
    """A progress callback that also looks at the model at steps of its choosing (minGPT-style hooks:
    the loop asks, the observer decides; see ``core.learning.MomentRecorder``)."""

    def __call__(self, stats: EpochStats) -> None: ...

    def wants(self, step: int, total_steps: int | None) -> bool:
        """Cheap: whether to be shown the model after ``step`` optimizer steps (asked at every step)."""
        ...

    def observe(self, state: StepState) -> None: ...


def pick_device() -> torch.device:
    """CUDA when present, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) from a seeded permutation of ``range(n)``."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * fraction)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def budget_spent(elapsed: float, steps: int, budget: float) -> bool:
    """Whether to stop after ``steps`` steps that took ``elapsed`` seconds: when one more step of the
    mean length would end farther past ``budget`` than now falls short of it, so the training ends at
    the step boundary nearest the budget (within half a step of it, not up to a whole step past)."""
    return elapsed + 0.5 * elapsed / max(steps, 1) >= budget


def scheduled_lr(base_lr: float, progress: float, decay_from: float = 0.0) -> float:
    """The learning rate at ``progress`` (0 -> 1): ``base_lr`` until ``decay_from``, then a cosine from
    ``base_lr`` down to ``MIN_LR_FRACTION * base_lr`` at the end ("stable, then decay").

    Why not a cosine all the way: in the short runs this product makes (a few epochs, a time budget of
    minutes) a cosine spends most of the run below its peak. Held at the peak, the model learns faster,
    and the short decay at the end still settles it (bench/NOTES.md part 2b).
    """
    progress = min(max(progress, 0.0), 1.0)
    if progress <= decay_from:
        return base_lr
    floor = MIN_LR_FRACTION * base_lr
    return floor + 0.5 * (base_lr - floor) * (1 + math.cos(math.pi * (progress - decay_from) / (1 - decay_from)))


# AdamW's second-moment decay: 0.99 rather than torch's 0.999 adapts the step sizes faster in these short
# runs (a conv d=30 on MNIST after 3 epochs: lower test error on each of 3 seeds, by 0.15-0.27 SSE per image)
BETAS = (0.9, 0.99)


def make_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with the fused kernel where torch has one for the device (fewer passes over weights)."""
    try:
        return torch.optim.AdamW(model.parameters(), lr=config.lr, betas=BETAS, weight_decay=config.weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(model.parameters(), lr=config.lr, betas=BETAS, weight_decay=config.weight_decay, foreach=True)


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 natively: a GPU that supports it, or a CPU with AVX512-BF16
    or AMX (where oneDNN's bf16 convolutions are faster than float32; elsewhere they are emulated)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "").split()
    except OSError:  # not Linux: float32
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device: torch.device, precision: str, convolutional: bool = True) -> torch.dtype | None:
    """The dtype of the forward pass's autocast for ``TrainConfig.precision`` on ``device`` (None: float32).

    'auto' casts only convolutional models: their bf16 convolutions are what is faster (a conv d=30
    on MNIST: 0.79x the time per epoch); for a small dense model the casts cost more than they save
    (dense d=2 on digits: 1.6-1.8x the time)."""
    if precision == "bf16" or (precision == "auto" and convolutional and native_bf16(device)):
        return torch.bfloat16
    return None


def uses_convolutions(model: torch.nn.Module) -> bool:
    """Whether ``model`` has 2-D (transposed) convolutions: those run faster in channels_last."""
    return any(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in model.modules())


def to_channels_last(model: torch.nn.Module, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Put a convolutional model and its 4-D image tensors in channels_last layout (in place for
    the model). Values are unchanged; only the memory order is, so inputs in either layout work."""
    model.to(memory_format=torch.channels_last)
    return tuple(t.contiguous(memory_format=torch.channels_last) for t in tensors)


def images_on(device: torch.device, images: np.ndarray | Pixels) -> tuple[torch.Tensor, float | None]:
    """The images as one tensor on ``device``, moved once: a :class:`Pixels` view as its uint8 storage
    with the scale that turns it into [0, 1] (see :func:`as_floats`), anything else as float32 (scale None)."""
    if isinstance(images, Pixels):
        return torch.from_numpy(images.raw).to(device), images.scale
    return torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).to(device), None


def as_floats(batch: torch.Tensor, scale: float | None, layout: torch.memory_format) -> torch.Tensor:
    """A batch of :func:`images_on`'s tensor as float32 in [0, 1], in ``layout``, on its device."""
    floats = batch if scale is None else batch.to(torch.float32).div_(scale)
    return floats.contiguous(memory_format=layout)


@torch.inference_mode()
def evaluate(model: Autoencoder, images: torch.Tensor, inputs: torch.Tensor) -> tuple[float, float]:
    """(objective, per-pixel MSE of reconstructions) of ``model`` on ``inputs`` vs clean ``images``."""
    was_training = model.training
    model.eval()
    total_loss = total_se = 0.0
    for start in range(0, len(images), EVAL_BATCH):
        target = images[start:start + EVAL_BATCH]
        out = model(inputs[start:start + EVAL_BATCH])
        loss, _ = model.loss(out, target)
        total_loss += loss.item() * len(target)
        # in eval mode every family's forward pass decodes its code (the VAE its mean), so its logits are
        # decode(code)'s: no second pass through the decoder (it was a third of a validation's time)
        total_se += (model.to_images(out["logits"]) - target).pow(2).sum().item()
    model.train(was_training)
    return total_loss / len(images), total_se / images.numel()


def train(
    model: Autoencoder,
    images: np.ndarray,
    config: TrainConfig,
    callback: ProgressCallback | None = None,
    device: torch.device | None = None,
) -> list[dict]:
    """Train ``model`` in place on ``images`` and return the per-epoch history.

    Parameters
    ----------
    model : Autoencoder
        Any family from ``core.models``.
    images : np.ndarray or Pixels, shape (N, C, H, W), float32 in [0, 1]
        The training split; ``config.val_fraction`` of it is held out for the validation curve. A
        dataset's :class:`~core.data.pixels.Pixels` view is moved to the device as uint8 and converted per batch.
    config : TrainConfig
    callback : callable, optional
        Called with an :class:`EpochStats` after every epoch. An exception raised in it stops
        training (that is how a user cancels). One that is also a :class:`StepObserver` is shown the
        model at step 0, at the steps it ``wants`` and after the last step (rank 0 only under torchrun).
    device : torch.device, optional
        Defaults to CUDA when present, else CPU.

    Returns
    -------
    list of dict
        One :class:`EpochStats` dict per epoch.

    Raises
    ------
    TrainingDiverged
        When the loss becomes NaN or infinite (try a lower learning rate).
    ConfigError
        When ``config.shift`` would move the images by their whole size or more.
    """
    if config.shift and config.shift >= min(images.shape[-2:]):
        raise ConfigError(f"{FIELD} {config.shift} moves images by up to {config.shift} px, which needs images larger "
                          f"than that; these are {images.shape[-2]}x{images.shape[-1]} px: choose a smaller {FIELD}", "shift")
    distributed.setup()  # DDP: joins the process group under torchrun (before picking the GPU)
    device = device or pick_device()
    threads_before = torch.get_num_threads()
    if config.threads:
        torch.set_num_threads(config.threads)
    try:
        with training_allocator():  # the C heap keeps the step's buffers (bench/NOTES.md part 1b)
            return _train(model, images, config, callback, device)
    finally:
        torch.set_num_threads(threads_before)


def _train(model, images, config, callback, device) -> list[dict]:
    ddp = distributed.enabled()  # DDP: False for one process, and then every `if ddp` is skipped
    rank, world = distributed.rank(), distributed.world_size()
    generator = torch.Generator().manual_seed(config.seed)
    train_idx, val_idx = split_validation(len(images), config.val_fraction, config.seed)
    data, scale = images_on(device, images)  # moved once; uint8 stays uint8 until a batch is drawn
    layout = torch.channels_last if uses_convolutions(model) and data.ndim == 4 else torch.contiguous_format
    x_train, x_val = data[train_idx], as_floats(data[val_idx], scale, layout)
    del data
    # a fixed corruption of the validation images, so the validation curve measures denoising
    val_inputs = corrupt(x_val, config.noise, torch.Generator().manual_seed(config.seed + 1)) if config.noise else x_val

    model.to(device).train()
    if layout == torch.channels_last:
        to_channels_last(model)
    net = distributed.wrap(model) if ddp else model  # DDP: trained forward passes go through the wrapper
    optimizer = make_optimizer(model, config)
    # bf16 forward passes for conv models where native; weights, gradients and evaluation stay fp32
    cast = autocast_dtype(device, config.precision, convolutional=layout == torch.channels_last)
    n, batch = len(x_train), min(config.batch_size, len(x_train))
    steps_per_epoch = math.ceil(n / batch)
    budget = config.time_budget
    total_steps = config.epochs * steps_per_epoch
    history: list[dict] = []
    # the observer that watches it learn (rank 0 only: the others wait for it at the next collective)
    observer = callback if isinstance(callback, StepObserver) and distributed.is_main() else None
    timer = time.perf_counter  # the training clock (tests replace this module's ``time`` with a fake one)
    paused = 0.0  # seconds spent validating, reporting and in the observer: not training time
    start = timer()

    def clock() -> float:  # training seconds since start; DDP: rank 0's, so all ranks set the same lr and stop together
        elapsed = timer() - start - paused
        return distributed.from_rank0_value(elapsed) if ddp else elapsed

    def off_the_clock(work: Callable[[], object]) -> object:
        """``work()``, its time left out of the training clock (a budget buys the same steps without it)."""
        nonlocal paused
        begin = timer()
        try:
            return work()
        finally:
            paused += timer() - begin

    def show(step: int, last: bool = False) -> None:
        state = StepState(step, step / steps_per_epoch, timer() - start - paused, None if budget else total_steps, last, model)
        off_the_clock(lambda: observer.observe(state))

    if observer is not None:
        show(0)
    step, epoch = 0, 0
    while True:
        epoch += 1
        order = torch.randperm(n, generator=generator).to(device)
        epoch_loss = 0.0
        for first in range(0, n, batch):
            progress = clock() / budget if budget else step / total_steps
            lr = scheduled_lr(config.lr, progress, config.lr_decay_from)
            for group in optimizer.param_groups:
                group["lr"] = lr
            target = as_floats(x_train[order[first:first + batch]], scale, layout)
            if config.mirror:  # drawn for the whole batch (DDP: before the split, keeping generators in step)
                target = mirror_some(target, generator)
            if config.shift:  # the same
                target = shift_some(target, config.shift, generator)
            size = len(target)  # images in the whole batch (all ranks together)
            inputs = corrupt(target, config.noise, generator) if config.noise else target
            if ddp:  # DDP: train on this rank's share (noise was drawn for the whole batch, keeping generators in step)
                share, weight = distributed.share_of(size, rank, world)
                target, inputs = target[share], inputs[share]
            with torch.autocast(device.type, dtype=cast or torch.float32, enabled=cast is not None):
                loss, _ = model.loss(net(inputs), target)
            loss = loss.float()
            # DDP: the whole batch's mean loss, the same on every rank (so all ranks raise together)
            batch_loss = distributed.sum_all(loss.detach() * (len(target) * (weight > 0) / size)) if ddp else loss
            if not torch.isfinite(batch_loss):
                raise TrainingDiverged(
                    f"loss became {batch_loss.item()} at epoch {epoch}, step {step}: nothing was saved. "
                    f"Try a lower learning rate (now {config.lr}) or the mse loss."
                )
            optimizer.zero_grad(set_to_none=True)
            (loss * weight if ddp else loss).backward()  # DDP: weighted so the ranks' mean gradient is the batch's
            optimizer.step()
            epoch_loss += batch_loss.item() * size
            step += 1
            if observer is not None and observer.wants(step, None if budget else total_steps):
                show(step)
            if budget and budget_spent(clock(), step, budget):
                break
        val_loss, val_mse = off_the_clock(
            lambda: _validate(model, x_val, val_inputs, rank, world) if ddp else evaluate(model, x_val, val_inputs))
        elapsed = clock()
        if budget:  # the last epoch's progress is 1 even when it stopped half a step short of the budget
            done = budget_spent(elapsed, step, budget)
            progress = 1.0 if done else min(1.0, elapsed / budget)
        else:
            done, progress = epoch >= config.epochs, epoch / config.epochs
        stats = EpochStats(
            epoch=epoch,
            epochs=None if budget else config.epochs,
            train_loss=epoch_loss / min(n, (first + batch)),
            val_loss=val_loss,
            val_mse=val_mse,
            lr=lr,
            seconds=elapsed,
            progress=progress,
            steps=step,
        )
        history.append(stats.to_dict())
        if callback is not None and distributed.is_main():  # DDP: progress is reported by rank 0 only
            off_the_clock(partial(callback, stats))  # a progress bar or a page's job is not training either
        if done:
            break
    if observer is not None:
        show(step, last=True)
    model.eval().to(memory_format=torch.contiguous_format)  # callers get the usual layout back
    return history


def _validate(model: Autoencoder, images: torch.Tensor, inputs: torch.Tensor, rank: int, world: int) -> tuple[float, float]:
    """DDP: :func:`evaluate` on this rank's share of the validation images, summed over the ranks,
    so every rank gets the numbers one process would compute on all of them."""
    share, weight = distributed.share_of(len(images), rank, world)
    loss, mse = evaluate(model, images[share], inputs[share])
    count = len(images[share]) if weight else 0
    mine = torch.tensor([loss * count, mse * count * images[0].numel(), count], dtype=torch.float64)
    total_loss, total_se, total = distributed.sum_all(mine).tolist()
    return total_loss / total, total_se / (total * images[0].numel())
