"""The Lesson page: every step of the path draws its live view on the default zoo, Next/Back move
through it, the step is in the link, a missing model names the command that trains it; presenter view."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.lesson.steps import LESSON
from testkit.app import REPO


def lesson(**params) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=240).run()
    at.query_params = {k: str(v) for k, v in params.items()}
    at.switch_page("views/lesson.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.markdown, *at.info, *at.caption, *at.subheader])


@pytest.mark.slow
def test_every_step_draws_its_view_with_words_and_a_question(env):
    at = lesson()
    for i, step in enumerate(LESSON):
        shown = text(at)
        assert f"{i + 1}/{len(LESSON)} · {step.title}" in shown
        assert "What to notice" in shown and step.question in shown
        assert at.query_params["step"] == step.slug, "the step is in the link"
        needs_model = step.model is not None and step.model.family == "linear"
        if not needs_model:  # the default zoo has every other step's model
            assert "none is cached" not in shown, step.slug
        if step.element in ("pixel_map", "model_map", "eigen_images", "rate_distortion", "pixels"):
            assert at.get("plotly_chart"), step.slug
        if i < len(LESSON) - 1:
            at.button(key="lesson_next").click().run()
            assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="lesson_next").disabled
    at.button(key="lesson_back").click().run()
    assert at.query_params["step"] == LESSON[-2].slug


def test_a_link_opens_its_step_and_a_missing_model_names_the_command(env):
    at = lesson(step="linear")
    assert "Linear autoencoder lands on PCA".lower() in text(at).lower()
    shown = text(at)
    if "none is cached" in shown:  # the linear model is not in every zoo: the command that trains it
        assert "python -m core" in "\n".join(c.value for c in at.code)
    bad = lesson(step="nostep")
    assert "nostep" in "\n".join(i.value for i in bad.info) and bad.query_params["step"] == LESSON[0].slug


def test_presenter_view_from_a_link_hides_server_paths_and_doubles_pictures(env):
    from dashboard import resources

    at = lesson(step="numbers", present=1)
    assert at.toggle(key="present").value is True and at.query_params["present"] == "1"
    sidebar = "\n".join(c.value for c in at.sidebar.caption)
    assert str(resources.store().root) not in sidebar and "Data directory" not in sidebar
    assert any(b.key == "presenter_reset" for b in at.button)
    at.toggle(key="present").set_value(False).run()
    assert "present" not in at.query_params
