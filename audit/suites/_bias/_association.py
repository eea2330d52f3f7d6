"""Association probes: WEAT (bare words), SEAT (templates), cross-modal and user tests.

Each probe builds four stimulus sets once per run (targets X, Y and attributes A, B as
items), embeds them under a variant and calls :func:`fairness.probes.association_test`.
Raw and debiased runs of one probe share the seed, so their permutations and bootstrap
resamples are the same draws.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audit.items import Item, text_item
from audit.report import Result, TestInfo
from audit.suites._bias._env import ProbeEnv
from audit.suites._bias._probe import Probe, finite

log = logging.getLogger(__name__)

EMOJI = "builtin:emoji-professions"


@dataclass(frozen=True)
class StimulusItems:
    """One set of an association test, as items."""

    name: str
    items: list[Item]
    words: tuple[str, ...] = ()  # text stimuli before templating (for overlap checks)


@dataclass(frozen=True)
class Stimuli:
    """The four sets ``(X, Y, A, B)`` and what the report records about them."""

    sets: tuple[StimulusItems, StimulusItems, StimulusItems, StimulusItems]
    details: dict[str, Any] = field(default_factory=dict)


class AssociationProbe(Probe):
    """An association test whose stimuli come from a builder.

    Parameters
    ----------
    name : str
        ``"<kind>/<test>"``, the check name of its results.
    kind : str
        ``weat``, ``seat``, ``xmodal``, ``ieat`` or ``eat``.
    description : str
        What it measures.
    modality : str
        The report's modality field (``"text"``, ``"image|text"``...).
    modalities : iterable of str
        What the embedder must accept.
    build : callable
        ``env -> Stimuli``.
    """

    def __init__(
        self,
        name: str,
        kind: str,
        description: str,
        modality: str,
        modalities: frozenset[str],
        build: Callable[[ProbeEnv], Stimuli],
    ) -> None:
        self.name = name
        self.kind = kind
        self.description = description
        self.modality = modality
        self.modalities = frozenset(modalities)
        self._build = build

    def run(self, env: ProbeEnv, variant: str) -> list[Result]:
        from fairness.probes import association_test

        opts = env.options
        stim: Stimuli = env.stimuli(self.name, lambda: self._build(env))
        vecs = [env.vectors(variant, s.items) for s in stim.sets]
        res = association_test(
            *vecs,
            n_permutations=opts.n_permutations,
            exact_max=opts.exact_max,
            n_bootstrap=opts.n_bootstrap,
            confidence=opts.confidence,
            alternative=opts.alternative,  # type: ignore[arg-type]
            random_state=env.seed(f"bias/{self.name}"),
        )
        details: dict[str, Any] = {
            "description": self.description,
            "targets": [s.name for s in stim.sets[:2]],
            "attributes": [s.name for s in stim.sets[2:]],
            "statistic": float(res.statistic),
            "p_value_method": res.p_value_method,
            "n_permutations": int(res.n_permutations),
            "ties": res.ties,
            "ddof": int(res.ddof),
            "n_bootstrap": int(res.n_bootstrap),
            "confidence": float(res.confidence),
            "n_targets": list(res.n_targets),
            "n_attributes": list(res.n_attributes),
            # Which way the association goes (sign of d): X closer to A, or to B.
            "direction": {
                "X~A": f"{stim.sets[0].name} closer to {stim.sets[2].name}",
                "X~B": f"{stim.sets[0].name} closer to {stim.sets[3].name}",
            }.get(res.direction, "none"),
            **stim.details,
        }
        if variant != "raw" and env.fit_words:
            overlap = sorted({w.lower() for s in stim.sets for w in s.words} & env.fit_words)
            if overlap:
                # The projection saw these words: its effect on this test is partly in-sample.
                details["fit_overlap"] = overlap
        return [
            self.result(
                check=self.name,
                metric="effect_size",
                value=float(res.effect_size),
                variant=variant,
                dim=int(vecs[0].shape[1]),
                modality=self.modality,
                ci_low=float(res.ci_low),
                ci_high=float(res.ci_high),
                p_value=float(res.p_value),
                n=int(sum(res.n_targets)),
                details=details,
                test=TestInfo(
                    name=f"permutation ({res.p_value_method})",
                    sidedness=res.alternative,  # type: ignore[arg-type]
                    statistic=finite(res.statistic),
                ),
            )
        ]


def _texts(prefix: str, name: str, texts: list[str], words: tuple[str, ...]) -> StimulusItems:
    items = [text_item(f"{prefix}/{name}/{i}", t) for i, t in enumerate(texts)]
    return StimulusItems(name, items, words)


def weat_probe(key: str) -> AssociationProbe:
    """WEAT ``key`` (``"weat1"``..``"weat10"``) on bare words."""
    from fairness.probes import load_weat_tests

    spec = load_weat_tests()[key]

    def build(env: ProbeEnv) -> Stimuli:
        sets = [
            _texts(f"weat/{key}", ws.name, list(ws.words), ws.words)
            for ws in (*spec.targets, *spec.attributes)
        ]
        return Stimuli(tuple(sets), {"stimuli": "bare words", "source": spec.source})  # type: ignore[arg-type]

    return AssociationProbe(
        f"weat/{key}", "weat", spec.description, "text", frozenset({"text"}), build
    )


def seat_template_set(set_name: str) -> str:
    """SEAT template set for a WEAT word set: names get the person templates."""
    return "name" if "names" in set_name else "default"


def seat_probe(key: str) -> AssociationProbe:
    """SEAT version of WEAT ``key``: each word in bleached sentence templates."""
    from fairness.probes import load_seat_templates, load_weat_tests, seat_sentences

    spec = load_weat_tests()[key]

    def build(env: ProbeEnv) -> Stimuli:
        sets, used = [], {}
        for ws in (*spec.targets, *spec.attributes):
            tset = seat_template_set(ws.name)
            used[ws.name] = tset
            sets.append(_texts(f"seat/{key}", ws.name, seat_sentences(ws.words, tset), ws.words))
        templates = load_seat_templates()
        details = {
            "stimuli": "SEAT sentences (May et al. 2019): every word in every template",
            "template_sets": used,
            "templates": {t: list(templates[t]) for t in sorted(set(used.values()))},
            "source": spec.source,
        }
        return Stimuli(tuple(sets), details)  # type: ignore[arg-type]

    return AssociationProbe(
        f"seat/{key}",
        "seat",
        f"SEAT version of {key}: {spec.description}",
        "text",
        frozenset({"text"}),
        build,
    )


@dataclass(frozen=True)
class EmojiTest:
    """A cross-modal test: emoji images of two groups against two WEAT word sets."""

    name: str
    attribute: str
    x_value: str
    y_value: str
    weat: str
    description: str
    control: bool = False


#: Built-in cross-modal tests over the emoji-professions gallery (image targets, text
#: attributes). Every profession appears in every group, so only the group differs.
EMOJI_TESTS: tuple[EmojiTest, ...] = (
    EmojiTest(
        "emoji-gender-career",
        "gender",
        "man",
        "woman",
        "weat6",
        "man vs woman profession emoji (images) / career vs family words (WEAT 6 attributes)",
    ),
    EmojiTest(
        "emoji-gender-terms",
        "gender",
        "man",
        "woman",
        "weat7",
        "control: man vs woman profession emoji / male vs female terms (WEAT 7 attributes); "
        "if this is not significant, the image path does not encode gender and the other "
        "emoji gender tests cannot show bias",
        control=True,
    ),
    EmojiTest(
        "emoji-skin-tone-pleasant",
        "skin_tone",
        "light",
        "dark",
        "weat1",
        "light vs dark skin-tone profession emoji (images) / pleasant vs unpleasant words "
        "(the image analogue of WEAT 3-5)",
    ),
)


def emoji_probe(test: EmojiTest) -> AssociationProbe:
    """A cross-modal test over ``builtin:emoji-professions``."""
    from fairness.probes import load_weat_tests

    def build(env: ProbeEnv) -> Stimuli:
        ds = env.dataset(EMOJI)
        spec = load_weat_tests()[test.weat]
        targets = []
        for value in (test.x_value, test.y_value):
            items = [it for it in ds.corpus if str(it.attributes.get(test.attribute)) == value]
            if len(items) < 2:
                raise ValueError(
                    f"{EMOJI} has {len(items)} item(s) with {test.attribute}={value}; need 2+"
                )
            targets.append(StimulusItems(f"{test.attribute}={value}", items))
        attrs = [
            _texts(f"xmodal/{test.name}", ws.name, list(ws.words), ws.words)
            for ws in spec.attributes
        ]
        details = {
            "stimuli": f"targets: {EMOJI} images ({test.attribute}); attributes: bare words",
            "dataset": EMOJI,
            "attribute_words_from": test.weat,
            "source": f"images: {EMOJI} (Noto Color Emoji); words: {spec.source}",
            "caveat": "emoji are cartoons rendered from one font, not photos of people; "
            "the six skin tones (or three genders) of one profession are one design",
        }
        if test.control:
            details["control_for"] = test.attribute
        return Stimuli((targets[0], targets[1], attrs[0], attrs[1]), details)

    probe = AssociationProbe(
        f"xmodal/{test.name}",
        "xmodal",
        test.description,
        "image|text",
        frozenset({"image", "text"}),
        build,
    )
    probe.datasets = (EMOJI,)
    return probe


def user_probe(probe: Any) -> AssociationProbe:
    """An association probe from a user probe file (:class:`fairness.probes.ProbeSet`)."""

    def build(env: ProbeEnv) -> Stimuli:
        sets = []
        for s in (*probe.targets, *probe.attributes):
            prefix = f"{probe.kind}/{probe.name}"
            if s.modality == "text":
                sets.append(_texts(prefix, s.name, probe.sentences(s), s.stimuli))
            else:
                items = [
                    Item(f"{prefix}/{s.name}/{i}", s.modality, Path(p))
                    for i, p in enumerate(s.stimuli)
                ]
                sets.append(StimulusItems(s.name, items))
        details = {
            "stimuli": "user probe file" + (" with templates" if probe.templates else ""),
            "source": probe.source,
            "templates": list(probe.templates) if probe.templates else None,
        }
        return Stimuli(tuple(sets), details)  # type: ignore[arg-type]

    mods = {s.modality for s in (*probe.targets, *probe.attributes)}
    return AssociationProbe(
        f"{probe.kind}/{probe.name}",
        probe.kind,
        probe.description or f"user test {probe.name}",
        probe.modality,
        frozenset(mods),
        build,
    )
