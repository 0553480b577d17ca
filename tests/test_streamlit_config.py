"""The project's Streamlit settings: what the slider latency depends on (bench part 4), and one script
run per session at a time (no race on the session state)."""

from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def test_streamlit_reads_the_setting(monkeypatch):
    # Streamlit's default gc.collect(2) after each run (fragment runs included) holds the GIL for
    # 200-400 ms with torch/plotly/pandas loaded: every slider move waited for it. This fails if the
    # option is renamed or the file stops turning it off.
    from streamlit import config as st_config

    monkeypatch.chdir(CONFIG.parents[1])
    st_config.get_config_options(force_reparse=True)
    try:
        assert st_config.get_option("runner.postScriptGC") is False
        assert st_config.get_option("runner.fastReruns") is False
    finally:
        st_config.get_config_options(force_reparse=True)


@pytest.mark.e2e
@pytest.mark.slow
def test_clicks_during_a_run_never_start_a_second_run_of_the_session():
    """Fast clicks (or uploads) while a script runs: with Streamlit's default ``runner.fastReruns`` each
    one starts a second script thread beside the first, and the two race on the session state (the
    Denoising page once showed "dictionary changed size during iteration" after fast uploads). Under
    the project's config a rerun waits for the running script, so one run at a time, no exception box,
    and the last click is still answered."""
    from dashboard.launch import streamlit_app
    from testkit.app import browser_or_skip, chromium_page, wait_for_app

    browser_or_skip()
    with streamlit_app("testkit/rerun_probe_app.py") as (url, _process), chromium_page() as page:
        page.goto(url)
        wait_for_app(page)
        again = page.get_by_role("button", name="again")
        for _ in range(12):  # a run takes 0.5 s: most clicks land inside one
            again.click()
            page.wait_for_timeout(150)
        page.wait_for_function("() => document.body.innerText.includes('runs: ')")
        wait_for_app(page)
        assert page.locator("[data-testid='stException']").count() == 0, page.locator("[data-testid='stException']").all_inner_texts()
        shown = page.get_by_text("most runs at once").inner_text()
        most, runs = (int(part.split(": ")[1]) for part in shown.split("; "))
        assert most == 1, shown
        assert runs >= 4, shown  # the clicks did rerun the script (a rerun may absorb several clicks)
