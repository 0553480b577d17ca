"""Outside text (a URL parameter, a file or folder name, a zip entry, a record, an exception message) made
safe for Streamlit's markdown: the one place that does it.

Nearly every Streamlit text element renders markdown: ``st.markdown``/``caption``/``info``/``error``, but
also widget labels and ``help``, image captions, metric labels, progress texts and toasts. A value that
comes from outside must show as the characters it is, never as a link, a remote image, a heading, a
colour directive (``:red[...]``), a LaTeX formula or HTML. CommonMark lets a backslash escape any ASCII
punctuation character, so escaping *all* of them is both simple and complete; line breaks are folded
into spaces so a value cannot start a block of its own (a heading, a list, a quote).

Escaping is not enough for one thing: GitHub-flavoured markdown turns bare ``http://...``, ``www.x`` and
``a@b.c`` into links *after* parsing, from the text itself (checked in Chromium: the escaped
``http\\:\\/\\/evil`` still became a link). A word joiner (U+2060, invisible, zero width) after the
scheme's colon, after ``www`` and after ``@`` breaks those patterns without changing what a reader sees.
"""

from __future__ import annotations

import html
import re
import string

# every ASCII punctuation character, each with a backslash before it (re.escape makes them literal)
_PUNCTUATION = re.compile("[" + re.escape(string.punctuation) + "]")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")
_AUTOLINK = re.compile(r"(?<=[a-z]:)(?=//)|(?<=www)(?=\.)|(?<=@)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def md(value: object) -> str:
    """``value`` as markdown that renders as exactly its own text.

    Parameters
    ----------
    value : object
        Anything from outside the program; it is turned into text with ``str``.

    Returns
    -------
    str
        The text with every ASCII punctuation character backslash-escaped, line breaks made spaces, and
        a word joiner where a bare URL or e-mail address would become a link.

    Examples
    --------
    >>> md("**bold** [a](b)")
    '\\\\*\\\\*bold\\\\*\\\\* \\\\[a\\\\]\\\\(b\\\\)'
    """
    text = _AUTOLINK.sub(WORD_JOINER, _LINE_BREAKS.sub(" ", str(value)))
    return _PUNCTUATION.sub(lambda m: "\\" + m.group(0), text)


def plotly_text(value: object) -> str:
    """``value`` as text for a plotly label (legend, title, hover): plotly reads a subset of HTML there,
    ``<a href>`` included, so ``<``, ``>`` and ``&`` are written as entities, which plotly shows as themselves.

    Parameters
    ----------
    value : object
        Anything from outside the program (a class name comes from a folder name).

    Returns
    -------
    str
    """
    return html.escape(str(value), quote=False)
