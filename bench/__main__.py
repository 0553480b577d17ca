"""``python -m bench`` (``make bench``): run every benchmark part, print its table, record bench/RESULTS.md.

Parts (``--part NAME``, repeatable; default all, in this order):
  training  1. training throughput (images/s) of core.models.training.train vs a plain PyTorch loop
  quality   2. time to quality: best MNIST test SSE per image at d=30 in a fixed training budget
  colourquality 2c. the same on colour folders (RGB 64x64, shapes and photo-like; CIFAR-10 when present) vs PCA-30
  decode    3. decode latency: one code -> image, and a 10x10 grid, through the core reducer
  dashboard 4. dashboard in headless Chromium: playground slider -> image vs a bare Streamlit app; page opens
  coldstart 5. cold start: fresh clone -> zoo training -> Home usable; then a warm start
  memory    6. peak RSS of the dashboard process after visiting every page on MNIST

``--quick`` shrinks every part to a smoke run (about a minute each; its numbers are not for quoting,
and a quick run writes RESULTS-quick.md instead of RESULTS.md unless --results says otherwise).
Later parts (dashboard slider latency, cold start, peak RSS) plug in as modules with the same
contract: ``NAME``, ``TITLE`` and ``run(options) -> PartResult``, and optionally
``name_and_title(options) -> (name, title)`` where they depend on the options (part 1 on a GPU); add
them to ``PARTS``.
"""

from __future__ import annotations

import argparse
import time
from importlib import import_module
from pathlib import Path

from bench import PARTS


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", action="append", choices=list(PARTS), help="run only this part (repeatable)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, numbers not for quoting")
    parser.add_argument("--data-dir", help="folder holding MNIST/raw (default: $LATENT_LAB_DATA_DIR or ../shared/data)")
    parser.add_argument("--budget", type=float, help="part 2: training seconds per side (default 600; quick 45)")
    parser.add_argument("--rounds", type=int, help="repetitions of each interleaved comparison")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="part 1 (training): where both sides train (default cpu; cuda writes its own section)")
    parser.add_argument("--results", type=Path, help="results file (default bench/RESULTS.md; quick: bench/RESULTS-quick.md)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    from bench.common import RESULTS, Options, command_line, load_average, print_part, write_results

    args = parse_args(argv)
    options = Options(quick=args.quick, data_dir=args.data_dir, budget=args.budget, rounds=args.rounds,
                      device=args.device)
    results = []
    for name in args.part or list(PARTS):
        module = import_module(PARTS[name])
        # a part may title itself by its options (part 1 on a GPU writes its own section)
        title = module.name_and_title(options)[1] if hasattr(module, "name_and_title") else module.TITLE
        print(f"== {title} ==", flush=True)
        started, load_before, start = time.strftime("%Y-%m-%d %H:%M:%S"), load_average(), time.perf_counter()
        result = module.run(options)
        result.started, result.seconds = started, time.perf_counter() - start
        result.load_before, result.load_after = load_before, load_average()
        print_part(result)
        results.append(result)
        if not args.no_write:  # after every part, so a long run that is stopped keeps what it measured
            path = args.results or (RESULTS.with_name("RESULTS-quick.md") if args.quick else RESULTS)
            write_results(results, command_line(), path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
