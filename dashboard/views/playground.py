"""Decoder playground: move the code by hand and watch the decoder (and PCA) respond."""

import numpy as np
import streamlit as st

from core.analysis import decode_code, far_outside_range, matching_move, slider_values_to_code
from core.records import ModelRef
from core.zoo import first_choice
from dashboard import figures, resources, ui

EXPLAINER = (
    "The **decoder** turns a short code back into an image. Here you set the code yourself: each slider "
    "is one number of the code (for long codes, one of the main directions along which the training "
    "codes vary). Start from a test image's code or from the average code and move a slider: the image "
    "changes as you drag.\n\n"
    "Beside it, **PCA** makes the same move: the same share of its own range on the matching PCA "
    "coordinate, from the same start. PCA can only add or remove one fixed pattern per coordinate; the "
    "autoencoder can bend the image into another shape. When the code leaves the range the training "
    "images ever used, you get a warning: the decoder never saw such codes and may draw nonsense.\n\n"
    "Below: **interpolation** (walk in a straight line from one image's code to another's), the **map of "
    "the whole 2-D code space** for 2-D models, and **random samples** for the VAE, whose codes were "
    "trained to look like random normal numbers."
)
page = ui.page("Decoder playground", EXPLAINER, models=ui.every_model)
dataset, sel, entries = page.dataset, page.selection, page.models

request = st.session_state.pop("playground_request", None)
if request and any(e.name == request["model"] for e in entries):
    st.session_state["pg_model"] = request["model"]
    st.session_state["pg_sent"] = request
    st.session_state["pg_start"] = "sent"
elif "pg_model" not in st.session_state:  # first visit: a 2-D conv model is the friendliest start
    first = next((e for e in entries if e.model == first_choice()), entries[0])
    st.session_state["pg_model"] = first.name

top = st.columns([3, 2, 1])
with top[0]:
    entry, reducer = ui.pick_model("Model", entries, key="pg_model")
pca_ref = ModelRef.baseline(entry.latent_dim)
pca = resources.reducer(sel.config, sel.data_dir, pca_ref)
sent = st.session_state.get("pg_sent")
starts = {"image": "a test image", "mean": "the mean code"}
if sent and sent["model"] == entry.name:
    starts["sent"] = f"the code sent from the latent map ({sent['source']})"
if st.session_state.get("pg_start") not in starts:
    st.session_state["pg_start"] = "image"
start = top[1].radio("Start from", list(starts), format_func=starts.get, key="pg_start")
image_index = top[2].number_input("Test image #", 0, len(dataset.test) - 1, 0, key="pg_image",
                                  disabled=start != "image")

stats = resources.code_stats(sel.config, sel.data_dir, entry.ref)
pca_stats = resources.code_stats(sel.config, sel.data_dir, pca_ref)
if start == "image":
    image = dataset.test.images[image_index:image_index + 1]
    base, pca_base = reducer.encode(image)[0], pca.encode(image)[0]
    start_id, start_image = f"img{image_index}", image[0]
    start_caption = f"start: test image #{image_index}, class {dataset.class_names[dataset.test.labels[image_index]]}"
elif start == "mean":
    base, pca_base, start_id = np.asarray(stats.mean, np.float32), np.asarray(pca_stats.mean, np.float32), "mean"
    start_image = decode_code(reducer, base)[0]
    start_caption = "start: the mean code, decoded"
else:
    base = np.asarray(sent["code"], np.float32)
    decoded = decode_code(reducer, base)
    pca_base = pca.encode(decoded)[0]
    start_id = "sent" + str(abs(hash(tuple(np.round(base, 4)))))
    start_image = decoded[0]
    start_caption = f"start: the code sent from {sent['source']}, decoded"
by_dimension = entry.latent_dim <= resources.MAX_SLIDER_DIMS
base_projection = stats.project(base)  # where the start sits along each principal direction


def slider_specs():
    """(label, low, high, start, help) per slider; sliders reach 50% beyond the data's range."""
    if by_dimension:
        low, high = np.asarray(stats.low, float), np.asarray(stats.high, float)
        return [(f"code {i + 1}", low[i], high[i], float(base[i]), "data range "
                 f"{low[i]:.2f} .. {high[i]:.2f}") for i in range(entry.latent_dim)]
    lows, highs = np.asarray(stats.direction_low, float), np.asarray(stats.direction_high, float)
    return [(f"direction {k + 1}", lows[k], highs[k], float(base_projection[k]),
             f"position along principal direction {k + 1} of the training codes, measured from their mean "
             f"(data range {lows[k]:.2f} .. {highs[k]:.2f})") for k in range(len(lows))]


@st.fragment
def playground():
    nonce = st.session_state.get("pg_nonce", 0)
    specs = slider_specs()
    values = []
    cols = st.columns(4)
    for i, (label, low, high, value, help_text) in enumerate(specs):
        span = max(high - low, 1e-3)
        lo, hi = min(low - 0.5 * span, value), max(high + 0.5 * span, value)
        step = float(span / 100)
        with cols[i % 4]:
            values.append(st.slider(label, float(lo), float(hi), float(value), step, format="%.2f", help=help_text,
                                    key=f"pg_{entry.name}_{start_id}_{nonce}_{i}"))
    code = slider_values_to_code(stats, base, values, by_dimension)
    pca_code = matching_move(stats, pca_stats, base, pca_base, code, by_dimension)
    decoded = decode_code(reducer, code)[0]
    pca_decoded = decode_code(pca, pca_code)[0]

    a, b, c, d = st.columns([2, 2, 1, 3])
    with a:
        ui.image(decoded, f"{entry.method} decodes this code", size=220)
    with b:
        ui.image(pca_decoded, f"PCA (d={entry.latent_dim}), the same move", size=220)
    with c:
        ui.image(start_image, start_caption, size=100)
    with d:
        if far_outside_range(stats, code):
            st.warning("This code is well outside the range the training images use: the decoder never saw "
                       "codes like it, so the image may stop looking like anything from the data.")
        else:
            st.success("This code is inside the range of the training images.")
        st.caption("code = [" + ", ".join(f"{v:.2f}" for v in np.asarray(code).ravel()[:32]) +
                   (", ..." if np.asarray(code).size > 32 else "") + "]")
        if st.button("Reset the sliders", key="pg_reset", icon=":material/restart_alt:"):
            st.session_state["pg_nonce"] = nonce + 1
            st.rerun(scope="fragment")


playground()

st.subheader("Interpolation between two test images")
c1, c2, c3 = st.columns(3)
a_index = c1.number_input("From test image #", 0, len(dataset.test) - 1, 0, key="pg_a")
b_index = c2.number_input("To test image #", 0, len(dataset.test) - 1, min(1, len(dataset.test) - 1), key="pg_b")
steps = c3.slider("Steps", 3, 16, 10, key="pg_steps")
ui.image_row(entry.method, resources.interpolation(sel.config, sel.data_dir, entry.ref, a_index, b_index, steps))
ui.image_row(pca.method, resources.interpolation(sel.config, sel.data_dir, pca_ref, a_index, b_index, steps),
             note="straight line in PCA's code: a cross-fade")

if entry.latent_dim == 2:
    st.subheader("The whole 2-D code space")
    n = st.slider("Grid size", 5, 20, 12, key="pg_grid")
    images, xs, ys = resources.manifold(sel.config, sel.data_dir, entry.ref, n)
    ui.picture(figures.mosaic(images, ncols=n, cell=40 if dataset.image_shape[1] <= 16 else 36),
             caption=f"Decoded on a {n}x{n} grid: code 1 from {xs[0]:.2f} to {xs[-1]:.2f} (left to right), "
                     f"code 2 from {ys[0]:.2f} to {ys[-1]:.2f}")

if reducer.capabilities.prior:
    st.subheader("Random samples from the VAE")
    seed = st.session_state.get("pg_seed", 0)
    ui.picture(figures.mosaic(resources.prior_samples(sel.config, sel.data_dir, entry.ref, 16, seed), ncols=16, cell=48),
             caption="Codes drawn at random from a standard normal distribution, then decoded")
    if st.button("New samples", key="pg_new_samples", icon=":material/casino:"):
        st.session_state["pg_seed"] = seed + 1
        st.rerun()
