"""The C allocator while a model trains: a step's buffers are reused, not mapped afresh each step."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from core.models import allocator

glibc_only = pytest.mark.skipif(allocator._LIBC is None, reason="mallopt is glibc's")

# In a fresh process: where a 40 MB buffer (a large activation) lives, by glibc's own count of mapped
# chunks (mallinfo2().hblks), with glibc's defaults and inside the training block; and the resident
# memory once the block has ended and its buffers are gone.
WHERE = textwrap.dedent("""
    import ctypes, json
    import numpy as np
    from core.models.allocator import training_allocator

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2

    def mapped_while_alive(size=40 << 20):
        before = libc.mallinfo2().hblks
        buffer = np.ones(size, dtype=np.uint8)
        mapped = libc.mallinfo2().hblks - before
        del buffer
        return mapped

    def rss_mb():
        return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

    plain = [mapped_while_alive() for _ in range(3)]
    with training_allocator() as changed:
        training = [mapped_while_alive() for _ in range(3)]
        held = [np.ones(8 << 20, dtype=np.uint8) for _ in range(20)]  # 160 MB of 8 MB buffers on the heap
        del held
    print(json.dumps({"changed": changed, "plain": plain, "training": training, "rss_after": rss_mb()}))
""")


@glibc_only
def test_a_training_keeps_large_buffers_on_the_heap_and_gives_the_memory_back_after():
    out = subprocess.run([sys.executable, "-c", WHERE], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["changed"] is True
    # glibc's defaults map a 40 MB buffer from the kernel at every allocation (and unmap it at every free)
    assert result["plain"] == [1, 1, 1]
    # while training it comes from the heap, whose pages stay with the process from one step to the next
    assert result["training"] == [0, 0, 0]
    # and when the training ends the free heap goes back to the system (malloc_trim): the 160 MB are not kept
    assert result["rss_after"] < 120


def test_overlapping_trainings_restore_the_settings_once_the_last_one_ends(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr(allocator, "apply", lambda settings: calls.append(settings) or True)
    monkeypatch.setattr(allocator, "_LIBC", type("Libc", (), {"malloc_trim": staticmethod(lambda pad: 1)})())
    with allocator.training_allocator():
        with allocator.training_allocator():
            pass
        assert calls == [allocator.TRAINING]  # the second training neither set nor restored anything
    assert calls == [allocator.TRAINING, allocator.AFTER]


def test_without_glibc_training_runs_unchanged(monkeypatch):
    monkeypatch.setattr(allocator, "_LIBC", None)
    with allocator.training_allocator() as changed:
        assert changed is False
    assert allocator.apply(allocator.TRAINING) is False
