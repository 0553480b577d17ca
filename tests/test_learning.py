"""Learning moments (core.learning): kept at the promised steps by the training callback, saved with
the checkpoint and reloaded identically, in one 2-D frame; the linear family's principal angles to
PCA; ``python -m core analyze learning``'s rows; the zoo's linear models and their recipe."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.cli import main
from core.config import DataConfig, TrainConfig
from core.data.datasets import Dataset, ImageSet
from core.errors import CheckpointError
from core.learning import (
    MOMENTS_FILE,
    MomentRecorder,
    has_moments,
    load_moments,
    on_open_grid,
    planned_steps,
    principal_angles_deg,
    read_moments,
    stable_views,
    write_moments,
)
from core.models.methods import build_reducer, default_model_config
from core.store.trained import load_or_train
from core.store.zoo import LINEAR_BATCH, LINEAR_EPOCHS_FACTOR, LINEAR_LR, default_zoo, zoo_train_config

FIELDS = ("steps", "epochs", "seconds", "sample_index", "sample_labels", "codes", "views_2d", "recon_index",
          "reconstructions", "sample_mse", "angles_deg")


def steps_of(dataset, train: TrainConfig) -> int:
    """Optimizer steps of a training by epochs (as the loop counts them: 10 % held out for validation)."""
    n_train = len(dataset.train) - max(1, round(len(dataset.train) * train.val_fraction))
    return train.epochs * math.ceil(n_train / min(train.batch_size, n_train))


def recorded(dataset, family: str, latent_dim: int, train: TrainConfig):
    recorder = MomentRecorder.for_dataset(dataset)
    reducer = build_reducer(default_model_config(family, latent_dim), train, recorder).fit(dataset.train.images)
    return reducer, recorder.moments()


# --- the schedule -------------------------------------------------------------------------------
@pytest.mark.parametrize("total", [0, 5, 23, 24, 100, 1348, 3375, 10**6])
def test_planned_steps_start_at_zero_end_at_the_last_step_and_are_log_spaced(total):
    steps = planned_steps(total)
    assert steps[0] == 0 and steps[-1] == total and len(steps) == min(24, total + 1)
    assert np.all(np.diff(steps) > 0)
    if total >= 1000:  # spaced on a log scale: as many moments in the first tenth of the steps as after it
        assert (steps[1:] <= total // 10).sum() >= 0.3 * len(steps)


def test_the_open_grid_of_a_time_budget_has_ten_steps_a_decade():
    grid = [s for s in range(1, 10_001) if on_open_grid(s)]
    assert grid[:12] == [1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25]
    assert len([s for s in grid if s <= 400]) >= 23 and grid[-1] == 10_000


# --- recording through the callback -------------------------------------------------------------
def test_moments_are_kept_at_the_planned_steps_and_passed_on_progress(small_digits):
    train = TrainConfig(epochs=3, batch_size=64, seed=0, threads=1)
    seen = []
    recorder = MomentRecorder.for_dataset(small_digits, progress=seen.append)
    build_reducer(default_model_config("dense", 2), train, recorder).fit(small_digits.train.images)
    moments = recorder.moments()
    total = steps_of(small_digits, train)
    assert moments.steps.tolist() == planned_steps(total).tolist()
    assert len(seen) == 3 and seen[-1].epoch == 3  # the progress callback it wraps still gets every epoch
    assert moments.epochs[-1] == pytest.approx(3.0) and np.all(np.diff(moments.seconds) >= 0)
    n_test = len(small_digits.test)
    assert moments.codes.shape == (len(moments), n_test, 2) and moments.views_2d.shape == (len(moments), n_test, 2)
    assert moments.reconstructions.shape == (len(moments), 8, 1, 8, 8)
    assert sorted(small_digits.test.labels[moments.recon_index].tolist()) == list(range(8))  # one image per class
    assert moments.sample_mse[-1] < moments.sample_mse[0]  # it learnt
    assert moments.angles_deg is None and moments.pca_sample_mse is None  # not a linear decoder
    np.testing.assert_array_equal(moments.views_2d, moments.codes)  # a 2-D code is its own map


def test_a_time_budget_keeps_steps_of_the_open_grid_and_the_last_step(small_digits):
    recorder = MomentRecorder.for_dataset(small_digits)
    reducer = build_reducer(default_model_config("dense", 2), TrainConfig(time_budget=0.6, threads=1), recorder)
    reducer.fit(small_digits.train.images)
    steps = recorder.moments().steps.tolist()
    assert steps[0] == 0 and all(on_open_grid(s) for s in steps[1:-1]) and len(steps) >= 5


def test_watching_does_not_change_the_training(small_digits):
    """The recorder runs the model in eval mode without gradients and draws no random numbers."""
    train = TrainConfig(epochs=2, batch_size=64, seed=3, threads=1)
    for family in ("vae", "linear"):  # the VAE samples while training: its generator must be left alone
        model = default_model_config(family, 2)
        plain = build_reducer(model, train).fit(small_digits.train.images)
        watched = build_reducer(model, train, MomentRecorder.for_dataset(small_digits)).fit(small_digits.train.images)
        for key, value in plain.state().items():
            np.testing.assert_array_equal(value, watched.state()[key], err_msg=f"{family} {key}")


def test_the_sample_is_seeded_and_at_most_2000_held_out_images(digits):
    a, b = MomentRecorder.for_dataset(digits, max_sample=100), MomentRecorder.for_dataset(digits, max_sample=100)
    np.testing.assert_array_equal(a.sample_index, b.sample_index)
    assert len(a.sample_index) == 100 and len(MomentRecorder.for_dataset(digits).sample_index) == min(2000, len(digits.test))


@pytest.mark.parametrize(("image_shape", "n_test", "sample"), [
    ((1, 28, 28), 2500, 2000),  # MNIST: all of SAMPLE_IMAGES
    ((3, 32, 32), 2500, 2000),  # CIFAR-10's size: the same
    ((3, 64, 64), 2500, 500),  # a 64 px photo costs 4x a 32 px one: a quarter of the images
    ((3, 128, 128), 300, 250),  # never fewer than a map and a k-NN score need
])
def test_moments_of_large_images_encode_fewer_of_them(image_shape, n_test, sample):
    """A moment encodes and decodes its whole sample while the training waits (1.75 s at 64x64x3 for 2,000
    images on 2 cores): past 32x32x3 it keeps as many values, not as many images."""
    def split(n: int) -> ImageSet:
        return ImageSet(np.zeros((n, *image_shape), np.float32), np.arange(n) % 10)

    dataset = Dataset("blank", split(20), split(n_test), tuple(str(i) for i in range(10)), DataConfig())
    recorder = MomentRecorder.for_dataset(dataset)
    assert len(recorder.sample_index) == len(recorder.sample) == sample
    np.testing.assert_array_equal(recorder.sample_index, MomentRecorder.for_dataset(dataset).sample_index)


# --- kept with the checkpoint -------------------------------------------------------------------
def test_moments_are_saved_with_the_checkpoint_and_reloaded_identically(small_digits, store):
    train = TrainConfig(epochs=2, batch_size=64, seed=0, threads=1)
    trained = load_or_train(small_digits, default_model_config("linear", 2), train, store=store)
    moments = load_moments(store, trained.record)
    assert moments is not None and has_moments(store, trained.record)
    # the saved moments are the recorder's: train the same model again, watched, and compare every array
    _, again = recorded(small_digits, "linear", 2, train)
    for name in (f for f in FIELDS if f != "seconds"):  # the clock is not repeatable
        np.testing.assert_array_equal(getattr(moments, name), getattr(again, name), err_msg=name)
    assert moments.view == again.view and moments.pca_sample_mse == pytest.approx(again.pca_sample_mse)
    # the whole test split is the sample here: the last moment's error is the recorded test error
    assert moments.sample_mse[-1] == pytest.approx(trained.record.test_metrics["test_mse"], rel=1e-4)
    # cached: loading never retrains, and the moments stay
    assert load_or_train(small_digits, default_model_config("linear", 2), train, store=store).cached
    np.testing.assert_array_equal(load_moments(store, trained.record).codes, moments.codes)


def test_a_round_trip_through_the_file_is_exact_and_foreign_or_damaged_files_are_refused(small_digits, tmp_path):
    _, moments = recorded(small_digits, "conv", 3, TrainConfig(epochs=1, threads=1))
    path = tmp_path / MOMENTS_FILE
    write_moments(path, moments, "a" * 64)
    back = read_moments(path, "a" * 64)
    for name in FIELDS:
        value = getattr(moments, name)
        assert (value is None and getattr(back, name) is None) or np.array_equal(value, getattr(back, name)), name
    with pytest.raises(CheckpointError, match="other weights"):
        read_moments(path, "b" * 64)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # a flipped bit in the arrays
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="damaged"):
        read_moments(path, "a" * 64)


def test_a_model_trained_before_moments_were_kept_has_none(small_digits, store):
    trained = load_or_train(small_digits, default_model_config("dense", 2), TrainConfig(epochs=1, threads=1), store=store)
    (store.root / trained.record.name / MOMENTS_FILE).unlink()
    assert load_moments(store, trained.record) is None and not has_moments(store, trained.record)
    pca = load_or_train(small_digits, default_model_config("pca", 2), store=store)
    assert load_moments(store, pca.record) is None  # fitted, not trained


# --- one frame for every moment -----------------------------------------------------------------
def test_long_codes_are_seen_through_one_projection_fitted_on_the_final_codes(rng):
    codes = rng.normal(size=(5, 200, 6)).astype(np.float32) * np.linspace(3, 0.5, 6, dtype=np.float32)
    views, how = stable_views(codes)
    assert how == "pca of the final codes" and views.shape == (5, 200, 2)
    # one affine map for every moment: solved from the last moment, it gives the earlier views too
    lifted = np.concatenate([codes, np.ones((5, 200, 1), np.float32)], axis=2)
    affine, *_ = np.linalg.lstsq(lifted[-1], views[-1], rcond=None)
    np.testing.assert_allclose(lifted[0] @ affine, views[0], atol=1e-4)
    one_d, how = stable_views(codes[..., :1])
    assert how == "code" and np.all(one_d[..., 1] == 0)


# --- the linear autoencoder against PCA ---------------------------------------------------------
def test_principal_angles_of_a_subspace_rotated_by_a_known_angle(rng):
    q, _ = np.linalg.qr(rng.normal(size=(64, 4)))
    theta = np.radians(25.0)
    rotated = np.column_stack([q[:, 0], np.cos(theta) * q[:, 1] + np.sin(theta) * q[:, 2], q[:, 3]])
    mixed = q[:, [0, 1, 3]] @ rng.normal(size=(3, 3))  # another basis of the same span: angles ignore the basis
    np.testing.assert_allclose(principal_angles_deg(mixed, rotated), [0.0, 0.0, 25.0], atol=1e-6)
    np.testing.assert_allclose(principal_angles_deg(q[:, :2], q[:, 2:]), [90.0, 90.0], atol=1e-6)
    with pytest.raises(ValueError, match="same P"):
        principal_angles_deg(q[:10], q)


def test_the_linear_family_records_angles_to_pca_falling_as_it_learns(small_digits):
    model = default_model_config("linear", 2)
    _, moments = recorded(small_digits, "linear", 2, zoo_train_config(model, TrainConfig(epochs=20, threads=1)))
    assert moments.angles_deg.shape == (len(moments), 2) and np.all(np.diff(moments.angles_deg, axis=1) >= 0)
    largest = moments.max_angle_deg
    assert largest[-1] < largest[0] / 3  # 500 whole-split steps on 270 images: from ~84 to ~15 degrees
    assert moments.sample_mse[-1] < moments.sample_mse[0] and moments.sample_mse[-1] >= 0.98 * moments.pca_sample_mse


def test_the_linear_decoder_exposes_its_span_and_the_others_none():
    linear = build_reducer(default_model_config("linear", 3)).model_config
    from core.models import build_model

    assert build_model(linear, (1, 8, 8)).decoder_subspace().shape == (64, 3)
    assert build_model(default_model_config("dense", 3), (1, 8, 8)).decoder_subspace() is None


# --- the zoo ------------------------------------------------------------------------------------
def test_the_zoo_holds_linear_d2_and_d8_with_their_recipe_and_leaves_the_others_alone():
    train = TrainConfig(epochs=60, threads=1)
    zoo = default_zoo(train)
    linear = [z for z in zoo if z.model.family == "linear"]
    assert [z.model.latent_dim for z in linear] == [2, 8]
    assert all(z.train.batch_size == LINEAR_BATCH and z.train.lr == LINEAR_LR
               and z.train.epochs == 60 * LINEAR_EPOCHS_FACTOR for z in linear)
    assert all(z.train in (train, TrainConfig(epochs=60, threads=1, noise=z.train.noise)) for z in zoo if z.model.family != "linear")
    assert zoo[1].model.family == "conv" and zoo[1].model.latent_dim == 2  # the pages' first choice did not move


# --- the command --------------------------------------------------------------------------------
@pytest.mark.slow
def test_analyze_learning_prints_one_row_per_moment_and_method(tmp_path, capsys):
    args = ["analyze", "learning", "--dataset", "digits", "--limit", "200", "--methods", "dense,linear,pca",
            "--latent-dim", "2", "--epochs", "10", "--checkpoints", str(tmp_path), "--json"]
    assert main(args) == 0
    out = capsys.readouterr()
    rows = json.loads(out.out)
    assert "pca is fitted, not trained" in out.err
    assert {row["method"] for row in rows} == {"dense", "linear"}
    for method in ("dense", "linear"):
        mine = [r for r in rows if r["method"] == method]
        assert len(mine) == 24 and mine[0]["step"] == 0 and [r["step"] for r in mine] == sorted(r["step"] for r in mine)
        assert set(mine[0]) == {"method", "step", "epoch", "seconds", "sample_mse", "knn_accuracy",
                                "max_principal_angle_deg", "pca_sample_mse"}
        epochs = 10 * (LINEAR_EPOCHS_FACTOR if method == "linear" else 1)  # the linear family: the zoo's recipe
        assert all(0 <= r["knn_accuracy"] <= 1 for r in mine) and mine[-1]["epoch"] == pytest.approx(epochs)
        assert all((r["max_principal_angle_deg"] is None) == (method == "dense") for r in mine)
    assert main(args) == 0  # the second time: loaded, the same rows
    assert json.loads(capsys.readouterr().out) == rows


def test_torch_is_not_needed_to_read_moments():
    import subprocess
    import sys

    check = "import sys, core.learning; core.learning.load_moments; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", check], capture_output=True, text=True).stdout.strip() == "False"



@pytest.mark.slow
def test_the_zoo_names_models_without_moments_and_retrains_them_only_when_asked(tmp_path, capsys, monkeypatch):
    import core.store.zoo

    monkeypatch.delenv("LATENT_LAB_EPOCHS", raising=False)
    whole = core.store.zoo.default_zoo
    # two of the zoo's models (dense d=2, linear d=2): the whole zoo three times over takes minutes
    monkeypatch.setattr(core.store.zoo, "default_zoo", lambda train=None: [z for z in whole(train) if z.model.latent_dim == 2
                                                                      and z.model.family in ("dense", "linear")])
    args = ["zoo", "--dataset", "digits", "--limit", "200", "--epochs", "1", "--no-pca", "--checkpoints", str(tmp_path), "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["latent_dim"]) for r in rows] == [("dense", 2), ("linear", 2)]
    dense = next(r for r in rows if r["model"] == "dense")
    (tmp_path / dense["checkpoint"].rsplit("/", 1)[-1] / MOMENTS_FILE).unlink()  # as if cached before moments were kept
    cached = [a for a in args if a != "--epochs" and a != "1"]  # the plain zoo: any cached model stands for its entry
    assert main(cached) == 0
    out = capsys.readouterr()
    assert all(r["cached"] for r in json.loads(out.out)) and "trained before moments were kept: dense d=2" in out.err
    assert main([*cached, "--with-moments"]) == 0
    again = {r["model"] + str(r["latent_dim"]) + str(r["checkpoint"]): r["cached"] for r in json.loads(capsys.readouterr().out)}
    assert [key for key, was_cached in again.items() if not was_cached] == ["dense2" + dense["checkpoint"]]
    assert (tmp_path / dense["checkpoint"].rsplit("/", 1)[-1] / MOMENTS_FILE).is_file()


def test_a_background_training_shows_its_moments_as_they_are_kept(small_digits, store):
    """While a job trains, the Train page reads the moments kept so far (the class sees the model form); they
    are the saved model's first moments, and a finished job lets go of them (the checkpoint keeps them)."""
    import time

    from core.store.jobs import TrainingJobs

    jobs = TrainingJobs()
    job = jobs.submit(small_digits, default_model_config("dense", 2), TrainConfig(epochs=30, batch_size=16, seed=0, threads=1),
                      store=store)
    counts, partial = [], None
    deadline = time.monotonic() + 300
    while job.active and time.monotonic() < deadline:
        moments = job.moments_so_far()
        if moments is not None:
            counts.append(len(moments.steps))
            partial = moments if len(moments.steps) < 20 else partial
        time.sleep(0.01)
    assert jobs.wait(60) and job.state == "done", job.message
    final = load_moments(store, store.record(store.root / job.name))
    assert counts and partial is not None, "moments showed before the training ended"
    assert counts == sorted(counts) and min(counts) < len(final.steps)
    k = len(partial.steps)
    np.testing.assert_array_equal(partial.steps, final.steps[:k])
    np.testing.assert_array_equal(partial.codes, final.codes[:k], err_msg="the live moments are the kept ones")
    assert job.moments_so_far() is None, "a finished job keeps no recorder (nor its sample) in memory"
