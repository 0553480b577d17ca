"""A Streamlit page that counts how many runs of its script execute at once, served under the project's
``.streamlit/config.toml`` by ``tests/test_streamlit_config.py``.

Each run spends ~0.5 s reading ``st.session_state`` the way Streamlit's own selectbox and slider do
(``filtered_state``, which is no yield point), then stores a new key. A click on *again* during a run
asks for a rerun. Streamlit's default ``runner.fastReruns`` answers it by starting a second script
thread while the first is still running, and the two threads guard the one session state with two
different locks: one iterates while the other inserts, and the page shows "RuntimeError: dictionary
changed size during iteration" (seen on the Denoising page after fast uploads). With the project's
config a rerun waits for the running script's next ``st`` call, so the count never passes 1.
"""

from __future__ import annotations

import threading
import time

import streamlit as st


@st.cache_resource
def run_counter() -> dict:
    """Shared by every run of this server process (the test opens one session)."""
    return {"lock": threading.Lock(), "running": 0, "most": 0, "runs": 0}


counter = run_counter()
with counter["lock"]:
    counter["running"] += 1
    counter["runs"] += 1
    counter["most"] = max(counter["most"], counter["running"])
try:
    st.button("again")
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        list(st.session_state)  # what a selectbox does on every run: no yield point
        time.sleep(0.002)
    st.session_state[f"run_{counter['runs']}"] = True
finally:
    with counter["lock"]:
        counter["running"] -= 1
st.text(f"most runs at once: {counter['most']}; runs: {counter['runs']}")
