"""Home: what the app is, the model zoo for the chosen dataset, one button that trains it."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import figures, resources, ui
from dashboard.text import md

HOME_EXPLAINER = (
    "An **autoencoder** is two small neural networks: an *encoder* that turns an image into a short list "
    "of numbers (the **latent code**) and a *decoder* that turns the code back into an image. It is trained "
    "only to make the rebuilt image look like the input, so the code has to keep what matters.\n\n"
    "**PCA** does the same with straight lines: it keeps the directions in which the images vary most. "
    "It is the classic baseline, so every page puts the two side by side at the same code size.\n\n"
    "The table below is the **model zoo**: the models every page starts with. *Cached* means it is "
    "trained and saved on disk, so pages open instantly. *Test MSE* is the average squared pixel error on "
    "images the model never saw in training (smaller is better)."
)

INTRO = (
    "See what an **autoencoder** learns: it squeezes each image into a few numbers (the *code*) and "
    "rebuilds the image from them. Compare it with **PCA** at the same number of numbers, explore the "
    "code space, move its coordinates by hand, clean noisy images and compress them."
)
dataset = ui.page("Latent Lab", HOME_EXPLAINER, intro=INTRO).dataset
c1, c2, c3, c4 = st.columns(4)
c1.metric("Dataset", dataset.name if dataset.config.folder is None else "own folder")
c2.metric("Training images", f"{len(dataset.train):,}")
c3.metric("Test images", f"{len(dataset.test):,}")
c4.metric("Image size", "x".join(str(s) for s in dataset.image_shape[1:]) + (" RGB" if dataset.image_shape[0] == 3 else ""))
st.caption(f"Source: {md(dataset.source)}")
if dataset.skipped_files:
    with st.expander(f"{len(dataset.skipped_files)} files of this folder were left out"):
        st.markdown("\n".join(f"- {md(s.path)}: {md(s.reason)}" for s in dataset.skipped_files))

examples = np.concatenate([dataset.train.images[dataset.train.labels == c][:2] for c in np.unique(dataset.train.labels)[:12]])
ui.picture(figures.mosaic(examples, cell=48), caption="Two training images per class")

def training_time_hint(dataset, train) -> str:
    """How long the zoo takes, said for the data in use (measured: 6 models in about 50 s on digits)."""
    if len(dataset.train) > 5000:
        return "This dataset is large: a time budget per model keeps the wait predictable."
    images = len(dataset.train) * train.epochs
    pixels = int(np.prod(dataset.image_shape))
    minutes = 6 * images * pixels / (1437 * 60 * 64) * 50 / 60  # scaled from digits: 50 s for 1437 x 60 x 64
    return (f"With {len(dataset.train):,} training images of {dataset.image_shape[2]}x{dataset.image_shape[1]} "
            f"pixels this takes about {max(1, round(minutes))} minute{'s' if round(minutes) > 1 else ''} on a laptop.")


st.subheader("Model zoo")
standard = resources.default_train_config(len(dataset.train), dataset.image_shape)
status = resources.zoo(dataset, standard)
table = pd.DataFrame([{
    "model": z.label, "latent size": z.model.latent_dim, "cached": z.trained,
    "test MSE": z.record.metric("test_mse") if z.record else None,
    "training time (s)": round(z.record.train_seconds, 1) if z.record else None,
    "trained with": z.record.trained_with if z.record else "",
} for z in status])
missing = [z for z in status if not z.trained]
st.dataframe(
    table, hide_index=True, width="stretch",
    column_config={
        "model": st.column_config.TextColumn("model", width="large"),
        "cached": st.column_config.CheckboxColumn("cached"),
        "test MSE": st.column_config.NumberColumn(format="%.5f"),
        "training time (s)": st.column_config.NumberColumn(format="%.1f"),
    },
)

large = len(dataset.train) > 5000
with st.container(border=True):
    if not missing:
        st.success("Every default model is trained: open any page in the sidebar.")
    else:
        st.markdown(f"**{len(missing)} of {len(status)} default models are not trained yet.** "
                    + training_time_hint(dataset, standard))
    length = st.radio("Training length", ["standard", "time budget"], horizontal=True, index=1 if large else 0,
                      key=f"zoo_length_{dataset.name}", format_func={"standard": f"standard ({standard.epochs} epochs)",
                                                     "time budget": "time budget per model"}.get)
    budget = None
    if length == "time budget":
        budget = st.slider("Seconds per model", 10, 600, 60 if large else 20, step=10, key=f"zoo_budget_{dataset.name}")
    train_config = resources.default_train_config(len(dataset.train), dataset.image_shape, time_budget=budget)
    label = f"Train the default models ({len(missing)} to train)" if missing else "Default models trained"
    forbidden = bool(missing) and ui.refused("train")
    if st.button(label, type="primary" if missing else "secondary", disabled=not missing or forbidden, key="train_zoo"):
        queued = resources.submit_zoo(dataset, train_config)
        st.toast(f"{len(queued)} models queued: they train in the background, progress in the sidebar.")
        st.rerun()
    running = [j for j in resources.jobs().jobs() if j.active and j.dataset.config == dataset.config]
    if running:
        st.caption(f"Training in the background: {md(', '.join(j.label for j in running))}. You can open other pages "
                   "meanwhile; each model appears as soon as it is saved.")

st.subheader("Where to next")
cols = st.columns(2)  # two columns: every link's words fit on one line
cols[0].page_link("views/compare.py", label="Autoencoder vs PCA: who rebuilds images better?", icon=":material/compare:")
cols[1].page_link("views/latent_map.py", label="Latent map: where each image lands in 2-D", icon=":material/scatter_plot:")
cols[0].page_link("views/playground.py", label="Decoder playground: move the code by hand", icon=":material/tune:")
cols[1].page_link("views/denoising.py", label="Denoising: clean noisy images", icon=":material/auto_fix_high:")
cols[0].page_link("views/compression.py", label="Compression: quality for a bit budget", icon=":material/compress:")
cols[1].page_link("views/train.py", label="Train: build your own model", icon=":material/model_training:")
