"""PII detection and recovery counted by hand."""

from __future__ import annotations

import math

import pytest

from redteam.privacy._pii import PiiItem, detect_pii, pii_recovery

NAMES = ["Alice", "bob", "Chen"]


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval, written out from the formula (Wilson 1927)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_detect_pii_by_hand() -> None:
    text = "Call Alice at 555-0100 or ALICE@Example.com, not Bob; room 12."
    assert detect_pii(text, names=NAMES) == [
        PiiItem("name", "alice"),
        PiiItem("number", "5550100"),
        PiiItem("email", "alice@example.com"),
        PiiItem("name", "bob"),
        PiiItem("number", "12"),
    ]
    assert detect_pii("alice met bob") == []  # no lexicon, no names


def test_pii_recovery_by_hand() -> None:
    truths = [
        "Alice paid 40 dollars to bob@example.com.",  # name, number, email
        "Chen and Chen called 911.",  # name x2, number
        "Nothing personal here.",
    ]
    guesses = [
        "alice paid 41 dollars to bob@example.com",  # name yes, number no, email yes
        "chen called 911 chen chen",  # names 2 of 2 (a third is not extra credit), number yes
        "alice",  # nothing to recover
    ]
    res = pii_recovery(truths, guesses, names=NAMES)
    # By hand: names 3/3, numbers 1/2, e-mails 1/1, overall 5/6.
    assert (res.by_kind["name"].value, res.by_kind["name"].n) == (1.0, 3)
    assert (res.by_kind["number"].value, res.by_kind["number"].n) == (0.5, 2)
    assert (res.by_kind["email"].value, res.by_kind["email"].n) == (1.0, 1)
    assert res.overall.value == pytest.approx(5 / 6) and res.overall.n == 6
    assert (res.overall.low, res.overall.high) == pytest.approx(_wilson(5, 6))
    assert res.n_texts == 3 and res.n_texts_with_pii == 2


def test_no_pii_gives_nan_not_a_rate() -> None:
    res = pii_recovery(["plain words"], ["plain words"])
    assert math.isnan(res.overall.value) and res.overall.n == 0 and res.overall.low is None


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="2 truths but 1 reconstructions"):
        pii_recovery(["a", "b"], ["a"])
    with pytest.raises(TypeError, match="not one string"):
        detect_pii("Alice", names="Alice")
