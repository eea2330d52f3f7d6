"""Evaluation of the text path: obfuscated-abuse detection and benign false positives.

One computation (:func:`text_eval`) serves ``bench/safety_text_eval.py``, the safety
suite's ``text`` part and the tests, so every number agrees.

Abuse set: the lexicon's kept terms are split by a stable hash into a *tune* half
(what the normalisations were developed and unit-tested on) and a held-out *test*
half, which is measured. Each test term is obfuscated by every family of
:data:`audit.safety._obfuscate.OBFUSCATIONS` (code, not a template) and inserted at a
seeded random word position of a real sentence drawn from the benign sources below (no
labelled abusive corpus ships in a wheel, so the carriers are real benign sentences and
the abuse is the listed term). A family that leaves a term unchanged skips it.

Benign sources (real sentences, each measured on its own):

- ``passages``: the built-in passages (Python language reference topics), per sentence;
- ``licenses``: Debian's license and copyright texts (``/usr/share/common-licenses``,
  ``/usr/share/doc/*/copyright``);
- ``package-docs``: docstrings of installed scientific packages (numpy, scipy,
  scikit-learn, pandas), read with ``ast``;
- ``identity-mentions``: the built-in benign identity-mention sentences;
- ``scunthorpe``: the built-in substring traps, names and places (``Dick Van Dyke``,
  ``Penistone``, ``Middlesex``) and every common English word (wordfreq top 50,000)
  holding a kept one-word term of four letters or more inside it (``cockpit``,
  ``assassin``, ``Scunthorpe``);
- ``dictionary-words`` (separate): wordfreq's 20,000 most frequent English words, each
  alone, less exactly the words the better-profanity list names.

None of these is the lexicon's tuning text (emoji names, standard-library docstrings).
"""

from __future__ import annotations

import ast
import hashlib
import re
import sysconfig
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audit.safety._metrics import Rate, wilson

SEED = 20261207
PER_SOURCE = 2000
DICTIONARY_N = 20_000
_SENT = re.compile(r"(?<=[.;:!?])\s+")
#: Names and places with a listed word inside or as a part (kept benign, must pass).
NAME_TRAPS: tuple[str, ...] = (
    "Dick Van Dyke starred in Mary Poppins.",
    "Moby Dick was written by Herman Melville.",
    "Philip K. Dick wrote science fiction.",
    "Penistone is a market town in South Yorkshire.",
    "Middlesex County Cricket Club plays at Lord's.",
    "Scunthorpe is a town in North Lincolnshire.",
    "The train from Sussex to Essex was late.",
    "Lake Titicaca lies between Peru and Bolivia.",
    "Cockburnspath is a village in the Scottish Borders.",
    "Shitterton is a hamlet in Dorset.",
    "She used a garden hoe to weed the beds.",
    "A rake and a hoe hang in the shed.",
)


def is_test_term(term: str) -> bool:
    """Held-out half of the terms: a stable hash of the term decides."""
    return hashlib.sha256(term.encode("utf-8")).digest()[0] % 2 == 1


def _sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text)
    return [s.strip() for s in _SENT.split(text) if 6 <= len(s.split()) <= 60]


def passages() -> list[str]:
    """Sentences of the built-in passages."""
    from audit.datasets import load_dataset

    out: list[str] = []
    for it in load_dataset("builtin:passages").corpus:
        out += _sentences(str(it.content))
    return list(dict.fromkeys(out))


def licenses(limit: int = PER_SOURCE) -> list[str]:
    """Sentences of Debian's license and copyright files."""
    files = sorted(Path("/usr/share/common-licenses").glob("*"))
    files += sorted(Path("/usr/share/doc").glob("*/copyright"))
    seen: dict[str, None] = {}
    for path in files:
        if path.is_file():
            for s in _sentences(path.read_text(encoding="utf-8", errors="replace")):
                seen.setdefault(s, None)
        if len(seen) >= limit:
            break
    return list(seen)[:limit]


def package_docs(limit: int = PER_SOURCE) -> list[str]:
    """Sentences of docstrings of installed numpy, scipy, scikit-learn and pandas."""
    root = Path(sysconfig.get_paths()["purelib"])
    seen: dict[str, None] = {}
    for k, pkg in enumerate(("numpy", "scipy", "sklearn", "pandas"), start=1):
        for path in sorted((root / pkg).rglob("*.py")):
            if "tests" in path.parts:
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef):
                    doc = ast.get_docstring(node) or ""
                    for s in _sentences(doc.split("\n\n")[0]):
                        seen.setdefault(s, None)
            if len(seen) >= limit * k // 4:  # a quarter from each package
                break
    return list(seen)[:limit]


def scunthorpe(terms: Mapping[str, int]) -> list[str]:
    """Name/place traps, the built-in substring traps, and common words holding a listed
    one-word term (four letters or more) inside them."""
    from audit.safety._evalsets import SUBSTRING_TRAPS
    from audit.safety._lexicon import common_words

    inner = [t for t in terms if " " not in t and len(t) >= 4 and t.isalpha()]
    rx = re.compile("|".join(sorted(map(re.escape, inner), key=len, reverse=True)))
    words = sorted(w for w in common_words() if w.isalpha() and w not in terms and rx.search(w))
    return [*NAME_TRAPS, *SUBSTRING_TRAPS, *words]


def dictionary_words(named: set[str]) -> list[str]:
    """wordfreq's most frequent English words, less the words the source list names."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", DICTIONARY_N) if w.isalpha() and w not in named]


def benign_sources(terms: Mapping[str, int]) -> dict[str, list[str]]:
    """Every benign source by name (see the module docstring)."""
    from audit.safety._evalsets import identity_set

    return {
        "passages": passages(),
        "licenses": licenses(),
        "package-docs": package_docs(),
        "identity-mentions": [str(it.content) for it in identity_set()],
        "scunthorpe": scunthorpe(terms),
    }


def abuse_set(
    terms: Sequence[str], carriers: Sequence[str], rng: np.random.Generator
) -> dict[str, list[str]]:
    """Family -> sentences: each term obfuscated and put in a random carrier sentence."""
    from audit.safety._obfuscate import OBFUSCATIONS

    out: dict[str, list[str]] = {}
    for family, fn in OBFUSCATIONS.items():
        rows = []
        for term in terms:
            ob = fn(term)
            if family != "plain" and ob == term:
                continue
            words = carriers[int(rng.integers(len(carriers)))].split()
            at = int(rng.integers(len(words) + 1))
            rows.append(" ".join([*words[:at], ob, *words[at:]]))
        out[family] = rows
    return out


@dataclass(frozen=True)
class TextEval:
    """Rates of one evaluation: per family, per benign source, per policy.

    ``caught[policy][family]`` and ``blocked[policy][family]`` are Wilson rates on the
    abuse set; ``false_positive[policy][source]`` (flag or block) and
    ``blocked_benign[policy][source]`` on the benign sources; ``dictionary`` counts
    single common words flagged under each policy.
    """

    caught: dict[str, dict[str, Rate]]
    blocked: dict[str, dict[str, Rate]]
    false_positive: dict[str, dict[str, Rate]]
    blocked_benign: dict[str, dict[str, Rate]]
    dictionary: dict[str, Rate]
    flagged_words: dict[str, list[str]]
    test_terms: int


def text_eval(policies: Mapping[str, object], *, seed: int = SEED) -> TextEval:
    """Run the evaluation for each named policy (``Policy`` objects); only the policy's
    text checkers run (the concept check does not read text in the packaged ones)."""
    from dataclasses import replace

    from audit.items import text_item
    from audit.safety._embedder import build_filter
    from audit.safety._lexicon import Lexicon
    from audit.safety._lexicon_build import normalise_term, source_text

    lex = Lexicon.load()
    named = {normalise_term(t) for t in source_text().splitlines() if t.strip()}
    rng = np.random.default_rng(seed)
    benign = benign_sources(lex.terms)
    carriers = [s for src in ("passages", "licenses", "package-docs") for s in benign[src]]
    test_terms = sorted(t for t in lex.terms if is_test_term(t))
    abuse = abuse_set(test_terms, carriers, rng)
    words = dictionary_words(named)

    def rate(texts: list[str], decide: Callable[[str], bool], screen) -> Rate:
        verdicts = screen([text_item(f"t{i}", t) for i, t in enumerate(texts)])
        return wilson(sum(decide(v.action) for v in verdicts), len(texts))

    out: dict[str, dict] = {k: {} for k in ("caught", "blocked", "fp", "bb", "dict", "words")}
    for name, policy in policies.items():
        text_only = replace(
            policy,
            checkers={
                k: v for k, v in policy.checkers.items() if k in ("abuse", "profanity", "terms")
            },
        )
        screen = build_filter(text_only).screen

        def flagged(a: str) -> bool:
            return a != "allow"

        def blocks(a: str) -> bool:
            return a == "block"

        out["caught"][name] = {f: rate(s, flagged, screen) for f, s in abuse.items()}
        out["blocked"][name] = {f: rate(s, blocks, screen) for f, s in abuse.items()}
        out["fp"][name] = {s: rate(t, flagged, screen) for s, t in benign.items()}
        out["bb"][name] = {s: rate(t, blocks, screen) for s, t in benign.items()}
        verdicts = screen([text_item(f"w{i}", w) for i, w in enumerate(words)])
        hit = [w for w, v in zip(words, verdicts, strict=True) if v.action != "allow"]
        out["dict"][name] = wilson(len(hit), len(words))
        out["words"][name] = hit
    return TextEval(
        out["caught"], out["blocked"], out["fp"], out["bb"], out["dict"], out["words"],
        len(test_terms),
    )  # fmt: skip
