"""User association tests from a file: JSON always, YAML when PyYAML is installed.

Format (``format_version`` 1), one file holding one or more tests::

    {"format_version": 1,
     "probes": [
       {"name": "gender-science",
        "description": "male vs female names / science vs arts words",
        "source": "where the stimuli come from",
        "modality": "text",                       # default of every set below
        "templates": "default",                   # optional: SEAT sentences for text sets
        "targets":    [{"name": "male",    "stimuli": ["John", "Paul"]},
                       {"name": "female",  "stimuli": ["Amy", "Joan"]}],
        "attributes": [{"name": "science", "stimuli": ["physics", "chemistry"]},
                       {"name": "arts",    "stimuli": ["poetry", "dance"]}]}]}

A set may override ``modality`` (``text``, ``image``, ``audio``, ``video``, ``document``);
for non-text sets the stimuli are file paths, relative to the probe file's folder.
``templates`` is a template-set name of :func:`load_seat_templates` or a list of templates
holding ``{w}`` (optionally ``{article}``); it applies to text sets only. Both targets must
share a modality and both attributes must share one, otherwise the test would measure the
gap between modalities rather than an association.

Every problem in a file is reported at once, in one ValueError that names the file, the
test and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fairness.probes._weat_data import load_seat_templates, seat_sentences

__all__ = [
    "MODALITIES",
    "ProbeSet",
    "StimulusSet",
    "load_probe_file",
    "parse_probe_sets",
    "yaml_available",
]

MODALITIES: tuple[str, ...] = ("text", "image", "audio", "video", "document")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_PROBE_KEYS = {
    "name",
    "description",
    "source",
    "modality",
    "templates",
    "targets",
    "attributes",
}
_SET_KEYS = {"name", "modality", "stimuli"}
FORMAT_VERSION = 1


@dataclass(frozen=True)
class StimulusSet:
    """One target or attribute set of a user test.

    Attributes
    ----------
    name : str
        Set name (e.g. ``"career"``).
    modality : str
        One of :data:`MODALITIES`.
    stimuli : tuple of str
        Words or sentences for text; absolute file paths otherwise.
    """

    name: str
    modality: str
    stimuli: tuple[str, ...]


@dataclass(frozen=True)
class ProbeSet:
    """A user association test: two target sets, two attribute sets, optional templates.

    Attributes
    ----------
    name : str
        Test name (letters, digits, ``-`` and ``_``).
    description : str
        What the test measures.
    source : str
        Where the stimuli come from (the file path when the file gives none).
    targets, attributes : tuple of StimulusSet
        ``(X, Y)`` and ``(A, B)``.
    templates : tuple of str or None
        SEAT templates applied to the text sets (None: bare stimuli).
    """

    name: str
    description: str
    source: str
    targets: tuple[StimulusSet, StimulusSet]
    attributes: tuple[StimulusSet, StimulusSet]
    templates: tuple[str, ...] | None = None

    @property
    def kind(self) -> str:
        """``"weat"`` (bare text), ``"seat"`` (templated text), ``"ieat"`` (image only) or
        ``"xmodal"`` (targets and attributes in different modalities)."""
        mods = {s.modality for s in (*self.targets, *self.attributes)}
        if mods == {"text"}:
            return "seat" if self.templates else "weat"
        if mods == {"image"}:
            return "ieat"
        return "xmodal" if len(mods) > 1 else "eat"

    @property
    def modality(self) -> str:
        """``"text"`` when one modality is used, else ``"<targets>|<attributes>"``."""
        t, a = self.targets[0].modality, self.attributes[0].modality
        return t if t == a else f"{t}|{a}"

    def sentences(self, stimuli: StimulusSet) -> list[str]:
        """The texts embedded for a text set: templated sentences or the bare stimuli."""
        if stimuli.modality != "text" or not self.templates:
            return list(stimuli.stimuli)
        return seat_sentences(list(stimuli.stimuli), list(self.templates))


def yaml_available() -> bool:
    """Whether PyYAML is importable (YAML probe files need it; JSON never does)."""
    try:
        import yaml  # noqa: F401
    except ImportError:
        return False
    return True


def load_probe_file(path: str | Path) -> list[ProbeSet]:
    """Read and validate a probe file (``.json``, or ``.yaml``/``.yml`` with PyYAML).

    Parameters
    ----------
    path : str or Path
        The file. Relative stimulus paths are resolved against its folder.

    Returns
    -------
    list of ProbeSet
        The tests in file order.

    Raises
    ------
    ValueError
        If the file is missing, unreadable, of an unknown type, or any test is invalid
        (every problem listed).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"probe file not found: {path}")
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8")
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: invalid JSON ({exc})") from exc
    elif suffix in (".yaml", ".yml"):
        if not yaml_available():
            raise ValueError(f"{path}: YAML probe files need PyYAML; install it or use JSON")
        import yaml

        try:
            data = yaml.safe_load(text)  # safe_load: no object construction from the file
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: invalid YAML ({exc})") from exc
    else:
        raise ValueError(f"{path}: unknown probe file type {suffix!r}; use .json, .yaml or .yml")
    return parse_probe_sets(data, source=str(path), base_dir=path.parent)


def parse_probe_sets(
    data: Any, *, source: str = "<probe file>", base_dir: Path | None = None
) -> list[ProbeSet]:
    """Validate the parsed content of a probe file.

    Parameters
    ----------
    data : object
        The decoded JSON/YAML document.
    source : str
        Name used in error messages and as the default ``source`` of each test.
    base_dir : Path or None
        Folder relative stimulus paths are resolved against (None: the working directory).

    Returns
    -------
    list of ProbeSet

    Raises
    ------
    ValueError
        Listing every problem found.
    """
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: the file must hold a mapping with a 'probes' list")
    unknown = sorted(set(data) - {"format_version", "probes"})
    if unknown:
        errors.append(f"unknown top-level key(s) {unknown}; known: format_version, probes")
    version = data.get("format_version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        errors.append(f"format_version {version!r} is not supported (this tool reads 1)")
    probes = data.get("probes")
    if not isinstance(probes, list) or not probes:
        errors.append("'probes' must be a non-empty list of tests")
        probes = []
    out: list[ProbeSet] = []
    seen: set[str] = set()
    for i, entry in enumerate(probes):
        label = f"probes[{i}]"
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            label = f"probe {entry['name']!r}"
        probe = _parse_probe(entry, label, source, base_dir, errors)
        if probe is not None:
            if probe.name in seen:
                errors.append(f"{label}: duplicate test name")
            seen.add(probe.name)
            out.append(probe)
    if errors:
        listed = "\n".join(f"  - {e}" for e in errors)
        raise ValueError(f"{source}: {len(errors)} problem(s) in the probe file:\n{listed}")
    return out


def _parse_probe(
    entry: Any, label: str, source: str, base_dir: Path | None, errors: list[str]
) -> ProbeSet | None:
    if not isinstance(entry, Mapping):
        errors.append(f"{label}: each test must be a mapping")
        return None
    start = len(errors)
    extra = sorted(set(entry) - _PROBE_KEYS)
    if extra:
        errors.append(f"{label}: unknown key(s) {extra}; known: {sorted(_PROBE_KEYS)}")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        errors.append(f"{label}: 'name' must be 1-64 letters, digits, '-' or '_' (got {name!r})")
    description = entry.get("description", "")
    if not isinstance(description, str):
        errors.append(f"{label}: 'description' must be a string")
    default_modality = entry.get("modality", "text")
    if default_modality not in MODALITIES:
        errors.append(f"{label}: 'modality' must be one of {MODALITIES}, not {default_modality!r}")
        default_modality = "text"
    templates = _templates(entry.get("templates"), label, errors)
    sets: dict[str, list[StimulusSet]] = {}
    for role in ("targets", "attributes"):
        raw = entry.get(role)
        if not isinstance(raw, list) or len(raw) != 2:
            errors.append(f"{label}: '{role}' must be a list of exactly 2 sets")
            continue
        parsed = [
            _parse_set(s, f"{label} {role}[{j}]", default_modality, base_dir, errors)
            for j, s in enumerate(raw)
        ]
        if all(p is not None for p in parsed):
            sets[role] = parsed  # type: ignore[assignment]
            if parsed[0].modality != parsed[1].modality:  # type: ignore[union-attr]
                errors.append(
                    f"{label}: both {role} must share a modality (got "
                    f"{parsed[0].modality} and {parsed[1].modality}); "  # type: ignore[union-attr]
                    "otherwise the test measures the modality gap"
                )
    if len(errors) > start or len(sets) != 2:
        return None
    return ProbeSet(
        name=str(name),
        description=str(description),
        source=str(entry.get("source") or source),
        targets=(sets["targets"][0], sets["targets"][1]),
        attributes=(sets["attributes"][0], sets["attributes"][1]),
        templates=templates,
    )


def _templates(raw: Any, label: str, errors: list[str]) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        known = load_seat_templates()
        if raw not in known:
            errors.append(f"{label}: unknown template set {raw!r}; known: {sorted(known)}")
            return None
        return known[raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, str) for t in raw):
        errors.append(f"{label}: 'templates' must be a template-set name or a list of strings")
        return None
    try:
        seat_sentences(["x"], list(raw))
    except ValueError as exc:
        errors.append(f"{label}: {exc}")
        return None
    return tuple(raw)


def _parse_set(
    raw: Any, label: str, default_modality: str, base_dir: Path | None, errors: list[str]
) -> StimulusSet | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{label}: must be a mapping with 'name' and 'stimuli'")
        return None
    start = len(errors)
    extra = sorted(set(raw) - _SET_KEYS)
    if extra:
        errors.append(f"{label}: unknown key(s) {extra}; known: {sorted(_SET_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        errors.append(f"{label}: 'name' must be a non-empty string")
    modality = raw.get("modality", default_modality)
    if modality not in MODALITIES:
        errors.append(f"{label}: 'modality' must be one of {MODALITIES}, not {modality!r}")
    stimuli = raw.get("stimuli")
    if (
        not isinstance(stimuli, list)
        or not stimuli
        or not all(isinstance(s, str) and s.strip() for s in stimuli)
    ):
        errors.append(f"{label}: 'stimuli' must be a non-empty list of non-empty strings")
        return None
    if len(set(stimuli)) != len(stimuli):
        dups = sorted({s for s in stimuli if stimuli.count(s) > 1})
        errors.append(f"{label}: duplicate stimuli {dups}")
    resolved: list[str] = list(stimuli)
    if modality in MODALITIES and modality != "text":
        resolved = []
        for s in stimuli:
            p = Path(s)
            p = p if p.is_absolute() else (base_dir or Path.cwd()) / p
            if not p.is_file():
                errors.append(f"{label}: {modality} stimulus {s!r} is not a file ({p})")
            resolved.append(str(p.resolve()))
    if len(errors) > start:
        return None
    return StimulusSet(str(name), str(modality), tuple(resolved))
