"""What travels once per browser session, and what is built once per server (issue 19 item 6, issue 21
item 7): the live elements' decoders are sent to a session once, not inside every rerun's element,
and the Latent map's figures are built once per process, not per rerun or per session.

AppTest runs the real pages on the tiny zoo (``env`` fixture); the element's data is read from its
protobuf (Components v2 sends it as JSON).
"""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

from testkit.app import REPO


def start(page: str) -> AppTest:
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=180).run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def live_elements(at: AppTest) -> dict[str, dict]:
    """key -> data of every live decoding element on the page."""
    found = {}

    def walk(node) -> None:
        for child in getattr(node, "children", {}).values():
            walk(child)
        if getattr(node, "type", None) == "bidi_component":
            data = json.loads(node.proto.json or "null")
            if isinstance(data, dict) and "models" in data:
                found[data["key"]] = data

    walk(at._tree)
    return found


def sent_models(at: AppTest) -> list[str]:
    """Model ids whose ONNX bytes the page's elements carry, in page order (one entry per carrier)."""
    return [model_id for data in live_elements(at).values() for model_id in data["models"]]


def used_models(at: AppTest) -> set[str]:
    return {spec["model_id"] for data in live_elements(at).values() for spec in (data["main"], data["side"]) if spec}


def test_the_playground_sends_each_decoder_once_per_element_and_session(env):
    at = start("playground")
    first = sent_models(at)
    elements = live_elements(at)
    assert len(elements) >= 3, "sliders, pad and scrubber"
    # each element carries its own decoders (waiting for another element's bytes could hang a page)
    assert all(set(data["models"]) == {spec["model_id"] for spec in (data["main"], data["side"]) if spec}
               for data in elements.values())
    assert set(first) == used_models(at), "every decoder the page runs reached the browser"
    at.run()  # a rerun of the same session (a widget moved): the browser keeps its decoders
    assert not at.exception
    assert used_models(at) == set(first)
    assert sent_models(at) == [], "a rerun sends no decoder the session already has"
    again = start("playground")  # a new session (a page reload): its browser starts empty
    assert sorted(sent_models(again)) == sorted(first)


def test_a_decoder_the_browser_reports_missing_is_sent_again():
    def script() -> None:
        import streamlit as st

        from dashboard import live

        st.session_state.setdefault("sent", []).append(sorted(live._unsent("el", {"a": b"\x01", "b": b"\x02"})))

    at = AppTest.from_function(script).run()
    at.run()
    at.session_state["el"] = {"missing": {"ids": ["a"], "nonce": 1}}  # what live.js reports: state of key "el"
    at.run()
    at.run()  # the same report, seen again: not sent a third time
    at.session_state["el"] = {"missing": {"ids": ["a", "b"], "nonce": 2}}
    at.run()
    assert at.session_state["sent"] == [["a", "b"], [], ["a"], [], ["a", "b"]]


def test_the_latent_map_figure_is_built_once_per_server(env, monkeypatch):
    from dashboard import figures, resources

    built = []
    draw = figures.latent_map
    monkeypatch.setattr(figures, "latent_map", lambda *a, **k: built.append(a[4]) or draw(*a, **k))
    resources.shared_figure.clear()
    at = start("latent_map")
    first = len(built)
    assert first == 2, f"the two maps are drawn: {built}"
    at.run()  # a rerun of the same session
    start("latent_map")  # another student's session
    assert not at.exception
    assert len(built) == first, f"reruns and other sessions reuse the figures: built {built}"
    at.segmented_control(key="map_colour").set_value("model").run()  # another view: its own figures
    assert len(built) == first + 2
