"""Compression: rate-distortion of PCA and autoencoder codes against JPEG, and images at one bit budget."""

import streamlit as st

from core.analysis import subset_index
from core.analysis.compression import JPEG_SUBSAMPLING, choose_at_budget, rd_view
from core.samples import RD_IMAGES
from core.store.records import ModelRef, unique_labels
from dashboard import figures, presenter, resources, share, ui

STRIP_IMAGES = 8  # test images in the strip

EXPLAINER = (
    "A code is a compressed image: store the d numbers, and the decoder rebuilds the picture. To count "
    "the cost in **bits**, each number is rounded to one of 2^b levels (b bits per number), so an image "
    "costs d x b bits. More bits: a sharper image, but a bigger file. The chart shows this trade-off "
    "(the **rate-distortion curve**) for PCA, the autoencoder and **JPEG**, the format cameras use. "
    "Up and to the left is better: more quality for fewer bits.\n\n"
    "PCA's reconstructions are clipped to [0, 1] (the range of a pixel), as every autoencoder's output is.\n\n"
    "Fair print: the decoder itself (the network, PCA's patterns) is not counted, just as a JPEG viewer "
    "is not. A JPEG file carries about 330 bytes of tables and markers (625 for a colour one, which needs "
    "tables for its colour planes too), which dominates for tiny images; switch to *ideal entropy coding* to "
    "leave that header out for JPEG and count the codes as an ideal entropy coder would.\n\n"
    "Colour images: JPEG stores them as colour JPEG, brightness at full resolution and the two colour planes "
    "at half width and height (4:2:0, what cameras do); PSNR and SSIM compare all three channels. A code costs "
    "d x b bits whatever the channels; the raw image costs 8 bits per value, three values per pixel."
)
page = ui.page("Compression", EXPLAINER, models=lambda r: r.train.noise is None,
               need="a trained (non-denoising) autoencoder")
dataset, sel, entries = page.dataset, page.selection, page.models

dims = sorted({e.latent_dim for e in entries})
share.view(page, d="cp_dim")  # a shared link's view (latent size here; bit counting, quality, budget below)
c1, c2 = st.columns([1, 3])
latent_dim = c1.selectbox("Latent size d", dims, index=dims.index(8) if 8 in dims else len(dims) - 1, key="cp_dim")
same = [e for e in entries if e.latent_dim == latent_dim]
labels = unique_labels(same, short=True)
names = c2.multiselect("Autoencoders", list(labels), default=list(labels)[:2], key=f"cp_models_{latent_dim}",
                       format_func=labels.get)
models = {f"PCA (d={latent_dim})": ModelRef.baseline(latent_dim)}
line_methods = {f"PCA (d={latent_dim})": figures.PCA_TITLE, "JPEG": figures.JPEG}  # one colour per method, every page
for e in same:
    if e.name in names:  # the short name when it is the only model of its family here
        label = f"{e.method} d={e.latent_dim}" if sum(x.family == e.family for x in same) == 1 else labels[e.name]
        models[label], line_methods[label] = e.ref, e.method

table = resources.rd_table(sel.config, sel.data_dir, models)
# on a projector the chart belongs on the first screen: how bits and quality are counted folds away
with st.expander("Counting: bits and quality") if presenter.is_on() else st.container():
    c1, c2 = st.columns(2)
COUNTS, QUALITIES = ["bits_per_image", "entropy_bits_per_image"], ["psnr", "ssim"]
share.take("count", "cp_count", allowed=COUNTS)
share.take("quality", "cp_metric", allowed=QUALITIES)
count = c1.radio("Count bits as", COUNTS, horizontal=True, key="cp_count",
                 format_func={"bits_per_image": "stored size (d x b; whole JPEG file)",
                              "entropy_bits_per_image": "ideal entropy coding (JPEG without header)"}.get)
metric = c2.radio("Quality", QUALITIES, horizontal=True, key="cp_metric", format_func=str.upper)
budgets = [8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 1024, 2048, 4096, 8192]
share.take("budget", "cp_budget", int, allowed=budgets)
budget = st.select_slider("Your bit budget per image", budgets, value=64, key="cp_budget",
                          help="The images below show what each method delivers for about this many bits")
share.keep(count=count, quality=metric, budget=int(budget))
plot = rd_view(table, count)  # the chart, the pictures and their notes all read these rows
st.plotly_chart(figures.rate_distortion(plot, budget, metric, methods=line_methods), key="cp_chart")

st.subheader(f"The same test images at about {budget} bits each")
chosen = choose_at_budget(plot, budget)
st.caption("Each method at the setting of the chart with the most bits within your budget. Bits and "
           + ("PSNR" if metric == "psnr" else "SSIM") + " beside each row are the chart's and the table's: counted as "
           + ("the stored size" if count == "bits_per_image" else "ideal entropy coding")
           + f", averaged over the table's {RD_IMAGES} test images, not only the {STRIP_IMAGES} shown.")
index = tuple(int(i) for i in subset_index(len(dataset.test), STRIP_IMAGES, seed=2))
examples = resources.compressed(sel.config, sel.data_dir, models, tuple(zip(chosen["method"], chosen["setting"])), index)
c, h, w = dataset.image_shape
raw = resources.raw_bits(sel.config, sel.data_dir)
value = "value" if c == 3 else "pixel"
note = f"raw: {raw['values']:,} {value}s x 8 bits = {raw['stored_bits']:,} bits as stored"
if raw["levels"] < 256:  # fewer levels than a byte holds: a tighter fixed-length code exists
    note += (f"; the {raw['levels']} levels these images use need at least {raw['fixed_bits']:,.0f} bits with a "
             f"fixed-length code ({raw['values']:,} x log2 {raw['levels']})")
ui.image_row("original", examples["original"], note=note)
for row in chosen.itertuples(index=False):
    bits = f"{row.bits_per_image:.0f}" if count == "bits_per_image" else f"{row.bits_per_image:.1f}"
    quality = f"PSNR {row.psnr:.1f} dB" if metric == "psnr" else f"SSIM {row.ssim:.3f}"
    note = f"{row.setting}, {bits} bits, {quality}"
    if row.method == "JPEG" and c == 3:
        note += f", colour {JPEG_SUBSAMPLING}"
    if row.over_budget:
        note += "  \n:orange[over budget: its smallest setting]"
    ui.image_row(row.method, examples[row.method], note=note)

st.subheader("All settings")
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"bits_per_image": st.column_config.NumberColumn(format="%.0f"),
                            "entropy_bits_per_image": st.column_config.NumberColumn(format="%.1f"),
                            "psnr": st.column_config.NumberColumn(format="%.2f"),
                            "ssim": st.column_config.NumberColumn(format="%.3f")})
ui.csv_download("Download the rate-distortion table (CSV)", table, "rate_distortion.csv", key="cp_csv")
