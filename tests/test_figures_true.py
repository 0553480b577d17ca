"""Issue 19 item 3, "every figure true": what the Denoising, Compression and Compare pages draw and say
is what was measured (no cap drawn as a measurement, one colour per method, units on axes, the strip
and the chart counting bits alike, caveats beside the numbers they qualify)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.config import NoiseConfig
from core.models.reducers import PCAReducer
from dashboard import figures


def _y_values(fig) -> list:
    return [y for trace in fig.data for y in trace.y]


def _trace(fig, name: str):
    return next(trace for trace in fig.data if trace.name == name)


# --- Denoising ------------------------------------------------------------------------------------------
def test_denoising_curve_leaves_out_the_noisy_input_at_level_zero_instead_of_drawing_a_100_db_cap(digits):
    from core.analysis import denoising_table

    pca = PCAReducer(4).fit(digits.train.images)
    frame = denoising_table(digits, {"PCA": pca}, [NoiseConfig("gaussian", v) for v in (0.0, 0.2, 0.4)], n_images=50)
    noisy = frame[frame["method"] == "noisy"].set_index("level")
    assert np.isinf(noisy.loc[0.0, "psnr"]), "the clean image itself: error 0, PSNR infinite, not 100 dB"
    fig = figures.lines(frame, "level", "psnr", "method")
    assert _trace(fig, "noisy").y[0] is None, "no point where the PSNR is infinite"
    finite = [y for y in _y_values(fig) if y is not None]
    assert max(finite) < 40, "every plotted PSNR is a measurement (the cap, 100 dB, would flatten the curves)"


# --- one colour per method --------------------------------------------------------------------------------
def _rd_frame(methods: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{"method": m, "setting": s, "bits_per_image": b, "psnr": p, "ssim": 0.5}
                         for m in methods for s, b, p in (("1 bit", 8.0, 12.0), ("2 bit", 16.0, 14.0))])


def test_one_colour_per_method_whatever_else_the_figure_draws():
    def colours(fig) -> dict:
        return {trace.name: trace.line.color or trace.marker.color for trace in fig.data}

    small = colours(figures.rate_distortion(_rd_frame(["PCA", "conv", "JPEG"])))
    large = colours(figures.rate_distortion(_rd_frame(["PCA", "dense", "conv", "JPEG"])))
    assert small["JPEG"] == large["JPEG"], "JPEG the same colour beside d=2 models as beside d=8 ones"
    assert small["conv"] == large["conv"] and small["PCA"] == large["PCA"]
    curve = pd.DataFrame({"method": ["PCA", "conv", "conv denoising"], "latent_dim": [2, 2, 2],
                          "test_mse": [0.05, 0.04, 0.045]})
    error = colours(figures.error_vs_latent(curve))
    assert error["conv"] == small["conv"] and error["PCA"] == small["PCA"], "the same colours on the Compare page"
    assert error["conv denoising"] != error["conv"]
    # pages name lines 'PCA (d=8)' or 'denoising AE': they say which method each line is
    named = colours(figures.rate_distortion(_rd_frame(["PCA (d=8)", "conv d=8", "JPEG"]), methods={
        "PCA (d=8)": "PCA", "conv d=8": "conv"}))
    assert named["PCA (d=8)"] == small["PCA"] and named["conv d=8"] == small["conv"] and named["JPEG"] == small["JPEG"]
    lines = colours(figures.lines(pd.DataFrame({"method": ["noisy", "denoising AE", "plain AE"], "level": [0.1] * 3,
                                                "psnr": [10.0, 20.0, 15.0]}), "level", "psnr", "method",
                                  methods={"noisy": figures.NOISY, "denoising AE": "conv denoising", "plain AE": "conv"}))
    assert lines["plain AE"] == small["conv"] and lines["denoising AE"] == error["conv denoising"]


def test_every_method_label_has_its_own_colour():
    from core.config import TrainConfig
    from core.models.methods import AUTOENCODERS, METHODS, default_model_config, method_label

    noisy = TrainConfig(noise=NoiseConfig("gaussian", 0.3))
    labels = [method_label(default_model_config(name, 2), train) for name in METHODS
              for train in ((None, noisy) if name in AUTOENCODERS else (None,))]
    assert set(labels) <= set(figures.METHOD_COLOURS)
    colours = [figures.METHOD_COLOURS[label] for label in set(labels)] + [figures.METHOD_COLOURS[figures.JPEG]]
    assert len(set(colours)) == len(colours)


# --- Compression ------------------------------------------------------------------------------------------
def test_rate_distortion_axis_says_its_unit():
    assert "dB" in figures.rate_distortion(_rd_frame(["PCA"]), metric="psnr").layout.yaxis.title.text
    assert "SSIM" in figures.rate_distortion(_rd_frame(["PCA"]), metric="ssim").layout.yaxis.title.text


@pytest.fixture(scope="module")
def rd_digits(digits):
    from core.analysis import rate_distortion_table

    pca = PCAReducer(8).fit(digits.train.images)
    return pca, rate_distortion_table(digits, {"PCA (d=8)": pca}, n_images=100)


def test_the_strip_takes_its_setting_and_numbers_from_the_charts_rows(digits, rd_digits):
    from core.analysis.compression import choose_at_budget, decode_at_settings, rd_view

    pca, table = rd_digits
    stored = choose_at_budget(rd_view(table, "bits_per_image"), 64).set_index("method")
    assert stored.loc["PCA (d=8)", "setting"] == "8 bit" and stored.loc["PCA (d=8)", "bits_per_image"] == 64
    assert stored.loc["JPEG", "over_budget"] and stored.loc["JPEG", "bits_per_image"] > 2000, "a whole JPEG file"
    entropy = choose_at_budget(rd_view(table, "entropy_bits_per_image"), 64).set_index("method")
    jpeg = table[(table["method"] == "JPEG") & (table["setting"] == entropy.loc["JPEG", "setting"])].iloc[0]
    assert entropy.loc["JPEG", "bits_per_image"] == jpeg["entropy_bits_per_image"] < 100, "the chart's count"
    assert entropy.loc["PCA (d=8)", "bits_per_image"] < 64, "8 bits a number cost less with entropy coding"
    pictures = decode_at_settings(digits, {"PCA (d=8)": pca}, {"PCA (d=8)": "8 bit", "JPEG": "q5"}, [0, 1, 2])
    assert {k: v.shape for k, v in pictures.items()} == {k: (3, 1, 8, 8) for k in ("original", "PCA (d=8)", "JPEG")}


def test_raw_size_says_what_a_fixed_length_code_needs(digits):
    from core.analysis.compression import raw_bits

    raw = raw_bits(digits.train.images)
    assert raw["stored_bits"] == 512 and raw["levels"] == 17
    assert raw["fixed_bits"] == pytest.approx(64 * math.log2(17)) and round(raw["fixed_bits"]) == 262


# --- the pages ----------------------------------------------------------------------------------------------
def _texts(at) -> list[str]:
    return [e.value for kind in ("markdown", "caption") for e in at.get(kind)]


def test_compression_page_strip_counts_bits_and_quality_as_the_chart_does(env):
    from tests.test_dashboard import no_exception, start

    at = start("compression")
    no_exception(at)
    texts = "\n".join(_texts(at))
    assert "512 bits as stored" in texts and "need at least 262 bits with a fixed-length code" in texts
    assert "PSNR (dB" in at.get("plotly_chart")[0].proto.spec, "the axis says its unit"
    at.radio(key="cp_count").set_value("entropy_bits_per_image").run()
    at.radio(key="cp_metric").set_value("ssim").run()
    no_exception(at)
    table = at.dataframe[0].value
    notes = [t for t in _texts(at) if t.startswith("**JPEG**")]
    assert len(notes) == 1 and "SSIM" in notes[0] and "PSNR" not in notes[0], "the quality measure asked for"
    setting = notes[0].split("  \n")[1].split(",")[0]
    row = table[(table["method"] == "JPEG") & (table["setting"] == setting)].iloc[0]
    assert f"{row['entropy_bits_per_image']:.1f} bits" in notes[0], "the bits the chart and the table count"
    assert f"SSIM {row['ssim']:.3f}" in notes[0]
    assert "counted as ideal entropy coding" in "\n".join(_texts(at))


def test_denoising_page_says_why_level_zero_has_no_point(env):
    from tests.test_dashboard import no_exception, start

    at = start("denoising")
    at.selectbox(key="dn_kind").set_value("gaussian").run()
    no_exception(at)
    assert any("PSNR infinite" in t for t in _texts(at)), "the caption under the curve"
    curve = next(df.value for df in at.dataframe if "psnr" in df.value)
    assert np.isinf(curve[(curve["method"] == "noisy") & (curve["level"] == 0)]["psnr"]).all()
    assert not (curve["psnr"] == 100).any()
    at.slider(key="dn_level").set_value(0.0).run()
    no_exception(at)
    assert "PSNR infinite (no error) · SSIM 1.00" in _texts(at), "the noisy column at level 0 (was 'PSNR 100.0 dB')"
    assert not any("100.0 dB" in t for t in _texts(at))


# --- Compare ----------------------------------------------------------------------------------------------
def test_versus_pca_gives_both_psnrs_and_each_decoders_size(small_digits, every_reducer):
    from core.analysis.error_curve import decoder_size, error_vs_latent, versus_pca
    from core.models.methods import default_model_config
    from core.models.summary import parameter_count

    table = error_vs_latent(small_digits, [every_reducer["conv"]], max_pca_dim=4)
    table["decoder_params"] = [decoder_size(default_model_config("conv" if m == "conv" else "pca", d), (1, 8, 8))
                               for m, d in zip(table["method"], table["latent_dim"])]
    row = versus_pca(table).iloc[0]
    assert row["psnr_of_mean_mse"] == pytest.approx(10 * math.log10(1 / row["test_mse"]), rel=1e-5)
    assert row["test_psnr"] > row["psnr_of_mean_mse"], "the mean of per-image PSNRs: a different number"
    assert row["pca_decoder_params"] == 3 * 64 + 64, "PCA-3: three patterns and the mean image"
    assert 10 * row["pca_decoder_params"] < row["decoder_params"] < parameter_count(every_reducer["conv"].model_), \
        "the decoder only, not the encoder"


def test_pca2_and_conv2_decoders_as_the_issue_counts_them():
    from core.analysis.error_curve import decoder_size
    from core.models.methods import default_model_config

    assert decoder_size(default_model_config("pca", 2), (1, 8, 8)) == 192
    assert decoder_size(default_model_config("conv", 2), (1, 8, 8)) == 71_009  # of 127,267 in the whole model


def test_compare_page_says_which_psnr_and_how_big_each_decoder_is(env):
    from tests.test_dashboard import no_exception, start

    at = start("compare")
    no_exception(at)
    table = at.dataframe[0].value
    assert {"PSNR of the mean error (dB)", "mean per-image PSNR (dB)", "decoder parameters",
            "PCA's decoder parameters"} <= set(table.columns)
    assert np.allclose(table["PSNR of the mean error (dB)"], 10 * np.log10(1 / table["test MSE"]), rtol=1e-5)
    assert (table["PCA's decoder parameters"] == table["latent size"] * 64 + 64).all(), "192 for d = 2 on 8x8 digits"
    # the linear autoencoder's decoder is PCA's shape exactly (d x 64 weights + 64 biases); every other is larger
    assert (table["decoder parameters"] >= table["PCA's decoder parameters"]).all()
    assert (table["decoder parameters"] > table["PCA's decoder parameters"]).sum() >= len(table) - 2
    texts = "\n".join(_texts(at))
    assert "clipped to [0, 1]" in texts and "same error in decibels" not in texts


def test_train_and_compare_say_which_test_images_their_ssim_is_measured_on(env):
    from tests.test_dashboard import no_exception, start

    train = start("train")
    no_exception(train)
    ssim = next(m for m in train.metric if m.label == "Test SSIM")
    assert "all 360 test images" in ssim.proto.help and "fixed sample of 100" in ssim.proto.help
    compare = start("compare")
    assert any("SSIM on a fixed sample of 100 of them" in t for t in _texts(compare))


def test_the_browser_paints_classes_in_the_figures_palette():
    import re
    from pathlib import Path

    source = (Path(figures.__file__).parent / "live" / "live.js").read_text()
    palette = re.search(r"const PALETTE = \[(.*?)\];", source, re.S).group(1)
    assert re.findall(r'"(#[0-9a-fA-F]{6})"', palette) == figures.PALETTE, "one palette: live.js keeps a copy"


@pytest.mark.parametrize("page", ["compare", "compression", "denoising"])
def test_every_page_that_shows_pca_says_its_output_is_clipped(env, page):
    """PCA's reconstructions are clipped to [0, 1] (it lowers its error a little): every page that shows its
    numbers or pictures says so, not only Compare (the Compression and Denoising pages did not)."""
    from tests.test_dashboard import no_exception, start

    at = start(page)
    no_exception(at)
    assert "clipped to [0, 1]" in "\n".join(_texts(at))
