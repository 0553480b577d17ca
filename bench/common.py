"""What every bench part shares: the part contract, machine facts, timing helpers, the table and
the RESULTS.md writer.

A part is a module with ``NAME`` (used by ``--part``), ``TITLE`` and ``run(options) -> PartResult``.
The results file keeps one section per part between markers, so running one part replaces only
its own section and the others keep their last full numbers.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DEFAULT_MNIST_DIR = Path("/work/shared/data")


@dataclass
class Options:
    """Command-line options every part reads."""

    quick: bool = False  # small sizes: a smoke run in about a minute per part, numbers not for quoting
    data_dir: str | None = None  # folder holding MNIST/raw (default: $LATENT_LAB_DATA_DIR, ../shared/data, ./data)
    budget: float | None = None  # part 2: training seconds per side (default 600, quick 45)
    rounds: int | None = None  # repetitions of each interleaved comparison (default per part)
    device: str = "cpu"  # part 1: where both sides train ("cuda" on a GPU machine: its own section)


@dataclass
class PartResult:
    """One part's outcome: rows for the table, goal lines and free-text notes."""

    name: str
    title: str
    rows: list[dict]
    goals: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


def load_average() -> tuple[float, float, float]:
    """1/5/15-minute load averages (how busy the shared cores were: timings are relative to it)."""
    try:
        return tuple(round(v, 2) for v in os.getloadavg())  # type: ignore[return-value]
    except OSError:
        return (0.0, 0.0, 0.0)


def machine() -> dict:
    import numpy as np
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch threads": torch.get_num_threads(),
        "training device": (f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu"),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def data_dir_holding(options: Options, relative: str) -> str | None:
    """The first data folder (``--data-dir``, ``$LATENT_LAB_DATA_DIR``, ../shared/data, the project's
    default) that holds the folder ``relative`` (e.g. ``'MNIST/raw'``), or None when none does."""
    from core.data.datasets import resolve_data_dir

    for candidate in (options.data_dir, os.environ.get("LATENT_LAB_DATA_DIR"), DEFAULT_MNIST_DIR, resolve_data_dir()):
        if candidate and (Path(candidate) / relative).is_dir():
            return str(candidate)
    return None


def mnist_dir(options: Options) -> str | None:
    """The data folder holding MNIST, or None when MNIST is not on this machine."""
    return data_dir_holding(options, "MNIST/raw")


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median of the per-round ratios (each round's sides ran back to back under the same load)."""
    return statistics.median(a / b for a, b in zip(numerators, denominators))


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - start


def fmt(value) -> str:
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.4f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(fmt(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def render_part(result: PartResult) -> str:
    parts = [f"## {result.title}", "",
             f"Run {result.started}, {result.seconds:.0f} s; load average before {result.load_before}, "
             f"after {result.load_after} (on {os.cpu_count()} cores).", "", markdown_table(result.rows), ""]
    if result.goals:
        parts += ["Against the goals:", ""] + [f"- {g}" for g in result.goals] + [""]
    if result.notes:
        parts += ["Notes:", ""] + [f"- {n}" for n in result.notes] + [""]
    return "\n".join(parts)


def print_part(result: PartResult) -> None:
    print(render_part(result), flush=True)


HEADER = """# Latent Lab benchmark results

Written by `python -m bench` (`make bench`); each part replaces only its own section.
Every comparison ran both sides in the same process, interleaved or back to back, so the ratio is
the number to read: the absolute speeds move with the load other processes put on the shared cores
(the load average is recorded with each part).
"""


def write_results(results: list[PartResult], command: str, path: Path = RESULTS) -> None:
    """Replace the sections of ``results`` in ``path``, keeping the other parts' last numbers."""
    text = path.read_text() if path.exists() else ""
    sections = dict(re.findall(r"<!-- part:(\w+) -->\n(.*?)<!-- /part:\1 -->", text, flags=re.S))
    for result in results:
        sections[result.name] = f"Command: `{command}`\n\n" + render_part(result)
    info = machine()
    lines = [HEADER, f"Last written {time.strftime('%Y-%m-%d %H:%M:%S %z')} by `{command}`.", "",
             "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()), ""]
    from bench import PARTS  # the order parts are listed in

    for name in [*PARTS, *[n for n in sections if n not in PARTS]]:
        if name in sections:
            lines += [f"<!-- part:{name} -->", sections[name].rstrip() + "\n", f"<!-- /part:{name} -->", ""]
    path.write_text("\n".join(lines))


def command_line() -> str:
    return " ".join(["python -m bench", *sys.argv[1:]])
