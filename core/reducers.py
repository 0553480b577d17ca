"""The Reducer contract: PCA and every autoencoder speak the same language.

``fit(images) -> self``, ``encode(images) -> codes (N, d)``, ``decode(codes) -> images``,
``reconstruct = decode(encode(.))``. Fitted attributes end in ``_``. Because of this, "compare
against PCA" is a loop over reducers and every page works for every model.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError

from core.config import ModelConfig, TrainConfig
from core.models import build_model
from core.models.base import Autoencoder
from core.training import ProgressCallback, train

CHUNK = 4096  # images per forward pass in encode/decode (bounds memory on 60k-image sets)


def _as_images(images) -> np.ndarray:
    array = np.asarray(images, dtype=np.float32)
    if array.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W); got shape {array.shape}")
    return array


class Reducer(ABC):
    """Base class for everything that maps images to codes and back."""

    #: short name for tables and legends (e.g. 'PCA', 'conv')
    method: str = "reducer"

    @abstractmethod
    def fit(self, images: np.ndarray) -> "Reducer":
        """Fit on images of shape (N, C, H, W) in [0, 1]; returns self."""

    @abstractmethod
    def _encode(self, images: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _decode(self, codes: np.ndarray) -> np.ndarray: ...

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "latent_dim_")

    def _check_fitted(self):
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(images) first")

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Images (N, C, H, W) -> codes (N, latent_dim_), float32."""
        self._check_fitted()
        images = _as_images(images)
        if images.shape[1:] != self.image_shape_:
            raise ValueError(f"this reducer was fitted on images of shape {self.image_shape_}; got {images.shape[1:]}")
        return self._encode(images).astype(np.float32, copy=False)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Codes (N, latent_dim_) -> images (N, C, H, W), float32 in [0, 1]."""
        self._check_fitted()
        codes = np.atleast_2d(np.asarray(codes, dtype=np.float32))
        if codes.shape[1] != self.latent_dim_:
            raise ValueError(f"codes must have {self.latent_dim_} columns; got shape {codes.shape}")
        return self._decode(codes).astype(np.float32, copy=False)

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """``decode(encode(images))``, shape (N, C, H, W)."""
        return self.decode(self.encode(images))

    @property
    def label(self) -> str:
        """Legend text, e.g. 'PCA (d=2)'."""
        return f"{self.method} (d={self.latent_dim_})" if self.is_fitted else self.method


class PCAReducer(Reducer):
    """scikit-learn PCA on flattened pixels.

    Parameters
    ----------
    n_components : int
        Latent size d.
    clip : bool
        Clip decoded pixels to [0, 1] (what any viewer does; it can only lower the error).
    """

    method = "PCA"

    def __init__(self, n_components: int, clip: bool = True):
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = n_components
        self.clip = clip

    def fit(self, images):
        images = _as_images(images)
        n, *shape = images.shape
        if self.n_components > min(n, int(np.prod(shape))):
            raise ValueError(f"PCA with {self.n_components} components needs at least that many images and pixels")
        self.pca_ = PCA(n_components=self.n_components, svd_solver="auto", random_state=0).fit(images.reshape(n, -1))
        self.image_shape_ = tuple(shape)
        self.latent_dim_ = self.n_components
        self.history_: list[dict] = []
        return self

    def _encode(self, images):
        return self.pca_.transform(images.reshape(len(images), -1))

    def _decode(self, codes):
        flat = self.pca_.inverse_transform(codes)
        if self.clip:
            np.clip(flat, 0.0, 1.0, out=flat)
        return flat.reshape(len(codes), *self.image_shape_)


class AutoencoderReducer(Reducer):
    """An autoencoder from ``core.models`` behind the Reducer contract.

    Parameters
    ----------
    model_config : ModelConfig
    train_config : TrainConfig
    callback : callable, optional
        Receives :class:`core.training.EpochStats` after each epoch of ``fit``.

    Attributes
    ----------
    model_ : Autoencoder
    history_ : list of dict, one per epoch
    train_seconds_ : float
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig | None = None,
                 callback: ProgressCallback | None = None, device: torch.device | None = None):
        self.model_config = model_config
        self.train_config = train_config or TrainConfig()
        self.callback = callback
        self.device = device

    @property
    def method(self) -> str:  # type: ignore[override]
        noise = self.train_config.noise
        return f"{self.model_config.family} denoising" if noise else self.model_config.family

    def fit(self, images):
        images = _as_images(images)
        torch.manual_seed(self.train_config.seed)  # the weights' initialisation is part of the seed
        model = build_model(self.model_config, images.shape[1:])
        start = time.perf_counter()
        history = train(model, images, self.train_config, self.callback, self.device)
        self._set_fitted(model, history, time.perf_counter() - start)
        return self

    @classmethod
    def from_model(cls, model: Autoencoder, train_config: TrainConfig, history: list[dict],
                   train_seconds: float) -> "AutoencoderReducer":
        """Wrap an already trained model (e.g. loaded from a checkpoint)."""
        reducer = cls(model.config, train_config)
        reducer._set_fitted(model, history, train_seconds)
        return reducer

    def _set_fitted(self, model: Autoencoder, history: list[dict], seconds: float):
        self.model_ = model.eval()
        self.history_ = history
        self.train_seconds_ = seconds
        self.image_shape_ = tuple(model.image_shape)
        self.latent_dim_ = model.latent_dim

    def _device(self) -> torch.device:
        return next(self.model_.parameters()).device

    def _run(self, fn, array: np.ndarray) -> np.ndarray:
        device = self._device()
        with torch.inference_mode():
            parts = [fn(torch.from_numpy(array[i:i + CHUNK]).to(device)).cpu().numpy()
                     for i in range(0, len(array), CHUNK)]
        return np.concatenate(parts) if parts else np.zeros((0,), np.float32)

    def _encode(self, images):
        return self._run(self.model_.encode, images)

    def _decode(self, codes):
        decoded = self._run(self.model_.decode, codes)
        return decoded if self.model_.sigmoid_output else np.clip(decoded, 0.0, 1.0)

    def sample_prior(self, n: int, seed: int = 0) -> np.ndarray:
        """Random codes from the VAE prior N(0, I), shape (n, latent_dim_); VAE only."""
        self._check_fitted()
        if not hasattr(self.model_, "sample_prior"):
            raise TypeError(f"{self.model_config.family} has no prior to sample from; only the vae does")
        return self.model_.sample_prior(n, torch.Generator().manual_seed(seed)).numpy()
