"""Prices files: validation, the refused example, and costs computed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from audit.config import ConfigError
from audit.usage import EmbedderPlan, PlannedUsage, UsagePlan, load_prices, price_plan

EXAMPLE = Path(__file__).resolve().parents[2] / "docs/examples/prices.example.toml"

PRICES = """
currency = "EUR"
[models."model-a"]
per_1k_requests = 0.5
per_1m_chars = 2.0
per_image = 0.01
per_media_second = 0.002
[models."fakehosted:b"]
per_image = 0.1
"""


def _plan() -> UsagePlan:
    usage = PlannedUsage(requests=2500, text_chars=3_000_000, images=40, media_seconds=12.5)
    return UsagePlan(
        plan_id="p",
        tool_version="0",
        suites=["retrieval"],
        embedders=[
            EmbedderPlan(
                spec="fakehosted:model-a?dim=4",
                name="fake-a",
                model_id="model-a",
                hosted=True,
                usage=usage,
            ),
            EmbedderPlan(
                spec="fakehosted:b", name="fake-b", model_id="b", hosted=True, usage=usage
            ),
            EmbedderPlan(spec="fakehosted:c", name="fake-c", model_id="c", hosted=True),
            EmbedderPlan(spec="local", name="local", note="local: no requests"),
        ],
    )


def test_example_file_is_refused_until_filled_in(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="example prices file"):
        load_prices(EXAMPLE)
    filled = tmp_path / "prices.toml"
    filled.write_text(EXAMPLE.read_text().replace("example = true\n", ""))
    prices = load_prices(filled)
    assert prices.currency == "USD"
    assert set(prices.models) == {
        "amazon.nova-2-multimodal-embeddings-v1:0",
        "amazon.titan-embed-text-v2:0",
    }


def test_cost_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(PRICES)
    priced = price_plan(_plan(), load_prices(path))
    a, b, c, local = priced.embedders
    # 2500/1000*0.5 + 3e6/1e6*2.0 + 40*0.01 + 12.5*0.002 = 1.25 + 6 + 0.4 + 0.025
    assert a.cost is not None and a.cost.price_key == "model-a" and a.cost.currency == "EUR"
    assert a.cost.total == pytest.approx(7.675)
    assert a.cost.parts == pytest.approx(
        {"requests": 1.25, "text_chars": 6.0, "images": 0.4, "media_seconds": 0.025}
    )
    assert b.cost is not None and b.cost.price_key == "fakehosted:b"  # matched by spec
    assert b.cost.total == pytest.approx(4.0)
    assert c.cost is None and "no price for this model" in c.note
    assert local.cost is None and local.note == "local: no requests"
    assert priced.prices is not None and len(priced.prices.sha256) == 64


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('currency = "USD"\n', "add at least one"),
        ('[models."m"]\nper_image = 1\n', "'currency' must name a currency"),
        ('currency = "USD"\n[models."m"]\nper_token = 1\n', "unknown price"),
        ('currency = "USD"\n[models."m"]\nper_image = -1\n', "finite number >= 0"),
        ('currency = "USD"\n[models."m"]\nper_image = "1"\n', "must be a number"),
        ('currency = "USD"\nmodel = 1\n', "unknown key"),
        ("currency = \n", "invalid TOML"),
    ],
)
def test_bad_prices_files_name_the_problem(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_prices(path)
    with pytest.raises(ConfigError, match="not found"):
        load_prices(tmp_path / "missing.toml")
