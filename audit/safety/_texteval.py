"""Evaluation of the text path: obfuscated-abuse detection and benign false positives.

One computation (:func:`text_eval`) serves ``bench/safety_text_eval.py``, the safety
suite's ``text`` part and the tests, so every number agrees.

Abuse set: the lexicon's kept terms are split by a stable hash into a *tune* half
(what the normalisations were developed and unit-tested on) and a held-out *test*
half, which is measured. Each test term is obfuscated by every family of
:data:`audit.safety._obfuscate.OBFUSCATIONS` (code, not a template) and inserted at a
seeded random word position of a real sentence drawn from the benign sources below (no
labelled abusive corpus ships in a wheel, so the carriers are real benign sentences and
the abuse is the listed term). A family that leaves a term unchanged skips it. One more
family, ``list-respelt``, is written by people, not code: the word list's own held-out
respellings of tune-half terms (``fook``, ``feltch``; :func:`list_respellings`), read
by the checker with the tune half of the lexicon only.

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
  alone, less the lexicon's kept terms (the words it drops, ``kill``, ``god``, ``sex``,
  are in: they must not flag alone).

None of these is the lexicon's tuning text (emoji names, standard-library docstrings).
"""

from __future__ import annotations

import ast
import hashlib
import re
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audit.safety._metrics import Rate, wilson

SEED = 20261207
PER_SOURCE = 2000
QUICK_PER_SOURCE = 300  # the suite's --quick run: every family and source, less of each
QUICK_TERMS = 120
QUICK_DICTIONARY_N = 5000
DICTIONARY_N = 20_000
#: Checkers that read text (the evaluation runs only these).
TEXT_CHECKERS = ("abuse", "profanity", "terms")
#: The family of the word list's own held-out respellings (:func:`list_respellings`).
RESPELT = "list-respelt"
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


def dictionary_words(named: set[str], n: int = DICTIONARY_N) -> list[str]:
    """wordfreq's most frequent English words, less ``named`` (the lexicon's kept terms:
    a listed term flags alone by design; the dropped ones, ``kill``, ``god``, stay in)."""
    from wordfreq import top_n_list

    return [w for w in top_n_list("en", n) if w.isalpha() and w not in named]


def benign_sources(terms: Mapping[str, int], per_source: int = PER_SOURCE) -> dict[str, list[str]]:
    """Every benign source by name (see the module docstring)."""
    from audit.safety._evalsets import identity_set

    return {
        "passages": passages()[:per_source],
        "licenses": licenses(per_source),
        "package-docs": package_docs(per_source),
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


def list_respellings(lex: Any) -> tuple[list[str], Any]:
    """Human respellings from the word list itself, held out, and the lexicon to read them.

    A test-half one-word term is a respelling of a tune-half term when both have the
    same Metaphone key (jellyfish), the same first letter, at most two edits between them
    (Damerau-Levenshtein) and neither starts the other (``fook``/``fuck``, ``feltch``/
    ``felch``, ``lezbo``/``lesbo``); it is kept when it is no common word (the gate of the
    fuzzy readings; a common word is listed or not). Returns the respellings and the
    lexicon of the tune half alone, which must read them: the selection uses a
    different phonetic algorithm than the checker's fold, so it does not grade its own
    answers.
    """
    import jellyfish

    from audit.safety._lexicon import Lexicon, gate_words

    tune = {t: line for t, line in lex.terms.items() if not is_test_term(t)}
    keys: dict[str, list[str]] = {}
    for u in tune:
        if " " not in u and u.isalpha() and len(u) >= 3:
            keys.setdefault(jellyfish.metaphone(u), []).append(u)
    gate = gate_words()
    out = []
    for t in sorted(lex.terms):
        if not is_test_term(t) or " " in t or not t.isalpha() or len(t) < 3 or t in gate:
            continue
        if any(
            u[0] == t[0]
            and not (t.startswith(u) or u.startswith(t))
            and jellyfish.damerau_levenshtein_distance(t, u) <= 2
            for u in keys.get(jellyfish.metaphone(t), ())
        ):
            out.append(t)
    return out, Lexicon(tune, lex.names, lex.source)


@dataclass(frozen=True)
class TextEval:
    """Rates of one evaluation: per family, per benign source, per policy.

    ``caught[policy][family]`` and ``blocked[policy][family]`` are Wilson rates on the
    abuse set; ``false_positive[policy][source]`` (flag or block) and
    ``blocked_benign[policy][source]`` on the benign sources; ``dictionary`` counts
    single common words flagged under each policy (``flagged_words`` lists them).
    ``caught_all`` and ``false_positive_all`` pool every family / source.
    """

    caught: dict[str, dict[str, Rate]]
    blocked: dict[str, dict[str, Rate]]
    false_positive: dict[str, dict[str, Rate]]
    blocked_benign: dict[str, dict[str, Rate]]
    dictionary: dict[str, Rate]
    flagged_words: dict[str, list[str]]
    test_terms: int

    @property
    def caught_all(self) -> dict[str, Rate]:
        """Detection over every family, per policy."""
        return {p: _pool(r.values()) for p, r in self.caught.items()}

    @property
    def false_positive_all(self) -> dict[str, Rate]:
        """False positives over every benign source, per policy."""
        return {p: _pool(r.values()) for p, r in self.false_positive.items()}

    def results(self, suite: str = "safety") -> list[Any]:
        """The rates as report results (``text/abuse/<family>``, ``text/benign/<source>``,
        ``text/dictionary-words``; ``variant`` is the policy name)."""
        from audit.report import Result

        def res(check: str, metric: str, r: Rate, policy: str, **details: Any) -> Result:
            return Result(
                suite=suite, check=check, metric=metric, value=r.value, ci_low=r.ci_low,
                ci_high=r.ci_high, n=r.n, variant=policy, modality="text",
                details={"k": r.k, **details},
            )  # fmt: skip

        out: list[Result] = []
        for p in self.caught:
            terms = {"held_out_terms": self.test_terms}
            for fam, r in {**self.caught[p], "all": self.caught_all[p]}.items():
                out.append(res(f"text/abuse/{fam}", "detection_rate", r, p, **terms))
            for fam, r in self.blocked[p].items():
                out.append(res(f"text/abuse/{fam}", "block_rate", r, p, **terms))
            fps = {**self.false_positive[p], "all": self.false_positive_all[p]}
            for src, r in fps.items():
                out.append(res(f"text/benign/{src}", "false_positive_rate", r, p))
            for src, r in self.blocked_benign[p].items():
                out.append(res(f"text/benign/{src}", "block_rate", r, p))
            words = self.flagged_words[p]
            out.append(
                res("text/dictionary-words", "flag_rate", self.dictionary[p], p, words=words[:50])
            )
        return out


def _pool(rates: Any) -> Rate:
    rates = list(rates)
    return wilson(sum(r.k for r in rates), sum(r.n for r in rates))


def _text_checkers(policy: Any) -> dict[str, Any]:
    return {k: v for k, v in policy.checkers.items() if k in TEXT_CHECKERS}


def text_eval(
    policies: Mapping[str, Any],
    *,
    seed: int = SEED,
    per_source: int = PER_SOURCE,
    max_terms: int | None = None,
    dictionary_n: int = DICTIONARY_N,
) -> TextEval:
    """Run the evaluation for each named policy (``Policy`` objects).

    Only the policy's text checkers run (the concept check does not read text in the
    packaged ones). Policies whose text checkers are configured alike share one
    screening; each maps the findings to its own action (``Policy.action_for``).
    ``per_source`` caps each benign source and the carriers, ``max_terms`` the held-out
    terms (a stable hash order picks them), ``dictionary_n`` the most frequent words
    tried alone; ``--quick`` uses less of each.
    """
    from dataclasses import replace

    from audit.items import text_item
    from audit.safety._embedder import build_filter
    from audit.safety._lexicon import Lexicon, match

    lex = Lexicon.load()
    rng = np.random.default_rng(seed)
    benign = benign_sources(lex.terms, per_source)
    carriers = [s for src in ("passages", "licenses", "package-docs") for s in benign[src]]
    test_terms = sorted(t for t in lex.terms if is_test_term(t))
    if max_terms is not None:
        picked = sorted(test_terms, key=lambda t: hashlib.sha256(t.encode()).digest())
        test_terms = sorted(picked[:max_terms])
    abuse = abuse_set(test_terms, carriers, rng)
    respelt, tune_lex = list_respellings(lex)
    respelt_texts = abuse_set(respelt, carriers, rng)["plain"]
    words = dictionary_words(set(lex.terms), dictionary_n)
    sets = {**{("abuse", f): t for f, t in abuse.items()}}
    sets.update({("benign", s): t for s, t in benign.items()})
    sets[("dict", "")] = words

    screened: dict[str, dict[tuple[str, str], list[Any]]] = {}  # checker config -> verdicts
    out: dict[str, dict] = {k: {} for k in ("caught", "blocked", "fp", "bb", "dict", "words")}
    for name, policy in policies.items():
        key = repr(sorted(_text_checkers(policy).items()))
        if key not in screened:
            screen = build_filter(replace(policy, checkers=_text_checkers(policy))).screen
            screened[key] = {
                k: [v.decisions for v in screen([text_item(f"t{i}", t) for i, t in enumerate(ts)])]
                for k, ts in sets.items()
            }
        acts = {k: [_action(policy, d) for d in ds] for k, ds in screened[key].items()}

        def rate(k: tuple[str, str], want: tuple[str, ...]) -> Rate:
            return wilson(sum(a in want for a in acts[k]), len(acts[k]))  # noqa: B023

        # the word list's own respellings, read against the tune half of the lexicon
        abuse_cfg = policy.checkers.get("abuse")
        hit_action = policy.action_for(abuse_cfg.get("category", "abuse")) if abuse_cfg else "allow"
        acts[("abuse", RESPELT)] = [
            hit_action if match(tune_lex, t) else "allow" for t in respelt_texts
        ]
        fams = [*abuse, RESPELT]
        out["caught"][name] = {f: rate(("abuse", f), ("flag", "block")) for f in fams}
        out["blocked"][name] = {f: rate(("abuse", f), ("block",)) for f in fams}
        out["fp"][name] = {s: rate(("benign", s), ("flag", "block")) for s in benign}
        out["bb"][name] = {s: rate(("benign", s), ("block",)) for s in benign}
        out["dict"][name] = rate(("dict", ""), ("flag", "block"))
        out["words"][name] = [
            w for w, a in zip(words, acts[("dict", "")], strict=True) if a != "allow"
        ]
    return TextEval(
        out["caught"], out["blocked"], out["fp"], out["bb"], out["dict"], out["words"],
        len(test_terms),
    )  # fmt: skip


def _action(policy: Any, decisions: Sequence[Any]) -> str:
    """The policy's action for one item's checker decisions (the filter's own rule: the
    most severe action of the non-allowing decisions, errors always block)."""
    from audit.safety._decision import SEVERITY

    action = "allow"
    for d in decisions:
        if not d.allowed:
            a = "block" if d.error else policy.action_for(d.category)
            if SEVERITY[a] > SEVERITY[action]:
                action = a
    return action
