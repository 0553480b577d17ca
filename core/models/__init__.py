"""The model zoo: a registry from family name to class. Choose by lookup, never by if-chains.

The registry names each class by import path and imports it on first use, so code that only needs
the list of families (config validation, the CLI's fast cache path) does not pay for importing torch.
"""

from __future__ import annotations

from importlib import import_module

MODELS: dict[str, str] = {
    "dense": "core.models.dense:DenseAutoencoder",
    "conv": "core.models.conv:ConvAutoencoder",
    "conv_pool": "core.models.conv_pool:ConvPoolAutoencoder",
    "vae": "core.models.vae:VariationalAutoencoder",
    "sparse": "core.models.sparse:SparseAutoencoder",
    "linear": "core.models.dense:LinearAutoencoder",
}

#: one line per family, for --help and the dashboard
DESCRIPTIONS = {
    "dense": "flatten -> hidden ReLU layers -> code -> mirrored decoder -> sigmoid",
    "conv": "strided convolutions -> Linear code -> transposed convs / upsampling -> sigmoid",
    "conv_pool": "Conv-ReLU-MaxPool pyramid with a spatial code (e.g. 4x4x8) -> upsampling decoder",
    "vae": "convolutional beta-VAE: mean/log-variance code, KL term; encode gives the mean",
    "sparse": "dense autoencoder with an L1 or KL sparsity penalty on the code",
    "linear": "one linear layer each way, no activation: PCA's own autoencoder (a sanity check)",
}

#: per-family defaults that differ from ModelConfig's. Every sigmoid-output family defaults to
#: binary cross-entropy on the logits: with MSE behind a sigmoid, a conv model on MNIST can push
#: every pixel to black in its first steps, where the sigmoid's gradient vanishes, and stay there
#: (seen for 3 of 4 seeds of conv d=2); BCE's gradient does not vanish, and on digits it reaches the
#: same test MSE as MSE training. The linear autoencoder has no sigmoid, so it minimises MSE.
FAMILY_DEFAULTS: dict[str, dict] = {"linear": {"loss": "mse"}}


def model_class(family: str):
    """The nn.Module class registered under ``family``."""
    module, _, name = MODELS[family].partition(":")
    return getattr(import_module(module), name)


def default_model_config(family: str, latent_dim: int, **overrides):
    """A ModelConfig with the family's own defaults, then ``overrides`` (None values are ignored)."""
    from core.config import ModelConfig

    settings = {**FAMILY_DEFAULTS.get(family, {}), **{k: v for k, v in overrides.items() if v is not None}}
    return ModelConfig(family=family, latent_dim=latent_dim, **settings)


def build_model(config, image_shape):
    """Instantiate ``config.family`` for images of shape (C, H, W)."""
    return model_class(config.family)(config, image_shape)


__all__ = ["MODELS", "DESCRIPTIONS", "FAMILY_DEFAULTS", "model_class", "build_model", "default_model_config"]
