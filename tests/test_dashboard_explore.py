"""The Explore page under Streamlit's AppTest, on digits, with the tiny pre-trained zoo of test_dashboard."""

from __future__ import annotations

import pytest

from core.store.zoo import default_zoo
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
    assert len(at.selectbox(key="ex_model").options) == len(models) == len(default_zoo()), "every cached model can be explored"
    for name in models:
        at.selectbox(key="ex_model").set_value(name).run()
        no_exception(at)
        assert not at.error, (name, [e.value for e in at.error])
        assert [h.value for h in at.header] == SECTIONS, name
        assert at.number_input(key="ex_image").value == 17, "the chosen image stays when the model changes"


def test_the_attribute_walk_says_what_it_adds_and_when_the_start_is_no_a():
    at = start("explore")
    walk = [c for c in explainers(at) if "mean code of B - mean code of A" in c]
    assert walk, "the walk is described as what it computes"
    assert "may not look like a B" in walk[0] and "trades A for B" not in walk[0], "no promise the end is a B"
    label = at.selectbox(key="ex_from_0").value  # class A starts as the chosen image's own class
    assert not [i for i in at.info if "not of class A" in i.value]
    other = next(c for c in at.selectbox(key="ex_from_0").options if c != str(label))
    at.selectbox(key="ex_from_0").set_value(int(other)).run()
    no_exception(at)
    assert [i for i in at.info if "not of class A" in i.value], "a start of another class is pointed out"


def test_pcas_traversal_rows_are_named_pc1_pc2():
    at = start("explore")
    model_tab, pca_tab = at.tabs
    assert pca_tab.label.startswith("PCA")
    pca_rows = [m.value for m in pca_tab.markdown]
    assert pca_rows[0].startswith("**PC1**") and pca_rows[1].startswith("**PC2**"), pca_rows
    assert not [row for row in pca_rows if row.startswith("**code")], pca_rows
    assert [m.value for m in model_tab.markdown][0].startswith("**code 1**")
    assert any("principal components" in c.value for c in pca_tab.caption)


def test_pictures_have_square_corners():
    at = start("explore")
    styles = [h.proto.body for h in at.get("html")]
    assert any("stImageContainer" in s and "border-radius: 0" in s for s in styles), "8x8 pixels keep their corners"
