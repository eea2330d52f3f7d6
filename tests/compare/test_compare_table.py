"""The comparison table from hand-made reports: headline choice, gaps and their reasons."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from compare_helpers import report, res

from audit.compare import (
    Comparison,
    RunRef,
    build_comparison,
    column_labels,
    comparison_markdown,
    format_value,
    load_comparison,
    merge_junit,
    needed_modalities,
    short_label,
    write_comparison,
)


def _retrieval(dim: int, **values: float) -> list:
    out = []
    for pair, check in (("text->text", "passages"), ("text->image", "emoji")):
        for metric, v in values.items():
            out.append(
                res(
                    "retrieval",
                    check,
                    metric,
                    v,
                    dim=dim,
                    modality=pair,
                    n=10,
                    ci_low=v - 0.1,
                    ci_high=v + 0.05,
                )
            )
            out.append(res("retrieval", check, metric, v / 2, dim=dim // 2, modality=pair))
    return out


def _table(*refs: RunRef) -> Comparison:
    return build_comparison(list(refs), comparison_id="cmp", suites=["retrieval", "bias"])


def _row(comp: Comparison, label_start: str) -> int:
    (i,) = [i for i, r in enumerate(comp.rows) if r.label.startswith(label_start)]
    return i


def test_retrieval_rows_take_the_native_size_and_avg_hit_first() -> None:
    a = report(
        "a",
        [
            *_retrieval(8, avg_hit=0.6, avg_recall=0.3, **{"ndcg@10": 0.5}),
            res("retrieval", "embedding/query", "latency_ms_per_item", 3.0, dim=8, modality="text"),
        ],
    )
    b = report("b", _retrieval(16, avg_recall=0.7, **{"ndcg@10": 0.4}), dim=16)
    comp = _table(RunRef("a", a), RunRef("b", b))
    assert [r.group for r in comp.rows[:4]] == ["IMAGE RETRIEVAL"] * 2 + ["TEXT RETRIEVAL"] * 2
    avg = _row(comp, "passages text->text: Avg")
    # a has avg_hit (several relevant items per query): it wins over avg_recall; b has
    # only avg_recall. Both at their native size, never the truncated half.
    assert comp.cell(avg, "a").value == 0.6 and comp.cell(avg, "a").metric == "avg_hit"
    assert comp.cell(avg, "b").value == 0.7 and comp.cell(avg, "b").dim == 16
    assert comp.cell(avg, "a").text == "60.0 [50.0, 65.0]"
    ndcg = _row(comp, "emoji text->image: nDCG@10")
    assert comp.rows[ndcg].modalities == ["image", "text"]
    assert not comp.find_rows(check="embedding/query")  # latency is not a headline


def test_unsupported_error_and_not_run_cells_say_why() -> None:
    full = report(
        "full",
        [
            *_retrieval(8, avg_recall=0.5),
            res(
                "bias",
                "weat/weat6",
                "effect_size",
                0.8,
                modality="text",
                p_value=0.01,
                ci_low=0.2,
                ci_high=1.1,
                p_adjusted=0.03,  # schema 2: the stored adjusted p (was details.p_holm)
                p_family="holm:bias/raw/weat (m=3)",
            ),
            res("bias", "xmodal/emoji-gender-career", "effect_size", 0.1, modality="image|text"),
        ],
    )
    coverage = res(
        "bias",
        "coverage",
        "probes_run",
        1.0,
        details={"skipped": {"xmodal/emoji-gender-career": "the embedder does not accept image"}},
    )
    text_only = report("text", [*_retrieval(8, avg_recall=0.4)[:2], coverage], modalities=("text",))
    crashed = report(
        "crashed",
        [*_retrieval(8, avg_recall=0.2)],
        status="error",
        errors=["RuntimeError: boom\nTraceback ..."],
        timings={"suite/retrieval": 1.0},
    )
    bias_only = report("bias-only", [], suites=("bias",))
    comp = _table(
        RunRef("full", full),
        RunRef("text", text_only),
        RunRef("crashed", crashed),
        RunRef("bias-only", bias_only),
        RunRef("gone", None, error="OSError: disk"),
    )
    image_avg = _row(comp, "emoji text->image: Avg")
    kinds = [c.kind for c in comp.cells[image_avg]]
    assert kinds == ["value", "unsupported", "value", "not-run", "error"]
    assert comp.cell(image_avg, "text").reason == "text does not embed image"
    assert comp.cell(image_avg, "bias-only").reason == "suite retrieval was not part of this run"
    assert comp.cell(image_avg, "gone").reason == "OSError: disk"
    weat = _row(comp, "weat/weat6")
    assert comp.cell(weat, "full").text == "+0.80 [+0.20, +1.10] p=0.030"  # Holm p shown
    assert comp.cell(weat, "full").p_value == 0.03
    # The crashed run finished retrieval, not bias: its bias cells are errors.
    assert comp.cell(weat, "crashed").kind == "error"
    assert comp.cell(weat, "crashed").reason == "RuntimeError: boom"
    assert comp.cell(weat, "text").kind == "not-run"  # text-capable, but not measured
    xmodal = _row(comp, "xmodal/emoji-gender-career")
    assert comp.cell(xmodal, "text").kind == "unsupported"  # from the modality and the skip
    assert [c.text for c in comp.cells[xmodal]] == ["+0.10", "-", "error", "n/a", "error"]


def test_skip_records_decide_when_modalities_cannot() -> None:
    # The row names no modality: only the suites' own skip records can tell why.
    rows = [
        res("redteam", "image/pgd", "attack_success_rate", 0.5, details={"eps": 0.01}),
        res(
            "redteam", "image/pgd", "attack_success_rate", 0.9, details={"eps": 0.03, "eps_255": 8}
        ),
        res("redteam", "index/poison", "attack_success_rate", 0.2, details={"budget": 1}),
    ]
    skipped = [
        res("redteam", "image/pgd", "skipped", None, details={"reason": "x does not embed images"}),
        res("redteam", "index/poison", "skipped", None, details={"reason": "no text corpus"}),
    ]
    probe_failed = res(
        "bias",
        "coverage",
        "probes_run",
        0.0,
        details={"failed": {"skew/emoji": "ValueError: bad gallery"}},
    )
    skew = res("bias", "skew/emoji/gender", "max_skew@20", 0.4)
    skew10 = res("bias", "skew/emoji/gender", "max_skew@10", 0.7, p_value=0.2)
    suites = ("redteam", "bias")
    a = report("a", [*rows, skew, skew10], suites=suites)
    b = report("b", [*skipped, probe_failed], suites=suites)
    comp = _table(RunRef("a", a), RunRef("b", b))
    pgd = _row(comp, "image/pgd")
    assert comp.rows[pgd].label == "image/pgd: attack success @ eps 8/255"  # largest budget
    assert comp.cell(pgd, "a").value == 0.9
    assert comp.cell(pgd, "b").kind == "unsupported"
    assert comp.cell(_row(comp, "index/poison"), "b").kind == "not-run"
    sk = _row(comp, "skew/emoji/gender")
    assert comp.rows[sk].label == "skew/emoji/gender: MaxSkew@10"  # the smallest k
    assert comp.cell(sk, "a").value == 0.7
    assert comp.cell(sk, "b").kind == "error" and "bad gallery" in comp.cell(sk, "b").reason


def test_safety_rows_and_usage_rows() -> None:
    rows = [
        res("safety", "labelled/text-templates", "recall", 0.9, variant="filter"),
        res("safety", "labelled/text-templates", "false_positive_rate", 0.05, variant="filter"),
        res("safety", "labelled/text-templates", "precision", 0.95, variant="filter"),
        res("safety", "benign/photos", "false_positive_rate", 0.0, variant="filter"),
        res("safety", "benign/photos/groups/x", "false_positive_rate", 0.1, variant="filter"),
        res("safety", "evasion/text/leet", "recall", 0.2, variant="hardened"),
    ]
    hosted = report(
        "h",
        rows,
        suites=("safety",),
        usage={"requests": 1234, "images": 3, "text_chars": 10, "media_seconds": 2.25},
    )
    local = report("l", rows, suites=("safety",))
    comp = _table(RunRef("h", hosted), RunRef("l", local))
    labels = [r.label for r in comp.rows if r.group == "SAFETY"]
    assert labels == [
        "labelled/text-templates: unsafe blocked (recall)",
        "labelled/text-templates: false-positive rate",
        "benign/photos: false-positive rate",
    ]
    usage = {r.label: i for i, r in enumerate(comp.rows) if r.group == "USAGE"}
    assert comp.rows[-1].group == "USAGE"
    assert comp.cell(usage["requests sent"], "h").text == "1,234"
    assert comp.cell(usage["media seconds"], "h").text == "2.2"
    assert comp.cell(usage["requests sent"], "l").text == "n/a"


def test_format_value_by_hand() -> None:
    assert format_value(0.12345, "percent", (0.1, 0.15)) == "12.3 [10.0, 15.0]"
    assert format_value(-0.5, "signed", (-0.9, -0.1), 0.0004) == "-0.50 [-0.90, -0.10] p<0.001"
    assert format_value(0.25, "plain", p=0.5) == "0.250 p=0.500"
    assert format_value(1234.6, "count") == "1,235"


def test_labels_and_modalities() -> None:
    assert short_label("hf:/tmp/models/clip?frames=4#abc") == "hf:clip"
    assert short_label("bedrock:amazon.nova-2-multimodal-embeddings-v1:0?dim=256") == (
        "bedrock:amazon.nova-2-multimodal-embeddings-v1:0"
    )
    assert short_label("local") == "local"
    assert column_labels(["hf:/a/clip", "hf:/b/clip", "local"]) == [
        "hf:clip (1)",
        "hf:clip (2)",
        "local",
    ]
    assert needed_modalities("text->image") == ["image", "text"]
    assert needed_modalities("image|text") == ["image", "text"]
    assert needed_modalities(None) == []


def test_written_files_round_trip_and_markdown_escapes(tmp_path: Path) -> None:
    a = report("a|b", _retrieval(8, avg_recall=0.5))
    comp = build_comparison(
        [RunRef("x:a|b", a), RunRef("local", None, error="no")],
        comparison_id="cmp",
        suites=["retrieval"],
        root=tmp_path,
    )
    path = write_comparison(comp, tmp_path)
    again = load_comparison(tmp_path)
    assert again == comp and path.name == "comparison.json"
    md = (tmp_path / "comparison.md").read_text()
    assert md == comparison_markdown(comp)
    assert "| **TEXT RETRIEVAL** | | |" in md and "x:a\\|b" in md
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and "Avg" in ln]
    assert all(ln.count(" | ") == 2 for ln in table)  # label + two columns, no stray pipe
    bad = comp.model_dump()
    bad["cells"][0] = bad["cells"][0][:1]
    with pytest.raises(ValueError, match="cells for 2 embedders"):
        Comparison.model_validate(bad)
    newer = tmp_path / "newer"
    newer.mkdir()
    (newer / "comparison.json").write_text('{"schema_version": 2}')
    with pytest.raises(ValueError, match="newer than this tool"):
        load_comparison(newer)


def test_merge_junit_keeps_each_embedders_suite(tmp_path: Path) -> None:
    from audit.gates import write_junit_error

    a = write_junit_error(tmp_path / "a.xml", name="run", message="boom")
    b = write_junit_error(tmp_path / "b.xml", name="policy", message="bad")
    root = ET.parse(merge_junit([("local", a), ("hf:clip", b)], tmp_path / "all.xml")).getroot()
    names = [s.get("name") for s in root.iter("testsuite")]
    assert names == ["mme-audit gates [local]", "mme-audit gates [hf:clip]"]
    assert (root.get("tests"), root.get("errors"), root.get("failures")) == ("2", "2", "0")
