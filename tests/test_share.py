"""Shareable views (dashboard/share.py): a link opens exactly its view, the view is written back into
the URL, a stale link opens the nearest valid view with a note; the 3-D map; one Chromium round trip."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from testkit.app import REPO, app_env, browser_or_skip, chromium_page, running_app, wait_for_app, zoo_dir_for
from testkit.links import CRAFTED, generated_links, shown, unsafe_findings

SHOTS = Path("/tmp/share_shots")
IMAGE_INPUT = "[data-testid='stNumberInput']:has-text('Test image #') input"


@pytest.fixture
def models(env):
    from core.config import DataConfig
    from dashboard import resources

    return resources.cached_models(DataConfig("digits"))


def open_link(page: str, **params) -> AppTest:
    """A new session that opens ``/<page>?<params>`` (AppTest: one run on Home, then the link)."""
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180).run()
    at.query_params = {k: str(v) for k, v in params.items()}
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def infos(at: AppTest) -> str:
    """The calm notes, as a reader sees them (outside text in them is escaped markdown)."""
    return "\n".join(shown(i.value) for i in at.info)


def test_a_link_opens_its_view_and_the_view_goes_back_into_the_url(models):
    eight = next(m for m in models if m.latent_dim == 8)
    at = open_link("playground", dataset="digits", model=eight.name, image=42)
    assert at.selectbox(key="pg_model").value == eight.name
    assert at.number_input(key="pg_image").value == 42
    assert "link" not in infos(at)
    assert at.query_params["model"] == eight.name and at.query_params["image"] == "42"
    assert at.query_params["dataset"] == "digits"
    at.number_input(key="pg_image").set_value(7).run()
    assert at.query_params["image"] == "7" and at.query_params["model"] == eight.name, "changes are written back"
    other = next(m for m in models if m.name != eight.name)
    at.selectbox(key="pg_model").set_value(other.name).run()
    assert at.query_params["model"] == other.name


def test_a_stale_link_says_what_is_missing_and_opens_the_nearest_view(models):
    at = open_link("playground", dataset="digits", model="gone-model-123", image=99999)
    text = infos(at)
    assert "gone-model-123" in text and "not among the models cached here" in text
    assert "test image #99999" in text
    last = int(at.number_input(key="pg_image").max)
    assert at.number_input(key="pg_image").value == last, "the nearest valid image"
    assert at.query_params["model"] in {m.name for m in models} and at.query_params["image"] == str(last)
    assert at.query_params["model"] != "gone-model-123"


def test_an_unknown_dataset_and_a_bad_latent_size_are_explained(models):
    at = open_link("compare", dataset="cifar-1000", d=5)
    text = infos(at)
    assert "cifar-1000" in text and "latent size" in text
    assert at.selectbox(key="dataset_choice").value == "digits"
    assert at.selectbox(key="cmp_dim").value in {m.latent_dim for m in models}


def test_a_code_in_the_link_starts_the_playground_there(models):
    two = next(m for m in models if m.latent_dim == 2)
    at = open_link("playground", model=two.name, code="0.5,-0.25")
    assert at.radio(key="pg_start").value == "sent"
    assert at.session_state["pg_sent"].code == (0.5, -0.25)
    bad = open_link("playground", model=two.name, code="1,2,3")
    assert "not 2 numbers" in infos(bad) and bad.radio(key="pg_start").value == "image"


def test_classroom_links_never_type_a_server_path(env, monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    (shared / "pets").mkdir(parents=True)
    monkeypatch.setenv("LATENT_LAB_CLASSROOM", "1")
    monkeypatch.setenv("LATENT_LAB_FOLDER_ROOTS", str(shared))
    at = open_link("home", dataset="folder", folder="/etc")
    assert "not one of the folders shared here" in infos(at)
    assert at.selectbox(key="dataset_choice").value == "digits"
    assert not [w for w in at.text_input if w.key == "folder_path"]
    ok = open_link("home", dataset="folder", folder="pets")
    assert ok.selectbox(key="folder_pick").value == str(shared / "pets")
    assert ok.query_params["folder"] == "pets", "the URL names the shared folder, never its server path"


def test_latent_map_3d_view_from_a_link(models):
    eight = next(m for m in models if m.latent_dim == 8)
    at = open_link("latent_map", model=eight.name, view="3d", projection="umap-or-not")
    charts = at.get("plotly_chart")
    assert len(charts) == 2 and all('"scatter3d"' in c.proto.spec for c in charts)
    assert "test image #" in charts[1].proto.spec, "hover names the test image"
    assert at.toggle(key="map_3d").value is True and at.query_params["view"] == "3d"
    assert "umap-or-not" in infos(at)
    two = next(m for m in models if m.latent_dim == 2)
    at.selectbox(key="map_model").set_value(two.name).run()
    assert "no third axis" in infos(at) and len(at.get("plotly_chart")) == 1
    at.toggle(key="map_3d").set_value(False).run()
    assert "view" not in at.query_params and len(at.get("plotly_chart")) == 2


@pytest.mark.e2e
@pytest.mark.slow
def test_a_copied_link_opens_the_same_view_in_a_new_tab(request, tmp_path_factory):
    browser_or_skip()
    SHOTS.mkdir(parents=True, exist_ok=True)
    store = tmp_path_factory.mktemp("share") / "checkpoints"
    shutil.copytree(zoo_dir_for(request.config, tmp_path_factory), store, symlinks=True)

    with running_app(app_env(store)) as url, chromium_page(1400, 1400) as page:
        page.goto(f"{url}/playground?dataset=digits&image=3")
        wait_for_app(page, 120_000)
        page.wait_for_function("() => location.search.includes('model=')", timeout=30_000)
        query = parse_qs(urlsplit(page.url).query)
        assert query["image"] == ["3"] and query["dataset"] == ["digits"]
        # change the model and the image in the page
        page.locator(IMAGE_INPUT).first.fill("12")
        page.keyboard.press("Enter")
        wait_for_app(page)
        page.wait_for_function("() => location.search.includes('image=12')", timeout=30_000)
        box = page.locator("[data-testid='stSelectbox']").filter(has_text="Model").first
        box.click()
        options = page.locator("[role='option']")
        options.nth(options.count() - 1).click()
        wait_for_app(page)
        page.wait_for_timeout(500)
        shared = page.url
        model = parse_qs(urlsplit(shared).query)["model"][0]
        assert parse_qs(urlsplit(shared).query)["image"] == ["12"]
        page.screenshot(path=str(SHOTS / "playground_link_source.png"), full_page=True)
        second = page.context.browser.new_page(viewport={"width": 1400, "height": 1400})  # a new tab, a new session
        second.goto(shared)
        second.locator(IMAGE_INPUT).first.wait_for(timeout=120_000)  # the page has drawn its widgets
        wait_for_app(second, 120_000)
        assert parse_qs(urlsplit(second.url).query)["model"] == [model] and "image=12" in second.url
        assert second.locator(IMAGE_INPUT).first.input_value() == "12"
        picked = second.locator("[data-testid='stSelectbox']").filter(has_text="Model").first.inner_text()
        assert picked == box.inner_text(), "the same model is picked in the new tab"
        assert not second.locator("[data-testid='stException']").count()
        second.screenshot(path=str(SHOTS / "playground_link_opened.png"), full_page=True)
        second.goto(f"{url}/latent_map?dataset=digits&view=3d&model={model}")  # the 3-D view, for the record
        wait_for_app(second, 120_000)
        second.wait_for_timeout(1500)
        assert not second.locator("[data-testid='stException']").count()
        second.screenshot(path=str(SHOTS / "latent_map_3d.png"), full_page=True)


@pytest.mark.parametrize("code", ["1e308,-1e308", "1e39,0", "nan,1", "inf,0", "10001,0", "1e4,-1e4x"])
def test_a_code_outside_float32_or_the_code_range_gets_a_calm_note(models, code):
    two = next(m for m in models if m.latent_dim == 2)
    at = open_link("playground", model=two.name, code=code)  # asserts no exception box
    assert "link" in infos(at) and at.radio(key="pg_start").value == "image"


def test_the_largest_code_a_link_may_ask_for_draws(models):
    two = next(m for m in models if m.latent_dim == 2)
    at = open_link("playground", model=two.name, code="10000,-10000")
    assert at.radio(key="pg_start").value == "sent" and not at.exception


@pytest.mark.parametrize("value", CRAFTED)
def test_link_values_show_as_text_never_as_markup(models, value):
    """A crafted link cannot put its own links, remote images, HTML or directives on the page."""
    for page, params in [("playground", {"dataset": value}), ("playground", {"model": value, "image": value}),
                         ("compare", {"d": value}), ("latent_map", {"projection": value, "model": models[0].name}),
                         ("home", {"dataset": "folder", "folder": value})]:
        at = open_link(page, **params)
        assert unsafe_findings(at, params) == [], (page, params)
        assert infos(at), "the calm note is still there"


def test_generated_links_open_calmly(models):
    """A seeded handful of the link fuzz (bench/fuzz_links.py runs hundreds)."""
    for page, params in generated_links(16, seed=7, models=[m.name for m in models]):
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180).run()
        at.query_params = params
        at.switch_page(f"views/{page}.py").run()
        assert unsafe_findings(at, params) == [], (page, params)


def _reopened(page: str, at: AppTest) -> AppTest:
    """A new session opened from the link ``at`` shows now."""
    return open_link(page, **dict(at.query_params))


def test_links_carry_every_setting_a_teacher_sets(models):
    """Explore's class pair, distance and a/b/c; Denoising's noise kind and level; Compression's bit
    counting, quality and budget; Compare's measure: set, copied, reopened in a new session."""
    at = open_link("explore")
    index = at.number_input(key="ex_image").value
    for key, value in [(f"ex_from_{index}", 3), ("ex_amount", 1.5)]:
        (at.selectbox(key=key) if key.startswith("ex_from") else at.slider(key=key)).set_value(value).run()
    to_key = next(s.key for s in at.selectbox if s.key.startswith(f"ex_to_{index}_"))
    at.selectbox(key=to_key).set_value(7).run()
    at.number_input(key=f"ex_a_{index}").set_value(11).run()
    assert {k: at.query_params[k] for k in ("from", "to", "amount", "a")} == {"from": "3", "to": "7", "amount": "1.5", "a": "11"}
    again = _reopened("explore", at)
    assert again.selectbox(key=f"ex_from_{index}").value == 3 and again.selectbox(key=f"ex_to_{index}_3").value == 7
    assert again.slider(key="ex_amount").value == 1.5 and again.number_input(key=f"ex_a_{index}").value == 11

    at = open_link("denoising")
    at.selectbox(key="dn_kind").set_value("salt_pepper").run()
    at.slider(key="dn_level").set_value(0.55).run()
    again = _reopened("denoising", at)
    assert again.selectbox(key="dn_kind").value == "salt_pepper" and again.slider(key="dn_level").value == 0.55

    at = open_link("compression")
    at.radio(key="cp_count").set_value("entropy_bits_per_image").run()
    at.radio(key="cp_metric").set_value("ssim").run()
    at.select_slider(key="cp_budget").set_value(128).run()
    again = _reopened("compression", at)
    assert again.radio(key="cp_count").value == "entropy_bits_per_image" and again.radio(key="cp_metric").value == "ssim"
    assert again.select_slider(key="cp_budget").value == 128

    at = open_link("compare")
    at.radio(key="cmp_metric").set_value("test_ssim").run()
    assert _reopened("compare", at).radio(key="cmp_metric").value == "test_ssim"


def test_a_bad_setting_in_a_link_keeps_the_default_with_a_note(models):
    at = open_link("denoising", noise="lava", level="7")
    assert at.selectbox(key="dn_kind").value == "gaussian" and at.slider(key="dn_level").value == 0.3
    assert "lava" in infos(at) and "7" in infos(at)
