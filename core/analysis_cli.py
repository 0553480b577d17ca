"""``python -m core analyze error-vs-latent | embedding | denoise | rate-distortion``.

Each command loads the dataset, builds its reducers (PCA fitted on the spot, autoencoders loaded
from the checkpoint cache or trained once with the default configs: the same models the
dashboard's zoo uses) and prints the analysis table, or JSON rows with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

from core.cli import (_methods, _noise, _positive_int_list, add_data_options, add_train_options,
                      data_config_from_args, dataset_loader, progress_bar, train_config_from_args)

DEFAULT_NOISES = "gaussian:0.1,gaussian:0.3,gaussian:0.5,salt_pepper:0.1,salt_pepper:0.3,masking:0.25,masking:0.5"
PROJECTION_NAMES = ("auto", "code", "pca", "tsne")


def _noise_list(text: str) -> list:
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise argparse.ArgumentTypeError(f"expected noises like gaussian:0.5,masking:0.3; got {text!r}")
    return [_noise(t) for t in items]


def _projections(text: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    bad = [t for t in items if t not in PROJECTION_NAMES]
    if not items or bad:
        raise argparse.ArgumentTypeError(f"projections must be from {', '.join(PROJECTION_NAMES)}; got {text!r}")
    return items


def _jpeg_qualities(text: str) -> list[int]:
    values = _positive_int_list(text)
    if max(values) > 95:
        raise argparse.ArgumentTypeError(f"JPEG qualities must be between 1 and 95; got {text!r}")
    return values


def _bit_depths(text: str) -> list[int]:
    values = _positive_int_list(text)
    if max(values) > 24:
        raise argparse.ArgumentTypeError(f"bits per coordinate must be between 1 and 24; got {text!r}")
    return values


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def add_analyze_parser(subparsers) -> None:
    """Add ``analyze`` and its four commands to ``python -m core``'s sub-parsers."""
    from core.cli import CliParser

    analyze = subparsers.add_parser("analyze", help="analysis tables: error-vs-latent, embedding, denoise, rate-distortion",
                                    description="The comparisons the dashboard draws, as tables or JSON rows.")
    sub = analyze.add_subparsers(dest="analysis", required=True, parser_class=CliParser)

    def command(name, help_text, handler, methods, latent_dim):
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_data_options(p)
        add_train_options(p)
        p.add_argument("--methods", type=_methods, default=methods,
                       help=f"comma list of pca and model families (default: {','.join(methods)})")
        if latent_dim is not None:
            p.add_argument("--latent-dim", type=_positive, default=latent_dim, help=f"code size (default {latent_dim})")
        p.add_argument("--sample-seed", dest="analysis_seed", type=int, default=0,
                       help="seed of the test subsamples (and t-SNE); --seed seeds training")
        p.set_defaults(handler=handler)
        return p

    p = command("error-vs-latent", "held-out error against latent size: PCA at every size from one fit, "
                "autoencoders at the sizes cached or asked for", cmd_error_vs_latent, ["pca", "conv"], None)
    p.add_argument("--latent-dims", "--latent-dim", dest="latent_dims", type=_positive_int_list, default=[],
                   help="autoencoder sizes to train/load, e.g. 2,8,30 (cached ones are always shown)")
    p.add_argument("--max-pca-dim", type=_positive, help="largest PCA size (default min(64, pixels))")

    p = command("embedding", "2-D maps of the test split: k-NN accuracy and trustworthiness, "
                "with PCA-2 of the pixels as baseline", cmd_embedding, ["pca", "conv"], 2)
    p.add_argument("--projections", type=_projections, default=["auto"],
                   help="comma list of auto, code, pca, tsne (default auto: the code when 2-D, else PCA of the codes)")
    p.add_argument("--max-points", type=_positive, default=2000, help="test points per map (default 2000)")

    p = command("denoise", "PSNR/SSIM of noisy test images and of reconstructions by PCA, "
                "plain and denoising autoencoders", cmd_denoise, ["pca", "conv"], 8)
    p.add_argument("--noises", type=_noise_list, default=_noise_list(DEFAULT_NOISES),
                   help=f"comma list of kind:level (default {DEFAULT_NOISES})")
    p.add_argument("--train-noise", type=_noise, help="noise the denoising autoencoders are trained with "
                   "(default gaussian:0.3, as in the model zoo)")
    p.add_argument("--n-images", type=_positive, default=500, help="test images (default 500)")

    p = command("rate-distortion", "bits per image against PSNR: quantised PCA and autoencoder codes vs JPEG",
                cmd_rate_distortion, ["pca", "conv"], 8)
    p.add_argument("--bits", type=_bit_depths, default=[1, 2, 3, 4, 5, 6, 8], help="bits per code coordinate")
    p.add_argument("--jpeg-qualities", type=_jpeg_qualities, default=[5, 10, 20, 30, 50, 70, 90],
                   help="Pillow JPEG qualities (1..95)")
    p.add_argument("--n-images", type=_positive, default=500, help="test images (default 500)")


# --- reducers ------------------------------------------------------------------------------------
def _autoencoder(args, dataset, family: str, latent_dim: int, noise=None):
    from core.checkpoints import CheckpointStore, load_or_train
    from core.models import default_model_config

    model_config = default_model_config(family, latent_dim)
    train_config = train_config_from_args(args, noise)
    quiet = args.json or not sys.stderr.isatty()
    label = f"{family} d={latent_dim}" + (" denoising" if noise else "")
    callback, close = (None, lambda: None) if quiet else progress_bar(label)
    try:
        return load_or_train(dataset(), model_config, train_config, store=CheckpointStore(args.checkpoints),
                             callback=callback, retrain=args.retrain)
    finally:
        close()


def _pca(dataset, latent_dim: int):
    from core.reducers import PCAReducer

    return PCAReducer(latent_dim).fit(dataset().train.images)


def _reducers(args, dataset, latent_dim: int) -> dict:
    return {("PCA" if m == "pca" else m): (_pca(dataset, latent_dim) if m == "pca" else _autoencoder(args, dataset, m, latent_dim))
            for m in args.methods}


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
def _cached_autoencoders(args, families: list[str]) -> list:
    """Cached plain (not denoising) models of these families trained on this exact data config."""
    from core.checkpoints import CheckpointStore

    store = CheckpointStore(args.checkpoints)
    wanted = data_config_from_args(args).to_dict()
    found = []
    for info in store.list():
        record = info.record
        if record.get("data") == wanted and record.get("model", {}).get("family") in families \
                and not record.get("train", {}).get("noise"):
            found.append(store.load(info.folder))
    return found


def cmd_error_vs_latent(args) -> int:
    import pandas as pd

    from core.analysis.error_curve import ERROR_COLUMNS, pca_error_curve, reducer_error_row

    dataset = dataset_loader(args)
    families = [m for m in args.methods if m != "pca"]
    reducers = {str(r.checkpoint_): r for r in _cached_autoencoders(args, families)}
    for family in families:
        for latent_dim in args.latent_dims:
            reducer = _autoencoder(args, dataset, family, latent_dim)
            reducers[str(reducer.checkpoint_)] = reducer
    start = time.perf_counter()
    frame = pca_error_curve(dataset(), args.max_pca_dim)
    extra = [{**reducer_error_row(r, dataset()), "checkpoint": folder} for folder, r in reducers.items()]
    if extra:
        extra.sort(key=lambda row: (row["method"], row["latent_dim"]))
        frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    return _emit(args, frame, ERROR_COLUMNS, time.perf_counter() - start)


def cmd_embedding(args) -> int:
    from core.analysis.embedding import EMBEDDING_COLUMNS, embedding_table

    dataset = dataset_loader(args)
    reducers = _reducers(args, dataset, args.latent_dim)
    start = time.perf_counter()
    frame = embedding_table(dataset(), list(reducers.values()), args.projections, args.max_points, args.analysis_seed)
    return _emit(args, frame, EMBEDDING_COLUMNS, time.perf_counter() - start)


def cmd_denoise(args) -> int:
    from core.analysis.denoise import DENOISE_COLUMNS, denoising_table
    from core.zoo import DENOISING_NOISE

    dataset = dataset_loader(args)
    reducers = {}
    for method in args.methods:
        if method == "pca":
            reducers["PCA"] = _pca(dataset, args.latent_dim)
        else:
            reducers[method] = _autoencoder(args, dataset, method, args.latent_dim)
            reducers[f"{method} denoising"] = _autoencoder(args, dataset, method, args.latent_dim,
                                                           args.train_noise or DENOISING_NOISE)
    start = time.perf_counter()
    frame = denoising_table(dataset(), reducers, args.noises, args.n_images, args.analysis_seed)
    return _emit(args, frame, DENOISE_COLUMNS, time.perf_counter() - start)


def cmd_rate_distortion(args) -> int:
    from core.analysis.compression import RD_COLUMNS, rate_distortion_table

    dataset = dataset_loader(args)
    reducers = _reducers(args, dataset, args.latent_dim)
    start = time.perf_counter()
    frame = rate_distortion_table(dataset(), reducers, args.bits, args.jpeg_qualities, args.n_images, args.analysis_seed)
    return _emit(args, frame, RD_COLUMNS, time.perf_counter() - start)
