"""Part: which 2-D view of a long code is the latent map's default (issue 21 item 1).

The map of a 30-number code was PCA of the codes (MNIST conv d=30: k-NN accuracy ~0.36, below PCA-2
of the raw pixels), and t-SNE (scikit-learn's Barnes-Hut) was capped at 4,000 points. This part
measures, on the codes of the MNIST conv d=30 model in the checkpoint store, one library at a time:

- scikit-learn's t-SNE, capped as the page had it (2,000 test + 2,000 training points together);
- openTSNE's FFT-accelerated t-SNE (n_jobs=2): every test image (10,000) with the 5,000 seeded
  training images that fit the k-NN score either embedded together or placed by ``transform``, and
  all 70,000 images (embedded together, or 10,000 + 5,000 embedded and 55,000 placed by ``transform``);
- umap-learn (n_jobs=2, unseeded: a seed makes it serial), when it can be imported (it is not a
  requirement: point ``PYTHONPATH`` at a folder holding umap-learn, pynndescent, numba and llvmlite,
  e.g. ``pip install --target /tmp/umap_site --no-deps umap-learn pynndescent numba llvmlite``);
  its first call's JIT compilation is timed apart.

Every map is scored by the latent map's own scorer (:func:`core.analysis.embedding_scores`): k-NN
accuracy of all its test points (5 neighbours among the 5,000 seeded training points on the map) and
trustworthiness against the pixels (2,000 seeded test points). The load average is taken before each
case: the machine is shared, so seconds are relative to it. Install sizes are the files each
distribution installed (``importlib.metadata``), with what they pull in that the project lacks.
"""

from __future__ import annotations

import os
import time
from importlib import metadata

import numpy as np

from bench.common import Options, PartResult, load_average, mnist_dir

NAME = "projection"
TITLE = "The latent map's default 2-D view of a long code: openTSNE vs umap-learn vs scikit-learn's capped t-SNE"
JOBS = 2  # the goals are stated for 2 cores
GOALS = {10_000: 20.0, 70_000: 120.0}  # seconds for the whole map (issue 21)
KNN_GOAL = 0.90  # k-NN accuracy of the default view of MNIST conv d=30 on every test image


def installed_mb(*dists: str) -> float | None:
    """Megabytes of the files these distributions installed (None when one is not installed)."""
    total = 0
    for name in dists:
        try:
            files = metadata.distribution(name).files or []
        except metadata.PackageNotFoundError:
            return None
        for f in files:
            try:
                total += os.path.getsize(f.locate())
            except OSError:
                pass
    return total / 1e6


def conv30_codes(options: Options, quick: bool):
    """(dataset, test codes (10,000, 30), train codes (60,000, 30)) of the store's MNIST conv d=30 model."""
    from core.analysis import encode_rows
    from core.data.datasets import load_dataset
    from core.store.checkpoints import CheckpointStore

    folder = mnist_dir(options)
    if folder is None:
        raise SystemExit("part projection needs MNIST (--data-dir or $LATENT_LAB_DATA_DIR)")
    dataset = load_dataset("mnist", data_dir=folder, limit=3000 if quick else None)
    store = CheckpointStore()
    found = [r for r in store.list().records if r.data.name == "mnist" and r.family == "conv" and r.latent_dim == 30
             and r.train.noise is None and r.data.limit is None]
    if not found:
        raise SystemExit("part projection needs an MNIST conv d=30 model: "
                         "python -m core train --dataset mnist --model conv --latent-dim 30")
    reducer = store.load(found[0])
    test = encode_rows(reducer, dataset.test.images, np.arange(len(dataset.test)))
    train = encode_rows(reducer, dataset.train.images, np.arange(len(dataset.train)))
    return dataset, test, train


def scored(dataset, test_xy, train_xy, train_index, test_codes, test_index=None) -> dict:
    """The latent map's scores of a map of test images ``test_index`` (default: every one) with the
    training images ``train_index`` placed at ``train_xy`` (they fit the k-NN, as on the page)."""
    from core.analysis import Embedding, embedding_scores

    test_index = np.arange(len(test_xy)) if test_index is None else np.asarray(test_index)
    emb = Embedding("conv", test_codes.shape[1], "tsne", np.asarray(test_xy, np.float32), dataset.test.labels[test_index],
                    test_index, np.asarray(train_xy, np.float32), dataset.train.labels[train_index], None,
                    np.asarray(test_codes, np.float32), np.asarray(train_index))
    scores = embedding_scores(emb, dataset)
    return {"kNN": scores["knn_accuracy"], "trust (pixels)": scores["trustworthiness"],
            "trust (codes)": scores["code_trustworthiness"]}


def opentsne(fit: np.ndarray, seed: int = 0):
    """openTSNE with the Latent map's settings (core.analysis.embedding), FFT gradients."""
    from openTSNE import TSNE

    from core.analysis import embedding as e

    return TSNE(n_components=2, perplexity=e.TSNE_PERPLEXITY, n_iter=e.TSNE_ITERATIONS,
                early_exaggeration_iter=e.TSNE_EARLY_ITERATIONS, ints_in_interval=e.TSNE_INTS_IN_INTERVAL,
                neighbors="exact" if len(fit) <= e.TSNE_EXACT_NEIGHBOURS_UP_TO else "auto",
                negative_gradient_method="fft", n_jobs=JOBS, random_state=seed, verbose=False).fit(np.asarray(fit, np.float64))


def umap_fit(fit: np.ndarray):
    import umap

    return umap.UMAP(n_components=2, n_neighbors=15, n_jobs=JOBS).fit(fit)


def case(label: str, library: str, points: int, run, deadline: float = float("inf")) -> dict:
    """Run one case alone (one at a time: the machine is shared) and time it, with the load before it
    and the CPU seconds of this process (all its threads: on a loaded machine the wall time is mostly
    waiting for a core); a case that would start after ``deadline`` (perf_counter) is skipped."""
    load = load_average()[0]
    row = {"library": library, "case": label, "points": points, "load (1 min)": load}
    if time.perf_counter() > deadline:
        return row | {"note": "skipped: past --budget"}
    print(f"  {label} ({points:,} points), load {load:.1f} ...", flush=True)
    start, cpu = time.perf_counter(), time.process_time()
    try:
        out = run()
    except Exception as exc:  # noqa: BLE001 - one failing library must not lose the other rows
        out = {"note": f"failed: {type(exc).__name__}: {exc}"}
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"    {seconds:.1f} s ({cpu:.1f} s CPU) {out}", flush=True)
    return {"library": library, "case": label, "points": points, "seconds": seconds, "CPU s": cpu, "load (1 min)": load, **out}


def run(options: Options) -> PartResult:
    from core.analysis import embedding, subset_index
    from core.analysis.embedding import MAX_TRAIN_POINTS

    dataset, test, train = conv30_codes(options, options.quick)
    n_test, n_train = len(test), len(train)
    fit = subset_index(n_train, MAX_TRAIN_POINTS, 1)  # the page's seeded k-NN training rows (seed + 1)
    rest = np.setdiff1d(np.arange(n_train), fit)
    rows: list[dict] = []

    def pca_codes():
        from sklearn.decomposition import PCA

        pca = PCA(2, random_state=0).fit(train[fit])
        return scored(dataset, pca.transform(test), pca.transform(train[fit]), fit, test)

    def pixels_pca():
        from sklearn.decomposition import PCA

        flat = lambda x: np.asarray(x, np.float32).reshape(len(x), -1)  # noqa: E731
        pca = PCA(2, random_state=0).fit(flat(dataset.train.images))
        xy = pca.transform(flat(dataset.test.images))
        out = scored(dataset, xy, pca.transform(flat(dataset.train.images[fit])), fit, flat(dataset.test.images))
        return {**out, "trust (codes)": out["trust (pixels)"]}

    def sklearn_capped():
        from sklearn.manifold import TSNE

        test_rows, train_rows = subset_index(n_test, 2000, 0), subset_index(n_train, 2000, 1)
        both = np.concatenate([train[train_rows], test[test_rows]])
        xy = TSNE(2, perplexity=30, init="pca", learning_rate="auto", random_state=0, max_iter=500).fit_transform(both)
        return scored(dataset, xy[len(train_rows):], xy[:len(train_rows)], train_rows, test[test_rows], test_rows) | {
            "note": "2,000 test + 2,000 training together (the page's cap: 4,000); scored on those 2,000"}

    def open_test_then_transform():
        start, cpu = time.perf_counter(), time.process_time()
        emb = opentsne(test)
        fitted, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
        placed = emb.transform(np.asarray(train[fit], np.float64))
        return scored(dataset, emb, placed, fit, test) | {
            "note": f"embed the 10,000 test codes ({fitted:.1f} s, {fit_cpu:.1f} s CPU), place the 5,000 k-NN "
                    "training codes by transform"}

    def open_together():
        emb = opentsne(np.concatenate([train[fit], test]))
        return scored(dataset, emb[len(fit):], emb[:len(fit)], fit, test) | {
            "note": "10,000 test + 5,000 k-NN training codes embedded together"}

    def open_all_together():
        order = np.concatenate([fit, rest])
        emb = opentsne(np.concatenate([train[order], test]))
        return scored(dataset, emb[n_train:], emb[:len(fit)], fit, test) | {
            "note": "all 70,000 codes embedded together"}

    def open_test_then_transform_all():
        """What the Latent map computes for 'all (train + test)': core.analysis.embedding.tsne_plane."""
        from core.analysis.embedding import tsne_plane

        start, cpu = time.perf_counter(), time.process_time()
        test_xy, train_xy = tsne_plane(test, train)
        placing, placing_cpu = time.perf_counter() - start, time.process_time() - cpu
        return scored(dataset, test_xy, train_xy[fit], fit, test) | {
            "note": f"the project's tsne_plane: the 10,000 test codes embedded, all 60,000 training codes placed by "
                    f"transform ({placing:.1f} s, {placing_cpu:.1f} s CPU in all)"}

    def umap_warmup():
        umap_fit(np.random.default_rng(0).normal(size=(500, 30)).astype(np.float32))
        return {"note": "first call: numba compiles umap-learn's functions (once per process; cached on disk after)"}

    def umap_test_then_transform():
        start, cpu = time.perf_counter(), time.process_time()
        model = umap_fit(test)
        fitted, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
        return scored(dataset, model.embedding_, model.transform(train[fit]), fit, test) | {
            "note": f"fit on the 10,000 test codes ({fitted:.1f} s, {fit_cpu:.1f} s CPU), the 5,000 k-NN training "
                    "codes placed by transform"}

    def umap_all():
        order = np.concatenate([fit, rest])
        model = umap_fit(np.concatenate([train[order], test]))
        xy = model.embedding_
        return scored(dataset, xy[n_train:], xy[:len(fit)], fit, test) | {
            "note": "all 70,000 codes fitted together"}

    open_mb = installed_mb("openTSNE")
    umap_mb = installed_mb("umap-learn", "pynndescent", "numba", "llvmlite")
    try:
        import umap  # noqa: F401
        has_umap, notes = True, []
    except Exception as exc:  # noqa: BLE001 - not installed, or numba failing to load
        has_umap, notes = False, [f"umap-learn not importable here ({type(exc).__name__}): its rows are missing"]
    deadline = time.perf_counter() + (options.budget or float("inf"))  # cases starting later are skipped
    plan = [("PCA-2 of the pixels (today's left map)", "scikit-learn", n_test, pixels_pca, 0.0),
            ("PCA-2 of the codes (today's default)", "scikit-learn", n_test, pca_codes, 0.0),
            ("t-SNE, capped", "scikit-learn (Barnes-Hut)", 4000, sklearn_capped, 0.0),
            ("t-SNE of every test code + transform", "openTSNE (FFT)", n_test + len(fit), open_test_then_transform, open_mb)]
    if has_umap:
        plan += [("UMAP JIT warm-up (500 random points)", "umap-learn", 500, umap_warmup, umap_mb),
                 ("UMAP of every test code + transform", "umap-learn", n_test + len(fit), umap_test_then_transform, umap_mb)]
    plan += [("t-SNE of every test code + transform of all training codes", "openTSNE (FFT)", n_test + n_train,
              open_test_then_transform_all, open_mb),
             ("t-SNE of every test code, together", "openTSNE (FFT)", n_test + len(fit), open_together, open_mb),
             ("t-SNE of every image, together", "openTSNE (FFT)", n_test + n_train, open_all_together, open_mb)]
    if has_umap:
        plan.append(("UMAP of every image, together", "umap-learn", n_test + n_train, umap_all, umap_mb))
    for label, library, points, fn, size in plan:
        rows.append(case(label, library, points, fn, deadline) | {"install MB": size})
    goals = []
    for row in rows:
        limit = GOALS.get(10_000 if row["points"] <= 15_000 else 70_000) if row["library"].startswith(("openTSNE", "umap")) else None
        if limit is not None and "warm-up" not in row["case"] and "seconds" in row:
            goals.append(f"{row['library']} {row['case']}: {row['seconds']:.1f} s at load {row['load (1 min)']:.1f} "
                         f"(goal <= {limit:.0f} s on 2 cores), k-NN {row.get('kNN', float('nan')):.3f} (goal >= {KNN_GOAL})")
    notes += [f"codes: MNIST conv d=30 from the checkpoint store, {n_test:,} test and {n_train:,} training images",
              f"openTSNE {metadata.version('openTSNE')}: the Latent map's settings (core.analysis.embedding."
              f"projection_params('tsne'): {embedding.projection_params('tsne')}), FFT gradients, n_jobs={JOBS}; "
              "transform: openTSNE's defaults (perplexity 5, 250 iterations)",
              "install MB: installed files; openTSNE needs only NumPy, SciPy and scikit-learn (already required); "
              "umap-learn needs numba + llvmlite + pynndescent (wheels 64 MB for cp311)",
              "trust (pixels) is the page's trustworthiness (2,000 seeded test points against their pixels); "
              "trust (codes) against the codes the map flattens"]
    return PartResult(NAME, TITLE, rows, goals, notes)
