"""``python -m core analyze ...`` (core/cli/analyze.py)."""

from __future__ import annotations

import json

import pytest

from core.cli import main


def _rows(capsys, argv):
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_error_vs_latent_json(capsys, tmp_path):
    rows = _rows(capsys, ["analyze", "error-vs-latent", "--max-pca-dim", "5", "--json", "--checkpoints", str(tmp_path)])
    assert [r["latent_dim"] for r in rows] == [1, 2, 3, 4, 5] and {r["method"] for r in rows} == {"PCA"}
    assert set(rows[0]) == {"method", "latent_dim", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim"}
    assert rows[0]["test_mse"] > rows[-1]["test_mse"]


def test_embedding_json(capsys, tmp_path):
    rows = _rows(capsys, ["analyze", "embedding", "--methods", "pca", "--json", "--checkpoints", str(tmp_path)])
    assert [(r["method"], r["projection"]) for r in rows] == [("pixels", "pixels-pca"), ("PCA", "code")]
    assert {"method", "latent_dim", "projection", "knn_accuracy", "trustworthiness"} <= set(rows[0])
    assert rows[0]["knn_accuracy"] == rows[1]["knn_accuracy"]  # PCA-2 codes are the pixel-PCA map


def test_denoise_json(capsys, tmp_path):
    rows = _rows(capsys, ["analyze", "denoise", "--methods", "pca", "--noises", "gaussian:0.5,masking:0.3",
                          "--n-images", "100", "--json", "--checkpoints", str(tmp_path)])
    assert [(r["method"], r["noise"], r["level"]) for r in rows] == [
        ("noisy", "gaussian", 0.5), ("PCA", "gaussian", 0.5), ("noisy", "masking", 0.3), ("PCA", "masking", 0.3)]
    assert {"method", "noise", "level", "psnr", "ssim"} == set(rows[0])


def test_rate_distortion_json(capsys, tmp_path):
    rows = _rows(capsys, ["analyze", "rate-distortion", "--methods", "pca", "--bits", "2,8", "--jpeg-qualities", "10,90",
                          "--n-images", "50", "--json", "--checkpoints", str(tmp_path)])
    assert [(r["method"], r["setting"]) for r in rows] == [("PCA", "float32"), ("PCA", "2 bit"), ("PCA", "8 bit"),
                                                           ("JPEG", "q10"), ("JPEG", "q90")]
    assert {"method", "setting", "bits_per_image", "psnr"} <= set(rows[0])
    assert rows[0]["entropy_bits_per_image"] is None  # JSON has no NaN: the unquantised code has no entropy
    assert rows[1]["bits_per_image"] == 16 and rows[-1]["bits_per_image"] > rows[-2]["bits_per_image"]


def test_table_output(capsys, tmp_path):
    assert main(["analyze", "rate-distortion", "--methods", "pca", "--bits", "4", "--jpeg-qualities", "50",
                 "--n-images", "30", "--checkpoints", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "bits_per_image" in out and "JPEG" in out and "4 bit" in out


@pytest.mark.parametrize("argv, message", [
    (["analyze", "embedding", "--projections", "umap"], "projections must be from"),
    (["analyze", "denoise", "--noises", "gaussian:9"], "out of range"),
    (["analyze", "rate-distortion", "--jpeg-qualities", "100"], "between 1 and 95"),
    (["analyze", "embedding", "--methods", "pca,nope"], "unknown method"),
    (["analyze"], "required"),
])
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_impossible_latent_size_is_a_usage_error(capsys, tmp_path):
    assert main(["analyze", "embedding", "--methods", "pca", "--latent-dim", "100", "--checkpoints", str(tmp_path)]) == 2
    assert "latent size 100 is more than the 64 numbers" in capsys.readouterr().err


@pytest.mark.slow
def test_autoencoders_are_trained_once_then_cached(capsys, tmp_path):
    argv = ["analyze", "denoise", "--methods", "conv", "--latent-dim", "2", "--epochs", "1", "--limit", "100",
            "--noises", "gaussian:0.5", "--n-images", "50", "--json", "--checkpoints", str(tmp_path)]
    rows = _rows(capsys, argv)
    assert [r["method"] for r in rows] == ["noisy", "conv", "conv denoising"]
    assert len([p for p in tmp_path.iterdir() if not p.name.startswith(".")]) == 2  # a plain and a denoising model
    assert _rows(capsys, argv) == rows  # the second run loads them: same numbers
    curve = _rows(capsys, ["analyze", "error-vs-latent", "--methods", "conv", "--max-pca-dim", "2", "--limit", "100",
                           "--epochs", "1", "--json", "--checkpoints", str(tmp_path)])
    assert [(r["method"], r["latent_dim"]) for r in curve] == [("PCA", 1), ("PCA", 2), ("conv", 2)]  # the cached one
