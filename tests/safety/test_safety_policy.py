"""Policy files, the checker registry, and building checkers from a policy."""

from __future__ import annotations

import pytest
from safety_fakes import TableEmbedder

from audit.registry import RegistryError
from audit.safety import (
    CHECKERS,
    AudioChecker,
    Checker,
    DocumentChecker,
    PolicyError,
    VideoChecker,
    build_checkers,
    default_policy,
    load_policy,
    policy_from_dict,
)
from audit.safety._registry import BuildEnv

MINIMAL = {
    "abuse": {"category": "abuse"},
    "hashlist": {},
    "nudity": {"threshold": 0.6},
    "profanity": {"threshold": 0.7},
    "terms": {"terms": ["darn"]},
    "concepts": {"categories": {"c": {"descriptions": ["a concept"], "threshold": 0.4}}},
}


@pytest.mark.parametrize("name", CHECKERS.names())
def test_every_registered_checker_builds_and_rejects_unknown_keys(name, tmp_path):
    """The common registry test: each factory builds a Checker from a minimal table."""
    env = BuildEnv(tmp_path, concept_embedder=TableEmbedder({}))
    checker = CHECKERS.get(name)(MINIMAL[name], env)
    assert isinstance(checker, Checker) and checker.modalities
    assert isinstance(checker.describe(), dict)
    with pytest.raises(PolicyError, match="unknown key"):
        CHECKERS.get(name)({**MINIMAL[name], "thresold": 1}, env)


def test_registry_covers_the_documented_checkers():
    assert CHECKERS.names() == ["abuse", "concepts", "hashlist", "nudity", "profanity", "terms"]


def test_default_policy_loads_and_is_consistent():
    policy = default_policy()
    assert policy.source == "<default>" and len(policy.sha256) == 64
    # issue 16.7: the abuse lexicon replaced the classifier on text (which alone flagged
    # "hoe", "Dick Van Dyke" and "dog"); abuse and profanity flag, strict blocks them
    assert set(policy.checkers) == {"hashlist", "nudity", "abuse", "concepts"}
    assert policy.action_for("sexual") == "block"
    assert policy.action_for("profanity") == "flag"
    assert policy.action_for("abuse") == "flag"
    assert policy.action_for("never-named") == "block"  # default_action
    assert policy.action_for("checker-error") == "block"


def test_policy_file_relative_paths_and_media_composites(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "terms.txt").write_text("# mine\ndarn\nheck\trude\n")
    (tmp_path / "lists" / "bad.hashes").write_text("0123456789abcdef csam-test ref1\n")
    (tmp_path / "p.toml").write_text(
        'version = 1\n[categories]\nrude = "flag"\n'
        '[checkers.terms]\nfiles = ["lists/terms.txt"]\n'
        '[checkers.hashlist]\nlists = ["lists/bad.hashes"]\n'
        "[media]\ndocument_max_pages = 3\nvideo_fps = 2\n"
    )
    policy = load_policy(tmp_path / "p.toml")
    checkers = build_checkers(policy, transcribe=lambda item: "")
    names = [c.name for c in checkers]
    assert names == ["terms", "hashlist", "document", "audio", "video"]
    doc = next(c for c in checkers if isinstance(c, DocumentChecker))
    assert doc.max_pages == 3 and [c.name for c in doc.image_checkers] == ["hashlist"]
    video = next(c for c in checkers if isinstance(c, VideoChecker))
    assert video.fps == 2.0
    assert any(isinstance(c, AudioChecker) for c in checkers)
    terms = checkers[0]
    assert terms.text_findings("oh heck")[0].category == "rude"
    assert terms.text_findings("darn")[0].reason == "listed term terms.txt:2"


def test_no_transcription_means_no_audio_checker():
    policy = policy_from_dict(
        {"checkers": {"terms": {"terms": ["x"]}}, "media": {"transcribe": False}}
    )
    names = [c.name for c in build_checkers(policy)]
    assert names == ["terms", "document"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bogus": 1}, "unknown key"),
        ({"version": 2}, "version must be 1"),
        ({"default_action": "warn"}, "default_action must be one of"),
        ({"categories": {"x": "maybe"}}, "categories.x must be one of"),
        ({"media": {"video_fps": "fast"}}, "media.video_fps must be float"),
        ({"media": {"frames": 3}}, "media.frames is unknown"),
        ({"checkers": {"terms": 3}}, "one \\[checkers.NAME\\] table"),
    ],
)
def test_bad_policies_are_rejected_with_the_reason(data, message):
    with pytest.raises(PolicyError, match=message):
        policy_from_dict(data)


def test_unknown_checker_name_suggests_the_closest():
    policy = policy_from_dict({"checkers": {"nudety": {}}})
    with pytest.raises(RegistryError, match="did you mean 'nudity'"):
        build_checkers(policy)


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "none.toml")
    (tmp_path / "bad.toml").write_text("version = = 1")
    with pytest.raises(PolicyError, match="invalid TOML"):
        load_policy(tmp_path / "bad.toml")
