"""Options of the safety suite (``[suite.safety]`` in the run's TOML file)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.config import ConfigError, check_keys

#: Benign built-ins per modality (name, group attributes); --quick keeps the cheap ones.
BENIGN_BUILTINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("passages", ()),
    ("emoji-objects", ()),
    ("emoji-professions", ("gender", "skin_tone")),
    ("documents", ()),
    ("speech", ("voice_gender", "accent")),
    ("video", ()),
)
QUICK_BUILTINS = ("passages", "emoji-objects", "emoji-professions")
PARTS = ("labelled", "benign", "groups", "evasion", "text", "concepts", "latency")
_KNOWN = (
    "policy",
    "parts",
    "builtins",
    "datasets",
    "label_attribute",
    "max_items",
    "target_fpr",
    "latency_items",
    "confidence",
)


@dataclass
class SafetyOptions:
    """Parsed and validated options (defaults depend on ``--quick``).

    Attributes
    ----------
    policy : Path or None
        Policy TOML to evaluate; ``None``: the run's SafeEmbedder policy, else the default.
    parts : list of str
        Which measurements to run (see ``PARTS``).
    builtins : list of str
        Benign built-in datasets for false-positive rates.
    datasets : list of str
        The user's labelled dataset specs (``audit.datasets.load_dataset``).
    label_attribute : str
        Item attribute holding the label (true/1/"unsafe" = unsafe; false/0/"safe" = benign).
    max_items : int or None
        Items sampled per built-in dataset (``None``: all).
    target_fpr : float
        Target false-positive rate of the concept-calibration check.
    latency_items : int
        Items timed per modality.
    """

    policy: Path | None
    parts: list[str]
    builtins: list[str]
    datasets: list[str]
    label_attribute: str
    max_items: int | None
    target_fpr: float
    latency_items: int

    @classmethod
    def parse(cls, opts: Mapping[str, Any], *, quick: bool) -> SafetyOptions:
        """Validate ``opts``; unknown keys and bad values raise :class:`ConfigError`."""
        check_keys("[suite.safety]", opts, _KNOWN, "option")
        known_builtins = [n for n, _ in BENIGN_BUILTINS]
        default_builtins = list(QUICK_BUILTINS) if quick else known_builtins
        builtins = _names(opts, "builtins", default_builtins)
        bad = sorted(set(builtins) - set(known_builtins))
        if bad:
            raise ConfigError(f"[suite.safety] builtins {bad} unknown; known: {known_builtins}")
        parts = _names(opts, "parts", list(PARTS))
        bad = sorted(set(parts) - set(PARTS))
        if bad:
            raise ConfigError(f"[suite.safety] parts {bad} unknown; known: {list(PARTS)}")
        target = opts.get("target_fpr", 0.05)
        if isinstance(target, bool) or not isinstance(target, int | float) or not 0 < target < 1:
            raise ConfigError(f"[suite.safety] target_fpr must be in (0, 1), got {target!r}")
        max_items = _int(opts, "max_items", 24 if quick else 0) or None
        return cls(
            policy=Path(opts["policy"]) if opts.get("policy") else None,
            parts=parts,
            builtins=builtins,
            datasets=_names(opts, "datasets", []),
            label_attribute=str(opts.get("label_attribute", "unsafe")),
            max_items=max_items,
            target_fpr=float(target),
            latency_items=_int(opts, "latency_items", 8 if quick else 32) or 0,
        )


def _names(opts: Mapping[str, Any], key: str, default: list[str]) -> list[str]:
    value = opts.get(key, default)
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[suite.safety] {key} must be a list of strings, got {value!r}")
    return list(dict.fromkeys(value))


def _int(opts: Mapping[str, Any], key: str, default: int) -> int:
    value = opts.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"[suite.safety] {key} must be a non-negative int, got {value!r}")
    return value


def parse_label(value: Any) -> bool | None:
    """A label attribute as a bool (``None`` when it is not a recognised label)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("1", "true", "unsafe", "yes"):
            return True
        if v in ("0", "false", "safe", "benign", "no"):
            return False
    return None
