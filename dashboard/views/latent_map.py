"""Latent map: the chosen model's 2-D map beside the same view of PCA's code at the same size (or PCA-2
of the pixels); click a point or empty space.

Every test image is drawn by default (10,000 on MNIST), and "all (train + test)" places the training
images too (70,000): WebGL scatters, chosen by measurement (bench/map_scale.py). A code longer than 2
numbers is drawn by t-SNE of every test image (openTSNE, bench/projection.py), computed once per model
and kept on disk. The scores run on seeded subsamples whatever is drawn; UMAP keeps a cap.
"""

import functools
import hashlib

import numpy as np
import streamlit as st

from core.analysis import coordinates_table, decode_code, decode_pixel_map, map_grid, umap_available
from core.analysis.embedding import DEFAULT_MAP_POINTS, TSNE_MAX_POINTS, scored_points
from core.analysis.embedding3d import UMAP_INSTALL
from core.analysis.selection import Region, selection_table
from core.store.records import ModelRef
from core.store.zoo import first_choice_record
from core.words import a_or_an
from dashboard import figures, live, presenter, resources, share, ui
from dashboard.text import md

EXPLAINER = (
    "Every dot is one **test image** (with **Points** at *all, train + test*, the training images join them as "
    "smaller, paler dots), placed by its code and coloured by its class. On the left, PCA "
    "keeps the two pixel directions with most variation; on the right, the model's own code (when it "
    "has 2 numbers) or a 2-D view of it. If the colours form separate islands, the code has learned "
    "what tells the classes apart without ever being told the labels.\n\n"
    "**k-NN accuracy**: how often a dot's nearest neighbours on the map share its class. "
    "**Trustworthiness**: how well neighbours on the map were also neighbours in the original pixels "
    "(1 = perfectly). **Click a dot** to see its image and how the model rebuilds it. "
    "**Move the pointer** over a 2-D code's map and the decoder draws the code under it, in your browser; "
    "**click the faint grey grid** in empty space to decode a code that no image has on the server and take it to "
    "the playground. **Zoom in** (scroll) until few dots are in view and each dot becomes its image. "
    "**Select a region** with the box or lasso tool (top right of a map): its images, their "
    "classes, the mean code decoded by the model beside PCA's, and a CSV; the region goes into the view's link.\n\n"
    "**Silhouette** (from -1 to 1): how well the classes form separate, tight islands on the map. Near 1, "
    "each dot is much closer to its own class than to the next class; near 0, the islands touch; below "
    "0, they overlap.\n\n"
    "**3-D view**: the same test images placed by three numbers instead of two (PCA-3 of the pixels beside PCA-3 "
    "of the model's code); drag to turn the cloud. Classes that overlap on a flat map often pull apart in 3-D. "
    "**UMAP** (when installed) is another way to flatten a long code, like t-SNE but able to place new points."
)


def score_help(n_points: int) -> dict[str, str]:
    """The metrics' help, with the number of test images each is really measured on (a map of
    ``n_points`` test images: digits has 360, fewer than the caps of the quadratic scores)."""
    counts = scored_points(n_points)

    def measured(score: str) -> str:
        n = counts[score]
        return f"all {n:,} test images on the map" if n == n_points else f"{n:,} seeded test images of the {n_points:,} on the map"

    return {
        "knn": "Share of test dots whose 5 nearest training dots on the map mostly share their class (1 = always), "
               f"measured on {measured('knn_accuracy')}. The same training images fit it however many dots are drawn.",
        "trust": "1 means every dot's neighbours on the map were also its neighbours in the original pixels. "
                 f"Measured on {measured('trustworthiness')} (it compares every pair).",
        "silhouette": "-1 to 1: how far apart and tight the class islands are (1: separate, 0: touching, <0: mixed). "
                      f"Measured on {measured('silhouette')}.",
    }


DEFAULT_POINTS = DEFAULT_MAP_POINTS  # every test image of MNIST-size data; a seeded sample of bigger test sets
MAX_ALL_POINTS = 100_000  # "train + test" offered up to this many: 70,000 WebGL points open in ~4 s and hover in
# ~40 ms in headless Chromium (bench/map_scale.py); the figure grows by ~19 KB per 1,000 points
MAX_SELECTION_SHOWN = 96  # images of a selection drawn in its grid (all of them go into the CSV)
page = ui.page("Latent map", EXPLAINER, models=ui.every_model)
dataset, sel, entries = page.dataset, page.selection, page.models

projections = ["auto", "pca", "tsne"] + (["umap"] if umap_available() else [])
share.view(page, model="map_model", projection="map_projection", view="map_3d", choices={"projection": projections})
two_d = [e for e in entries if e.latent_dim == 2]
ordered = two_d + [e for e in entries if e.latent_dim != 2]
if "map_model" not in st.session_state:  # first visit: the zoo's 2-D conv model, not the newest 2-D model
    st.session_state["map_model"] = first_choice_record(resources.zoo(dataset), ordered).name
if presenter.is_on():  # on a projector the maps belong on the first screen: the settings fold away (each
    # map's title names the model)
    with st.expander("The model, and the map's settings: 2-D view, points, colour, 3-D"):
        c1 = st.container()
        c2, c3, c4 = st.columns([1, 1.5, 0.9], vertical_alignment="bottom")
        settings = st.container()
else:
    c1, c2, c3, c4 = st.columns([2.6, 1, 1.5, 0.9], vertical_alignment="bottom")
    settings = st.container()
with c1:
    entry, reducer = ui.pick_model("Model", ordered, key="map_model")
projection = c2.selectbox("2-D view of the code", projections, key="map_projection",
                          disabled=entry.latent_dim == 2,
                          help="auto: the code itself for 2-D models, else t-SNE of every test image's code (computed "
                               "once per model, then kept on disk); PCA of the codes is quick but mixes classes; UMAP "
                               "is slower"
                               + ("" if "umap" in projections else f". UMAP is an optional extra: `{UMAP_INSTALL}`"))
three_d = c4.toggle("3-D view", key="map_3d", help="PCA-3 of the pixels and of the model's code, as 3-D clouds")
# the fair picture: the same view of PCA's code at the same size; PCA-2 of the pixels as the other choice
BESIDE = {"pca": f"PCA's code (d={entry.latent_dim}), same view", "pixels": "PCA-2 of the pixels"}
beside = (settings.segmented_control("Beside it", list(BESIDE), format_func=BESIDE.get, default="pca", key="map_beside",
                               help="The same 2-D view of PCA's code at the same size compares code with code; PCA-2 "
                                    "of the pixels is two numbers' worth of PCA") or "pca") if entry.latent_dim > 2 else "pixels"
COLOURINGS = {"class": "class", "model": f"error of {entry.method}", "pca": f"error of PCA (d={entry.latent_dim})"}
share.take("colour", "map_colour", allowed=list(COLOURINGS))
colouring = settings.segmented_control("Colour the test images by", list(COLOURINGS), format_func=COLOURINGS.get,
                                  default="class", key="map_colour",
                                  help="Their class, or how badly a method rebuilds each one (mean squared error per "
                                       "value; the model and PCA share one colour scale, its top at the 99th "
                                       "percentile): the hard images stand out, on both maps") or "class"
share.keep(colour=None if colouring == "class" else colouring)
n_test, n_train = len(dataset.test), len(dataset.train)
everything = n_test + n_train  # the choice that places the training images too
point_choices = [n for n in (1000, 2000, 5000, DEFAULT_POINTS) if n < n_test] + [n_test]  # never more than there are
if everything <= MAX_ALL_POINTS:
    point_choices.append(everything)
if st.session_state.get("map_points") not in point_choices:
    st.session_state["map_points"] = min(n_test, DEFAULT_POINTS)


def points_label(n: int) -> str:
    return f"all {n:,} (train + test)" if n == everything else f"all {n:,} test" if n == n_test else f"{n:,} test"


if len(point_choices) > 1:
    chosen = c3.select_slider("Points", point_choices, key="map_points", format_func=points_label,
                              help="How many images to place: a seeded sample of the test images, all of them, or every "
                                   "training image too (smaller, paler dots). The scores do not change with it: they "
                                   "use the same seeded images whatever is drawn.")
else:  # nothing to choose
    chosen = point_choices[0]
    c3.metric("Points", points_label(chosen))
all_train = chosen == everything
max_points = min(chosen, n_test)
# UMAP's training keeps a cap; t-SNE is fitted on the test images and places the training images onto them
capped = projection == "umap" and entry.latent_dim > 2
left_emb, left_scores = resources.pixel_map(sel.config, sel.data_dir, max_points, all_train=all_train)


def code_map(ref: ModelRef):
    """(Embedding, scores) of a model's codes by the chosen view (kept on disk; t-SNE by default)."""
    if capped:
        return resources.model_map_nd(sel.config, sel.data_dir, ref, "umap", 2, max_points)
    return resources.model_map(sel.config, sel.data_dir, ref, "auto" if projection == "umap" else projection, max_points,
                               all_train=all_train)


right_emb, right_scores = code_map(entry.ref)
# the fair comparison: PCA's code at the same size, by the same view (a 2-D code: PCA-2 of the pixels itself)
beside_emb, beside_scores = (left_emb, left_scores) if beside == "pixels" else code_map(ModelRef.baseline(entry.latent_dim))
if right_emb.projection == "tsne":
    st.caption(f":material/info: t-SNE of every test image's code (openTSNE), computed once per model and kept on disk "
               f"({right_emb.seconds:.0f} s for this one"
               + (f", {beside_emb.seconds:.0f} s for PCA's code beside it" if beside_emb.projection == "tsne" else "")
               + "); training images are placed onto the finished map, so adding "
               f"them moves no test image. It places at most {TSNE_MAX_POINTS:,} images"
               + (f": a seeded sample of {len(right_emb.test_index):,} test images is shown." if max_points > TSNE_MAX_POINTS
                  else "."))
if entry.latent_dim > 2:
    st.caption(f":material/lightbulb: A 2-D view of {a_or_an(entry.latent_dim)} {entry.latent_dim}-number code can show who "
               "is next to whom (each image's nearest neighbours, which classes form islands); it cannot show distances: "
               "the gaps between islands, their sizes and where they sit are not measurements of the code.")
LEFT_NAME = "pixel-PCA" if beside == "pixels" else f"PCA-code (d={entry.latent_dim})"  # the left map, in the notes
if capped and all_train:
    st.caption(":material/info: The UMAP map places the test images only (placing 60,000 more takes minutes); "
               "PCA draws everything.")
if "umap" not in projections and not presenter.is_on():  # an install hint is for the teacher, not the room
    st.caption(f"UMAP maps are an optional extra: `{UMAP_INSTALL}` on the server (about 210 MB with numba) adds them.")
code_space = right_emb.projection == "code" and entry.latent_dim == 2


def map_figure(name: str, emb, title: str, axes: tuple[str, str], clickable_space: bool, inside=None):
    """The map with the training images when they are placed (all_train), else test images only;
    ``inside`` (N,) marks the test points of a selected region; ``name`` ('pixels' or 'model') is the
    name the lens finds it by."""
    train = all_train and len(emb.train_index) == n_train
    values = scale = None
    if colouring != "class":  # one scale for the model and PCA, so switching between them compares them
        errors = {name: resources.test_errors(sel.config, sel.data_dir, ref) for name, ref in
                  (("model", entry.ref), ("pca", ModelRef.baseline(entry.latent_dim)))}
        values = errors[colouring][emb.test_index]
        scale = (min(float(e.min()) for e in errors.values()), max(float(np.percentile(e, 99)) for e in errors.values()))
    return figures.latent_map(emb.test_xy, emb.test_labels, dataset.class_names, emb.test_index, title, region=inside,
                              values=values, values_title=f"MSE, {COLOURINGS[colouring].removeprefix('error of ')}",
                              values_range=scale,
                              grid=map_grid(emb) if clickable_space else None, axis_titles=axes,
                              train_xy=emb.train_xy if train else None, train_labels=emb.train_labels if train else None,
                              train_index=emb.train_index if train else None, lens=name)


def drawn_map(name: str, emb, title: str, axes: tuple[str, str], clickable_space: bool, inside=None):
    """:func:`map_figure`, built once per server process and shared by every session (a whole room sees the
    same map), unless a region is selected. The key holds everything the figure is drawn from: the points
    themselves (a digest: about 1 ms for 70,000), the model (its errors may colour both maps), the
    colouring, whether training points are drawn, and the titles."""
    if inside is not None:
        return map_figure(name, emb, title, axes, clickable_space, inside)
    digest = hashlib.blake2b(digest_size=16)
    for array in (emb.test_xy, emb.test_labels, emb.test_index, emb.train_xy, emb.train_labels, emb.train_index):
        digest.update(np.ascontiguousarray(array).tobytes())
    key = ("latent_map", name, digest.hexdigest(), sel.config, entry.ref, colouring, all_train, n_train, title, axes,
           clickable_space)
    return resources.shared_figure(key, lambda: map_figure(name, emb, title, axes, clickable_space))


@st.fragment
def maps():
    cols = st.columns(2)
    events = {}
    specs = [("pixels", left_emb, left_scores, "PCA-2 of the pixels", ("PC 1", "PC 2"), True) if beside == "pixels" else
             ("pixels", beside_emb, beside_scores, f"PCA (d={entry.latent_dim}): {beside_emb.projection} map",
              (f"{beside_emb.projection} 1", f"{beside_emb.projection} 2"), False),
             ("model", right_emb, right_scores, f"{entry.label}: {right_emb.projection} map",
              ("code 1", "code 2") if code_space else (f"{right_emb.projection} 1", f"{right_emb.projection} 2"), code_space)]
    for col, (name, emb, scores, title, axes, clickable_space) in zip(cols, specs):
        with col:
            if not presenter.is_on():  # on a projector the scores go under the map (the map first)
                scores_row(scores, len(emb.test_index))
            region = st.session_state.get("map_region")
            inside = region[1].contains(emb.test_xy) if region and region[0] == name else None
            events[name] = st.plotly_chart(drawn_map(name, emb, title, axes, clickable_space, inside),
                                           key=f"map_{name}_{entry.name}_{projection}_{chosen}_{beside}",
                                           on_select="rerun", selection_mode=("points", "box", "lasso"),
                                           config={"scrollZoom": True})
            if presenter.is_on():
                scores_row(scores, len(emb.test_index))
    lens()
    if not code_space:
        st.caption("Empty-space decoding needs a model with a 2-D code (the right map is a projection of a "
                   f"{entry.latent_dim}-D code, so a spot on it is not one code)."
                   + (" The left map is PCA's own 2-D code: click its grid." if beside == "pixels" else
                      " Show PCA-2 of the pixels beside it to decode PCA's own 2-D code there."))

    take_region(events)
    # one selection at a time: the map clicked last wins, and only its last point (a box or lasso is a region)
    picked = {name: (event.selection.points[-1] if event and event.selection and event.selection.points
                     and Region.from_plotly(event.selection) is None else None)
              for name, event in events.items()}
    changed = [name for name, point in picked.items() if point and point != st.session_state.get(f"map_last_{name}")]
    for name, point in picked.items():
        st.session_state[f"map_last_{name}"] = point
    if changed:
        st.session_state["map_current"] = changed[-1]
    current = st.session_state.get("map_current")
    for name, point in picked.items():
        if point is None or name != current:
            continue
        image = figures.map_point(point)  # ('test' or 'training', row), None for empty space
        x, y = float(point["x"]), float(point["y"])
        st.divider()
        a, b, c = st.columns([1, 1, 2])
        if image is not None:
            split, i = image
            part = dataset.test if split == "test" else dataset.train
            original = part.images[i:i + 1]
            label = dataset.class_names[part.labels[i]]
            with a:
                ui.image(original[0], f"{split} image #{i} (class {label})")
            if name == "model":
                code = reducer.encode(original)[0]
                with b:
                    ui.image(reducer.reconstruct(original)[0], f"rebuilt by {entry.method}")
            elif beside == "pixels":
                code = None
                with b:
                    ui.image(decode_pixel_map(left_emb, x, y, dataset.image_shape), "rebuilt by PCA-2")
            else:  # the same view of PCA's code: PCA rebuilds the image from its d numbers
                code = None
                pca = resources.reducer(sel.config, sel.data_dir, ModelRef.baseline(entry.latent_dim))
                with b:
                    ui.image(pca.reconstruct(original)[0], f"rebuilt by PCA (d={entry.latent_dim})")
            source = f"{split} image #{i}"
        else:
            code = np.array([x, y], np.float32) if name == "model" else None
            with a:
                if name == "model":
                    ui.image(decode_code(reducer, code)[0], f"decoded at ({x:.2f}, {y:.2f})")
                else:
                    ui.image(decode_pixel_map(left_emb, x, y, dataset.image_shape), f"PCA decode at ({x:.2f}, {y:.2f})")
            b.markdown("No image lives here: this is what the decoder makes of this spot.")
            source = f"map location ({x:.2f}, {y:.2f})"
        with c:
            st.markdown(f"**Selected on the {LEFT_NAME if name == 'pixels' else 'model'} map:** {source}")
            if code is not None:
                st.code("code = [" + ", ".join(f"{v:.3f}" for v in code) + "]", language=None)
                if st.button("Open this code in the decoder playground", key=f"send_{name}", icon=":material/tune:"):
                    share.send_code(entry.name, code, source)
                    st.switch_page("views/playground.py")
    for name, emb in (("pixels", beside_emb), ("model", right_emb)):
        selection_panel(name, emb)


def lens() -> None:
    """The images of the dots when zoomed in (both maps), and, over a 2-D code plane, the code under the
    pointer decoded in the browser (replacing a separate pad; a click on the map still picks a code)."""
    decoder = None
    if code_space:
        try:
            decoder = (resources.decoder_onnx(sel.config, sel.data_dir, entry.ref),
                       resources.browser_id(sel.config, entry.ref))
        except Exception:  # noqa: BLE001 - the map's grid still decodes on the server
            decoder = None
    result = live.map_lens(f"map_lens_{entry.name}", ["pixels", "model"], sel.config.key(),
                           {0: dataset.test.images, 1: dataset.train.images}, decoder=decoder,
                           decode_chart="model" if decoder else None, label=f"{entry.method}, under the pointer")
    if decoder is not None and not result.ok:
        st.caption("Your browser could not run the decoder itself: click the map's faint grid to decode a spot.")


def take_region(events) -> None:
    """The region drawn last (a box or a lasso on either map) becomes the selection; a plain click clears
    it. A link's region (``region=<map>:<box|lasso>:<x,y,...>``) is taken up by :func:`read_link_region`."""
    state = st.session_state
    for name, event in events.items():
        selection = event.selection if event else None
        region = Region.from_plotly(selection) if selection else None
        previous = state.get(f"map_last_region_{name}")
        text = region.to_text() if region else None
        if text != previous:
            state[f"map_last_region_{name}"] = text
            if region is not None:
                state["map_region"] = (name, region)
            elif selection and selection.points:
                state.pop("map_region", None)
    region = state.get("map_region")
    share.keep(region=f"{region[0]}:{region[1].to_text()}" if region else None)
    published = share.current().get("region")
    if state.get("_map_region_published") != published:
        # the maps are a fragment: its reruns never reach the end of the page, where the link is written
        state["_map_region_published"] = published
        share.publish()


def read_link_region() -> None:
    """A link's ``region`` into the session (checked: a known map, a box or a lasso of finite numbers)."""
    state = st.session_state
    text = (state.get("_share_link") or {}).get("region")
    if text is None:
        return
    name, _, shape = text.partition(":")
    try:
        if name not in ("pixels", "model"):
            raise ValueError(name)
        state["map_region"] = (name, Region.from_text(shape))
    except ValueError:
        st.info(f"The link's region **{md(text)}** is not a box or a lasso on one of the maps: nothing is selected.",
                icon=":material/link:")


def selection_panel(name: str, emb) -> None:
    """What a box or lasso holds: the images, their classes, the mean code decoded by the model beside
    PCA's mean decoded, and a CSV of the selection."""
    region = st.session_state.get("map_region")
    if not region or region[0] != name:
        return
    inside = region[1].contains(emb.test_xy)
    rows = emb.test_index[inside]
    st.divider()
    where = LEFT_NAME if name == "pixels" else "model"
    if not len(rows):
        st.info(f"The {region[1].kind} on the {where} map holds no test image: draw another one.")
        return
    images = dataset.test.images[rows]
    labels = dataset.test.labels[rows]
    st.markdown(f"**Selected on the {where} map:** {len(rows):,} test images (a {region[1].kind})")
    left, right = st.columns([3, 2])
    with left:
        shown = images[:MAX_SELECTION_SHOWN]
        ui.picture(figures.mosaic(shown, ncols=12, cell=40), caption=f"{len(shown)} of the {len(rows):,} selected images"
                   if len(rows) > len(shown) else "every selected image")
    with right:
        st.plotly_chart(figures.class_counts(labels, dataset.class_names, "classes in the selection"), key=f"map_sel_bar_{name}")
    pca = resources.reducer(sel.config, sel.data_dir, ModelRef.baseline(entry.latent_dim))
    codes, pca_codes = reducer.encode(images), pca.encode(images)
    a, b, _ = st.columns([1, 1, 2])
    with a:
        ui.image(decode_code(reducer, codes.mean(axis=0))[0], f"the mean code, decoded by {entry.method}")
    with b:
        ui.image(decode_code(pca, pca_codes.mean(axis=0))[0], f"PCA's mean code (d={entry.latent_dim}), decoded")
    table = selection_table(rows, labels, dataset.class_names, emb.test_xy[inside], codes)
    ui.csv_download("Download the selection (CSV)", table, f"latent_map_selection_{name}.csv", key=f"map_sel_csv_{name}")


def scores_row(scores, n_points: int) -> None:
    """The three scores of a map of ``n_points`` test images, each saying what it is measured on."""
    helps = score_help(n_points)
    m1, m2, m3 = st.columns(3)
    m1.metric("k-NN accuracy", f"{scores['knn_accuracy']:.2f}", help=helps["knn"])
    m2.metric("Trustworthiness", f"{scores['trustworthiness']:.3f}", help=helps["trust"])
    m3.metric("Silhouette", f"{scores.get('silhouette', float('nan')):.2f}", help=helps["silhouette"])


def maps3d():
    """PCA-3 of the pixels beside PCA-3 (or UMAP-3) of the model's codes; hover names the test image."""
    st.caption(":material/help: **What am I looking at?** Each dot is a test image placed by three numbers; "
               "drag to turn the cloud, scroll to zoom, hover for the test image number. Scores are measured in 3-D."
               + (" The 3-D view shows the test images only." if all_train else ""))
    method = "umap" if projection == "umap" else "pca"
    left, right = st.columns(2)
    with left:
        emb, scores = resources.pixel_map(sel.config, sel.data_dir, max_points, n_components=3)
        scores_row(scores, len(emb.test_index))
        st.plotly_chart(figures.latent_map3d(emb.test_xy, emb.test_labels, dataset.class_names, emb.test_index,
                                             "PCA-3 of the pixels", ("PC 1", "PC 2", "PC 3")), key=f"map3d_pixels_{max_points}")
    with right:
        if entry.latent_dim < 3:
            st.info(f"**{md(entry.label)}** has {a_or_an(entry.latent_dim)} {entry.latent_dim}-number code: there is no third axis to show. "
                    "Pick a model with 3 or more numbers, or turn the 3-D view off for its own map.")
            return
        emb, scores = resources.model_map_nd(sel.config, sel.data_dir, entry.ref, method, 3, max_points)
        scores_row(scores, len(emb.test_index))
        name = "code" if entry.latent_dim == 3 else method.upper()
        st.plotly_chart(figures.latent_map3d(emb.test_xy, emb.test_labels, dataset.class_names, emb.test_index,
                                             f"{entry.label}: {'its 3-D code' if name == 'code' else name + '-3 of the code'}",
                                             tuple(f"{name} {i}" for i in (1, 2, 3))),
                        key=f"map3d_model_{entry.name}_{method}_{max_points}")


read_link_region()
if three_d:
    maps3d()
else:
    maps()

ui.csv_download("Download the coordinates (CSV)", functools.partial(coordinates_table, left_emb, right_emb, dataset),
                f"latent_map_{entry.family}_d{entry.latent_dim}.csv", key="map_csv")
