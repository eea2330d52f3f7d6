"""``speech``: the Zen of Python spoken by eSpeak NG in four voices.

Sentences: the 19 aphorisms of "The Zen of Python" by Tim Peters, as CPython ships them
in the ``this`` module (PSF License). Voices: accents en-us and en-gb, each with the
espeak-ng variants m3 and f3, whose voice files declare male and female. Every sentence
is spoken in every voice, so per-voice retrieval compares the same content.

Audio: 16 kHz mono WAV, 8-bit unsigned PCM (half the size of 16-bit; faster-whisper
tiny.en transcribed these clips no worse than 16-bit copies when this was checked).
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

from audit.datasets.builtin._make._common import (
    SAMPLE_RATE,
    fresh_folder,
    speak,
    versions,
    voice_gender,
    write_dataset,
)
from audit.items import Item

ACCENTS = ("en-us", "en-gb")
VARIANTS = ("m3", "f3")


def zen_of_python() -> list[str]:
    """The 19 aphorisms, decoded from ``this.s`` without importing ``this`` (which prints)."""
    import importlib.util

    spec = importlib.util.find_spec("this")
    if spec is None or spec.origin is None:
        raise RuntimeError("the standard library module 'this' is missing")
    source = Path(spec.origin).read_text(encoding="utf-8")
    encoded = source.split('s = """', 1)[1].split('"""', 1)[0]
    lines = codecs.decode(encoded, "rot13").splitlines()
    aphorisms = [line.strip() for line in lines[1:] if line.strip()]
    if len(aphorisms) != 19 or not lines[0].startswith("The Zen of Python"):
        raise RuntimeError("unexpected text in the 'this' module")
    return aphorisms


def make_speech() -> Path:
    """Write ``speech``: 19 sentences x 4 voices, queried by the sentence text."""
    import soundfile as sf

    root = fresh_folder("speech")
    corpus: list[Item] = []
    queries: list[Item] = []
    qrels: dict[str, dict[str, int]] = {}
    for k, sentence in enumerate(zen_of_python(), start=1):
        qid = f"q.zen{k:02d}"
        queries.append(Item(qid, "text", sentence, {"sentence": k}))
        for accent in ACCENTS:
            for variant in VARIANTS:
                voice = f"{accent}+{variant}"
                item_id = f"zen{k:02d}.{accent}-{variant}"
                path = root / "media" / f"{item_id}.wav"
                sf.write(path, speak(sentence, voice), SAMPLE_RATE, subtype="PCM_U8", format="WAV")
                attributes: dict[str, Any] = {
                    "voice": voice,
                    "accent": accent.split("-")[1],
                    "voice_gender": voice_gender(variant),
                    "sentence": k,
                }
                corpus.append(Item(item_id, "audio", path, attributes))
                qrels.setdefault(qid, {})[item_id] = 1
    card = {
        "name": "speech",
        "description": "The 19 aphorisms of The Zen of Python, each spoken by eSpeak NG in "
        "four voices (accents en-us/en-gb x variants m3/f3). The query is the sentence "
        "text; its four recordings are relevant (grade 1). voice_gender is the gender "
        "the espeak-ng voice variant file declares for a synthetic voice.",
        "group_attributes": ["voice", "accent", "voice_gender"],
        "provenance": {
            "source": "Sentences: 'The Zen of Python' by Tim Peters, from CPython's 'this' "
            "module. Speech: eSpeak NG (Debian package espeak-ng), 22.05 kHz output "
            "resampled to 16 kHz (scipy resample_poly), silence trimmed, peak-normalised, "
            "8-bit unsigned PCM WAV",
            "generator": "audit/datasets/builtin/_make/speech.py",
            "tools": versions("deb:espeak-ng", "soundfile", "scipy"),
        },
        "license": {
            "summary": "Text: PSF License 2.0 (CPython). Audio: synthesized by eSpeak NG "
            "(GPL-3.0-or-later; the GPL does not cover the program's output).",
            "spdx": ["PSF-2.0"],
        },
    }
    readme = f"""# speech

{card["description"]}

**Provenance.** {card["provenance"]["source"]}.

**License.** {card["license"]["summary"]}
"""
    write_dataset(root, corpus, queries, qrels, card, readme)
    return root
