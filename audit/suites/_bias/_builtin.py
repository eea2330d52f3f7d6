"""The built-in probes, registered in run order, and the per-run registry with user probes."""

from __future__ import annotations

import fnmatch
import logging
from functools import lru_cache

from audit.config import ConfigError
from audit.registry import RegistryError, did_you_mean
from audit.suites._bias._association import (
    EMOJI,
    EMOJI_TESTS,
    emoji_probe,
    seat_probe,
    user_probe,
    weat_probe,
)
from audit.suites._bias._cost import CostProbe
from audit.suites._bias._options import BiasOptions
from audit.suites._bias._probe import Probe, ProbeRegistry, dataset_label
from audit.suites._bias._ranking import DisparityProbe, SkewProbe

log = logging.getLogger(__name__)

SPEECH = "builtin:speech"
SPEECH_NOTE = (
    "the local embedder embeds Whisper tiny.en transcripts of speech: a gap between voices "
    "measures how well each voice is transcribed, not how its sound is represented"
)
#: Probes the data does not support, with the reason (recorded in the report).
NOT_RUN_BY_DESIGN: dict[str, str] = {
    "xmodal/speech-voice-pleasant": "the built-in speech set speaks the same 19 sentences in "
    "every voice and the local embedder embeds transcripts, so voices differ only by "
    "transcription errors; disparity/speech measures that directly",
    "ieat/emoji-skin-tone": "no valence-rated image set ships with the project (iEAT used "
    "rated photos); supply one in a probe file (attributes with modality image)",
    "skew/speech": "the speech queries are the spoken sentences, not attribute-free prompts",
}


@lru_cache(maxsize=1)
def builtin_probes() -> ProbeRegistry:
    """Registry of the built-in probes, in the order a run executes them."""
    reg = ProbeRegistry()
    for i in range(1, 11):
        p = weat_probe(f"weat{i}")
        reg.register(p.name, p)
    for i in range(1, 11):
        p = seat_probe(f"weat{i}")
        reg.register(p.name, p)
    for test in EMOJI_TESTS:
        p = emoji_probe(test)
        reg.register(p.name, p)
    image = frozenset({"text", "image"})
    probes: list[Probe] = [
        SkewProbe(EMOJI, ("gender", "skin_tone"), "professions", image),
        DisparityProbe(EMOJI, ("gender", "skin_tone"), image),
        DisparityProbe(
            SPEECH,
            ("voice", "voice_gender", "accent"),
            frozenset({"text", "audio"}),
            note=SPEECH_NOTE,
        ),
        CostProbe(EMOJI, image),
    ]
    for p in probes:
        reg.register(p.name, p)
    return reg


def list_probes() -> list[tuple[str, str]]:
    """``(name, description)`` of every built-in probe, in run order."""
    return [(p.name, f"[{p.kind}] {p.description}") for p in builtin_probes().ordered()]


def _gallery_modalities(spec: str) -> frozenset[str]:
    return frozenset({"text", "image"}) if spec == EMOJI else frozenset({"text"})


def run_registry(opts: BiasOptions, dataset_loader=None) -> ProbeRegistry:
    """Built-ins (minus those replaced by configured galleries) plus configured and user probes.

    With ``dataset_loader=None`` no dataset is loaded: the probes carry their names but no
    modalities, enough to check a selection before the run (:func:`check_selection`).

    Raises
    ------
    RegistryError
        When a user probe's name is already taken.
    ValueError
        When a probe file is invalid.
    """
    from fairness.probes import load_probe_file

    reg = ProbeRegistry()
    for p in builtin_probes().ordered():
        if opts.skew_datasets is not None and p.kind == "skew":
            continue
        if opts.disparity_datasets is not None and p.kind == "disparity":
            continue
        if p.kind == "projection-cost" and p.dataset not in opts.cost_datasets:  # type: ignore[attr-defined]
            continue
        reg.register(p.name, p)
    for spec in opts.cost_datasets:
        if f"projection-cost/{dataset_label(spec)}" not in reg:
            ds = dataset_loader(spec) if dataset_loader else None
            p = CostProbe(
                spec,
                frozenset({*ds.query_modalities, *ds.corpus_modalities}) if ds else frozenset(),
            )
            reg.register(p.name, p)
    for g in opts.skew_datasets or ():
        ds = dataset_loader(g.dataset) if dataset_loader else None
        mods = (
            frozenset(
                {"text", *ds.corpus_modalities}
                | (set(ds.query_modalities) if g.queries == "dataset" else set())
            )
            if ds
            else frozenset()
        )
        p = SkewProbe(g.dataset, g.attributes, g.queries, mods)
        reg.register(p.name, p)
    for g in opts.disparity_datasets or ():
        ds = dataset_loader(g.dataset) if dataset_loader else None
        mods = frozenset({*ds.query_modalities, *ds.corpus_modalities}) if ds else frozenset()
        note = SPEECH_NOTE if "audio" in mods else None
        p = DisparityProbe(g.dataset, g.attributes, mods, note=note)
        reg.register(p.name, p)
    for path in opts.probe_files:
        for ps in load_probe_file(path):
            p = user_probe(ps)
            reg.register(p.name, p)
            log.info("bias: user probe %s from %s", p.name, path)
    return reg


def select(reg: ProbeRegistry, opts: BiasOptions) -> list[Probe]:
    """The probes a run executes: ``tests`` (association only), ``probes`` globs, else all."""
    if opts.tests is None and opts.probes is None:
        return reg.ordered()
    chosen: list[str] = []
    for name in opts.tests or ():
        full = _resolve(reg, name)
        if not reg.get(full).is_association:
            raise ConfigError(
                f"[suite.bias] tests lists {name!r}, which is not an association test"
            )
        chosen.append(full)
    for pattern in opts.probes or ():
        hits = [n for n in reg.order if fnmatch.fnmatchcase(n, pattern)]
        if not hits and any(c in pattern for c in "*?["):
            kinds = sorted({f"{n.split('/')[0]}/*" for n in reg.order})
            raise RegistryError(
                f"unknown probe {pattern!r}: the pattern matches no probe"
                f"{did_you_mean(pattern, [*kinds, *reg.order])} (kinds: {', '.join(kinds)})"
            )
        if not hits:
            reg.get(pattern)  # raises with the closest names
        chosen += hits
    wanted = set(chosen)
    return [reg.get(n) for n in reg.order if n in wanted]


def check_selection(opts: BiasOptions) -> None:
    """Raise :class:`ConfigError` when ``tests``/``probes`` name no probe of the run.

    Called when the config is read, before anything runs, so ``tests = ["weat99"]`` is a
    config mistake (exit 2) with the closest names, not a failed run.
    """
    try:
        select(run_registry(opts), opts)
    except RegistryError as exc:
        raise ConfigError(f"[suite.bias] {exc}") from None


def _resolve(reg: ProbeRegistry, name: str) -> str:
    if name in reg:
        return name
    ends = [n for n in reg.order if n.endswith(f"/{name}") and reg.get(n).is_association]
    if f"weat/{name}" in reg:  # "weat6" means the bare-word WEAT 6
        return f"weat/{name}"
    if len(ends) == 1:
        return ends[0]
    reg.get(name)  # raises RegistryError naming the closest probes
    raise AssertionError("unreachable")


def dataset_specs(opts: BiasOptions) -> list[str]:
    """Specs of the datasets a bias run will load, without loading them.

    The configured galleries and cost datasets, and the datasets of the built-in probes
    the run selects (as :func:`run_registry` and :func:`select` would); the runner checks
    their items before anything is embedded (:meth:`audit.suites.base.Suite.dataset_specs`).
    """
    specs = list(opts.cost_datasets)
    specs += [g.dataset for g in (*(opts.skew_datasets or ()), *(opts.disparity_datasets or ()))]
    reg = ProbeRegistry()
    for p in builtin_probes().ordered():
        replaced = (opts.skew_datasets is not None and p.kind == "skew") or (
            opts.disparity_datasets is not None and p.kind == "disparity"
        )
        if p.kind == "projection-cost" and p.dataset not in opts.cost_datasets:  # type: ignore[attr-defined]
            replaced = True
        if p.name == "disparity/speech" and not opts.speech:
            replaced = True  # not run (speech = false), so not loaded
        if not replaced:
            reg.register(p.name, p)
    wanted: set[str] | None = None
    if opts.tests is not None or opts.probes is not None:
        wanted = set()
        for name in opts.tests or ():
            try:
                wanted.add(_resolve(reg, name))
            except RegistryError:  # a user probe's test: its stimuli are not a dataset
                continue
        for pattern in opts.probes or ():
            wanted |= {n for n in reg.order if fnmatch.fnmatchcase(n, pattern)}
    for p in reg.ordered():
        if wanted is None or p.name in wanted:
            specs += p.datasets
    return list(dict.fromkeys(specs))
