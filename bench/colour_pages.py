"""Every page on a colour dataset in headless Chromium: time to open each page, and a screenshot of each.

The colour folder of ``tests/colour_data.py`` (4 classes x ``--per-class`` RGB PNGs, 32x32 and kept in colour)
gets the default zoo (``--epochs``), then one Streamlit server is opened page by page through its URL
(``?dataset=folder&folder=...&size=32&rgb=1``, a new session each time). *cold* is the first visit of a page
(its cached computations run: PCA fits, encodings, tables, decoder exports), *warm* the median of the next
``--rounds`` visits (every cache filled; what a user pays moving between pages). Timed until the page is done
as ``bench.browser.wait_page_done`` defines it (title, charts drawn, images loaded, nothing running).
Screenshots cover the whole page (the window is made as tall as the page) and go to ``--out``.

    python -m bench.colour_pages --out /tmp/colour-shots [--epochs 40 --per-class 100]

Nothing here asserts a time: it prints them, with the load average of the shared cores.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

from bench.browser import OUT, PAGES, chromium, exception_text, new_page, streamlit_app, wait_page_done
from bench.common import Options, PartResult, load_average

FULL_HEIGHT = "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain] *')].slice(0, 400).map(e => e.scrollHeight))"


NAME = "colour"
TITLE = "Every page on a colour (RGB 32x32) folder: first and repeat opens in headless Chromium"


def measure(out: Path, epochs: int, per_class: int, rounds: int) -> list[dict]:
    from testkit.colour import SIZE, colour_zoo, write_rgb_folder

    out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="colour-pages-"))
    folder = write_rgb_folder(root / "rgb", per_class=per_class)
    start = time.perf_counter()
    colour_zoo(folder, root / "checkpoints", epochs)
    print(f"zoo: 6 models, {epochs} epochs on {4 * per_class} colour images, {time.perf_counter() - start:.1f} s")
    query = urllib.parse.urlencode({"dataset": "folder", "folder": str(folder), "size": SIZE, "rgb": 1})
    env = {"LATENT_LAB_CHECKPOINTS": str(root / "checkpoints"), "LATENT_LAB_EPOCHS": str(epochs)}
    rows = []
    with streamlit_app("dashboard/app.py", env=env) as (url, _process), chromium() as browser:
        page = new_page(browser, height=1000)
        for name, (path, _title) in PAGES.items():
            times = []
            for _ in range(1 + rounds):
                began = time.perf_counter()
                page.goto(f"{url}/{path}?{query}")
                wait_page_done(page, name)
                times.append(time.perf_counter() - began)
            problem = exception_text(page)
            height = int(page.evaluate(FULL_HEIGHT))
            page.set_viewport_size({"width": 1400, "height": min(height + 150, 9000)})
            page.wait_for_timeout(1500)  # the taller window re-lays out charts and images
            shot = out / f"{path or 'home'}.png"
            page.screenshot(path=str(shot))
            page.set_viewport_size({"width": 1400, "height": 1000})
            rows.append({"page": name, "cold_s": times[0], "warm_s": statistics.median(times[1:]),
                         "screenshot": str(shot), "exception": problem[:200]})
            print(f"{name:20s} cold {times[0]:6.2f} s   warm {statistics.median(times[1:]):5.2f} s   {shot}"
                  + (f"   EXCEPTION: {problem[:200]}" if problem else ""), flush=True)
    return rows


def run(options: Options) -> PartResult:
    """The bench part (``python -m bench --part colour``): 40 epochs on 4 x 100 images (quick: 2 on 4 x 20)."""
    before = load_average()
    rows = measure(OUT / "colour", 2 if options.quick else 40, 20 if options.quick else 100, options.rounds or 3)
    slowest = max(rows, key=lambda r: r["cold_s"])
    failed = [r["page"] for r in rows if r["exception"]]
    goals = [f"every page on colour data: {len(rows) - len(failed)}/{len(rows)} without an exception; slowest first "
             f"open {slowest['cold_s']:.1f} s ({slowest['page']})"]
    return PartResult(NAME, TITLE, rows, goals=goals, load_before=before, load_after=load_average(),
                      notes=["cold: first visit (a new server, caches empty); warm: median of the next visits"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out/colour"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    before = load_average()
    measure(args.out, args.epochs, args.per_class, args.rounds)
    print(f"load average (1/5/15 min) before {before}, after {load_average()}")


if __name__ == "__main__":
    main()
