"""The latent map at scale (issue 11): the figure of test and training points, and the Points option."""

from __future__ import annotations

import json

import numpy as np

from dashboard import figures


def _traces(fig) -> list[dict]:
    import plotly.io as pio

    return json.loads(pio.to_json(fig, validate=False))["data"]


def test_map_figure_tells_training_from_test_images(rng):
    test_xy, train_xy = rng.normal(size=(30, 2)), rng.normal(size=(70, 2))
    test_labels, train_labels = np.arange(30) % 3, np.arange(70) % 3
    fig = figures.latent_map(test_xy, test_labels, ["zero", "one", "two"], np.arange(100, 130), "map",
                             grid=np.zeros((4, 2)), train_xy=train_xy, train_labels=train_labels,
                             train_index=np.arange(70))
    grid, *points = fig.data
    assert grid.name.startswith("empty space") and figures.map_point({"customdata": list(grid.customdata[0])}) is None
    training = [t for t in points if "(training)" in t.name]
    test = [t for t in points if "(training)" not in t.name]
    assert len(training) == len(test) == 3, "one trace per class and split"
    assert sum(len(t.x) for t in training) == 70 and sum(len(t.x) for t in test) == 30
    assert fig.data.index(training[-1]) < fig.data.index(test[0]), "test images are drawn on top"
    assert all("training image #" in t.hovertemplate for t in training)
    assert all("test image #" in t.hovertemplate for t in test)
    # what a click on a point hands back names the split and the row of the right image
    assert figures.map_point({"customdata": [int(v) for v in training[1].customdata[0]]}) == ("training", 1)
    assert figures.map_point({"customdata": [int(v) for v in test[0].customdata[0]]}) == ("test", 100)
    # a typed-array row reaches Python from the browser as a dict
    assert figures.map_point({"customdata": {"0": 59999, "1": 1}}) == ("training", 59999)
    # the points go out as typed arrays (base64), not as a list of numbers or a string per point
    sent = _traces(fig)[1]
    assert "bdata" in sent["x"] and "bdata" in sent["customdata"] and "text" not in sent


def test_map_figure_svg_or_webgl():
    xy = np.zeros((5, 2))
    assert {t.type for t in figures.latent_map(xy, np.zeros(5, int), ["a"], np.arange(5), "m").data} == {"scattergl"}
    assert {t.type for t in figures.latent_map(xy, np.zeros(5, int), ["a"], np.arange(5), "m", webgl=False).data} == {"scatter"}


def test_points_option_shows_every_test_image_and_can_add_the_training_images(env):
    from tests.test_dashboard import no_exception, start

    at = start("latent_map")
    no_exception(at)
    points = at.select_slider(key="map_points")
    from core.data.datasets import load_dataset

    digits = load_dataset("digits")
    n_test, n_train = len(digits.test), len(digits.train)
    assert points.value == n_test, "every test image by default"
    assert points.options[-2:] == [f"all {n_test:,} test", f"all {n_test + n_train:,} (train + test)"]

    def drawn() -> list[tuple[int, int]]:
        """(test points, training points) on each map."""
        counts = []
        for chart in at.get("plotly_chart"):
            traces = json.loads(chart.proto.spec)["data"]
            count = [0, 0]
            for t in traces:
                if not t.get("name", "").startswith("empty space"):
                    count["(training)" in t.get("name", "")] += len(figures_points(t))
            counts.append(tuple(count))
        return counts

    assert drawn() == [(n_test, 0), (n_test, 0)]
    points.set_value(n_test + n_train).run()
    no_exception(at)
    assert drawn() == [(n_test, n_train), (n_test, n_train)], "both maps place every training image too"


def figures_points(trace: dict) -> np.ndarray:
    """The x values of a trace as plotly sent them (a base64 typed array or a list)."""
    import base64

    x = trace["x"]
    if isinstance(x, dict):
        return np.frombuffer(base64.b64decode(x["bdata"]), dtype=np.dtype(x["dtype"]))
    return np.asarray(x)
