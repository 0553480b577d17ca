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
from core.models.registry import AUTOENCODERS, BASELINE, METHODS, Capabilities, Method, get_method, is_large_image

if TYPE_CHECKING:
    from core.models.reducers import Reducer
    from core.models.training import ProgressCallback

__all__ = ["AUTOENCODERS", "BASELINE", "METHODS", "Capabilities", "Method", "get_method", "default_model_config",
           "canonical_train_config", "build_reducer", "objective_label", "model_label", "method_label"]


def default_model_config(method: str, latent_dim: int, image_shape: tuple[int, int, int] | None = None,
                         **overrides) -> ModelConfig:
    """A ModelConfig with the method's own defaults, then ``overrides`` (None values are ignored).

    Parameters
    ----------
    method : str
    latent_dim : int
    image_shape : (C, H, W), optional
        The images it is for: above ``LARGE_IMAGE_SIDE`` px a side the method's ``large_image_defaults``
        replace its defaults (the conv family drops its grid convolution there). None: the defaults.
    **overrides
        ModelConfig fields, each set by the caller.
    """
    entry = get_method(method)
    settings = {**entry.defaults, **(entry.large_image_defaults if is_large_image(image_shape) else {}),
                **{k: v for k, v in overrides.items() if v is not None}}
    return ModelConfig(family=method, latent_dim=latent_dim, **settings)


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
