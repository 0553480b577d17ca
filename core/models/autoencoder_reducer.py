"""An autoencoder from :mod:`core.models` behind the :class:`~core.models.reducers.Reducer` contract: it is
trained here (``fit``) and runs in torch. The dashboard's pages run a trained one through its
exported graphs instead (:class:`core.runtime.onnx_reducer.OnnxReducer`), so they need not import torch.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from core.config import ModelConfig, TrainConfig
from core.models import build_model
from core.models.base import Autoencoder
from core.models.memory import check_memory
from core.models.reducers import CHUNK, Reducer, _as_images
from core.models.training import ProgressCallback, train


class AutoencoderReducer(Reducer):
    """An autoencoder from ``core.models`` behind the Reducer contract.

    Parameters
    ----------
    model_config : ModelConfig
    train_config : TrainConfig
    callback : callable, optional
        Receives :class:`core.models.training.EpochStats` after each epoch of ``fit``.
    device : torch.device, optional
        Where to train (default: CUDA when present).

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

    @classmethod
    def from_config(cls, model_config, train_config=None, callback=None):
        return cls(model_config, train_config, callback)

    def fit(self, images):
        images = _as_images(images)  # a uint8 dataset view stays uint8: the trainer converts per batch
        torch.manual_seed(self.train_config.seed)  # the weights' initialisation is part of the seed
        # every way to train passes here (CLI, dashboard jobs, torchrun): refuse a model that cannot fit
        # in memory before torch tries to allocate it, with a figure instead of an allocator's traceback
        check_memory(self.model_config, images.shape[1:])
        model = build_model(self.model_config, images.shape[1:])
        start = time.perf_counter()
        history = train(model, images, self.train_config, self.callback, self.device)
        self._set_fitted(model, history, time.perf_counter() - start)
        return self

    def state(self):
        self._check_fitted()
        return {k: v.detach().cpu().contiguous().numpy() for k, v in self.model_.state_dict().items()}

    @classmethod
    def state_shapes(cls, model_config, image_shape):
        # built on the meta device: shapes without storage, so a config claiming huge layers costs nothing
        with torch.device("meta"):
            model = build_model(model_config, tuple(image_shape))
        return {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}

    @classmethod
    def from_state(cls, model_config, train_config, image_shape, arrays, history, train_seconds):
        model = build_model(model_config, tuple(image_shape))
        model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()})
        reducer = cls(model_config, train_config)
        reducer._set_fitted(model, history, train_seconds)
        return reducer

    def _set_fitted(self, model: Autoencoder, history: list[dict], seconds: float):
        self.model_ = model.eval()
        self._set_shape(model.image_shape, model.latent_dim, history, seconds)

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

    def _torch_encoder(self):
        from core.runtime.export_modules import ModelEncoder

        return ModelEncoder(self.model_)

    def _torch_decoder(self):
        from core.runtime.export_modules import ModelDecoder

        return ModelDecoder(self.model_)
