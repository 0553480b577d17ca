"""core.runtime.export: every reducer's decoder exports to ONNX that computes what ``reducer.decode`` does."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from sklearn.exceptions import NotFittedError

from core.config import TrainConfig
from core.models.methods import METHODS, build_reducer, default_model_config
from core.runtime.export import CODE_NAME, IMAGE_NAME, decoder_onnx


def fitted(name: str, images: np.ndarray, latent_dim: int = 3):
    return build_reducer(default_model_config(name, latent_dim), TrainConfig(epochs=1, seed=0)).fit(images)


def run_onnx(blob: bytes, codes: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    return session.run([IMAGE_NAME], {CODE_NAME: codes.astype(np.float32)})[0]


@pytest.mark.parametrize("name", list(METHODS))
def test_exported_decoder_is_valid_and_matches_torch(name, small_digits):
    reducer = fitted(name, small_digits.train.images)
    blob = decoder_onnx(reducer)
    model = onnx.load_from_string(blob)
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == [CODE_NAME]
    assert [o.name for o in model.graph.output] == [IMAGE_NAME]
    batch_axis = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_axis.dim_param and not batch_axis.dim_value  # symbolic: any batch size

    codes = np.concatenate([reducer.encode(small_digits.test.images[:5]),
                            np.random.default_rng(0).normal(0, 3, (4, 3)).astype(np.float32)])  # off the data too
    for n in (1, len(codes)):
        got = run_onnx(blob, codes[:n])
        want = reducer.decode(codes[:n])
        assert got.shape == want.shape == (n, 1, 8, 8)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)
    assert got.min() >= 0.0 and got.max() <= 1.0


@pytest.mark.parametrize("name", ["pca", "conv", "conv_pool", "dense"])
def test_colour_images_export(name):
    images = np.random.default_rng(1).random((64, 3, 10, 12), dtype=np.float32)
    reducer = fitted(name, images, latent_dim=4)
    codes = reducer.encode(images[:5])
    got = run_onnx(decoder_onnx(reducer), codes)
    assert got.shape == (5, 3, 10, 12)
    np.testing.assert_allclose(got, reducer.decode(codes), atol=1e-4, rtol=0)


def test_unfitted_reducer_is_refused():
    with pytest.raises(NotFittedError):
        decoder_onnx(build_reducer(default_model_config("conv", 2)))


def test_exports_from_several_threads_at_once_all_succeed(small_digits):
    """Browser sessions open the playground together: their exports run in parallel threads."""
    from concurrent.futures import ThreadPoolExecutor

    from core.config import TrainConfig
    from core.models.methods import build_reducer, default_model_config

    reducers = [build_reducer(default_model_config(m, 2), TrainConfig(epochs=1)).fit(small_digits.train.images)
                for m in ("conv", "dense", "pca")]
    with ThreadPoolExecutor(max_workers=6) as pool:
        blobs = list(pool.map(decoder_onnx, reducers * 2))
    assert all(len(blob) > 100 for blob in blobs)
    assert blobs[0] == blobs[3]  # the same model exports the same bytes


def test_the_graph_keeps_its_metadata_and_it_reads_back_without_onnx(small_digits):
    from core.runtime.export import encoder_onnx, graph_metadata

    reducer = fitted("dense", small_digits.train.images)
    source = {"latent_lab.weights_sha256": "ab" * 32, "note": "ünïcode"}
    for blob in (decoder_onnx(reducer, metadata=source), encoder_onnx(reducer, metadata=source)):
        want = {p.key: p.value for p in onnx.load_from_string(blob).metadata_props}
        assert graph_metadata(blob) == want == source
    assert graph_metadata(decoder_onnx(reducer)) == {}
    with pytest.raises(ValueError):
        graph_metadata(decoder_onnx(reducer, metadata=source)[:-7])  # cut short
