"""The command line: ``python -m core train | compare | zoo | list``.

Bad arguments exit with code 2 and a one-line message; a dataset that cannot be loaded or a broken
checkpoint exits with code 1 and a message that says what to do. Never a stack trace.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable

from functools import cache

from core.checkpoints import CheckpointStore
from core.config import ConfigError, DataConfig, ModelConfig, NoiseConfig, TrainConfig
from core.datasets import BUILTIN_DATASETS, DATA_DIR_ENV, Dataset, load_dataset
from core.errors import CheckpointError, DatasetError, TrainingDiverged
from core.models import DESCRIPTIONS, MODELS, default_model_config
from core.zoo import default_train_config, default_zoo

# torch, scikit-learn and the reducers are imported inside the commands that compute: a cached
# result is reported from its verified record, so `train` on a cached config answers in a blink.


class CliParser(argparse.ArgumentParser):
    """argparse, but errors are one line: ``error: <what>. See --help``, exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _positive_int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 2,8,30; got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 2,8,30; got {text!r}")
    return values


def _methods(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m != "pca" and m not in MODELS]
    if not methods or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {', '.join(unknown) or text!r}; choose from pca, {', '.join(sorted(MODELS))}")
    return methods


def _noise(text: str) -> NoiseConfig:
    try:
        return NoiseConfig.parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _dataset_name(text: str) -> str:
    if text.lower() in BUILTIN_DATASETS or text.startswith("folder:"):
        return text
    raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; choose from {', '.join(BUILTIN_DATASETS)} or folder:PATH")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", type=_dataset_name, default="digits",
                        help=f"{', '.join(BUILTIN_DATASETS)} or folder:PATH (default: digits, works offline)")
    parser.add_argument("--data-dir", help=f"folder holding MNIST/raw etc. (default: ${DATA_DIR_ENV} or ./data)")
    parser.add_argument("--limit", type=int, help="at most this many images per split")
    parser.add_argument("--image-size", type=int, help="folder datasets: resize to this size (default 28)")
    parser.add_argument("--rgb", action="store_true", help="folder datasets: keep colour")
    parser.add_argument("--checkpoints", help="checkpoint folder (default: $LATENT_LAB_CHECKPOINTS or ./checkpoints)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_train_options(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    parser.add_argument("--epochs", type=int, help=f"default {defaults.epochs} on small data (digits), "
                        "fewer on large data (about 240k images seen: 4 on MNIST)")
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size, help=f"default {defaults.batch_size}")
    parser.add_argument("--lr", type=float, default=defaults.lr, help=f"peak learning rate (default {defaults.lr})")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--time-budget", type=float, help="train for this many seconds (overrides --epochs); "
                        "the cosine learning-rate schedule is fitted to the budget")
    parser.add_argument("--retrain", action="store_true", help="train again even if cached")


def train_config_from_args(args, noise: NoiseConfig | None = None) -> TrainConfig:
    return default_train_config(known_train_size(args), epochs=args.epochs, batch_size=args.batch_size,
                                lr=args.lr, seed=args.seed, noise=noise, time_budget=args.time_budget)


KNOWN_TRAIN_SIZES = {"digits": 1437, "mnist": 60_000, "fashion-mnist": 60_000, "kmnist": 60_000}


def known_train_size(args) -> int:
    """Training-split size, without loading the data when it is a built-in dataset."""
    size = KNOWN_TRAIN_SIZES.get(args.dataset.lower())
    if size is None:
        size = len(load_dataset(data_config_from_args(args), data_dir=args.data_dir).train)
    return min(size, args.limit) if args.limit else size


def data_config_from_args(args) -> DataConfig:
    return DataConfig(args.dataset, args.limit, args.image_size, not args.rgb)


def dataset_loader(args) -> Callable[[], Dataset]:
    """Loads the dataset on first call only (a fully cached command never loads it)."""
    return cache(lambda: load_dataset(data_config_from_args(args), data_dir=args.data_dir))


def build_parser() -> CliParser:
    parser = CliParser(prog="python -m core", description="Latent Lab: train and compare autoencoders with PCA.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)

    train_p = sub.add_parser("train", help="train one model (or load it from the cache)",
                             description="Train one autoencoder, or load it when this exact config is cached.")
    add_data_options(train_p)
    train_p.add_argument("--model", choices=sorted(MODELS), default="dense",
                         help="; ".join(f"{k}: {v}" for k, v in DESCRIPTIONS.items()))
    train_p.add_argument("--latent-dim", type=int, default=2)
    train_p.add_argument("--loss", choices=["mse", "bce"], help="default: bce (mse for linear)")
    train_p.add_argument("--beta", type=float, help="vae: KL weight (default 1)")
    train_p.add_argument("--noise", type=_noise, help="denoising: gaussian:0.3, salt_pepper:0.1 or masking:0.5")
    add_train_options(train_p)
    train_p.set_defaults(handler=cmd_train)

    compare_p = sub.add_parser("compare", help="train/load several models and compare them with PCA",
                               description="Held-out reconstruction metrics of PCA and autoencoders at the same latent sizes.")
    add_data_options(compare_p)
    compare_p.add_argument("--methods", type=_methods, default=["pca", "dense", "conv"], help="comma list, e.g. pca,dense,conv,vae")
    compare_p.add_argument("--latent-dims", type=_positive_int_list, default=[2], help="comma list, e.g. 2,8,30")
    add_train_options(compare_p)
    compare_p.set_defaults(handler=cmd_compare)

    zoo_p = sub.add_parser("zoo", help="train (or load) the default model zoo the dashboard starts with")
    add_data_options(zoo_p)
    zoo_p.add_argument("--no-pca", action="store_true",
                       help="leave out the PCA-2 row (spares loading scikit-learn: `make run` starts faster)")
    add_train_options(zoo_p)
    zoo_p.set_defaults(handler=cmd_zoo)

    list_p = sub.add_parser("list", help="list cached checkpoints")
    list_p.add_argument("--checkpoints", help="checkpoint folder")
    list_p.add_argument("--json", action="store_true")
    list_p.set_defaults(handler=cmd_list)

    try:  # the analysis commands live with the analysis module
        from core.analysis_cli import add_analyze_parser
    except ImportError:
        pass
    else:
        add_analyze_parser(sub)
    return parser


def progress_bar(label: str) -> tuple[Callable, Callable[[], None]]:
    """A tqdm bar on stderr fed by training's per-epoch callback; returns (callback, close)."""
    from tqdm import tqdm

    bar = tqdm(total=100, desc=label, unit="%", file=sys.stderr, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def callback(stats):
        bar.n = round(100 * stats.progress)
        bar.set_postfix_str(f"epoch {stats.epoch} loss {stats.train_loss:.4f} val {stats.val_loss:.4f}")
        bar.refresh()

    return callback, bar.close


def model_row(args, dataset: Callable[[], Dataset], model_config: ModelConfig, train_config: TrainConfig) -> dict:
    """The result row of one model: from its verified cached record, or trained now and saved."""
    store = CheckpointStore(args.checkpoints)
    data_config = data_config_from_args(args)
    folder = store.folder_for(data_config, model_config, train_config)
    if folder.exists() and not args.retrain:
        record, cached = store.verified_record(folder), True
    else:
        from core.checkpoints import load_or_train

        quiet = args.json or not sys.stderr.isatty()
        callback, close = progress_bar(f"{model_config.family} d={model_config.latent_dim}") if not quiet else (None, lambda: None)
        try:
            reducer = load_or_train(dataset(), model_config, train_config, store=store, callback=callback, retrain=args.retrain)
        finally:
            close()
        record, cached = reducer.record_, False
    noise = record["train"].get("noise")
    return {
        "dataset": data_config.name,
        "method": record["model"]["family"] + (" denoising" if noise else ""),
        "model": record["model"]["family"],
        "latent_dim": record["model"]["latent_dim"],
        "checkpoint": str(folder),
        "cached": cached,
        "train_seconds": round(record["train_seconds"], 2),
        **{k: round(v, 6) for k, v in record["test_metrics"].items()},
    }


def pca_row(dataset: Dataset, latent_dim: int) -> dict:
    import time

    from core.metrics import reconstruction_metrics
    from core.reducers import PCAReducer

    start = time.perf_counter()
    reducer = PCAReducer(latent_dim).fit(dataset.train.images)
    seconds = time.perf_counter() - start
    metrics = reconstruction_metrics(dataset.test.images, reducer.reconstruct(dataset.test.images))
    return {"dataset": dataset.name, "method": "PCA", "model": "pca", "latent_dim": latent_dim,
            "train_seconds": round(seconds, 2), **{k: round(v, 6) for k, v in metrics.items()}}


def print_rows(rows: list[dict], as_json: bool, columns: list[str]) -> None:
    if as_json:
        print(json.dumps(rows))
        return
    import pandas as pd

    frame = pd.DataFrame(rows)
    print(frame[[c for c in columns if c in frame]].to_string(index=False, float_format=lambda v: f"{v:.4f}"))


TABLE_COLUMNS = ["method", "latent_dim", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim", "train_seconds", "cached"]


def cmd_train(args) -> int:
    model_config = default_model_config(args.model, args.latent_dim, loss=args.loss, beta=args.beta)
    row = model_row(args, dataset_loader(args), model_config, train_config_from_args(args, args.noise))
    if args.json:
        print(json.dumps(row))
    else:
        print_rows([row], False, TABLE_COLUMNS)
        print(f"checkpoint: {row['checkpoint']}")
    return 0


def cmd_compare(args) -> int:
    dataset, train_config = dataset_loader(args), train_config_from_args(args)
    rows = []
    for latent_dim in args.latent_dims:
        for method in args.methods:
            if method == "pca":
                rows.append(pca_row(dataset(), latent_dim))
            else:
                rows.append(model_row(args, dataset, default_model_config(method, latent_dim), train_config))
    if args.json:
        keep = ["method", "latent_dim", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim", "train_seconds", "cached", "checkpoint"]
        print(json.dumps([{k: r[k] for k in keep if k in r} for r in rows]))
    else:
        print_rows(rows, False, TABLE_COLUMNS)
    return 0


def cmd_zoo(args) -> int:
    dataset = dataset_loader(args)
    rows = [model_row(args, dataset, entry.model, entry.train) for entry in default_zoo(train_config_from_args(args))]
    if not (args.json or args.no_pca):
        rows.append(pca_row(dataset(), 2))
    print_rows(rows, args.json, TABLE_COLUMNS)
    return 0


def cmd_list(args) -> int:
    infos = CheckpointStore(args.checkpoints).list()
    rows = [{"name": i.name, "dataset": i.record["data"]["name"], "model": i.record["model"]["family"],
             "latent_dim": i.record["model"]["latent_dim"], "noise": (i.record["train"].get("noise") or {}).get("kind", ""),
             "test_mse": i.record["test_metrics"]["test_mse"], "train_seconds": round(i.record["train_seconds"], 1),
             "created": i.record["created"]} for i in infos]
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"no cached checkpoints in {CheckpointStore(args.checkpoints).root}")
    else:
        print_rows(rows, False, list(rows[0]))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (DatasetError, CheckpointError, TrainingDiverged, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
    except KeyboardInterrupt:
        print("interrupted: nothing was saved for the model in training", file=sys.stderr)
        return 130

