"""Denoising: corrupt test images (or your own) and clean them with a denoising AE, a plain AE and PCA."""

import numpy as np
import streamlit as st

from core.analysis import mean_quality, subset_index
from core.config import NoiseConfig
from core.data.datasets import MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, UPLOAD_TYPES, image_from_upload
from core.errors import UploadError
from core.metrics import PSNR_CAP_DB
from core.samples import CURVE_IMAGES
from core.store.records import ModelRef
from dashboard import figures, resources, share, ui
from dashboard.policy import policy
from dashboard.text import md

EXPLAINER = (
    "A **denoising autoencoder** was trained on images with noise added, and asked to output the clean "
    "image. It learns what digits (or your images) look like, so it can ignore the noise. Here the same "
    "noisy images go through the denoising model, through a **plain autoencoder** of the same size that "
    "never saw noise, and through **PCA** of the same size (keeping only the main patterns already removes "
    "some noise).\n\n"
    "**PSNR** (decibels, higher is better) and **SSIM** (0 to 1, higher is better) compare each column "
    "with the clean images. Gaussian noise adds grain, salt-and-pepper flips pixels to black or white, "
    "masking blacks pixels out. On colour images the noise hits each colour channel on its own, so the grain is "
    "coloured and a hit pixel may turn red or cyan. You can also upload an image of your own."
)
page = ui.page("Denoising", EXPLAINER, models=lambda r: r.train.noise is not None, need="a denoising autoencoder")
dataset, sel, entries = page.dataset, page.selection, page.models
share.view(page, model="dn_model")  # a shared link's view

c1, c2, c3, c4 = st.columns([2, 1, 1, 1])
with c1:
    dae, _ = ui.pick_model("Denoising autoencoder", entries, key="dn_model")
plain = ui.usable([e for e in resources.cached_models(dataset.config)  # a damaged one is named, not used
                   if e.train.noise is None and e.latent_dim == dae.latent_dim])
plain.sort(key=lambda e: e.family != dae.family)  # the same family first
NOISE_KINDS = ["gaussian", "salt_pepper", "masking"]
share.take("noise", "dn_kind", allowed=NOISE_KINDS)  # a shared link's noise kind and level
kind = c2.selectbox("Noise", NOISE_KINDS, key="dn_kind",
                    format_func={"gaussian": "gaussian", "salt_pepper": "salt and pepper", "masking": "masking"}.get)
colour = dataset.image_shape[0] == 3
max_level = 1.0 if kind == "gaussian" else 0.8
share.take("level", "dn_level", float, bounds=(0.0, max_level))
level = c3.slider("Noise level", 0.0, max_level, 0.3, 0.05, key="dn_level",
                  help="gaussian: standard deviation; the others: share of "
                       + ("values hit (each colour channel of each pixel on its own)" if colour else "pixels hit"))
n_images = c4.slider("Images", 4, 12, 6, key="dn_n")
share.keep(noise=kind, level=float(level))
noise = NoiseConfig(kind, float(level))

models = {"denoising AE": dae.ref}
if plain:
    models["plain AE"] = plain[0].ref
models[f"PCA (d={dae.latent_dim})"] = ModelRef.baseline(dae.latent_dim)
# each line in its method's colour, the same on every page
line_methods = {"noisy": figures.NOISY, "denoising AE": dae.method, f"PCA (d={dae.latent_dim})": figures.PCA_TITLE}
line_methods |= {"plain AE": plain[0].method} if plain else {}
st.caption(f"Denoising AE: **{md(dae.label)}**" + (f"; plain AE: **{md(plain[0].label)}**" if plain else
           "; no plain model of the same size is cached (train one on the Train page to compare)")
           + f"; PCA with {dae.latent_dim} components, its output clipped to [0, 1] (the range of a pixel), as "
           "every autoencoder's is.")

index = tuple(int(i) for i in subset_index(len(dataset.test), n_images, seed=1))
out = resources.denoise_test_images(sel.config, sel.data_dir, models, noise, index)
clean = out["clean"]


def columns(out: dict, clean: np.ndarray, cell: int):
    cols = st.columns(len(out))
    for col, (label, images) in zip(cols, out.items()):
        with col:
            st.markdown(f"**{label}**")
            if label in ("clean", "your image"):
                st.caption("the target")
            else:
                psnr, ssim = mean_quality(clean, images)
                # at the cap every image is exact (no noise added): its PSNR is infinite, not 100 dB
                shown = "infinite (no error)" if psnr >= PSNR_CAP_DB else f"{psnr:.1f} dB"
                st.caption(f"PSNR {shown} · SSIM {ssim:.2f}")
            ui.picture(figures.mosaic(images, ncols=1, cell=cell))


cell = 72 if dataset.image_shape[1] <= 16 else 64
columns(out, clean, cell)

with st.expander("How each method copes as the noise grows"):
    curve = resources.denoising_curve(sel.config, sel.data_dir, models, kind)
    st.plotly_chart(figures.lines(curve, "level", "psnr", "method", f"PSNR against {kind} level ({CURVE_IMAGES} test images)",
                                  "noise level", "PSNR (dB, higher is better)", methods=line_methods), key="dn_curve")
    if np.isinf(curve["psnr"]).any():  # a cap drawn at 100 dB would pass for a measurement and flatten the rest
        st.caption("At level 0 the noisy input *is* the clean image: its error is 0 and its PSNR infinite, so the "
                   "chart has no point for it there and the table says inf.")
    st.dataframe(curve, hide_index=True, width="stretch")
    ui.csv_download("Download (CSV)", curve, "denoising.csv", key="dn_csv")

st.subheader("Your own image")
c_shape = dataset.image_shape
upload_mb = policy().upload_mb or MAX_UPLOAD_BYTES // (1024 * 1024)
sample = dataset.train.images[subset_index(len(dataset.train), 2000)]  # enough for a mean, never all of CIFAR
training_mean = float(np.mean(sample))  # light strokes on a dark ground when below 0.5
polarity = "light on a dark background" if training_mean < 0.5 else "dark on a light background"
st.caption(f"PNG, JPEG, BMP, GIF, WebP or TIFF up to {upload_mb} MB and {MAX_UPLOAD_PIXELS // 1_000_000} megapixels. "
           "It is converted to "
           f"{'grayscale' if c_shape[0] == 1 else 'RGB'} and resized to {c_shape[2]}x{c_shape[1]} pixels, like the "
           + (f"training images, which are {polarity}: with *Invert colours: auto* an image of the opposite kind is "
              "inverted to match." if not colour else
              "training images. Colour images are not inverted unless you ask: a negative swaps every hue."))
u1, u2, u3 = st.columns([2, 1, 1])
upload = u1.file_uploader("Upload an image", type=list(UPLOAD_TYPES), key="dn_upload", max_upload_size=upload_mb)
invert = u2.radio("Invert colours", ["auto", "yes", "no"], index=2 if colour else 0, horizontal=True, key="dn_invert")
add_noise = u3.toggle("Add the noise above", True, key="dn_add_noise",
                      help="Off: your image is already noisy, just clean it")
if upload is not None:
    try:
        image, note = image_from_upload(upload.getvalue(), upload.name, c_shape, invert, reference_mean=training_mean,
                                        max_bytes=upload_mb * 1024 * 1024)
    except UploadError as exc:
        st.error(f"This file cannot be used: {md(exc)}")
    else:
        st.caption(f"{md(upload.name)}: {note}.")
        mine = resources.denoise_images(sel.config, sel.data_dir, models, image, noise if add_noise else None)
        if not add_noise:
            mine.pop("noisy")
            mine = {"your image": mine.pop("clean"), **mine}
        columns(mine, image, 120)
