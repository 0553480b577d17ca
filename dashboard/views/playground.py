"""Decoder playground: move the code by hand and watch the decoder (and PCA) respond."""

import functools

import numpy as np
import streamlit as st

from core.analysis import decode_code, far_outside_range, matching_move, plane_through, slider_values_to_code
from core.analysis import slider_specs as core_slider_specs
from core.samples import MAX_SLIDER_DIMS
from core.store.records import ModelRef
from core.store.zoo import first_choice_record
from core.words import a_or_an
from dashboard import elements, figures, live, resources, share, ui

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
share.view(page, model="pg_model", image="pg_image", code=share.REQUEST_KEY)  # a shared link's view

request = share.take_code()
if request and any(e.name == request.model for e in entries):
    st.session_state["pg_model"] = request.model
    st.session_state["pg_sent"] = request
    st.session_state["pg_start"] = "sent"
elif "pg_model" not in st.session_state:  # first visit: the zoo's 2-D conv model is the friendliest start
    st.session_state["pg_model"] = first_choice_record(resources.zoo(dataset), entries).name

top = st.columns([3, 2, 1])
with top[0]:
    entry, reducer = ui.pick_model("Model", entries, key="pg_model")
pca_ref = ModelRef.baseline(entry.latent_dim)
pca = resources.reducer(sel.config, sel.data_dir, pca_ref)
sent = st.session_state.get("pg_sent")
starts = {"image": "a test image", "mean": "the mean code"}
if sent and sent.model == entry.name:
    starts["sent"] = f"the code sent from the latent map ({sent.source})"
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
    base = np.asarray(sent.code, np.float32)
    decoded = decode_code(reducer, base)
    pca_base = pca.encode(decoded)[0]
    start_id = "sent" + str(abs(hash(tuple(np.round(base, 4)))))
    start_image = decoded[0]
    start_caption = f"start: the code sent from {sent.source}, decoded"
by_dimension = entry.latent_dim <= MAX_SLIDER_DIMS
base_projection = stats.project(base)  # where the start sits along each principal direction


def slider_specs():
    """(label, low, high, start, help) per slider (:func:`core.analysis.slider_specs`)."""
    return [(s.label, s.low, s.high, s.value, s.help) for s in core_slider_specs(stats, base, by_dimension)]


def code_panel(code, nonce: int, range_note: bool = True) -> None:
    """Beside the images: the start, whether the code is in the data's range (unless the live element
    already says so as you drag), the code itself."""
    c, d = st.columns([1, 4])
    with c:
        ui.image(start_image, start_caption, size=100)
    with d:
        if not range_note:
            pass
        elif far_outside_range(stats, code):
            st.warning("This code is well outside the range the training images use: the decoder never saw "
                       "codes like it, so the image may stop looking like anything from the data.")
        else:
            st.success("This code is inside the range of the training images.")
        st.caption("code = [" + ", ".join(f"{v:.2f}" for v in np.asarray(code).ravel()[:32]) +
                   (", ..." if np.asarray(code).size > 32 else "") + "]")
        if st.button("Reset the sliders", key="pg_reset", icon=":material/restart_alt:"):
            st.session_state["pg_nonce"] = nonce + 1
            st.rerun(scope="fragment")


@st.fragment
def live_playground():
    """The sliders decode in the browser on every move (model and PCA); Python hears on release."""
    nonce = st.session_state.get("pg_nonce", 0)
    specs = slider_specs()
    result = elements.live_code_sliders(f"pg_live_{entry.name}_{start_id}_{nonce}", sel, dataset, entry, base, pca_base)
    if not result.ok:  # the browser cannot run the decoder: today's server path, said in one line
        st.session_state["pg_live_ok"] = False
        st.rerun()
    code = result.code if result.code is not None else slider_values_to_code(
        stats, base, [spec[3] for spec in specs], by_dimension)
    share.update(code=None if start == "image" and np.allclose(code, base) else code)
    code_panel(code, nonce, range_note=False)


@st.fragment
def playground():
    """The server path: each slider's value reaches Python on release and the server draws both images."""
    nonce = st.session_state.get("pg_nonce", 0)
    values = []
    cols = st.columns(4)
    for i, (label, lo, hi, value, help_text) in enumerate(slider_specs()):
        with cols[i % 4]:
            values.append(st.slider(label, float(lo), float(hi), float(value), float((hi - lo) / 200), format="%.2f",
                                    help=help_text, key=f"pg_{entry.name}_{start_id}_{nonce}_{i}"))
    code = slider_values_to_code(stats, base, values, by_dimension)
    share.update(code=None if start == "image" and np.allclose(code, base) else code)
    pca_code = matching_move(stats, pca_stats, base, pca_base, code, by_dimension)
    a, b = st.columns(2)
    with a:
        ui.image(decode_code(reducer, code)[0], f"{entry.method} decodes this code", size=220)
    with b:
        ui.image(decode_code(pca, pca_code)[0], f"PCA (d={entry.latent_dim}), the same move", size=220)
    code_panel(code, nonce)


live_ok = st.session_state.get("pg_live_ok", True)
try:
    model_onnx = resources.decoder_onnx(sel.config, sel.data_dir, entry.ref)
    pca_onnx = resources.decoder_onnx(sel.config, sel.data_dir, pca_ref)
except Exception as exc:  # noqa: BLE001 - an export that fails leaves the server path, said on the page
    model_onnx = pca_onnx = None
    live_ok = False
    st.caption(f"The decoder could not be prepared for your browser ({type(exc).__name__}).")
if live_ok:
    live_playground()
else:
    st.caption("Your browser could not run the decoder itself (a blocked script or an old browser), so the images "
               "are drawn by the server each time you let go of a slider.")
    playground()
if model_onnx is not None:
    # deferred (bytes handed over on the click): a visit that does not download fetched 266 KB on digits
    st.download_button("Download the decoder (ONNX)", functools.partial(bytes, model_onnx), f"{entry.name}-decoder.onnx",
                       "application/octet-stream",
                       key="pg_onnx", icon=":material/download:",
                       help=f"The {entry.method} decoder as an ONNX model: input 'code' (N, {entry.latent_dim}) float32, "
                            f"output 'image' (N, {', '.join(map(str, dataset.image_shape))}) in [0, 1]. onnxruntime, "
                            "onnx2torch and most inference engines run it.")

if live_ok:
    st.subheader("The code plane under your pointer")
    codes, labels = resources.test_codes(sel.config, sel.data_dir, entry.ref)
    if entry.latent_dim == 2:
        origin, plane, points = np.zeros(2, np.float32), np.eye(2, dtype=np.float32), codes
        start_uv = base  # the pad is the code plane itself
        st.caption("Each faint dot is a test image's code, coloured by class. Move the pointer over the pad: the "
                   "decoder draws the code under it. Click to pin it and start the sliders from there.")
    else:
        origin, plane = plane_through(stats, base, (0, 1))
        points = stats.project(codes)[:, :2]
        start_uv = base_projection[:2]  # where plane_through puts the start code
        st.caption(f"{a_or_an(entry.latent_dim).capitalize()} {entry.latent_dim}-number code has no single plane: "
                   "this pad spans the two main directions "
                   "of the training codes through the start code. Faint dots: test images' codes seen along them. "
                   "Move the pointer to decode, click to pin.")
    pad = live.latent_pad(f"pg_pad_{entry.name}_{start_id}", model_onnx, resources.browser_id(sel.config, entry.ref),
                          dataset.image_shape, points=points, labels=labels, origin=origin, plane=plane,
                          label=f"{entry.method} decodes the code under the pointer",
                          # a code pinned (on this pad or the latent map) keeps its marker after the rerun
                          pinned=start_uv if start == "sent" else None)
    pinned = None if pad.code is None else [float(v) for v in pad.code]
    if pinned is not None and pinned != st.session_state.get("pg_pinned"):
        st.session_state["pg_pinned"] = pinned
        share.send_code(entry.name, pinned, "the pad")
        st.rerun()

st.subheader("Interpolation between two test images")
c1, c2, c3 = st.columns(3)
a_index = c1.number_input("From test image #", 0, len(dataset.test) - 1, 0, key="pg_a")
b_index = c2.number_input("To test image #", 0, len(dataset.test) - 1, min(1, len(dataset.test) - 1), key="pg_b")
steps = c3.slider("Steps", 3, 16, 10, key="pg_steps")
if live_ok:
    ends = dataset.test.images[[a_index, b_index]]
    code_a, code_b = reducer.encode(ends)
    pca_a, pca_b = pca.encode(ends)
    live.interpolation_scrubber(
        f"pg_scrub_{entry.name}_{a_index}_{b_index}", model_onnx, resources.browser_id(sel.config, entry.ref),
        dataset.image_shape, code_a, code_b, label=f"{entry.method}",
        side=live.side_between(pca_onnx, resources.browser_id(sel.config, pca_ref), pca_a, pca_b, label="PCA"))
    st.caption("Drag t from 0 (the first image's code) to 1 (the second's): both decoders draw every step as you "
               "move. Below, the same walk in fixed steps" + (" (spherical for the VAE, whose codes follow a prior)."
                                                             if reducer.capabilities.prior else "."))
ui.image_row(entry.method, resources.interpolation(sel.config, sel.data_dir, entry.ref, a_index, b_index, steps))
ui.image_row(pca.method, resources.interpolation(sel.config, sel.data_dir, pca_ref, a_index, b_index, steps),
             note="straight line in PCA's code: a cross-fade")

if entry.latent_dim == 2:
    st.subheader("The whole 2-D code space")
    n = st.slider("Grid size", 5, 20, 12, key="pg_grid")
    images, xs, ys = resources.manifold(sel.config, sel.data_dir, entry.ref, n)
    ui.picture(figures.mosaic(images, ncols=n, cell=40 if dataset.image_shape[1] <= 16 else 36),
             caption=f"Decoded on {a_or_an(n)} {n}x{n} grid: code 1 from {xs[0]:.2f} to {xs[-1]:.2f} (left to right), "
                     f"code 2 from {ys[0]:.2f} to {ys[-1]:.2f}")

if reducer.capabilities.prior:
    st.subheader("Random samples from the VAE")
    seed = st.session_state.get("pg_seed", 0)
    ui.picture(figures.mosaic(resources.prior_samples(sel.config, sel.data_dir, entry.ref, 16, seed), ncols=16, cell=48),
             caption="Codes drawn at random from a standard normal distribution, then decoded")
    if st.button("New samples", key="pg_new_samples", icon=":material/casino:"):
        st.session_state["pg_seed"] = seed + 1
        st.rerun()
