"""Report strings as text in the widgets that interpret Markdown.

Streamlit renders Markdown in ``st.markdown``, ``st.caption``, titles and headers, the
bodies of ``st.info``/``st.warning``/``st.error``/``st.success``, and in the labels of
widgets (``st.page_link``, ``st.expander``, ``st.tabs``, ``st.metric``, ``help=``
tooltips). Its renderer (react-markdown with remark-gfm, remark-math and remark-directive,
plus Streamlit's own plugins) turns ``![x](http://host/p.png)`` into an ``<img>`` the
browser fetches, ``:red[x]`` into colour, ``$x$`` into KaTeX, ``:material/x:`` and
``:smile:`` into icons. A report is untrusted input (a policy file names the gates; a
model or dataset names the checks), so every report string reaches such a widget through
:func:`md`, and the pages prefer widgets that never interpret Markdown (``st.text``,
``st.code``, ``st.json``, dataframes) where they fit.

:func:`md` works in two steps, both needed:

1. Every ASCII punctuation character gets a backslash. CommonMark makes any backslash-
   escaped ASCII punctuation a literal character, so no link, image, autolink
   (``http:``, ``www.``, ``a@b.c``), raw HTML, emphasis, code span, table, heading, list,
   maths (``$``) or directive (``:red[...]``) can start. It also defeats the checks
   Streamlit runs on the source before parsing (``:material/`` icons, ``:name:`` emoji
   shortcodes), which look for unescaped sequences.
2. After parsing, the escapes are gone and plain text is still rewritten: remark-gfm
   turns ``http://..``, ``https://..``, ``www.x`` and ``a@b.c`` into links (its autolink
   literals are found in text nodes, not in the source), ``:streamlit:`` and
   ``:material_x:`` become images and icons, and `` -> ``, `` <- ``, `` <-> ``, `` -- ``,
   `` >= ``, `` <= ``, `` ~= `` become arrows and symbols. A WORD JOINER (U+2060:
   invisible, zero width) is put inside each such sequence, so it is shown as written.

Newlines become Markdown hard breaks, so a multi-line message keeps its lines.
"""

from __future__ import annotations

import re
import string

#: Invisible, zero-width, no line break: splits a sequence Streamlit would rewrite.
WORD_JOINER = "\u2060"
_PUNCT = frozenset(string.punctuation)  # exactly CommonMark's "ASCII punctuation"
# JavaScript's \s (what Streamlit's patterns use) includes U+FEFF; Python's does not.
_WS = r"\s\ufeff"
# Streamlit's typographical symbols, replaced only when whitespace (or the edge) is on both
# sides; the longest first so "<->" is not read as "<-".
_SYMBOLS = re.compile(rf"(?<![^{_WS}])(<->|->|<-|--|>=|<=|~=)(?![^{_WS}])")
# ":name:" shortcodes (emoji, :streamlit:, :material_x:): split after every colon that
# opens one, overlapping ones included (":a:material_x:").
_SHORTCODE_COLON = re.compile(r":(?=[\w+-]+:)")
# GFM autolink literals (mdast-util-gfm-autolink-literal): "http://", "https://", "www."
# and the "@" of an e-mail address; the joiner goes before "//", before "." and after "@".
_AUTOLINK = re.compile(r"(?i)(?<=https:)(?=//)|(?<=http:)(?=//)|(?<=www)(?=\.)|(?<=@)(?=[-\w])")


def md(text: object) -> str:
    """Markdown that Streamlit shows as exactly ``str(text)`` (see the module docstring).

    Parameters
    ----------
    text : object
        Any value; ``str(text)`` is what is shown. Report strings, paths and query
        parameters all go through here before a Markdown-interpreting widget.

    Returns
    -------
    str
        The escaped Markdown. The rendered text equals ``str(text)`` with line ends
        normalised to ``\\n`` and invisible U+2060 characters added (see
        :data:`WORD_JOINER`).
    """
    s = str(text).replace("\r\n", "\n").replace("\r", "\n")
    s = _SYMBOLS.sub(lambda m: m[0][0] + WORD_JOINER + m[0][1:], s)
    s = _SHORTCODE_COLON.sub(":" + WORD_JOINER, s)
    s = _AUTOLINK.sub(WORD_JOINER, s)
    escaped = "".join("\\" + c if c in _PUNCT else c for c in s)
    return escaped.replace("\n", "  \n")


def unescape(markdown: str) -> str:
    """The text :func:`md` was given, from its output (for tests and log messages).

    Parameters
    ----------
    markdown : str
        Output of :func:`md`.

    Returns
    -------
    str
        The original text (line ends normalised to ``\\n``).
    """
    s = markdown.replace("  \n", "\n")
    s = re.sub(r"\\(.)", r"\1", s, flags=re.DOTALL)
    return s.replace(WORD_JOINER, "")
