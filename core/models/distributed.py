"""Training one model on several processes: torchrun + DistributedDataParallel (DDP).

``torchrun --nproc-per-node=N -m core train ...`` starts N copies of the CLI with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in their environment. Without torchrun
(or with one process) :func:`enabled` is False and nothing here runs: no process group, no DDP
wrapper, the single-process numbers and speed are untouched.

How the work is split (strong scaling: the *same* optimisation problem as one process):

- Every rank draws the same seeded permutation each epoch and walks the same batches of
  ``config.batch_size`` images; each rank trains on its own contiguous share of every batch
  (:func:`share_of`), so across the ranks every training image is seen exactly once per epoch.
  The global batch, the number of steps and the learning-rate schedule are those of one process;
  each rank's loss is weighted so that DDP's average of the ranks' gradients equals the gradient
  of the whole batch's mean loss. A run on N processes is therefore the same model up to
  floating-point summation order, which is why the process count is an execution setting and
  not part of the cache key.
- The batch losses and the validation sums are all-reduced, so every rank holds the same
  history (and all ranks raise ``TrainingDiverged`` at the same step); time budgets use rank 0's
  clock (:func:`from_rank0_value`), so every rank sets the same learning rate and stops at the
  same step.
- The checkpoint cache is rank 0's: it alone takes the per-model file lock, looks the model up,
  evaluates the test split and saves; the other ranks train alongside it and are told its
  answers (:func:`from_rank0`), never waiting on the lock (rank 0 holds it while they train).

Backends: gloo on CPU, nccl (plus gloo for small CPU objects) on CUDA, one GPU per local rank.
torch is imported inside the functions: ``enabled()`` only reads the environment, so the CLI can
ask it without paying for the torch import.
"""

from __future__ import annotations

import atexit
import os
import pickle
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_device = None  # the device collectives of small tensors run on (set by setup)


def world_size() -> int:
    """Number of processes training together (1 without torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank (0 without torchrun)."""
    return int(os.environ.get("RANK", "0"))


def local_rank() -> int:
    """This process's rank on its machine: the GPU it uses."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def enabled() -> bool:
    """Whether this process is one of several started by torchrun (reads the environment only)."""
    return world_size() > 1


def is_main() -> bool:
    """Rank 0: the process that evaluates, writes checkpoints and reports progress."""
    return rank() == 0


def setup() -> bool:
    """Join the process group once (idempotent); return :func:`enabled`.

    On CUDA each process takes the GPU of its local rank and the backend is nccl (gloo for CPU
    objects); on CPU it is gloo. The group is destroyed when the process exits.
    """
    global _device
    if not enabled():
        return False
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank())
            _device = torch.device("cuda", local_rank())
            dist.init_process_group("cpu:gloo,cuda:nccl")
        else:
            _device = torch.device("cpu")
            dist.init_process_group("gloo")
        atexit.register(cleanup)
    return True


def cleanup() -> None:
    """Leave the process group (registered with atexit by :func:`setup`)."""
    import gc

    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        # free DDP wrappers (they sit in reference cycles) while the interpreter is whole: their
        # gloo work torn down during interpreter shutdown can abort the process (SIGABRT)
        gc.collect()
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every rank gets here (no-op for one process)."""
    if setup():
        import torch.distributed as dist

        dist.barrier()


def wrap(model):
    """``model`` in DistributedDataParallel (its parameters start as rank 0's). Call the wrapper
    for forward passes that are trained on; the gradients are averaged across ranks in backward."""
    from torch.nn.parallel import DistributedDataParallel

    setup()
    on_gpu = _device is not None and _device.type == "cuda"
    return DistributedDataParallel(model, device_ids=[_device.index] if on_gpu else None)


def share_of(size: int, rank: int, world: int) -> tuple[slice, float]:
    """This rank's contiguous share of a batch of ``size`` images, and its loss weight.

    Shares differ by at most one image. The weight ``len(share) * world / size`` makes DDP's mean
    of the ranks' gradients equal the gradient of the whole batch's mean loss. When the batch has
    fewer images than there are ranks (a small last batch), a rank left without any gets a
    stand-in image with weight 0: it must still run forward and backward, as DDP expects of
    every rank, but it contributes nothing.
    """
    base, extra = divmod(size, world)
    start = rank * base + min(rank, extra)
    stop = start + base + (1 if rank < extra else 0)
    if stop == start:
        return slice(0, 1), 0.0
    return slice(start, stop), (stop - start) * world / size


def sum_all(values):
    """The element-wise sum over ranks of a float tensor (moved to the collectives' device and back)."""
    import torch.distributed as dist

    setup()
    total = values.detach().to(_device, dtype=values.dtype)
    dist.all_reduce(total)
    return total.to(values.device)


def from_rank0_value(value: float) -> float:
    """Rank 0's ``value`` on every rank (e.g. its clock, so all ranks make the same decision)."""
    import torch
    import torch.distributed as dist

    setup()
    shared = torch.tensor([value], dtype=torch.float64, device=_device)
    dist.broadcast(shared, src=0)
    return float(shared.item())


def from_rank0(work: Callable[[], T]) -> T:
    """Run ``work`` on rank 0 only and return its result on every rank; an exception it raises is
    raised on every rank. One process: just ``work()``.

    This is how the checkpoint cache stays rank 0's (lookups, the writability check, evaluation
    and saving) while the other ranks follow the same path through ``load_or_train``.
    """
    if not setup():
        return work()
    import torch.distributed as dist

    message: list = [None]
    if is_main():
        try:
            message[0] = (True, work())
        except Exception as error:  # noqa: BLE001 - re-raised here and on the other ranks
            message[0] = (False, _picklable(error))
            dist.broadcast_object_list(message, src=0)
            raise
    dist.broadcast_object_list(message, src=0)
    ok, value = message[0]
    if not ok:
        raise value
    return value


def _picklable(error: Exception) -> Exception:
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001 - any failure to round-trip: send its text instead
        return RuntimeError(f"rank 0 failed: {error!r}")
