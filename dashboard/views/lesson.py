"""Lesson: "PCA vs autoencoders" in eight steps, one screen each, for a class (see dashboard/lesson/steps.py)."""

import re

import streamlit as st

from core.words import a_or_an
from dashboard import share, ui
from dashboard.lesson.elements import ELEMENTS, StepContext
from dashboard.lesson.export import lesson_zip
from dashboard.lesson.models import model_for, train_hint
from dashboard.lesson.steps import LESSON, LessonStep
from dashboard.text import md

KEY = "lesson_step"
SLUGS = [step.slug for step in LESSON]


def missing_model(step: LessonStep, dataset) -> None:
    """The step's model is not cached: say which command trains it (the static lesson says the same)."""
    need = step.model
    name = dataset.config.name
    hint = train_hint(need, dataset)
    zoo = hint.in_zoo
    st.info(f"This step shows a **{md(need.family)}** autoencoder with {a_or_an(need.latent_dim)} {need.latent_dim}-number code"
            + (" trained on noisy images" if need.denoising else "") + f", and none is cached for **{md(name)}** yet. "
            + ("Train the default models with the button on Home, or on the command line:" if zoo else
               "Train it on the Train page, or on the command line:"), icon=":material/school:")
    st.code(hint.command, language="bash")


def step_bar(index: int) -> None:
    """Back, the step's number and title, Next: one row, so the view below starts on the first screen."""
    back, title, forward = st.columns([1, 10, 1], vertical_alignment="center")
    if back.button("", key="lesson_back", icon=":material/arrow_back:", disabled=index == 0, help="Back"):
        st.session_state[KEY] = SLUGS[index - 1]
        st.rerun()
    if forward.button("", key="lesson_next", icon=":material/arrow_forward:", disabled=index == len(LESSON) - 1,
                      help="Next"):
        st.session_state[KEY] = SLUGS[index + 1]
        st.rerun()
    title.subheader(f"{index + 1}/{len(LESSON)} · {LESSON[index].title}")


def download_button(dataset, data_dir: str) -> None:
    """The whole lesson as a zip that runs from any static file server (built only when clicked)."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", dataset.name).strip("-") or "dataset"
    st.download_button("Download this lesson", data=lambda: lesson_zip(dataset.config, data_dir),
                       file_name=f"latent-lab-lesson-{name}.zip", mime="application/zip", key="lesson_download",
                       icon=":material/download:", on_click="ignore",
                       help="Every step with its live decoders, as a folder of files: unzip it, run "
                            "`python -m http.server` in it (or put it on any web server) and open it in a browser. "
                            "No Latent Lab server is needed.")


def step_picker() -> None:
    """Every step by number, to jump (below the step's words)."""
    st.segmented_control("Step", SLUGS, key=KEY, label_visibility="collapsed",
                         format_func=lambda slug: f"{SLUGS.index(slug) + 1}. {LESSON[SLUGS.index(slug)].title}")


dataset = ui.dataset_or_stop()
page = ui.Page(dataset, ui.selection(), [])
share.view(page, step=KEY, choices={"step": SLUGS})
if st.session_state.get(KEY) not in SLUGS:
    st.session_state[KEY] = SLUGS[0]
index = SLUGS.index(st.session_state[KEY])
step = LESSON[index]

step_bar(index)
record = None
if step.model is not None:
    record = model_for(step.model, dataset)
if step.model is not None and record is None:
    missing_model(step, dataset)
else:
    ELEMENTS[step.element](StepContext(dataset, page.selection, record, step.settings))
st.markdown(f":material/visibility: **What to notice:** {step.notice}")
st.markdown(f":material/record_voice_over: **Ask the class:** {step.question}")
step_picker()
download_button(dataset, page.selection.data_dir)
