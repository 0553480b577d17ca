"""The project's Streamlit settings that the slider latency depends on (bench part 4)."""

from pathlib import Path

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
    finally:
        st_config.get_config_options(force_reparse=True)
