"""The safety suite: how well the content-safety filter blocks what it must and passes the rest.

Measures (docs/safety.md): precision/recall on labelled data (built-in templated mild
profanity with benign twins, plus the user's labelled sets); false-positive, block and
flag rates on benign built-in data of every modality; per-group false-positive rates
(emoji gender and skin tone, speech voice, identity mentions in text); evasion
robustness (obfuscated text with and without Unicode hardening; re-encoded, resized,
cropped and mirrored images against test hash lists); the text path's detection of
obfuscated abuse and false positives on benign real text per source
(``audit.safety._texteval``); an out-of-sample check of the
concept thresholds' calibration; and the filter's latency against the embedder's.

No unsafe content is used: the "unsafe" side is mild profanity and benign photos
registered in a test hash list (see ``audit.safety._evalsets``). Results say so in
their details, and nudity recall is not measured on built-in data at all (it needs the
user's labelled images).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from audit.config import ConfigError
from audit.context import RunContext
from audit.items import Item
from audit.report import Result
from audit.suites._safety_options import BENIGN_BUILTINS, SafetyOptions, parse_label
from audit.suites.base import Suite

log = logging.getLogger(__name__)

STAND_IN = "stand-in: mild profanity (no slurs) in templates, each with a friendly twin"


def _sample(items: list[Item], n: int | None, rng: np.random.Generator) -> list[Item]:
    if n is None or len(items) <= n:
        return items
    keep = sorted(rng.choice(len(items), size=n, replace=False).tolist())
    return [items[i] for i in keep]


class SafetySuite(Suite):
    """The content-safety filter's block rates, precision/recall, evasion robustness,
    per-group false positives and latency.

    Options (``[suite.safety]``): ``policy`` (TOML; default: the run's safety policy, else
    the packaged one), ``parts``, ``builtins``, ``datasets`` (labelled sets),
    ``label_attribute``, ``max_items``, ``target_fpr``, ``latency_items``. Tests may
    inject ``ctx.extras["safety_concept_embedder"]`` and ``ctx.extras["safety_transcribe"]``.
    """

    name = "safety"
    description = "content-safety filter: precision/recall, benign FP, groups, evasion, latency"

    def check_options(self, options: Mapping[str, Any], *, quick: bool) -> None:
        """Validate ``[suite.safety]`` (see :class:`SafetyOptions`)."""
        SafetyOptions.parse(options, quick=quick)

    def dataset_specs(self, options: Mapping[str, Any], *, quick: bool) -> list[str]:
        """The user's labelled ``datasets`` (the built-in sets it samples ship checked)."""
        o = SafetyOptions.parse(options, quick=quick)
        return list(o.datasets) if "labelled" in o.parts else []

    def _run(self, ctx: RunContext) -> Iterable[Result]:
        from audit.safety import _evalsets as sets
        from audit.safety import _evaluate as ev

        o = SafetyOptions.parse(ctx.options(self.name), quick=ctx.config.quick)
        safety, source = self._filter(ctx, o)
        log.info("safety suite: evaluating policy %s", source)
        rng = ctx.rng("safety")
        photos = sets.photos() if {"benign", "evasion"} & set(o.parts) else {}
        groups = "groups" in o.parts
        if "labelled" in o.parts:
            items = sets.profanity_set()
            labels = [bool(it.attributes["unsafe"]) for it in items]
            yield from ev.labelled(
                safety,
                items,
                labels,
                check="labelled/text-templates",
                modality="text",
                source=STAND_IN,
            )
            for spec in o.datasets:
                yield from self._user_set(safety, ctx.dataset(spec), spec, o.label_attribute)
        if "benign" in o.parts:
            yield from ev.benign(
                safety,
                sets.substring_set(),
                check="benign/substring-traps",
                modality="text",
                source="built-in substring traps",
            )
            yield from ev.benign(
                safety,
                sets.identity_set(),
                check="benign/identity-mentions",
                modality="text",
                group_attributes=("identity", "axis") if groups else (),
                source="built-in benign identity-mention templates",
            )
            if photos:
                yield from ev.benign(
                    safety,
                    ev.photo_items(photos),
                    check="benign/photos",
                    modality="image",
                    source=", ".join(sorted(photos)),
                )
            for name, attrs in BENIGN_BUILTINS:
                if name in o.builtins:
                    yield from self._builtin(ctx, safety, name, attrs if groups else (), o, rng)
        if "evasion" in o.parts:
            variants = {
                "hardened": safety,
                "raw": _unhardened(safety),
                # the test terms on a term list: matching robustness, not list coverage
                "term-list": ev.term_list_filter(sets.PROFANE_TERMS, harden=True),
                "term-list-raw": ev.term_list_filter(sets.PROFANE_TERMS, harden=False),
            }
            templates = sets.TEMPLATES[:3] if ctx.config.quick else sets.TEMPLATES
            yield from ev.text_evasion(variants, templates=templates)
            if photos:
                settings = safety.policy.checkers.get("hashlist", {})
                yield from ev.hash_evasion(photos, rng, settings=settings)
        if "text" in o.parts:
            yield from self._text(safety, quick=ctx.config.quick)
        if "concepts" in o.parts:
            yield from self._concepts(ctx, safety, o, rng)
        if "latency" in o.parts and o.latency_items >= 2:
            yield from self._latency(ctx, safety, o)

    # -- parts -------------------------------------------------------------------------------

    def _builtin(
        self,
        ctx: RunContext,
        safety: Any,
        name: str,
        attrs: tuple[str, ...],
        o: SafetyOptions,
        rng: Any,
    ) -> Iterable[Result]:
        from audit.safety import _evaluate as ev

        # through the run's datasets: checked once and recorded (reproducibility.datasets)
        ds = ctx.dataset(f"builtin:{name}")
        by_modality: dict[str, list[Item]] = {}
        for it in ds.corpus:
            by_modality.setdefault(it.modality, []).append(it)
        for modality, items in sorted(by_modality.items()):
            yield from ev.benign(
                safety,
                _sample(items, o.max_items, rng),
                check=f"benign/{name}",
                modality=modality,
                group_attributes=attrs,
                source=f"builtin:{name} corpus ({len(items)} items, benign)",
            )

    def _user_set(self, safety: Any, ds: Any, spec: str, attr: str) -> Iterable[Result]:
        from audit.safety import _evaluate as ev

        items = ds.corpus + ds.queries
        labels = [parse_label(it.attributes.get(attr)) for it in items]
        missing = [it.id for it, y in zip(items, labels, strict=True) if y is None]
        if missing:
            raise ConfigError(
                f"[suite.safety] dataset {spec}: {len(missing)} item(s) without a label in "
                f"attribute {attr!r} (true/false, 1/0, unsafe/safe): {missing[:20]}"
            )
        for modality in sorted({it.modality for it in items}):
            idx = [i for i, it in enumerate(items) if it.modality == modality]
            yield from ev.labelled(
                safety,
                [items[i] for i in idx],
                [bool(labels[i]) for i in idx],
                check=f"labelled/{ds.name}",
                modality=modality,
                source=spec,
            )

    def _text(self, safety: Any, *, quick: bool) -> Iterable[Result]:
        """The text path on obfuscated abuse and benign real text (``text/*`` results):
        the packaged default and strict policies, and the run's policy when it is another
        (``variant`` names the policy). ``bench/safety_text_eval.py`` prints the same."""
        from audit.safety import _texteval as te
        from audit.safety import packaged_policy

        policies = {name: packaged_policy(name) for name in ("default", "strict")}
        if safety.policy.sha256 not in {p.sha256 for p in policies.values()}:
            policies["run-policy"] = safety.policy
        size = {
            "per_source": te.QUICK_PER_SOURCE,
            "max_terms": te.QUICK_TERMS,
            "dictionary_n": te.QUICK_DICTIONARY_N,
        }
        yield from te.text_eval(policies, **(size if quick else {})).results(self.name)

    def _concepts(
        self, ctx: RunContext, safety: Any, o: SafetyOptions, rng: Any
    ) -> Iterable[Result]:
        from audit.safety import ConceptChecker
        from audit.safety import _evaluate as ev

        checker = next((c for c in safety.checkers if isinstance(c, ConceptChecker)), None)
        if checker is None:
            return
        pool: list[Item] = []
        for name in ("passages", "emoji-objects", "emoji-professions"):
            if name in o.builtins:
                pool += _sample(ctx.dataset(f"builtin:{name}").corpus, o.max_items, rng)
        if len(pool) >= 4:
            yield from ev.concept_calibration(checker, pool, rng, target_fpr=o.target_fpr)

    def _latency(self, ctx: RunContext, safety: Any, o: SafetyOptions) -> Iterable[Result]:
        from audit.embedders import unwrap
        from audit.safety import _evaluate as ev

        base = unwrap(ctx.embedder)  # the bare backend under cache, projection, safety
        for name, modality in (("passages", "text"), ("emoji-objects", "image")):
            if modality not in base.modalities or name not in o.builtins:
                continue
            items = [it for it in ctx.dataset(f"builtin:{name}").corpus if it.modality == modality]
            yield from ev.latency(safety, base, items[: o.latency_items + 1], modality=modality)

    # -- the filter under test ---------------------------------------------------------------

    def _filter(self, ctx: RunContext, o: SafetyOptions) -> tuple[Any, str]:
        from audit.safety import DecisionLog, SafetyFilter, build_filter, default_policy

        log_path = ctx.artifacts / "safety" / "suite-decisions.jsonl"
        embedder = ctx.extras.get("safety_concept_embedder")
        transcribe = ctx.extras.get("safety_transcribe")
        if o.policy is not None:
            return (
                build_filter(
                    o.policy, log_path=log_path, concept_embedder=embedder, transcribe=transcribe
                ),
                str(o.policy),
            )
        from audit.embedders import unwrap
        from audit.safety import SafeEmbedder

        safe = unwrap(ctx.embedder, SafeEmbedder)
        if safe is not None:  # the run's own filter, logging to the suite's own file
            policy = safe.safety.policy
            decisions = DecisionLog(log_path, policy_sha256=policy.sha256)
            return SafetyFilter(safe.safety.checkers, policy, log=decisions), policy.source
        policy = default_policy()
        if embedder is None and policy.checkers.get("concepts", {}).get("embedder") == "local":
            embedder, shared = _local_embedder()
            transcribe = transcribe or shared
        filt = build_filter(
            policy, log_path=log_path, concept_embedder=embedder, transcribe=transcribe
        )
        return filt, policy.source


def _local_embedder() -> tuple[Any, Any]:
    """A local embedder for the concept check, and its transcriber shared with the
    audio/video checks (one transcription per clip instead of two)."""
    from audit.embedders import create_embedder

    local = create_embedder("local")
    local.progress = False

    def transcribe(item: Item) -> str:
        return local.media.transcribe(item).text  # type: ignore[attr-defined]

    return local, transcribe


def _unhardened(safety: Any) -> Any:
    """The same filter with its text checkers reading the raw text only."""
    from audit.safety import SafetyFilter

    checkers = []
    for c in safety.checkers:
        if hasattr(c, "harden"):
            c = copy.copy(c)
            c.harden = False
        checkers.append(c)
    return SafetyFilter(checkers, safety.policy)
