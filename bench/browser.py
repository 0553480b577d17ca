"""Shared by the browser parts (4-6): start ``streamlit run`` on a free port, drive headless Chromium
with Playwright, wait until a page is really done, and read a process's memory from /proc.

Nothing here asserts a time: the parts measure and record.
"""

from __future__ import annotations

import time
from pathlib import Path

from dashboard.launch import OUT, REPO, free_port, stop, streamlit_app, streamlit_command
from testkit.browser import CHROMIUM, CHROMIUM_ARGS, browser_problem, chromium

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "OUT", "REPO", "free_port", "stop", "streamlit_app", "streamlit_command",
           "browser_problem", "chromium", "new_page"]

#: page -> (url path, its st.title): the title tells the new page from the one it replaces
PAGES = {
    "Home": ("", "Latent Lab"),
    "Train": ("train", "Train a model"),
    "Autoencoder vs PCA": ("compare", "Autoencoder vs PCA"),
    "Latent map": ("latent_map", "Latent map"),
    "Decoder playground": ("playground", "Decoder playground"),
    "Explore": ("explore", "Explore"),
    "Denoising": ("denoising", "Denoising"),
    "Compression": ("compression", "Compression"),
}


def new_page(browser, width: int = 1400, height: int = 1600):
    return browser.new_page(viewport={"width": width, "height": height})


# The page is done: the script is not running, the wanted title is on screen, no spinner or skeleton,
# no stale (greyed, left over) element, every plotly chart drawn, every image loaded.
PAGE_DONE = """([title, extra]) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const main = document.querySelector("[data-testid='stMain']") || document;
  if (!Array.from(main.querySelectorAll('h1')).some(h => h.innerText.trim().startsWith(title))) return false;
  if (document.querySelector("[data-testid='stSpinner'], [data-testid='stSkeleton'], [data-stale='true']")) return false;
  for (const chart of main.querySelectorAll("[data-testid='stPlotlyChart']"))
    if (!chart.querySelector('.js-plotly-plot .main-svg')) return false;
  for (const img of main.querySelectorAll('img')) if (!img.complete || img.naturalWidth === 0) return false;
  if (extra && !main.querySelector(extra)) return false;
  return true;
}"""

#: what the page must show besides its title to count as open (its main content)
MAIN_CONTENT = {
    "Home": "[data-testid='stDataFrame']",  # the model zoo table
    "Train": "[data-testid='stDataFrame']",
    "Autoencoder vs PCA": "[data-testid='stPlotlyChart']",
    "Latent map": "[data-testid='stPlotlyChart']",
    "Decoder playground": "[data-testid='stImage'] img",
    "Explore": "[data-testid='stImage'] img",
    "Denoising": "[data-testid='stImage'] img",
    "Compression": "[data-testid='stPlotlyChart']",
}


def wait_page_done(page, name: str, timeout_ms: float = 600_000) -> None:
    page.wait_for_function(PAGE_DONE, arg=[PAGES[name][1], MAIN_CONTENT.get(name)], timeout=timeout_ms)


def open_by_url(page, url: str, name: str, timeout_ms: float = 600_000) -> float:
    """Load the page in a new session (a fresh tab's view); seconds until it is done."""
    start = time.perf_counter()
    page.goto(f"{url}/{PAGES[name][0]}")
    wait_page_done(page, name, timeout_ms)
    return time.perf_counter() - start


def open_by_sidebar(page, name: str, timeout_ms: float = 600_000) -> float:
    """Click the page in the sidebar navigation (same session); seconds until it is done."""
    link = page.locator("[data-testid='stSidebarNav'] a").filter(has_text=name).first
    start = time.perf_counter()
    link.click()
    wait_page_done(page, name, timeout_ms)
    return time.perf_counter() - start


def exception_text(page) -> str:
    boxes = page.locator("[data-testid='stException']")
    return "\n\n".join(boxes.nth(i).inner_text() for i in range(boxes.count()))


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM / VmSize ... of a process in KiB (Linux /proc)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key.startswith("Vm") and rest.strip().endswith("kB"):
            values[key] = int(rest.split()[0])
    return values


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, float), q))
