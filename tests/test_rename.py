"""rename and move: every link follows the file, written as Obsidian writes it, and
nothing else changes; a killed run is finished by the next one."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from knowflow import AmbiguousNote, Index, NoteExists, Vault
from knowflow.sense.check import check
from knowflow.sense.rename import _apply, _plan, move, rename

from .conftest import cli_in, fingerprint, write_files

Build = Callable[[dict[str, str | bytes]], Index]

LINKING = (
    "---\nrelated: x\n---\n"
    "Plain [[Old note]], with folder [[notes/Old note]], shown [[Old note|my words]].\n"
    "Anchors [[Old note#Part two]] and [[Old note#^blk-1]], embed ![[Old note#Part two]].\n"
    "Markdown [text](notes/Old%20note.md#part-two) and [bare](<notes/Old note.md>).\n"
    "In code `[[Old note]]` and\n```\n[[Old note]]\n```\n%% [[Old note]] %%\n"
    "Other [[Unrelated]] stays.\n"
)


def text(index: Index, rel: str) -> str:
    return (index.vault.root / rel).read_text()


def test_rename_rewrites_every_link_and_nothing_else(indexed: Build) -> None:
    index = indexed(
        {
            "notes/Old note.md": "# Old note\n## Part two\nA block ^blk-1\nSelf [[#Part two]]\n",
            "a.md": LINKING,
            "Unrelated.md": "nothing",
        }
    )
    result = rename(index, "Old note", "New name")
    assert (result.old, result.new) == ("notes/Old note.md", "notes/New name.md")
    assert not (index.vault.root / "notes/Old note.md").exists()
    assert text(index, "a.md") == (
        "---\nrelated: x\n---\n"
        "Plain [[New name]], with folder [[New name]], shown [[New name|my words]].\n"
        "Anchors [[New name#Part two]] and [[New name#^blk-1]], embed ![[New name#Part two]].\n"
        "Markdown [text](notes/New%20name.md#part-two) and [bare](<notes/New name.md>).\n"
        "In code `[[Old note]]` and\n```\n[[Old note]]\n```\n%% [[Old note]] %%\n"
        "Other [[Unrelated]] stays.\n"
    )
    assert text(index, "notes/New name.md").endswith("Self [[#Part two]]\n")
    assert [(e.path, e.line) for e in result.edits][:2] == [("a.md", 4), ("a.md", 4)]
    index.scan()
    assert check(index) == []


def test_an_ambiguous_new_name_is_written_with_its_folder(indexed: Build) -> None:
    index = indexed(
        {
            "projects/Old.md": "mine",
            "areas/Plan.md": "another note named Plan",
            "a.md": "[[Old]] and [[Plan]]",
            "areas/b.md": "[[Plan]] from beside it, and [[Old]]",
        }
    )
    rename(index, "Old", "Plan")
    assert text(index, "a.md") == "[[projects/Plan]] and [[areas/Plan]]"
    # beside it, [[Plan]] would still lead there, but would fit two notes: check says so
    assert text(index, "areas/b.md") == "[[areas/Plan]] from beside it, and [[projects/Plan]]"
    index.scan()
    assert [f.kind for f in check(index)] == []


def test_a_taken_name_is_refused_and_nothing_changes(indexed: Build) -> None:
    index = indexed({"Old.md": "x", "Taken.md": "y", "a.md": "[[Old]]"})
    before = fingerprint(index.vault.root)
    with pytest.raises(NoteExists):
        rename(index, "Old", "taken")
    for bad in ("a/b", "x#y", "what?", "é" * 130):
        with pytest.raises(ValueError):
            rename(index, "Old", bad)
    assert fingerprint(index.vault.root) == before


def test_dry_run_lists_and_changes_nothing(indexed: Build) -> None:
    index = indexed({"Old.md": "x", "a.md": "one\n[[Old|o]]\n"})
    before = fingerprint(index.vault.root)
    plan = rename(index, "Old", "New", dry_run=True)
    assert [e.as_dict() for e in plan.edits] == [
        {"path": "a.md", "line": 2, "before": "[[Old|o]]", "after": "[[New|o]]"}
    ]
    assert fingerprint(index.vault.root) == before


def test_a_file_changed_meanwhile_is_never_overwritten(indexed: Build) -> None:
    index = indexed({"Old.md": "x", "a.md": "[[Old]]", "b.md": "[[Old]] too"})
    plan = _plan(index, "Old.md", "New.md")
    (index.vault.root / "b.md").write_text("[[Old]] too, and my new words")
    _apply(index, plan)
    assert plan.skipped == ["b.md"]
    assert text(index, "b.md") == "[[Old]] too, and my new words"
    assert text(index, "a.md") == "[[New]]"
    assert (index.vault.root / "New.md").exists()


def test_attachments_are_renamed_with_their_extension(indexed: Build) -> None:
    index = indexed(
        {
            "img/chart.png": b"\x89PNG",
            "a.md": "![[chart.png|200]] ![chart](img/chart.png) [[img/chart.png]]",
        }
    )
    rename(index, "img/chart.png", "figure 1")
    assert (index.vault.root / "img/figure 1.png").exists()
    assert text(index, "a.md") == (
        "![[figure 1.png|200]] ![chart](img/figure%201.png) [[figure 1.png]]"
    )


def test_move_keeps_every_link_leading_where_it_did(indexed: Build) -> None:
    index = indexed(
        {
            "inbox/Idea.md": "[up](../Other.md) [side](Sibling.md) [[Sibling]] [[Other]]",
            "inbox/Sibling.md": "[[Idea]] beside it",
            "zz/Sibling.md": "a second Sibling, on a shorter path",
            "Other.md": "[[inbox/Idea]] [x](inbox/Idea.md)",
        }
    )
    result = move(index, "Idea", "projects/2026")
    assert result.new == "projects/2026/Idea.md"
    assert text(index, "projects/2026/Idea.md") == (
        "[up](../../Other.md) [side](../../inbox/Sibling.md) [[inbox/Sibling]] [[Other]]"
    )
    assert text(index, "Other.md") == "[[Idea]] [x](projects/2026/Idea.md)"
    assert text(index, "inbox/Sibling.md") == "[[Idea]] beside it"
    index.scan()
    assert [f.kind for f in check(index)] == ["ambiguous-link"] * 0


def test_cli_rename_and_move(tmp_path: Path) -> None:
    root = tmp_path / "v"
    write_files(root, {"Old.md": "x", "a.md": "[[Old]]\n[o](Old.md)"})
    Vault.init(root)
    run = cli_in(root)
    listed = json.loads(run("rename", "Old", "New", "--dry-run", "--json"))
    assert [e["after"] for e in listed["edits"]] == ["[[New]]", "[o](New.md)"]
    assert (root / "Old.md").exists()
    out = run("rename", "Old", "New")
    assert out.splitlines()[-1] == "Renamed Old.md to New.md; 2 links in 1 file rewritten"
    assert "Old.md became New.md already" in run("rename", "Old", "New")
    assert "no note or attachment named 'Old'" in run("rename", "Old", "Other", code=3)
    assert "already exists" in run("rename", "a", "New", code=4)
    run("move", "New", "sub")
    assert (root / "a.md").read_text() == "[[New]]\n[o](New.md)"  # both still lead there
    assert json.loads(run("backlinks", "New", "--json"))[0]["path"] == "a.md"


def _vault_for_killing(root: Path, count: int) -> None:
    files: dict[str, str | bytes] = {"Old.md": "# Old\n## Part\n"}
    for i in range(count):
        files[f"f{i % 9}/n{i}.md"] = f"# n{i}\n[[Old]] [[Old#Part|p]] [o](../Old.md) ![[Old]]\n"
    write_files(root, files)
    Vault.init(root)


def test_killed_renames_finish_as_one_clean_run(tmp_path: Path) -> None:
    clean = tmp_path / "clean"
    _vault_for_killing(clean, 300)
    cli_in(clean)("rename", "Old", "New")
    expected = fingerprint(clean)
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    for attempt in range(5):
        root = tmp_path / f"killed{attempt}"
        _vault_for_killing(root, 300)
        cmd = [sys.executable, "-m", "knowflow", "--vault", str(root), "rename", "Old", "New"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(rng.uniform(0.05, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        again = subprocess.run(cmd, capture_output=True, text=True)
        assert again.returncode == 0, (seed, again.stderr)
        assert fingerprint(root) == expected, seed
        leftovers = [p for p in root.rglob("*") if p.name.endswith(".tmp")]
        assert not leftovers and not (root / ".knowflow" / "rename.json").exists(), seed


def test_bytes_that_are_not_utf8_pass_through_untouched(indexed: Build) -> None:
    index = indexed({"Target Note.md": "x", "latin1.md": b"# L\n\nCaf\xe9 [[Target Note]] here\n"})
    rename(index, "Target Note", "New Name")
    assert (index.vault.root / "latin1.md").read_bytes() == b"# L\n\nCaf\xe9 [[New Name]] here\n"


def test_a_symlinked_note_is_edited_where_it_is(indexed: Build) -> None:
    index = indexed({"A.md": "a", "priv.md": "[[A]]"})
    (index.vault.root / "link.md").symlink_to("priv.md")
    index.scan()
    rename(index, "A", "B")
    assert (index.vault.root / "link.md").is_symlink()
    assert text(index, "priv.md") == "[[B]]"


def test_moving_into_a_file_or_to_hidden_names_is_refused_cleanly(indexed: Build) -> None:
    index = indexed({"A.md": "# A", "B.md": "[[A]]", "C.md": "# C", "a/Dup.md": "", "b/Dup.md": ""})
    before = fingerprint(index.vault.root)
    with pytest.raises(NoteExists, match=r"C\.md is a file"):
        move(index, "A", "C.md")
    with pytest.raises(ValueError, match="longer than a file name"):
        move(index, "A", "z" * 300)
    with pytest.raises(ValueError, match="starts with a dot"):
        rename(index, "A", ".hidden")
    with pytest.raises(AmbiguousNote):
        rename(index, "Dup", "X")
    assert fingerprint(index.vault.root) == before
    assert not (index.vault.root / ".knowflow" / "rename.json").exists()
    assert rename(index, "A", "B2").new == "B2.md"  # nothing left half-done in the way


def test_renaming_to_its_own_name_is_done_already(indexed: Build) -> None:
    index = indexed({"A.md": "x", "b.md": "[[A]]"})
    assert rename(index, "A", "A").already
    assert text(index, "b.md") == "[[A]]"
