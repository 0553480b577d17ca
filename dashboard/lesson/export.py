"""The static lesson: the Lesson page's steps as a folder that any static file server can serve.

``export_lesson`` writes ``index.html`` and everything it needs beside it, all paths relative and no
CDN: ``lesson.js`` / ``lesson.css`` (the runner: one step per screen), ``live.js`` / ``live.css`` (the
dashboard's live element, unchanged), the decoder runtime (:mod:`dashboard.lesson.runtime`), plotly.js
(gzip-compressed: 4.8 MB becomes 1.4 MB; the browser unpacks it with DecompressionStream), one JSON
file per step (:mod:`dashboard.lesson.static`, computed by the same functions the page calls), the
pictures and the decoders. The steps are :data:`dashboard.lesson.steps.LESSON`, as on the page.

Works outside a Streamlit server: ``dashboard.resources``' caches fall back to memory caches.
"""

from __future__ import annotations

import contextlib
import gzip
import html
import io
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.config import DataConfig
from core.store.checkpoints import CheckpointStore
from dashboard import resources
from dashboard.lesson import runtime as runtimes
from dashboard.lesson.elements import StepContext
from dashboard.lesson.models import model_for, train_hint
from dashboard.lesson.static import STATIC, Assets, text
from dashboard.lesson.steps import LESSON
from dashboard.ui import Selection

HERE = Path(__file__).resolve().parent
WEB = HERE / "web"  # index.html, lesson.js, lesson.css
PLAYER = HERE.parent / "player"  # the watch-it-learn player (dashboard/player)
LIVE = HERE.parent / "live"
MANIFEST = "lesson.json"
PLOTLY = "vendor/plotly/plotly.min.js.gz"
#: what a folder is made of, by where its files lie (ExportReport.parts)
PARTS = {"vendor/tiny-onnx": "decoder runtime", "vendor/onnxruntime-web": "decoder runtime", "vendor/plotly": "plotly.js",
         "models": "decoders", "images": "pictures", "data": "step data"}


@dataclass(frozen=True)
class ExportReport:
    """What was written.

    Attributes
    ----------
    out_dir : Path
    steps : tuple of str
        Every step's slug, in lesson order.
    live_steps : tuple of str
        Steps with a live element.
    missing : tuple of str
        Steps whose model is not cached (written with the command that trains it).
    runtime : str
        The decoder runtime shipped ('tiny_onnx' or 'onnxruntime-web').
    parts : dict of str to int
        Bytes on disk by part (decoder runtime, plotly.js, decoders, pictures, step data, page).
    """

    out_dir: Path
    steps: tuple[str, ...]
    live_steps: tuple[str, ...]
    missing: tuple[str, ...]
    runtime: str
    parts: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return sum(self.parts.values())


@contextlib.contextmanager
def _store_in(store: CheckpointStore | None) -> Iterator[None]:
    """``dashboard.resources`` reads its store from ``$LATENT_LAB_CHECKPOINTS`` at each call: point it at
    ``store`` for the export."""
    if store is None:
        yield
        return
    previous = os.environ.get("LATENT_LAB_CHECKPOINTS")
    os.environ["LATENT_LAB_CHECKPOINTS"] = str(store.root)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("LATENT_LAB_CHECKPOINTS", None)
        else:
            os.environ["LATENT_LAB_CHECKPOINTS"] = previous


def _prepare(out_dir: Path) -> None:
    """An empty folder, or one holding an earlier lesson (replaced); anything else is left alone."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / MANIFEST).is_file():
            raise FileExistsError(f"{out_dir} is not empty and holds no lesson: give an empty or new folder")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def _missing_blocks(hint) -> list[dict]:
    return [text(hint.text, "note"), {"type": "command", "text": hint.command}]


def _copy_static_files(out_dir: Path, runtime: runtimes.Runtime) -> None:
    import plotly
    import plotly.offline

    shutil.copyfile(LIVE / "live.js", out_dir / "live.js")
    shutil.copyfile(LIVE / "live.css", out_dir / "live.css")
    for name in ("player.js", "player.css"):  # watch it learn (dashboard/player)
        shutil.copyfile(PLAYER / name, out_dir / name)
    for name in ("lesson.js", "lesson.css"):
        shutil.copyfile(WEB / name, out_dir / name)
    folder = out_dir / runtime.folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in runtime.files.items():
        shutil.copyfile(source, folder / name)
    plotly_js = out_dir / PLOTLY
    plotly_js.parent.mkdir(parents=True, exist_ok=True)
    plotly_js.write_bytes(gzip.compress(plotly.offline.get_plotlyjs().encode(), compresslevel=9, mtime=0))
    licence = Path(plotly.__file__).parent.parent / f"plotly-{plotly.__version__}.dist-info" / "licenses" / "LICENSE.txt"
    (plotly_js.parent / "LICENSE").write_text(
        "plotly.js, as bundled in the plotly Python package " + plotly.__version__ + " (MIT):\n\n"
        + (licence.read_text() if licence.is_file() else "MIT License, Copyright (c) Plotly, Inc.\n"))


def _index_html(title: str) -> str:
    return (WEB / "index.html").read_text().replace("{{title}}", html.escape(title))


def _parts(out_dir: Path) -> dict[str, int]:
    parts: dict[str, int] = {}
    for path in out_dir.rglob("*"):
        if path.is_file():
            rel = path.relative_to(out_dir).as_posix()
            part = next((name for prefix, name in PARTS.items() if rel.startswith(prefix + "/")), "page and live element")
            parts[part] = parts.get(part, 0) + path.stat().st_size
    return parts


def export_lesson(dataset_config: DataConfig, data_dir: str | None, out_dir: str | Path,
                  store: CheckpointStore | None = None, runtime: str = "auto") -> ExportReport:
    """Write the static lesson for one dataset into ``out_dir``.

    Parameters
    ----------
    dataset_config : DataConfig
        The dataset (as the sidebar picks it; a folder dataset's content is resolved here).
    data_dir : str or None
        The data folder (None: ``$LATENT_LAB_DATA_DIR`` or ./data).
    out_dir : str or Path
        A new or empty folder, or one an earlier export wrote (it is replaced).
    store : CheckpointStore, optional
        Where the models are (default: the dashboard's store).
    runtime : {'auto', 'tiny', 'ort'}
        The decoder runtime (:func:`dashboard.lesson.runtime.choose`).

    Returns
    -------
    ExportReport
    """
    out_dir = Path(out_dir)
    _prepare(out_dir)
    with _store_in(store):
        data_dir = resources.data_dir_in_use(data_dir)
        config = resources.resolve(dataset_config, data_dir)
        dataset = resources.load_data(config, data_dir)
        selection = Selection(config, data_dir)
        assets = Assets(out_dir)
        manifest_steps, live_steps, missing = [], [], []
        for step in LESSON:
            record = model_for(step.model, dataset) if step.model is not None else None
            if step.model is not None and record is None:
                blocks = _missing_blocks(train_hint(step.model, dataset))
                missing.append(step.slug)
            else:
                blocks = STATIC[step.element](StepContext(dataset, selection, record, step.settings), assets)
            if any(_has_live(b) for b in blocks):
                live_steps.append(step.slug)
            path = out_dir / "data" / f"{step.slug}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"slug": step.slug, "blocks": blocks}, separators=(",", ":")))
            manifest_steps.append({"slug": step.slug, "title": step.title, "notice": step.notice,
                                   "question": step.question, "data": f"data/{step.slug}.json"})
    chosen = runtimes.choose(assets.models.values(), runtime)
    _copy_static_files(out_dir, chosen)
    manifest = {"dataset": dataset.name, "steps": manifest_steps, "runtime": chosen.data(), "plotly": PLOTLY}
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (out_dir / "index.html").write_text(_index_html(f"PCA vs autoencoders on {dataset.name}: a Latent Lab lesson"))
    return ExportReport(out_dir, tuple(s.slug for s in LESSON), tuple(live_steps), tuple(missing), chosen.name,
                        _parts(out_dir))


def _has_live(block: dict) -> bool:
    if block.get("type") == "live":
        return True
    return any(_has_live(b) for column in block.get("columns", []) for b in column)


def lesson_zip(dataset_config: DataConfig, data_dir: str | None, store: CheckpointStore | None = None) -> bytes:
    """The same folder as :func:`export_lesson` writes, as a zip (one top folder, ``latent-lab-lesson/``)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "latent-lab-lesson"
        export_lesson(dataset_config, data_dir, folder, store)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(tmp).as_posix())
        return buffer.getvalue()
