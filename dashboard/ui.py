"""Shared page furniture: the sidebar, the 'What am I looking at?' expander, and guards that turn a
missing dataset or an empty model cache into a clear message with a way forward (never a traceback)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from core.config import ConfigError, DataConfig
from core.data import archives
from core.data.data_sources import FOLDER, FOLDER_PREFIX, SOURCES
from core.data.datasets import Dataset
from core.errors import CheckpointError, DatasetError
from core.store.records import ModelRecord, unique_labels
from dashboard import figures, presenter, resources
from dashboard.keys import SIDEBAR
from dashboard.policy import REFUSED, Policy, policy
from dashboard.text import md

HOME, TRAIN = "views/home.py", "views/train.py"

UPLOAD = "upload"  # a zip uploaded in the browser: it ends as a folder dataset
#: the sidebar's choices: the table of datasets (core.data.data_sources), then an uploaded zip
DATASET_CHOICES = {name: source.title for name, source in SOURCES.items()} | {UPLOAD: "Upload a zip of images"}
MAX_SKIPPED_SHOWN = 50  # skipped entries of an uploaded zip listed in the sidebar (10,000 text files would fill it)


@dataclass(frozen=True)
class Selection:
    """What the sidebar chose: the data config (None until a folder is given) and the data folder."""

    config: DataConfig | None
    data_dir: str
    problem: str = ""


def sidebar() -> Selection:
    """The dataset picker shared by every page (its widgets live in the entry script, so the choice
    persists across pages)."""
    with st.sidebar:
        presenter.toggle()
        st.markdown("### Data")
        choice = st.selectbox("Dataset", list(DATASET_CHOICES), key=SIDEBAR.dataset,
                              format_func=DATASET_CHOICES.get,
                              help="Digits ship with scikit-learn and work offline. MNIST-style sets are read "
                                   "from the data folder below.")
        rules = policy()
        data_dir = ""  # in a classroom the server's own setting, whatever a browser sends
        if rules.can_type_paths:
            data_dir = st.text_input("Data folder", value=resources.data_dir_in_use(), key=SIDEBAR.data_dir,
                                     help="Folder that holds MNIST/raw, FashionMNIST/raw, KMNIST/raw "
                                          "(default: $LATENT_LAB_DATA_DIR or ./data).").strip()
        config, problem = None, ""
        if choice in (FOLDER, UPLOAD):  # both end as a folder dataset: folder:PATH
            path = (folder_choice(rules) if choice == FOLDER
                    else upload_choice(rules, resources.data_dir_in_use(data_dir or None)))
            size = st.number_input("Resize images to (pixels)", 8, 128, 28, key=SIDEBAR.folder_size)
            rgb = st.toggle("Keep colour", key=SIDEBAR.folder_rgb)
            if path:
                try:
                    config = DataConfig(f"{FOLDER_PREFIX}{path}", image_size=int(size), grayscale=not rgb)
                    config = resources.resolve(config, resources.data_dir_in_use(data_dir or None))
                except (ConfigError, DatasetError) as exc:
                    config, problem = None, md(exc)
            elif choice == UPLOAD:
                problem = ("Upload a zip of images in the sidebar (flat, or one sub-folder per class), or pick another dataset."
                           if rules.can_upload_datasets else
                           "No zip of images was uploaded to this server beforehand: pick another dataset.")
            elif rules.can_type_paths:
                problem = "Type the path of a folder of images in the sidebar (or pick another dataset)."
            else:
                problem = ("The teacher has shared no image folders (`--folder-root`): pick another dataset."
                           if not rules.shared_folders() else "Pick one of the shared folders in the sidebar.")
        else:
            config = DataConfig(choice)
        if rules.shows_server_paths and not presenter.is_on():  # the server's folders are nobody's business in a room
            st.caption(f"Data directory in use: {md(resources.data_dir_in_use(data_dir or None))}")
            st.caption(f"Model cache: {md(resources.store().root)}")
        training_panel()
    selection = Selection(config, resources.data_dir_in_use(data_dir or None), problem)
    st.session_state[SIDEBAR.selection] = selection
    return selection


def training_panel() -> None:
    """Trainings of this server, on every page: progress, a stop button, and a full rerun when one
    finishes so the new model appears everywhere without a reload."""
    active = any(job.active for job in resources.jobs().jobs())
    st.fragment(_training_panel, run_every=1.0 if active else None)()


def _training_panel() -> None:
    jobs = resources.jobs().jobs()
    finished = sum(not job.active for job in jobs)
    if st.session_state.get("jobs_finished", finished) != finished:  # one ended since the last look
        st.session_state["jobs_finished"] = finished
        st.rerun()  # the whole page: new models show up in every picker
    st.session_state["jobs_finished"] = finished
    if not jobs:
        return
    st.markdown("### Training")
    for job in jobs[:6]:
        if job.active:
            st.progress(job.progress, text=f"**{md(job.label)}** ({job.state}): {md(job.message)}")
            if st.button("Stop", key=f"stop_{job.name}", icon=":material/stop_circle:", disabled=not policy().can_train):
                resources.jobs().stop(job.name)
                st.rerun(scope="fragment")
        else:
            icon = {"done": ":material/check_circle:", "stopped": ":material/stop_circle:"}.get(job.state, ":material/error:")
            st.caption(f"{icon} {md(job.label)}: {md(job.message)}")


def folder_choice(rules: Policy) -> str:
    """The own-image folder: typed in on one's own machine, picked from the shared ones in a classroom."""
    if rules.can_type_paths:
        return st.text_input("Image folder", key=SIDEBAR.folder_path, placeholder="/path/to/images",
                             help="A folder of images, optionally one sub-folder per class.").strip()
    shared = [str(p) for p in rules.shared_folders()]
    if not shared:
        st.caption(REFUSED["paths"])
        return ""
    return st.selectbox("Image folder", shared, key=SIDEBAR.folder_pick, help=REFUSED["paths"],
                        format_func=lambda p: Path(p).name) or ""


def upload_limit_mb() -> int:
    """The zip upload cap in MB: the archive limit of core, lowered to Streamlit's ``server.maxUploadSize``
    (the server refuses anything larger anyway)."""
    server_mb = int(st.get_option("server.maxUploadSize") or 200)
    return max(1, min(archives.ArchiveLimits().max_archive_bytes // archives.MB, server_mb))


def upload_choice(rules: Policy, data_dir: str) -> str:
    """A zip of images uploaded here (unpacked under the data folder by ``core.data.archives``), or one uploaded
    before; returns its folder ('' when there is none). In classroom mode only earlier uploads are offered."""
    state = st.session_state
    if rules.can_upload_datasets:
        limit_mb = upload_limit_mb()
        file = st.file_uploader("Zip of images", type=["zip"], key="upload_zip", max_upload_size=limit_mb,
                                help=f"A .zip of PNG or JPEG images (at most {limit_mb} MB): flat, or one sub-folder "
                                     "per class. It is unpacked once into the data folder's `uploads/` and "
                                     "then listed below.")
        if file is not None and state.get("upload_result", (None,))[0] != file.file_id:
            try:
                with st.spinner(f"Unpacking {md(file.name)}..."):
                    upload = archives.extract_archive(file, data_dir, file.name,
                                                      archives.ArchiveLimits(max_archive_bytes=limit_mb * archives.MB))
                state[SIDEBAR.upload_pick] = str(upload.folder)  # the picker below is not drawn yet: allowed
                again = " (uploaded before: the same folder is used)" if upload.reused else ""
                state["upload_result"] = (file.file_id, "success", f"Unpacked {md(upload.label)}{again}.")
            except DatasetError as exc:
                state["upload_result"] = (file.file_id, "error", md(exc))
        if file is not None:
            _, kind, text = state["upload_result"]
            (st.success if kind == "success" else st.error)(text)
    else:
        st.caption(REFUSED["upload"])
    uploads = archives.uploaded_folders(data_dir)
    if not uploads:
        return ""
    labels = {str(u.folder): u.label for u in uploads}
    if state.get(SIDEBAR.upload_pick) not in labels:
        state.pop(SIDEBAR.upload_pick, None)
    pick = st.selectbox("Uploaded dataset", list(labels), key=SIDEBAR.upload_pick, format_func=labels.get,
                        help="Every zip unpacked under this data folder, newest first.")
    chosen = next(u for u in uploads if str(u.folder) == pick)
    if chosen.skipped:
        n = len(chosen.skipped)
        with st.expander(f"{n} entr{'y' if n == 1 else 'ies'} of the zip {'was' if n == 1 else 'were'} left out"):
            shown = [f"- {md(s.path)}: {md(s.reason)}" for s in chosen.skipped[:MAX_SKIPPED_SHOWN]]
            more = len(chosen.skipped) - len(shown)
            st.markdown("\n".join(shown + ([f"- ... and {more} more"] if more else [])))
    return pick


def refused(action: str) -> bool:
    """True (with the reason shown on the page) when classroom mode forbids ``action``
    ('train', 'delete')."""
    allowed = {"train": policy().can_train, "delete": policy().can_delete}[action]
    if not allowed:
        st.info(REFUSED[action], icon=":material/school:")
    return not allowed


def selection() -> Selection:
    return st.session_state.get(SIDEBAR.selection) or Selection(DataConfig("digits"), resources.data_dir_in_use())


def explainer(text: str) -> None:
    """The short plain-words explanation every page opens with."""
    with st.expander("What am I looking at?"):
        st.markdown(text)


@dataclass(frozen=True)
class Page:
    """What an opened page works with: the dataset, the sidebar's selection and the cached models."""

    dataset: Dataset
    selection: Selection
    models: list[ModelRecord]


def page(title: str, explanation: str, *, models: Callable[[ModelRecord], bool] | None = None,
         need: str = "a trained autoencoder", intro: str = "") -> Page:
    """Open a page: its title (and an intro line), its explainer, then the dataset (or a message that
    stops the page), then, when ``models`` is given, the cached models it keeps (or a way forward)."""
    st.title(title)
    if not presenter.is_on():  # on a projector the teacher explains, and the picture needs the room
        if intro:
            st.markdown(intro)
        explainer(explanation)
    dataset = dataset_or_stop()
    records = models_or_stop(dataset, models, need) if models is not None else []
    return Page(dataset, selection(), records)


def dataset_or_stop() -> Dataset:
    """The chosen dataset, or a message that says what to do and stops the page."""
    sel = selection()
    if sel.config is None:
        st.info(sel.problem or "Choose a dataset in the sidebar.")
        st.stop()
    try:
        return resources.load_data(sel.config, sel.data_dir)
    except DatasetError as exc:
        if not policy().can_download_datasets:  # classroom: advice a student can follow; nothing that writes
            dataset_missing_for_students(sel.config)
        else:
            dataset_missing_here(sel, exc)
        st.stop()


def dataset_missing_for_students(config: DataConfig) -> None:
    """Classroom mode: no server paths, no download (it would write to the teacher's disk), nothing a
    student cannot do."""
    st.info(f"**{md(config.name)} is not available on this server.** Pick **Digits** in the sidebar (it is always "
            "there), or another dataset; ask your teacher if the lesson needs this one.", icon=":material/school:")


def dataset_missing_here(sel: Selection, exc: DatasetError) -> None:
    """On one's own machine: what is wrong, and the ways forward (fix the folder, or try a download)."""
    st.error(f"**{md(sel.config.name)} is not available.** {md(exc)}")
    if sel.config.folder is not None:
        st.markdown("What you can do: check the *Image folder* path in the sidebar (a folder of PNG or JPEG "
                    "images, or one sub-folder of images per class), or pick **Digits**, which always works.")
        return
    st.markdown("What you can do: pick **Digits** in the sidebar (it always works offline), point the "
                "*Data folder* at a folder holding the raw files, or try a download (needs internet).")
    if st.button("Try to download it"):
        try:
            with st.spinner("Downloading..."):
                resources.load_data(sel.config, sel.data_dir, download=True)
            st.rerun()
        except DatasetError as again:
            st.error(f"The download did not work either: {md(again)}")


def every_model(record: ModelRecord) -> bool:
    return True


def models_or_stop(dataset: Dataset, keep: Callable[[ModelRecord], bool] = every_model,
                   need: str = "a trained autoencoder") -> list[ModelRecord]:
    """Cached models for this dataset that pass ``keep`` and can be loaded; an empty cache stops with a
    way forward."""
    records = usable([r for r in resources.cached_models(dataset.config) if keep(r)])
    if not records:
        st.info(f"This page needs {need} for **{md(dataset.name)}**, and none is cached yet.")
        # one under the other: side by side, a projector's narrow page (1280 x 720 at 150 %) cut the first label
        st.page_link(HOME, label="Train the default models on Home (one click)", icon=":material/home:")
        st.page_link(TRAIN, label="Train a model of your own", icon=":material/model_training:")
        st.stop()
    return records


def usable(records: list[ModelRecord]) -> list[ModelRecord]:
    """``records`` less the models whose weights are damaged, each of those named with the fix: a page
    treats them as missing models (no traceback halfway through), the others stay usable."""
    damaged = resources.damaged_models(records)
    for record in records:
        if record.name in damaged:
            cannot_load(record, damaged[record.name])
    return [r for r in records if r.name not in damaged]


def cannot_load(record: ModelRecord, problem: object) -> None:
    """What a page says about a cached model it cannot use: what is wrong, and the way forward."""
    st.error(f"The cached model **{md(record.label)}** cannot be loaded: {md(problem)}")
    st.page_link(TRAIN, label="Delete it and train again on the Train page", icon=":material/model_training:")


def pick_model(label: str, records: list[ModelRecord], key: str, help: str | None = None):
    """A selectbox over cached models; returns (record, loaded reducer) or stops with the fix."""
    labels = unique_labels(records)
    if st.session_state.get(key) not in labels:
        st.session_state.pop(key, None)
    name = st.selectbox(label, list(labels), key=key, help=help, format_func=labels.get)
    record = next(r for r in records if r.name == name)
    if record.collapsed:
        st.warning(record.collapse_warning, icon=":material/warning:")
    return record, load_or_stop(record)


def load_or_stop(record: ModelRecord):
    sel = selection()
    try:
        return resources.reducer(sel.config, sel.data_dir, record.ref)
    except CheckpointError as exc:
        cannot_load(record, exc)
        st.stop()


@contextlib.contextmanager
def model_errors_shown():
    """app.py runs every page inside this: a :class:`CheckpointError` a page meets past its checks (a
    model damaged while it runs, or one a page took from the cache without :func:`models_or_stop`)
    ends the page with the store's message (which names the checkpoint and the fix), not a traceback."""
    try:
        yield
    except CheckpointError as exc:
        st.error(f"A cached model cannot be loaded: {md(exc)}")
        st.page_link(TRAIN, label="Delete it and train again on the Train page", icon=":material/model_training:")


def csv_download(label: str, table: pd.DataFrame | Callable[[], pd.DataFrame], file_name: str,
                 key: str | None = None, where=st) -> None:
    """A button that downloads ``table`` (or what calling it returns) as CSV, written only when clicked.

    Deferred (Streamlit calls the data function on the click): a page that is only looked at builds no
    CSV and registers no file for the browser to fetch; on the Latent map the coordinates' CSV was
    built and fetched on every visit (bench part "visits"). ``where``: a column to draw it in.
    """
    def data() -> str:
        return (table() if callable(table) else table).to_csv(index=False)

    # on_click="ignore": a click that also reruns the page can lose the file (Streamlit clears the answer to
    # the deferred request from its outgoing queue when the rerun starts; the button then spins for 180 s)
    where.download_button(label, data, file_name, "text/csv", key=key, icon=":material/download:", on_click="ignore")


def picture(png: bytes, caption: str | None = None) -> None:
    """PNG bytes shown as PNG (Streamlit's 'auto' may re-encode to JPEG, which smears pixel art); the
    caption is plain text (it often holds class names, which come from folder names)."""
    st.image(png, caption=None if caption is None else md(caption), output_format="PNG")


def image(array: np.ndarray, caption: str | None = None, size: int = 140) -> None:
    """One (C, H, W) image, crisp (nearest-neighbour up-scaling)."""
    picture(figures.png(array, presenter.image_px(size)), caption=caption)


def image_row(label: str, images: np.ndarray, cell: int = 56, note: str = "") -> None:
    """A labelled row of images."""
    # presenter view sets the label at the room's text size: a sixth of a projector's width cut "denoising" in two
    left, right = st.columns([2, 5] if presenter.is_on() else [1, 5], vertical_alignment="center")
    left.markdown(f"**{md(label)}**" + (f"  \n{note}" if note else ""))  # note: the page's own markdown
    with right:
        picture(figures.mosaic(images, cell=presenter.image_px(cell)))
