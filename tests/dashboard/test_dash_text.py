"""md(): report strings become Markdown that Streamlit shows as exactly that text.

Each escaping rule is checked against an independent CommonMark parser (markdown-it-py)
and against the patterns Streamlit's renderer applies (copied from its frontend source,
see hostile_run.py): the rendered text must equal the input, with nothing turned into an
image, link, HTML, maths, colour, icon, emoji or typographic symbol.
"""

from __future__ import annotations

import random
import re
import string

import pytest
from hostile_run import inert_problems, payload, rendered_text

from dashboard._text import WORD_JOINER, md, unescape

CASES = {
    "image": "![x](http://198.51.100.7/x.png)",
    "html image": "<img src=http://198.51.100.7/y>",
    "html block": "<div>\n<img src=x>\n</div>",
    "script": "<script>alert(1)</script>",
    "link": "[link](http://198.51.100.7/)",
    "reference link": "[a][r]\n\n[r]: http://198.51.100.7/",
    "autolink": "<http://198.51.100.7/> http://198.51.100.7/ www.example.com a@b.example",
    "entity": "&lt;b&gt; &amp; &#60;img&#62;",
    "emphasis": "**bold** *it* _it_ __b__ ~~strike~~ ~s~",
    "code": "`code` ``x``",
    "heading": "# heading",
    "setext": "title\n===",
    "list": "- item\n+ item\n* item\n1. item\n2) item",
    "quote": "> quote",
    "table": "| a | b |\n|---|---|\n| 1 | 2 |",
    "rule": "---\n***",
    "colour": ":red[colour] :blue-background[x] :red-badge[b] :small[s] :color[c]{foreground=red}",
    "latex": "$\\LaTeX$ $$x$$ \\(x\\)",
    "emoji": ":smile: :+1: :-1: :a:b:",
    "material": ":material/search: :material_search: :a:material_x:",
    "logo": ":streamlit:",
    "symbols": "a -> b <- c <-> d -- e >= f <= g ~= h",
    "symbols at edges": "->\n<-",
    "backslash": "back\\slash\\ \\*not\\*",
    "newlines": "line1\nline2\r\nline3\rline4",
    "help directive": ":help[tooltip]",
    "all punctuation": string.punctuation,
}


@pytest.mark.parametrize("text", list(CASES.values()), ids=list(CASES))
def test_each_rule_renders_literally(text: str) -> None:
    out = md(text)
    assert inert_problems(out) == []
    # What an independent CommonMark renderer shows is the input, plus invisible joiners
    # (and blank lines as a paragraph break: several in a row show as one).
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    assert rendered_text(out).replace(WORD_JOINER, "") == re.sub(r"\n{3,}", "\n\n", expected)
    assert unescape(out) == expected


def test_every_ascii_punctuation_is_escaped_and_nothing_else() -> None:
    out = md("a" + string.punctuation + "é 1")
    assert out == "a" + "".join("\\" + c for c in string.punctuation) + "é 1"


def test_joiners_only_where_streamlit_rewrites_text() -> None:
    # Split: whitespace-bounded symbols, ":name:" shortcodes (overlapping ones too) and
    # autolink literals.
    assert md("a -> b") == f"a \\-{WORD_JOINER}\\> b"
    assert md(":a:b:") == f"\\:{WORD_JOINER}a\\:{WORD_JOINER}b\\:"
    # Left alone: no whitespace around the symbol, or no closing colon.
    assert md("http://h www.x a@b") == (
        f"http\\:{WORD_JOINER}\\/\\/h www{WORD_JOINER}\\.x a\\@{WORD_JOINER}b"
    )
    for text in ("a->b", "x--y", "ratio: 3", "ftp: x", "a @ b"):
        assert WORD_JOINER not in md(text)


def test_the_hostile_payload_is_inert() -> None:
    text = payload("t")
    out = md(text)
    assert inert_problems(out) == []
    assert rendered_text(out).replace(WORD_JOINER, "") == text


def test_the_checker_sees_what_unescaped_markdown_does() -> None:
    # The checker itself: raw payloads are caught, one problem kind per rule.
    raw = payload("t")
    found = " ".join(inert_problems(raw))
    for kind in ("<img>", "<a>", "raw HTML", "maths", "directive", ":material/", "emoji"):
        assert kind in found, kind
    assert "rewritten" in " ".join(inert_problems(md("x") + " :streamlit: a -> b"))
    # Escaping alone leaves autolink literals (found in text after parsing): caught.
    assert "rewritten" in " ".join(inert_problems("http\\:\\/\\/h\\.x"))
    assert "rewritten" in " ".join(inert_problems("a\\@b\\.c"))


def test_random_strings_round_trip() -> None:
    rng = random.Random(16)
    # Characters, plus the pieces of every construct, so random strings hit them often.
    pieces = [*string.printable, "é", "\u00a0", "\ufeff", " -> ", " <-> ", " -- ", ":smile:"]
    pieces += [":streamlit:", ":material_x:", ":material/x:", "http://", "www.", "$x$", "!["]
    pieces += ["](", ":red[", "<img ", "a@b.c", "**", "\n\n"]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        out = md(text)
        expected = text.replace("\r\n", "\n").replace("\r", "\n")
        assert unescape(out) == expected
        assert inert_problems(out) == [], repr(text)
