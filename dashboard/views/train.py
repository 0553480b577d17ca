"""Train: a form for one model, live progress and loss curves, its architecture, and the cache."""

import streamlit as st

from core.analysis.error_curve import SSIM_IMAGES
from core.config import MAX_SHIFT, ConfigError, NoiseConfig
from core.errors import CheckpointError
from core.models.methods import AUTOENCODERS, METHODS, default_model_config, objective_label
from core.store.records import unique_labels
from core.store.zoo import first_choice
from dashboard import elements, figures, resources, ui
from dashboard.text import md

EXPLAINER = (
    "Pick a **model family** (the shape of the networks), the **latent size** (how many numbers the code "
    "has) and how to train it. Training shows the loss on the training images and on held-out "
    "**validation** images after every pass over the data (an *epoch*): when the validation curve stops "
    "falling, more training does not help. A **denoising** model sees noisy inputs but must output the "
    "clean image. The **architecture** table lists every layer with the shape of what it outputs "
    "(N = number of images) and its number of learned parameters. Finished models are saved in the cache "
    "and appear on every page."
)
dataset = ui.page("Train a model", EXPLAINER).dataset
n_train = len(dataset.train)
large = n_train > 5000

# no st.form: its widgets do not rerun the page, so the noise level could not hide while the noise is 'none'
# (and the architecture below would show the last submitted settings, not the ones on screen)
with st.container(border=True):
    left, right = st.columns(2)
    family = left.selectbox("Model family", AUTOENCODERS, index=AUTOENCODERS.index(first_choice().family), key="tr_family",
                            help="; ".join(f"**{f}**: {METHODS[f].description}" for f in AUTOENCODERS))
    # the defaults below follow the family and the image size (the conv family's peak rate at 17-32 px)
    defaults = resources.default_train_config(n_train, dataset.image_shape, family)
    latent = left.number_input("Latent size (numbers in the code)", 1, 256, 2, key="tr_latent")
    loss = left.radio("Loss", ["default", "mse", "bce"], horizontal=True, key="tr_loss",
                      help="default: binary cross-entropy on the logits for every family with a sigmoid output, "
                           "mean squared error for linear (which has none)")
    noise_kind = left.selectbox("Denoising noise", ["none", "gaussian", "salt_pepper", "masking"], key="tr_noise",
                                help="Train on corrupted inputs against clean targets")
    noise_level = 0.0 if noise_kind == "none" else left.slider(
        "Noise level", 0.0, 1.0, 0.3, 0.05, key="tr_noise_level",
        help="gaussian: standard deviation; salt_pepper / masking: share of pixels")
    # more images from the same folder (core.data.mirror, core.data.shift): one widget per dataset and family,
    # as their defaults differ by both
    mirror = left.checkbox("Add mirror images", defaults.mirror, key=f"tr_mirror_{dataset.name}_{family}",
                          help="Also train on each image mirrored left to right: twice the images to learn from (a "
                               "mirrored photo is another plausible photo). On by default for the conv family on images "
                               "larger than 32 px and on colour images of 17-32 px; leave it off for digits and letters, "
                               "whose mirror images are other shapes.")
    shift = left.number_input("Random shifts (pixels)", 0, MAX_SHIFT, defaults.shift, key=f"tr_shift_{dataset.name}_{family}",
                              help="Also train on each image moved by up to this many pixels each way, its edges reflected: "
                                   "many more images to learn from. 4 by default for the conv family on images larger than "
                                   "32 px, 2 on colour images of 17-32 px; 0 turns it off.")
    length = right.radio("Train for", ["epochs", "time budget"], horizontal=True, key=f"tr_length_{dataset.name}",
                         index=1 if large else 0)
    epochs = right.number_input("Epochs", 1, 500, defaults.epochs, key=f"tr_epochs_{dataset.name}")
    budget = right.number_input("Time budget (seconds)", 5, 3600, 60, step=5, key="tr_budget")
    batch = right.select_slider("Batch size", [16, 32, 64, 128, 256, 512], value=defaults.batch_size, key="tr_batch")
    # one widget per dataset and family: a widget keeps its value when its default changes, and the default
    # peak rate differs by both (moving from digits to 64 px images, or from dense to conv on MNIST, must not
    # carry 5e-3 over to a model that needs 2e-3)
    lr = right.number_input("Learning rate", 1e-5, 0.5, defaults.lr, step=5e-4, format="%.4f", key=f"tr_lr_{dataset.name}_{family}")
    retrain = right.checkbox("Train again, even if cached", key="tr_retrain",
                             help="Train this exact model again although a checkpoint of it is cached; the new one replaces it.")
    forbidden = ui.refused("train")
    submitted = st.button("Train", type="primary", disabled=forbidden, key="tr_train")


def configs_from_form():
    model = default_model_config(family, int(latent), dataset.image_shape, loss=None if loss == "default" else loss)
    noise = None if noise_kind == "none" else NoiseConfig(noise_kind, float(noise_level))
    train = resources.default_train_config(
        n_train, dataset.image_shape, family, epochs=int(epochs), batch_size=int(batch), lr=float(lr), noise=noise,
        time_budget=float(budget) if length == "time budget" else None, mirror=bool(mirror),
        shift=int(shift))
    return model, train


try:
    model_config, train_config = configs_from_form()
except ConfigError as exc:
    st.error(f"These settings do not make a valid model: {md(exc)}")
    st.stop()

if submitted and not forbidden:
    job = resources.submit_training(dataset, model_config, train_config, retrain=retrain)
    st.session_state["tr_job"] = job.name


def training_progress() -> None:
    """The job this page started: progress and live curves while it trains (also after leaving the
    page and coming back), then what came of it."""
    job = resources.jobs().get(st.session_state.get("tr_job", ""))
    if job is None:
        return
    name = objective_label(job.model)
    if job.active:
        st.progress(job.progress, text=f"**{md(job.label)}** ({job.state}): {md(job.message)}")
        st.caption("It trains in the background: you may open other pages, progress stays in the sidebar.")
        if job.history:
            st.plotly_chart(figures.loss_curve(job.history, loss_name=name), key=f"live_{job.name}_{len(job.history)}")
        forming = job.moments_so_far()
        if forming is not None:  # the model forming: each moment as it is kept (a second's delay)
            st.caption(f"**Watch it learn, live:** {len(forming.steps)} moments kept so far (the newest shown; more "
                       "come sooner at the start: they are spaced on a log scale of steps). Drag the bar to go back.")
            elements.moments_player(f"tr_live_{job.name}", ui.selection(), forming, job.model.family,
                                    job.model.latent_dim)
    elif job.state == "done":
        try:
            record = resources.store().record(job.name)
        except CheckpointError:  # deleted (or broken) since it was trained
            st.info(f"**{md(job.label)}** was trained, and is no longer in the cache.")
            return
        verb = "Loaded from the cache (this exact model was trained before)" if job.cached else "Trained and cached"
        st.success(f"{verb}: **{md(record.label)}**, test MSE {record.metric('test_mse'):.5f}, "
                   f"PSNR {record.metric('test_psnr'):.1f} dB, SSIM {record.metric('test_ssim'):.3f} "
                   f"(on all {len(dataset.test):,} test images), "
                   + (f"{record.step_seconds:.1f} s of training steps, " if record.step_seconds else "")
                   + f"{record.train_seconds:.1f} s in all (setup, validation and the kept moments included).")
        if not record.reproducible:
            st.caption("Trained to a time budget: the steps it buys depend on the machine and its load, so training "
                       "again with this budget gives another model (labelled with its own step count).")
        if record.collapsed:
            st.warning(record.collapse_warning)
        st.plotly_chart(figures.loss_curve(list(record.history), "Loss per epoch (final)", name), key="final_curve")
    else:
        (st.info if job.state == "stopped" else st.error)(f"**{md(job.label)}**: {md(job.message)}")


active_job = resources.jobs().get(st.session_state.get("tr_job", ""))
st.fragment(training_progress, run_every=1.0 if active_job is not None and active_job.active else None)()

st.subheader("Architecture")
summary = resources.architecture(model_config, dataset.image_shape)
st.caption(f"{model_config.family}, latent size {model_config.latent_dim}, for {dataset.image_shape[0]}x"
           f"{dataset.image_shape[1]}x{dataset.image_shape[2]} images: **{int(summary['params'].sum()):,} parameters**. "
           + ("The model's output goes through a sigmoid so pixels stay in [0, 1]."
              if METHODS[model_config.family].capabilities.bounded_output else
              "The model's output has no sigmoid: pixels are clipped to [0, 1] when shown."))
st.dataframe(summary, hide_index=True, width="stretch", height=min(36 * (len(summary) + 1) + 4, 900),
             column_config={"params": st.column_config.NumberColumn("parameters", format="%d")})

st.subheader("Cached models for this dataset")
entries = resources.cached_models(dataset.config)
if not entries:
    st.info("No model is cached for this dataset yet: train one above, or train the default zoo on Home.")
    st.page_link(ui.HOME, label="Home", icon=":material/home:")
    st.stop()
import pandas as pd  # noqa: E402

labels = unique_labels(entries)
table = pd.DataFrame([{"model": labels[e.name], "latent size": e.latent_dim, "test MSE": e.metric("test_mse"),
                       "test PSNR (dB)": e.metric("test_psnr"), "training time (s)": round(e.train_seconds, 1),
                       "created": e.created, "checkpoint": e.name} for e in entries])
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"test MSE": st.column_config.NumberColumn(format="%.5f"),
                            "test PSNR (dB)": st.column_config.NumberColumn(format="%.2f")})
ui.csv_download("Download this table (CSV)", table, "cached_models.csv")

chosen = st.selectbox("Inspect or delete", list(labels), key="tr_inspect", format_func=labels.get)
entry = next(e for e in entries if e.name == chosen)
left, right = st.columns([3, 1])
# the record holds the history: drawing it needs no model (and no torch import on a fresh server)
left.plotly_chart(figures.loss_curve(list(entry.history), f"Loss per epoch: {entry.label}"), key="inspect_curve")
with right:
    st.metric("Test MSE", f"{entry.metric('test_mse'):.5f}")
    # measured on every test image; the Compare page's SSIM uses a fixed sample (hence a slightly different value)
    st.metric("Test SSIM", f"{entry.metric('test_ssim'):.3f}",
              help=f"On all {len(dataset.test):,} test images. The Compare page measures SSIM on a fixed sample of "
                   f"{min(SSIM_IMAGES, len(dataset.test)):,} of them (the same for every row, PCA's curve included), "
                   "so its SSIM differs a little.")
    no_delete = ui.refused("delete")
    confirm = st.checkbox("Yes, delete it", key="tr_confirm_delete", disabled=no_delete)
    if st.button("Delete this checkpoint", disabled=not confirm or no_delete, key="tr_delete", icon=":material/delete:"):
        resources.delete_model(entry)
        st.session_state.pop("tr_confirm_delete", None)
        st.toast(f"Deleted {md(entry.label)}")
        st.rerun()

st.subheader("Watch it learn")
st.caption("The training replayed from the moments it kept (step 0, then steps spaced on a log scale to the end): "
           "the held-out sample's map and 8 test images rebuilt at each moment, PCA at the same size beside them as "
           "the target to beat. Press play or drag the bar: it runs in your browser.")
elements.watch_it_learn(f"tr_player_{entry.name}", ui.selection(), dataset, entry)
