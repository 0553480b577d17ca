"""Latent Lab dashboard: the router. Run with ``streamlit run dashboard/app.py`` (or ``make run``)."""

from pathlib import Path

import streamlit as st

from dashboard import presenter, share, ui  # the project is installed (`pip install -e .`), so this works from any folder

ICON = Path(__file__).resolve().parent / "assets" / "icon.png"
SQUARE_IMAGES = "[data-testid='stImageContainer'] img { border-radius: 0 !important; }"  # every picture is pixels

share.open_link()  # a shared link's dataset (and presenter view) go into the sidebar's widgets first
# the icon is a file of the repo: a material-icon page icon is fetched from a font CDN, which fails offline
st.set_page_config(page_title="Latent Lab", page_icon=str(ICON), layout="wide",
                   initial_sidebar_state=presenter.sidebar_state())
# st.image rounds its corners (the theme's radius): on an 8x8 image scaled up that cuts the corner pixels off
st.html(f"<style>{SQUARE_IMAGES}</style>")
ui.sidebar()
presenter.style()
# the pages in the order of the lesson path (dashboard/lesson/steps.py); training last
with ui.model_errors_shown():  # a model damaged under a running page: a message, never a traceback
    share.run(st.navigation([
        st.Page("views/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("views/lesson.py", title="Lesson", icon=":material/school:"),
        st.Page("views/compare.py", title="Autoencoder vs PCA", icon=":material/compare:"),
        st.Page("views/latent_map.py", title="Latent map", icon=":material/scatter_plot:"),
        st.Page("views/playground.py", title="Decoder playground", icon=":material/tune:"),
        st.Page("views/explore.py", title="Explore", icon=":material/explore:"),
        st.Page("views/denoising.py", title="Denoising", icon=":material/auto_fix_high:"),
        st.Page("views/compression.py", title="Compression", icon=":material/compress:"),
        st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    ]))  # runs the page, then writes its view into the URL
