"""The Latent map's selections (issue 21 item 3: a region's points, its link, the panel) and its colour by
reconstruction error (item 6)."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.analysis.selection import MAX_LASSO_VERTICES, Region, selection_table
from testkit.app import REPO


def test_a_box_and_a_lasso_hold_the_points_inside():
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.4, 1.5]])
    box = Region("box", [[0.5, 0.5], [2.5, 2.5]])
    assert box.contains(xy).tolist() == [False, True, True, False]
    triangle = Region("lasso", [[-1, -1], [2.8, -1], [-1, 2.8]])  # below the line x + y = 1.8
    assert triangle.contains(xy).tolist() == [True, False, False, False]


def test_a_region_goes_into_a_link_and_back():
    lasso = Region("lasso", np.column_stack([np.cos(np.linspace(0, 6, 500)), np.sin(np.linspace(0, 6, 500))]))
    assert len(lasso.vertices) == MAX_LASSO_VERTICES, "a hand-drawn lasso is thinned for the link"
    again = Region.from_text(lasso.to_text())
    assert again.kind == "lasso" and np.allclose(again.vertices, lasso.vertices, atol=1e-3)
    for bad in ["circle:0,0,1,1", "box:0,0,1", "box:0,0,nan,1", "lasso:0,0,1,1", "box:", "box:a,b,c,d"]:
        with pytest.raises(ValueError):
            Region.from_text(bad)


def test_a_plotly_selection_event_becomes_a_region():
    event = {"points": [], "box": [{"x": [0, 2], "y": [1, 3], "xref": "x", "yref": "y"}], "lasso": []}
    region = Region.from_plotly(event)
    assert region.kind == "box" and region.vertices.tolist() == [[0, 1], [2, 3]]
    assert Region.from_plotly({"points": [{"x": 1}], "box": [], "lasso": []}) is None


def test_the_selection_table_has_index_class_coordinates_and_code():
    table = selection_table(np.array([4, 9]), np.array([1, 0]), ["zero", "one"], np.array([[0.1, 0.2], [0.3, 0.4]]),
                            np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    assert list(table.columns) == ["index", "class", "x", "y", "code_1", "code_2", "code_3"]
    assert table["class"].tolist() == ["one", "zero"] and table["code_3"].tolist() == [3.0, 6.0]


def test_a_link_with_a_region_opens_the_selection_panel(env):
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=240).run()
    at.query_params = {"region": "pixels:box:-100,-100,100,100"}
    at.switch_page("views/latent_map.py").run()
    assert not at.exception, [e.value for e in at.exception]
    text = "\n".join(m.value for m in at.markdown)
    assert "Selected on the pixel-PCA map:** 360 test images" in text, "every digits test image is in a huge box"
    assert any(b.label == "Download the selection (CSV)" for b in at.get("download_button"))
    assert at.query_params["region"].startswith("pixels:box:"), "the selection stays in the link"
    bad = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=240).run()
    bad.query_params = {"region": "elsewhere:box:0,0,1,1"}
    bad.switch_page("views/latent_map.py").run()
    assert not bad.exception and any("region" in i.value for i in bad.info)


def test_colour_by_error_puts_each_images_error_on_one_scale_for_model_and_pca(env):
    from core.analysis.error_curve import per_image_errors
    from core.config import DataConfig
    from core.data.datasets import load_dataset
    from core.store.records import ModelRef
    from dashboard import resources

    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=240).run()
    at.query_params = {"colour": "pca"}
    at.switch_page("views/latent_map.py").run()
    assert not at.exception, [e.value for e in at.exception]
    specs = [c.proto.spec for c in at.get("plotly_chart")[:2]]
    assert all('"colorscale"' in spec and "MSE, PCA" in spec for spec in specs), "both maps coloured by PCA's error"
    assert at.query_params["colour"] == "pca"
    dataset = load_dataset("digits")
    pca = resources.reducer(DataConfig("digits"), resources.data_dir_in_use(), ModelRef.baseline(2))
    errors = per_image_errors(pca, dataset.test.images)
    assert errors.shape == (len(dataset.test),) and np.all(errors >= 0)
    assert np.isclose(errors.mean(), np.mean((pca.reconstruct(dataset.test.images) - dataset.test.images) ** 2), rtol=1e-5)
