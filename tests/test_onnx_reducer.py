"""core.runtime.onnx_reducer: the pages run a trained model's exported graphs in ONNX Runtime, with the same
numbers as torch, and without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from core.config import TrainConfig
from core.models.autoencoder_reducer import AutoencoderReducer
from core.models.methods import AUTOENCODERS, default_model_config
from core.runtime.onnx_reducer import OnnxReducer
from core.store.derived import Derived, onnx_graphs_of, runnable_checkpoint
from core.store.trained import load_or_train
from testkit.app import REPO

TRAIN = TrainConfig(epochs=1, batch_size=64, seed=0)


def exported(reducer) -> OnnxReducer:
    from core.runtime.export import decoder_onnx, encoder_onnx

    return OnnxReducer(reducer.model_config, reducer.train_config, reducer.image_shape_,
                       encoder_onnx(reducer), decoder_onnx(reducer), reducer.history_, reducer.train_seconds_)


@pytest.mark.parametrize("name", AUTOENCODERS)
def test_every_family_gives_torchs_codes_images_and_samples(name, every_reducer, small_digits):
    torch_reducer = every_reducer[name]
    onnx_reducer = exported(torch_reducer)
    images = small_digits.test.images[:50]
    codes = torch_reducer.encode(images)
    np.testing.assert_allclose(onnx_reducer.encode(images), codes, atol=1e-4, rtol=1e-4)
    off_data = np.random.default_rng(0).normal(0, 3, (7, 3)).astype(np.float32)  # far from the training codes
    for some in (codes, codes[:1], off_data):
        np.testing.assert_allclose(onnx_reducer.decode(some), torch_reducer.decode(some), atol=1e-4, rtol=0)
    np.testing.assert_allclose(onnx_reducer.reconstruct(images), torch_reducer.reconstruct(images), atol=1e-4)
    assert (onnx_reducer.label, onnx_reducer.capabilities) == (torch_reducer.label, torch_reducer.capabilities)
    if torch_reducer.capabilities.prior:  # both runtimes draw the same prior samples from a seed
        np.testing.assert_array_equal(onnx_reducer.sample_prior(6, seed=3), torch_reducer.sample_prior(6, seed=3))


def test_large_batches_and_colour_images_go_through_in_chunks():
    images = np.random.default_rng(1).random((2100, 3, 10, 12), dtype=np.float32)  # several chunks, and a rest
    torch_reducer = AutoencoderReducer(default_model_config("conv", 4), TRAIN).fit(images[:256])
    onnx_reducer = exported(torch_reducer)
    codes = onnx_reducer.encode(images)
    assert codes.shape == (2100, 4)
    np.testing.assert_allclose(codes, torch_reducer.encode(images), atol=1e-4, rtol=1e-4)
    decoded = onnx_reducer.decode(codes)
    assert decoded.shape == (2100, 3, 10, 12) and decoded.min() >= 0 and decoded.max() <= 1
    with pytest.raises(ValueError, match="fitted on images of shape"):
        onnx_reducer.encode(images[:, :1])


def test_it_is_a_codec_not_a_trainable_reducer(every_reducer):
    """The contract is split (scikit-learn's transform apart from fit): the ONNX runtime answers what
    pages ask and has no training, saving or export methods to stub."""
    from core.models.reducers import Codec, Reducer

    onnx_reducer = exported(every_reducer["dense"])
    assert isinstance(onnx_reducer, Codec) and not isinstance(onnx_reducer, Reducer)
    assert not any(hasattr(onnx_reducer, name) for name in ("fit", "state", "from_state", "from_config", "torch_decoder"))
    assert all(isinstance(r, Reducer) for r in every_reducer.values()), "PCA and every autoencoder train"


def test_a_page_gets_onnx_once_the_graphs_are_kept_and_torch_before(store, small_digits):
    trained = load_or_train(small_digits, default_model_config("conv", 2), TRAIN, store=store)
    folder = store.root / trained.record.name
    first = runnable_checkpoint(store, folder)  # no graphs yet: torch loads it and exports them for next time
    assert isinstance(first, AutoencoderReducer)
    derived = Derived.of_model(store.root, trained.record)
    assert onnx_graphs_of(derived, {}, None) is not None
    second = runnable_checkpoint(store, folder)
    assert isinstance(second, OnnxReducer)
    images = small_digits.test.images[:20]
    np.testing.assert_allclose(second.reconstruct(images), first.reconstruct(images), atol=1e-4)
    assert second.history_ == list(trained.record.history)


def test_a_retrained_model_never_runs_the_old_graphs(store, small_digits):
    model = default_model_config("dense", 2)
    old = load_or_train(small_digits, model, TRAIN, store=store)
    folder = store.root / old.record.name
    runnable_checkpoint(store, folder)
    assert isinstance(runnable_checkpoint(store, folder), OnnxReducer)
    new = load_or_train(small_digits, model, TRAIN, store=store, retrain=True)
    assert new.record.created != old.record.created
    # the retrained model's version folder starts without graphs: they are exported from its own weights
    assert isinstance(runnable_checkpoint(store, folder), AutoencoderReducer)
    # and graphs are keyed by the weights: another model's graphs are never read for this one
    assert onnx_graphs_of(Derived(Derived.of_model(store.root, new.record).folder, "model:x:other-weights"), {}, None) is None
    assert isinstance(runnable_checkpoint(store, folder), OnnxReducer)


def test_a_read_only_store_loads_torch_and_writes_nothing(store, small_digits):
    trained = load_or_train(small_digits, default_model_config("dense", 2), TRAIN, store=store)
    folder = store.root / trained.record.name
    before = sorted(p.name for p in Derived.of_model(store.root, trained.record).files())
    assert isinstance(runnable_checkpoint(store, folder, writable=False), AutoencoderReducer)
    assert sorted(p.name for p in Derived.of_model(store.root, trained.record).files()) == before


def test_a_corrupt_graph_file_falls_back_to_the_weights(store, small_digits):
    trained = load_or_train(small_digits, default_model_config("dense", 2), TRAIN, store=store)
    folder = store.root / trained.record.name
    runnable_checkpoint(store, folder)
    for path in Derived.of_model(store.root, trained.record).files():
        if path.name.startswith("onnx-"):
            path.write_bytes(b"not an npz")
    reducer = runnable_checkpoint(store, folder)  # read again from the weights (and exported again)
    np.testing.assert_allclose(reducer.encode(small_digits.test.images[:5]), trained.reducer.encode(small_digits.test.images[:5]),
                               atol=1e-5)
    assert isinstance(runnable_checkpoint(store, folder), OnnxReducer)


def test_running_a_kept_model_never_imports_torch(store, small_digits, tmp_path):
    """What the memory and cold-start figures rest on: a process that only views models has no torch."""
    trained = load_or_train(small_digits, default_model_config("vae", 2), TRAIN, store=store)
    folder = store.root / trained.record.name
    runnable_checkpoint(store, folder)  # exports the graphs
    script = f"""
import json, sys
import numpy as np
from core.store.checkpoints import CheckpointStore
from core.store.derived import runnable_checkpoint
from core.analysis import sample_prior
store = CheckpointStore({str(store.root)!r})
reducer = runnable_checkpoint(store, store.root / {trained.record.name!r})
codes = reducer.encode(np.zeros((3, 1, 8, 8), np.float32))
images = sample_prior(reducer, n=4, seed=0)
print(json.dumps({{"type": type(reducer).__name__, "codes": list(codes.shape), "images": list(images.shape),
                   "torch": "torch" in sys.modules}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == {"type": "OnnxReducer", "codes": [3, 2], "images": [4, 1, 8, 8],
                                                        "torch": False}


PAGES = ["train", "compare", "latent_map", "playground", "explore", "denoising", "compression"]


#: pages whose first visit after the zoo command computes nothing worth keeping: every answer is read from disk
READ_ONLY_PAGES = PAGES


@pytest.mark.slow
def test_every_page_runs_without_importing_torch_after_the_zoo_command(zoo_dir, tmp_path):
    """After `python -m core zoo` (which keeps each model's graphs, architecture and table rows, and PCA's),
    a new server's first visit of every page never imports torch (the ~520 MB and 2-3 s it costs are not
    paid), the latent map needs no scikit-learn, and the pages with the costly tables only read them."""
    import shutil

    from core.data.datasets import load_dataset
    from core.store.checkpoints import CheckpointStore
    from core.store.derived import DATASETS, precompute_dataset, precompute_maps, precompute_models

    root = tmp_path / "zoo"
    shutil.copytree(zoo_dir, root, symlinks=True, ignore=shutil.ignore_patterns(DATASETS))  # no dataset-level values
    digits = load_dataset("digits")
    precompute_dataset(root, digits)  # what `python -m core zoo` does after it trained
    precompute_models(CheckpointStore(root), digits.config, lambda: digits)
    precompute_maps(CheckpointStore(root), digits)
    script = f"""
import json, os, sys
from pathlib import Path
os.environ["LATENT_LAB_CHECKPOINTS"] = {str(root)!r}
from streamlit.testing.v1 import AppTest

def kept():  # every derived file (a checkpoint's own files are record.json and model.safetensors)
    return {{str(p) for p in Path({str(root)!r}).rglob("*")
             if p.suffix in (".json", ".npz", ".parquet") and p.name != "record.json" and not p.name.startswith(".")}}

before = kept()
at = AppTest.from_file({str(REPO / "dashboard" / "app.py")!r}, default_timeout=180).run()
seen = {{"home": ["torch" in sys.modules, "sklearn" in sys.modules, len(at.exception), sorted(kept() - before)]}}
for page in {PAGES!r}:
    before = kept()
    at.switch_page(f"views/{{page}}.py").run()
    seen[page] = ["torch" in sys.modules, "sklearn" in sys.modules, len(at.exception), sorted(kept() - before)]
print(json.dumps(seen))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert {page: torch for page, (torch, *_) in seen.items()} == {page: False for page in ["home", *PAGES]}
    assert {page: errors for page, (_, _, errors, _) in seen.items()} == {page: 0 for page in ["home", *PAGES]}
    assert not any(seen[page][1] for page in ["home", "train", "compare", "latent_map"]), "scikit-learn is imported"
    assert {page: seen[page][3] for page in READ_ONLY_PAGES} == {page: [] for page in READ_ONLY_PAGES}


def test_another_models_graph_under_this_models_key_is_refused_and_exported_again(store, small_digits):
    """Issue 22 item 6: model B's decoder (same shapes) put in model A's graph file, under A's key, is
    never run or sent to the browser as A's: the graph says which weights it came from."""
    from importlib.metadata import version

    from core.runtime.export import OPSET

    model = default_model_config("dense", 2)
    a = load_or_train(small_digits, model, TRAIN, store=store)
    b = load_or_train(small_digits, model, TrainConfig(epochs=1, batch_size=64, seed=1), store=store)
    folder_a = store.root / a.record.name
    for trained in (a, b):
        runnable_checkpoint(store, store.root / trained.record.name)  # exports and keeps each model's graphs
    derived_a, derived_b = (Derived.of_model(store.root, t.record) for t in (a, b))
    graphs_b = onnx_graphs_of(derived_b, {}, None)
    codes = np.random.default_rng(0).normal(0, 2, (16, 2)).astype(np.float32)
    assert np.abs(b.reducer.decode(codes) - a.reducer.decode(codes)).max() > 1e-2  # they decode differently

    [path] = [p for p in derived_a.files() if p.name.startswith("onnx-")]
    with np.load(path) as stored:
        entries = dict(stored)
    np.savez(path, **{**entries, "decoder": np.frombuffer(graphs_b["decoder"], np.uint8)})  # A's key (and hash) kept
    assert onnx_graphs_of(derived_a, {}, None) is None  # refused: a page loads A's weights instead
    reducer = runnable_checkpoint(store, folder_a)
    np.testing.assert_allclose(reducer.decode(codes), a.reducer.decode(codes), atol=1e-5)
    again = runnable_checkpoint(store, folder_a)  # exported again from A's weights and kept
    assert isinstance(again, OnnxReducer)
    np.testing.assert_allclose(again.decode(codes), a.reducer.decode(codes), atol=1e-4)

    # written through the shelf (a valid payload hash under A's key): the graph's own metadata still tells
    path.unlink()
    params = {"torch": version("torch"), "opset": OPSET}
    derived_a.arrays("onnx", params, lambda: {part: np.frombuffer(graphs_b[part], np.uint8) for part in graphs_b})
    assert onnx_graphs_of(derived_a, {}, None) is None
    browser = onnx_graphs_of(derived_a, {}, lambda: a.reducer)  # what dashboard.resources.decoder_onnx sends
    decoded = OnnxReducer.from_record(a.record, browser).decode(codes)
    np.testing.assert_allclose(decoded, a.reducer.decode(codes), atol=1e-4)
    assert onnx_graphs_of(derived_a, {}, None) == browser  # and kept in place of B's
