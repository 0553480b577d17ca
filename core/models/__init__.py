"""Models and training: the registry of methods (PCA among them) and what builds on it, the reducer
contract and the torch reducer of every autoencoder, one file per autoencoder family (which class a
family name means is decided by the registry, :mod:`core.models.registry`, never by if-chains here), the
training loop and its torchrun support."""

from __future__ import annotations


def build_model(config, image_shape):
    """Instantiate the network of ``config.family`` for images of shape (C, H, W)."""
    from core.models.methods import get_method

    return get_method(config.family).network_class()(config, image_shape)


__all__ = ["build_model"]
