"""Crafted and generated share links, and the check that a page opened from one is safe: shared by
``tests/test_share.py`` (a seeded handful) and ``bench/fuzz_links.py`` (hundreds).

A link is outside text: whatever it carries must show as the characters it is (never a link, a remote
image, HTML or a Streamlit directive) and a bad value must end in a calm note, never an exception box.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from google.protobuf import text_format

from dashboard.share import ORDER

EVIL = "evil.example"
#: values that would render as markup if they reached markdown unescaped (no quotes: the element
#: protos are searched as text, where a quote would be escaped and hide the value)
CRAFTED = (
    f"![x](http://{EVIL}/i.png)",
    f"[log in here](http://{EVIL}/login)",
    f"<img src=http://{EVIL}/i.png>",
    ":red[alarm] :material/warning:",
    f"**bold** www.{EVIL} me@{EVIL}",
    "$x^2$ # heading",
)
PAGES = ("home", "lesson", "train", "compare", "latent_map", "playground", "explore", "denoising", "compression")
#: every parameter a link can carry (share.ORDER, the one list the pages write) and one no page knows
PARAMS = (*ORDER, "unknown")
ODD_VALUES = (
    "", " ", "0", "-1", "1e308", "-1e308", "1e39", "nan", "inf", "-inf", "1e4", "99999999999999999999999",
    "3.5", "0x10", "1,2", "1e308,-1e308", "nan,nan", "0,0", "0.5,-0.25", ",,,", "1" * 300, "é✓漢字", "\x00",
    "../../etc", "/etc", "digits", "mnist", "folder", "upload", "cifar10", "3d", "2d", "pca", "tsne", "umap",
    # values that are right for one parameter and wrong for the others (a lesson step, a noise kind, a region)
    "1", "true", "pixels", "model", "box:0,0,1,1", "lasso:0,0,1,1,0,1", "box:nan,0,1,1e39", "model:box:0,0,1",
    "pixels:lasso:0,0", "gaussian", "masking", "entropy_bits_per_image", "test_ssim", "ssim", "psnr", "pca-map", "decode", "bits", "6", "0.3",
)


PLAIN_VALUE_WIDGETS = ("text_input", "text_area")


def generated_links(count: int, seed: int = 0, models: Iterable[str] = ()) -> list[tuple[str, dict[str, str]]]:
    """``count`` (page, query parameters) pairs: every page, 1-5 parameters each, values drawn from
    :data:`CRAFTED`, :data:`ODD_VALUES` and the real model names (so deeper parts of a page are reached)."""
    rng = random.Random(seed)
    names = list(models)
    values = list(CRAFTED) + list(ODD_VALUES) + names * 3
    links = []
    for i in range(count):
        page = PAGES[i % len(PAGES)]
        params = {name: rng.choice(values) for name in rng.sample(PARAMS, rng.randint(1, 5))}
        if names and rng.random() < 0.5:
            params["model"] = rng.choice(names)
        links.append((page, params))
    return links


def _texts(node) -> Iterable[str]:
    """The text of every element under ``node`` (bodies, labels, help, captions, options), from its proto."""
    proto = getattr(node, "proto", None)
    if proto is not None and not hasattr(node, "children"):
        if getattr(node, "type", "") in PLAIN_VALUE_WIDGETS:  # what a text box holds shows as typed, not markdown
            yield f"{proto.label}\n{proto.help}"
        else:
            yield text_format.MessageToString(proto, as_utf8=True)
    for child in getattr(node, "children", {}).values():
        yield from _texts(child)


def unsafe_findings(at, params: dict[str, str]) -> list[str]:
    """What is wrong with a page opened from ``params``: exception boxes, and any crafted value from the
    link that reached an element verbatim (unescaped: markdown would render it)."""
    findings = [f"exception: {e.value}"[:300] for e in at.exception]
    crafted = {v for v in params.values() if v in CRAFTED}
    if crafted:
        for text in _texts(at._tree):
            findings += [f"unescaped {value!r}" for value in crafted if value in text]
    return findings


def shown(markdown: str) -> str:
    """What a reader sees of markdown written by :func:`dashboard.text.md`: backslash escapes and word
    joiners removed (tests compare it with the outside text itself)."""
    from dashboard.text import WORD_JOINER

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace(WORD_JOINER, "")
