"""The Explore page under Streamlit's AppTest, on digits, with the tiny pre-trained zoo of test_dashboard."""

from __future__ import annotations

import pytest

from tests.test_dashboard import image_urls, no_exception, start

pytestmark = pytest.mark.usefixtures("env")  # the tiny zoo as the model cache

SECTIONS = ["1. Nearest neighbours", "2. Attribute vectors and latent arithmetic", "3. Traversal grid",
            "4. What the basis looks like"]


def image_captions(at) -> list[str]:
    return [image.caption for element in at.get("image") for image in element.proto.imgs]


def explainers(at) -> list[str]:
    return [c.value for c in at.caption if "What am I looking at?" in c.value]


def test_explore_runs_and_shows_every_section():
    at = start("explore")
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert [h.value for h in at.header] == SECTIONS
    assert len(explainers(at)) >= 5, "one 'What am I looking at?' line per section (and the arithmetic)"
    assert any(e.label == "What am I looking at?" for e in at.expander)
    assert len(image_urls(at)) > 60, "neighbours, class means, walks, arithmetic, grid and basis are drawn"
    assert at.number_input(key="ex_image").value == 0


def test_explore_follows_a_request_and_every_model():
    at = start("explore")
    at.session_state["explore_request"] = {"index": 17}
    at.run()
    no_exception(at)
    assert at.number_input(key="ex_image").value == 17
    assert any("#17" in caption for caption in image_captions(at)), "the sent image is the chosen one"
    from core.config import DataConfig
    from dashboard import resources

    models = [r.name for r in resources.cached_models(DataConfig("digits"))]
    assert len(at.selectbox(key="ex_model").options) == len(models) == 6, "every cached model can be explored"
    for name in models:
        at.selectbox(key="ex_model").set_value(name).run()
        no_exception(at)
        assert not at.error, (name, [e.value for e in at.error])
        assert [h.value for h in at.header] == SECTIONS, name
        assert at.number_input(key="ex_image").value == 17, "the chosen image stays when the model changes"
