"""The report's charts draw the stored numbers, keep report strings as text, and the SVG
allow-list refuses anything that could run or fetch; thumbnails are re-encoded PNGs."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
from pathlib import Path

import pytest

pytest.importorskip("vl_convert")
from charts_fixture import HOSTILE, SCRIPT, chart_report, write_examples
from lxml import etree
from PIL import Image

from audit.reporting import _thumbs
from audit.reporting._charts import CHART_DIMENSIONS, figures
from audit.reporting._svg import ALLOWED_ATTRIBUTES, ALLOWED_ELEMENTS, UnsafeSvgError, sanitize_svg
from audit.reporting._thumbs import THUMB_PX, thumbnails

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def plain():
    report = chart_report()
    return report, figures(report, None)


@pytest.fixture(scope="module")
def hostile():
    report = chart_report(hostile=True)
    return report, figures(report, None)


def _stored(report) -> list[dict]:
    # The report as a reader of report.json sees it: through the json module.
    return json.loads(report.model_dump_json())["results"]


def _index(src: str) -> int:
    m = re.fullmatch(r"results\[(\d+)\]", src)
    assert m, src
    return int(m.group(1))


def test_every_dimension_is_keyed_and_absent_suites_are_empty(plain):
    report, figs = plain
    assert list(figs) == list(CHART_DIMENSIONS)
    assert all(figs[d] for d in CHART_DIMENSIONS)
    only_bias = report.model_copy(
        update={"results": [r for r in report.results if r.suite == "bias"]}
    )
    figs2 = figures(only_bias, None)
    assert figs2["fairness"] and not figs2["quality"]
    assert not figs2["robustness"] and not figs2["safety"]


def test_figure_ids_are_unique_even_when_names_slug_alike(plain):
    report, figs = plain
    ids = [f.id for fs in figs.values() for f in fs]
    assert len(ids) == len(set(ids))
    twins = [r.model_copy(update={"check": "skew/prof-gender"}) for r in report.results]
    both = report.model_copy(update={"results": [*report.results, *twins]})
    fair = figures(both, None)["fairness"]
    assert len({f.id for f in fair}) == len(fair) > len(figs["fairness"])


def test_figure_data_are_the_stored_numbers_and_all_of_them(plain):
    report, figs = plain
    stored = _stored(report)
    drawn: dict[str, set[int]] = {d: set() for d in CHART_DIMENSIONS}
    for dim, fs in figs.items():
        for f in fs:
            for row in f.data:
                i = _index(row["src"])
                for field in ("value", "ci_low", "ci_high"):
                    if field in row:
                        assert row[field] == stored[i][field], (f.id, row)
                drawn[dim].add(i)
    # What each section must draw, chosen from the JSON independently of the code.
    want = {
        "fairness": {
            i
            for i, r in enumerate(stored)
            if r["suite"] == "bias" and r["variant"] in ("raw", "debiased")
        },
        "quality": {
            i
            for i, r in enumerate(stored)
            if r["suite"] == "retrieval" and not r["metric"].endswith("_difference")
        },
        "robustness": {i for i, r in enumerate(stored) if r["suite"] == "redteam"},
        "safety": {i for i, r in enumerate(stored) if r["suite"] == "safety"},
    }
    assert drawn == want
    gap = next(i for i, r in enumerate(stored) if r["metric"] == "ndcg@10_difference")
    assert all(gap not in v for v in drawn.values())  # a gap never shares the value axis


def _labels(svg: str, mark: str = "") -> list[str]:
    """aria-labels in the SVG; with ``mark`` only those of that Vega mark type's items
    (their group has class ``mark-<type>``)."""
    root = etree.fromstring(svg.encode())
    return [
        e.get("aria-label")
        for e in root.iter()
        if e.get("aria-label")
        and (not mark or f"mark-{mark}" in (e.getparent().get("class") or "").split())
    ]


def _num(text: str) -> float:
    return float(text.replace("\u2212", "-"))  # Vega writes a minus sign, not a hyphen


def test_the_svg_marks_show_the_stored_values(plain):
    # Vega writes each mark's data into its aria-label ("value: 1.24; label: ..."): read
    # the picture itself, not Figure.data, and compare with report.json.
    report, figs = plain
    stored = _stored(report)
    for dim in ("fairness", "quality", "safety"):
        for f in figs[dim]:
            shown = sorted(
                _num(m.group(1))
                for label in _labels(f.svg)
                if (m := re.match(r"value: ([-−0-9.e]+);", label))
            )
            want = sorted(stored[_index(r["src"])]["value"] for r in f.data)
            assert shown == pytest.approx(want, rel=1e-9), f.id
    for f in figs["robustness"]:
        shown = sorted(
            _num(m.group(1))
            for label in _labels(f.svg, "symbol")  # the points; a line labels its first
            if (m := re.search(r"attack success: ([-−0-9.e]+);", label))
        )
        want = sorted(stored[_index(r["src"])]["value"] for r in f.data)
        assert shown == pytest.approx(want, rel=1e-9), f.id


def _texts(svg: str) -> list[str]:
    root = etree.fromstring(svg.encode())
    return ["".join(e.itertext()) for e in root.iter(f"{SVG}text")]


def test_budget_axis_reads_fractions_of_255_and_units_never_share_an_axis(plain):
    _, figs = plain
    eps = [f for f in figs["robustness"] if f.id.endswith("eps-255")]
    queries = [f for f in figs["robustness"] if f.id.endswith("-budget")]
    assert len(eps) == 1 and len(queries) == 1
    assert {"2/255", "8/255"} <= set(_texts(eps[0].svg))
    assert not any("/255" in t for t in _texts(queries[0].svg))
    # one line per defense: three series named in the legend, raw first
    legend = [
        t for t in _texts(eps[0].svg) if t in ("raw", "defended · jpeg", "defended · bit-depth")
    ]
    assert legend[0] == "raw" and len(set(legend)) == 3


def test_hostile_names_come_out_as_text_only(hostile):
    _, figs = hostile
    seen = set()
    for fs in figs.values():
        for f in fs:
            assert "<script" not in f.svg and "<img" not in f.svg and "<a " not in f.svg
            root = etree.fromstring(f.svg.encode())
            for el in root.iter():
                assert isinstance(el.tag, str) and el.tag.startswith(SVG), el.tag
                assert el.tag[len(SVG) :] in ALLOWED_ELEMENTS
                for name in el.attrib:
                    assert not name.lower().startswith("on") and name in ALLOWED_ATTRIBUTES
            text = " ".join(_texts(f.svg) + _labels(f.svg))
            seen |= {h for h in HOSTILE if h in text}
    assert SCRIPT in seen and HOSTILE[1] in seen  # drawn, as text


@pytest.mark.parametrize(
    ("svg", "named"),
    [
        ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "script"),
        ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "onload"),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml"/>'
            "</foreignObject></svg>",
            "foreignObject",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            '<image xlink:href="https://198.51.100.7/a.png"/></svg>',
            "image",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><g href="https://198.51.100.7/"/></svg>',
            "fragment",
        ),
        (
            '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://198.51.100.7/#p)"/></svg>',
            "url()",
        ),
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:red"/></svg>', "style"),
        (
            '<!DOCTYPE svg [<!ENTITY x "boom">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>',
            "DTD",
        ),
        ('<svg xmlns="http://www.w3.org/2000/svg"><rect fill="javascript:x"/></svg>', "scheme"),
        ("<html><svg/></html>", "html"),
        ("<svg", "well-formed"),
    ],
)
def test_sanitiser_refuses_and_names_what_could_run_or_fetch(svg, named):
    with pytest.raises(UnsafeSvgError, match=re.escape(named)):
        sanitize_svg(svg)


def test_sanitiser_keeps_a_clean_drawing_and_escapes_text():
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        '<defs><clipPath id="c"><rect width="5" height="5"/></clipPath></defs>'
        '<g clip-path="url(#c)"><text x="1" aria-label="a &lt;b&gt;">&lt;script&gt;x</text></g>'
        "</svg>"
    )
    out = sanitize_svg(svg)
    root = etree.fromstring(out.encode())
    text = root.find(f".//{SVG}text")
    assert text.text == "<script>x" and text.get("aria-label") == "a <b>"
    assert root.find(f".//{SVG}clipPath").get("id") == "c"
    assert "<script>" not in out


# -- thumbnails ---------------------------------------------------------------------------


def _decode(uri: str) -> Image.Image:
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    raw = base64.b64decode(uri[len(prefix) :])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    img = Image.open(io.BytesIO(raw))
    assert img.format == "PNG"
    return img


def test_thumbnails_are_png_reencodings_of_the_artifacts(tmp_path):
    report = chart_report()
    arrays = write_examples(tmp_path, report, n_pairs=2)
    refs = next(r for r in report.results if r.suite == "redteam").details["artifacts"]
    refs["item1 after"] = refs["item1 after"].removeprefix("artifacts/")  # read under artifacts/
    thumbs = thumbnails(report, tmp_path)
    assert len(thumbs) == 2
    # A 16x12 source is scaled by 224/16 = 14 with nearest neighbour: each source pixel is
    # a 14x14 block, so block centres read back the source exactly.
    for n, t in enumerate(thumbs):
        assert f"item{n}" in t.caption and "eps 2/255" in t.caption
        for uri, side in ((t.before_uri, "before"), (t.after_uri, "after")):
            img = _decode(uri).convert("RGB")
            assert img.size == (THUMB_PX, THUMB_PX * 12 // 16)
            src = arrays[f"artifacts/redteam/ex{n}-{side}.png"]
            got = [img.getpixel((14 * x + 7, 14 * y + 7)) for y in range(12) for x in range(16)]
            assert got == [tuple(int(c) for c in src[y, x]) for y in range(12) for x in range(16)]
    assert thumbnails(report, None) == []


def test_thumbnails_reencode_other_formats_dedupe_and_cap(tmp_path, monkeypatch):
    report = chart_report()
    write_examples(tmp_path, report, n_pairs=4)
    first = next(r for r in report.results if r.suite == "redteam")
    jpeg = tmp_path / "artifacts" / "redteam" / "ex0-before.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(jpeg, format="JPEG")  # JPEG bytes, .png name
    for r in report.results:  # every ASR of the attack points at the same files
        if r.suite == "redteam" and r is not first:
            r.details["artifacts"] = dict(first.details["artifacts"])
    monkeypatch.setattr(_thumbs, "MAX_PAIRS", 3)
    thumbs = thumbnails(report, tmp_path)
    assert len(thumbs) == 3  # four pairs, shown once, capped
    img = _decode(thumbs[0].before_uri).convert("RGB")
    assert img.size == (THUMB_PX, 168)
    r, g, b = img.getpixel((112, 84))
    assert abs(r - 200) < 8 and g < 20 and b < 20


def test_refused_artifacts_are_named_and_left_out(tmp_path, caplog):
    report = chart_report()
    write_examples(tmp_path, report, n_pairs=1)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.png"
    Image.new("RGB", (4, 4)).save(outside)
    (tmp_path / "artifacts" / "link.png").symlink_to(outside)
    (tmp_path / "artifacts" / "fake.png").write_text("<svg onload=alert(1)>")
    good = next(r for r in report.results if r.suite == "redteam")
    bad = [r for r in report.results if r.suite == "redteam" and r is not good][:4]
    for r, path in zip(
        bad,
        ["artifacts/link.png", "../outside.png", "/etc/passwd", "artifacts/fake.png"],
        strict=True,
    ):
        r.details["artifacts"] = {"x before": path, "x after": path}
    with caplog.at_level(logging.WARNING, logger="audit.reporting._thumbs"):
        thumbs = thumbnails(report, tmp_path)
    assert [t.caption.rsplit(" · ", 1)[1] for t in thumbs] == ["item0"]
    log = caplog.text
    for reason in ("outside the run directory", "'..'", "absolute", "not a readable image"):
        assert reason in log
    assert Path(outside).exists()


def test_long_charts_split_evenly_keeping_a_groups_series_together():
    from audit.report import EmbedderInfo, Report, Result

    def fpr(variants: tuple[str, ...]) -> Report:
        results = [
            Result(suite="safety", check="benign/id", metric="false_positive_rate",
                   value=i / 100, variant=v, group=f"identity=g{i:02d}")
            for i in range(30)
            for v in variants
        ]  # fmt: skip
        emb = EmbedderInfo(spec="local", name="m", modalities=["text"], dim=8)
        return Report(run_id="r", tool_version="t", suite="safety", embedder=emb, results=results)

    assert len(figures(fpr(("filter",)), None)["safety"]) == 1  # 30 points fit one chart
    two = figures(fpr(("filter", "strict")), None)["safety"]
    assert len(two) == 2  # 60 points: 15 groups per chart, each with both variants
    for f in two:
        groups = [r["group"] for r in f.data]
        assert len(set(groups)) == 15 and all(groups.count(g) == 2 for g in groups)
    assert {r["group"] for f in two for r in f.data} == {f"identity=g{i:02d}" for i in range(30)}
