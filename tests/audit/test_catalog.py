"""``audit list`` rows come from the registries (audit/catalog.py)."""

from __future__ import annotations

import pytest

from audit.catalog import CATALOG, catalog_lines


def _names(kind: str) -> list[str]:
    width = CATALOG[kind][0]
    return [line[:width].strip() for line in catalog_lines(kind)]


def test_engines_and_suites_are_the_registered_ones() -> None:
    assert _names("engines") == ["inprocess", "ray"]
    assert {"bias", "redteam", "retrieval", "safety"} <= set(_names("suites"))


def test_attacks_and_defenses_carry_their_metadata() -> None:
    lines = dict(zip(_names("attacks"), catalog_lines("attacks"), strict=True))
    assert lines["tensor/square"].split("] ")[0].endswith("[black-box, Linf, image/audio")
    assert "[index, Linf, image]" in lines["index/hub"]
    assert "[text, edits]" in lines["text/homoglyph"]
    assert len(lines) == 9 + 7 + 4  # text, tensor, index attacks (test_registry pins them)
    defenses = dict(zip(_names("defenses"), catalog_lines("defenses"), strict=True))
    assert "[reranker on index-scores; against index]" in defenses["csls"]


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("ndcg@k", "higher is better; fraction in [0, 1]"),
        ("mrr[@k]", "higher is better"),
        ("effect_size", "closer to 0 is better; Cohen's d in [-2, 2]"),
        ("recall@k_attacked", "no direction"),
        ("latency_ms_per_item", "ms in [0, inf]"),
    ],
)
def test_metric_rows_say_the_direction_unit_and_range(template: str, words: str) -> None:
    lines = dict(zip(_names("metrics"), catalog_lines("metrics"), strict=True))
    assert words in lines[template]


def test_audit_list_offers_every_catalog_kind_and_survives_a_closed_pipe():
    """`audit list KIND` for each registry kind prints catalog_lines(KIND); `| head` is no error."""
    import subprocess
    import sys

    from audit.catalog import CATALOG, catalog_lines

    for kind in ("engines", "suites"):
        out = subprocess.run(
            [sys.executable, "-m", "audit", "list", kind], capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines() == catalog_lines(kind)
    assert set(CATALOG) >= {"suites", "probes", "engines", "metrics", "attacks", "defenses"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "audit", "list", "probes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the reader leaves before the first line, like `| head -0`
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait() == 0, err
    assert "Traceback" not in err
