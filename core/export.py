"""Export a fitted reducer's encoder and decoder so they run elsewhere (the browser, ONNX Runtime,
another language, a phone).

Every reducer hands out its encoder and decoder as torch modules (:meth:`core.reducers.Reducer.torch_encoder`,
:meth:`~core.reducers.Reducer.torch_decoder`); this module turns them into ONNX bytes. The dashboard's
live decoder (``dashboard/live``) runs the decoder in the page with onnxruntime-web, the Decoder
playground offers it as a download, and :class:`core.onnx_reducer.OnnxReducer` runs both on the
server without torch. Nothing here knows which method a reducer implements: PCA and every
autoencoder export the same way. Torch is imported when an export runs, not with this module.
"""

from __future__ import annotations

import io
import threading
import warnings

#: ONNX opset of the exported graphs (onnxruntime-web 1.30 runs opsets up to 23)
OPSET = 18
# torch.export keeps global tracing state: two exports at once in one process (two browser sessions
# opening the playground together) fail with "ProxyTorchDispatchMode slot already occupied"; found by
# bench part "classroom" (8 sessions). One export at a time.
_EXPORT_LOCK = threading.Lock()
CODE_NAME = "code"  # the decoder's input and the encoder's output
IMAGE_NAME = "image"  # the decoder's output and the encoder's input


def _export(module, example, input_name: str, output_name: str, opset: int) -> bytes:
    """``module`` captured by ``torch.export`` with a free batch axis and translated to ONNX
    (``dynamo=True``, which needs the ``onnx`` and ``onnxscript`` packages), weights inlined."""
    import torch

    buffer = io.BytesIO()
    batch = torch.export.Dim("batch", min=1)
    with _EXPORT_LOCK, torch.no_grad(), warnings.catch_warnings():
        # torch.export notes about the networks' in-place ReLUs and the version converter's notes
        # are noise here: the result is checked against torch by tests/test_export.py
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (example,), input_names=[input_name], output_names=[output_name],
                                    dynamic_shapes=({0: batch},), opset_version=opset, dynamo=True,
                                    external_data=False, verbose=False)
    program.save(buffer)
    return buffer.getvalue()


def decoder_onnx(reducer, opset: int = OPSET) -> bytes:
    """The reducer's decoder as a self-contained ONNX model.

    The graph computes exactly what ``reducer.decode`` computes (clipping included): it is
    ``reducer.torch_decoder()`` captured by ``torch.export`` and translated by torch's ONNX exporter.

    Parameters
    ----------
    reducer : core.reducers.Reducer
        A fitted reducer (PCA or any autoencoder) with ``latent_dim_`` and ``image_shape_``.
    opset : int
        ONNX opset version to target.

    Returns
    -------
    bytes
        A serialized ``onnx.ModelProto`` with one input ``"code"``: float32 of shape
        (N, latent_dim_), and one output ``"image"``: float32 of shape (N, C, H, W) in [0, 1],
        where N (the batch axis, named ``"batch"``) may take any size.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the reducer has not been fitted.

    Examples
    --------
    >>> blob = decoder_onnx(reducer)                                         # doctest: +SKIP
    >>> import onnxruntime; session = onnxruntime.InferenceSession(blob)     # doctest: +SKIP
    >>> session.run(["image"], {"code": codes.astype("float32")})[0].shape   # doctest: +SKIP
    (5, 1, 8, 8)
    """
    import torch

    module = reducer.torch_decoder()  # raises NotFittedError before anything is traced
    example = torch.zeros(2, int(reducer.latent_dim_), dtype=torch.float32)
    return _export(module, example, CODE_NAME, IMAGE_NAME, opset)


def encoder_onnx(reducer, opset: int = OPSET) -> bytes:
    """The reducer's encoder as a self-contained ONNX model (what ``reducer.encode`` computes; a
    VAE's mean).

    Parameters
    ----------
    reducer : core.reducers.Reducer
        A fitted reducer (PCA or any autoencoder).
    opset : int
        ONNX opset version to target.

    Returns
    -------
    bytes
        A serialized ``onnx.ModelProto`` with one input ``"image"``: float32 of shape
        (N, C, H, W) = (N, *image_shape_), and one output ``"code"``: float32 of shape (N, latent_dim_).

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the reducer has not been fitted.
    """
    import torch

    module = reducer.torch_encoder()
    example = torch.zeros(2, *(int(s) for s in reducer.image_shape_), dtype=torch.float32)
    return _export(module, example, IMAGE_NAME, CODE_NAME, opset)


__all__ = ["decoder_onnx", "encoder_onnx", "OPSET", "CODE_NAME", "IMAGE_NAME"]
