"""Autoencoder vs PCA: the same test images rebuilt by each, error against latent size, a metrics table."""

import streamlit as st

from core.analysis import pca_sizes_to_show, subset_index, versus_pca
from core.analysis.error_curve import SSIM_IMAGES
from core.store.records import ModelRef, unique_labels
from dashboard import figures, resources, share, ui

COLUMN_NAMES = {  # table columns as people read them (the CSV keeps the raw names)
    "method": "model", "latent_dim": "latent size", "decoder_params": "decoder parameters",
    "test_mse": "test MSE", "test_sse_per_image": "squared error per image",
    # two PSNRs: the log of the mean error is not the mean of the images' logs (16.3 vs 15.3 dB for conv d=2)
    "psnr_of_mean_mse": "PSNR of the mean error (dB)", "test_psnr": "mean per-image PSNR (dB)", "test_ssim": "SSIM",
    "pca_test_mse": "PCA's test MSE", "mse_vs_pca": "MSE / PCA's", "pca_decoder_params": "PCA's decoder parameters",
}

EXPLAINER = (
    "Both methods squeeze every image into **d numbers** and rebuild it. The grid shows the same test "
    "images (never seen in training) rebuilt by PCA and by each autoencoder with the **same d**: the same "
    "budget for the code. The decoders that rebuild the image differ in size, though: PCA's holds d patterns and "
    "a mean image (d x pixels + pixels numbers: 192 for d = 2 on the 8x8 digits), an autoencoder's is a network "
    "(tens of thousands of "
    "parameters); the table gives each one's count. The chart shows the error for every size: PCA's line comes "
    "from one fit, each "
    "autoencoder is one point. With **MSE** (the mean squared error per value, lower is better: per pixel for "
    "grey images, per colour channel of each pixel for colour ones) a point below "
    "PCA's line means the autoencoder rebuilds better than PCA with the same budget; with **PSNR** (the "
    "error in decibels, 10 log10(1/MSE) for each image, then averaged over the images: higher than the PSNR "
    "of the mean error, which the table shows too) and **SSIM** (how similar the structure looks, 0 to 1) "
    "higher is better, so "
    "there a point *above* the line beats PCA. The MSE beside each row of pictures is measured on the "
    "images shown; the table below measures every test image, so the two differ a little. PCA's "
    "reconstructions are clipped to [0, 1], the range of a pixel, as every autoencoder's output is: this "
    "lowers PCA's error a little below what scikit-learn's inverse_transform alone gives."
)
page = ui.page("Autoencoder vs PCA", EXPLAINER, models=ui.every_model)
dataset, sel, entries = page.dataset, page.selection, page.models
share.view(page, d="cmp_dim")  # a shared link's view

dims = sorted({e.latent_dim for e in entries})
top = st.columns([1, 3, 1])
latent_dim = top[0].selectbox("Latent size d", dims, key="cmp_dim")
same = [e for e in entries if e.latent_dim == latent_dim]
labels = unique_labels(same, short=True)
names = top[1].multiselect(f"Autoencoders (all with d = {latent_dim})", list(labels),
                           default=list(labels), key=f"cmp_models_{latent_dim}", format_func=labels.get)
n_images = top[2].slider("Images", 4, 16, 10, key="cmp_n")
seed = st.session_state.get("cmp_seed", 0)

st.subheader(f"Reconstructions with {latent_dim} numbers per image")
models = {f"PCA (d={latent_dim})": ModelRef.baseline(latent_dim)} | {labels[e.name]: e.ref for e in same if e.name in names}
index = tuple(int(i) for i in subset_index(len(dataset.test), n_images, seed))
grid = resources.reconstructions(sel.config, sel.data_dir, models, index)
originals = grid["original"]
for label, images in grid.items():
    note = "" if label == "original" else f"MSE {float(((images - originals) ** 2).mean()):.4f} on these"
    ui.image_row(label, images, cell=64 if dataset.image_shape[1] <= 16 else 56, note=note)
if st.button("Other test images", key="cmp_shuffle", icon=":material/shuffle:"):
    st.session_state["cmp_seed"] = seed + 1
    st.rerun()

st.subheader("Error against latent size")
MEASURES = ["test_mse", "test_psnr", "test_ssim"]
share.take("measure", "cmp_metric", allowed=MEASURES)
metric = st.radio("Measure", MEASURES, horizontal=True, key="cmp_metric",
                  format_func={"test_mse": "MSE (lower is better)",
                               "test_psnr": "PSNR dB, mean per image (higher is better)",
                               "test_ssim": "SSIM (higher is better)"}.get)
share.keep(measure=metric)
max_pca = pca_sizes_to_show(dataset.image_shape, len(dataset.train), dims)
table = resources.error_table(sel.config, sel.data_dir, tuple(e.ref for e in entries), max_pca)
st.plotly_chart(figures.error_vs_latent(table, metric), key="cmp_chart")
st.caption(("Lower is better: a point below PCA's line beats PCA at its size." if metric == "test_mse" else
            "Higher is better: a point above PCA's line beats PCA at its size.")
           + " PCA's reconstructions are clipped to [0, 1] (the range of a pixel), which lowers its error a little.")

st.subheader("Metrics on the test images")
c, h, w = dataset.image_shape
st.caption(f"Every one of the {len(dataset.test):,} test images; SSIM on a fixed sample of "
           f"{min(SSIM_IMAGES, len(dataset.test)):,} of them, the same for every row (the Train page's SSIM is over all "
           "of them, so it differs a little). PCA's error "
           "is that of its reconstructions clipped to [0, 1], the range of a pixel (scikit-learn's inverse_transform "
           "alone does not clip: a little more error). Two PSNRs: of the mean error, 10 log10(1 / test MSE), and "
           "the mean over images of each image's PSNR, which the chart draws. The same d, different decoders: "
           "the decoder parameters say how many numbers each rebuilds the images with."
           + (f" Colour: each image has {c * h * w:,} values (3 per pixel); the MSE averages them all, the squared "
              "error per image adds them all up, SSIM averages the three channels." if c == 3 else ""))
summary = versus_pca(table)
shown = summary.rename(columns=COLUMN_NAMES)[[c for c in COLUMN_NAMES.values() if c in summary.rename(columns=COLUMN_NAMES)]]
st.dataframe(shown, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.5f") for c in ("test MSE", "PCA's test MSE")}
             | {"squared error per image": st.column_config.NumberColumn(format="%.3f"),
                "PSNR of the mean error (dB)": st.column_config.NumberColumn(format="%.2f"),
                "mean per-image PSNR (dB)": st.column_config.NumberColumn(format="%.2f"),
                "decoder parameters": st.column_config.NumberColumn(format="localized"),
                "PCA's decoder parameters": st.column_config.NumberColumn(format="localized"),
                "SSIM": st.column_config.NumberColumn(format="%.3f"),
                "MSE / PCA's": st.column_config.NumberColumn(format="%.2fx", help="below 1: the autoencoder beats PCA")})
c1, c2 = st.columns(2)
ui.csv_download("Download this table (CSV)", summary, "autoencoder_vs_pca.csv", key="cmp_csv", where=c1)
ui.csv_download("Download every row, PCA at each size too (CSV)", table, "error_vs_latent.csv", key="cmp_csv_all", where=c2)
