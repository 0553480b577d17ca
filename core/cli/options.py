"""What every command shares: argument types that fail in one line, the data and training options,
and turning parsed arguments into configs."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from functools import cache

from core.config import MAX_SEED, MAX_SHIFT, PRECISIONS, ConfigError, DataConfig, NoiseConfig, TrainConfig, check_field, check_folder_name
from core.data.data_sources import BUILTIN, FOLDER, FOLDER_PREFIX, split_name
from core.data.datasets import DATA_DIR_ENV, Dataset, load_dataset, resolve_data_config
from core.models.methods import METHODS
from core.store.zoo import EPOCHS_ENV, default_train_config

#: the flag that sets each config field: a ConfigError about a field names the flag the user typed
#: (:func:`cli_message`), wherever the config was checked (an argument type, or a command's configs)
FLAGS = {
    "name": "--dataset", "limit": "--limit", "image_size": "--image-size",
    "latent_dim": "--latent-dim", "beta": "--beta", "channels": "--channels", "grid_convs": "--grid-convs",
    "epochs": "--epochs", "batch_size": "--batch-size", "lr": "--lr", "seed": "--seed", "time_budget": "--time-budget",
    "shift": "--shift",
}


def cli_message(error: Exception) -> str:
    """The error's message, with a config field called by its flag (``--time-budget``, not ``time_budget``)."""
    if isinstance(error, ConfigError) and error.field in FLAGS:
        return error.named(FLAGS[error.field])
    return str(error)


class CliParser(argparse.ArgumentParser):
    """argparse, but errors are one line: ``error: <what>. See --help``, exit code 2."""

    def error(self, message):  # noqa: D401 - argparse API
        # a type from config_value already names its flag: "--epochs must be ...", not "argument --epochs: --epochs ..."
        message = re.sub(r"^argument (\S+): (?=\1 )", "", message)
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def config_value(field: str, parse: Callable[[str], object]) -> Callable[[str], object]:
    """An argparse type for the flag of a config field: ``parse`` the text, then check it by the rule the
    config itself checks (:func:`core.config.check_field`), so a bad value stops at the parser, before any
    data is loaded, with a message naming the flag.

    Text that ``parse`` cannot read is checked as it was typed, so the message says what is allowed.
    """
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            value = text
        try:
            check_field(field, value)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(cli_message(exc)) from None
        return value

    return convert


def positive_int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 2,8,30; got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 2,8,30; got {text!r}")
    return values


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def method_list(text: str) -> list[str]:
    """Comma-separated method names of the registry (PCA included)."""
    methods = [m.strip().lower() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if not methods or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {', '.join(unknown) or text!r}; choose from {', '.join(METHODS)}")
    return methods


def noise(text: str) -> NoiseConfig:
    try:
        return NoiseConfig.parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def dataset_name(text: str) -> str:
    try:
        check_folder_name(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(cli_message(exc)) from None
    if split_name(text)[0] in (*BUILTIN, FOLDER):  # the table of datasets (core.data.data_sources)
        return text
    raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; choose from {', '.join(BUILTIN)} or {FOLDER_PREFIX}PATH")


def add_data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", type=dataset_name, default="digits",
                        help=f"{', '.join(BUILTIN)} or {FOLDER_PREFIX}PATH (default: digits, works offline); "
                        "a folder is keyed by its images' names, sizes and modification times, so changed images train anew")
    parser.add_argument("--data-dir", help=f"folder holding MNIST/raw etc. (default: ${DATA_DIR_ENV} or ./data)")
    parser.add_argument("--limit", type=config_value("limit", int), help="at most this many images per split")
    parser.add_argument("--image-size", type=config_value("image_size", int), help="folder datasets: resize to this size (default 28)")
    parser.add_argument("--rgb", action="store_true", help="folder datasets: keep colour")
    parser.add_argument("--checkpoints", help="checkpoint folder (default: $LATENT_LAB_CHECKPOINTS or ./checkpoints)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def add_train_options(parser: argparse.ArgumentParser) -> None:
    defaults = TrainConfig()
    parser.add_argument("--epochs", type=config_value("epochs", int), help=f"default {defaults.epochs} on small data (digits), "
                        f"fewer on large data (about 240k images seen: 4 on MNIST); ${EPOCHS_ENV} sets the default")
    parser.add_argument("--batch-size", type=config_value("batch_size", int), default=defaults.batch_size, help=f"default {defaults.batch_size}")
    parser.add_argument("--lr", type=config_value("lr", float), help=f"peak learning rate (default {defaults.lr}; 2e-3 for images larger than 32 px, "
                        "and for the conv model of `train` at 17-32 px)")
    parser.add_argument("--seed", type=config_value("seed", int), default=defaults.seed, help=f"0 to {MAX_SEED}")
    parser.add_argument("--time-budget", type=config_value("time_budget", float),
                        help="train for this many seconds (overrides --epochs; at most 7 days); "
                        "the learning-rate schedule is fitted to the budget")
    parser.add_argument("--mirror", action=argparse.BooleanOptionalAction,
                        help="also train on left-right mirror images (default: on for the conv model of `train` on images "
                        "larger than 32 px and on colour images of 17-32 px, such as CIFAR-10; off for digits and letters, whose mirror "
                        "images are other shapes)")
    parser.add_argument("--shift", type=config_value("shift", int), help=f"also train on images moved by up to this many "
                        f"pixels each way, edges reflected (0 to {MAX_SHIFT}; default: 4 for the conv model of `train` on "
                        "images larger than 32 px, 2 on colour images of 17-32 px, else 0)")
    parser.add_argument("--precision", choices=PRECISIONS, help="forward-pass arithmetic (default auto: bfloat16 for conv models "
                        "where the CPU or GPU computes it natively, else float32); not part of the cache key")
    parser.add_argument("--retrain", action="store_true", help="train again even if cached")


def explicit_training(args) -> bool:
    """Whether the user chose how long to train (then only models trained exactly so count)."""
    return args.epochs is not None or args.time_budget is not None


def train_config_from_args(args, dataset: Callable[[], Dataset], noise: NoiseConfig | None = None,
                           method: str | None = None) -> TrainConfig:
    """The training settings the arguments ask for. The defaults (epochs, threads, the peak rate) scale with
    the training split's size and its images' size, so the dataset is loaded (once, and only when a command
    needs them). ``method``: the family of a model built with its size band's defaults (``train``), whose
    own training settings by size then apply too; None for commands that train the size-blind defaults."""
    data = dataset()
    return default_train_config(len(data.train), data.image_shape, method, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                                seed=args.seed, noise=noise, time_budget=args.time_budget,
                                mirror=getattr(args, "mirror", None), shift=getattr(args, "shift", None),
                                precision=getattr(args, "precision", None))


def data_config_from_args(args) -> DataConfig:
    """The data config the arguments ask for, resolved: a ``folder:PATH`` carries the fingerprint of its
    image files (so changed images train anew). Resolved once per parsed ``args`` (one stat pass)."""
    resolved = getattr(args, "_resolved_data_config", None)
    if resolved is None:
        resolved = resolve_data_config(DataConfig(args.dataset, args.limit, args.image_size, not args.rgb),
                                       data_dir=getattr(args, "data_dir", None))
        args._resolved_data_config = resolved
    return resolved


def dataset_loader(args) -> Callable[[], Dataset]:
    """Loads the dataset on first call only (a fully cached command never loads it)."""
    return cache(lambda: load_dataset(data_config_from_args(args), data_dir=args.data_dir))


def progress_bar(label: str, quiet: bool) -> tuple[Callable | None, Callable[[], None]]:
    """A tqdm bar on stderr fed by training's per-epoch callback; returns (callback, close).
    ``quiet`` (JSON output, or stderr not a terminal) gives no bar."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=100, desc=label, unit="%", file=sys.stderr, leave=False,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")

    def callback(stats):
        bar.n = round(100 * stats.progress)
        bar.set_postfix_str(f"epoch {stats.epoch} loss {stats.train_loss:.4f} val {stats.val_loss:.4f}")
        bar.refresh()

    return callback, bar.close
