"""Issue 19 ("every figure true"): what the Latent map, Train and Playground pages say matches what they
show, under Streamlit's AppTest on digits with the tiny pre-trained zoo of test_dashboard."""

from __future__ import annotations

import shutil

import pytest

from tests.test_dashboard import no_exception, start


def metric_help(at) -> dict[str, list[str]]:
    helps: dict[str, list[str]] = {}
    for metric in at.metric:
        helps.setdefault(metric.label, []).append(metric.proto.help)
    return helps


# --- Latent map ------------------------------------------------------------------------------------
def test_latent_map_scores_say_how_many_test_images_they_are_measured_on(env):
    at = start("latent_map")
    no_exception(at)
    helps = metric_help(at)
    for label in ("Trustworthiness", "Silhouette", "k-NN accuracy"):
        assert len(helps[label]) == 2, label
        for text in helps[label]:
            assert "360 test images" in text, (label, text)  # digits has 360 test images, not 2,000
            assert "2,000" not in text and "5,000" not in text, (label, text)


@pytest.fixture
def store_with_throwaways(env, tmp_path, monkeypatch):
    """The tiny zoo plus two newer throwaway 2-D models (1 epoch), like ones trained a minute ago."""
    from core.config import TrainConfig
    from core.data.datasets import load_dataset
    from core.models.methods import default_model_config
    from core.store.checkpoints import CheckpointStore
    from core.store.trained import load_or_train

    root = tmp_path / "store"
    shutil.copytree(env, root, symlinks=True)  # checkpoints are links to version folders
    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(root))
    store, digits = CheckpointStore(root), load_dataset("digits")
    for family in ("dense", "conv"):
        load_or_train(digits, default_model_config(family, 2), TrainConfig(epochs=1), store=store)
    return store


def test_pages_open_on_the_zoos_model_not_the_newest(store_with_throwaways):
    from core.config import TrainConfig
    from core.store.zoo import first_choice, zoo_status
    from testkit.app import TEST_EPOCHS

    records = store_with_throwaways.list().records
    newest = max(records, key=lambda r: r.created)
    assert newest.train.epochs == 1, "a throwaway is the newest model"
    zoo = zoo_status(newest.data, records, TrainConfig(epochs=TEST_EPOCHS))
    wanted = next(z.record for z in zoo if z.model == first_choice() and z.train.noise is None)
    assert wanted.train.epochs == TEST_EPOCHS
    for page, key in (("latent_map", "map_model"), ("playground", "pg_model")):
        at = start(page)
        no_exception(at)
        assert at.selectbox(key=key).value == wanted.name, (page, "opens on the zoo's 2-D conv model")


# --- Playground ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("n", "article"), [(1, "a"), (2, "a"), (8, "an"), (11, "an"), (18, "an"), (30, "a"),
                                            (80, "an"), (89, "an"), (100, "a"), (800, "an"), (1800, "a"),
                                            (8000, "an"), (11_000, "an"), (18_000_000, "an"), (90, "a")])
def test_the_article_follows_the_spoken_number(n, article):
    from core.words import a_or_an

    assert a_or_an(n) == article


def test_no_page_writes_a_fixed_article_before_a_number():
    import re

    from testkit.app import REPO

    fixed = re.compile(r"\b[Aa]n? \{[^}]+\}(-number|x\{)")  # 'a {d}-number', 'a {n}x{n} grid'
    found = [f"{path.relative_to(REPO)}:{i}" for path in sorted((REPO / "dashboard").rglob("*.py"))
             for i, line in enumerate(path.read_text().splitlines(), 1) if fixed.search(line)]
    assert not found, f"use core.words.a_or_an: {found}"


def test_an_8_number_code_is_an_8_number_code(env):
    from core.config import DataConfig
    from dashboard import resources

    eight = next(e for e in resources.cached_models(DataConfig("digits")) if e.latent_dim == 8 and e.train.noise is None)
    at = start("playground")
    at.selectbox(key="pg_model").set_value(eight.name).run()
    no_exception(at)
    said = [c.value for c in at.caption if "-number code" in c.value]
    assert said and said[0].startswith("An 8-number code has no single plane"), said
    assert not [c for c in said if "A 8-number" in c or " a 8-number" in c]


# --- Train -----------------------------------------------------------------------------------------
def test_the_noise_level_shows_only_with_a_noise(env):
    at = start("train")
    no_exception(at)
    assert at.selectbox(key="tr_noise").value == "none"
    assert "Noise level" not in [s.label for s in at.slider], "no level to set for no noise"
    at.selectbox(key="tr_noise").set_value("gaussian").run()
    no_exception(at)
    assert "Noise level" in [s.label for s in at.slider]


def test_the_loss_chart_axes_fit_and_tick_plainly():
    from core.models.methods import METHODS, default_model_config, objective_label
    from dashboard import figures

    history = [{"epoch": e, "train_loss": 0.3 / e, "val_loss": 0.31 / e, "val_mse": 0.05 / e} for e in range(1, 6)]
    for name in METHODS:
        fig = figures.loss_curve(history, loss_name=objective_label(default_model_config(name, 2)))
        layout = fig.layout
        # an axis title runs along the plot's height (340 px less title, legend and ticks): ~14 px type
        for axis in (layout.yaxis, layout.yaxis2):
            assert axis.automargin, "room for the tick labels and the title"
            assert len(axis.title.text) * 0.6 * 14 <= 200, axis.title.text
        # plotly.js syncs an overlaying axis's ticks to the left axis's grid unless told: 0.0296, 0.0427...
        assert layout.yaxis2.tickmode == "auto"
        assert any(objective_label(default_model_config(name, 2)) in trace.name for trace in fig.data), \
            "the legend names what training minimises"
