"""Fuzz: generated bad uploads through ``core.data.datasets.image_from_upload`` (the denoising page's path).

The cases: random bytes; truncated and byte-flipped PNG/JPEG/GIF/TIFF/WebP/BMP files; 1x1 and 2x3 images;
headers that declare 20000x20000 pixels (decompression bombs); 16-bit, CMYK, palette (with transparency)
and animated GIF/WebP files, whole and damaged; wrong file types and files over the byte cap. Each upload
must end in an image of the right shape in [0, 1] or in ``UploadError`` with a message saying what to do;
anything else is a crash. ``tests/test_uploads.py`` runs a seeded subset of the same cases.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter

import numpy as np

from bench.common import Options, PartResult
from testkit.uploads import IMAGE_SHAPES, bad_uploads, check, valid_odd_uploads

NAME = "fuzz"
TITLE = "Fuzz: generated bad uploads through the upload path (outcomes, ms per upload)"

def run(options: Options) -> PartResult:
    import warnings

    from PIL import Image

    count = 200 if options.quick else 600
    cases = bad_uploads(count, seed=0)
    valid = valid_odd_uploads()
    by_category: dict[str, Counter] = {}
    times, crashes, messages = [], [], Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        for i, (category, name, data) in enumerate(cases):
            start = time.perf_counter()
            outcome, detail = check(data, name, IMAGE_SHAPES[i % len(IMAGE_SHAPES)])
            times.append((time.perf_counter() - start) * 1e3)
            by_category.setdefault(category, Counter())[outcome] += 1
            if outcome == "crash":
                crashes.append(f"{category} {name}: {detail}")
            elif outcome == "UploadError":
                messages[detail.split(":", 1)[1].split("(")[0].strip()[:60] if ":" in detail else detail[:60]] += 1
        valid_outcomes = [(label, *check(data, name)) for label, name, data in valid]
    rows = [{"category": c, "uploads": sum(n.values()), "image": n["image"], "UploadError": n["UploadError"],
             "crash": n["crash"]} for c, n in sorted(by_category.items())]
    total = Counter()
    for n in by_category.values():
        total.update(n)
    rows.append({"category": "all bad uploads", "uploads": len(cases), "image": total["image"],
                 "UploadError": total["UploadError"], "crash": total["crash"]})
    valid_ok = sum(1 for _, outcome, _ in valid_outcomes if outcome == "image")
    rows.append({"category": "valid odd files (must be images)", "uploads": len(valid), "image": valid_ok,
                 "UploadError": sum(1 for _, o, _ in valid_outcomes if o == "UploadError"),
                 "crash": sum(1 for _, o, _ in valid_outcomes if o == "crash")})
    goals = [f"0 crashes (exceptions other than UploadError, or messages without what to do): {len(crashes)} "
             f"in {len(cases)} bad uploads; valid odd files read as images: {valid_ok} of {len(valid)}"]
    notes = [f"ms per upload: median {statistics.median(times):.2f}, p95 {np.percentile(times, 95):.2f}, "
             f"max {max(times):.1f}; {len(cases)} uploads in {sum(times) / 1e3:.2f} s",
             "image outcomes among bad uploads are damaged files Pillow still decodes (a flipped pixel byte, a "
             "cut JPEG tail is refused): each was checked to be the right shape, finite and in [0, 1]",
             "most frequent messages: " + "; ".join(f"{m} ({n})" for m, n in messages.most_common(6))]
    notes += [f"crash: {c}" for c in crashes[:20]]
    notes += [f"valid {label}: {outcome} ({detail[:90]})" for label, outcome, detail in valid_outcomes if outcome != "image"]
    return PartResult(NAME, TITLE, rows, goals, notes)
