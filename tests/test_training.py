"""The trainer: reproducible, stops on divergence, reports progress, corrupts inputs in range."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import ConfigError, NoiseConfig, TrainConfig
from core.data.noise import corrupt, corrupt_array
from core.errors import TrainingDiverged
from core.models.autoencoder_reducer import AutoencoderReducer
from core.models.methods import AUTOENCODERS, default_model_config
from core.models.training import scheduled_lr


def test_same_seed_gives_the_same_model_on_cpu(small_digits, tiny_train):
    a = AutoencoderReducer(default_model_config("conv", 2), tiny_train).fit(small_digits.train.images)
    b = AutoencoderReducer(default_model_config("conv", 2), tiny_train).fit(small_digits.train.images)
    for (name, pa), pb in zip(a.model_.state_dict().items(), b.model_.state_dict().values()):
        torch.testing.assert_close(pa, pb, msg=name)
    c = AutoencoderReducer(default_model_config("conv", 2), TrainConfig(**{**tiny_train.to_dict(), "seed": 1})).fit(small_digits.train.images)
    assert not torch.equal(a.model_.to_code.weight, c.model_.to_code.weight)


def test_nan_loss_stops_training_with_advice(small_digits, tiny_train):
    images = np.asarray(small_digits.train.images)
    images[3, 0, 0, 0] = np.nan
    with pytest.raises(TrainingDiverged, match="lower learning rate"):
        AutoencoderReducer(default_model_config("dense", 2), tiny_train).fit(images)


def test_callback_sees_every_epoch_with_a_validation_curve(small_digits, tiny_train):
    seen = []
    reducer = AutoencoderReducer(default_model_config("dense", 2), tiny_train, callback=seen.append).fit(small_digits.train.images)
    assert [s.epoch for s in seen] == [1, 2, 3]
    assert seen[-1].progress == 1.0 and all(s.val_loss > 0 and s.val_mse > 0 for s in seen)
    assert len(reducer.history_) == 3


@pytest.mark.parametrize("family", list(AUTOENCODERS))
def test_the_validation_error_is_that_of_the_decoded_codes(small_digits, family):
    """evaluate() takes the forward pass's own output for the code's decoding: for every family (the VAE
    samples while training, not in eval mode) it must equal the error of decode(encode(x)) (the pages then clip
    the linear family's unbounded output to [0, 1] for display; the error is measured before that, as it was)."""
    from core.models import build_model
    from core.models.training import evaluate

    images = torch.from_numpy(np.asarray(small_digits.test.images[:100], np.float32))
    torch.manual_seed(0)
    model = build_model(default_model_config(family, 4), images.shape[1:]).train()  # evaluate switches to eval
    _, mse = evaluate(model, images, images)
    with torch.inference_mode():
        expected = float((model.eval().decode(model.encode(images)) - images).pow(2).mean())
    assert mse == pytest.approx(expected, rel=1e-6)


def test_time_budget_trains_until_the_budget_is_spent(small_digits):
    seen = []
    AutoencoderReducer(default_model_config("dense", 2), TrainConfig(time_budget=1.0), callback=seen.append).fit(small_digits.train.images)
    assert seen[-1].epochs is None and seen[-1].progress == pytest.approx(1.0)
    assert [s.steps for s in seen] == sorted({s.steps for s in seen})  # how far it got (tests/test_time_budget.py)


def test_cosine_schedule_decays_from_peak_to_floor():
    assert scheduled_lr(1e-3, 0.0) == pytest.approx(1e-3)
    assert scheduled_lr(1e-3, 1.0) == pytest.approx(2e-5)
    assert scheduled_lr(1e-3, 0.3) > scheduled_lr(1e-3, 0.6)


def test_the_default_schedule_holds_the_peak_then_decays_to_the_floor():
    decay_from = TrainConfig().lr_decay_from
    assert 0 < decay_from < 1
    assert scheduled_lr(5e-3, 0.0, decay_from) == scheduled_lr(5e-3, decay_from, decay_from) == 5e-3
    assert 5e-3 > scheduled_lr(5e-3, decay_from + 0.05, decay_from) > scheduled_lr(5e-3, 0.95, decay_from) > 1e-4
    assert scheduled_lr(5e-3, 1.0, decay_from) == pytest.approx(1e-4)


def test_the_lr_a_training_used_follows_the_schedule(small_digits):
    seen = []
    config = TrainConfig(epochs=10, lr=4e-3, lr_decay_from=0.5)
    AutoencoderReducer(default_model_config("dense", 2), config, callback=seen.append).fit(small_digits.train.images)
    lrs = [s.lr for s in seen]  # each epoch's last step
    assert lrs[:5] == [4e-3] * 5 and lrs[5] < 4e-3  # at its peak for half the run, then decaying
    assert lrs == sorted(lrs, reverse=True) and lrs[-1] < 4e-4


def test_a_record_from_before_the_schedule_field_keeps_its_key_and_reads_as_a_cosine():
    from core.config import train_config_from_dict

    old = {k: v for k, v in TrainConfig(epochs=5, lr_decay_from=0.0).to_dict().items()}
    assert "lr_decay_from" not in old  # what a record written before the field holds
    assert train_config_from_dict(old).lr_decay_from == 0.0
    assert train_config_from_dict(old).key() == TrainConfig(epochs=5, lr_decay_from=0.0).key()
    assert TrainConfig(epochs=5).key() != TrainConfig(epochs=5, lr_decay_from=0.0).key()  # a new schedule: a new model


def test_mirror_some_gives_each_image_or_its_mirror_image_both_kinds_and_the_same_ones_for_a_seed():
    from core.data.mirror import mirror_some

    images = torch.rand(64, 3, 5, 7, generator=torch.Generator().manual_seed(1)).contiguous(memory_format=torch.channels_last)
    out = mirror_some(images, torch.Generator().manual_seed(0))
    kept = [torch.equal(o, i) for o, i in zip(out, images)]
    mirrored = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images)]
    assert all(k or m for k, m in zip(kept, mirrored)), "an image that is neither itself nor its mirror image"
    assert 16 < sum(mirrored) < 48 and sum(kept) > 16  # even odds, both kinds
    assert out.is_contiguous(memory_format=torch.channels_last)  # the conv fast path's layout is kept
    assert torch.equal(out, mirror_some(images, torch.Generator().manual_seed(0)))


def test_mirror_is_a_new_model_and_old_records_keep_their_keys(small_digits, tiny_train, monkeypatch):
    import core.models.training as training
    from core.config import train_config_from_dict

    assert "mirror" not in TrainConfig(epochs=5).to_dict()  # what a record written before the field holds
    assert train_config_from_dict(TrainConfig(epochs=5).to_dict()).mirror is False
    assert TrainConfig(epochs=5, mirror=True).key() != TrainConfig(epochs=5).key()
    with pytest.raises(ConfigError, match="mirror"):
        TrainConfig(mirror="yes")
    calls = []
    monkeypatch.setattr(training, "mirror_some", lambda images, generator: calls.append(len(images)) or images.flip(-1))
    AutoencoderReducer(default_model_config("dense", 2), tiny_train).fit(small_digits.train.images)
    assert calls == [], "mirrored without being asked"
    AutoencoderReducer(default_model_config("dense", 2), TrainConfig(**{**tiny_train.to_dict(), "mirror": True})).fit(
        small_digits.train.images)
    assert calls and sum(calls) >= 0.8 * len(small_digits.train.images), "every batch goes through the mirror"


def test_conv_on_photographs_trains_on_mirror_and_shifted_images_by_default_and_digits_do_not():
    """Above 32 px every image, at 17-32 px colour ones (CIFAR-10): shifts in proportion to the side."""
    from core.store.zoo import default_train_config

    large = default_train_config(16000, (3, 64, 64), "conv")
    assert large.mirror and large.shift == 4
    assert default_train_config(16000, (1, 64, 64), "conv").shift == 4, "above 32 px grey images too"
    assert not default_train_config(16000, (3, 64, 64), "conv", mirror=False).mirror
    assert default_train_config(16000, (3, 64, 64), "conv", shift=0).shift == 0
    cifar = default_train_config(50000, (3, 32, 32), "conv")
    assert cifar.mirror and cifar.shift == 2 and cifar.lr == 2e-3, "CIFAR-size photographs keep their band's rate"
    assert default_train_config(50000, (3, 28, 20), "conv").mirror, "the longer side sets the band, the channels the colour"
    for small in (default_train_config(60000, (1, 28, 28), "conv"), default_train_config(60000, (1, 32, 32), "conv"),
                  default_train_config(1000, (1, 8, 8), "conv"), default_train_config(1000, (3, 16, 16), "conv"),
                  default_train_config(16000, (3, 64, 64), "dense"), default_train_config(50000, (3, 32, 32), "dense"),
                  default_train_config(16000, (3, 64, 64)), default_train_config(50000, (3, 32, 32))):
        # MNIST: a mirrored 3 is not a digit; colour at 16 px and below: not measured; dense: measured for conv
        # only; the zoo keeps its keys
        assert not small.mirror and small.shift == 0


def test_shift_some_moves_each_image_within_the_bound_with_reflected_edges_and_the_same_way_for_a_seed():
    from core.data.shift import shift_some

    images = torch.rand(64, 3, 9, 11, generator=torch.Generator().manual_seed(1)).contiguous(memory_format=torch.channels_last)
    out = shift_some(images, 2, torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), mode="reflect")  # what a photo beyond its edge looks like
    moves = []
    for o, p in zip(out, padded):
        found = [(dy - 2, dx - 2) for dy in range(5) for dx in range(5) if torch.equal(o, p[:, dy:dy + 9, dx:dx + 11])]
        assert found, "an image that is not its original moved by at most 2 px"
        moves.append(found[0])
    assert {dy for dy, _ in moves} == {-2, -1, 0, 1, 2} and {dx for _, dx in moves} == {-2, -1, 0, 1, 2}  # every move drawn
    assert sum(m == (0, 0) for m in moves) < 16, "most images are moved"
    assert out.is_contiguous(memory_format=torch.channels_last)  # the conv fast path's layout is kept
    assert torch.equal(out, shift_some(images, 2, torch.Generator().manual_seed(0)))
    assert shift_some(images, 0) is images


def test_shift_is_a_new_model_old_records_keep_their_keys_and_a_shift_too_large_says_so(small_digits, tiny_train, monkeypatch):
    import core.models.training as training
    from core.config import train_config_from_dict

    assert "shift" not in TrainConfig(epochs=5).to_dict()  # what a record written before the field holds
    assert train_config_from_dict(TrainConfig(epochs=5).to_dict()).shift == 0
    assert TrainConfig(epochs=5, shift=2).key() != TrainConfig(epochs=5).key()
    assert TrainConfig(shift=np.int64(3)).to_dict()["shift"] == 3  # a numpy integer becomes a key-able int
    for bad in (-1, 17, 1.5, True, "4"):
        with pytest.raises(ConfigError, match="shift must be a whole number of pixels from 0 to 16"):
            TrainConfig(shift=bad)
    calls = []
    monkeypatch.setattr(training, "shift_some", lambda images, most, generator: calls.append((len(images), most)) or images)
    AutoencoderReducer(default_model_config("dense", 2), tiny_train).fit(small_digits.train.images)
    assert calls == [], "shifted without being asked"
    AutoencoderReducer(default_model_config("dense", 2), TrainConfig(**{**tiny_train.to_dict(), "shift": 2})).fit(
        small_digits.train.images)
    assert calls and {most for _, most in calls} == {2}
    assert sum(n for n, _ in calls) >= 0.8 * len(small_digits.train.images), "every batch is shifted"
    with pytest.raises(ConfigError, match=r"shift 8 moves images by up to 8 px.*these are 8x8 px: choose a smaller shift"):
        AutoencoderReducer(default_model_config("dense", 2), TrainConfig(**{**tiny_train.to_dict(), "shift": 8})).fit(
            small_digits.train.images)


@pytest.mark.parametrize("noise", ["gaussian:0.5", "salt_pepper:0.3", "masking:0.5"])
def test_noise_stays_in_unit_range_and_changes_pixels(noise):
    images = np.random.default_rng(0).random((20, 1, 8, 8), dtype=np.float32)
    noisy = corrupt_array(images, NoiseConfig.parse(noise), seed=0)
    assert noisy.shape == images.shape and noisy.min() >= 0.0 and noisy.max() <= 1.0
    assert np.mean(noisy != images) > 0.2
    np.testing.assert_array_equal(noisy, corrupt_array(images, NoiseConfig.parse(noise), seed=0))


def test_denoising_training_uses_corrupted_inputs_and_clean_targets(small_digits, tiny_train, monkeypatch):
    calls = []
    import core.models.training as training

    def spy(images, noise, generator=None):
        calls.append(noise)
        return corrupt(images, noise, generator)

    monkeypatch.setattr(training, "corrupt", spy)
    config = TrainConfig(**{**tiny_train.to_dict(), "noise": NoiseConfig("masking", 0.4)})
    reducer = AutoencoderReducer(default_model_config("dense", 4), config).fit(small_digits.train.images)
    assert calls and all(n.kind == "masking" for n in calls)
    assert reducer.method == "dense denoising"


def test_bad_noise_and_training_values_are_refused():
    with pytest.raises(ConfigError, match="noise kind"):
        NoiseConfig.parse("speckle:0.2")
    with pytest.raises(ConfigError, match="epochs"):
        TrainConfig(epochs=0)


def test_larger_images_get_a_gentler_default_learning_rate():
    from core.store.zoo import default_train_config

    assert default_train_config(1000, (1, 28, 28)).lr == 5e-3 == default_train_config(1000).lr
    assert default_train_config(1000, (3, 64, 64)).lr == 2e-3, "5e-3 collapsed 64x64 colour conv models"
    assert default_train_config(1000, (3, 64, 64), lr=1e-2).lr == 1e-2, "an explicit --lr wins"


def test_bf16_forward_passes_train_float32_weights_as_well_and_share_the_cache_key(small_digits):
    """Precision is how a training runs (bf16 autocast where native), not what it trains: same key."""
    from core.config import DataConfig, run_key
    from core.models.training import autocast_dtype

    model = default_model_config("conv", 4)
    fp32 = AutoencoderReducer(model, TrainConfig(epochs=4, seed=0, precision="fp32")).fit(small_digits.train.images)
    bf16 = AutoencoderReducer(model, TrainConfig(epochs=4, seed=0, precision="bf16")).fit(small_digits.train.images)
    assert all(p.dtype == torch.float32 for p in bf16.model_.parameters())
    errors = {name: float(np.mean((r.reconstruct(small_digits.test.images) - small_digits.test.images) ** 2))
              for name, r in (("fp32", fp32), ("bf16", bf16))}
    assert errors["bf16"] < 1.1 * errors["fp32"], errors  # the same quality to within 10%
    assert not np.array_equal(fp32.encode(small_digits.test.images[:5]), bf16.encode(small_digits.test.images[:5]))
    data = DataConfig("digits")
    assert run_key(data, model, TrainConfig(precision="bf16")) == run_key(data, model, TrainConfig(precision="fp32"))
    assert autocast_dtype(torch.device("cpu"), "fp32") is None
    assert autocast_dtype(torch.device("cpu"), "bf16") == torch.bfloat16
    assert autocast_dtype(torch.device("cpu"), "auto", convolutional=False) is None  # casts cost a small dense model more
    with pytest.raises(ConfigError, match="precision"):
        TrainConfig(precision="fp8")
