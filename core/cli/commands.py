"""``python -m core train | compare | zoo | list``: every method of the registry, PCA included, goes
through the same path (the checkpoint store's ``load_or_train``), so a comparison is a loop."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from core.cli.options import data_config_from_args, dataset_loader, explicit_training, progress_bar, train_config_from_args
from core.config import ModelConfig, TrainConfig
from core.data.datasets import Dataset
from core.models.methods import default_model_config, model_label
from core.store.checkpoints import CheckpointStore
from core.store.records import ModelRecord
from core.store.zoo import zoo_status, zoo_train_config

# torch, scikit-learn and the reducers are imported inside the commands that compute: a cached
# result is reported from its verified record, so `zoo` on a cached dataset answers in a blink.

TABLE_COLUMNS = ["method", "latent_dim", "test_mse", "test_sse_per_image", "test_psnr", "test_ssim", "train_seconds", "cached"]


def record_row(record: ModelRecord, folder: str, cached: bool) -> dict:
    """One result row, the same for every method. A collapsed model is also said on stderr."""
    if record.collapsed:
        print(f"warning: {record.collapse_warning}", file=sys.stderr)
    for skipped in record.skipped_files:
        print(f"skipped {skipped}", file=sys.stderr)
    if not record.reproducible:
        print(f"note: {record.label} was trained to a time budget: the steps it buys depend on the machine, "
              "so --retrain trains another model in its place", file=sys.stderr)
    return {
        "dataset": record.data.name,
        "method": record.method,
        "model": record.family,
        "latent_dim": record.latent_dim,
        "checkpoint": folder,
        "cached": cached,
        "train_seconds": round(record.train_seconds, 2),  # the whole fit: setup and validation passes included
        "step_seconds": None if record.step_seconds is None else round(record.step_seconds, 2),  # what a budget counts
        "trained_with": record.trained_with,
        "steps": record.steps,
        "collapsed": record.collapsed,
        "skipped_files": list(record.skipped_files),
        **{k: round(v, 6) for k, v in record.test_metrics.items()},
    }


def model_row(args, dataset: Callable[[], Dataset], model: ModelConfig, train: Callable[[], TrainConfig]) -> dict:
    """The result row of one model: from its verified cached record, or fitted now and saved."""
    from core.models import distributed
    from core.store.trained import load_or_train

    store = CheckpointStore(args.checkpoints)
    train_config = train()
    folder = store.folder_for(data_config_from_args(args), model, train_config)
    # DDP (torchrun, several processes): skip this local look-up; every rank must reach load_or_train,
    # where rank 0 looks up for all. Every rank returns (and prints) the same row; progress is rank 0's.
    together = distributed.enabled()
    record = None if args.retrain or together else store.find(data_config_from_args(args), model, train_config)
    if record is not None:
        return record_row(record, str(folder), True)
    callback, close = progress_bar(model_label(model, train_config), quiet=args.json or not distributed.is_main())
    try:
        trained = load_or_train(dataset(), model, train_config, store=store, callback=callback, retrain=args.retrain)
    finally:
        close()
    return record_row(trained.record, str(folder), trained.cached)


def print_rows(rows: list[dict], as_json: bool, columns: list[str]) -> None:
    """The rows as JSON, or as a right-aligned text table of ``columns`` (floats to 4 decimals).
    Formatted by hand: importing pandas for it would be half of a cached `zoo`'s run time."""
    if as_json:
        print(json.dumps(rows))
        return
    columns = [c for c in columns if any(c in row for row in rows)]

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and value != value):
            return "NaN"
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    table = [columns] + [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print(" ".join(text.rjust(width) for text, width in zip(line, widths)))


def cmd_train(args) -> int:
    dataset = dataset_loader(args)
    # the defaults depend on the image size (the training settings load the dataset anyway)
    model = default_model_config(args.model, args.latent_dim, dataset().image_shape, loss=args.loss, beta=args.beta,
                                 channels=tuple(args.channels) if args.channels else None, grid_convs=args.grid_convs)
    row = model_row(args, dataset, model, lambda: train_config_from_args(args, dataset, args.noise, args.model))
    if args.json:
        print(json.dumps(row))
    else:
        print_rows([row], False, TABLE_COLUMNS)
        print(f"checkpoint: {row['checkpoint']}")
    return 0


def cmd_compare(args) -> int:
    dataset = dataset_loader(args)
    train = lambda: train_config_from_args(args, dataset)  # noqa: E731 - loads the data only when needed
    rows = [model_row(args, dataset, default_model_config(method, latent_dim), train)
            for latent_dim in args.latent_dims for method in args.methods]
    if args.json:
        keep = TABLE_COLUMNS + ["checkpoint"]
        print(json.dumps([{k: r[k] for k in keep if k in r} for r in rows]))
    else:
        print_rows(rows, False, TABLE_COLUMNS)
    return 0


def _retraining(args) -> argparse.Namespace:
    """The same arguments with --retrain: to train a cached model again in place (same settings, same folder)."""
    return argparse.Namespace(**{**vars(args), "retrain": True})


def cmd_zoo(args) -> int:
    from core.learning import has_moments

    dataset = dataset_loader(args)
    store = CheckpointStore(args.checkpoints)
    rows, without_moments = [], []
    # a zoo model counts as present when any cached model stands for it, unless the user asked for
    # particular training settings: then only a model trained exactly so counts
    for entry in zoo_status(data_config_from_args(args), store.list().records):
        exact_needed = explicit_training(args) or args.retrain
        if entry.record is not None and not exact_needed:
            if not has_moments(store, entry.record):
                # trained before moments were kept: they cannot be had without training it again (the
                # moments are the training's), which costs the zoo's time, so only when asked
                if args.with_moments:
                    rows.append(model_row(_retraining(args), dataset, entry.model, lambda r=entry.record: r.train))
                    continue
                without_moments.append(entry.label)
            rows.append(record_row(entry.record, str(store.folder_of(entry.record)), True))
            continue
        train = zoo_train_config(entry.model, train_config_from_args(args, dataset, entry.train.noise))
        found = None if args.retrain else store.find(data_config_from_args(args), entry.model, train)
        again = args.with_moments and found is not None and not has_moments(store, found)
        rows.append(model_row(_retraining(args) if again else args, dataset, entry.model, lambda train=train: train))
    if without_moments:
        print(f"trained before moments were kept: {', '.join(without_moments)}; `python -m core zoo --with-moments` "
              "trains them again (the zoo's time) to watch them learn", file=sys.stderr)
    if not args.no_pca:
        rows.append(model_row(args, dataset, default_model_config("pca", 2), lambda: TrainConfig()))
    if not all(row["cached"] for row in rows):
        # something was trained, so the data is in memory: keep what every dashboard page of this dataset
        # asks for first (its pixels, the pixel PCA, PCA's error curve) on disk. A fully cached zoo skips
        # this and never loads the data; the dashboard computes anything missing when first asked.
        from core.store.derived import precompute_dataset, precompute_maps

        precompute_dataset(store.root, dataset(), args.data_dir)
        precompute_maps(store, dataset())
    from core.store.derived import precompute_models

    precompute_models(store, data_config_from_args(args), dataset)
    print_rows(rows, args.json, TABLE_COLUMNS)
    return 0


def cmd_list(args) -> int:
    store = CheckpointStore(args.checkpoints)
    listing = store.list(verify=args.verify)
    rows = [{"name": r.name, "dataset": r.data.name, "model": r.family, "latent_dim": r.latent_dim,
             "noise": r.noise_label or "", "test_mse": r.metric("test_mse"), "train_seconds": round(r.train_seconds, 1),
             "collapsed": r.collapsed, "created": r.created} for r in listing.records]
    for name, problem in listing.problems.items():
        print(f"skipped {name}: {problem}", file=sys.stderr)
    leftovers = store.leftovers()
    if leftovers:
        print(f"{len(leftovers)} leftover(s) of interrupted or replaced saves (never loaded): "
              f"{', '.join(p.name for p in leftovers)}; `python -m core clean` removes them", file=sys.stderr)
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print(f"no cached checkpoints in {store.root}")
    else:
        print_rows(rows, False, list(rows[0]))
    return 1 if args.verify and listing.problems else 0  # --verify: a script can tell a damaged store


def cmd_clean(args) -> int:
    store = CheckpointStore(args.checkpoints)
    before = len(store.leftovers())
    removed = store.clean()
    print(f"removed {removed} leftover(s) from {store.root}" + (f"; {before - removed} belong to saves under way"
                                                               if before > removed else ""))
    return 0
