"""The dashboard keeps its expensive answers on disk (core.store.derived): a second server draws the
"Autoencoder vs PCA" page from them, and a classroom server writes nothing."""

from __future__ import annotations

import shutil

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import core.analysis.error_curve as error_curve
from core.store.derived import DATASETS
from testkit.app import REPO


@pytest.fixture
def own_zoo(zoo_dir, tmp_path, monkeypatch):
    """A private copy of the tiny zoo (derived files written here stay here)."""
    root = tmp_path / "zoo"
    shutil.copytree(zoo_dir, root, symlinks=True, ignore=shutil.ignore_patterns(DATASETS, "derived", ".locks"))
    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(root))
    monkeypatch.setenv("LATENT_LAB_EPOCHS", "2")
    return root


def compare_page() -> AppTest:
    st.cache_data.clear()  # a fresh server: nothing in Streamlit's caches
    st.cache_resource.clear()
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180).run()
    at.switch_page("views/compare.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def derived_files(root):
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file() and
                  (DATASETS in p.parts or "derived" in p.parts))


def test_a_second_server_draws_the_comparison_from_disk(own_zoo, monkeypatch):
    first = compare_page()
    names = {p.name.rsplit("-", 1)[0] for p in derived_files(own_zoo)}
    assert {"dataset", "pixel-pca", "pca-error-curve", "error-row"} <= names

    def no_recompute(*args, **kwargs):
        raise AssertionError("recomputed although it was on disk")

    monkeypatch.setattr(error_curve, "pca_error_curve", no_recompute)
    monkeypatch.setattr(error_curve, "reducer_error_row", no_recompute)
    second = compare_page()
    assert len(second.get("plotly_chart")) == len(first.get("plotly_chart")) > 0
    assert [t.value for t in second.markdown] == [t.value for t in first.markdown]


def test_a_classroom_server_writes_nothing_and_still_draws(own_zoo, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_CLASSROOM", "1")
    at = compare_page()
    assert at.get("plotly_chart")
    assert derived_files(own_zoo) == []
