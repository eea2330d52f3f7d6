"""``load_dataset(spec)`` resolution and the built-in registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from ds_fixtures import beir_folder_fixture  # noqa: F401 (fixture)

from audit.datasets import BUILTINS, DatasetError, load_dataset, register_builtin
from audit.registry import RegistryError


def test_folder_spec_detects_beir(beir_folder: Path) -> None:
    assert load_dataset(str(beir_folder)).name == "beir"
    assert [q.id for q in load_dataset(beir_folder, split="dev").queries] == ["q3"]


def test_unknown_builtin_suggests_close_names() -> None:
    with pytest.raises(RegistryError, match="did you mean 'emoji-objects'"):
        load_dataset("builtin:emoji-object")


def test_duplicate_builtin_rejected(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="already registered"):
        register_builtin("speech", tmp_path)
    assert "speech" in BUILTINS


def test_unsupported_specs_explain_the_forms(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no such file or folder; use builtin:<name>"):
        load_dataset(tmp_path / "nothing-here")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(DatasetError, match="unsupported file type"):
        load_dataset(tmp_path / "notes.txt")
    (tmp_path / "plain").mkdir()
    with pytest.raises(DatasetError, match="neither a save_to_disk folder nor parquet"):
        load_dataset(tmp_path / "plain")
