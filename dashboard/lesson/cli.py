"""``python -m dashboard lesson --dataset digits --out DIR``: write the static lesson.

The folder runs the Lesson page's eight steps, with their live decoders, from any static file server
(``python -m http.server`` in DIR, a school web server, a USB stick): no Latent Lab process, no
request leaving its own origin. The models come from the checkpoint store (train them first with
``python -m core zoo --dataset NAME``; a step whose model is missing says which command trains it).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from core.cli.options import add_data_options, data_config_from_args
from core.config import ConfigError
from core.errors import DatasetError
from core.store.checkpoints import CheckpointStore


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard lesson", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="a new or empty folder (or one an earlier export wrote: it is replaced)")
    p.add_argument("--runtime", choices=("auto", "tiny", "ort"), default="auto",
                   help="decoder runtime: auto picks the small JavaScript forward pass (about 20 KB) when it runs "
                        "every operator of the decoders, else onnxruntime-web (14 MB); tiny / ort force one")
    return p


def _quiet_streamlit() -> None:
    """Outside a server every cached function warns that it uses a memory cache: true and harmless here."""
    import streamlit.logger

    streamlit.logger.set_log_level(logging.ERROR)  # also for the loggers Streamlit creates later


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = data_config_from_args(args)
    except (ConfigError, DatasetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _quiet_streamlit()
    from dashboard.lesson.export import export_lesson  # imports streamlit and the dashboard: after the checks

    store = CheckpointStore(args.checkpoints) if args.checkpoints else None
    try:
        report = export_lesson(config, args.data_dir, Path(args.out), store=store, runtime=args.runtime)
    except (FileExistsError, ConfigError, DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"out": str(report.out_dir), "steps": report.steps, "live_steps": report.live_steps,
                          "missing": report.missing, "runtime": report.runtime, "parts": report.parts,
                          "total_bytes": report.total_bytes}, indent=1))
        return 0
    print(f"wrote {report.out_dir}: {len(report.steps)} steps ({len(report.live_steps)} live), "
          f"{report.total_bytes / 1e6:.2f} MB, decoder runtime {report.runtime}")
    for part, size in sorted(report.parts.items(), key=lambda kv: -kv[1]):
        print(f"  {part:24s} {size / 1e3:9.1f} KB")
    for slug in report.missing:
        print(f"  step '{slug}': its model is not cached (the step says which command trains it)")
    print(f"serve it with:  python -m http.server --directory {report.out_dir}   (then open http://localhost:8000)")
    return 0
