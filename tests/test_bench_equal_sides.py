"""bench part 1 compares the core trainer with a plain loop on the same network (issue 24 item 3a):
the bench asserts equal layers, shapes and parameter counts before it times anything."""

from __future__ import annotations

import pytest
import torch

from bench.common import Options
from bench.models import Logits, assert_same_architecture, core_network
from bench.training_throughput import ONE_THREAD, PLAIN, check_equal_sides, core_model, plain_model, run, sides_on


def test_both_sides_train_the_same_network_from_the_same_weights():
    assert check_equal_sides((1, 28, 28)) == 317_311  # conv d=30 at core's defaults (GELU, one grid conv each side)
    core, plain = core_model((1, 28, 28)), plain_model((1, 28, 28))
    assert all((a == b).all() for a, b in zip(core.parameters(), plain.parameters()))


def test_different_networks_are_refused_naming_the_first_difference():
    with pytest.raises(AssertionError, match="the sides differ"):
        assert_same_architecture(core_network("conv", 30, (1, 28, 28)), Logits(core_network("dense", 30, (1, 28, 28))))


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the part would run for real")
def test_the_gpu_comparison_says_why_it_did_not_run_where_there_is_no_gpu():
    result = run(Options(device="cuda"))
    assert (result.name, result.rows) == ("training_gpu", [])  # its own section: the CPU figures stay
    assert "no GPU" in result.notes[0]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the part would run for real")
def test_the_gpu_run_is_announced_by_its_own_title(capsys):
    from bench.__main__ import main

    assert main(["--part", "training", "--device", "cuda", "--no-write"]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("== 1g.") and "GPU" in header, header


def test_the_gpu_comparison_leaves_out_the_one_thread_side_only():
    assert ONE_THREAD in sides_on("cpu") and ONE_THREAD not in sides_on("cuda")
    assert sides_on("cuda")[0] == PLAIN  # the baseline of every ratio
