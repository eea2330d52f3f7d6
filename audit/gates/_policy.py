"""The gate policy file (TOML): pydantic models, loading and readable validation errors.

A policy is a ``[policy]`` table and one ``[[gate]]`` table per gate. Every model forbids
unknown keys and runs in strict mode, so a typo'd key (``chek = "weat/*"``) or a wrong type
(``max = "0.8"``) is a :class:`~audit.config.ConfigError`, never a silently ignored line.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from audit.config import ConfigError
from audit.report import DIMENSIONS, Dimension

# One operator per gate; the first three compare a number with a threshold, the next two
# compare with a baseline run, the last counts the selected results.
THRESHOLD_OPS = ("min", "max", "max_abs")
REGRESSION_OPS = ("max_drop", "max_increase")
COUNT_OPS = ("min_results",)
OPERATORS = THRESHOLD_OPS + REGRESSION_OPS + COUNT_OPS
RESULT_FIELDS = ("value", "ci_low", "ci_high", "p_value", "n")


def _as_patterns(v: Any) -> Any:
    if v is None:
        return None
    items = [v] if isinstance(v, str) else v
    if not isinstance(items, list) or not items or not all(isinstance(p, str) for p in items):
        raise ValueError(f"expected a glob pattern or a non-empty list of them, got {v!r}")
    if any(not p for p in items):
        raise ValueError("empty pattern; leave the selector out to match everything")
    return tuple(items)


def _as_dims(v: Any) -> Any:
    if v is None:
        return None
    items = [v] if isinstance(v, int) and not isinstance(v, bool) else v
    ok = isinstance(items, list) and items
    if not ok or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in items):
        raise ValueError(f"expected a positive integer or a list of them, got {v!r}")
    return tuple(items)


Patterns = Annotated[tuple[str, ...] | None, BeforeValidator(_as_patterns)]
Dims = Annotated[tuple[int, ...] | None, BeforeValidator(_as_dims)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Gate(_Strict):
    """One gate: which results it selects, the operator, and how strictly it judges.

    Selectors (all optional; a result must match every one given): ``suite``, ``check``,
    ``metric``, ``variant``, ``modality``, ``group`` (glob patterns or lists of them) and
    ``dim`` (an int or a list). Exactly one operator: ``min``, ``max``, ``max_abs``,
    ``max_drop``, ``max_increase`` (against ``--baseline``) or ``min_results``.
    """

    name: str = Field(min_length=1)
    description: str = ""
    # The responsible-AI dimension the gate serves (the verdict groups gates by it). A
    # policy file must name it for every gate (parse_policy); None only for gates built in
    # Python, which then count toward the overall verdict alone.
    dimension: Dimension | None = None
    suite: Patterns = None
    check: Patterns = None
    metric: Patterns = None
    variant: Patterns = None
    modality: Patterns = None
    group: Patterns = None
    dim: Dims = None
    field: Literal["value", "ci_low", "ci_high", "p_value", "n"] = "value"
    min: float | None = None
    max: float | None = None
    max_abs: float | None = None
    max_drop: float | None = None
    max_increase: float | None = None
    min_results: int | None = None
    when: Literal["always", "significant", "ci"] = "always"
    alpha: float | None = None
    # Significance reads the p_adjusted the suite stored (Holm within its family,
    # docs/bias-statistics.md); "holm" names that adjustment and is optional.
    correction: Literal["holm"] | None = None
    change: Literal["absolute", "relative"] = "absolute"
    magnitude: bool = False
    allow_empty: bool = False
    allow_missing: bool = False

    @field_validator("min", "max", "max_abs", "max_drop", "max_increase", "alpha")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError(f"must be a finite number, got {v!r}")
        return v

    @field_validator("correction", mode="before")
    @classmethod
    def _stored_correction(cls, v: object) -> object:
        if v in ("none", "bonferroni"):
            raise ValueError(
                f"correction = {v!r} is no longer supported: a significance gate reads the "
                "p_adjusted the suite stored (Holm within its family; docs/bias-statistics.md), "
                "the same number every summary shows; drop correction or write 'holm'"
            )
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Gate:
        ops = [op for op in OPERATORS if getattr(self, op) is not None]
        if len(ops) != 1:
            given = ", ".join(ops) if ops else "none"
            raise ValueError(
                f"needs exactly one operator of {', '.join(OPERATORS)} (given: {given}); "
                "write a second [[gate]] for a second bound"
            )
        op = ops[0]
        if op in ("max_abs", "max_drop", "max_increase") and getattr(self, op) < 0:
            raise ValueError(f"{op} must be >= 0, got {getattr(self, op)}")
        if op == "min_results" and self.min_results < 1:  # type: ignore[operator]
            raise ValueError(f"min_results must be >= 1, got {self.min_results}")
        if self.when != "always":
            if op not in THRESHOLD_OPS:
                raise ValueError(f"when = {self.when!r} applies to min/max/max_abs, not {op}")
            if self.field != "value":
                raise ValueError(f"when = {self.when!r} judges the value; drop field = ...")
        if self.when != "significant" and (self.alpha is not None or self.correction is not None):
            raise ValueError("alpha and correction apply only with when = 'significant'")
        if self.alpha is not None and not 0 < self.alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {self.alpha}")
        if op not in REGRESSION_OPS and (
            self.change != "absolute" or self.magnitude or self.allow_missing
        ):
            raise ValueError(
                "change, magnitude and allow_missing apply only to max_drop/max_increase"
            )
        if op in COUNT_OPS and self.field != "value":
            raise ValueError("min_results counts results; drop field = ...")
        return self

    @property
    def operator(self) -> str:
        """The gate's operator name (one of :data:`OPERATORS`)."""
        return next(op for op in OPERATORS if getattr(self, op) is not None)

    @property
    def threshold(self) -> float:
        """The operator's bound."""
        return float(getattr(self, self.operator))

    @property
    def is_regression(self) -> bool:
        """True for ``max_drop``/``max_increase`` gates (they need a baseline run)."""
        return self.operator in REGRESSION_OPS


class PolicyMeta(_Strict):
    """The ``[policy]`` table: a name for reports, and defaults for the gates."""

    name: str = "policy"
    description: str = ""
    version: Literal[1] = 1
    alpha: float = 0.05

    @field_validator("alpha")
    @classmethod
    def _alpha(cls, v: float) -> float:
        if not 0 < v < 1:
            raise ValueError(f"alpha must lie in (0, 1), got {v}")
        return v


class Policy(_Strict):
    """A whole policy file: ``[policy]`` plus one or more ``[[gate]]`` tables."""

    policy: PolicyMeta = Field(default_factory=PolicyMeta)
    gate: list[Gate]
    _source: str | None = PrivateAttr(default=None)
    _sha256: str | None = PrivateAttr(default=None)

    @field_validator("gate")
    @classmethod
    def _gates(cls, gates: list[Gate]) -> list[Gate]:
        if not gates:
            raise ValueError("the policy defines no gate; add [[gate]] tables")
        seen: set[str] = set()
        for g in gates:
            if g.name in seen:
                raise ValueError(f"duplicate gate name {g.name!r}; names must be unique")
            seen.add(g.name)
        return gates

    @property
    def name(self) -> str:
        """The policy's name (``[policy] name``)."""
        return self.policy.name

    @property
    def source(self) -> str | None:
        """The file the policy was read from (None when parsed from text)."""
        return self._source

    @property
    def sha256(self) -> str | None:
        """sha256 of the policy file's bytes, recorded in the report."""
        return self._sha256

    def needs_baseline(self) -> list[str]:
        """Names of the gates that compare with a baseline run."""
        return [g.name for g in self.gate if g.is_regression]

    def alpha_for(self, gate: Gate) -> float:
        """The gate's alpha, else the policy's."""
        return gate.alpha if gate.alpha is not None else self.policy.alpha


_KNOWN_KEYS = {
    "policy": set(PolicyMeta.model_fields),
    "gate": set(Gate.model_fields),
    "": set(Policy.model_fields),
}


def _describe_error(err: Any, data: dict[str, Any]) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    where, table = "top level", ""
    if loc and loc[0] == "gate" and len(loc) > 1 and isinstance(loc[1], int):
        raw = data.get("gate", [])
        gname = raw[loc[1]].get("name") if loc[1] < len(raw) else None
        where = f"gate[{loc[1]}]" + (f" ({gname!r})" if isinstance(gname, str) else "")
        table, loc = "gate", loc[2:]
    elif loc and loc[0] == "policy":
        where, table, loc = "[policy]", "policy", loc[1:]
    key = str(loc[0]) if loc else ""
    if err["type"] == "extra_forbidden":
        close = difflib.get_close_matches(key, sorted(_KNOWN_KEYS[table]), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(_KNOWN_KEYS[table]))
        return f"{where}: unknown key {key!r}{hint} (known: {known})"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{where}: {key + ': ' if key else ''}{msg}"


def _missing_dimensions(data: dict[str, Any]) -> list[str]:
    """One problem per gate table without ``dimension``: a policy file must say which
    responsible-AI dimension each gate serves, or the verdict could not place it."""
    gates = data.get("gate")
    if not isinstance(gates, list):
        return []
    out = []
    for i, g in enumerate(gates):
        if isinstance(g, dict) and "dimension" not in g:
            name = g.get("name")
            where = f"gate[{i}]" + (f" ({name!r})" if isinstance(name, str) else "")
            out.append(
                f"{where}: no dimension; name the responsible-AI dimension the gate serves "
                f"(dimension = one of {', '.join(map(repr, DIMENSIONS))})"
            )
    return out


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse and validate a policy from TOML text.

    Parameters
    ----------
    text : str
        The TOML document.
    source : str, default="<policy>"
        Name used in error messages.

    Returns
    -------
    Policy

    Raises
    ------
    ConfigError
        Invalid TOML, an unknown key, a wrong type or an inconsistent gate; the message
        names every problem, each with its gate.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML ({exc})") from exc
    if "gate" in data and not isinstance(data["gate"], list):
        raise ConfigError(f"{source}: gates are [[gate]] tables (double brackets), not [gate]")
    problems = _missing_dimensions(data)
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems += [_describe_error(e, data) for e in exc.errors()]
        if "gate" not in data:
            problems = ["the policy defines no gate; add [[gate]] tables"] + [
                p for p in problems if "gate: Field required" not in p
            ]
    if problems:
        raise ConfigError(f"{source}: invalid policy:\n  " + "\n  ".join(problems)) from None
    policy._source = source
    policy._sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return policy


#: The shipped gate policy (package data); ``--policy default`` names it.
DEFAULT_POLICY = Path(__file__).resolve().parent / "policies" / "default.toml"


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file.

    Parameters
    ----------
    path : str or Path
        The TOML policy file, or ``"default"`` for the shipped, commented starting
        point (:data:`DEFAULT_POLICY`, installed with the package).

    Returns
    -------
    Policy

    Raises
    ------
    ConfigError
        The file is missing, unreadable or invalid (see :func:`parse_policy`).
    """
    path = DEFAULT_POLICY if str(path) == "default" else Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"policy file not found: {path}") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read policy file {path}: {exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc})") from exc
    policy = parse_policy(text, source=str(path))
    policy._sha256 = hashlib.sha256(raw).hexdigest()
    return policy
