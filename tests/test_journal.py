"""Experiment and narration notes: the right front matter, private, written atomically,
and an append that never overwrites an edit made meanwhile."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowflow import Index, Vault
from knowflow.errors import KnowflowError
from knowflow.seek.state import open_state
from knowflow.sense import journal
from knowflow.vault import files
from knowflow.vault.frontmatter import parse_front_matter

from .conftest import cli_in

NOW = dt.datetime(2026, 3, 4, 9, 30, tzinfo=dt.UTC)  # a Wednesday of ISO week 10


def _front(path: Path) -> dict[str, object]:
    return dict(parse_front_matter(path.read_text("utf-8")).data)


def test_an_experiment_note_has_its_sections_and_a_look_back_date(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    path = journal.new_experiment(
        vault, "Try a  weekly show-and-tell", "team/platform", dt.date(2026, 3, 4)
    )
    assert path == tmp_path / "Experiments" / "Experiment 2026-03-04 Try a weekly show-and-tell.md"
    assert _front(path) == {
        "type": "experiment",
        "title": "Experiment: Try a weekly show-and-tell",
        "created": "2026-03-04",
        "idea": "Try a weekly show-and-tell",
        "tried_with": "team/platform",
        "look_back": "2026-03-18",
        "share": "private",
        "tags": ["experiment"],
    }
    text = path.read_text("utf-8")
    for heading in ("## Idea", "## Tried with", "## What happened", "## What was learned"):
        assert f"\n{heading}\n" in text
    assert "Try a weekly show\\-and\\-tell" in text
    # The same idea on the same day: a second note, never the first overwritten.
    second = journal.new_experiment(vault, "Try a weekly show-and-tell", "c", dt.date(2026, 3, 4))
    assert second.name.endswith("show-and-tell 2.md") and path.read_text("utf-8") == text
    assert not list(path.parent.glob("*.tmp"))


def test_an_experiment_is_found_by_the_index_as_private(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    journal.new_experiment(
        vault, "Pair on <script> notes [[x]] #tag", "community/km", look_back_days=30
    )
    with Index(vault) as index:
        index.scan()
        row = index.conn.execute(
            "SELECT f.type, s.audience FROM files f LEFT JOIN shares s ON s.file_id = f.id"
        ).fetchall()
        links = index.conn.execute("SELECT count(*) FROM links WHERE target != ''").fetchone()
    assert row == [("experiment", "private")] or row == [("experiment", None)]
    assert links == (0,)  # an idea's brackets are text, not a link


def test_an_experiment_needs_an_idea_and_an_audience(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    with pytest.raises(KnowflowError, match="idea"):
        journal.new_experiment(vault, "  ", "team")
    with pytest.raises(KnowflowError, match="--with"):
        journal.new_experiment(vault, "an idea", " ")


def test_narration_makes_the_weeks_note_then_appends_dated_entries(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    path = journal.narrate(vault, "Started the review page.", NOW)
    assert path == tmp_path / "Narration" / "Narration 2026-W10.md"
    assert _front(path) == {
        "type": "narration",
        "title": "Narration 2026-W10",
        "week": "2026-W10",
        "share": "private",
        "tags": ["narration"],
    }
    again = journal.narrate(vault, "Wrote its tests.\n", NOW + dt.timedelta(days=1, hours=2))
    assert again == path
    body = path.read_text("utf-8").split("---\n", 2)[2]
    assert body == (
        "# Narration 2026-W10\n\n"
        "## 2026-03-04 09:30\n\nStarted the review page.\n\n"
        "## 2026-03-05 11:30\n\nWrote its tests.\n"
    )
    # The next week has a note of its own.
    later = journal.narrate(vault, "New week.", NOW + dt.timedelta(days=5))
    assert later.name == "Narration 2026-W11.md"
    with pytest.raises(KnowflowError):
        journal.narrate(vault, "  ")


def test_an_append_keeps_an_edit_made_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault = Vault.init(tmp_path)
    path = journal.narrate(vault, "First.", NOW)
    real = files.atomic_write
    edits = []

    def edited_first(target: Path, text: str | bytes, expected: object = None, **kw: object):  # type: ignore[no-untyped-def]
        if expected is not None and not edits:
            # The person saves an edit in their editor between the read and the write.
            edits.append(1)
            target.write_text(target.read_text("utf-8") + "\nMy edit.\n", "utf-8")
        return real(target, text, expected, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(journal, "atomic_write", edited_first)
    journal.narrate(vault, "Second.", NOW)
    text = path.read_text("utf-8")
    assert "My edit." in text and text.index("My edit.") < text.index("Second.")
    assert text.endswith("## 2026-03-04 09:30\n\nSecond.\n")


def test_the_cli_opens_experiments_and_narrates_and_logs_both(tmp_path: Path) -> None:
    Vault.init(tmp_path)
    run = cli_in(tmp_path)
    rel = run("experiment", "Ask before sharing", "--with", "team/platform").strip()
    assert rel.startswith("Experiments/Experiment ") and rel.endswith(" Ask before sharing.md")
    assert _front(tmp_path / rel)["tried_with"] == "team/platform"
    note = run("narrate", "Working out loud").strip()
    assert note.startswith("Narration/Narration ") and "Working out loud" in (
        tmp_path / note
    ).read_text("utf-8")
    run("experiment", "no audience", code=2)
    conn = open_state(Vault(tmp_path))
    actions = [a for (a,) in conn.execute("SELECT action FROM activity ORDER BY id")]
    conn.close()
    assert actions == ["experiment_opened", "narration_added"]
    assert "--with" in run("experiment", "--help") and "week" in run("narrate", "--help")
