"""dashboard.text: outside text made safe for markdown and plotly (the one helper)."""

from __future__ import annotations

import re
import string

import pytest

from dashboard.text import WORD_JOINER, md, plotly_text
from testkit.links import CRAFTED


@pytest.mark.parametrize("value", [*CRAFTED, "a\n# heading\r\n- item", "`code` ~strike~ | table |", "x" * 5])
def test_every_punctuation_character_is_escaped_and_nothing_else_changes(value):
    escaped = md(value)
    unescaped, i = [], 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert escaped[i + 1] in string.punctuation, "only punctuation gets a backslash"
            unescaped.append(escaped[i + 1])
            i += 2
            continue
        assert escaped[i] not in string.punctuation, f"unescaped {escaped[i]!r} in {escaped!r}"
        unescaped.append(escaped[i])
        i += 1
    shown = "".join(unescaped).replace(WORD_JOINER, "")
    assert shown == re.sub(r"[\r\n]+", " ", value), "a reader sees the same characters"
    assert "\n" not in escaped and "\r" not in escaped, "a value cannot start a block of its own"


@pytest.mark.parametrize("value", ["http://evil.example/x", "HTTPS://evil.example", "www.evil.example", "me@evil.example"])
def test_bare_urls_and_addresses_cannot_become_links(value):
    plain = md(value).replace("\\", "")
    assert WORD_JOINER in plain and value not in plain
    assert plain.replace(WORD_JOINER, "") == value, "a reader sees the same characters"


def test_plotly_labels_cannot_carry_html():
    assert plotly_text('<a href="http://evil.example">x</a> & 3') == '&lt;a href="http://evil.example"&gt;x&lt;/a&gt; &amp; 3'
