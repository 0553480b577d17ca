"""The trainer's speed paths change memory layout and threads, never results: channels_last gives
the same outputs, the thread setting is restored, and a fixed seed still gives one model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import ConfigError, TrainConfig
from core.models import build_model
from core.models.autoencoder_reducer import AutoencoderReducer
from core.models.methods import default_model_config
from core.models.training import to_channels_last, train, uses_convolutions


@pytest.mark.parametrize("family,decoder", [("conv", "transpose"), ("conv", "upsample"), ("vae", "transpose"), ("conv_pool", "transpose")])
def test_channels_last_gives_the_same_outputs(family, decoder):
    torch.manual_seed(0)
    model = build_model(default_model_config(family, 4, decoder=decoder), (1, 28, 28)).eval()
    x = torch.rand(5, 1, 28, 28)
    with torch.inference_mode():
        expected = model(x)["logits"].clone()
        (x_cl,) = to_channels_last(model, x)
        got = model(x_cl)["logits"]
        plain_input = model(x)["logits"]  # a contiguous input still works on the converted model
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(plain_input, expected, rtol=1e-4, atol=1e-5)


def test_only_convolutional_models_take_the_channels_last_path():
    assert uses_convolutions(build_model(default_model_config("conv", 2), (1, 8, 8)))
    assert not uses_convolutions(build_model(default_model_config("dense", 2), (1, 8, 8)))


def test_trained_model_comes_back_in_the_usual_layout(small_digits, tiny_train):
    model = build_model(default_model_config("conv", 2), small_digits.image_shape)
    train(model, small_digits.train.images, tiny_train, device=torch.device("cpu"))
    assert all(p.is_contiguous() for p in model.parameters())


def test_threads_setting_is_used_then_restored(small_digits, tiny_train):
    before = torch.get_num_threads()
    seen = []
    config = TrainConfig(**{**tiny_train.to_dict(), "epochs": 1, "threads": 1})
    AutoencoderReducer(default_model_config("conv", 2), config,
                       callback=lambda s: seen.append(torch.get_num_threads())).fit(small_digits.train.images)
    assert seen == [1] and torch.get_num_threads() == before


def test_same_seed_gives_the_same_model_with_the_speed_paths(small_digits, tiny_train):
    config = TrainConfig(**{**tiny_train.to_dict(), "threads": 1})
    a = AutoencoderReducer(default_model_config("conv", 2), config).fit(small_digits.train.images)
    b = AutoencoderReducer(default_model_config("conv", 2), config).fit(small_digits.train.images)
    for pa, pb in zip(a.model_.state_dict().values(), b.model_.state_dict().values()):
        assert torch.equal(pa, pb)
    np.testing.assert_array_equal(a.encode(small_digits.test.images), b.encode(small_digits.test.images))


def test_bad_thread_counts_are_refused():
    with pytest.raises(ConfigError, match="threads"):
        TrainConfig(threads=0)
