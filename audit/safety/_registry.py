"""The checker registry, and building a policy's checkers.

Each entry of :data:`CHECKERS` is a factory ``(config, env) -> Checker`` for one
``[checkers.NAME]`` table of the policy. :func:`build_checkers` also wraps the text and
image checkers into the document, audio and video checkers, so every modality a policy
can read is covered by the same lists and thresholds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.embedders.base import Embedder
from audit.registry import Registry
from audit.safety._checker import Checker, ImageChecker, TextChecker
from audit.safety._concept import ConceptChecker
from audit.safety._hashlist import HashList
from audit.safety._image import HashListChecker, NudityChecker
from audit.safety._lexicon import AbuseLexiconChecker
from audit.safety._media import AudioChecker, DocumentChecker, Transcribe, VideoChecker
from audit.safety._policy import Policy, PolicyError
from audit.safety._text import ListEntry, ProfanityChecker, TermListChecker, read_list


@dataclass
class BuildEnv:
    """What factories may need beyond their table.

    Attributes
    ----------
    base_dir : Path
        Folder relative paths start from (the policy file's).
    concept_embedder : Embedder or None
        Embedder for the concept check (default: created from the table's ``embedder``).
    transcribe : callable or None
        ``Item -> str`` for audio and video (default: offline faster-whisper).
    """

    base_dir: Path
    concept_embedder: Embedder | None = None
    transcribe: Transcribe | None = None


CheckerFactory = Callable[[Mapping[str, Any], BuildEnv], Checker]
#: Registered checkers: name (the policy's ``[checkers.NAME]``) -> factory.
CHECKERS: Registry[CheckerFactory] = Registry("checker")


def _keys(name: str, config: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise PolicyError(f"[checkers.{name}]: unknown key(s) {unknown}; known: {sorted(allowed)}")


def _hashlist(config: Mapping[str, Any], env: BuildEnv) -> Checker:
    _keys("hashlist", config, {"lists", "category", "max_distance", "mirror"})
    category = str(config.get("category", "known-bad-hash"))
    lists = [
        HashList.load(env.base_dir / p, default_category=category) for p in config.get("lists", [])
    ]
    return HashListChecker(
        lists, max_distance=config.get("max_distance"), mirror=bool(config.get("mirror", True))
    )


def _nudity(config: Mapping[str, Any], env: BuildEnv) -> Checker:
    _keys("nudity", config, {"threshold", "labels", "category"})
    kwargs = {k: config[k] for k in ("threshold", "labels", "category") if k in config}
    return NudityChecker(**kwargs)


def _profanity(config: Mapping[str, Any], env: BuildEnv) -> Checker:
    _keys("profanity", config, {"threshold", "category", "harden"})
    kwargs = {k: config[k] for k in ("threshold", "category", "harden") if k in config}
    return ProfanityChecker(**kwargs)


def _abuse(config: Mapping[str, Any], env: BuildEnv) -> Checker:
    _keys("abuse", config, {"category", "harden"})
    return AbuseLexiconChecker(
        category=str(config.get("category", "abuse")), harden=bool(config.get("harden", True))
    )


def _terms(config: Mapping[str, Any], env: BuildEnv) -> Checker:
    allowed = {"terms", "patterns", "files", "pattern_files", "category", "harden", "timeout_s"}
    _keys("terms", config, allowed)
    category = str(config.get("category", "offensive-term"))
    terms = [ListEntry(t, category, f"inline:{i}") for i, t in enumerate(config.get("terms", []))]
    patterns = [
        ListEntry(p, category, f"inline-pattern:{i}")
        for i, p in enumerate(config.get("patterns", []))
    ]
    for f in config.get("files", []):
        terms += read_list(env.base_dir / f, category)
    for f in config.get("pattern_files", []):
        patterns += read_list(env.base_dir / f, category)
    return TermListChecker(
        terms,
        patterns,
        harden=bool(config.get("harden", True)),
        timeout_s=float(config.get("timeout_s", 0.25)),
    )


def _concepts(config: Mapping[str, Any], env: BuildEnv) -> Checker:
    _keys("concepts", config, {"embedder", "categories", "threshold", "modalities"})
    tables = config.get("categories", {})
    if not tables:
        raise PolicyError("[checkers.concepts] needs [checkers.concepts.categories.NAME] tables")
    concepts: dict[str, list[str]] = {}
    thresholds: dict[str, Any] = {}
    for cat, table in tables.items():
        _keys(f"concepts.categories.{cat}", table, {"descriptions", "threshold"})
        concepts[cat] = [str(d) for d in table.get("descriptions", [])]
        # a number, or a table of modality -> number with a "*" entry for the rest
        thresholds[cat] = table.get("threshold", config.get("threshold", 0.5))
    embedder = env.concept_embedder
    if embedder is None:
        from audit.embedders import create_embedder

        embedder = create_embedder(str(config.get("embedder", "local")))
    modalities = config.get("modalities")
    if modalities is not None:
        unknown = sorted(set(modalities) - set(embedder.modalities))
        if unknown:
            raise PolicyError(
                f"[checkers.concepts] modalities {unknown} are not read by the embedder; "
                f"it reads {sorted(embedder.modalities)}"
            )
    return ConceptChecker(embedder, concepts, thresholds, modalities=modalities)


CHECKERS.register("abuse", _abuse)
CHECKERS.register("hashlist", _hashlist)
CHECKERS.register("nudity", _nudity)
CHECKERS.register("profanity", _profanity)
CHECKERS.register("terms", _terms)
CHECKERS.register("concepts", _concepts)


def build_checkers(
    policy: Policy,
    *,
    concept_embedder: Embedder | None = None,
    transcribe: Transcribe | None = None,
) -> list[Checker]:
    """Build the policy's checkers plus the document/audio/video checkers around them.

    Raises
    ------
    RegistryError
        For an unknown checker name (with the closest known names).
    PolicyError
        For a bad checker table.
    """
    env = BuildEnv(policy.base_dir, concept_embedder, transcribe)
    checkers = [CHECKERS.get(name)(config, env) for name, config in policy.checkers.items()]
    text = [c for c in checkers if isinstance(c, TextChecker)]
    image = [c for c in checkers if isinstance(c, ImageChecker)]
    media = policy.media
    listen = transcribe is not None or bool(media["transcribe"])
    spoken = text if listen else []
    if text or image:
        checkers.append(
            DocumentChecker(
                text,
                image,
                max_pages=int(media["document_max_pages"]),
                render_px=int(media["document_render_px"]),
            )
        )
    if spoken:
        checkers.append(AudioChecker(spoken, transcribe=transcribe))
    if image or spoken:
        checkers.append(
            VideoChecker(
                image,
                spoken,
                transcribe=transcribe,
                fps=float(media["video_fps"]),
                max_frames=int(media["video_max_frames"]),
            )
        )
    return checkers
