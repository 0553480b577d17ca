"""Derived values on disk (core.store.derived): computed once, read back by the next server, gone with the
model they came from, never trusted when damaged, never required when the store cannot be written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import core.store.derived as derived_module
import core.store.shelf as shelf_module
from core.analysis.pixel_pca import fit_pixel_pca
from core.config import DataConfig
from core.data.datasets import load_dataset
from core.models.methods import default_model_config
from core.store.derived import Derived, load_dataset_cached
from core.store.trained import load_or_train

ROOT = Path(__file__).resolve().parent.parent


class Counter:
    """A compute function that counts its calls."""

    def __init__(self, value):
        self.value, self.calls = value, 0

    def __call__(self):
        self.calls += 1
        return self.value


def test_a_value_is_computed_once_and_read_back_by_a_new_reader(tmp_path):
    arrays = Counter({"codes": np.arange(12, dtype=np.float32).reshape(6, 2), "labels": np.arange(6)})
    table = Counter(pd.DataFrame({"latent_dim": [1, 2], "test_mse": [0.5, 0.25]}))
    values = Counter({"test_mse": 0.125, "method": "conv"})
    first = Derived(tmp_path / "d", "model:x:abc")
    for _ in range(2):  # the second call of the same reader and ...
        assert first.arrays("codes", {"n": 6}, arrays)["codes"].shape == (6, 2)
        assert first.table("curve", {}, table)["test_mse"].tolist() == [0.5, 0.25]
        assert first.values("row", {}, values) == {"test_mse": 0.125, "method": "conv"}
    again = Derived(tmp_path / "d", "model:x:abc")  # ... a new server's reader find it on disk
    got = again.arrays("codes", {"n": 6}, arrays)
    np.testing.assert_array_equal(got["codes"], arrays.value["codes"])
    assert got["codes"].dtype == np.float32 and got["labels"].dtype == arrays.value["labels"].dtype
    pd.testing.assert_frame_equal(again.table("curve", {}, table), table.value)
    assert again.values("row", {}, values) == values.value
    assert (arrays.calls, table.calls, values.calls) == (1, 1, 1)
    assert not [p for p in (tmp_path / "d").iterdir() if ".tmp-" in p.name]  # no temporary file left


def test_other_parameters_identity_or_code_version_are_other_entries(tmp_path, monkeypatch):
    compute = Counter({"x": np.zeros(3)})
    Derived(tmp_path, "data:mnist:1").arrays("x", {"max_points": 2000}, compute)
    Derived(tmp_path, "data:mnist:1").arrays("x", {"max_points": 500}, compute)
    Derived(tmp_path, "data:mnist:2").arrays("x", {"max_points": 2000}, compute)
    assert compute.calls == 3
    monkeypatch.setattr(shelf_module, "CODE_VERSION", shelf_module.CODE_VERSION + 1)
    Derived(tmp_path, "data:mnist:1").arrays("x", {"max_points": 2000}, compute)
    assert compute.calls == 4  # a changed computation never serves an old result


@pytest.mark.parametrize("kind", ["arrays", "table", "values"])
def test_a_damaged_or_foreign_file_is_computed_again_not_fatal(tmp_path, kind):
    value = {"arrays": {"x": np.ones(4)}, "table": pd.DataFrame({"a": [1.0]}), "values": {"a": 1.0}}[kind]
    compute = Counter(value)
    store = Derived(tmp_path, "model:m:1")
    getattr(store, kind)("thing", {}, compute)
    [path] = store.files()
    path.write_bytes(b"\x00garbage, as a disk full or a killed copy leaves it")
    getattr(store, kind)("thing", {}, compute)
    assert compute.calls == 2
    getattr(store, kind)("thing", {}, compute)  # the rewritten file is whole again
    assert compute.calls == 2
    # a file copied from another model's folder (same name, other identity) is not believed either
    other = Derived(tmp_path, "model:m:2")
    os.replace(path, other.path("thing", {}, path.suffix))
    getattr(other, kind)("thing", {}, compute)
    assert compute.calls == 3


def test_nothing_is_pickled(tmp_path):
    store = Derived(tmp_path, "model:m:1")
    with pytest.raises(TypeError):  # a value JSON cannot hold: refused at the write, not at a read
        store.values("thing", {}, lambda: {"a": object()})
    store.arrays("objects", {}, lambda: {"x": np.array([{"a": 1}], dtype=object)})  # computed, returned, not kept
    assert not store.files()


def test_a_read_only_store_computes_in_memory_and_writes_nothing(tmp_path):
    compute = Counter({"x": np.arange(3)})
    readonly = Derived(tmp_path / "room", "data:digits:1", writable=False)  # classroom mode
    np.testing.assert_array_equal(readonly.arrays("x", {}, compute)["x"], np.arange(3))
    assert not (tmp_path / "room").exists()
    # what the teacher's own run wrote is read, though
    Derived(tmp_path / "room", "data:digits:1").arrays("x", {}, compute)
    readonly.arrays("x", {}, compute)
    assert compute.calls == 2


def test_a_store_that_cannot_be_written_is_not_an_error(tmp_path):
    blocked = tmp_path / "derived"
    blocked.write_text("a file where the folder should go: every write fails, as on a read-only disk")
    compute = Counter({"a": 1.0})
    for _ in range(2):
        assert Derived(blocked, "model:m:1").values("row", {}, compute) == {"a": 1.0}
    assert compute.calls == 2 and blocked.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["derived"]  # no temporary file left behind


def test_a_saved_model_comes_with_its_first_answers_and_retraining_drops_them(small_digits, store, tiny_train):
    model = default_model_config("dense", 2)
    trained = load_or_train(small_digits, model, tiny_train, store=store)
    first = Derived.of_model(store.root, trained.record)
    names = sorted(p.name.split("-")[0] + "-" + p.name.split("-")[1] for p in first.files())
    assert names == ["error-row", "test-codes"]
    asked = Counter({"x": np.zeros(1)})
    first.arrays("extra", {}, asked)  # something a page computed later for this model
    row = derived_module.error_row_of(first, {}, lambda: pytest.fail("precomputed"), lambda: pytest.fail("precomputed"))
    assert row["test_mse"] == pytest.approx(trained.record.metric("test_mse"), rel=1e-5)

    retrained = load_or_train(small_digits, model, tiny_train, store=store, retrain=True)
    assert retrained.record.name == trained.record.name and retrained.record.created >= trained.record.created
    second = Derived.of_model(store.root, retrained.record)
    assert second.folder == first.folder  # the same path, through the switched link ...
    assert not any(p.name.startswith("extra") for p in second.files())  # ... to a folder without the old model's files
    assert not store.leftovers()

    store.delete(store.root / retrained.record.name)
    assert not second.folder.exists() and not list(store.root.glob(f".{retrained.record.name}.v-*"))


def test_a_failing_derive_never_loses_the_checkpoint(small_digits, store, tiny_train, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(derived_module, "precompute_model", broken)
    trained = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    assert store.find(small_digits.config, trained.record.model, tiny_train) is not None
    assert not Derived.of_model(store.root, trained.record).files()


def test_the_dataset_is_read_back_the_same_and_without_scikit_learn(tmp_path):
    config = DataConfig("digits")
    first = load_dataset_cached(config, None, tmp_path)
    reference = load_dataset(config)
    for got in (first, load_dataset_cached(config, None, tmp_path)):
        np.testing.assert_array_equal(np.asarray(got.train.images), np.asarray(reference.train.images))
        np.testing.assert_array_equal(got.test.labels, reference.test.labels)
        assert (got.name, got.class_names, got.config, got.image_shape) == \
               (reference.name, reference.class_names, reference.config, reference.image_shape)
    code = ("import sys; from core.config import DataConfig; from core.store.derived import load_dataset_cached; "
            f"d = load_dataset_cached(DataConfig('digits'), None, {str(tmp_path)!r}); "
            "print(len(d.train), 'sklearn' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.split() == ["1437", "False", "False"], out.stderr


def test_pixel_pca_is_scikit_learns_pca(digits):
    from sklearn.decomposition import PCA

    x = np.asarray(digits.train.images).reshape(len(digits.train), -1)
    ours = fit_pixel_pca(digits.train.images, 10)
    theirs = PCA(n_components=10, svd_solver="full").fit(x)
    np.testing.assert_allclose(ours.components, theirs.components_, atol=1e-4)  # same directions, same signs
    np.testing.assert_allclose(ours.explained_variance_ratio, theirs.explained_variance_ratio_, rtol=1e-4)
    test = np.asarray(digits.test.images).reshape(len(digits.test), -1)
    np.testing.assert_allclose(ours.projection(2).transform(test), theirs.transform(test)[:, :2], atol=1e-3)
    back = ours.projection(2).inverse_transform(ours.projection(2).transform(test[:5]))
    np.testing.assert_allclose(back, theirs.inverse_transform(np.pad(theirs.transform(test[:5])[:, :2], ((0, 0), (0, 8)))), atol=1e-3)
    reducer = ours.reducer(3, digits.image_shape)
    np.testing.assert_allclose(reducer.encode(digits.test.images[:5]), theirs.transform(test[:5])[:, :3], atol=1e-3)


def cli_rows_and_imports(args: list[str], env: dict, modules: tuple[str, ...]) -> tuple[list[dict], list[str]]:
    """Run ``python -m core *args --json`` in a fresh process: (its JSON rows, which of ``modules`` it imported)."""
    check = ("import json, runpy, sys; modules = json.loads(sys.argv[1]); sys.argv = ['core', *sys.argv[2:]]\n"
             "try:\n    runpy.run_module('core', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(json.dumps([m for m in modules if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", check, json.dumps(modules), *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    return json.loads(lines[0]), json.loads(lines[-1])


def test_the_zoo_keeps_the_pages_first_answers_then_answers_from_the_cache_without_torch(tmp_path):
    args = ["zoo", "--dataset", "digits", "--limit", "200", "--epochs", "1", "--no-pca", "--checkpoints", str(tmp_path), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    trained = subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    assert trained.returncode == 0, trained.stderr
    assert not any(row["cached"] for row in json.loads(trained.stdout))
    folders = {p.name.split("-")[0]: p for p in (tmp_path / derived_module.DATASETS).iterdir()}
    assert set(folders) == {"digits", "architectures"}  # the dataset's values; each zoo model's layer table
    # PCA-k's maps too ("map": the same 2-D view of PCA's code the Latent map draws beside each model's)
    assert {p.name.rsplit("-", 1)[0] for p in folders["digits"].iterdir()} == {"dataset", "pixel-pca", "pca-error-curve", "onnx",
                                                                            "pixel-map-scores", "rd-rows", "denoising-rows",
                                                                            "code-stats", "class-means", "test-codes", "map"}
    kinds = [p.name.rsplit("-", 1)[0] for p in folders["architectures"].iterdir()]
    # 8 models; the denoiser shares conv d=8's layers: a layer table and a decoder size (Compare's column) each
    assert sorted(kinds) == ["architecture"] * 7 + ["decoder-size"] * 7
    for model in (p for p in tmp_path.iterdir() if not p.name.startswith(".")):  # each model's graphs and map scores
        kept = {f.name.rsplit("-", 1)[0] for f in (model / shelf_module.DERIVED).iterdir()}
        assert {"onnx", "map", "error-row", "test-codes", "code-stats", "class-means"} <= kept, model.name
        record = json.loads((model / "record.json").read_text())
        # the Compression page's rows for plain models; the Denoising page's for the denoiser and conv d=8 beside it
        assert ("rd-rows" in kept) == (record["train"]["noise"] is None), model.name
        assert ("denoising-rows" in kept) == (record["model"]["latent_dim"] == 8), model.name

    rows, imported = cli_rows_and_imports(args, env, ("torch",))
    assert len(rows) == 8 and all(row["cached"] for row in rows)
    assert imported == []


def test_denoising_and_compression_rows_kept_per_method_rebuild_the_whole_tables(tmp_path, small_digits):
    """The pages assemble their tables from each method's stored rows: the same numbers as one table over all."""
    from core.analysis.compression import DEFAULT_BITS, DEFAULT_JPEG_QUALITIES, rate_distortion_table, rd_frame
    from core.analysis.denoise import denoising_frame, denoising_table
    from core.config import NoiseConfig
    from core.data.noise import curve_levels

    pca = fit_pixel_pca(small_digits.train.images, 8).reducer(4, small_digits.image_shape)
    shelf, calls = Derived(tmp_path / "kept", "data:test"), []

    def dataset():
        calls.append(1)
        return small_digits

    for _ in range(2):  # the second pass reads every row back: nothing is loaded or computed
        noisy = derived_module.denoising_rows_of(shelf, {"method": "noisy"}, None, dataset, "salt_pepper", n_images=40)
        cleaned = derived_module.denoising_rows_of(shelf, {"method": "pca"}, lambda: pca, dataset, "salt_pepper", n_images=40)
        codes = derived_module.rd_rows_of(shelf, {"method": "pca"}, lambda: pca, dataset, n_images=40)
        jpeg = derived_module.rd_rows_of(shelf, {"method": "jpeg"}, None, dataset, n_images=40)
    assert len(calls) == 4
    noises = [NoiseConfig("salt_pepper", level) for level in curve_levels("salt_pepper")]
    pd.testing.assert_frame_equal(denoising_frame({"noisy": noisy, "PCA": cleaned}),
                                  denoising_table(small_digits, {"PCA": pca}, noises, n_images=40), atol=1e-6)
    whole = rate_distortion_table(small_digits, {"PCA": pca}, DEFAULT_BITS, DEFAULT_JPEG_QUALITIES, n_images=40)
    kept = rd_frame([{"method": "PCA", **row} for row in codes] + [{"method": "JPEG", **row} for row in jpeg])
    pd.testing.assert_frame_equal(kept, whole, atol=1e-6)
    assert curve_levels("salt_pepper")[-1] == 0.8 and curve_levels("gaussian")[-1] == 0.6


def test_pixel_pca_of_large_images_fits_a_bounded_subsample_and_finds_the_same_directions(monkeypatch):
    import core.analysis.pixel_pca as pixel_pca
    from core.data.pixels import Pixels

    rng = np.random.default_rng(0)
    basis = np.linalg.qr(rng.normal(size=(1200, 3)))[0].T  # 3 strong directions in 1,200 values (3 x 20 x 20)
    weights = rng.normal(size=(600, 3)) * [12.0, 8.0, 5.0]
    flat = 0.5 + 0.02 * (weights @ basis) + 0.005 * rng.normal(size=(600, 1200))
    images = Pixels.from_float(np.clip(flat, 0, 1).reshape(600, 3, 20, 20))
    monkeypatch.setattr(pixel_pca, "MAX_RANDOMIZED_VALUES", 200 * 1200)  # room for 200 images at once
    fitted = fit_pixel_pca(images, 3)
    assert fitted.n_samples == 200, "a seeded subsample, not every image converted to float at once"
    overlap = np.abs(fitted.components @ basis.T)  # (3, 3): each found direction against the true ones
    assert overlap.max(axis=1).min() > 0.95, overlap


def test_the_zoo_command_fills_in_what_an_older_models_folder_lacks_and_then_loads_nothing(store, small_digits):
    from core.config import TrainConfig
    from core.store.trained import load_or_train
    from core.store.zoo import default_zoo

    entry = default_zoo()[0]
    trained = load_or_train(small_digits, entry.model, TrainConfig(epochs=1, noise=entry.train.noise), store=store)
    derived = Derived.of_model(store.root, trained.record)
    for path in derived.files():  # as a model saved before these were kept
        path.unlink()
    loads = []

    def dataset():
        loads.append(1)
        return small_digits

    derived_module.precompute_models(store, small_digits.config, dataset)
    assert {p.name.rsplit("-", 1)[0] for p in derived.files()} == {"onnx", "error-row", "test-codes", "rd-rows", "code-stats",
                                                                    "class-means"}
    assert len(loads) == 1
    derived_module.precompute_models(store, small_digits.config, dataset)  # all there: nothing loaded again
    assert len(loads) == 1


def test_a_cached_zoo_command_imports_no_torch_pandas_or_scikit_learn(zoo_dir, tmp_path):
    """`make run` runs `python -m core zoo` before the dashboard: on a trained zoo it only reads."""
    import shutil

    root = tmp_path / "zoo"
    shutil.copytree(zoo_dir, root, symlinks=True)
    args = ["zoo", "--dataset", "digits", "--no-pca", "--checkpoints", str(root), "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
                   check=True)  # fills in anything the copy lacks
    rows, imported = cli_rows_and_imports(args, env, ("torch", "pandas", "pyarrow", "sklearn", "onnxruntime"))
    assert all(row["cached"] for row in rows)
    assert imported == []


# --- issue 22 item 6: a payload is tied to its key by a SHA-256 written with it ---------------------------
def _swap_payload(path: Path, change) -> None:
    """Rewrite a stored file with ``change`` applied to its payload, keeping its key and any hash it holds
    (what a copy of another model's or dataset's values into this file leaves)."""
    if path.suffix == ".npz":
        with np.load(path) as stored:
            entries = dict(stored)
        np.savez(path, **change(entries))
    elif path.suffix == ".json":
        path.write_text(json.dumps(change(json.loads(path.read_text()))))
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        stored = pq.read_table(path)
        frame = change(stored.to_pandas())
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(stored.schema.metadata),
                       str(path))


@pytest.mark.parametrize("kind", ["arrays", "table", "values"])
def test_a_payload_changed_under_its_key_is_computed_again(tmp_path, kind):
    value = {"arrays": {"x": np.arange(4.0)}, "table": pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}),
             "values": {"a": 1.0, "b": [1, 2]}}[kind]
    change = {"arrays": lambda e: {**e, "x": e["x"][::-1].copy()},
              "table": lambda f: f.assign(a=f["a"] * 2),
              "values": lambda s: {**s, "value": {**s["value"], "a": 0.5}}}[kind]
    compute = Counter(value)
    store = Derived(tmp_path, "model:m:1")
    getattr(store, kind)("thing", {}, compute)
    [path] = store.files()
    _swap_payload(path, change)
    got = getattr(store, kind)("thing", {}, compute)
    assert compute.calls == 2
    if kind == "arrays":
        np.testing.assert_array_equal(got["x"], value["x"])
    elif kind == "table":
        pd.testing.assert_frame_equal(got, value)
    else:
        assert got == value
    getattr(store, kind)("thing", {}, compute)  # rewritten whole: read again
    assert compute.calls == 2


@pytest.mark.parametrize("entry", ["test-codes", "error-row"])
def test_tampered_test_codes_or_error_row_are_computed_again(small_digits, store, tiny_train, entry):
    from core.analysis.error_curve import reducer_error_row

    trained = load_or_train(small_digits, default_model_config("dense", 2), tiny_train, store=store)
    derived = Derived.of_model(store.root, trained.record)
    [path] = [p for p in derived.files() if p.name.startswith(entry + "-")]
    if entry == "test-codes":
        _swap_payload(path, lambda e: {**e, "codes": e["codes"][::-1].copy()})  # another order: other images' codes
        got = derived_module.test_codes_of(derived, {}, lambda: trained.reducer, lambda: small_digits)
        np.testing.assert_allclose(got, trained.reducer.encode(small_digits.test.images), atol=1e-6)
    else:
        _swap_payload(path, lambda s: {**s, "value": {**s["value"], "test_mse": s["value"]["test_mse"] / 2}})
        got = derived_module.error_row_of(derived, {}, lambda: trained.reducer, lambda: small_digits)
        want = reducer_error_row(trained.reducer, small_digits)
        assert got.keys() == want.keys()
        assert all(got[k] == (pytest.approx(v, rel=1e-6) if isinstance(v, float) else v) for k, v in want.items())


def test_another_datasets_pixels_under_this_datasets_key_are_detected(tmp_path):
    full, part = DataConfig("digits"), DataConfig("digits", limit=100)
    for config in (full, part):
        load_dataset_cached(config, None, tmp_path)
    [mine] = Derived.of_dataset(tmp_path, full).files()
    [theirs] = Derived.of_dataset(tmp_path, part).files()
    with np.load(mine) as stored:
        key = stored[shelf_module._KEY]
    with np.load(theirs) as stored:
        entries = dict(stored)  # their pixels, labels and (where kept) their hash
    np.savez(mine, **{**entries, shelf_module._KEY: key})
    got = load_dataset_cached(full, None, tmp_path)
    reference = load_dataset(full)
    assert len(got.train) == len(reference.train)
    np.testing.assert_array_equal(got.train.images.raw, reference.train.images.raw)


def test_a_datasets_values_follow_its_content(tmp_path, monkeypatch, digits):
    """Digits' pixels are keyed by scikit-learn's digits file itself, the pixel PCA by the images it fits."""
    copy = tmp_path / "digits.csv.gz"
    monkeypatch.setattr(derived_module, "_embedded_file", lambda package, relative: copy)
    identities = []
    for content in (b"one", b"two"):
        copy.write_bytes(content)
        identities.append(derived_module._source_identity(DataConfig("digits"), None))
    assert identities[0] != identities[1]

    shelf = Derived(tmp_path / "d", "data:digits:1")
    first = derived_module.pixel_pca_of(shelf, digits.train.images[:200])
    other = derived_module.pixel_pca_of(shelf, digits.train.images[200:400])  # the same key, other images
    assert not np.allclose(first.components[:3], other.components[:3], atol=1e-3)
    np.testing.assert_allclose(other.components[:3], fit_pixel_pca(digits.train.images[200:400], 64).components[:3], atol=1e-5)
