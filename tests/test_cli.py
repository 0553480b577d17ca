"""The CLI as a user types it: JSON output, the cache, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args, env_extra=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_train_then_cached(tmp_path, capsys):
    args = ["train", "--model", "dense", "--latent-dim", "2", "--epochs", "2", "--limit", "200",
            "--checkpoints", str(tmp_path), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["cached"] is False and first["latent_dim"] == 2 and first["dataset"] == "digits"
    for key in ("checkpoint", "train_seconds", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim"):
        assert key in first
    # the optimizer steps' seconds (what a --time-budget counts) are a part of the whole fit's
    assert 0 < first["step_seconds"] <= first["train_seconds"] and first["steps"] == 2 * 3  # 2 epochs of 3 batches (180 images, batch 64)
    assert Path(first["checkpoint"]).parent == tmp_path
    assert main(args) == 0
    second = json.loads(capsys.readouterr().out)
    assert second["cached"] is True and second["test_mse"] == first["test_mse"]


def test_compare_lists_pca_and_autoencoders(tmp_path, capsys):
    assert main(["compare", "--methods", "pca,dense", "--latent-dims", "2,3", "--epochs", "2", "--limit", "200",
                 "--checkpoints", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["method"], r["latent_dim"]) for r in rows] == [("PCA", 2), ("dense", 2), ("PCA", 3), ("dense", 3)]
    assert rows[2]["test_mse"] < rows[0]["test_mse"]  # more components, less error


def test_list_shows_cached_models(tmp_path, capsys):
    main(["train", "--epochs", "1", "--limit", "100", "--checkpoints", str(tmp_path), "--json"])
    capsys.readouterr()
    assert main(["list", "--checkpoints", str(tmp_path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["model"] == "dense"


@pytest.mark.parametrize("args, fragment", [
    (["train", "--model", "transformer"], "invalid choice"),
    (["train", "--latent-dim", "two"], "--latent-dim must be a whole number"),
    (["compare", "--latent-dims", "2,x"], "comma-separated integers"),
    (["compare", "--methods", "pca,gan"], "unknown method"),
    (["train", "--noise", "speckle:0.1"], "noise kind"),
    (["train", "--dataset", "cifar"], "unknown dataset"),
    (["train", "--latent-dim", "0", "--epochs", "1"], "--latent-dim"),
    (["frobnicate"], "invalid choice"),
    (["train", "--seed", "-5", "--epochs", "1"], "--seed"),
    (["train", "--model", "vae", "--beta", "inf", "--epochs", "1"], "--beta"),
    (["train", "--model", "vae", "--beta", "nan", "--epochs", "1"], "--beta"),
    (["train", "--lr", "nan", "--epochs", "1"], "--lr"),
    (["train", "--latent-dim", "100000", "--epochs", "1"], "between 1 and 64"),
    (["train", "--shift", "20", "--epochs", "1"], "--shift must be a whole number of pixels from 0 to 16"),
    (["train", "--shift", "8", "--epochs", "1"], "--shift 8 moves images by up to 8 px, which needs images larger than that; "
                                                 "these are 8x8 px: choose a smaller --shift"),
])
def test_bad_input_exits_2_with_one_line(args, fragment, tmp_path):
    result = run_cli(*args, "--checkpoints", str(tmp_path)) if args[0] != "frobnicate" else run_cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_dataset_is_a_message_not_a_traceback(tmp_path):
    result = run_cli("train", "--dataset", "mnist", "--data-dir", str(tmp_path), "--checkpoints", str(tmp_path / "c"),
                     env_extra={"no_proxy": "*", "https_proxy": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert "MNIST" in result.stderr and "--data-dir" in result.stderr and "Traceback" not in result.stderr


def test_checkpoints_pointing_at_a_file_fail_before_training(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    result = run_cli("train", "--epochs", "50", "--checkpoints", str(blocker))
    assert result.returncode == 1 and "cannot be written" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_collapsed_model_is_said_so_and_marked(tmp_path, capsys):
    assert main(["train", "--model", "conv", "--lr", "0.999", "--epochs", "3", "--checkpoints", str(tmp_path), "--json"]) == 0
    captured = capsys.readouterr()
    row = json.loads(captured.out)
    assert row["collapsed"] is True and row["test_mse"] >= 0.95 * row["mean_image_mse"]
    assert "no better than drawing the mean training image" in captured.err and "--lr 0.005" in captured.err
    assert main(["list", "--checkpoints", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["collapsed"] is True


def test_list_survives_a_broken_record_and_clean_removes_leftovers(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--limit", "100", "--checkpoints", str(tmp_path), "--json"]) == 0
    capsys.readouterr()
    (tmp_path / "dense-digits-d9-000000000000").mkdir()
    (tmp_path / "dense-digits-d9-000000000000" / "record.json").write_text("[]")
    (tmp_path / ".dense-digits-d2-1.v-0123456789ab").mkdir()
    assert main(["list", "--checkpoints", str(tmp_path), "--json"]) == 0
    out = capsys.readouterr()
    assert len(json.loads(out.out)) == 1
    assert "skipped dense-digits-d9-000000000000" in out.err and "python -m core clean" in out.err
    assert main(["clean", "--checkpoints", str(tmp_path)]) == 0
    assert "removed 1 leftover" in capsys.readouterr().out
    assert not (tmp_path / ".dense-digits-d2-1.v-0123456789ab").exists()


def test_help_on_every_command():
    for command in ("train", "compare", "zoo", "list", "clean"):
        result = run_cli(command, "--help")
        assert result.returncode == 0 and "usage: python -m core" in result.stdout


def test_channels_choose_a_wider_conv_model_with_its_own_cache_entry(tmp_path, capsys):
    from core.store.checkpoints import CheckpointStore

    common = ["train", "--model", "conv", "--latent-dim", "2", "--epochs", "1", "--limit", "100",
              "--checkpoints", str(tmp_path), "--json"]
    main([*common])
    main([*common, "--channels", "8,24"])
    capsys.readouterr()
    channels = sorted(r.model.channels for r in CheckpointStore(tmp_path).list().records)
    assert channels == [(8, 24), (32, 64)]


def test_train_builds_the_defaults_of_the_images_size_band(tmp_path, capsys):
    """28 px: the conv family gets two grid convolutions at a peak rate of 2e-3 (and, on colour images, mirror
    images and shifts of up to 2 px), dense keeps 5e-3; 40 px: no grid convolution, mirror images and shifts of up to
    4 px for conv, every family at 2e-3. A flag still wins."""
    from PIL import Image

    from core.store.checkpoints import CheckpointStore

    for label in ("a", "b"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for i in range(12):
            Image.new("RGB", (40, 40), (40 * i, 90, 200 if label == "a" else 20)).save(tmp_path / "images" / label / f"{i}.png")

    def trained(size: int, *flags: str, rgb: bool = True) -> list:
        folder = tmp_path / f"ck{size}{rgb}"
        common = ["train", "--dataset", f"folder:{tmp_path / 'images'}", "--image-size", str(size), *(["--rgb"] if rgb else []),
                  "--latent-dim", "2", "--epochs", "1", "--checkpoints", str(folder), "--json"]
        for args in (["--model", "conv"], ["--model", "conv", *flags], ["--model", "dense"]):
            assert main([*common, *args]) == 0
        capsys.readouterr()
        return sorted((r.model.family, r.model.grid_convs, r.train.lr, r.train.mirror, r.train.shift)
                      for r in CheckpointStore(folder).list().records)

    assert trained(40, "--grid-convs", "1", "--no-mirror", "--shift", "0") == [
        ("conv", 0, 2e-3, True, 4), ("conv", 1, 2e-3, False, 0), ("dense", 0, 2e-3, False, 0)], \
        "40 px: no grid convolution, mirror images and shifts by default for conv, the flags change them; every family at 2e-3"
    assert trained(28, "--lr", "0.005", rgb=False) == [
        ("conv", 2, 2e-3, False, 0), ("conv", 2, 5e-3, False, 0), ("dense", 0, 5e-3, False, 0)], \
        "28 px grey (MNIST's kind): two grid convolutions at 2e-3 for conv, --lr still wins, dense keeps 5e-3"
    assert trained(28, "--no-mirror") == [("conv", 2, 2e-3, False, 2), ("conv", 2, 2e-3, True, 2), ("dense", 0, 5e-3, False, 0)], \
        "28 px colour (CIFAR-10's kind): mirror images and shifts of up to 2 px for conv as well, the flag turns mirror off"


