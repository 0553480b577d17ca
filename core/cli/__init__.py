"""The command line: ``python -m core train | compare | zoo | list | clean | analyze``.

Bad arguments exit with code 2 and a one-line message; a dataset that cannot be loaded or a broken
checkpoint exits with code 1 and a message that says what to do. Never a stack trace.

* :mod:`core.cli.options`: argument types, shared options, configs from arguments.
* :mod:`core.cli.commands`: train, compare, zoo, list.
* :mod:`core.cli.analyze`: the analysis tables.
"""

from __future__ import annotations

import sys

from core.cli.analyze import add_analyze_parser
from core.cli.commands import cmd_clean, cmd_compare, cmd_list, cmd_train, cmd_zoo
from core.cli.options import CliParser, add_data_options, add_train_options, cli_message, config_value, method_list, noise, positive_int_list
from core.config import ConfigError
from core.errors import CheckpointError, DatasetError, TrainingDiverged
from core.models.methods import AUTOENCODERS, METHODS


def build_parser() -> CliParser:
    parser = CliParser(prog="python -m core", description="Latent Lab: train and compare autoencoders with PCA.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)

    train_p = sub.add_parser("train", help="train one model (or load it from the cache)",
                             description="Train one autoencoder, or load it when this exact config is cached.")
    add_data_options(train_p)
    train_p.add_argument("--model", choices=list(AUTOENCODERS), default="dense",
                         help="; ".join(f"{k}: {METHODS[k].description}" for k in AUTOENCODERS))
    train_p.add_argument("--latent-dim", type=config_value("latent_dim", int), default=2)
    train_p.add_argument("--loss", choices=["mse", "bce"], help="default: bce (mse for linear)")
    train_p.add_argument("--beta", type=config_value("beta", float), help="vae: KL weight (default 1)")
    train_p.add_argument("--channels", type=positive_int_list, help="conv, conv_pool, vae: channels of each "
                         "down-sampling stage (default 32,64; 48,96 has more capacity at ~1.5x the time per epoch)")
    train_p.add_argument("--grid-convs", type=config_value("grid_convs", int), help="conv, vae: extra 3x3 convolutions at the smallest feature map, "
                         "each side (conv's default by the image's longer side: 1 up to 16 px, 2 at 17-32 px, 0 above; 0 for vae; 0 is the classic "
                         "tutorial's model)")
    train_p.add_argument("--noise", type=noise, help="denoising: gaussian:0.3, salt_pepper:0.1 or masking:0.5")
    add_train_options(train_p)
    train_p.set_defaults(handler=cmd_train)

    compare_p = sub.add_parser("compare", help="train/load several models and compare them with PCA",
                               description="Held-out reconstruction metrics of PCA and autoencoders at the same latent sizes.")
    add_data_options(compare_p)
    compare_p.add_argument("--methods", type=method_list, default=["pca", "dense", "conv"],
                           help=f"comma list of {', '.join(METHODS)} (default pca,dense,conv)")
    compare_p.add_argument("--latent-dims", type=positive_int_list, default=[2], help="comma list, e.g. 2,8,30")
    add_train_options(compare_p)
    compare_p.set_defaults(handler=cmd_compare)

    zoo_p = sub.add_parser("zoo", help="train (or load) the default model zoo the dashboard starts with")
    add_data_options(zoo_p)
    zoo_p.add_argument("--no-pca", action="store_true",
                       help="leave out the PCA-2 row (spares loading scikit-learn: `make run` starts faster)")
    zoo_p.add_argument("--with-moments", action="store_true",
                       help="train again the zoo models cached before learning moments were kept (same settings), "
                       "so every one can be watched learning")
    add_train_options(zoo_p)
    zoo_p.set_defaults(handler=cmd_zoo)

    list_p = sub.add_parser("list", help="list cached checkpoints")
    list_p.add_argument("--checkpoints", help="checkpoint folder")
    list_p.add_argument("--json", action="store_true")
    list_p.add_argument("--verify", action="store_true",
                        help="also hash every weights file against the SHA-256 in its record (reads every byte) "
                             "and list the damaged ones as skipped; exit code 1 when any checkpoint fails")
    list_p.set_defaults(handler=cmd_list)

    clean_p = sub.add_parser("clean", help="remove what interrupted or replaced saves left behind",
                             description="Remove hidden leftovers of killed or superseded saves (they never load).")
    clean_p.add_argument("--checkpoints", help="checkpoint folder")
    clean_p.set_defaults(handler=cmd_clean)

    add_analyze_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ConfigError, ValueError) as exc:
        print(f"error: {cli_message(exc)}", file=sys.stderr)
        return 2
    except (DatasetError, CheckpointError, TrainingDiverged, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0
    except KeyboardInterrupt:
        print("interrupted: nothing was saved for the model in training", file=sys.stderr)
        return 130


__all__ = ["main", "build_parser", "method_list"]
