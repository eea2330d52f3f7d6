"""The terminal output: columns that tell rows apart, no silent truncation, small samples.

Each test builds results by hand and compares the printed lines with lines written out by
hand from the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.cli import main
from audit.report import EmbedderInfo, Report, Result
from audit.suites import suite_summary
from audit.suites._retrieval import MIN_QUERIES, too_few_queries
from audit.suites._summaries.retrieval import degradation_table, group_table
from audit.summary import format_table, run_table, settings, summarize


def _r(**kw: object) -> Result:
    base: dict = {"suite": "retrieval", "check": "ds", "metric": "recall@10", "value": 0.5}
    return Result(**(base | kw))


def _report(results: list[Result]) -> Report:
    info = EmbedderInfo(spec="local", name="local", modalities=["text"], dim=8)
    return Report(run_id="r1", tool_version="0", suite="x", embedder=info, results=results)


def test_run_table_shows_the_group_of_each_group_row() -> None:
    rows = [
        _r(modality="text->image", dim=8, group="gender=man", value=0.25, n=12),
        _r(modality="text->image", dim=8, group="gender=woman", value=0.125, n=12),
        _r(modality="text->image", dim=8, value=0.2, ci_low=0.1, ci_high=0.3, n=24),
    ]
    table, left = run_table(rows)
    want = format_table(
        [
            [
                "ds",
                "recall@10",
                "raw",
                "gender=man",
                "text->image",
                "8",
                "0.250",
                "-",
                "-",
                "12",
                "",
            ],
            [
                "ds",
                "recall@10",
                "raw",
                "gender=woman",
                "text->image",
                "8",
                "0.125",
                "-",
                "-",
                "12",
                "",
            ],
            [
                "ds",
                "recall@10",
                "raw",
                "-",
                "text->image",
                "8",
                "0.200",
                "[0.100, 0.300]",
                "-",
                "24",
                "",
            ],
        ],
        ["check", "metric", "variant", "group", "modality", "dim", "value", "95% CI", "p", "n", ""],
    )
    assert (table, left) == (want, 0)


def test_run_table_names_the_setting_that_tells_red_team_rows_apart() -> None:
    def asr(eps: int, defense: str | None, value: float) -> Result:
        d: dict = {"eps_255": eps, "n_eligible": 20, "seconds": 1.0 + eps}
        variant = "raw"
        if defense:
            d["defense"], variant = defense, "defended"
        return Result(
            suite="redteam",
            check="image/pgd",
            metric="attack_success_rate",
            value=value,
            variant=variant,
            modality="image",
            details=d,
        )

    rows = [asr(4, None, 0.3), asr(8, None, 0.6), asr(8, "jpeg", 0.2), asr(8, "blur", 0.1)]
    # raw rows differ by budget only; defended rows share eps 8 and differ by defense;
    # "seconds" is not a setting and is left out; the defended eps is the same, left out.
    assert settings(rows) == ["eps_255=4", "eps_255=8", "defense=jpeg", "defense=blur"]
    table, _ = run_table(rows)
    header = table.splitlines()[0].split()
    assert header[:5] == ["check", "metric", "variant", "modality", "setting"]
    assert [line.split()[4] for line in table.splitlines()[2:]] == [
        "eps_255=4",
        "eps_255=8",
        "defense=jpeg",
        "defense=blur",
    ]


def test_settings_fall_back_to_other_plain_details() -> None:
    rows = [_r(details={"attack": "a", "x": 1.5}), _r(details={"attack": "b", "x": 2.5})]
    assert settings(rows) == ["attack=a", "attack=b"]  # floats are measurements, not settings
    assert settings([_r(), _r(check="other")]) == ["", ""]  # nothing shared: no setting


def test_truncated_run_table_says_how_to_see_every_row(tmp_path: Path, capsys) -> None:
    results = [_r(dim=d, value=d / 100) for d in (64, 32, 16, 8)]
    report = _report(results)
    run_dir = tmp_path / "run1"
    run_dir.mkdir()
    path = report.save(run_dir / "report.json")
    text = summarize(report, path=str(path), max_rows=3)
    assert f"... 1 more result(s) not shown; every row: audit show {run_dir} --all" in text
    assert "0.080" not in text  # the fourth row (dim 8) is the one left out
    assert main(["show", str(run_dir), "--all"]) == 0
    shown = capsys.readouterr().out
    assert "more result(s)" not in shown
    for d in (64, 32, 16, 8):
        assert f"ds     recall@10  raw      {d:<3}  {d / 100:.3f}" in shown


def test_show_a_missing_run_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["show", str(tmp_path / "nope")]) == 2
    assert "no report found" in capsys.readouterr().err


# -- too few queries --------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "want"), [(3, "too few queries (n=3)"), (MIN_QUERIES, None)])
def test_too_few_queries(n: int, want: str | None) -> None:
    assert too_few_queries(n) == want


def test_too_few_replaces_the_ci_and_is_named_in_the_tables() -> None:
    few = _r(
        modality="text->image",
        dim=8,
        value=0.444,
        ci_low=0.0,
        ci_high=1.0,
        n=3,
        metric="avg_hit",
        too_few="too few queries (n=3)",
    )
    enough = _r(
        check="big",
        modality="text->text",
        dim=8,
        value=0.9,
        ci_low=0.85,
        ci_high=0.95,
        n=40,
        metric="avg_hit",
    )
    table, _ = run_table([few, enough])
    lines = table.splitlines()
    assert "too few (n=3)" in lines[2] and "[0.000, 1.000]" not in lines[2]
    assert "[0.850, 0.950]" in lines[3]
    text = summarize(_report([few, enough]))
    assert "too few: 1 result(s) rest on a sample too small to read" in text
    deg = degradation_table([few, enough], ("avg_hit",), "Avg")
    assert deg is not None
    assert deg.splitlines()[-1].startswith("  ds text->image raw: too few queries (n=3): ")
    assert "big" not in deg.splitlines()[-1]


def test_group_table_one_row_per_group_at_the_largest_size() -> None:
    rows = [
        _r(modality="t->i", dim=dim, group=f"gender={g}", value=v, n=n)
        for dim in (8, 4)
        for g, v, n in (("man", 0.5, 12), ("woman", 0.25, 3))
    ]
    rows[1] = rows[1].model_copy(update={"too_few": "too few queries (n=3)"})
    rows.append(
        _r(modality="t->i", dim=8, group="gender", metric="recall@10_difference", value=0.25, n=15)
    )
    text = group_table(rows)
    assert text is not None
    lines = text.splitlines()
    # dim 4 rows are left out (largest size only); the gap closes the attribute
    assert [line.split() for line in lines[3:]] == [
        ["ds", "t->i", "raw", "8", "gender", "man", "50.0", "12"],
        ["ds", "t->i", "raw", "8", "gender", "woman", "25.0", "too", "few", "queries", "(n=3)"],
        ["ds", "t->i", "raw", "8", "gender", "gap", "(best", "-", "worst)", "25.0", "15"],
    ]


# -- safety --------------------------------------------------------------------------------


def _safety() -> list[Result]:
    s = {"suite": "safety", "variant": "filter", "modality": "text"}
    check = "benign/identity-mentions/groups/identity"
    return [
        Result(
            check="labelled/x", metric="recall", value=0.9, ci_low=0.8, ci_high=0.95, n=100, **s
        ),
        Result(check="labelled/x", metric="precision", value=0.75, n=100, **s),
        Result(
            check="benign/identity-mentions",
            metric="false_positive_rate",
            value=0.1,
            ci_low=0.05,
            ci_high=0.2,
            n=40,
            **s,
        ),
        Result(
            check=check,
            metric="false_positive_rate",
            group="identity=Muslim",
            value=0.2,
            ci_low=0.05,
            ci_high=0.5,
            n=20,
            **s,
        ),
        Result(
            check=check,
            metric="false_positive_rate",
            group="identity=Jewish",
            value=0.0,
            ci_low=0.0,
            ci_high=0.16,
            n=20,
            **s,
        ),
        Result(
            check=check,
            metric="fpr_gap",
            value=0.2,
            p_value=0.03,
            n=40,
            details={"worst_group": "Muslim"},
            **s,
        ),
        Result(check="latency/text", metric="filter_ms_per_item", value=12.5, n=8, **s),
    ]


def test_safety_summary_shows_the_identity_of_each_group_row() -> None:
    text = suite_summary("safety", _safety())
    assert text is not None
    lines = text.splitlines()
    head = lines.index(next(x for x in lines if x.startswith("check") and "attribute" in x))
    assert [x.split() for x in lines[head + 2 : head + 5]] == [
        [
            "benign/identity-mentions",
            "filter",
            "identity",
            "Muslim",
            "0.200",
            "[0.050,",
            "0.500]",
            "20",
        ],
        [
            "benign/identity-mentions",
            "filter",
            "identity",
            "Jewish",
            "0.000",
            "[0.000,",
            "0.160]",
            "20",
        ],
        [
            f"{'benign/identity-mentions/groups/identity'}",
            "(filter):",
            "gap",
            "0.200",
            "(max",
            "-",
            "min",
            "FPR),",
            "worst",
            "group",
            "Muslim,",
            "chi-square",
            "p",
            "=",
            "0.03",
        ],
    ]


def test_safety_summary_shows_every_result() -> None:
    text = suite_summary("safety", _safety())
    assert text is not None
    # the labelled row: recall, precision, recall's CI and n, from the results above
    assert any(
        x.split() == ["labelled/x", "filter", "text", "0.900", "0.750", "[0.800,", "0.950]", "100"]
        for x in text.splitlines()
    )
    assert any(
        x.split()[:4] == ["benign/identity-mentions", "filter", "text", "0.100"]
        for x in text.splitlines()
    )
    # a result no section knows still shows, under "Other"
    assert any(
        x.split()[:2] == ["latency/text", "filter_ms_per_item"] and "12.500" in x
        for x in text.splitlines()
    )


def test_quick_retrieval_keeps_enough_queries_to_read() -> None:
    # --quick used to keep 3 emoji-professions queries (max_corpus 64 holds the ~18
    # relevant images of 3 queries), so every CI was [0, 1]; now each quick dataset keeps
    # MIN_QUERIES judged queries (or all it has), and so is not marked too_few.
    import numpy as np

    from audit.datasets import load_dataset
    from audit.suites._retrieval import RetrievalOptions
    from audit.suites.retrieval import subsample

    opts = RetrievalOptions.parse({}, quick=True)
    for spec in opts.datasets:
        ds = load_dataset(spec)
        small, _ = subsample(ds, opts.max_queries, opts.max_corpus, np.random.default_rng(0))
        judged = sum(any(g > 0 for g in j.values()) for j in small.qrels.values())
        assert judged >= min(MIN_QUERIES, len(ds.queries)), spec
        assert too_few_queries(judged) is None
