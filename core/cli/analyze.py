"""``python -m core analyze error-vs-latent | embedding | denoise | rate-distortion | learning``.

Each command loads the dataset, gets its reducers from the checkpoint store (every method alike:
loaded when cached, else fitted or trained once with the default configs, the same models the
dashboard's zoo uses) and prints the analysis table, or JSON rows with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from core.cli.options import (
    CliParser,
    add_data_options,
    add_train_options,
    data_config_from_args,
    dataset_loader,
    method_list,
    noise,
    positive_int,
    positive_int_list,
    progress_bar,
    train_config_from_args,
)
from core.models.methods import default_model_config, get_method, model_label

DEFAULT_NOISES = "gaussian:0.1,gaussian:0.3,gaussian:0.5,salt_pepper:0.1,salt_pepper:0.3,masking:0.25,masking:0.5"
PROJECTION_NAMES = ("auto", "code", "pca", "tsne")


def _noise_list(text: str) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected noises like gaussian:0.5,masking:0.3; got {text!r}")
    return [noise(t) for t in items]


def _projections(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in PROJECTION_NAMES]
    if not items or bad:
        raise argparse.ArgumentTypeError(f"projections must be from {', '.join(PROJECTION_NAMES)}; got {text!r}")
    return items


def _jpeg_qualities(text: str) -> list[int]:
    values = positive_int_list(text)
    if max(values) > 95:
        raise argparse.ArgumentTypeError(f"JPEG qualities must be between 1 and 95; got {text!r}")
    return values


def _bit_depths(text: str) -> list[int]:
    values = positive_int_list(text)
    if max(values) > 24:
        raise argparse.ArgumentTypeError(f"bits per coordinate must be between 1 and 24; got {text!r}")
    return values


def add_analyze_parser(subparsers) -> None:
    """Add ``analyze`` and its four commands to ``python -m core``'s sub-parsers."""
    analyze = subparsers.add_parser("analyze", help="analysis tables: error-vs-latent, embedding, denoise, rate-distortion",
                                    description="The comparisons the dashboard draws, as tables or JSON rows.")
    sub = analyze.add_subparsers(dest="analysis", required=True, parser_class=CliParser)

    def command(name, help_text, handler, methods, latent_dim):
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_data_options(p)
        add_train_options(p)
        p.add_argument("--methods", type=method_list, default=methods,
                       help=f"comma list of pca and model families (default: {','.join(methods)})")
        if latent_dim is not None:
            p.add_argument("--latent-dim", type=positive_int, default=latent_dim, help=f"code size (default {latent_dim})")
        p.add_argument("--sample-seed", dest="analysis_seed", type=int, default=0,
                       help="seed of the test subsamples (and t-SNE); --seed seeds training")
        p.set_defaults(handler=handler)
        return p

    p = command("error-vs-latent", "held-out error against latent size: PCA at every size from one fit, "
                "autoencoders at the sizes cached or asked for", cmd_error_vs_latent, ["pca", "conv"], None)
    p.add_argument("--latent-dims", "--latent-dim", dest="latent_dims", type=positive_int_list, default=[],
                   help="autoencoder sizes to train/load, e.g. 2,8,30 (cached ones are always shown)")
    p.add_argument("--max-pca-dim", type=positive_int, help="largest PCA size (default min(64, pixels))")

    p = command("embedding", "2-D maps of the test split: k-NN accuracy and trustworthiness, "
                "with PCA-2 of the pixels as baseline", cmd_embedding, ["pca", "conv"], None)
    p.add_argument("--latent-dims", "--latent-dim", dest="latent_dims", type=positive_int_list, default=[2],
                   help="code sizes, e.g. 2,30 (default 2); each method is trained or loaded at each size")
    p.add_argument("--projections", type=_projections, default=["auto"],
                   help="comma list of auto, code, pca, tsne (default auto: the code when 2-D, else t-SNE of "
                        "every test code, openTSNE)")
    p.add_argument("--max-points", type=positive_int, default=None,
                   help="test points per map (default: the whole test split up to 10,000, a seeded sample past it)")

    p = command("denoise", "PSNR/SSIM of noisy test images and of reconstructions by PCA, "
                "plain and denoising autoencoders", cmd_denoise, ["pca", "conv"], 8)
    p.add_argument("--noises", type=_noise_list, default=_noise_list(DEFAULT_NOISES),
                   help=f"comma list of kind:level (default {DEFAULT_NOISES})")
    p.add_argument("--train-noise", type=noise, help="noise the denoising autoencoders are trained with "
                   "(default gaussian:0.3, as in the model zoo)")
    p.add_argument("--n-images", type=positive_int, default=500, help="test images (default 500)")

    p = command("rate-distortion", "bits per image against PSNR: quantised PCA and autoencoder codes vs JPEG",
                cmd_rate_distortion, ["pca", "conv"], 8)
    p.add_argument("--bits", type=_bit_depths, default=[1, 2, 3, 4, 5, 6, 8], help="bits per code coordinate")
    p.add_argument("--jpeg-qualities", type=_jpeg_qualities, default=[5, 10, 20, 30, 50, 70, 90],
                   help="Pillow JPEG qualities (1..95)")
    p.add_argument("--n-images", type=positive_int, default=500, help="test images (default 500)")

    command("learning", "watch it learn: one row per kept moment of each model's training (held-out error, "
            "k-NN accuracy of its 2-D view, the linear family's largest principal angle to PCA); models are trained "
            "as the zoo trains them (the linear family with its own recipe), so the rows are the lesson's",
            cmd_learning, ["dense", "linear"], 2)


# --- reducers ------------------------------------------------------------------------------------
def _fitted(args, dataset, method: str, latent_dim: int, train_noise=None):
    """The reducer of one method from the checkpoint store (fitted or trained once when missing)."""
    from core.store.checkpoints import CheckpointStore
    from core.store.trained import load_or_train

    model = default_model_config(method, latent_dim)
    train = train_config_from_args(args, dataset, train_noise)
    callback, close = progress_bar(model_label(model, train), quiet=args.json)
    try:
        return load_or_train(dataset(), model, train, store=CheckpointStore(args.checkpoints),
                             callback=callback, retrain=args.retrain).reducer
    finally:
        close()


def _reducers(args, dataset, latent_dim: int) -> dict:
    """Method title -> fitted reducer, for every method asked for."""
    return {get_method(m).title: _fitted(args, dataset, m, latent_dim) for m in args.methods}


# --- output --------------------------------------------------------------------------------------
def _clean(value):
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if hasattr(value, "item"):  # numpy scalars
        return _clean(value.item())
    return value


def _emit(args, frame, columns: list[str], seconds: float) -> int:
    rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    if args.json:
        print(json.dumps(rows))
    else:
        print(frame[[c for c in columns if c in frame]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        print(f"({len(rows)} rows; analysis took {seconds:.2f} s after loading the models)", file=sys.stderr)
    return 0


# --- commands ------------------------------------------------------------------------------------
def _cached_models(args, methods: list[str]) -> list:
    """Cached plain (not denoising) models of these methods trained on this exact data config."""
    from core.store.checkpoints import CheckpointStore

    store = CheckpointStore(args.checkpoints)
    data = data_config_from_args(args)
    return [store.load(r) for r in store.list().records
            if r.data == data and r.family in methods and r.train.noise is None]


def cmd_error_vs_latent(args) -> int:
    import pandas as pd

    from core.analysis.error_curve import ERROR_COLUMNS, pca_error_curve, reducer_error_row

    dataset = dataset_loader(args)
    # PCA is the curve (every size from one fit); learned methods are points at their sizes
    learned = [m for m in args.methods if get_method(m).capabilities.learned]
    reducers = {(r.method, r.latent_dim_, r.train_config): r for r in _cached_models(args, learned)}
    for method in learned:
        for latent_dim in args.latent_dims:
            reducer = _fitted(args, dataset, method, latent_dim)
            reducers[(reducer.method, reducer.latent_dim_, reducer.train_config)] = reducer
    start = time.perf_counter()
    frame = pca_error_curve(dataset(), args.max_pca_dim)
    extra = [reducer_error_row(r, dataset()) for r in reducers.values()]
    if extra:
        extra.sort(key=lambda row: (row["method"], row["latent_dim"]))
        frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    return _emit(args, frame, ERROR_COLUMNS, time.perf_counter() - start)


def cmd_embedding(args) -> int:
    from core.analysis.embedding import DEFAULT_MAP_POINTS, EMBEDDING_COLUMNS, embedding_table

    dataset = dataset_loader(args)
    reducers = [r for d in args.latent_dims for r in _reducers(args, dataset, d).values()]
    points = args.max_points or min(len(dataset().test), DEFAULT_MAP_POINTS)  # the Latent map's default
    start = time.perf_counter()
    frame = embedding_table(dataset(), reducers, args.projections, points, args.analysis_seed)
    return _emit(args, frame, EMBEDDING_COLUMNS, time.perf_counter() - start)


def cmd_denoise(args) -> int:
    from core.analysis.denoise import DENOISE_COLUMNS, denoising_table
    from core.store.zoo import DENOISING_NOISE

    dataset = dataset_loader(args)
    reducers = {}
    for method in args.methods:
        plain = _fitted(args, dataset, method, args.latent_dim)
        reducers[plain.method] = plain
        if get_method(method).capabilities.learned:  # a network can also be trained on noisy inputs
            denoiser = _fitted(args, dataset, method, args.latent_dim, args.train_noise or DENOISING_NOISE)
            reducers[denoiser.method] = denoiser
    start = time.perf_counter()
    frame = denoising_table(dataset(), reducers, args.noises, args.n_images, args.analysis_seed)
    return _emit(args, frame, DENOISE_COLUMNS, time.perf_counter() - start)


def cmd_learning(args) -> int:
    from core.cli.commands import print_rows
    from core.learning import load_moments
    from core.learning.table import LEARNING_COLUMNS, learning_rows
    from core.store.checkpoints import CheckpointStore
    from core.store.trained import load_or_train
    from core.store.zoo import zoo_train_config

    dataset = dataset_loader(args)
    store = CheckpointStore(args.checkpoints)
    rows = []
    for method in args.methods:
        if not get_method(method).capabilities.learned:
            print(f"{method} is fitted, not trained: it has no learning moments", file=sys.stderr)
            continue
        model = default_model_config(method, args.latent_dim)
        train = zoo_train_config(model, train_config_from_args(args, dataset))
        callback, close = progress_bar(model_label(model, train), quiet=args.json)
        try:  # trained or loaded like `compare` and `zoo`: the zoo's checkpoint when it is cached
            trained = load_or_train(dataset(), model, train, store=store, callback=callback, retrain=args.retrain)
        finally:
            close()
        moments = load_moments(store, trained.record)
        if moments is None:
            print(f"{model_label(model, train)} was trained before moments were kept: pass --retrain to train it "
                  "again and watch it learn", file=sys.stderr)
            continue
        rows += learning_rows(moments, trained.record.method, args.analysis_seed)
    print_rows(rows, args.json, LEARNING_COLUMNS)
    return 0


def cmd_rate_distortion(args) -> int:
    from core.analysis.compression import RD_COLUMNS, rate_distortion_table

    dataset = dataset_loader(args)
    reducers = _reducers(args, dataset, args.latent_dim)
    start = time.perf_counter()
    frame = rate_distortion_table(dataset(), reducers, args.bits, args.jpeg_qualities, args.n_images, args.analysis_seed)
    return _emit(args, frame, RD_COLUMNS, time.perf_counter() - start)
