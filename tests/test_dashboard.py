"""Every dashboard page under Streamlit's AppTest, on digits, with a tiny pre-trained model cache.

The session fixture trains the default zoo for 2 epochs into a temporary folder; the app finds
those models whatever their training settings (``core.store.zoo.zoo_status``), and ``LATENT_LAB_EPOCHS``
(honoured by ``core.store.zoo.default_train_config``, CLI and dashboard alike) keeps any training short.
"""

from __future__ import annotations

import io
import re
import shutil
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.store.zoo import default_zoo
from dashboard.share import REQUEST_KEY, CodeRequest
from testkit.app import REPO

PAGES = ["home", "train", "compare", "latent_map", "playground", "denoising", "compression"]


def start(page: str = "home") -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180).run()
    if page != "home":
        at.switch_page(f"views/{page}.py").run()
    return at


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def widget_labels(at: AppTest, kind: str) -> list[str]:
    return [w.label for w in at.get(kind)]


def image_urls(at: AppTest) -> list[str]:
    return [url for img in at.get("image") for url in img.value]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_and_explains_itself(env, page):
    at = start(page)
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    assert any(e.label == "What am I looking at?" for e in at.expander), "every page has the explainer"
    assert at.selectbox(key="dataset_choice").value == "digits", "the shared sidebar is on every page"
    # a download that also reruns the page can lose its file (the rerun clears Streamlit's answer from
    # its queue, and the button spins for 180 s): every download leaves the page as it is
    assert all(b.proto.ignore_rerun for b in at.get("download_button")), page


def test_the_lesson_download_leaves_the_page_as_it_is(env):
    at = start("lesson")  # the lesson is not in PAGES (it has no explainer: it is all explanation)
    no_exception(at)
    buttons = at.get("download_button")
    assert [b.label for b in buttons] == ["Download this lesson"] and buttons[0].proto.ignore_rerun


def test_home_lists_the_cached_zoo(env):
    at = start()
    table = at.dataframe[0].value
    assert len(table) == len(default_zoo()) and table["cached"].all()
    assert table["test MSE"].notna().all()
    assert at.button(key="train_zoo").disabled, "nothing left to train"


@pytest.mark.slow
def test_home_trains_the_zoo_from_an_empty_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(tmp_path / "empty"))
    monkeypatch.setenv("LATENT_LAB_EPOCHS", "1")
    at = start()
    no_exception(at)
    assert not at.dataframe[0].value["cached"].any()
    # every other page says what is missing and links to the way forward
    for page in PAGES[2:]:
        other = start(page)
        no_exception(other)
        assert any("none is cached yet" in i.value for i in other.info), page
    at.switch_page("views/home.py").run()
    at.button(key="train_zoo").click().run()
    no_exception(at)
    # the zoo trains in the background: leaving the page does not stop it
    at.switch_page("views/compare.py").run()
    no_exception(at)
    from dashboard import resources

    jobs = resources.jobs()
    assert jobs.wait(timeout=300), "the background training finished"
    assert [j.state for j in jobs.jobs()[:6]] == ["done"] * 6
    at.switch_page("views/home.py").run()
    assert at.dataframe[0].value["cached"].all(), "the new models appear without restarting anything"


def test_a_second_request_joins_the_running_training_and_stop_saves_nothing(small_digits, tmp_path):
    from core.config import TrainConfig
    from core.models.methods import default_model_config
    from core.store.checkpoints import CheckpointStore
    from core.store.jobs import TrainingJobs

    jobs, store = TrainingJobs(), CheckpointStore(tmp_path)
    model, slow = default_model_config("conv", 3), TrainConfig(epochs=400)
    first = jobs.submit(small_digits, model, slow, store)
    assert jobs.submit(small_digits, model, slow, store) is first, "joined, not started twice"
    deadline = time.monotonic() + 120
    while not first.history and time.monotonic() < deadline:
        time.sleep(0.05)
    jobs.stop(first.name)
    assert jobs.wait(timeout=120) and first.state == "stopped"
    assert store.list().records == [], "a stopped training saves nothing"
    quick = jobs.submit(small_digits, model, TrainConfig(epochs=1), store)
    assert jobs.wait(timeout=120) and quick.state == "done" and len(store.list().records) == 1


def test_switching_dataset_persists_across_pages_and_missing_data_is_explained(env, tmp_path):
    at = start()
    at.text_input(key="data_dir").set_value(str(tmp_path / "nowhere")).run()
    at.selectbox(key="dataset_choice").set_value("mnist").run()
    no_exception(at)
    assert any("not available" in e.value for e in at.error)
    assert any(b.label == "Try to download it" for b in at.button)
    at.switch_page("views/latent_map.py").run()
    no_exception(at)
    assert at.selectbox(key="dataset_choice").value == "mnist"
    assert any("not available" in e.value for e in at.error)


def test_own_folder_without_a_path_asks_for_one(env):
    at = start()
    at.selectbox(key="dataset_choice").set_value("folder").run()
    no_exception(at)
    assert any("folder" in i.value for i in at.info)


@pytest.mark.slow
def test_train_page_trains_shows_architecture_and_deletes(env, tmp_path, monkeypatch):
    from dashboard import resources

    store = tmp_path / "store"
    shutil.copytree(env, store, symlinks=True)  # checkpoints are links to version folders
    monkeypatch.setenv("LATENT_LAB_CHECKPOINTS", str(store))
    at = start("train")
    for label in ("Model family", "Denoising noise"):
        assert label in widget_labels(at, "selectbox")
    assert {"Latent size (numbers in the code)", "Epochs", "Learning rate"} <= set(widget_labels(at, "number_input"))
    architecture = at.dataframe[0].value
    assert {"layer", "type", "output shape", "params"} <= set(architecture.columns)
    assert architecture["params"].sum() > 0
    def checkpoints():
        return {p.name for p in store.iterdir() if not p.name.startswith(".")}

    before = checkpoints()
    at.selectbox(key="tr_family").set_value("dense")
    at.number_input(key="tr_latent").set_value(3)
    at.number_input(key="tr_epochs_digits").set_value(1)
    at.button(key="tr_train").click().run()
    no_exception(at)
    assert resources.jobs().wait(timeout=120)
    at.run()
    no_exception(at)
    done = next(s.value for s in at.success if "Trained and cached" in s.value)
    # the loop's seconds (what a time budget counts) told apart from the whole fit's
    assert re.search(r"[\d.]+ s of training steps, [\d.]+ s in all \(setup, validation and the kept moments included\)", done)
    new = checkpoints() - before
    assert len(new) == 1 and next(iter(new)).startswith("dense-digits-d3-")
    assert len(at.get("plotly_chart")) >= 1, "the loss curve"
    # delete it again
    at.selectbox(key="tr_inspect").set_value(next(iter(new))).run()
    at.checkbox(key="tr_confirm_delete").check().run()
    at.button(key="tr_delete").click().run()
    no_exception(at)
    assert checkpoints() == before
    assert not [p for p in store.iterdir() if p.name.startswith(".dense-digits-d3-")], "its files went too"


def test_compare_page(env):
    at = start("compare")
    no_exception(at)
    assert at.selectbox(key="cmp_dim").value == 2
    assert len(image_urls(at)) >= 6, "originals, PCA and four 2-D autoencoders"
    assert len(at.get("plotly_chart")) == 1
    assert {b.label for b in at.get("download_button")} >= {"Download this table (CSV)"}
    table = at.dataframe[0].value
    assert list(table.columns) == ["model", "latent size", "decoder parameters", "test MSE", "squared error per image",
                                   "PSNR of the mean error (dB)", "mean per-image PSNR (dB)", "SSIM", "PCA's test MSE",
                                   "MSE / PCA's", "PCA's decoder parameters"], "column names people read, not code names"
    at.selectbox(key="cmp_dim").set_value(8).run()
    no_exception(at)


def test_latent_map_page(env):
    at = start("latent_map")
    no_exception(at)
    assert len(at.get("plotly_chart")) == 2, "pixel-PCA map and the model's map"
    labels = [m.label for m in at.metric]
    assert labels.count("k-NN accuracy") == 2 and labels.count("Trustworthiness") == 2
    assert any(b.label == "Download the coordinates (CSV)" for b in at.get("download_button"))
    from core.config import DataConfig
    from dashboard import resources

    eight = next(e for e in resources.cached_models(DataConfig("digits")) if e.latent_dim == 8)
    at.selectbox(key="map_model").set_value(eight.name).run()
    no_exception(at)
    assert len(at.get("plotly_chart")) == 2


def server_path_playground() -> AppTest:
    """The playground as a browser that cannot run the decoder sees it (the server draws the images)."""
    at = start("playground")
    at.session_state["pg_live_ok"] = False
    return at.run()


def test_playground_decodes_in_the_browser_and_offers_the_decoder(env):
    at = start("playground")
    no_exception(at)
    assert not [s for s in at.slider if s.key and s.key.startswith("pg_") and s.key not in ("pg_steps", "pg_grid")], \
        "the code sliders live in the browser element, not in Streamlit sliders"
    assert any(b.label == "Download the decoder (ONNX)" for b in at.get("download_button"))
    assert at.subheader and any("code plane" in h.value for h in at.subheader)


def test_playground_slider_changes_the_decoded_image(env):
    at = server_path_playground()
    no_exception(at)
    assert any("could not run the decoder itself" in c.value for c in at.caption)
    sliders = [s for s in at.slider if s.key and s.key.startswith("pg_")
               and s.key not in ("pg_steps", "pg_grid")]
    assert len(sliders) == 2, "one slider per code number of a 2-D model"
    before = image_urls(at)
    slider = sliders[0]
    slider.set_value(float(np.clip(slider.value + (slider.max - slider.min) / 4, slider.min, slider.max))).run()
    no_exception(at)
    after = image_urls(at)
    assert before[0] != after[0], "the decoded image changed"
    assert before[1] != after[1], "the PCA image beside it changed too"


def test_playground_long_codes_and_a_code_sent_from_the_map(env):
    from core.config import DataConfig
    from dashboard import resources

    entries = resources.cached_models(DataConfig("digits"))
    eight = next(e for e in entries if e.latent_dim == 8 and e.train.noise is None)
    at = server_path_playground()
    at.selectbox(key="pg_model").set_value(eight.name).run()
    no_exception(at)
    assert sum(s.label.startswith("code ") for s in at.slider) == 8, "one slider per number up to 16"
    at.radio(key="pg_start").set_value("mean").run()
    no_exception(at)
    two = next(e for e in entries if e.latent_dim == 2 and e.family == "dense")
    at.session_state[REQUEST_KEY] = CodeRequest(two.name, (0.25, -0.5), "map location")
    at.run()
    no_exception(at)
    assert at.radio(key="pg_start").value == "sent"
    codes = [s for s in at.slider if s.label.startswith("code ")]
    assert [round(s.value, 2) for s in codes] == [0.25, -0.5]


def _png(color: int, size=(20, 20), mode="L") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def test_denoising_page_and_upload_validation(env):
    at = start("denoising")
    no_exception(at)
    assert {"Noise", "Denoising autoencoder"} <= set(widget_labels(at, "selectbox"))
    assert "Noise level" in widget_labels(at, "slider")
    n_before = len(image_urls(at))
    assert n_before >= 5, "clean, noisy, denoising AE, plain AE, PCA"
    at.file_uploader(key="dn_upload").set_value(("mine.png", _png(255, mode="RGB"), "image/png")).run()
    no_exception(at)
    assert len(image_urls(at)) > n_before, "the uploaded image is shown denoised"
    at.file_uploader(key="dn_upload").set_value(("broken.png", b"not an image", "image/png")).run()
    no_exception(at)
    assert any("cannot be used" in e.value for e in at.error)


def test_compression_page(env):
    at = start("compression")
    no_exception(at)
    assert len(at.get("plotly_chart")) >= 1
    assert len(image_urls(at)) >= 3


@pytest.fixture
def classroom(env, monkeypatch, tmp_path):
    shared = tmp_path / "shared"
    (shared / "pets").mkdir(parents=True)
    monkeypatch.setenv("LATENT_LAB_CLASSROOM", "1")
    monkeypatch.setenv("LATENT_LAB_FOLDER_ROOTS", str(shared))
    return shared


def test_classroom_mode_is_read_only_and_says_why(classroom):
    home = start()
    no_exception(home)
    assert home.button(key="train_zoo").disabled
    assert not [w for w in home.text_input if w.key == "data_dir"], "no server paths typed from a browser"
    shown = "\n".join(e.value for e in home.caption) + "\n".join(e.value for e in home.markdown)
    assert str(resources_store_root()) not in shown and "Data directory" not in shown, "no server paths shown"
    train = start("train")
    no_exception(train)
    assert any("Training is switched off" in i.value for i in train.info)
    assert any("Deleting models is switched off" in i.value for i in train.info)
    assert train.button(key="tr_delete").disabled and train.checkbox(key="tr_confirm_delete").disabled


def resources_store_root():
    from dashboard import resources

    return resources.store().root


def test_classroom_mode_offers_no_download_and_advises_students(classroom, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENT_LAB_DATA_DIR", str(tmp_path / "no-data-here"))
    at = start()
    at.selectbox(key="dataset_choice").set_value("mnist").run()
    no_exception(at)
    assert not [b for b in at.button if "download" in b.label.lower()], "nothing that writes to the server's disk"
    text = "\n".join(e.value for e in [*at.info, *at.error, *at.markdown])
    assert "not available on this server" in text and "Digits" in text
    assert "Data folder" not in text and str(tmp_path) not in text, "no advice a student cannot follow, no server path"


def test_classroom_own_folders_come_only_from_the_shared_roots(classroom):
    at = start()
    at.selectbox(key="dataset_choice").set_value("folder").run()
    no_exception(at)
    assert not [w for w in at.text_input if w.key == "folder_path"], "no typed folder path"
    pick = at.selectbox(key="folder_pick")
    assert set(pick.options) == {"shared", "pets"}, "students see folder names, not server paths"
    assert pick.value == str(classroom)


def test_served_on_this_machine_only_by_default(monkeypatch):
    from streamlit import config as st_config

    monkeypatch.chdir(REPO)
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("server.address") == "127.0.0.1"
    finally:
        st_config.get_config_options(force_reparse=True)
