"""Export a fitted reducer's decoder so it runs elsewhere (the browser, another language, a phone).

Every reducer hands out its decoder as one torch module (:meth:`core.reducers.Reducer.torch_decoder`);
this module turns that module into ONNX bytes. The dashboard's live decoder (``dashboard/live``) runs
those bytes in the page with onnxruntime-web, and the Decoder playground offers them as a download.
Nothing here knows which method a reducer implements: PCA and every autoencoder export the same way.
"""

from __future__ import annotations

import io
import threading
import warnings

import torch

#: ONNX opset of the exported graphs (onnxruntime-web 1.30 runs opsets up to 23)
OPSET = 18
# torch.export keeps global tracing state: two exports at once in one process (two browser sessions
# opening the playground together) fail with "ProxyTorchDispatchMode slot already occupied"; found by
# bench part "classroom" (8 sessions). One export at a time.
_EXPORT_LOCK = threading.Lock()
INPUT_NAME = "code"
OUTPUT_NAME = "image"


def decoder_onnx(reducer, opset: int = OPSET) -> bytes:
    """The reducer's decoder as a self-contained ONNX model.

    The graph computes exactly what ``reducer.decode`` computes (clipping included): it is
    ``reducer.torch_decoder()`` captured by ``torch.export`` and translated by torch's ONNX exporter
    (``dynamo=True``, which needs the ``onnx`` and ``onnxscript`` packages), weights inlined.

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
    module = reducer.torch_decoder()  # raises NotFittedError before anything is traced
    example = torch.zeros(2, int(reducer.latent_dim_), dtype=torch.float32)
    buffer = io.BytesIO()
    batch = torch.export.Dim("batch", min=1)
    with _EXPORT_LOCK, torch.no_grad(), warnings.catch_warnings():
        # torch.export notes about the decoder's in-place ReLUs and the version converter's notes
        # are noise here: the result is checked against torch by tests/test_export.py
        warnings.simplefilter("ignore")
        program = torch.onnx.export(module, (example,), input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                                    dynamic_shapes=({0: batch},), opset_version=opset, dynamo=True,
                                    external_data=False, verbose=False)
    program.save(buffer)
    return buffer.getvalue()


__all__ = ["decoder_onnx", "OPSET", "INPUT_NAME", "OUTPUT_NAME"]
