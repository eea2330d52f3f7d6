"""plan.json: what a dry run found each embedder would be sent (its own schema_version).

Built from a planning embedder's :class:`~audit.usage._planning.Ledger` and the cache's
hit count by :func:`embedder_plan`; priced (optionally) by :func:`price_plan`; shown by
:func:`plan_table`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from audit.embedders.base import Describable
from audit.usage._planning import PLANNED_FIELDS, Ledger
from audit.usage._prices import Prices, cost_of

PLAN_SCHEMA_VERSION = 1
LOCAL_NOTE = "local: no requests (runs on this machine)"
ESTIMATE_NOTE = (
    "Counts are an estimate where the work depends on the scores: adaptive red-team attacks "
    "(score-based image attacks, text attack search) stop early or go on depending on the "
    "similarities they see, and a dry run answers with placeholder vectors. Cache-served "
    "items are not counted (they would not be sent); latency timings, which bypass the "
    "cache, are counted once per item. Retries and throttled requests are not planned."
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlannedUsage(_Strict):
    """Planned counters (the planned fields of ``UsageCounts``)."""

    requests: int = 0
    async_jobs: int = 0
    text_chars: int = 0
    images: int = 0
    media_seconds: float = 0.0
    bytes_sent: int = 0

    @classmethod
    def from_counts(cls, counts: dict[str, float]) -> PlannedUsage:
        """From a ledger total (floats) to typed counters."""
        out: dict[str, Any] = {}
        for name in PLANNED_FIELDS:
            v = float(counts.get(name, 0.0))
            out[name] = round(v, 3) if name == "media_seconds" else round(v)
        return cls(**out)


class Cost(_Strict):
    """A priced plan: cost per counter and the total, in ``currency``."""

    currency: str
    price_key: str
    parts: dict[str, float]
    total: float


class EmbedderPlan(_Strict):
    """One embedder's dry run.

    Attributes
    ----------
    usage : PlannedUsage
        What this run's configuration would send: each item once when the run has an
        embedding cache (it serves repeats), every call when it has none.
    usage_without_cache : PlannedUsage
        Every embed call counted (what ``--no-cache`` would send).
    items : dict
        First-seen items per modality and purpose (what the backend would embed).
    repeats : int
        Embeddings of items already embedded earlier in the run (served by the cache).
    cache_hits : int
        Item lookups the existing cache would serve: not sent, not counted.
    hosted : bool
        Whether the backend plans requests (``plan_usage``); False for local models.
    """

    spec: str
    name: str
    model_id: str | None = None
    modalities: list[str] = Field(default_factory=list)
    dim: int = 0
    status: Literal["planned", "error"] = "planned"
    error: str | None = None
    hosted: bool = False
    cache: bool = False
    usage: PlannedUsage = Field(default_factory=PlannedUsage)
    usage_without_cache: PlannedUsage = Field(default_factory=PlannedUsage)
    items: dict[str, dict[str, int]] = Field(default_factory=dict)
    repeats: int = 0
    cache_hits: int = 0
    note: str = ""
    cost: Cost | None = None
    seconds: float = 0.0


class PricesInfo(_Strict):
    """Which prices file priced the plan."""

    path: str
    sha256: str
    currency: str


class UsagePlan(_Strict):
    """The dry run's plan.json."""

    schema_version: int = PLAN_SCHEMA_VERSION
    plan_id: str
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    tool_version: str
    suites: list[str]
    config: dict[str, Any] = Field(default_factory=dict)
    embedders: list[EmbedderPlan] = Field(default_factory=list)
    prices: PricesInfo | None = None
    notes: list[str] = Field(default_factory=lambda: [ESTIMATE_NOTE])

    def save(self, path: str | Path) -> Path:
        """Write the plan atomically (temp file + rename)."""
        from audit._io import save_json_model

        return save_json_model(self, path)


def load_plan(path: str | Path) -> UsagePlan:
    """Read and validate a plan.json (ValueError if it is not one)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > PLAN_SCHEMA_VERSION:
        raise ValueError(
            f"{path}: plan schema_version {version} is newer than this tool reads "
            f"({PLAN_SCHEMA_VERSION}); upgrade mme-audit"
        )
    return UsagePlan.model_validate(data)


def embedder_plan(
    spec: str,
    backend: Any,
    ledger: Ledger | None,
    *,
    cache: bool,
    cache_hits: int,
    seconds: float = 0.0,
    error: str | None = None,
) -> EmbedderPlan:
    """One embedder's plan from what its planning embedder counted.

    Parameters
    ----------
    spec : str
        The embedder spec.
    backend : Embedder or None
        The bare backend (for name, model id, modalities); None if it was never built.
    ledger : Ledger or None
        The planning embedder's counts (None: planning never started).
    cache : bool
        Whether the run has an embedding cache (then repeats are not sent again).
    cache_hits : int
        Lookups the existing cache served.
    """
    described: dict[str, Any] = {}
    if isinstance(backend, Describable):
        try:
            described = dict(backend.describe())
        except Exception:  # a description is a nicety; never lose the plan for it
            described = {}
    every = PlannedUsage.from_counts(ledger.every if ledger else {})
    unique = PlannedUsage.from_counts(ledger.unique if ledger else {})
    hosted = bool(ledger and ledger.hosted)
    return EmbedderPlan(
        spec=spec,
        name=str(backend.name) if backend is not None else spec,
        model_id=described.get("model_id") or getattr(backend, "model_id", None),
        modalities=sorted(backend.modalities) if backend is not None else [],
        dim=int(backend.dim) if backend is not None else 0,
        status="error" if error else "planned",
        error=error,
        hosted=hosted,
        cache=cache,
        usage=unique if cache else every,
        usage_without_cache=every,
        items={m: dict(p) for m, p in (ledger.items if ledger else {}).items()},
        repeats=ledger.repeats if ledger else 0,
        cache_hits=cache_hits,
        note="" if hosted else LOCAL_NOTE,
        seconds=round(seconds, 3),
    )


def price_plan(plan: UsagePlan, prices: Prices) -> UsagePlan:
    """Add a cost to each embedder the prices file names (model id, spec or name).

    Returns
    -------
    UsagePlan
        A copy; embedders without a price keep ``cost=None`` and say so in ``note``.
    """
    out = plan.model_copy(deep=True)
    out.prices = PricesInfo(path=prices.path, sha256=prices.sha256, currency=prices.currency)
    for e in out.embedders:
        found = prices.find([e.model_id, e.spec.split("?")[0].split("#")[0], e.spec, e.name])
        if found is None:
            if e.hosted:
                e.note = _join(e.note, "no price for this model in the prices file")
            continue
        key, table = found
        parts = cost_of(e.usage.model_dump(), table)
        total = parts.pop("total")
        e.cost = Cost(currency=prices.currency, price_key=key, parts=parts, total=total)
    return out


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def plan_rows(plan: UsagePlan) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the plan table (one row per embedder)."""
    header = ["embedder", "items", "requests", "text chars", "images", "media s"]
    header += ["cache hits", "repeats", "cost", "note"]
    rows = []
    for e in plan.embedders:
        u = e.usage
        cost = "-" if e.cost is None else f"{e.cost.total:,.4f} {e.cost.currency}"
        note = e.note if e.status == "planned" else f"ERROR: {e.error}"
        rows.append(
            [
                e.spec,
                f"{sum(sum(p.values()) for p in e.items.values()):,}",
                f"{u.requests:,}",
                f"{u.text_chars:,}",
                f"{u.images:,}",
                f"{u.media_seconds:,.1f}",
                f"{e.cache_hits:,}",
                f"{e.repeats:,}",
                cost,
                note,
            ]
        )
    return header, rows


def plan_table(plan: UsagePlan) -> str:
    """The plan as a fixed-width text table (one row per embedder) with its notes."""
    header, rows = plan_rows(plan)
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)
