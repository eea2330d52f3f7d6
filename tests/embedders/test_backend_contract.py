"""The Embedder contract, run over every backend registered in ``audit.embedders.EMBEDDERS``.

Each registered name maps to a builder below: ``local`` as shipped, ``st:``/``hf:`` on tiny
model folders built here (tiny_hub_models), ``bedrock``/``gemini``/``vertex`` on their
local HTTP stand-ins. Backends are built only through spec strings and registry targets,
never by module path. The parameter list is the registry itself, so a backend registered
without a builder fails here (``test_every_registered_backend_has_a_builder`` and its own
parameter) instead of going unchecked.

Checked against values computed here: the runtime-checkable ``Embedder`` Protocol; unit
rows (``np.linalg.norm``); ``dim=`` for a size the model does not serve equals the full
vector's prefix re-normalised by hand, and a served size equals its ``at_dim`` sibling,
which has a fingerprint of its own; both purposes accepted, and different vectors exactly
where the backend documents per-purpose prompts or task types; the fingerprint stable
across two constructions and different under options that change vectors; a dry run's
planned counters (``PlanningEmbedder`` over ``plan_usage``) equal to what a real run then
counts and the stand-in receives, and zero for backends that send nothing.
"""

from __future__ import annotations

import importlib
import io
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from bedrock_standin import NOVA, BedrockStandIn, standin_env
from google_standin import GoogleStandIn, google_env, service_account_file
from PIL import Image
from tiny_hub_models import build_tiny_models

from audit.embedders import EMBEDDERS, Embedder, create_embedder
from audit.embedders.base import SupportsAtDim, SupportsServedDims
from audit.items import Item, text_item
from audit.usage import PlanningEmbedder

FAST = "max_attempts=4&base_delay=0.001&max_delay=0.005"
TEXTS = [text_item("t0", "a red bicycle leaning on a wall"), text_item("t1", "two cats asleep")]
CLIENT_DIM = 5  # below every native size, served by none: always a client-side truncation


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 60, 20)).save(buf, format="PNG")
    return buf.getvalue()


IMAGE = Item("img", "image", _png())


@dataclass
class Env:
    """What the builders share: a scratch folder, the running stand-ins, tiny models."""

    tmp: Path
    bedrock: BedrockStandIn
    google: GoogleStandIn
    _models: dict[str, Path] = field(default_factory=dict)

    def model(self, name: str) -> Path:
        """The tiny ``st``/``clip`` folder (built on first use)."""
        if name not in self._models:
            self._models.update(build_tiny_models(self.tmp / "models", names=("st", "clip")))
        return self._models[name]


@dataclass
class Case:
    """One backend as the contract tests drive it.

    Attributes
    ----------
    make, make_other : callable
        A fresh backend; the same backend under options that change its vectors.
    purpose_differs : bool
        Whether the backend documents different prompts / task types per purpose.
    sent : callable or None
        Requests its stand-in has received so far; None for backends that send nothing.
    slow_image : bool
        Whether its image path is too slow for the fast checks (it is checked in the slow
        test).
    """

    make: Callable[[], Embedder]
    make_other: Callable[[], Embedder]
    purpose_differs: bool
    sent: Callable[[], int] | None = None
    slow_image: bool = False
    _built: Embedder | None = None

    @property
    def built(self) -> Embedder:
        """One backend shared by the checks that only embed (loading is the slow part)."""
        if self._built is None:
            self._built = self.make()
        return self._built


def _quiet(emb: Embedder) -> Embedder:
    emb.progress = False  # type: ignore[attr-defined]
    return emb


def _spec(spec: str) -> Callable[[], Embedder]:
    return lambda: _quiet(create_embedder(spec))


def _local(env: Env) -> Case:
    # The registry's target takes no spec argument; its options are keyword arguments.
    module, _, attr = EMBEDDERS.get("local").target.partition(":")
    factory = getattr(importlib.import_module(module), attr)
    return Case(
        make=_spec("local"),
        make_other=lambda: _quiet(factory(top_t=5)),
        purpose_differs=False,
        slow_image=True,
    )


def _st(env: Env) -> Case:
    folder = env.model("st")  # prompts {"query": "query: ", "document": "passage: "}
    plain = env.tmp / "st-no-prompts"
    if not plain.exists():
        shutil.copytree(folder, plain)
        cfg = plain / "config_sentence_transformers.json"
        cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "prompts": {}}))
    return Case(
        make=_spec(f"st:{folder}"),
        make_other=_spec(f"st:{plain}"),
        purpose_differs=True,
    )


def _hf(env: Env) -> Case:
    folder = env.model("clip")
    return Case(
        make=_spec(f"hf:{folder}?frames=4"),
        make_other=_spec(f"hf:{folder}?frames=2"),
        purpose_differs=False,
    )


def _bedrock(env: Env) -> Case:
    # Nova: multimodal, served sizes, GENERIC_INDEX vs GENERIC_RETRIEVAL per purpose.
    return Case(
        make=_spec(f"bedrock:{NOVA}?dim=1024&{FAST}"),
        make_other=_spec(f"bedrock:{NOVA}?dim=384&{FAST}"),
        purpose_differs=True,
        sent=lambda: len(env.bedrock.requests),
    )


def _gemini(env: Env) -> Case:
    # RETRIEVAL_DOCUMENT for index, RETRIEVAL_QUERY for query.
    return Case(
        make=_spec(f"gemini:gemini-embedding-001?dim=768&{FAST}"),
        make_other=_spec(f"gemini:gemini-embedding-001?dim=768&task=clustering&{FAST}"),
        purpose_differs=True,
        sent=lambda: len(env.google.requests),
    )


def _vertex(env: Env) -> Case:
    base = f"vertex:multimodalembedding@001?project=proj-9&api_endpoint={env.google.url}&{FAST}"
    return Case(
        make=_spec(base),
        make_other=_spec(f"{base}&dim=512"),
        purpose_differs=False,  # multimodalembedding@001 has no task types
        sent=lambda: len(env.google.requests),
    )


BUILDERS: dict[str, Callable[[Env], Case]] = {
    "local": _local,
    "st": _st,
    "hf": _hf,
    "bedrock": _bedrock,
    "gemini": _gemini,
    "vertex": _vertex,
}
NAMES = EMBEDDERS.names()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("contract")
    with (
        pytest.MonkeyPatch.context() as mp,
        standin_env(mp, tmp) as bedrock,
        GoogleStandIn() as google,
    ):
        google_env(mp, google, service_account_file(tmp / "sa.json", google.url + "/token"), tmp)
        yield Env(tmp, bedrock, google)


_CASES: dict[str, Case] = {}


@pytest.fixture(params=NAMES)
def name_case(request: pytest.FixtureRequest, env: Env) -> tuple[str, Case]:
    name = request.param
    if name not in BUILDERS:
        pytest.fail(f"embedder {name!r} is registered but the contract test has no builder")
    if name not in _CASES:
        _CASES[name] = BUILDERS[name](env)
    return name, _CASES[name]


def _items(emb: Embedder, case: Case) -> list[Item]:
    image = "image" in emb.modalities and not case.slow_image
    return [*TEXTS, IMAGE] if image else list(TEXTS)


def _unit_prefix(full: np.ndarray, d: int) -> np.ndarray:
    head = full[:, :d].astype(np.float64)
    return head / np.linalg.norm(head, axis=1, keepdims=True)


def test_every_registered_backend_has_a_builder() -> None:
    assert sorted(set(NAMES) - set(BUILDERS)) == []  # registered, not covered
    assert sorted(set(BUILDERS) - set(NAMES)) == []  # covered, no longer registered


def test_protocol_and_unit_rows(name_case: tuple[str, Case]) -> None:
    name, case = name_case
    emb = case.built
    assert isinstance(emb, Embedder), name
    assert isinstance(emb.fingerprint, str) and emb.fingerprint
    items = _items(emb, case)
    for purpose in ("index", "query"):
        vecs = emb.embed(items, purpose=purpose)
        assert vecs.dtype == np.float32 and vecs.shape == (len(items), emb.dim)
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert emb.embed([]).shape == (0, emb.dim)


def test_dim_truncation(name_case: tuple[str, Case]) -> None:
    name, case = name_case
    emb = case.built
    items = _items(emb, case)
    full = emb.embed(items)
    served = emb.served_dims if isinstance(emb, SupportsServedDims) else ()
    assert CLIENT_DIM not in served and CLIENT_DIM < emb.dim
    got = emb.embed(items, dim=CLIENT_DIM)
    assert got.shape == (len(items), CLIENT_DIM)
    np.testing.assert_allclose(got, _unit_prefix(full, CLIENT_DIM), atol=1e-6)
    for d in (d for d in served if d < emb.dim):  # asked of the model, not truncated
        assert isinstance(emb, SupportsAtDim), f"{name} serves {d} without an at_dim sibling"
        sibling = emb.at_dim(d)
        assert sibling.dim == d and sibling.fingerprint != emb.fingerprint
        got = emb.embed(items, dim=d)
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(got, sibling.embed(items), atol=1e-6)
    for bad in (0, emb.dim + 1):
        with pytest.raises(ValueError, match="dim"):
            emb.embed(items, dim=bad)


def test_purposes(name_case: tuple[str, Case]) -> None:
    name, case = name_case
    emb = case.built
    index = emb.embed(TEXTS, purpose="index")
    query = emb.embed(TEXTS, purpose="query")
    gap = np.abs(index - query).max(axis=1)
    if case.purpose_differs:  # per-purpose prompts / task types reach every row
        assert (gap > 1e-3).all(), (name, gap)
    else:
        np.testing.assert_allclose(index, query, atol=1e-6)
    with pytest.raises(ValueError, match="purpose"):
        emb.embed(TEXTS, purpose="search")  # type: ignore[arg-type]


def test_fingerprint_stable_and_option_sensitive(name_case: tuple[str, Case]) -> None:
    name, case = name_case
    first, second, other = case.make(), case.make(), case.make_other()
    assert first.fingerprint == second.fingerprint, name
    assert other.fingerprint != first.fingerprint, name


@pytest.mark.parametrize("purpose", ["index", "query"])
def test_dry_run_plan_equals_the_real_counts(name_case: tuple[str, Case], purpose: str) -> None:
    name, case = name_case
    sent = case.sent or (lambda: 0)
    planner = PlanningEmbedder(case.make())
    items = _items(planner, case)
    before = sent()
    planner.embed(items, purpose=purpose)
    assert sent() == before, f"{name}: a dry run sent requests"
    planned: dict[str, float] = dict(planner.ledger.every)
    assert planner.ledger.hosted is (case.sent is not None), name
    real = case.make()
    real.embed(items, purpose=purpose)
    if case.sent is None:  # runs here: nothing to send, nothing planned
        assert set(planned.values()) == {0.0}, (name, planned)
        return
    usage: dict[str, Any] = real.usage  # type: ignore[attr-defined]
    assert planned["requests"] == sent() - before > 0
    for counter, value in planned.items():
        assert usage[counter] == pytest.approx(value), (name, counter)


@pytest.mark.slow
def test_image_rows_where_the_image_path_is_slow(name_case: tuple[str, Case]) -> None:
    """The image checks the fast tests leave out (the local ConSE path embeds 1,000
    class names on first use)."""
    name, case = name_case
    if not case.slow_image:
        pytest.skip(f"{name}: its image path (if any) runs in the fast checks")
    emb = case.built
    full = emb.embed([IMAGE, *TEXTS])
    np.testing.assert_allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    got = emb.embed([IMAGE, *TEXTS], dim=CLIENT_DIM)
    np.testing.assert_allclose(got, _unit_prefix(full, CLIENT_DIM), atol=1e-6)
    np.testing.assert_allclose(emb.embed([IMAGE], purpose="query"), full[:1], atol=1e-6)
