"""Writes are atomic and refuse to overwrite a file changed since it was read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knowflow import ConflictError, NoteExists, Vault
from knowflow.vault.files import FileStamp, atomic_write


def test_write_replaces_whole_file_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("old")
    path.chmod(0o640)
    stamp = FileStamp.of(path)
    new = atomic_write(path, "new text", stamp)
    assert path.read_text() == "new text"
    assert (path.stat().st_mode & 0o777) == 0o640
    assert new == FileStamp.of(path)
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]  # no temp file left


def test_conflict_when_changed_since_read(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("old")
    stamp = FileStamp.of(path)
    path.write_text("edited elsewhere")
    os.utime(path, ns=(0, stamp.mtime_ns + 1_000_000))
    with pytest.raises(ConflictError):
        atomic_write(path, "mine", stamp)
    assert path.read_text() == "edited elsewhere"
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]


def test_touched_but_same_content_is_not_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("same")
    stamp = FileStamp.of(path)
    os.utime(path, ns=(0, stamp.mtime_ns + 1_000_000))
    atomic_write(path, "mine", stamp)
    assert path.read_text() == "mine"


def test_deleted_since_read_and_new_file_exists(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("x")
    stamp = FileStamp.of(path)
    path.unlink()
    with pytest.raises(ConflictError):
        atomic_write(path, "mine", stamp)
    assert not path.exists()
    path.write_text("someone else's")
    with pytest.raises(ConflictError):
        atomic_write(path, "mine")  # expected=None means: must not exist
    assert path.read_text() == "someone else's"


def test_new_note_from_template(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    (vault.state_dir / "templates" / "note.md").write_text("# {{title}}\nmade {{date}}\n")
    path = vault.new_note("Idea: one/two?")
    assert path.parent == vault.root
    assert path.name == "Idea  one two.md"
    # the file name could not hold the title, so the front matter does
    assert path.read_text().startswith(
        "---\ntitle: 'Idea: one/two?'\n---\n# Idea: one/two?\nmade 20"
    )
    with pytest.raises(NoteExists):
        vault.new_note("Idea: one/two?")
    with pytest.raises(ValueError):
        vault.new_note("x", folder="../outside")
