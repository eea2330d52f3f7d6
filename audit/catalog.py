"""What ``audit list`` prints, read from the registries: one row per registered component.

Each kind maps to a function returning ``(name, description)`` rows, so the CLI lists a
registry without keeping its own copy of the names. Embedders are listed by the CLI itself
(it adds capabilities and availability). Imports happen when a kind is listed:
``attacks`` and ``defenses`` import :mod:`redteam` (and torch); the others stay light.
"""

from __future__ import annotations

from collections.abc import Callable


def _suites() -> list[tuple[str, str]]:
    from audit.suites import SUITES

    return [(name, entry.description) for name, entry in SUITES.items()]


def _probes() -> list[tuple[str, str]]:
    from audit.suites.bias import list_probes  # no torch/faiss import

    return list_probes()


def _engines() -> list[tuple[str, str]]:
    from audit.engines import ENGINES

    return [(name, entry.description) for name, entry in ENGINES.items()]


def _metrics() -> list[tuple[str, str]]:
    from audit.metrics import METRICS

    def bound(v: float | None, inf: str) -> str:
        return inf if v is None else f"{v:g}"

    rows = []
    for _, m in METRICS.items():
        label = m.template
        better = {"higher": "higher is better", "lower": "lower is better"}.get(
            m.direction or "", "closer to 0 is better" if m.direction else "no direction"
        )
        span = f"[{bound(m.low, '-inf')}, {bound(m.high, 'inf')}]"
        rows.append((label, f"{m.description} ({better}; {m.unit} in {span})"))
    return rows


def _attacks() -> list[tuple[str, str]]:
    from redteam.index import index_attacks
    from redteam.tensor import tensor_attacks
    from redteam.text import text_attacks

    rows = []
    for name in text_attacks.in_order():
        a = text_attacks.get(name)
        rows.append((f"text/{name}", f"[{a.threat_model}, {a.norm}] {text_attacks.describe(name)}"))
    for name, s in tensor_attacks.items():
        what = "/".join(s.modalities)
        rows.append((f"tensor/{name}", f"[{s.threat_model}, {s.norm}, {what}] {s.description}"))
    for name, i in index_attacks.items():
        tags = f"[{i.threat_model}, {i.norm}, {i.modality}]"
        rows.append((f"index/{name}", f"{tags} {i.description}"))
    return rows


def _defenses() -> list[tuple[str, str]]:
    from redteam.defenses import defenses

    return [
        (name, f"[{d.role} on {d.applies_to}; against {', '.join(d.counters)}] {d.description}")
        for name, d in defenses.items()
    ]


#: Kind -> (name column width, rows). ``audit list KIND`` prints these.
CATALOG: dict[str, tuple[int, Callable[[], list[tuple[str, str]]]]] = {
    "suites": (12, _suites),
    "probes": (36, _probes),
    "engines": (12, _engines),
    "metrics": (28, _metrics),
    "attacks": (24, _attacks),
    "defenses": (18, _defenses),
}


def catalog_lines(kind: str) -> list[str]:
    """The lines ``audit list KIND`` prints for a registry kind of :data:`CATALOG`."""
    width, rows = CATALOG[kind]
    return [f"{name:{width}s} {description}" for name, description in rows()]
