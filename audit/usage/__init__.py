"""Usage planning: what an audit would send to each hosted embedder, before it is run.

``audit run --dry-run`` composes :class:`PlanningEmbedder` where the backend sits (see
:func:`audit.pipeline.build_embedder`): the suites run on placeholder vectors while the
planner adds up the backend's ``plan_usage`` (requests, text characters, images, media
seconds). :func:`embedder_plan` turns that into one row of plan.json (:class:`UsagePlan`),
and :func:`price_plan` prices it with a user-filled prices file (:func:`load_prices`).
"""

from audit.usage._plan import (
    ESTIMATE_NOTE,
    LOCAL_NOTE,
    PLAN_SCHEMA_VERSION,
    Cost,
    EmbedderPlan,
    PlannedUsage,
    PricesInfo,
    UsagePlan,
    embedder_plan,
    load_plan,
    plan_rows,
    plan_table,
    price_plan,
)
from audit.usage._planning import (
    PLANNED_FIELDS,
    Ledger,
    PlanningEmbedder,
    find_planner,
    placeholder_vectors,
)
from audit.usage._prices import PRICE_FIELDS, Prices, cost_of, load_prices

__all__ = [
    "ESTIMATE_NOTE",
    "LOCAL_NOTE",
    "PLANNED_FIELDS",
    "PLAN_SCHEMA_VERSION",
    "PRICE_FIELDS",
    "Cost",
    "EmbedderPlan",
    "Ledger",
    "PlannedUsage",
    "PlanningEmbedder",
    "Prices",
    "PricesInfo",
    "UsagePlan",
    "cost_of",
    "embedder_plan",
    "find_planner",
    "load_plan",
    "load_prices",
    "placeholder_vectors",
    "plan_rows",
    "plan_table",
    "price_plan",
]
