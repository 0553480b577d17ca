"""Autoencoder vs PCA: the same test images rebuilt by each, error against latent size, a metrics table."""

import streamlit as st

from dashboard import figures, resources, ui

st.title("Autoencoder vs PCA")
ui.explainer(
    "Both methods squeeze every image into **d numbers** and rebuild it. The grid shows the same test "
    "images (never seen in training) rebuilt by PCA and by each autoencoder with the **same d**, so the "
    "comparison is fair. The chart shows the error for every size: PCA's line comes from one fit, each "
    "autoencoder is one point. Below the line means the autoencoder rebuilds better than PCA with the "
    "same budget. **MSE** is the mean squared pixel error (lower is better), **PSNR** the same in decibels "
    "(higher is better), **SSIM** how similar the structure looks, from 0 to 1 (higher is better)."
)
dataset = ui.dataset_or_stop()
entries = ui.models_or_stop(dataset)
sel = ui.selection()

dims = sorted({e.latent_dim for e in entries})
top = st.columns([1, 3, 1])
latent_dim = top[0].selectbox("Latent size d", dims, key="cmp_dim")
same = [e for e in entries if e.latent_dim == latent_dim]
names = top[1].multiselect("Autoencoders (all with d = %d)" % latent_dim, [e.name for e in same],
                           default=[e.name for e in same], key=f"cmp_models_{latent_dim}",
                           format_func=lambda n: next(e.label for e in same if e.name == n))
n_images = top[2].slider("Images", 4, 16, 10, key="cmp_n")
seed = st.session_state.get("cmp_seed", 0)

st.subheader(f"Reconstructions with {latent_dim} numbers per image")
chosen = [e for e in same if e.name in names]
index = tuple(int(i) for i in resources.test_subset(len(dataset.test), n_images, seed))
grid = resources.reconstructions(sel.config, sel.data_dir, resources.signature(chosen), latent_dim, index)
originals = grid["original"]
for label, images in grid.items():
    note = "" if label == "original" else f"MSE {float(((images - originals) ** 2).mean()):.4f}"
    ui.image_row(label, images, cell=64 if dataset.image_shape[1] <= 16 else 56, note=note)
if st.button("Other test images", key="cmp_shuffle", icon=":material/shuffle:"):
    st.session_state["cmp_seed"] = seed + 1
    st.rerun()

st.subheader("Error against latent size")
metric = st.radio("Measure", ["test_mse", "test_psnr", "test_ssim"], horizontal=True, key="cmp_metric",
                  format_func={"test_mse": "MSE (lower is better)", "test_psnr": "PSNR dB (higher is better)",
                               "test_ssim": "SSIM (higher is better)"}.get)
pixels = int(dataset.image_shape[0] * dataset.image_shape[1] * dataset.image_shape[2])
max_pca = min(64, pixels - 1, len(dataset.train), max(32, 2 * max(dims)))  # the last sizes of tiny images are exact
table = resources.error_table(sel.config, sel.data_dir, resources.signature(entries), max_pca)
st.plotly_chart(figures.error_vs_latent(table, metric), key="cmp_chart")

st.subheader("Metrics on the test images")
ae = table[table["method"] != "PCA"]
pca = table[(table["method"] == "PCA") & table["latent_dim"].isin(ae["latent_dim"])]
summary = ae.merge(pca[["latent_dim", "test_mse"]].rename(columns={"test_mse": "PCA test_mse"}), on="latent_dim", how="left")
summary["MSE vs PCA"] = summary["test_mse"] / summary["PCA test_mse"]
summary = summary.sort_values(["latent_dim", "test_mse"])
st.dataframe(summary, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.5f") for c in ("test_mse", "PCA test_mse")}
             | {"test_sse_per_image": st.column_config.NumberColumn(format="%.3f"),
                "test_psnr": st.column_config.NumberColumn(format="%.2f"),
                "test_ssim": st.column_config.NumberColumn(format="%.3f"),
                "MSE vs PCA": st.column_config.NumberColumn(format="%.2fx", help="below 1: the autoencoder beats PCA")})
c1, c2 = st.columns(2)
c1.download_button("Download this table (CSV)", summary.to_csv(index=False), "autoencoder_vs_pca.csv", "text/csv",
                   key="cmp_csv")
c2.download_button("Download every row, PCA at each size too (CSV)", table.to_csv(index=False),
                   "error_vs_latent.csv", "text/csv", key="cmp_csv_all")
