"""The dashboard in a real headless Chromium: every page opens without a Streamlit exception box,
and moving a playground slider changes the decoded image. Screenshots go to tests/screenshots/
(git-ignored); the slider latency (median of 20 moves) is printed and written to
tests/screenshots/slider_latency.json.

Skipped when /usr/bin/chromium (or the playwright package) is missing, unless
LATENT_LAB_REQUIRE_E2E=1, which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import json
import statistics

import pytest

from testkit.app import REPO, app_env, browser_or_skip, chromium_page, click_download, running_app, wait_for_app, zoo_copy

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SCREENSHOTS = REPO / "tests" / "screenshots"
PAGES = {"home": "", "train": "train", "compare": "compare", "latent_map": "latent_map",
         "playground": "playground", "denoising": "denoising", "compression": "compression"}
MOVES = 20


@pytest.fixture(scope="module")
def app_url(request, tmp_path_factory):
    browser_or_skip()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with running_app(app_env(zoo_copy(request.config, tmp_path_factory, "e2e"))) as url:
        yield url


@pytest.fixture(scope="module")
def page():
    browser_or_skip()
    with chromium_page(1400, 2000) as page:
        yield page


def _exception_text(page) -> str:
    boxes = page.locator("[data-testid='stException']")
    return "\n\n".join(boxes.nth(i).inner_text() for i in range(boxes.count()))


@pytest.mark.parametrize("name", list(PAGES))
def test_page_opens_without_exception(app_url, page, name):
    page.goto(f"{app_url}/{PAGES[name]}")
    wait_for_app(page, 120_000)
    assert page.locator("[data-testid='stApp']").count() == 1
    assert not _exception_text(page), _exception_text(page)
    assert page.get_by_text("What am I looking at?").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    assert page.locator("[data-testid='stAlertContainer']").filter(has_text="not available").count() == 0


HOOK = "window.__latentLabLive"  # the live element's debug hook (dashboard/live/live.js)


def _live_stats(page, key: str) -> dict:
    return page.evaluate(f"(k) => JSON.parse(JSON.stringify({HOOK}.instances[k].stats))", key)


def test_playground_decodes_while_dragging_and_python_gets_the_release(app_url, page):
    page.goto(f"{app_url}/playground")
    wait_for_app(page, 120_000)
    page.wait_for_function(f"() => {HOOK} && Object.keys({HOOK}.instances).some(k => k.startsWith('pg_live_') "
                           f"&& {HOOK}.instances[k].ready)", timeout=120_000)
    key = page.evaluate(f"() => Object.keys({HOOK}.instances).find(k => k.startsWith('pg_live_'))")
    slider = page.locator(f".ll-root[data-key='{key}'] input[type=range]").first
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    before = _live_stats(page, key)
    page.mouse.move(box["x"] + 10, y)
    page.mouse.down()
    for i in range(1, MOVES + 1):
        page.mouse.move(box["x"] + 10 + i * (box["width"] - 20) / MOVES, y)
        page.wait_for_timeout(16)
    during = _live_stats(page, key)
    page.screenshot(path=str(SCREENSHOTS / "playground_mid_drag.png"), full_page=True)
    assert during["distinct"] - before["distinct"] >= 5, "new images painted while the pointer is still down"
    assert not during["errors"], during["errors"]
    page.mouse.up()
    code = page.evaluate(f"(k) => {HOOK}.instances[k].code()", key)
    page.get_by_text("code = [" + ", ".join(f"{v:.2f}" for v in code) + "]").wait_for(timeout=60_000)  # Python has it
    wait_for_app(page)
    assert not _exception_text(page), _exception_text(page)
    page.screenshot(path=str(SCREENSHOTS / "playground_after_moves.png"), full_page=True)
    latencies = during["latencies"][len(before["latencies"]):]
    (SCREENSHOTS / "slider_latency.json").write_text(json.dumps(
        {"moves": MOVES, "distinct_paints_while_down": during["distinct"] - before["distinct"],
         "input_to_paint_median_ms": round(statistics.median(latencies), 1) if latencies else None}, indent=1))


@contextlib.contextmanager
def another_tab(page, width: int = 1400, height: int = 1400):
    """A new tab of the module's browser (a second Playwright instance cannot run beside the first)."""
    tab = page.context.browser.new_page(viewport={"width": width, "height": height})
    try:
        yield tab
    finally:
        tab.close()


def test_playground_falls_back_to_the_server_when_the_runtime_is_blocked(app_url, page):
    import re

    with another_tab(page) as blocked:
        blocked.route(re.compile(r".*/vendor/onnxruntime-web/.*"), lambda route: route.abort())
        blocked.goto(f"{app_url}/playground")
        blocked.get_by_text("could not run the decoder itself").wait_for(timeout=120_000)
        wait_for_app(blocked, 120_000)
        assert blocked.locator("[data-testid='stImage']").filter(has_text="decodes this code").count() == 1
        assert not _exception_text(blocked), _exception_text(blocked)
        blocked.screenshot(path=str(SCREENSHOTS / "playground_fallback.png"), full_page=True)


PLOT_POINT_TO_PIXEL = """([plot, trace, i]) => {
  const gd = document.querySelectorAll('.js-plotly-plot')[plot];
  const f = gd._fullData[trace], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
  const r = gd.getBoundingClientRect();
  return [r.left + xa._offset + xa.l2p(Number(f.x[i])), r.top + ya._offset + ya.l2p(Number(f.y[i]))];
}"""


def test_latent_map_empty_space_click_decodes_and_goes_to_the_playground(app_url, page):
    page.goto(f"{app_url}/latent_map")
    wait_for_app(page, 120_000)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length >= 2", timeout=60_000)
    page.wait_for_timeout(500)
    # a test image on the model map (trace 1 is the first class): its original and reconstruction appear
    x, y = page.evaluate(PLOT_POINT_TO_PIXEL, [1, 1, 0])
    page.mouse.click(x, y)
    page.get_by_text("rebuilt by").first.wait_for(timeout=60_000)
    wait_for_app(page)
    assert page.get_by_text("Selected on the model map: test image #").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "latent_map_point_click.png"), full_page=True)
    # the model map (second plot) has the faint grid as trace 0; a corner cell is empty space
    x, y = page.evaluate(PLOT_POINT_TO_PIXEL, [1, 0, 0])
    page.mouse.click(x, y)
    page.get_by_text("No image lives here").wait_for(timeout=60_000)
    wait_for_app(page)
    assert not _exception_text(page), _exception_text(page)
    assert page.get_by_text("decoded at (").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "latent_map_empty_space_click.png"), full_page=True)
    page.get_by_role("button", name="Open this code in the decoder playground").click()
    page.get_by_text("the code sent from the latent map").wait_for(timeout=60_000)
    wait_for_app(page)
    assert not _exception_text(page), _exception_text(page)
    assert "playground" in page.url


def test_a_full_tour_requests_nothing_beyond_the_server(app_url, page):
    """Offline classrooms: every page, a slider move and a map click ask only the dashboard's own server."""
    from urllib.parse import urlsplit

    origin = urlsplit(app_url).netloc
    seen: list[str] = []
    with another_tab(page) as tour:
        tour.on("request", lambda request: seen.append(request.url))
        for path in PAGES.values():
            tour.goto(f"{app_url}/{path}")
            wait_for_app(tour, 120_000)
            assert not _exception_text(tour), (path, _exception_text(tour))
        tour.goto(f"{app_url}/playground")
        wait_for_app(tour, 120_000)
        tour.wait_for_function(f"() => {HOOK} && Object.values({HOOK}.instances).some(i => i.ready)", timeout=120_000)
        tour.locator(".ll-root input[type=range]").first.focus()
        tour.keyboard.press("ArrowRight")
        wait_for_app(tour, 60_000)
    assert any("/app/static/vendor/onnxruntime-web/" in url for url in seen), "the runtime came from the server"
    foreign = sorted({url for url in seen if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != origin})
    (SCREENSHOTS / "request_log.json").write_text(json.dumps(sorted(set(seen)), indent=1))
    assert seen and not foreign, foreign


def test_twenty_bad_uploads_through_the_browser_each_get_a_message(app_url, page, tmp_path):
    """The fuzz set's kinds, uploaded on the Denoising page in Chromium: each is refused with a message
    (or, for a damaged file Pillow still reads, shown), never an exception box."""
    from testkit.uploads import bad_uploads

    cases = bad_uploads(200, seed=3)
    by_kind: dict[str, tuple] = {}
    for category, name, data in cases:  # one of each kind first, then more until there are 20
        by_kind.setdefault(category, (name, data))
    chosen = list(by_kind.values()) + [(n, d) for _, n, d in cases if (n, d) not in by_kind.values()]
    page.goto(f"{app_url}/denoising")
    wait_for_app(page, 120_000)
    outcomes = []
    for i, (name, data) in enumerate(chosen[:20]):
        path = tmp_path / f"{i:02d}-{name}"
        path.write_bytes(data)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
        # the caption of a shown image and the message of a refused one both name the file
        page.wait_for_function("(n) => document.body.innerText.includes(n)", arg=path.name, timeout=60_000)
        wait_for_app(page)
        assert not _exception_text(page), (path.name, _exception_text(page))
        text = page.locator("[data-testid='stAlertContainer']").all_inner_texts()
        outcomes.append("refused" if any("cannot be used" in t for t in text) else "shown")
    assert len(outcomes) == 20 and outcomes.count("refused") >= 15, outcomes
    page.screenshot(path=str(SCREENSHOTS / "denoising_bad_upload.png"), full_page=True)


def test_downloads_are_written_when_clicked_and_hold_the_pages_data(app_url, page):
    """The Latent map's coordinates and the playground's decoder are made on the click (deferred): the
    page fetches no file for them on opening, and the click still gives the whole CSV / ONNX model."""
    import csv
    import io

    import onnx

    with another_tab(page) as tab:
        fetched = []
        tab.on("requestfinished", lambda r: fetched.append(r.url))
        tab.goto(f"{app_url}/latent_map")
        wait_for_app(tab, 120_000)
        assert not [u for u in fetched if "/media/" in u and u.endswith((".csv", ".bin"))], "fetched before any click"
        table = click_download(tab, "Download the coordinates (CSV)").path().read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(table)))
        assert rows and set(rows[0]) == {"test_index", "label", "class", "pixel_pca_x", "pixel_pca_y", "model_x", "model_y"}
        assert len({r["test_index"] for r in rows}) == len(rows) >= 100  # every image the maps show, once
        tab.goto(f"{app_url}/playground")
        wait_for_app(tab, 120_000)
        model = onnx.load(click_download(tab, "Download the decoder (ONNX)").path())
        assert [i.name for i in model.graph.input] == ["code"] and [o.name for o in model.graph.output] == ["image"]
