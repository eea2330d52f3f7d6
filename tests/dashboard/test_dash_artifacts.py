"""Artifact paths from reports: only files really inside the run directory are read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dash_helpers import goto, plain

from audit.report import EmbedderInfo, Report, Result
from dashboard import ArtifactError, read_artifact, resolve_artifact
from dashboard._artifacts import artifact_refs

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "r1"
    (run / "artifacts").mkdir(parents=True)
    (run / "artifacts" / "a.png").write_bytes(PNG)
    (run / "artifacts" / "notes.svg").write_text("<svg onload='alert(1)'/>")
    secret = tmp_path / "secret.png"
    secret.write_bytes(PNG)
    (run / "artifacts" / "link.png").symlink_to(secret)
    (run / "artifacts" / "inner.png").symlink_to(run / "artifacts" / "a.png")
    (run / "escape").symlink_to(tmp_path)  # a directory link out of the run
    return run


def test_relative_paths_inside_the_run_resolve(run_dir: Path) -> None:
    expected = (run_dir / "artifacts" / "a.png").resolve()
    assert resolve_artifact(run_dir, "artifacts/a.png") == expected
    assert resolve_artifact(run_dir, "a.png") == expected  # looked up under artifacts/
    assert resolve_artifact(run_dir, "artifacts/./a.png") == expected
    assert resolve_artifact(run_dir, "artifacts/inner.png") == expected  # link kept inside
    art = read_artifact(run_dir, "artifacts/a.png", label="before")
    assert (art.kind, art.mime, art.label, art.data) == ("image", "image/png", "before", PNG)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("../secret.png", "'..' components are refused"),
        ("artifacts/../../secret.png", "'..' components are refused"),
        ("..\\secret.png", "'..' components are refused"),
        ("/etc/passwd", "absolute paths are refused"),
        ("C:\\Windows\\win.ini", "absolute paths are refused"),
        ("artifacts/link.png", "leads outside the run directory"),
        ("escape/secret.png", "leads outside the run directory"),
        ("artifacts/none.png", "no such file"),
        ("", "not a non-empty string"),
        (None, "not a non-empty string"),
        (["a.png"], "not a non-empty string"),
        ("a\x00.png", "NUL byte"),
    ],
)
def test_escaping_or_bad_paths_are_refused(run_dir: Path, path: object, reason: str) -> None:
    with pytest.raises(ArtifactError, match=reason.replace("(", r"\(")):
        resolve_artifact(run_dir, path)


def test_only_inert_media_types_are_read(run_dir: Path) -> None:
    with pytest.raises(ArtifactError, match=r"type \.svg is not shown"):
        read_artifact(run_dir, "artifacts/notes.svg")


def test_artifact_refs_accepts_mapping_list_or_string() -> None:
    assert artifact_refs({"artifacts": {"before": "a", "after": "b"}}) == [
        ("before", "a"),
        ("after", "b"),
    ]
    assert artifact_refs({"artifacts": ["a", "b"]}) == [("#1", "a"), ("#2", "b")]
    assert artifact_refs({"artifacts": "a"}) == [("", "a")]
    assert artifact_refs({"artifacts": 3}) == [] and artifact_refs({}) == []


def test_redteam_page_refuses_escaping_artifacts(app, run_dir: Path) -> None:
    refs = {
        "good": "artifacts/a.png",
        "up": "../../secret.png",
        "abs": str(run_dir.parent.parent / "secret.png"),
        "link": "artifacts/link.png",
    }
    Report(
        run_id="r1",
        tool_version="0.1.0",
        suite="redteam",
        embedder=EmbedderInfo(spec="hash", name="hash", modalities=["image"], dim=16),
        results=[
            Result(
                suite="redteam",
                check="pgd",
                metric="attack_success_rate",
                value=0.5,
                details={"eps": 0.03, "artifacts": refs},
            )
        ],
    ).save(run_dir / "report.json")
    at = goto(app(run_dir.parent), "redteam")
    warnings = [plain(w.value) for w in at.warning]
    assert len(warnings) == 3
    assert any("'../../secret.png': '..' components are refused" in w for w in warnings)
    assert any("absolute paths are refused" in w for w in warnings)
    assert any("'artifacts/link.png': leads outside the run directory" in w for w in warnings)
    images = at.get("image")
    assert len(images) == 1  # only the file inside the run


def test_symlinked_run_folder_leading_out_is_refused(app, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    Report(
        run_id="x",
        tool_version="0.1.0",
        suite="bias",
        embedder=EmbedderInfo(spec="hash", name="hash", modalities=["text"], dim=16),
    ).save(outside / "report.json")
    runs = tmp_path / "runs"
    runs.mkdir()
    os.symlink(outside, runs / "sneaky")
    at = app(runs)
    errors = [plain(e.value) for e in at.error]
    assert errors == ["Run sneaky: the run folder is a link that leads outside the runs directory"]
