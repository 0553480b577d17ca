"""The one registry of reducers: method name -> how to build it and what it can do. PCA is a method.

Everything that differs between methods lives in the registry, as data (:mod:`core.models.registry`: the class
that implements a method, its one-line description, its default settings and its :class:`Capabilities`);
this module builds on it: a method's default config, an unfitted reducer, the labels people read.
Callers loop over methods and ask capabilities ("can it sample from a prior?"); no code outside these
two modules compares a method's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.config import ModelConfig, TrainConfig
from core.models.registry import AUTOENCODERS, BAND_TRAIN_DEFAULTS, BASELINE, METHODS, Capabilities, Method, get_method, size_band, train_bands

if TYPE_CHECKING:
    from core.models.reducers import Reducer
    from core.models.training import ProgressCallback

__all__ = ["AUTOENCODERS", "BASELINE", "METHODS", "Capabilities", "Method", "get_method", "default_model_config",
           "size_train_settings", "canonical_train_config", "build_reducer", "objective_label", "model_label", "method_label"]


def default_model_config(method: str, latent_dim: int, image_shape: tuple[int, int, int] | None = None,
                         **overrides) -> ModelConfig:
    """A ModelConfig with the method's own defaults, then ``overrides`` (None values are ignored).

    Parameters
    ----------
    method : str
    latent_dim : int
    image_shape : (C, H, W), optional
        The images it is for: the method's ``size_defaults`` for their size band replace its defaults (the
        conv family has two grid convolutions at 17-32 px, none above). None: the defaults.
    **overrides
        ModelConfig fields, each set by the caller.
    """
    entry = get_method(method)
    settings = {**entry.defaults, **entry.size_defaults.get(size_band(image_shape), {}),
                **{k: v for k, v in overrides.items() if v is not None}}
    return ModelConfig(family=method, latent_dim=latent_dim, **settings)


def size_train_settings(image_shape: tuple[int, int, int] | None, method: str | None = None) -> dict:
    """The TrainConfig fields that images of ``image_shape`` (C, H, W) get by their size band: every method's
    (:data:`BAND_TRAIN_DEFAULTS`, e.g. a peak rate of 2e-3 above 32 px), then ``method``'s own when given (the
    conv family's 2e-3 at 17-32 px, measured with its two grid convolutions there), then its own for colour
    images of that band (the conv family's mirror images at 17-32 px). Empty when the shape is unknown.
    """
    settings = dict(BAND_TRAIN_DEFAULTS.get(size_band(image_shape), {}))
    if method is not None:
        for key in train_bands(image_shape):
            settings.update(get_method(method).size_train_defaults.get(key, {}))
    return settings


def canonical_train_config(model: ModelConfig, train: TrainConfig) -> TrainConfig:
    """The training settings that matter for ``model``: a method that is not learned (PCA) ignores
    them, so it gets the defaults and one cache entry whatever the caller's epochs or budget."""
    return train if get_method(model.family).capabilities.learned else TrainConfig()


def build_reducer(model: ModelConfig, train: TrainConfig | None = None,
                  callback: ProgressCallback | None = None) -> Reducer:
    """An unfitted reducer for ``model`` (``fit(images)`` trains it)."""
    return get_method(model.family).reducer_class().from_config(model, train, callback)


def objective_label(model: ModelConfig) -> str:
    """What training minimises, in words: 'binary cross-entropy', 'MSE + beta x KL'."""
    loss = {"bce": "binary cross-entropy", "mse": "MSE"}[model.loss]
    penalty = get_method(model.family).penalty
    return f"{loss} + {penalty}" if penalty else loss


def model_label(model: ModelConfig, train: TrainConfig | None = None) -> str:
    """How a model is named to people: ``'conv d=8 denoising gaussian:0.3'``, ``'PCA d=2'``."""
    noise = f" denoising {train.noise.label()}" if train is not None and train.noise else ""
    return f"{get_method(model.family).title} d={model.latent_dim}{noise}"


def method_label(model: ModelConfig, train: TrainConfig | None = None) -> str:
    """The short name tables use for a method: ``'PCA'``, ``'conv'``, ``'conv denoising'``."""
    title = get_method(model.family).title
    return f"{title} denoising" if train is not None and train.noise else title
