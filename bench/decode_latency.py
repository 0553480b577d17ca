"""Part 3: decode latency in the core: one code -> one image, and a 10x10 grid of codes -> 100 images.

Measured through ``AutoencoderReducer.decode`` (NumPy in, NumPy out: what the dashboard calls), next
to the bare model call in ``torch.inference_mode`` (the floor: the ratio is the core's wrapper
overhead) and PCA's decode at the same latent size. Weights do not change the arithmetic, so the
models are built untrained; calls alternate between the variants so each sees the same load.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from bench.common import Options, PartResult

NAME = "decode"
TITLE = "3. Decode latency: one code and a 10x10 grid (ms)"

CASES = [  # (family, latent_dim, image shape): the MNIST-sized model and the digits zoo models
    ("conv", 30, (1, 28, 28)),
    ("dense", 2, (1, 28, 28)),
    ("conv", 2, (1, 8, 8)),
]


def reducers(family: str, latent: int, shape):
    from core.config import TrainConfig
    from core.models import build_model
    from core.models.autoencoder_reducer import AutoencoderReducer
    from core.models.methods import default_model_config
    from core.models.reducers import PCAReducer

    torch.manual_seed(0)
    config = default_model_config(family, latent)
    model = build_model(config, shape).eval()
    arrays = {k: v.numpy() for k, v in model.state_dict().items()}
    ae = AutoencoderReducer.from_state(config, TrainConfig(), shape, arrays, [], 0.0)
    images = np.random.default_rng(0).random((max(200, latent + 1), *shape), dtype=np.float32)
    pca = PCAReducer(latent).fit(images)
    return model, ae, pca


def measure(fns: dict, repeats: int) -> dict[str, list[float]]:
    times = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm up
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1e3)
    return times


def run(options: Options) -> PartResult:
    repeats = 50 if options.quick else 300
    rows = []
    for family, latent, shape in CASES:
        model, ae, pca = reducers(family, latent, shape)
        rng = np.random.default_rng(1)
        for label, n in (("1 code", 1), ("10x10 grid", 100)):
            codes = rng.standard_normal((n, latent)).astype(np.float32)
            tensor = torch.from_numpy(codes)

            def bare(model=model, tensor=tensor):
                with torch.inference_mode():
                    return model.decode(tensor).numpy()

            def bare_one_thread(bare=bare):
                before = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    return bare()
                finally:
                    torch.set_num_threads(before)

            times = measure({"core": lambda ae=ae, codes=codes: ae.decode(codes), "bare": bare, "bare1": bare_one_thread,
                             "pca": lambda pca=pca, codes=codes: pca.decode(codes)}, repeats)
            core_ms, bare_ms = statistics.median(times["core"]), statistics.median(times["bare"])
            rows.append({
                "model": f"{family} d={latent} {shape[1]}x{shape[2]}", "decode": label,
                "core ms (median)": core_ms, "core ms (p90)": float(np.percentile(times["core"], 90)),
                "bare model ms": bare_ms, "core / bare": core_ms / bare_ms,
                "bare, 1 thread ms": statistics.median(times["bare1"]),
                "PCA ms": statistics.median(times["pca"]),
            })
    goals = ["no numeric goal in the issue; a slider redraw needs the '1 code' row well under 16 ms (one frame)"]
    notes = [f"{repeats} interleaved calls per variant after one warm-up call; torch threads {torch.get_num_threads()}"]
    return PartResult(NAME, TITLE, rows, goals, notes)
