"""The autoencoder families: one file per family. Which class a family name means is decided by
the registry in :mod:`core.methods` (with PCA among the methods), never by if-chains here."""

from __future__ import annotations


def build_model(config, image_shape):
    """Instantiate the network of ``config.family`` for images of shape (C, H, W)."""
    from core.methods import get_method

    return get_method(config.family).network_class()(config, image_shape)


__all__ = ["build_model"]
