"""Fuzz: generated share links (query strings) opened on every page through Streamlit's AppTest.

Each link names a page and 1-5 parameters (the real ones and an unknown one) with values drawn from
crafted markup (links, remote images, HTML, ``:red[...]``, LaTeX), odd numbers (1e308, 1e39, nan, inf,
huge integers), odd text (NUL, 300 characters, non-ASCII, ``../``) and the zoo's real model names. A
page opened from a link must show no exception box and no crafted value verbatim in any element (what
markdown would render as markup). ``tests/test_share.py`` runs a seeded handful of the same links.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.common import Options, PartResult

NAME = "links"
TITLE = "Fuzz: generated share links on every page (AppTest): exception boxes, markup from the URL"


def run(options: Options) -> PartResult:
    from streamlit.testing.v1 import AppTest

    from testkit.app import REPO, TEST_EPOCHS, tiny_zoo
    from testkit.links import PAGES, generated_links, unsafe_findings

    count = 64 if options.quick else 520
    root = Path(tempfile.mkdtemp(prefix="fuzz-links-")) / "checkpoints"
    tiny_zoo(root)
    os.environ.update({"LATENT_LAB_CHECKPOINTS": str(root), "LATENT_LAB_EPOCHS": str(TEST_EPOCHS)})
    from core.config import DataConfig
    from dashboard import resources

    names = [r.name for r in resources.cached_models(DataConfig("digits"))]
    links = generated_links(count, seed=2026, models=names)
    per_page: dict[str, Counter] = {page: Counter() for page in PAGES}
    findings, times = [], []
    for page, params in links:
        start = time.perf_counter()
        at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=300).run()
        at.query_params = params
        at.switch_page(f"views/{page}.py").run()
        times.append(time.perf_counter() - start)
        found = unsafe_findings(at, params)
        per_page[page]["links"] += 1
        per_page[page]["notes"] += bool(at.info)
        per_page[page]["exceptions"] += sum(f.startswith("exception") for f in found)
        per_page[page]["unescaped"] += sum(f.startswith("unescaped") for f in found)
        findings += [f"{page}?{params}: {f}" for f in found]
    rows = [{"page": page, "links": n["links"], "with a note": n["notes"], "exception boxes": n["exceptions"],
             "crafted values shown verbatim": n["unescaped"]} for page, n in per_page.items()]
    exceptions = sum(n["exceptions"] for n in per_page.values())
    unescaped = sum(n["unescaped"] for n in per_page.values())
    goals = [f"0 exception boxes: {exceptions} in {len(links)} links over {len(PAGES)} pages",
             f"0 rendered links or images from the URL (crafted values reaching an element verbatim): {unescaped}"]
    notes = [f"seconds per link (a fresh session, Home then the page): median {statistics.median(times):.2f}, "
             f"max {max(times):.2f}"]
    notes += findings[:30]
    return PartResult(NAME, TITLE, rows, goals, notes)
