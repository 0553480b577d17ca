"""The Reducer contract: PCA and every autoencoder speak the same language.

``fit(images) -> self``, ``encode(images) -> codes (N, d)``, ``decode(codes) -> images``,
``reconstruct = decode(encode(.))``. Fitted attributes end in ``_``. Because of this, "compare
against PCA" is a loop over reducers and every page works for every model.

Every reducer is built from a :class:`~core.config.ModelConfig` (``from_config``), knows its registry
entry (``capabilities``), hands out its fitted state as named arrays (``state``) and is rebuilt from
them (``from_state``): that is all the checkpoint store needs, for PCA and autoencoders alike.

Two layers: :class:`Codec` (encode / decode / capabilities: what pages and analyses need) and
:class:`Reducer`, a codec that can also be fitted, stored and exported. Three implementations:
:class:`PCAReducer` (here), :class:`core.models.autoencoder_reducer.AutoencoderReducer` (a torch network:
training and the CLI), both reducers, and :class:`core.runtime.onnx_reducer.OnnxReducer` (a trained network's
exported graphs run by ONNX Runtime: what the dashboard's pages use, without importing torch), a codec
only. This module imports neither torch nor the models.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.data.pixels import Pixels
from core.models.methods import Capabilities, get_method, method_label

if TYPE_CHECKING:
    import torch

    from core.models.training import ProgressCallback

CHUNK = 1024  # images per forward pass in encode/decode: a conv model's activations for 1,024 MNIST images are ~40 MB


def _as_images(images) -> np.ndarray | Pixels:
    """Images (N, C, H, W) as float32, or a dataset's :class:`Pixels` view left as it is (read by chunks)."""
    array = images if isinstance(images, Pixels) else np.asarray(images, dtype=np.float32)
    if array.ndim != 4:
        raise ValueError(f"images must have shape (N, C, H, W); got shape {array.shape}")
    return array


class Codec(ABC):
    """What pages and analyses need of a fitted model: images to codes and back.

    ``encode(images) -> codes (N, d)``, ``decode(codes) -> images``, ``reconstruct``, ``sample_prior``,
    its registry entry (``capabilities``) and its names. Kept apart from training, as scikit-learn keeps
    ``transform``/``inverse_transform`` apart from ``fit``: :class:`core.runtime.onnx_reducer.OnnxReducer` runs
    exported graphs and is a codec only; every :class:`Reducer` is a codec too.

    Attributes
    ----------
    model_config : ModelConfig
        ``family`` names the registry method, ``latent_dim`` the code size.
    train_config : TrainConfig
    latent_dim_ : int
        Set by ``fit`` (or ``from_state``).
    image_shape_ : tuple of int
        (C, H, W) of the images it was fitted on.
    history_ : list of dict
        Per-epoch training statistics (empty for PCA).
    train_seconds_ : float
        Wall time of ``fit``.
    """

    model_config: ModelConfig
    train_config: TrainConfig

    @abstractmethod
    def _encode(self, images: np.ndarray) -> np.ndarray: ...

    @abstractmethod
    def _decode(self, codes: np.ndarray) -> np.ndarray: ...

    @property
    def capabilities(self) -> Capabilities:
        """What this method can do (see :class:`core.models.methods.Capabilities`)."""
        return get_method(self.model_config.family).capabilities

    @property
    def method(self) -> str:
        """Short name for tables and legends: 'PCA', 'conv', 'conv denoising'."""
        return method_label(self.model_config, self.train_config)

    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "latent_dim_")

    def _check_fitted(self):
        if not self.is_fitted:
            from sklearn.exceptions import NotFittedError  # scikit-learn's own: not imported until needed

            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(images) first")

    def _set_shape(self, image_shape, latent_dim: int, history: list[dict], seconds: float) -> None:
        self.image_shape_ = tuple(int(s) for s in image_shape)
        self.latent_dim_ = int(latent_dim)
        self.history_ = list(history)
        self.train_seconds_ = float(seconds)

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Images (N, C, H, W) -> codes (N, latent_dim_), float32."""
        self._check_fitted()
        images = _as_images(images)
        if images.shape[1:] != self.image_shape_:
            raise ValueError(f"this reducer was fitted on images of shape {self.image_shape_}; got {images.shape[1:]}")
        if len(images) <= CHUNK:
            return self._encode(np.asarray(images)).astype(np.float32, copy=False)
        # by chunks: a uint8 dataset view is converted CHUNK images at a time, never all at once
        parts = [self._encode(np.asarray(images[i:i + CHUNK])) for i in range(0, len(images), CHUNK)]
        return np.concatenate(parts).astype(np.float32, copy=False)

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

    def sample_prior(self, n: int, seed: int = 0) -> np.ndarray:
        """Random codes from the prior N(0, I), shape (n, latent_dim_), float32; only methods with
        ``capabilities.prior``. Drawn by NumPy from ``seed``, so every runtime of one model (torch or
        ONNX Runtime) draws the same codes."""
        self._check_fitted()
        if not self.capabilities.prior:
            raise TypeError(f"{self.method} has no prior to sample from: only a VAE defines one; "
                            "sample codes between the training codes' low and high percentiles instead")
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim_), dtype=np.float32)

    @property
    def label(self) -> str:
        """Legend text, e.g. 'PCA (d=2)'."""
        return f"{self.method} (d={self.latent_dim_})" if self.is_fitted else self.method


class Reducer(Codec):
    """A codec that can be trained and stored: the estimator side of the contract.

    ``fit(images) -> self``; built from a :class:`~core.config.ModelConfig` (``from_config``); hands out
    its fitted state as named arrays (``state``) and is rebuilt from them (``from_state``), which is all
    the checkpoint store needs; its encoder and decoder as torch modules (``torch_encoder`` /
    ``torch_decoder``), which is what export needs.
    """

    @classmethod
    @abstractmethod
    def from_config(cls, model_config: ModelConfig, train_config: TrainConfig | None = None,
                    callback: ProgressCallback | None = None) -> "Reducer":
        """An unfitted reducer for this config (the registry's factory)."""

    @abstractmethod
    def fit(self, images: np.ndarray) -> "Reducer":
        """Fit on images of shape (N, C, H, W) in [0, 1]; returns self."""

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """The fitted parameters as named float32 arrays (what a checkpoint stores)."""

    @classmethod
    @abstractmethod
    def from_state(cls, model_config: ModelConfig, train_config: TrainConfig, image_shape: tuple[int, int, int],
                   arrays: dict[str, np.ndarray], history: list[dict], train_seconds: float) -> "Reducer":
        """A fitted reducer rebuilt from :meth:`state`'s arrays (raises on a mismatch)."""

    @classmethod
    def state_shapes(cls, model_config: ModelConfig, image_shape: tuple[int, int, int]) -> dict[str, tuple[int, ...]] | None:
        """Name -> shape of every array :meth:`state` holds for this config and (C, H, W) images, worked
        out without allocating them, so a checkpoint's weights are checked against its record before
        anything is built; None (the default) when :meth:`from_state` allocates nothing beyond the
        arrays it is given and checks their shapes itself (PCA)."""
        return None

    @abstractmethod
    def _torch_encoder(self) -> torch.nn.Module: ...

    @abstractmethod
    def _torch_decoder(self) -> torch.nn.Module: ...

    def torch_encoder(self) -> torch.nn.Module:
        """The encoder as a torch module: images (N, C, H, W) -> codes (N, latent_dim_).

        Exactly what :meth:`encode` computes, as one module, so it can be exported (ONNX).
        """
        self._check_fitted()
        return self._torch_encoder().eval()

    def torch_decoder(self) -> torch.nn.Module:
        """The decoder as a torch module: codes (N, latent_dim_) -> images (N, C, H, W) in [0, 1].

        Exactly what :meth:`decode` computes, as one module, so it can be exported (ONNX) and run
        elsewhere, e.g. in the browser.
        """
        self._check_fitted()
        return self._torch_decoder().eval()


class PCAReducer(Reducer):
    """PCA on flattened pixels (fitted by scikit-learn; encode/decode are its two affine maps).

    Parameters
    ----------
    n_components : int
        Latent size d.
    clip : bool
        Clip decoded pixels to [0, 1] (what any viewer does; it can only lower the error).

    Attributes
    ----------
    components_ : np.ndarray, shape (d, C*H*W)
        Unit principal directions, most variance first.
    mean_ : np.ndarray, shape (C*H*W,)
    explained_variance_, explained_variance_ratio_ : np.ndarray, shape (d,)
    """

    def __init__(self, n_components: int, clip: bool = True):
        if n_components < 1:
            raise ValueError(f"n_components must be >= 1, got {n_components}")
        self.n_components = n_components
        self.clip = clip
        from core.models.methods import default_model_config

        self.model_config = default_model_config("pca", n_components)
        self.train_config = TrainConfig()

    @classmethod
    def from_config(cls, model_config, train_config=None, callback=None):
        return cls(model_config.latent_dim)

    def fit(self, images):
        from sklearn.decomposition import PCA

        given, images = images, np.asarray(_as_images(images))
        n, *shape = images.shape
        if self.n_components > min(n, int(np.prod(shape))):
            raise ValueError(f"PCA with {self.n_components} components needs at least that many images and pixels")
        start = time.perf_counter()
        # a converted array (e.g. from a uint8 dataset) is ours: scikit-learn may centre it in place
        # instead of holding a second copy (60k MNIST images: 188 MB less at the peak)
        pca = PCA(n_components=self.n_components, svd_solver="auto", random_state=0, copy=images is given)
        pca.fit(images.reshape(n, -1))
        self.components_ = np.ascontiguousarray(pca.components_, dtype=np.float32)
        self.mean_ = pca.mean_.astype(np.float32)
        self.explained_variance_ = pca.explained_variance_.astype(np.float32)
        self.explained_variance_ratio_ = pca.explained_variance_ratio_.astype(np.float32)
        self._set_shape(shape, self.n_components, [], time.perf_counter() - start)
        return self

    def state(self):
        self._check_fitted()
        return {"components": self.components_, "mean": self.mean_,
                "explained_variance": self.explained_variance_,
                "explained_variance_ratio": self.explained_variance_ratio_}

    @classmethod
    def from_state(cls, model_config, train_config, image_shape, arrays, history, train_seconds):
        reducer = cls(model_config.latent_dim)
        components, mean = np.asarray(arrays["components"], np.float32), np.asarray(arrays["mean"], np.float32)
        pixels = int(np.prod(image_shape))
        if components.shape != (model_config.latent_dim, pixels) or mean.shape != (pixels,):
            raise ValueError(f"PCA arrays of shapes {components.shape} and {mean.shape} do not fit "
                             f"{model_config.latent_dim} components of {tuple(image_shape)} images")
        reducer.components_, reducer.mean_ = components, mean
        reducer.explained_variance_ = np.asarray(arrays["explained_variance"], np.float32)
        reducer.explained_variance_ratio_ = np.asarray(arrays["explained_variance_ratio"], np.float32)
        reducer._set_shape(image_shape, model_config.latent_dim, history, train_seconds)
        return reducer

    def _encode(self, images):
        # scikit-learn's transform without whitening: centre, then project on the components
        return (images.reshape(len(images), -1) - self.mean_) @ self.components_.T

    def _decode(self, codes):
        flat = codes @ self.components_ + self.mean_  # scikit-learn's inverse_transform
        if self.clip:
            np.clip(flat, 0.0, 1.0, out=flat)
        return flat.reshape(len(codes), *self.image_shape_)

    def _torch_encoder(self):
        from core.runtime.export_modules import LinearEncoder

        return LinearEncoder(self.components_, self.mean_)

    def _torch_decoder(self):
        from core.runtime.export_modules import LinearDecoder

        return LinearDecoder(self.components_, self.mean_, self.image_shape_, self.clip)
