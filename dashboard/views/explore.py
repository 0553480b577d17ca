"""Explore the code space: nearest neighbours in three spaces, attribute vectors and latent arithmetic,
a traversal grid, and what the basis looks like (PCA's eigen-images beside the decoder's unit moves)."""

import numpy as np
import streamlit as st

from core.analysis import analogy, attribute_walk, centred_on_grey, decode_code, eigen_images
from core.analysis.explore import MAX_TRAVERSAL_DIMS, principal_components
from core.errors import CheckpointError
from core.store.records import ModelRef
from dashboard import live, resources, share, ui
from dashboard.text import md

EXPLAINER = (
    "Four ways to see what a model's **code** (the few numbers it keeps per image) means, each beside "
    "**PCA** with the same number of numbers.\n\n"
    "1. **Nearest neighbours**: which test images have codes closest to the chosen one's? If the code "
    "keeps what matters, they look alike (and share its class) more often than neighbours in raw pixels.\n"
    "2. **Attribute vectors**: the average code of a class is a point in code space; the arrow from class "
    "A's average to class B's is the step that takes an *average* A to an average B. Add it to an image's code "
    "and see how far that goes for one particular image; or do arithmetic with codes: a - b + c.\n"
    "3. **Traversal grid**: each row moves one number of the code from low to high (the range the training "
    "images use) and keeps the others fixed: you see what that single number draws.\n"
    "4. **What the basis looks like**: PCA builds every image as the mean image plus a weighted sum of fixed "
    "patterns (eigen-images). An autoencoder has no fixed patterns: here is what its decoder adds for a "
    "small move along each code number."
)
CELL = 64  # pixels per small image


def what(text: str) -> None:
    """A section's one-line 'What am I looking at?' for students."""
    st.caption(f":material/help: **What am I looking at?** {text}")


def captioned_row(label: str, images: np.ndarray, captions: list[str], size: int = CELL, note: str = "",
                  slots: int | None = None) -> None:
    """A labelled row of images, each with its own caption (``slots`` columns, to line rows up)."""
    slots = max(slots or len(images), len(images))
    if label:
        columns = st.columns([2.2] + [1] * slots, vertical_alignment="top")
        columns[0].markdown(f"**{md(label)}**" + (f"  \n{md(note)}" if note else ""))
        columns = columns[1:]
    else:
        columns = st.columns(slots, vertical_alignment="top")
    for column, image, caption in zip(columns, images, captions):
        with column:
            ui.image(image, caption, size=size)


def class_name(label: int) -> str:
    return str(dataset.class_names[label]) if 0 <= label < len(dataset.class_names) else str(label)


page = ui.page("Explore the code space", EXPLAINER, models=ui.every_model)
dataset, sel, entries = page.dataset, page.selection, page.models
share.view(page, model="ex_model", image="ex_image")  # a shared link's view
test = dataset.test
n_test = len(test)

request = st.session_state.pop("explore_request", None)  # another page can send an image (and a model)
if isinstance(request, dict):
    if isinstance(request.get("index"), (int, np.integer)):
        st.session_state["ex_image"] = int(np.clip(request["index"], 0, n_test - 1))
    if any(e.name == request.get("model") for e in entries):
        st.session_state["ex_model"] = request["model"]
if "ex_model" not in st.session_state:  # first visit: the longest plain code shows the most
    st.session_state["ex_model"] = max(entries, key=lambda e: (e.train.noise is None, e.latent_dim)).name

top = st.columns([3, 1, 1])
with top[0]:
    entry, reducer = ui.pick_model("Model", entries, key="ex_model")
index = int(top[1].number_input("Test image #", 0, n_test - 1, 0, key="ex_image",
                                help="The image every section below starts from."))
with top[2]:
    ui.image(test.images[index], f"#{index}, class {class_name(int(test.labels[index]))}", size=96)

pca_ref = ModelRef.baseline(entry.latent_dim)
try:
    pca = resources.reducer(sel.config, sel.data_dir, pca_ref)
except (CheckpointError, ValueError) as exc:
    st.error(f"PCA with {entry.latent_dim} components cannot be fitted on this data: {md(exc)}")
    st.stop()
image = test.images[index:index + 1]
code, pca_code = reducer.encode(image)[0], pca.encode(image)[0]
label = int(test.labels[index])

# --- 1. nearest neighbours ---------------------------------------------------------------------------
st.header("1. Nearest neighbours", divider="gray")
what("the test images whose codes lie closest to the chosen image's code (Euclidean distance, smaller = closer), "
     "next to the closest in raw pixels and in PCA's code of the same size. A good code puts look-alikes, and "
     "images of the same class, close together; the count of neighbours that share the chosen image's class "
     "says how often it does.")
k = st.slider("Neighbours", 3, 12, 8, key="ex_k")
table = resources.neighbours(sel.config, sel.data_dir, entry.ref, index, k)
for _, group in table.groupby("space", sort=False):
    same = int((group["label"] == label).sum())
    captions = [f"#{i} · {c}  \n{d:.2f}" for i, c, d in zip(group["index"], group["class_name"], group["distance"])]
    captioned_row(group["space_title"].iloc[0], np.concatenate([image, test.images[group["index"].to_numpy()]]),
                  ["chosen"] + captions, note=f"{same}/{k} of class {class_name(label)}", slots=13)
st.caption("Under each neighbour: its test image number, its class and its distance to the chosen image in that "
           "space. Distances of different spaces are not comparable (the pixel space has far more numbers).")

# --- 2. attribute vectors and latent arithmetic --------------------------------------------------------
st.header("2. Attribute vectors and latent arithmetic", divider="gray")
what("each class's average code, decoded: the model's (and PCA's) idea of a typical member. Then the walk: the "
     "chosen image's code plus t times (mean code of B - mean code of A), decoded at each t. At t = 1 the code sits as "
     "far from B's mean as it sat from A's. Only if the two classes' codes were shifted copies of each other would "
     "that be this image drawn as a B: usually they are not, so the end may not look like a B (compare it with B's "
     "decoded mean above). PCA makes the same move in its code; being linear, it can only cross-fade between patterns.")
means = resources.class_mean_codes(sel.config, sel.data_dir, entry.ref)
pca_means = resources.class_mean_codes(sel.config, sel.data_dir, pca_ref)
present = [c for c in range(len(means)) if np.all(np.isfinite(means[c]))]
if len(present) < 2:
    st.info("This dataset has fewer than two classes, so there is no class-to-class direction to follow.")
else:
    shown = present[:12]
    captioned_row(entry.method, decode_code(reducer, means[shown]), [class_name(c) for c in shown],
                  note="class means, decoded", slots=13)
    captioned_row(pca.method, decode_code(pca, pca_means[shown]), [class_name(c) for c in shown],
                  note="class means, decoded", slots=13)

    c1, c2, c3 = st.columns(3)
    share.take("from", f"ex_from_{index}", int, allowed=present)  # a shared link's class pair and distance
    from_class = c1.selectbox("From class A", present, index=present.index(label) if label in present else 0,
                              format_func=class_name, key=f"ex_from_{index}")
    to_default = present[(present.index(from_class) + 1) % len(present)]
    share.take("to", f"ex_to_{index}_{from_class}", int, allowed=present)
    share.take("amount", "ex_amount", float, bounds=(0.25, 2.0))
    to_class = c2.selectbox("To class B", present, index=present.index(to_default), format_func=class_name,
                            key=f"ex_to_{index}_{from_class}")
    amount = c3.slider("How far", 0.25, 2.0, 1.0, 0.25, key="ex_amount",
                       help="1 moves by the whole difference between the two class means; more overshoots.")
    if from_class != label:  # the arrow is added whatever the start is: say that this start is no A
        # (no class names in this markdown: a folder dataset's class names are outside text)
        st.info("The chosen image is not of class A: the walk still adds (mean code of B - mean code of A) to its "
                "code, so it starts from another class, not from an A. For a walk from an A, set class A to the "
                "chosen image's class (under its picture, top right), or choose a test image of class A.",
                icon=":material/info:")
    walk = attribute_walk(reducer, code, means[from_class], means[to_class], steps=7, amount=amount)
    pca_walk = attribute_walk(pca, pca_code, pca_means[from_class], pca_means[to_class], steps=7, amount=amount)

    try:
        model_onnx = resources.decoder_onnx(sel.config, sel.data_dir, entry.ref)
        pca_onnx = resources.decoder_onnx(sel.config, sel.data_dir, pca_ref)
    except Exception:  # no exporter here: the server strips below show the same walk
        model_onnx = pca_onnx = None
    if model_onnx is not None:
        result = live.interpolation_scrubber(
            f"ex_scrub_{entry.name}_{index}_{from_class}_{to_class}_{amount}", model_onnx,
            resources.browser_id(sel.config, entry.ref), dataset.image_shape, walk.codes[0], walk.codes[-1],
            label=f"{entry.method}: {class_name(from_class)} -> {class_name(to_class)}", t=0.0,
            side=live.side_between(pca_onnx, resources.browser_id(sel.config, pca_ref), pca_walk.codes[0],
                                   pca_walk.codes[-1], label="PCA, the same move"))
        if result.ok:
            st.caption("Drag t from 0 (the chosen image) to 1 (moved by the whole attribute vector): both decoders "
                       "draw every step in your browser. Below, the same walk in fixed steps.")
        else:
            st.caption("Your browser could not run the decoder itself, so the walk is drawn by the server below.")
    steps = [f"t = {t:.2f}" for t in walk.t]
    captioned_row(entry.method, walk.images, steps, note=f"{class_name(from_class)} -> {class_name(to_class)}", slots=13)
    captioned_row(pca.method, pca_walk.images, steps, note="the same move in PCA's code", slots=13)

    st.subheader("Latent arithmetic: a - b + c")
    what("encode three images, compute code(a) - code(b) + code(c), decode the result. With a and b of the same "
         "class, a - b keeps what differs between them (slant, thickness...), and adding c asks for c drawn that way.")
    same_class = [int(i) for i in np.flatnonzero(test.labels == label) if i != index]
    other = np.flatnonzero(test.labels == to_class)
    a1, a2, a3 = st.columns(3)
    for name, key in (("a", f"ex_a_{index}"), ("b", f"ex_b_{index}"), ("c", f"ex_c_{index}_{to_class}")):
        share.take(name, key, int, bounds=(0, n_test - 1))
    a = int(a1.number_input("a (test image #)", 0, n_test - 1, index, key=f"ex_a_{index}"))
    b = int(a2.number_input("b (test image #)", 0, n_test - 1, same_class[0] if same_class else index, key=f"ex_b_{index}"))
    c = int(a3.number_input("c (test image #)", 0, n_test - 1, int(other[0]) if len(other) else index,
                            key=f"ex_c_{index}_{to_class}"))
    share.keep(**{"from": int(from_class), "to": int(to_class), "amount": float(amount), "a": a, "b": b, "c": c})
    trio = test.images[[a, b, c]]
    captions = [f"a: #{a}", f"b: #{b}", f"c: #{c}", "a - b + c"]
    captioned_row(entry.method, analogy(reducer, trio).images, captions, size=96, note="a, b, c rebuilt, then the sum", slots=8)
    captioned_row(pca.method, analogy(pca, trio).images, captions, size=96, note="the same arithmetic in PCA's code", slots=8)

# --- 3. traversal grid ----------------------------------------------------------------------------
st.header("3. Traversal grid", divider="gray")
by_dimension = entry.latent_dim <= MAX_TRAVERSAL_DIMS
rows_are = "one number of the code" if by_dimension else "one principal direction of the training codes"
what(f"each row moves {rows_are} from the low to the high end of the range the training images use (1st to 99th "
     "percentile) and keeps everything else at the chosen image's code, so the middle column is the chosen image "
     "rebuilt. A number that changes one thing (stroke width, slant, a part of the shape) is easy to read; one that "
     "changes everything at once is 'entangled'.")
cols = st.select_slider("Values per row", [5, 7, 9, 11], 9, key="ex_cols")
grid = resources.traversal(sel.config, sel.data_dir, entry.ref, index, cols)
pca_grid = resources.traversal(sel.config, sel.data_dir, pca_ref, index, cols)
model_tab, pca_tab = st.tabs([entry.method, pca.method])
for tab, result in ((model_tab, grid), (pca_tab, pca_grid)):
    with tab:
        rows, n_cols = result.shape
        for r in range(rows):
            values = result.values[r]
            ui.image_row(result.row_labels[r], result.images[r * n_cols:(r + 1) * n_cols], cell=56,
                         note=f"{values[0]:.2f} .. {values[-1]:.2f}")
        st.caption(f"Middle column (number {result.centre + 1}): the chosen image's own code. "
                   + (("Rows are PCA's code numbers, its principal components: PC1 is the pattern along which the "
                       "training images vary most." if principal_components(pca) and result is pca_grid else
                       "Rows are code numbers.") if result.by_dimension else
                      f"This code has {entry.latent_dim} numbers, so rows follow the directions along which the "
                      "training codes vary most; the values are positions along each, measured from the mean code."))

# --- 4. what the basis looks like ------------------------------------------------------------------------
st.header("4. What the basis looks like", divider="gray")
what("PCA rebuilds every image as the mean image plus its code numbers times fixed patterns, its components "
     "(\"eigen-images\"), shown here with the share of the pixel variance each explains. Below them, what the "
     "decoder adds to the mean code's image for a move of 1 along each code number (for long codes, along the main "
     "directions of the codes). Grey means no change, light means brighter, dark means darker; each picture is "
     "scaled to its own strongest change" + (", one scale for all three channels, so a hue says which colours "
                                             "rise (red: more red; cyan: less red)." if dataset.image_shape[0] == 3 else "."))
components, ratio = eigen_images(pca)
moves = resources.unit_move_images(sel.config, sel.data_dir, entry.ref)
shown = min(len(components), 16)
slots = 1 + max(shown, len(moves.deltas))
captioned_row(pca.method, np.concatenate([pca.mean_.reshape(1, *dataset.image_shape), centred_on_grey(components[:shown])]),
              ["mean image"] + [f"PC{i + 1}  \n{ratio[i]:.1%}" for i in range(shown)], slots=slots,
              note=f"the mean image, then its {len(components)} components (together {ratio.sum():.0%} of the variance)")
along = "code number" if moves.labels[0].startswith("code") else "principal direction of the codes"
captioned_row(entry.method, np.concatenate([moves.base_image[None], centred_on_grey(moves.deltas)]),
              ["mean code"] + [f"{name}  \n±{strength:.2f}" for name, strength in zip(moves.labels, moves.strength)],
              slots=slots, note=f"the mean code decoded, then a move of {moves.step:g} along each {along}")
st.caption("Under each autoencoder picture: the largest change of a pixel's brightness (0 to 1"
           + (", in any of its three colour channels" if dataset.image_shape[0] == 3 else "") + "). A move of 1 is "
           "small for a code whose numbers span tens and large for one whose numbers span one: compare the "
           "patterns, not their strength. For PCA a move of 1 adds exactly one component.")
