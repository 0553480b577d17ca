"""Part 2c: time to quality on colour images (issue 24 item 1): conv d=30 against PCA-30.

Two generated folders of 20,000 RGB 64x64 images (seeded, kept in the temp folder): bench part
bigfolder's flat shapes on a clean ramp, and a photo-like one (``bench.photo_folder``: textured ramps
under value noise, textured soft-edged shapes, sensor noise). For each, PCA-30 fitted on the training
split (the same-run baseline), then the README's command ``python -m core train --dataset folder:...
--image-size 64 --rgb --model conv --latent-dim 30 --time-budget B --json`` in a fresh process with the
defaults a user gets, for budgets of 60 and 600 s; both scored on the folder's test split (SSE per
image, summed over 64 x 64 x 3 values). CIFAR-10 joins when its files are in the data folder.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.big_folder import make_folder
from bench.common import Options, PartResult, data_dir_holding, load_average
from bench.photo_folder import make_photo_folder
from bench.time_to_quality import LATENT, cli_row, pca_row
from core.data.cifar import BATCH_FOLDER

NAME = "colourquality"
TITLE = "2c. Colour images: conv d=30 in a time budget against PCA-30 (RGB 64x64 folders, CIFAR-10 when present)"
GOAL_RATIO = 0.7  # the autoencoder's held-out SSE at most 0.7x PCA-30's
N_IMAGES, SIZE = 20_000, 64


def datasets(options: Options) -> list[tuple[str, str, str | None, dict, tuple[str, ...]]]:
    """(label, dataset name, data folder, load_dataset arguments, CLI flags) of each dataset measured."""
    n = 2_000 if options.quick else N_IMAGES
    temp = Path(tempfile.gettempdir())
    shapes = make_folder(temp / f"latent-lab-bench-rgb{SIZE}-{n}", n)
    photo = make_photo_folder(temp / f"latent-lab-bench-photo{SIZE}-{n}", n, SIZE)
    flags = ("--image-size", str(SIZE), "--rgb")
    found = [("flat shapes, RGB 64x64", f"folder:{shapes}", None, {"image_size": SIZE, "grayscale": False}, flags),
             ("photo-like, RGB 64x64", f"folder:{photo}", None, {"image_size": SIZE, "grayscale": False}, flags)]
    cifar = data_dir_holding(options, BATCH_FOLDER)
    if cifar is not None:
        found.append(("CIFAR-10 (32x32)", "cifar10", cifar, {}, ()))
    return found


def run(options: Options) -> PartResult:
    from core.store.checkpoints import CheckpointStore

    budgets = (options.budget,) if options.budget else ((10.0,) if options.quick else (60.0, 600.0))
    rows, goals, notes = [], [], []
    with tempfile.TemporaryDirectory(prefix="latent-lab-colour-") as checkpoints:
        for label, dataset, folder, load, flags in datasets(options):
            pca = pca_row(dataset, folder, **load)
            rows.append({**pca, "dataset": label, "budget s": ""})
            for budget in budgets:
                before = load_average()
                record, row = cli_row(dataset, folder, budget, checkpoints, *flags)
                history = CheckpointStore(checkpoints).verified_record(Path(record["checkpoint"])).history
                ratio = row["test SSE/image"] / pca["test SSE/image"]
                rows.append({**row, "dataset": label, "budget s": budget, "epochs": len(history), "steps": history[-1]["steps"],
                             "x PCA's SSE": ratio, "load before": before[0]})
                print(f"  {label}, {budget:.0f} s: conv {row['test SSE/image']:.1f} vs PCA-{LATENT} {pca['test SSE/image']:.1f}", flush=True)
                goals.append(f"{label}, {budget:.0f} s: conv d={LATENT} {row['test SSE/image']:.1f} SSE/image = {ratio:.2f}x "
                             f"PCA-{LATENT}'s {pca['test SSE/image']:.1f} (goal <= {GOAL_RATIO}x at 600 s: "
                             f"{'met' if ratio <= GOAL_RATIO else 'not met'})")
    if not any("CIFAR" in row["dataset"] for row in rows):
        notes.append("CIFAR-10 not measured: its files (cifar-10-batches-py) are not in the data folder on this machine")
    return PartResult(NAME, TITLE, rows, goals, notes)
