"""Optional prices for a dry-run plan: a TOML file the user fills in (none ship as facts).

Format (see docs/examples/prices.example.toml)::

    currency = "USD"
    [models."<model id, spec or name>"]
    per_1k_requests = 0.0
    per_1m_chars = 0.0
    per_image = 0.0
    per_media_second = 0.0

A file that still says ``example = true`` is refused: the shipped example holds no real
prices, and a cost computed from it would look like a fact.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.config import ConfigError

#: Price fields and the counter each one multiplies (with its unit divisor).
PRICE_FIELDS: dict[str, tuple[str, float]] = {
    "per_1k_requests": ("requests", 1_000.0),
    "per_1m_chars": ("text_chars", 1_000_000.0),
    "per_image": ("images", 1.0),
    "per_media_second": ("media_seconds", 1.0),
}


@dataclass(frozen=True)
class Prices:
    """Prices per model, read from a TOML file.

    Attributes
    ----------
    currency : str
        Currency label, shown beside every cost (no conversion is done).
    models : dict
        Model key -> price field -> price (the fields of :data:`PRICE_FIELDS`).
    path : str
        Where the prices were read from.
    sha256 : str
        Hash of the file, recorded in plan.json.
    """

    currency: str
    models: dict[str, dict[str, float]] = field(default_factory=dict)
    path: str = ""
    sha256: str = ""

    def find(self, keys: Sequence[str | None]) -> tuple[str, dict[str, float]] | None:
        """The first of ``keys`` that has prices, with its prices (None: none has)."""
        for key in keys:
            if key and key in self.models:
                return key, self.models[key]
        return None


def load_prices(path: str | Path) -> Prices:
    """Read and validate a prices file.

    Raises
    ------
    ConfigError
        For a missing or invalid file, unknown fields, negative or non-numeric prices,
        or the unedited example (``example = true``).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"prices file not found: {path}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: invalid TOML ({exc})") from exc
    if data.get("example", False) is not False:
        raise ConfigError(
            f"{path} is the example prices file (example = true): it holds no real prices. "
            "Copy it, fill in your provider's current prices, and delete the 'example' line."
        )
    unknown = sorted(set(data) - {"currency", "models", "example"})
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; known: currency, models")
    currency = data.get("currency", "")
    if not isinstance(currency, str) or not currency.strip():
        raise ConfigError(f"{path}: 'currency' must name a currency, e.g. currency = \"USD\"")
    models = data.get("models", {})
    if not isinstance(models, dict) or not models:
        raise ConfigError(f'{path}: add at least one [models."<model id>"] table of prices')
    parsed = {str(k): _model_prices(path, str(k), v) for k, v in models.items()}
    return Prices(currency, parsed, str(path), hashlib.sha256(raw).hexdigest())


def _model_prices(path: Path, key: str, table: Any) -> dict[str, float]:
    where = f"{path}: [models.{key!r}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table of prices")
    unknown = sorted(set(table) - set(PRICE_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown price(s) {unknown}; known: {sorted(PRICE_FIELDS)}")
    out: dict[str, float] = {}
    for name, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: {name} must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where}: {name} must be a finite number >= 0, got {value!r}")
        out[name] = float(value)
    if not out:
        raise ConfigError(f"{where} lists no price; known: {sorted(PRICE_FIELDS)}")
    return out


def cost_of(usage: Mapping[str, float], prices: Mapping[str, float]) -> dict[str, float]:
    """Cost per priced counter (``usage`` units times price), plus ``"total"``."""
    parts: dict[str, float] = {}
    for name, price in prices.items():
        counter, unit = PRICE_FIELDS[name]
        parts[counter] = float(usage.get(counter, 0.0)) / unit * price
    parts["total"] = sum(parts.values())
    return parts
