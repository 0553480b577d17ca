"""Every family builds for every image size the data gives, and the registry drives the choice."""

from __future__ import annotations

import pytest
import torch

from core.config import ConfigError, ModelConfig, TrainConfig
from core.models import build_model
from core.models.conv_pool import spatial_code_layout
from core.models.methods import AUTOENCODERS, default_model_config

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32), (1, 7, 9)]


@pytest.mark.parametrize("family", AUTOENCODERS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_family_round_trips_any_image_size(family, shape):
    torch.manual_seed(0)
    model = build_model(ModelConfig(family=family, latent_dim=8), shape)
    x = torch.rand(4, *shape)
    code = model.encode(x)
    assert code.shape == (4, 8)
    out = model.decode(code)
    assert out.shape == x.shape
    if model.sigmoid_output:
        assert 0.0 <= out.min() and out.max() <= 1.0
    loss, parts = model.loss(model(x), x)
    assert torch.isfinite(loss) and "recon" in parts
    loss.backward()


def test_conv_pool_uses_the_classic_spatial_code():
    assert spatial_code_layout(28, 28, 128) == (3, 8, 4, 4)  # the Keras tutorial's 4x4x8
    assert spatial_code_layout(8, 8, 8) == (2, 2, 2, 2)
    assert spatial_code_layout(28, 28, 2)[1:] == (2, 1, 1)


def test_vae_adds_a_kl_term_and_encodes_the_mean():
    torch.manual_seed(0)
    model = build_model(default_model_config("vae", 2), (1, 8, 8)).eval()
    x = torch.rand(5, 1, 8, 8)
    _, parts = model.loss(model(x), x)
    assert parts["reg"] > 0
    torch.testing.assert_close(model.encode(x), model(x)["mu"])
    assert default_model_config("vae", 2).loss == "bce"


def test_sparse_penalty_grows_with_its_weight():
    x = torch.rand(6, 1, 8, 8)
    penalties = []
    for weight in (1e-3, 1e-1):
        torch.manual_seed(0)
        model = build_model(ModelConfig(family="sparse", latent_dim=4, sparsity_weight=weight), (1, 8, 8))
        penalties.append(model.loss(model(x), x)[1]["reg"].item())
    assert penalties[1] == pytest.approx(100 * penalties[0], rel=1e-4)


def test_bad_model_config_says_what_is_allowed():
    with pytest.raises(ConfigError, match="choose one of"):
        ModelConfig(family="transformer")
    with pytest.raises(ConfigError, match="latent_dim"):
        ModelConfig(latent_dim=0)


@pytest.mark.parametrize("size, stages, grid", [(8, 2, 2), (28, 2, 7), (32, 2, 8), (64, 3, 8), (128, 4, 8)])
def test_conv_depth_grows_with_the_image_so_the_code_layer_stays_small(size, stages, grid):
    from core.models.conv import ConvTrunk

    trunk = ConvTrunk((3, size, size), (32, 64), "transpose")
    assert trunk.code_shape[1:] == (grid, grid) and trunk.code_shape[0] == (32, 64, 128, 256)[stages - 1]
    out = trunk.image_logits(trunk.features(torch.zeros(2, 3, size, size)), size, size)
    assert out.shape == (2, 3, size, size), "the decoder mirrors every added stage"


def test_conv_uses_gelu_by_default_and_relu_models_keep_their_cache_keys():
    from torch import nn

    conv = build_model(default_model_config("conv", 4), (1, 28, 28))
    assert any(isinstance(m, nn.GELU) for m in conv.modules()) and not any(isinstance(m, nn.ReLU) for m in conv.modules())
    relu = ModelConfig(family="conv", latent_dim=4)
    assert "activation" not in relu.to_dict(), "a model from before the option keeps its key"
    assert ModelConfig(family="conv", latent_dim=4, activation="gelu").key() != relu.key()
    assert not any(isinstance(m, nn.GELU) for m in build_model(relu, (1, 28, 28)).modules())
    with pytest.raises(ConfigError, match="activation must be one of relu, gelu"):
        ModelConfig(family="conv", activation="tanh")


def test_the_conv_default_follows_the_image_size_band_and_a_caller_may_still_choose():
    small, medium, large = (1, 8, 8), (1, 28, 28), (3, 64, 64)
    assert default_model_config("conv", 30, small).grid_convs == 1 == default_model_config("conv", 30).grid_convs, \
        "digits (and an unknown size: the zoo) keep one grid convolution"
    assert default_model_config("conv", 30, medium).grid_convs == 2, "MNIST-size images get two"
    assert default_model_config("conv", 30, (3, 32, 32)).grid_convs == 2, "CIFAR-size images too"
    assert default_model_config("conv", 30, large).grid_convs == 0, "above 32 px none: it costs 5x there"
    assert default_model_config("conv", 30, (3, 28, 40)).grid_convs == 0, "the longer side decides"
    assert default_model_config("conv", 30, large, grid_convs=1).grid_convs == 1, "a flag or a form still wins"
    assert default_model_config("conv", 30, medium, grid_convs=0).grid_convs == 0
    assert default_model_config("conv", 30, large).activation == "gelu", "only the band's fields change"
    assert default_model_config("dense", 2, large) == default_model_config("dense", 2) == default_model_config("dense", 2, medium)


def test_the_peak_learning_rate_follows_the_size_band_and_the_family_measured_there():
    from core.store.zoo import default_train_config

    def lr(side: int, method: str | None = None, **overrides) -> float:
        return default_train_config(60_000, (1, side, side), method, **overrides).lr

    assert lr(8, "conv") == lr(8) == TrainConfig().lr == 5e-3, "digits: the rate measured there"
    assert lr(28, "conv") == lr(32, "conv") == 2e-3, "the conv family's two grid convolutions learn at 2e-3"
    assert lr(28, "dense") == lr(28, "vae") == lr(28) == 5e-3, "other families (and the zoo) keep 5e-3 at 28 px"
    assert lr(64) == lr(64, "dense") == lr(64, "conv") == 2e-3, "above 32 px every family: 5e-3 collapsed conv"
    assert lr(28, "conv", lr=1e-2) == 1e-2, "a flag or a form still wins"
    assert default_train_config(60_000, None, "conv").lr == 5e-3, "an unknown size gets the defaults"


def test_conv_adds_a_grid_convolution_each_side_by_default_and_older_models_keep_their_keys_and_layers():
    from torch import nn

    def grid_convs(model) -> int:  # stride-1 3x3 convolutions: only the grid layers have stride 1 in the trunk
        return sum(isinstance(m, nn.Conv2d) and m.stride == (1, 1) for m in model.trunk.modules())

    conv = build_model(default_model_config("conv", 4), (1, 28, 28))
    assert grid_convs(conv) == 2, "one in the encoder and one in the decoder, at the 7x7 map"
    x = torch.rand(3, 1, 28, 28)
    assert conv(x)["logits"].shape == x.shape and conv.encode(x).shape == (3, 4)
    before = ModelConfig(family="conv", latent_dim=4, activation="gelu")  # as saved before the option existed
    assert "grid_convs" not in before.to_dict() and before.key() != default_model_config("conv", 4).key()
    assert grid_convs(build_model(before, (1, 28, 28))) == 0, "its weights load into the layers it was trained with"
    assert grid_convs(build_model(default_model_config("vae", 4), (1, 28, 28))) == 0
    odd = build_model(default_model_config("conv", 3, grid_convs=2), (3, 30, 26))
    assert grid_convs(odd) == 4 and odd(torch.rand(2, 3, 30, 26))["logits"].shape == (2, 3, 30, 26)
    with pytest.raises(ConfigError, match="grid_convs must be a whole number from 0 to 4"):
        ModelConfig(family="conv", grid_convs=-1)
