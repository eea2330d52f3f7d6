"""User probe files: JSON and YAML parsing, and every validation error at once."""

from __future__ import annotations

import json

import pytest

from fairness.probes import load_probe_file, parse_probe_sets, seat_sentences, yaml_available


def _probe(**over):
    base = {
        "name": "gender-science",
        "description": "male vs female names / science vs arts",
        "targets": [
            {"name": "male", "stimuli": ["John", "Paul"]},
            {"name": "female", "stimuli": ["Amy", "Joan"]},
        ],
        "attributes": [
            {"name": "science", "stimuli": ["physics", "chemistry"]},
            {"name": "arts", "stimuli": ["poetry", "dance"]},
        ],
    }
    base.update(over)
    return base


def test_json_file_round_trip(tmp_path):
    path = tmp_path / "probes.json"
    path.write_text(json.dumps({"format_version": 1, "probes": [_probe()]}))
    (p,) = load_probe_file(path)
    assert p.name == "gender-science" and p.kind == "weat" and p.modality == "text"
    assert [s.name for s in p.targets] == ["male", "female"]
    assert p.targets[0].stimuli == ("John", "Paul")
    assert p.source == str(path)  # defaults to the file
    assert p.sentences(p.targets[0]) == ["John", "Paul"]


def test_templates_make_a_seat_test():
    (p,) = parse_probe_sets({"probes": [_probe(templates=["This is {w}.", "{w} is here."])]})
    assert p.kind == "seat"
    templates = ["This is {w}.", "{w} is here."]
    assert p.sentences(p.attributes[0]) == seat_sentences(["physics", "chemistry"], templates)
    (named,) = parse_probe_sets({"probes": [_probe(templates="name")]})
    assert named.templates and "{w} is a person." in named.templates


@pytest.mark.skipif(not yaml_available(), reason="PyYAML not installed")
def test_yaml_file_equals_json(tmp_path):
    import yaml

    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"probes": [_probe()]}))
    (tmp_path / "p.json").write_text(json.dumps({"probes": [_probe()]}))
    y = load_probe_file(tmp_path / "p.yaml")
    j = load_probe_file(tmp_path / "p.json")
    assert [(p.name, p.targets, p.attributes) for p in y] == [
        (p.name, p.targets, p.attributes) for p in j
    ]


def test_image_targets_resolve_relative_paths(tmp_path):
    (tmp_path / "img").mkdir()
    for n in ("a.png", "b.png", "c.png", "d.png"):
        (tmp_path / "img" / n).write_bytes(b"\x89PNG")
    entry = _probe(
        targets=[
            {"name": "x", "modality": "image", "stimuli": ["img/a.png", "img/b.png"]},
            {"name": "y", "modality": "image", "stimuli": ["img/c.png", "img/d.png"]},
        ]
    )
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"probes": [entry]}))
    (p,) = load_probe_file(path)
    assert p.kind == "xmodal" and p.modality == "image|text"
    assert p.targets[0].stimuli[0] == str((tmp_path / "img" / "a.png").resolve())
    all_image = _probe(modality="image", targets=entry["targets"], attributes=entry["targets"])
    (q,) = parse_probe_sets({"probes": [all_image]}, base_dir=tmp_path)
    assert q.kind == "ieat"


def test_every_problem_is_reported_at_once(tmp_path):
    bad = [
        _probe(name="has space"),
        _probe(name="two", targets=[{"name": "x", "stimuli": ["a"]}]),
        _probe(
            name="mixed",
            targets=[
                {"name": "x", "modality": "text", "stimuli": ["a"]},
                {"name": "y", "modality": "image", "stimuli": ["missing.png"]},
            ],
        ),
        _probe(name="tpl", templates=["no placeholder"]),
        _probe(name="tplset", templates="nope"),
        _probe(name="extra", colour="red"),
        _probe(name="gender-science"),
        _probe(name="gender-science"),
        _probe(
            name="dups",
            attributes=[{"name": "a", "stimuli": ["x", "x"]}, {"name": "b", "stimuli": ["y"]}],
        ),
    ]
    with pytest.raises(ValueError) as info:
        parse_probe_sets({"probes": bad, "format_version": 1}, source="f.json", base_dir=tmp_path)
    msg = str(info.value)
    assert msg.startswith("f.json: ")
    for needle in (
        "'name' must be 1-64 letters",
        "'targets' must be a list of exactly 2 sets",
        "is not a file",
        "has no '{w}' placeholder",
        "unknown template set 'nope'",
        "unknown key(s) ['colour']",
        "probe 'gender-science': duplicate test name",
        "duplicate stimuli ['x']",
    ):
        assert needle in msg, needle


def test_modality_mismatch_is_named(tmp_path):
    (tmp_path / "a.png").write_bytes(b"x")
    entry = _probe(
        targets=[
            {"name": "x", "modality": "text", "stimuli": ["a"]},
            {"name": "y", "modality": "image", "stimuli": ["a.png"]},
        ]
    )
    with pytest.raises(ValueError, match="both targets must share a modality"):
        parse_probe_sets({"probes": [entry]}, base_dir=tmp_path)


def test_file_level_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_probe_file(tmp_path / "none.json")
    (tmp_path / "p.txt").write_text("{}")
    with pytest.raises(ValueError, match="unknown probe file type"):
        load_probe_file(tmp_path / "p.txt")
    (tmp_path / "p.json").write_text("{not json")
    with pytest.raises(ValueError, match="invalid JSON"):
        load_probe_file(tmp_path / "p.json")
    with pytest.raises(ValueError, match="'probes' must be a non-empty list"):
        parse_probe_sets({"probes": []})
    with pytest.raises(ValueError, match="format_version 2"):
        parse_probe_sets({"format_version": 2, "probes": [_probe()]})
    with pytest.raises(ValueError, match="must hold a mapping"):
        parse_probe_sets([_probe()])
