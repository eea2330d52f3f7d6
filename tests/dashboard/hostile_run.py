"""A runs directory whose every string field is hostile Markdown/HTML (issue 16, item 5).

Every string a report, comparison or run folder can carry (run id, folder names, created
and tool version, embedder spec/name/modalities, checks, metrics, variants, modalities,
groups, details, artifact labels and paths, gate names/selectors/messages/evidence,
policy, errors, comparison labels, groups and notes) holds a payload that Streamlit's
Markdown would turn into an outside fetch (``![..](http://..)``, ``<img src=..>``), a
link, colour, LaTeX, an icon or emoji, or a typographic arrow. The outside address is
TEST-NET-2 (RFC 5737): reserved for documentation, never routed.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

from markdown_it import MarkdownIt
from PIL import Image

from audit.compare import Comparison
from audit.compare._schema import Cell, ComparisonEmbedder, ComparisonRow
from audit.report import EmbedderInfo, GateResult, PolicyInfo, Report, Result, Wrappers

OUTSIDE = "198.51.100.7"
SUITES = ["bias", "retrieval", "safety", "redteam"]


def payload(tag: str) -> str:
    """A hostile string, ``tag`` telling the fields apart (and in every fetched URL)."""
    return (
        f"{tag} ![i](http://{OUTSIDE}/{tag}-md.png) <img src=http://{OUTSIDE}/{tag}-html.png>"
        f" [link](http://{OUTSIDE}/{tag}) :red[colour] $\\LaTeX$ :smile: :material/search:"
        f" :streamlit: a -> b **bold** <script>fetch('http://{OUTSIDE}/{tag}-js')</script>"
    )


def folder_payload(tag: str) -> str:
    """A hostile folder name: no '/', so the URLs use '\\' (browsers read it as '/')."""
    url = f"http:\\\\{OUTSIDE}\\{tag}"
    return f"{tag} ![i]({url}.png) <img src={url}i> :red[c] $x$"


RUN = folder_payload("run")
COMP = folder_payload("comp")
SUB = folder_payload("sub")
BAD = folder_payload("bad")
GATE = payload("gate")
CHECK = payload("check")
#: The strings the pages must show literally, by where the test looks for them.
#: Per page, strings shown through Markdown widgets (tables show the rest, as text).
SHOWN = {
    "overview": [RUN, payload("gatemsg"), GATE, payload("error0")],
    "bias": [RUN, payload("spec"), payload("name"), payload("created"), payload("pfamily")],
    "redteam": [payload("artlabel"), payload("redteam-art")],
    "compare": [payload("note"), payload("compid"), payload("cgroup"), payload("label")],
}


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _results() -> list[Result]:
    out = []
    for suite in SUITES:
        for variant in ("raw", payload(f"{suite}-variant")):
            for group in (None, payload(f"{suite}-group")):
                out.append(
                    Result(
                        suite=suite,
                        check=CHECK if suite == "bias" else payload(f"{suite}-check"),
                        metric="effect_size" if suite == "bias" else payload(f"{suite}-metric"),
                        value=0.4,
                        variant=variant,
                        dim=16,
                        modality=payload(f"{suite}-modality"),
                        group=group,
                        ci_low=0.1,
                        ci_high=0.7,
                        p_value=0.03,
                        p_adjusted=0.04,
                        p_family=payload("pfamily") if suite == "bias" else None,
                        n=10,
                        details={"note": payload(f"{suite}-details"), "eps": 0.1},
                    )
                )
    # Red team: an image artifact with a hostile label, and refused paths with hostile names.
    out.append(
        Result(
            suite="redteam",
            check=payload("redteam-art"),
            metric="attack_success_rate",
            value=0.5,
            details={
                "budget": 2,
                "artifacts": {
                    payload("artlabel"): "artifacts/a.png",
                    payload("artlabel2"): f"http://{OUTSIDE}/remote.png",
                    payload("artlabel3"): payload("artpath"),
                },
                "hubs": [{"item": payload("hub"), "count": 3}],
            },
        )
    )
    out.append(Result(suite=payload("suite"), check=CHECK, metric="x", value=1.0))
    return out


def _report(run_id: str) -> Report:
    gate = GateResult(
        name=GATE,
        check=CHECK,
        metric="effect_size",
        op="<=",
        threshold=0.2,
        value=0.4,
        passed=False,
        message=payload("gatemsg"),
        evidence=[{"suite": "bias", "check": CHECK, "note": payload("evidence")}],
        suite="bias",
    )
    return Report(
        run_id=run_id,
        created_at=payload("created"),
        tool_version=payload("tool"),
        suite=payload("reportsuite"),
        embedder=EmbedderInfo(
            spec=payload("spec"),
            name=payload("name"),
            modalities=[payload("modality")],
            dim=16,
            params={"p": payload("param")},
        ),
        wrappers=Wrappers(safety={"name": payload("safety")}),
        config={"c": payload("config")},
        results=_results(),
        gates=[gate],
        status="failed",
        policy=PolicyInfo(name=payload("policy"), path=payload("policypath")),
        errors=[payload("error0"), payload("error1")],
    )


def _write_run(folder: Path, run_id: str) -> None:
    _report(run_id).save(folder / "report.json")
    (folder / "artifacts").mkdir(exist_ok=True)
    (folder / "artifacts" / "a.png").write_bytes(_png())


def write_hostile_runs(root: Path) -> Path:
    """Write the hostile runs directory under ``root`` and return it.

    It holds a hostile run, a comparison folder (hostile labels, groups, notes) with a
    hostile nested run, and an unreadable run whose error message quotes hostile input.
    """
    _write_run(root / RUN, payload("runid"))
    _write_run(root / COMP / SUB, payload("subid"))
    emb = ComparisonEmbedder(
        label=payload("label"),
        spec=payload("cspec"),
        name=payload("cname"),
        modalities=[payload("cmod")],
        dim=16,
        run_id=payload("crun"),
        path=f"{SUB}/report.json",
        status="failed",
        error=payload("cerror"),
    )
    row = ComparisonRow(
        group=payload("cgroup"),
        suite="bias",
        check=CHECK,
        slot="effect_size",
        metrics=["effect_size"],
        label=payload("rowlabel"),
    )
    comp = Comparison(
        comparison_id=payload("compid"),
        created_at=payload("ccreated"),
        tool_version=payload("ctool"),
        suites=[payload("csuite")],
        embedders=[emb],
        rows=[row],
        cells=[[Cell(kind="value", text=payload("celltext"), value=0.4)]],
        notes=[payload("note")],
    )
    (root / COMP / "comparison.json").write_text(comp.model_dump_json(indent=2))
    (root / BAD).mkdir(parents=True)
    (root / BAD / "report.json").write_text(
        json.dumps({"schema_version": 1, "run_id": payload("badid"), "suite": payload("bad")})
    )
    return root


# What Streamlit's Markdown renderer would act on, from its frontend source
# (frontend/lib/src/components/shared/StreamlitMarkdown/StreamlitMarkdown.tsx, 1.67):
# patterns it tests on the source before parsing, and on text nodes after parsing.
ST_EMOJI_SOURCE = re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:")  # containsEmojiShortcodes
ST_TEXT_NODE = [
    # remark-gfm's autolink literals (mdast-util-gfm-autolink-literal, on text nodes)
    re.compile(r"(?i)(https?://|www(?=\.))[-.\w]+"),
    re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),
    re.compile(r":streamlit:"),  # the Streamlit logo
    re.compile(r":material_(\w+):"),  # icons (after ":material/" -> ":material_")
    re.compile(r":\+1:|:-1:|:[\w-]+:"),  # remark-emoji
    *(
        re.compile(rf"(^|\s){re.escape(sym)}(\s|$)")  # typographical symbols
        for sym in ("<->", "->", "<-", "--", ">=", "<=", "~=")
    ),
]
_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
#: Tags the dashboard's own text may produce (bold labels, code spans, line breaks).
OWN_TAGS = {"p", "br", "strong", "em", "code"}


def _unescaped(src: str) -> str:
    """``src`` with every backslash escape (``\\x``) replaced by NUL: what stays is what a
    Markdown parser may read as syntax."""
    return re.sub(r"\\.", "\0", src, flags=re.DOTALL)


def rendered_text(src: str) -> str:
    """The text a CommonMark renderer (markdown-it-py) makes of ``src``, tags removed."""
    out = _PARSER.render(src).replace("</p>\n<p>", "\n\n")  # a blank line: a new paragraph
    out = re.sub(r"<br />\n?", "\n", out)
    return html.unescape(re.sub(r"<[^>]+>", "", out)).strip("\n")


def inert_problems(src: str) -> list[str]:
    """What in ``src`` Streamlit's Markdown would turn into anything but plain text.

    Parsed with markdown-it-py (CommonMark, tables, strikethrough, raw HTML on) as an
    independent reader; Streamlit's own extensions are checked with its own patterns.
    """
    problems = []
    tokens = [t for block in _PARSER.parse(src) for t in (block, *(block.children or []))]
    for t in tokens:
        if t.type in ("html_inline", "html_block"):
            problems.append(f"raw HTML {t.content!r}")
        elif t.tag and t.tag not in OWN_TAGS and t.type not in ("paragraph_open",):
            problems.append(f"<{t.tag}> ({t.type})")
    bare = _unescaped(src)
    if re.search(r"https?:|www\.|[\w.+-]@[\w-]", bare):
        problems.append("a GFM autolink")
    if "$" in bare:
        problems.append("maths ($)")
    if re.search(r":[a-zA-Z][\w-]*\[", bare):
        problems.append("a directive (:name[...])")
    if ":material/" in src:
        problems.append("a :material/ icon")
    if ST_EMOJI_SOURCE.search(src):
        problems.append("an emoji shortcode in the source")
    text = rendered_text(src)
    problems += [f"text rewritten by {p.pattern!r}" for p in ST_TEXT_NODE if p.search(text)]
    return problems
