"""The C allocator's settings while a model trains (glibc only; elsewhere nothing changes).

Why: a training step frees and allocates the same few activation and gradient buffers, 0.1-13 MB
each, hundreds of times a second. With glibc's defaults many of them are mapped from the kernel and
unmapped again at every step, and the top of the heap is given back whenever 128 KB of it is free:
each step then pays page faults on fresh memory. On 2 cores a plain float32 PyTorch loop ran at 0.57x
the speed it has with both thresholds raised (a conv d=30 on MNIST: 2,875 against 5,032 images/s, the
same process and steps), and this trainer at 0.86x (3,872 against 4,497, with 1.5 M page faults
against 0.5 M; bench/NOTES.md part 1b). Raising either threshold alone did not help.

So :func:`training_allocator` raises both for the duration of a training (buffers up to 64 MB come
from the heap and 256 MB of free heap may stay with the process), and afterwards leaves the
thresholds where glibc's own adaptive mode ends up on such a process (32 MB mapped, 64 MB kept) and
gives the free memory back (``malloc_trim``). The settings are process-wide: trainings that overlap
(two dashboard jobs) share them, and the last one to finish restores them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# mallopt parameter numbers from glibc's malloc.h
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MIB = 1 << 20
TRAINING = {M_MMAP_THRESHOLD: 64 * MIB, M_TRIM_THRESHOLD: 256 * MIB}
AFTER = {M_MMAP_THRESHOLD: 32 * MIB, M_TRIM_THRESHOLD: 64 * MIB}  # glibc's adaptive maximum: 32 MB, trim at twice that

_lock = threading.Lock()
_active = 0


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt, libc.malloc_trim  # noqa: B018 - raises AttributeError on musl, macOS, Windows
    except (OSError, AttributeError, TypeError):
        return None
    return libc


_LIBC = _glibc()


def apply(settings: dict[int, int]) -> bool:
    """Set each mallopt parameter in ``settings``; False when this C library cannot (nothing changed)."""
    if _LIBC is None:
        return False
    return all(_LIBC.mallopt(ctypes.c_int(param), ctypes.c_int(value)) == 1 for param, value in settings.items())


@contextmanager
def training_allocator() -> Iterator[bool]:
    """Raise the allocator's thresholds while the block runs (see the module's docstring); yields
    whether they could be set (False off glibc, where the block runs unchanged)."""
    global _active
    with _lock:
        _active += 1
        changed = apply(TRAINING) if _active == 1 else _LIBC is not None
    try:
        yield changed
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _LIBC is not None:
                apply(AFTER)
                _LIBC.malloc_trim(ctypes.c_size_t(0))
