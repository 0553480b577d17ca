"""A trained model run by ONNX Runtime from its exported encoder and decoder: what the dashboard's
pages use, so that viewing models never imports torch.

Importing torch costs a dashboard process ~520 MB of memory and 2-3 s on a fresh server (bench part
``memory``); ONNX Runtime costs ~20 MB and encodes the 10,000 MNIST test images through the conv
model faster on one thread than torch on two. A model's graphs are exported once
(:func:`core.store.derived.onnx_graphs_of`: by ``python -m core zoo``, or by the first server that opens
the model, through :func:`core.store.derived.runnable_checkpoint`) and kept inside its checkpoint version
folder, keyed by its weights, so a retrained model never runs an old graph. Training, the CLI and export itself stay in torch
(:class:`core.models.autoencoder_reducer.AutoencoderReducer`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from core.config import ModelConfig, TrainConfig
from core.models.reducers import Codec
from core.runtime.export import CODE_NAME, IMAGE_NAME

if TYPE_CHECKING:
    from core.store.records import ModelRecord

# images (or codes) per ONNX Runtime call: a conv model's peak for 1,024 MNIST images is ~250 MB and
# stays with the process; for 256 it is ~50 MB at the same speed (6 MNIST zoo models, 10,000 images:
# 176 MB peak in all, where 1,024 gave 412)
RUN_CHUNK = 256


def _session(graph: bytes, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    # one thread, no spinning: a classroom server runs many sessions' requests side by side, and
    # spinning threads would take the cores from the others (1 thread measured faster than torch on 2)
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # no per-session arena or memory pattern: a model's arena keeps its largest batch's buffers for
    # the life of the process, one per session (two per model), where freed memory is shared
    options.enable_cpu_mem_arena = False
    options.enable_mem_pattern = False
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class OnnxReducer(Codec):
    """A fitted reducer whose ``encode`` and ``decode`` run exported ONNX graphs.

    It answers everything a page asks of a reducer (encode, decode, reconstruct, sample_prior,
    label, capabilities) with the same numbers as the torch model it was exported from (to float32
    rounding: tests/test_onnx_reducer.py). It is a :class:`~core.models.reducers.Codec`, not a
    :class:`~core.models.reducers.Reducer`: it cannot be trained, saved or exported (the torch reducer's job).

    Parameters
    ----------
    model_config, train_config : ModelConfig, TrainConfig
        The configs of the model the graphs were exported from.
    image_shape : tuple of int
        (C, H, W).
    encoder, decoder : bytes
        :func:`core.runtime.export.encoder_onnx` and :func:`core.runtime.export.decoder_onnx` of that model.
    history : list of dict, optional
    train_seconds : float, optional
    threads : int
        ONNX Runtime's threads per call.
    """

    def __init__(self, model_config: ModelConfig, train_config: TrainConfig, image_shape: tuple[int, int, int],
                 encoder: bytes, decoder: bytes, history: list[dict] | tuple = (), train_seconds: float = 0.0,
                 threads: int = 1):
        self.model_config, self.train_config = model_config, train_config
        self.encoder_onnx, self.decoder_onnx = bytes(encoder), bytes(decoder)
        self._encoder, self._decoder = _session(self.encoder_onnx, threads), _session(self.decoder_onnx, threads)
        self._set_shape(image_shape, model_config.latent_dim, list(history), train_seconds)

    @classmethod
    def from_record(cls, record: ModelRecord, graphs: dict[str, bytes]) -> OnnxReducer:
        """The reducer of a cached model from its record and its graphs (``{'encoder', 'decoder'}``)."""
        return cls(record.model, record.train, record.image_shape, graphs["encoder"], graphs["decoder"],
                   list(record.history), record.train_seconds)

    # --- inference -------------------------------------------------------------------------------
    def _encode(self, images):
        parts = [self._encoder.run([CODE_NAME], {IMAGE_NAME: np.ascontiguousarray(images[i:i + RUN_CHUNK], np.float32)})[0]
                 for i in range(0, len(images), RUN_CHUNK)]
        return np.concatenate(parts) if parts else np.zeros((0, self.latent_dim_), np.float32)

    def _decode(self, codes):
        parts = [self._decoder.run([IMAGE_NAME], {CODE_NAME: np.ascontiguousarray(codes[i:i + RUN_CHUNK])})[0]
                 for i in range(0, len(codes), RUN_CHUNK)]
        return np.concatenate(parts) if parts else np.zeros((0, *self.image_shape_), np.float32)


__all__ = ["OnnxReducer"]
