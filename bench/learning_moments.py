"""Part: what keeping learning moments costs (issue 20: at most 10 % of training time).

Each case trains the same model twice in one process, interleaved (plain, watched, plain, ...): once
with no callback, once with :class:`core.learning.MomentRecorder` as the callback, exactly as
``load_or_train`` passes it. Two figures per case: the ratio of the wall times (noisy on a shared
machine), and the seconds spent inside the recorder (timed around each moment) against the plain
training's time, which the machine's load disturbs less. The moments are a fixed number per
training (24 by epochs), so their share falls as training gets longer; the note projects it onto
the zoo's own epochs for MNIST (4) from the measured cost per moment.

Cases: digits dense d=2 and linear d=2 with the zoo's settings; MNIST conv d=30 (the default
architecture, as in part 1) for 1 epoch, when MNIST is found (``--data-dir``, ``$LATENT_LAB_DATA_DIR``
or ../shared/data).
"""

from __future__ import annotations

import statistics
import time

import torch

from bench.common import Options, PartResult, load_average, median_ratio, mnist_dir

NAME = "moments"
TITLE = "Learning moments: training time with and without the recorder (goal: at most +10 %)"
GOAL = 1.10
MNIST_ZOO_EPOCHS = 4  # core.store.zoo.default_train_config on MNIST's 60,000 images
MNIST_TRAIN = 60_000  # MNIST's training split (a --quick run trains on a subset: projected onto the whole)


class TimedRecorder:
    """A MomentRecorder whose moments are timed (the loop leaves that time out of its own clock)."""

    def __init__(self, recorder):
        self.recorder, self.seconds = recorder, 0.0

    def __call__(self, stats):
        self.recorder(stats)

    def wants(self, step, total_steps):
        return self.recorder.wants(step, total_steps)

    def observe(self, state):
        start = time.perf_counter()
        self.recorder.observe(state)
        self.seconds += time.perf_counter() - start


def one_training(dataset, model, train, watched: bool) -> dict:
    from core.learning import MomentRecorder
    from core.models.methods import build_reducer

    callback = TimedRecorder(MomentRecorder.for_dataset(dataset)) if watched else None
    start = time.perf_counter()
    reducer = build_reducer(model, train, callback).fit(dataset.train.images)
    seconds = time.perf_counter() - start
    out = {"seconds": seconds, "moments": 0, "recording": 0.0, "epochs": len(reducer.history_)}
    if callback is not None:
        moments = callback.recorder.moments()
        out.update(moments=len(moments), recording=callback.seconds, final_sample_mse=float(moments.sample_mse[-1]))
    return out


def cases(options: Options) -> list[tuple[str, object, object, object, int]]:
    """(label, dataset, model config, train config, rounds)."""
    from core.config import TrainConfig
    from core.data.datasets import load_dataset
    from core.models.methods import default_model_config
    from core.store.zoo import default_train_config, zoo_train_config

    digits = load_dataset("digits")
    zoo = default_train_config(len(digits.train), digits.image_shape)  # 60 epochs, 1 thread (not $LATENT_LAB_EPOCHS)
    zoo = TrainConfig(**{**zoo.__dict__, "epochs": 10 if options.quick else TrainConfig().epochs})
    dense, linear = default_model_config("dense", 2), default_model_config("linear", 2)
    found = [("digits dense d=2 (zoo settings)", digits, dense, zoo, options.rounds or 2),
             ("digits linear d=2 (zoo recipe)", digits, linear, zoo_train_config(linear, zoo), options.rounds or 2)]
    folder = mnist_dir(options)
    if folder is not None:
        mnist = load_dataset("mnist", data_dir=folder, limit=10_000 if options.quick else None)
        conv = default_model_config("conv", 30)
        found.append((f"MNIST conv d=30, 1 epoch ({len(mnist.train)} train images)", mnist, conv,
                      TrainConfig(epochs=1), options.rounds or 1))
    return found


def run(options: Options) -> PartResult:
    rows, notes = [], []
    for label, dataset, model, train, rounds in cases(options):
        runs = {False: [], True: []}
        for r in range(rounds):
            for watched in (False, True):
                torch.manual_seed(0)
                out = one_training(dataset, model, train, watched)
                runs[watched].append(out)
                print(f"  round {r + 1}: {label} {'watched' if watched else 'plain'}: {out['seconds']:.1f} s"
                      + (f" ({out['moments']} moments, {out['recording']:.2f} s recording)" if watched else ""), flush=True)
        plain = statistics.median(o["seconds"] for o in runs[False])
        recording = statistics.median(o["recording"] for o in runs[True])
        moments = runs[True][0]["moments"]
        rows.append({"case": label, "plain s (median)": plain,
                     "watched s (median)": statistics.median(o["seconds"] for o in runs[True]),
                     "wall ratio (median of rounds)": median_ratio([o["seconds"] for o in runs[True]],
                                                                   [o["seconds"] for o in runs[False]]),
                     "moments": moments, "recording s": recording,
                     "recording / plain": recording / plain, "ms per moment": 1000 * recording / max(1, moments)})
        if label.startswith("MNIST"):  # the moments cost the same whatever the training's length: project it
            full_epoch = plain / runs[False][0]["epochs"] * MNIST_TRAIN / len(dataset.train)
            notes.append(f"{label}: on all {MNIST_TRAIN:,} training images the same {moments} moments would cost "
                         f"{recording / full_epoch:.1%} of 1 epoch and {recording / (MNIST_ZOO_EPOCHS * full_epoch):.1%} "
                         f"of the zoo's {MNIST_ZOO_EPOCHS} epochs (projected from this run's time per image)")
    goals = [f"{row['case']}: recording costs {row['recording / plain']:.1%} of the plain training "
             f"(wall ratio {row['wall ratio (median of rounds)']:.2f}); goal <= {GOAL - 1:.0%}: "
             f"{'met' if row['recording / plain'] <= GOAL - 1 else 'not met'}" for row in rows]
    load = load_average()
    notes.append(f"load average at the end {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {torch.get_num_threads()} "
                 "torch threads: other processes share this machine, so wall ratios are noisy; the recording seconds "
                 "are timed around each moment")
    notes.append("sample: min(core.learning.recorder.sample_size (2,000 up to 32x32x3), test split) held-out images "
                 "+ 8 shown images per moment; linear also fits PCA once (at step 0) for its principal angles")
    return PartResult(NAME, TITLE, rows, goals, notes)


__all__ = ["run", "NAME", "TITLE"]
