"""The safety policy: which checkers run, their thresholds, and what each category does.

A policy is a TOML file (format in docs/safety.md; the packaged default is
``audit/safety/data/default_policy.toml``)::

    version = 1
    default_action = "block"     # categories the file does not name
    unchecked_action = "block"   # items no checker reads (fail closed)
    [categories]                 # category -> "block" | "flag" | "allow"
    sexual = "block"
    profanity = "flag"
    [checkers.nudity]            # one table per checker (see audit.safety.CHECKERS)
    threshold = 0.5
    [media]                      # document/video sampling
    document_max_pages = 8

Paths inside checker tables are relative to the policy file. A checker error always
blocks (fail closed); the ``checker-error`` category cannot be given another action.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from audit.config import ConfigError
from audit.safety._decision import ACTIONS, ERROR_CATEGORY, SEVERITY, UNCHECKED_CATEGORY

_TOP_KEYS = {"version", "default_action", "unchecked_action", "categories", "checkers", "media"}
MEDIA_DEFAULTS: dict[str, Any] = {
    "document_max_pages": 8,
    "document_render_px": 512,
    "video_fps": 1.0,
    "video_max_frames": 32,
    "transcribe": True,
}


class PolicyError(ConfigError):
    """A policy file is missing, not TOML, or does not follow the format (a usage error:
    the CLI exits with code 2)."""


@dataclass(frozen=True)
class Policy:
    """A parsed safety policy (see the module docstring for the file format).

    Attributes
    ----------
    categories : mapping
        Category -> action (``block``, ``flag`` or ``allow``).
    checkers : mapping
        Checker name -> its configuration table.
    default_action : str
        Action of categories not named in ``categories``.
    unchecked_action : str
        Action for an item that no checker reads.
    media : mapping
        Document/video sampling and whether audio is transcribed.
    base_dir : Path
        Folder that relative paths in checker tables start from.
    source : str
        Where the policy came from (a path, or ``<default>``).
    sha256 : str
        Hash of the policy text, recorded with every logged decision.
    """

    categories: Mapping[str, str]
    checkers: Mapping[str, Mapping[str, Any]]
    default_action: str = "block"
    unchecked_action: str = "block"
    media: Mapping[str, Any] = field(default_factory=lambda: dict(MEDIA_DEFAULTS))
    base_dir: Path = Path(".")
    source: str = "<inline>"
    sha256: str = ""

    def action_for(self, category: str | None) -> str:
        """The action for a category (errors always block)."""
        if category == ERROR_CATEGORY:
            return "block"
        if category == UNCHECKED_CATEGORY:
            return self.categories.get(category, self.unchecked_action)
        return self.categories.get(category or "", self.default_action)

    def severity(self, category: str) -> int:
        """Rank of a category's action (block 2 > flag 1 > allow 0)."""
        return SEVERITY[self.action_for(category)]

    def describe(self) -> dict[str, Any]:
        """What reports record about the policy."""
        return {
            "source": self.source,
            "sha256": self.sha256,
            "categories": dict(self.categories),
            "default_action": self.default_action,
            "unchecked_action": self.unchecked_action,
            "checkers": sorted(self.checkers),
            "media": dict(self.media),
        }


def policy_from_dict(
    data: Mapping[str, Any], *, base_dir: str | Path = ".", source: str = "<inline>"
) -> Policy:
    """Validate a parsed policy table and build a :class:`Policy`.

    Raises
    ------
    PolicyError
        Listing every problem found (unknown keys, bad actions, bad types).
    """
    errors: list[str] = []
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        errors.append(f"unknown key(s) {unknown}; known: {sorted(_TOP_KEYS)}")
    if data.get("version", 1) != 1:
        errors.append(f"version must be 1, got {data.get('version')!r}")
    actions = {}
    for key in ("default_action", "unchecked_action"):
        actions[key] = data.get(key, "block")
        if actions[key] not in ACTIONS:
            errors.append(f"{key} must be one of {ACTIONS}, got {actions[key]!r}")
    categories = data.get("categories", {})
    if not isinstance(categories, Mapping):
        errors.append("[categories] must be a table of category = action")
        categories = {}
    for cat, action in categories.items():
        if action not in ACTIONS:
            errors.append(f"categories.{cat} must be one of {ACTIONS}, got {action!r}")
        if cat == ERROR_CATEGORY and action != "block":
            errors.append(f"categories.{ERROR_CATEGORY} cannot be {action!r}: errors always block")
    checkers = data.get("checkers", {})
    if not isinstance(checkers, Mapping) or any(
        not isinstance(v, Mapping) for v in checkers.values()
    ):
        errors.append("[checkers] must hold one [checkers.NAME] table per checker")
        checkers = {}
    media = dict(MEDIA_DEFAULTS)
    extra = data.get("media", {})
    if not isinstance(extra, Mapping):
        errors.append("[media] must be a table")
        extra = {}
    for key, value in extra.items():
        if key not in MEDIA_DEFAULTS:
            errors.append(f"media.{key} is unknown; known: {sorted(MEDIA_DEFAULTS)}")
        elif type(value) is not type(MEDIA_DEFAULTS[key]) and not (
            isinstance(MEDIA_DEFAULTS[key], float) and type(value) is int
        ):
            errors.append(f"media.{key} must be {type(MEDIA_DEFAULTS[key]).__name__}")
        else:
            media[key] = value
    if errors:
        raise PolicyError(f"safety policy {source}: " + "; ".join(errors))
    blob = repr(sorted(data.items(), key=lambda kv: kv[0])).encode()
    return Policy(
        categories=dict(categories),
        checkers={k: dict(v) for k, v in checkers.items()},
        default_action=actions["default_action"],
        unchecked_action=actions["unchecked_action"],
        media=media,
        base_dir=Path(base_dir),
        source=source,
        sha256=hashlib.sha256(blob).hexdigest(),
    )


def load_policy(path: str | Path) -> Policy:
    """Read a policy TOML file (its folder is the base of relative paths in it).

    Raises
    ------
    PolicyError
        If the file is missing, not valid TOML, or breaks the format.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"safety policy {path}: cannot read ({exc.strerror})") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"safety policy {path}: invalid TOML ({exc})") from exc
    policy = policy_from_dict(data, base_dir=path.resolve().parent, source=str(path))
    # the hash of the file itself is what an auditor can recompute
    return _with_sha(policy, hashlib.sha256(text.encode("utf-8")).hexdigest())


#: Packaged policies by name (``--safety-policy NAME``): file in ``audit/safety/data``.
PACKAGED_POLICIES: dict[str, str] = {
    "default": "default_policy.toml",
    "strict": "strict_policy.toml",
}


def packaged_policy(name: str) -> Policy:
    """A packaged policy by name (see :data:`PACKAGED_POLICIES`).

    Raises
    ------
    PolicyError
        For a name that is not packaged.
    """
    if name not in PACKAGED_POLICIES:
        raise PolicyError(
            f"no packaged safety policy {name!r}; packaged: {list(PACKAGED_POLICIES)}"
        )
    ref = resources.files("audit.safety") / "data" / PACKAGED_POLICIES[name]
    text = ref.read_text(encoding="utf-8")
    policy = policy_from_dict(
        tomllib.loads(text), base_dir=Path(str(ref)).parent, source=f"<{name}>"
    )
    return _with_sha(policy, hashlib.sha256(text.encode("utf-8")).hexdigest())


def default_policy() -> Policy:
    """The packaged default policy (``audit/safety/data/default_policy.toml``)."""
    return packaged_policy("default")


def resolve_policy(value: str | Path) -> Policy:
    """A packaged policy's name (``default``, ``strict``) or a policy file's path."""
    if str(value) in PACKAGED_POLICIES:
        return packaged_policy(str(value))
    return load_policy(value)


def _with_sha(policy: Policy, sha: str) -> Policy:
    from dataclasses import replace

    return replace(policy, sha256=sha)
