"""The system's Chromium, driven by Playwright: the browser of every end-to-end test and benchmark."""

from __future__ import annotations

import contextlib
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium():
    """A Playwright Chromium browser: the system's /usr/bin/chromium, headless, no network chatter."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def browser_problem() -> str | None:
    """Why a browser cannot be driven here (the text for a skip), or None."""
    if not Path(CHROMIUM).exists():
        return f"{CHROMIUM} is missing (install the chromium package to run the browser tests)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -r requirements-dev.txt)"
    return None
