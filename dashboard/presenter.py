"""Presenter view: the dashboard shown on a projector to a class. One switch (the sidebar toggle, or
``?present=1`` in a link), checked here and nowhere else.

In presenter view the sidebar starts collapsed and shows no server paths, the words for the room (text,
captions, metric values) are twice their size and controls' labels a quarter larger, pictures are twice
as large, metric labels wrap instead of being cut, the "What am I looking at?" boxes and install hints
are hidden (the teacher explains), and each page has a *Reset everything* button that returns it to
its defaults after a demo.
"""

from __future__ import annotations

import streamlit as st

from dashboard.keys import SIDEBAR

KEY = "present"  # the sidebar toggle's key; the link parameter has the same name
SCALE = 2  # pictures and body type, relative to the normal view
LIVE_LIMIT = 260  # CSS pixels: a live image and its sliders fit 1280x720 at 150 % zoom (480 CSS pixels high)

CSS = """
<style>
/* words for the room (text, captions, what to notice): twice their size */
[data-testid="stMain"] [data-testid="stMarkdown"] p,
[data-testid="stMain"] [data-testid="stMarkdown"] li,
[data-testid="stMain"] [data-testid="stAlert"] p,
[data-testid="stMain"] [data-testid="stCaptionContainer"] { font-size: 2rem !important; line-height: 1.3 !important; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 1.6rem !important; }
/* controls: larger, but they must leave the first screen to the picture */
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.25rem !important; line-height: 1.2 !important; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 1.1rem !important; line-height: 1.2 !important; }
/* captions under pictures: larger, but they must fit under a row of small images (the caption's own text sits in
   a caption container, which the rule above would make 2rem), and a word is never cut ("mea / n imag / e") */
[data-testid="stMain"] [data-testid="stImageCaption"],
[data-testid="stMain"] [data-testid="stImageCaption"] [data-testid="stCaptionContainer"],
[data-testid="stMain"] [data-testid="stImageCaption"] p { font-size: 1.3rem !important; line-height: 1.2 !important;
  word-break: normal !important; overflow-wrap: normal !important; hyphens: none !important; }
/* metric labels wrap: never cut to "Test MS..." */
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { white-space: normal !important;
  overflow: visible !important; text-overflow: clip !important; word-break: normal !important;
  overflow-wrap: normal !important; }
[data-testid="stMain"] h1 { font-size: 2.2rem !important; padding: 0 0 0.5rem 0 !important; }
[data-testid="stMain"] h2, [data-testid="stMain"] h3 { font-size: 2rem !important; padding: 0 !important; }
/* less empty space above the page: the plot belongs on the first screen */
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem !important; max-width: 100% !important; }
</style>
"""

def is_on() -> bool:
    """Whether this session is in presenter view."""
    return bool(st.session_state.get(KEY, False))


def take_link() -> None:
    """app.py, before the page config: ``?present=1`` in a link switches presenter view on (and ``0`` off)."""
    value = st.query_params.get(KEY)
    if value is not None:
        st.session_state[KEY] = value == "1"


def sidebar_state() -> str:
    """``st.set_page_config``'s ``initial_sidebar_state``: collapsed in presenter view."""
    return "collapsed" if is_on() else "auto"


def toggle() -> None:
    """The sidebar switch (and, when on, the *Reset everything* button under it)."""
    st.toggle("Presenter view", key=KEY, help="For a projector: bigger type and pictures, the sidebar folded away, "
                                               "no server details. Also `?present=1` in a link.")
    if is_on():
        reset_button()


def style() -> None:
    """Presenter view's CSS (nothing in the normal view)."""
    if is_on():
        st.html(CSS)


def image_px(px: int, limit: int | None = None) -> int:
    """The on-screen size of a picture drawn ``px`` wide in the normal view (at most ``limit`` in
    presenter view: a live image must fit a projector's screen with its sliders)."""
    if not is_on():
        return px
    return px * SCALE if limit is None else max(px, min(px * SCALE, limit))


def reset_button(page_keys: tuple[str, ...] | None = None) -> None:
    """*Reset everything*: forget this page's widget values (keys starting with one of ``page_keys``,
    or every key but the dataset's and the presenter switch) and rerun, so the page is back at its
    defaults after a demo."""
    if st.button("Reset everything", key="presenter_reset", icon=":material/restart_alt:",
                 help="Back to this page's defaults (the dataset stays)"):
        keep = {KEY, *SIDEBAR.all()}
        for name in list(st.session_state):
            if name in keep or name.startswith("_share"):
                continue
            if page_keys is None or name.startswith(page_keys):
                del st.session_state[name]
        st.rerun()
