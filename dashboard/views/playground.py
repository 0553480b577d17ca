"""Decoder playground: move the code by hand and watch the decoder (and PCA) respond.

The page is a few functions, each drawing one part from typed values (:class:`Start`, the model, the
dataset); every session-state key it uses is in :data:`dashboard.keys.PLAYGROUND`, the one list the
widgets and the link (``share.view``) share.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import streamlit as st

from core.analysis import LatentStats, decode_code, far_outside_range, matching_move, plane_through, slider_values_to_code
from core.analysis import slider_specs as core_slider_specs
from core.models.reducers import Codec
from core.samples import MAX_SLIDER_DIMS
from core.store.records import ModelRecord, ModelRef
from core.store.zoo import first_choice_record
from core.words import a_or_an
from dashboard import elements, figures, live, resources, share, ui
from dashboard.keys import PLAYGROUND as KEYS

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


@dataclass(frozen=True)
class Models:
    """The model being played with and PCA of the same size, with what the page needs of both."""

    entry: ModelRecord
    reducer: Codec
    pca_ref: ModelRef
    pca: Codec
    stats: LatentStats  # of the model's codes of the training images
    pca_stats: LatentStats


@dataclass(frozen=True)
class Start:
    """Where the sliders start.

    Attributes
    ----------
    kind : str
        'image', 'mean' or 'sent' (a code sent from the Latent map or the pad).
    code, pca_code : np.ndarray of shape (d,)
        The model's start code and PCA's.
    id : str
        Part of the slider keys: a new start gives new sliders.
    image : np.ndarray of shape (C, H, W)
        What the start looks like; ``caption`` says what it is.
    """

    kind: str
    code: np.ndarray
    pca_code: np.ndarray
    id: str
    image: np.ndarray
    caption: str


def take_request(page) -> None:
    """A code sent here (a link, the Latent map, the pad) selects its model and starts the sliders from it;
    a first visit opens the zoo's friendliest model."""
    state = st.session_state
    request = share.take_code()
    if request and any(e.name == request.model for e in page.models):
        state[KEYS.model], state[KEYS.sent], state[KEYS.start] = request.model, request, "sent"
    elif KEYS.model not in state:  # first visit: the zoo's 2-D conv model is the friendliest start
        state[KEYS.model] = first_choice_record(resources.zoo(page.dataset), page.models).name


def models_ui(page, column) -> Models:
    with column:
        entry, reducer = ui.pick_model("Model", page.models, key=KEYS.model)
    sel, pca_ref = page.selection, ModelRef.baseline(entry.latent_dim)
    return Models(entry, reducer, pca_ref, resources.reducer(sel.config, sel.data_dir, pca_ref),
                  resources.code_stats(sel.config, sel.data_dir, entry.ref),
                  resources.code_stats(sel.config, sel.data_dir, pca_ref))


def start_ui(page, m: Models, start_column, image_column) -> Start:
    """The 'Start from' choice and the test image number; the start they make."""
    state, dataset = st.session_state, page.dataset
    sent = state.get(KEYS.sent)
    starts = {"image": "a test image", "mean": "the mean code"}
    if sent and sent.model == m.entry.name:
        starts["sent"] = f"the code sent from the latent map ({sent.source})"
    if state.get(KEYS.start) not in starts:
        state[KEYS.start] = "image"
    kind = start_column.radio("Start from", list(starts), format_func=starts.get, key=KEYS.start)
    index = image_column.number_input("Test image #", 0, len(dataset.test) - 1, 0, key=KEYS.image,
                                      disabled=kind != "image")
    if kind == "image":
        image = dataset.test.images[index:index + 1]
        label = dataset.class_names[dataset.test.labels[index]]
        return Start(kind, m.reducer.encode(image)[0], m.pca.encode(image)[0], f"img{index}", image[0],
                     f"start: test image #{index}, class {label}")
    if kind == "mean":
        code = np.asarray(m.stats.mean, np.float32)
        return Start(kind, code, np.asarray(m.pca_stats.mean, np.float32), "mean", decode_code(m.reducer, code)[0],
                     "start: the mean code, decoded")
    code = np.asarray(sent.code, np.float32)
    decoded = decode_code(m.reducer, code)
    return Start(kind, code, m.pca.encode(decoded)[0], "sent" + str(abs(hash(tuple(np.round(code, 4))))), decoded[0],
                 f"start: the code sent from {sent.source}, decoded")


def by_dimension(m: Models) -> bool:
    """One slider per code number (short codes), or one per main direction of the training codes."""
    return m.entry.latent_dim <= MAX_SLIDER_DIMS


def slider_specs(m: Models, start: Start) -> list[tuple]:
    """(label, low, high, start, help) per slider (:func:`core.analysis.slider_specs`)."""
    return [(s.label, s.low, s.high, s.value, s.help) for s in core_slider_specs(m.stats, start.code, by_dimension(m))]


def code_panel(m: Models, start: Start, code, nonce: int, range_note: bool = True) -> None:
    """Beside the images: the start, whether the code is in the data's range (unless the live element
    already says so as you drag), the code itself."""
    c, d = st.columns([1, 4])
    with c:
        ui.image(start.image, start.caption, size=100)
    with d:
        if not range_note:
            pass
        elif far_outside_range(m.stats, code):
            st.warning("This code is well outside the range the training images use: the decoder never saw "
                       "codes like it, so the image may stop looking like anything from the data.")
        else:
            st.success("This code is inside the range of the training images.")
        st.caption("code = [" + ", ".join(f"{v:.2f}" for v in np.asarray(code).ravel()[:32]) +
                   (", ..." if np.asarray(code).size > 32 else "") + "]")
        if st.button("Reset the sliders", key="pg_reset", icon=":material/restart_alt:"):
            st.session_state[KEYS.nonce] = nonce + 1
            st.rerun(scope="fragment")


def _share_code(start: Start, code) -> None:
    """The code into the view's link, unless it is simply the start image's own code."""
    share.update(code=None if start.kind == "image" and np.allclose(code, start.code) else code)


@st.fragment
def live_sliders(page, m: Models, start: Start) -> None:
    """The sliders decode in the browser on every move (model and PCA); Python hears on release."""
    nonce = st.session_state.get(KEYS.nonce, 0)
    result = elements.live_code_sliders(f"pg_live_{m.entry.name}_{start.id}_{nonce}", page.selection, page.dataset,
                                        m.entry, start.code, start.pca_code)
    if not result.ok:  # the browser cannot run the decoder: today's server path, said in one line
        st.session_state[KEYS.live_ok] = False
        st.rerun()
    code = result.code if result.code is not None else slider_values_to_code(
        m.stats, start.code, [spec[3] for spec in slider_specs(m, start)], by_dimension(m))
    _share_code(start, code)
    code_panel(m, start, code, nonce, range_note=False)


@st.fragment
def server_sliders(m: Models, start: Start) -> None:
    """The server path: each slider's value reaches Python on release and the server draws both images."""
    nonce = st.session_state.get(KEYS.nonce, 0)
    values = []
    cols = st.columns(4)
    for i, (label, lo, hi, value, help_text) in enumerate(slider_specs(m, start)):
        with cols[i % 4]:
            values.append(st.slider(label, float(lo), float(hi), float(value), float((hi - lo) / 200), format="%.2f",
                                    help=help_text, key=f"pg_{m.entry.name}_{start.id}_{nonce}_{i}"))
    code = slider_values_to_code(m.stats, start.code, values, by_dimension(m))
    _share_code(start, code)
    pca_code = matching_move(m.stats, m.pca_stats, start.code, start.pca_code, code, by_dimension(m))
    a, b = st.columns(2)
    with a:
        ui.image(decode_code(m.reducer, code)[0], f"{m.entry.method} decodes this code", size=220)
    with b:
        ui.image(decode_code(m.pca, pca_code)[0], f"PCA (d={m.entry.latent_dim}), the same move", size=220)
    code_panel(m, start, code, nonce)


def decoders(page, m: Models) -> tuple[bytes | None, bytes | None]:
    """The model's and PCA's decoders as ONNX for the browser, or (None, None) with a note."""
    sel = page.selection
    try:
        return (resources.decoder_onnx(sel.config, sel.data_dir, m.entry.ref),
                resources.decoder_onnx(sel.config, sel.data_dir, m.pca_ref))
    except Exception as exc:  # noqa: BLE001 - an export that fails leaves the server path, said on the page
        st.caption(f"The decoder could not be prepared for your browser ({type(exc).__name__}).")
        return None, None


def download_decoder(page, m: Models, model_onnx: bytes) -> None:
    # deferred (bytes handed over on the click): a visit that does not download fetched 266 KB on digits;
    # no rerun on the click, which could lose the file (ui.csv_download says why)
    st.download_button("Download the decoder (ONNX)", functools.partial(bytes, model_onnx), f"{m.entry.name}-decoder.onnx",
                       "application/octet-stream", key="pg_onnx", icon=":material/download:", on_click="ignore",
                       help=f"The {m.entry.method} decoder as an ONNX model: input 'code' (N, {m.entry.latent_dim}) "
                            f"float32, output 'image' (N, {', '.join(map(str, page.dataset.image_shape))}) in [0, 1]. "
                            "onnxruntime, onnx2torch and most inference engines run it.")


def code_pad(page, m: Models, start: Start, model_onnx: bytes) -> None:
    """The code plane under the pointer: decodes where it points; a click pins the code and reruns."""
    sel, entry = page.selection, m.entry
    st.subheader("The code plane under your pointer")
    codes, labels = resources.test_codes(sel.config, sel.data_dir, entry.ref)
    if entry.latent_dim == 2:
        origin, plane, points = np.zeros(2, np.float32), np.eye(2, dtype=np.float32), codes
        start_uv = start.code  # the pad is the code plane itself
        st.caption("Each faint dot is a test image's code, coloured by class. Move the pointer over the pad: the "
                   "decoder draws the code under it. Click to pin it and start the sliders from there.")
    else:
        origin, plane = plane_through(m.stats, start.code, (0, 1))
        points = m.stats.project(codes)[:, :2]
        start_uv = m.stats.project(start.code)[:2]  # where plane_through puts the start code
        st.caption(f"{a_or_an(entry.latent_dim).capitalize()} {entry.latent_dim}-number code has no single plane: "
                   "this pad spans the two main directions "
                   "of the training codes through the start code. Faint dots: test images' codes seen along them. "
                   "Move the pointer to decode, click to pin.")
    pad = live.latent_pad(f"pg_pad_{entry.name}_{start.id}", model_onnx, resources.browser_id(sel.config, entry.ref),
                          page.dataset.image_shape, points=points, labels=labels, origin=origin, plane=plane,
                          label=f"{entry.method} decodes the code under the pointer",
                          # a code pinned (on this pad or the latent map) keeps its marker after the rerun
                          pinned=start_uv if start.kind == "sent" else None)
    pinned = None if pad.code is None else [float(v) for v in pad.code]
    if pinned is not None and pinned != st.session_state.get(KEYS.pinned):
        st.session_state[KEYS.pinned] = pinned
        share.send_code(entry.name, pinned, "the pad")
        st.rerun()


def interpolation(page, m: Models, decoders: tuple[bytes, bytes] | None) -> None:
    """A walk between two test images' codes: live (``decoders`` given) and in fixed steps."""
    sel, dataset, entry = page.selection, page.dataset, m.entry
    st.subheader("Interpolation between two test images")
    c1, c2, c3 = st.columns(3)
    a_index = c1.number_input("From test image #", 0, len(dataset.test) - 1, 0, key=KEYS.a)
    b_index = c2.number_input("To test image #", 0, len(dataset.test) - 1, min(1, len(dataset.test) - 1), key=KEYS.b)
    steps = c3.slider("Steps", 3, 16, 10, key=KEYS.steps)
    if decoders is not None:
        model_onnx, pca_onnx = decoders
        ends = dataset.test.images[[a_index, b_index]]
        code_a, code_b = m.reducer.encode(ends)
        pca_a, pca_b = m.pca.encode(ends)
        live.interpolation_scrubber(
            f"pg_scrub_{entry.name}_{a_index}_{b_index}", model_onnx, resources.browser_id(sel.config, entry.ref),
            dataset.image_shape, code_a, code_b, label=f"{entry.method}",
            side=live.side_between(pca_onnx, resources.browser_id(sel.config, m.pca_ref), pca_a, pca_b, label="PCA"))
        st.caption("Drag t from 0 (the first image's code) to 1 (the second's): both decoders draw every step as you "
                   "move. Below, the same walk in fixed steps" + (" (spherical for the VAE, whose codes follow a prior)."
                                                                 if m.reducer.capabilities.prior else "."))
    ui.image_row(entry.method, resources.interpolation(sel.config, sel.data_dir, entry.ref, a_index, b_index, steps))
    ui.image_row(m.pca.method, resources.interpolation(sel.config, sel.data_dir, m.pca_ref, a_index, b_index, steps),
                 note="straight line in PCA's code: a cross-fade")


def code_space(page, m: Models) -> None:
    """A 2-D model's whole code space, decoded on a grid."""
    sel = page.selection
    st.subheader("The whole 2-D code space")
    n = st.slider("Grid size", 5, 20, 12, key=KEYS.grid)
    images, xs, ys = resources.manifold(sel.config, sel.data_dir, m.entry.ref, n)
    ui.picture(figures.mosaic(images, ncols=n, cell=40 if page.dataset.image_shape[1] <= 16 else 36),
               caption=f"Decoded on {a_or_an(n)} {n}x{n} grid: code 1 from {xs[0]:.2f} to {xs[-1]:.2f} (left to right), "
                       f"code 2 from {ys[0]:.2f} to {ys[-1]:.2f}")


def prior_samples(page, m: Models) -> None:
    """A VAE's codes drawn from its prior, decoded; a button draws new ones."""
    sel = page.selection
    st.subheader("Random samples from the VAE")
    seed = st.session_state.get(KEYS.seed, 0)
    ui.picture(figures.mosaic(resources.prior_samples(sel.config, sel.data_dir, m.entry.ref, 16, seed), ncols=16, cell=48),
               caption="Codes drawn at random from a standard normal distribution, then decoded")
    if st.button("New samples", key="pg_new_samples", icon=":material/casino:"):
        st.session_state[KEYS.seed] = seed + 1
        st.rerun()


def main() -> None:
    page = ui.page("Decoder playground", EXPLAINER, models=ui.every_model)
    share.view(page, model=KEYS.model, image=KEYS.image, code=share.REQUEST_KEY)  # a shared link's view
    take_request(page)
    top = st.columns([3, 2, 1])
    m = models_ui(page, top[0])
    start = start_ui(page, m, top[1], top[2])
    model_onnx, pca_onnx = decoders(page, m)
    live_ok = st.session_state.get(KEYS.live_ok, True) and model_onnx is not None
    if live_ok:
        live_sliders(page, m, start)
    else:
        st.caption("Your browser could not run the decoder itself (a blocked script or an old browser), so the images "
                   "are drawn by the server each time you let go of a slider.")
        server_sliders(m, start)
    if model_onnx is not None:
        download_decoder(page, m, model_onnx)
    if live_ok:
        code_pad(page, m, start, model_onnx)
    interpolation(page, m, (model_onnx, pca_onnx) if live_ok else None)
    if m.entry.latent_dim == 2:
        code_space(page, m)
    if m.reducer.capabilities.prior:
        prior_samples(page, m)


main()
