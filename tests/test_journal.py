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
        "title": "Experiment 2026-03-04 Try a weekly show-and-tell",
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
    assert "\n## Idea\n\nTry a  weekly show-and-tell\n" in text  # as written, no escapes
    # The same idea on the same day: a second note, never the first overwritten, with
    # a title of its own (its file's name), so naming it is never ambiguous.
    second = journal.new_experiment(vault, "Try a weekly show-and-tell", "c", dt.date(2026, 3, 4))
    assert second.name.endswith("show-and-tell 2.md") and path.read_text("utf-8") == text
    assert _front(second)["title"] == "Experiment 2026-03-04 Try a weekly show-and-tell 2"
    assert not list(path.parent.glob("*.tmp"))


def test_an_experiment_is_found_by_the_index_as_private(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    journal.new_experiment(vault, "Pair on notes [[x]] #tag", "community/km", look_back_days=30)
    with Index(vault) as index:
        index.scan()
        row = index.conn.execute(
            "SELECT f.type, s.audience FROM files f LEFT JOIN shares s ON s.file_id = f.id"
        ).fetchall()
        links = index.conn.execute("SELECT target FROM links").fetchall()
    assert row == [("experiment", "private")] or row == [("experiment", None)]
    assert links == [("x",)]  # the person's own link, kept as they wrote it


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
    edits: list[int] = []

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


def test_an_experiment_keeps_the_persons_markdown_and_readable_front_matter(
    tmp_path: Path,
) -> None:
    (tmp_path / "Welcome.md").write_text("# Welcome\n", "utf-8")
    vault = Vault.init(tmp_path)
    idea = "[[Welcome]] #tag *bold* --- émoji 🎉"
    path = journal.new_experiment(vault, idea, "Team\n\n  X", dt.date(2026, 12, 1))
    raw = path.read_text("utf-8")
    assert "\\" not in raw  # no escape anywhere: not \[\[, \#, \*, \- nor \U0001F389
    assert f"\n## Idea\n\n{idea}\n" in raw
    assert "🎉" in raw.split("\n---\n", 1)[0]  # readable in the YAML too
    front = _front(path)
    assert front["idea"] == idea and front["tried_with"] == "Team X"
    assert "\n## Tried with\n\nTeam X\n" in raw  # the same words as the front matter
    other = journal.new_experiment(vault, "idea", "community/km-practitioners")
    assert "\ncommunity/km-practitioners\n" in other.read_text("utf-8")
    with Index(vault) as index:
        index.scan()
        note = index.note(str(front["title"]))  # the title names one note
        assert note.path == path.relative_to(tmp_path).as_posix()
        links = index.conn.execute(
            "SELECT resolved_path FROM links WHERE file_id = ?", (note.id,)
        ).fetchall()
        tags = index.conn.execute(
            "SELECT tag FROM tags WHERE file_id = ? ORDER BY tag", (note.id,)
        ).fetchall()
    assert links == [("Welcome.md",)] and ("tag",) in tags


def test_an_experiment_goes_in_the_folder_there_whatever_its_case(tmp_path: Path) -> None:
    (tmp_path / "experiments").mkdir()
    (tmp_path / "narration").mkdir()
    vault = Vault.init(tmp_path)
    path = journal.new_experiment(vault, "An idea", "team")
    assert path.parent == tmp_path / "experiments"
    assert journal.narrate(vault, "x", NOW).parent == tmp_path / "narration"
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [
        ".knowflow", "experiments", "narration"
    ]  # fmt: skip
    # A folder named in config.toml is taken as named.
    (tmp_path / ".knowflow" / "config.toml").write_text(
        '[sense]\nexperiments_folder = "Trials"\n', "utf-8"
    )
    assert journal.new_experiment(Vault(tmp_path), "Other", "team").parent == tmp_path / "Trials"


def test_narration_keeps_text_but_not_controls_and_its_headings_stay_inside(
    tmp_path: Path,
) -> None:
    vault = Vault.init(tmp_path)
    text = "- did a thing\n## Heading of mine\n\x1b[31mred\x1b[0m\x07 and\ttab\x9b\n"
    text += "```\n## in code\n```"
    path = journal.narrate(vault, text, NOW)
    body = path.read_text("utf-8").split("---\n", 2)[2]
    assert body == (
        "# Narration 2026-W10\n\n## 2026-03-04 09:30\n\n- did a thing\n#### Heading of mine\n"
        "red and\ttab\n```\n## in code\n```\n"
    )
    with Index(vault) as index:
        index.scan()
        entries = index.conn.execute("SELECT text FROM headings WHERE level = 2").fetchall()
    assert entries == [("2026-03-04 09:30",)]  # one entry, the one narrate made


def test_the_cli_narrates_text_as_typed(tmp_path: Path) -> None:
    Vault.init(tmp_path)
    run = cli_in(tmp_path)
    note = tmp_path / run("narrate", "- did a thing").strip()
    assert "\n- did a thing\n" in note.read_text("utf-8")
    run("narrate", "two", "words")
    assert "\ntwo words\n" in note.read_text("utf-8")
    run("narrate", "--dashes", "too")  # taken as typed, as search takes a query
    assert "\n--dashes too\n" in note.read_text("utf-8")
    rel = run("experiment", "[[Welcome]]", "#tag", "*bold*", "--with", "team").strip()
    assert "\n[[Welcome]] #tag *bold*\n" in (tmp_path / rel).read_text("utf-8")


def test_due_look_backs_are_experiments_whose_date_came_with_nothing_learned(
    tmp_path: Path,
) -> None:
    vault = Vault.init(tmp_path)
    due = journal.new_experiment(vault, "Due", "team", dt.date(2026, 11, 1), 14)
    done = journal.new_experiment(vault, "Done", "team", dt.date(2026, 11, 1), 14)
    journal.new_experiment(vault, "Later", "team", dt.date(2026, 11, 30), 14)
    text = done.read_text("utf-8").replace(
        "## What was learned\n", "## What was learned\n\nAsk first.\n"
    )
    done.write_text(text, "utf-8")
    commented = due.read_text("utf-8") + "%% to do %%\n"
    due.write_text(commented, "utf-8")  # a comment only: nothing learned yet
    with Index(vault) as index:
        index.scan()
        assert journal.due_look_backs(index, dt.date(2026, 11, 14)) == []
        found = journal.due_look_backs(index, dt.date(2026, 11, 15))
    assert [d.path for d in found] == [due.relative_to(tmp_path).as_posix()]
    assert found[0].look_back == "2026-11-15" and found[0].tried_with == "team"


def test_a_heading_underlined_in_narration_is_made_deeper_too() -> None:
    from knowflow.sense.journal import demote_headings

    assert demote_headings("Setext heading\n===\nbody") == "### Setext heading\nbody"
    hijack = "---\ntitle: hijack\nshare: public\n---\nrest"
    assert demote_headings(hijack) == "---\ntitle: hijack\n#### share: public\nrest"
    # a list item, a rule after a blank line, and code are left as they are
    kept = "- item\n---\n\n---\n```\nA\n===\n```"
    assert demote_headings(kept) == kept
