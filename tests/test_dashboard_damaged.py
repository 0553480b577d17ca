"""Issue 22 item 7: a model whose weights are damaged is treated like a missing model on every page:
a message that names it and says what to do, never a traceback, and the other models still work."""

from __future__ import annotations

import shutil

import pytest

from core.store.checkpoints import WEIGHTS, CheckpointStore
from tests.test_dashboard import image_urls, no_exception, start


def damage(zoo, tmp_path, monkeypatch, family: str, latent_dim: int):
    """A copy of the tiny zoo in which one plain model's weights have one flipped byte: its record."""
    store = tmp_path / "store"
    shutil.copytree(zoo, store, symlinks=True)  # checkpoints are links to version folders
    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(store))
    record = next(r for r in CheckpointStore(store).list().records
                  if r.family == family and r.latent_dim == latent_dim and r.train.noise is None)
    weights = store / record.name / WEIGHTS
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0xFF
    weights.write_bytes(bytes(data))
    return record


@pytest.fixture
def damaged(env, tmp_path, monkeypatch):
    return damage(env, tmp_path, monkeypatch, "dense", 2)


def says_it_cannot_be_loaded(at, text: str) -> None:
    errors = [e.value.replace("\\", "") for e in at.error]  # outside text is markdown-escaped
    assert any(text in e and "cannot be loaded" in e and "delete" in e for e in errors), errors
    assert any("Train page" in link.label for link in at.get("page_link")), "the way forward"


@pytest.mark.parametrize("page", ["compare", "latent_map", "playground", "compression"])
def test_a_page_names_a_damaged_model_and_works_with_the_others(damaged, page):
    at = start(page)
    no_exception(at)
    says_it_cannot_be_loaded(at, damaged.label)


def test_a_damaged_model_a_page_takes_from_the_cache_is_a_message(env, tmp_path, monkeypatch):
    plain = damage(env, tmp_path, monkeypatch, "conv", 8)  # Denoising compares with the plain model of its size
    at = start("denoising")
    no_exception(at)
    says_it_cannot_be_loaded(at, plain.name)


def test_compare_rebuilds_with_the_healthy_models(damaged):
    at = start("compare")
    no_exception(at)
    assert len(image_urls(at)) >= 5, "originals, PCA and the three healthy 2-D autoencoders"
    assert len(at.get("plotly_chart")) == 1 and len(at.dataframe) == 1
