"""The review: which items come back on which day (a fixed clock), how each answer
schedules them, the connect answer's suggestions, and the weekly list of clippings
that hold nothing of the person's own yet."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import Index, Vault
from knowflow.errors import KnowflowError, NoteNotFound
from knowflow.seek.highlights import callout
from knowflow.seek.state import open_state
from knowflow.sense import review

from .conftest import MakeVault, cli_in, fingerprint, write_files

DAY = dt.date(2026, 3, 2)
CLIP = (
    "---\ntype: clipping\nurl: https://example.org/{n}\nsource: Blog\ncaptured: {at}\n"
    "{extra}---\n# {n}\n\nSome words from {n}.\n"
)
Setup = tuple[Index, sqlite3.Connection]


def _files() -> dict[str, str]:
    return {
        "a.md": "# A\n\nAbout [[b]]. #garden\n",
        "b.md": "# B\n\nThe second note.\n",
        "c.md": "# C\n\nThe third, links to [[a]].\n",
        "d.md": "# D\n\nThe fourth.\n",
        "e.md": "# E\n\nThe fifth.\n",
        "f.md": "# F\n\nThe sixth.\n",
        "digest.md": "---\ntype: digest\n---\n# Finds\n",
        "clip.md": CLIP.format(n="clip", at="2026-01-01T10:00:00+00:00", extra="")
        + "\n"
        + callout("Some words", "my thought")
        + "\n",
    }


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Index, sqlite3.Connection]]:
    root = tmp_path / "vault"
    root.mkdir()
    files = _files()
    write_files(root, dict(files))
    # Files from oldest to newest in this order: a, b, c, clip, d, e, f, digest.
    for n, name in enumerate(
        ["a.md", "b.md", "c.md", "clip.md", "d.md", "e.md", "f.md", "digest.md"]
    ):
        os.utime(root / name, ns=(1_700_000_000_000_000_000 + n * 10**9,) * 2)
    vault = Vault.init(root)
    index = Index(vault)
    index.scan()
    conn = open_state(vault)
    yield index, conn
    conn.close()
    index.close()


def _items(index: Index, conn: sqlite3.Connection, day: dt.date, per_day: int = 5) -> list[str]:
    return [i.item for i in review.due_today(index, conn, day, per_day)]


def test_the_first_day_brings_the_oldest_notes_and_highlights_never_reviewed(setup: Setup) -> None:
    index, conn = setup
    hl = [i.item for i in review.due_today(index, conn, DAY, 10) if i.kind == "highlight"]
    assert hl == ["clip.md#^" + callout("Some words").split("^")[1].split("\n")[0]]
    assert _items(index, conn, DAY) == ["a.md", "b.md", "c.md", "clip.md", hl[0]]
    assert _items(index, conn, DAY, 10)[-3:] == ["d.md", "e.md", "f.md"]  # no digest
    item = review.due_today(index, conn, DAY)[4]
    assert (item.kind, item.text, item.title) == ("highlight", "Some words", "clip")
    assert review.due_today(index, conn, DAY)[0].text == "About b. #garden"


def test_still_useful_grows_the_interval_as_sm2_does() -> None:
    intervals, interval = [], 0
    for reps in range(6):
        interval = review.next_interval(interval, reps, "still_useful")
        intervals.append(interval)
    assert intervals == [1, 6, 15, 38, 95, 238]
    assert review.next_interval(15, 3, "connect") == 15
    assert review.next_interval(0, 0, "connect") == 1


def test_exact_schedule_with_a_fixed_clock(setup: Setup) -> None:
    index, conn = setup
    day = DAY
    seen = []
    for _ in range(4):
        done = review.mark(index, conn, "a.md", "still-useful", day)
        seen.append((day.isoformat(), done.due, done.interval))
        day = dt.date.fromisoformat(done.due or "")
    assert seen == [
        ("2026-03-02", "2026-03-03", 1),
        ("2026-03-03", "2026-03-09", 6),
        ("2026-03-09", "2026-03-24", 15),
        ("2026-03-24", "2026-05-01", 38),
    ]
    row = conn.execute("SELECT due, interval, reps, last_answer, last_reviewed FROM review_items")
    assert row.fetchall() == [("2026-05-01", 38, 4, "still_useful", "2026-03-24")]


def test_a_day_holds_five_answered_or_not_and_due_items_come_first(setup: Setup) -> None:
    index, conn = setup
    for item in ["a.md", "b.md"]:
        review.mark(index, conn, item, "still_useful", DAY)
    # Two answered today: three more today, never one answered today again.
    assert _items(index, conn, DAY) == ["c.md", "clip.md", _items(index, conn, DAY)[2]]
    # Tomorrow a and b are due (interval 1), before the new ones.
    assert _items(index, conn, DAY + dt.timedelta(days=1))[:3] == ["a.md", "b.md", "c.md"]
    for item in _items(index, conn, DAY):
        review.mark(index, conn, item, "still_useful", DAY)
    assert _items(index, conn, DAY) == []


def test_connect_keeps_the_interval_and_shows_links_backlinks_and_tags(setup: Setup) -> None:
    index, conn = setup
    review.mark(index, conn, "a.md", "still_useful", DAY)  # due 03-03, interval 1
    review.mark(index, conn, "a.md", "still_useful", DAY + dt.timedelta(days=1))  # interval 6
    done = review.mark(index, conn, "a", "connect", dt.date(2026, 3, 9))
    assert (done.item, done.due, done.interval) == ("a.md", "2026-03-15", 6)
    assert done.connect == {"links": ["b.md"], "backlinks": ["c.md"], "tags": ["garden"]}
    row = conn.execute("SELECT reps, last_answer FROM review_items WHERE item = 'a.md'")
    assert row.fetchone() == (2, "connect")


def test_let_go_never_comes_back(setup: Setup) -> None:
    index, conn = setup
    done = review.mark(index, conn, "b.md", "let-go", DAY)
    assert done.due is None
    for days in (1, 30, 3000):
        assert "b.md" not in _items(index, conn, DAY + dt.timedelta(days=days), 50)


def test_marking_refuses_unknown_answers_and_items(setup: Setup) -> None:
    index, conn = setup
    with pytest.raises(KnowflowError, match="unknown answer"):
        review.mark(index, conn, "a.md", "maybe", DAY)
    with pytest.raises(NoteNotFound):
        review.mark(index, conn, "nowhere.md", "connect", DAY)
    with pytest.raises(NoteNotFound):
        review.mark(index, conn, "clip.md#^hl-000000", "connect", DAY)


def test_weekly_lists_kept_clippings_with_nothing_of_ones_own(make_vault: MakeVault) -> None:
    at = "2026-03-0{d}T09:00:00+00:00"
    vault = make_vault(
        {
            "bare.md": CLIP.format(n="bare", at=at.format(d=1), extra=""),
            "bare2.md": CLIP.format(n="bare2", at=at.format(d=2), extra=""),
            "commented.md": CLIP.format(n="commented", at=at.format(d=1), extra="comment: mine\n"),
            "linked.md": CLIP.format(n="linked", at=at.format(d=1), extra="") + "See [[bare]].\n",
            "hl.md": CLIP.format(n="hl", at=at.format(d=1), extra="")
            + "\n"
            + callout("Some words", "why it matters")
            + "\n",
            "hl-bare.md": CLIP.format(n="hl-bare", at=at.format(d=1), extra="")
            + "\n"
            + callout("Some words")
            + "\n",
            "old.md": CLIP.format(n="old", at="2026-02-01T09:00:00+00:00", extra=""),
            "note.md": "# Not a clipping\n",
        }
    )
    with Index(vault) as index:
        index.scan()
        since, until = review.week_bounds(dt.date(2026, 3, 7))
        assert (since.isoformat(), until.isoformat()) == (
            "2026-03-01T00:00:00+00:00",
            "2026-03-08T00:00:00+00:00",
        )
        found = review.weekly(index, since, until)
    assert [u.path for u in found] == ["bare.md", "hl-bare.md", "bare2.md"]
    assert found[0].as_dict() == {
        "path": "bare.md",
        "title": "bare",
        "captured": "2026-03-01T09:00:00+00:00",
        "source": "Blog",
    }


def test_the_cli_reviews_marks_and_writes_no_note(setup: Setup) -> None:
    index, _ = setup
    root = index.vault.root
    before = fingerprint(root)
    run = cli_in(root)
    shown = json.loads(run("review", "--json"))
    assert [i["item"] for i in shown][:3] == ["a.md", "b.md", "c.md"]
    out = run("review")
    assert "a.md  [note, new]" in out and "knowflow review mark ITEM" in out
    marked = json.loads(run("review", "mark", "a", "connect", "--json"))
    assert marked["item"] == "a.md" and marked["connect"]["tags"] == ["garden"]
    assert "let go" in run("review", "mark", "b.md", "let-go")
    assert "a.md" not in run("review")
    assert json.loads(run("review", "--weekly", "--json")) == []
    assert "knowflow review mark" in run("review", "--help")
    assert fingerprint(root) == before


CONNECT_FILES: dict[str, str | bytes] = {
    "Pond.md": "# Pond\n\nAbout [[Frogs]] and the water lilies. #garden\n",
    "Frogs.md": "# Frogs\n\nThey sing at night, by the water.\n",
    "Water lilies.md": "# Water lilies\n\nThey float on a pond; frogs sit on them.\n",
}


def test_connect_lists_related_notes_and_suggested_links(make_vault: MakeVault) -> None:
    with Index(make_vault(dict(CONNECT_FILES))) as index:
        index.scan()
        found = review.to_connect(index, "Pond.md")
        with pytest.raises(NoteNotFound):
            review.to_connect(index, "Nowhere.md")
    assert found.path == "Pond.md"
    assert {r.path for r in found.related} >= {"Frogs.md", "Water lilies.md"}
    assert [(m.path, m.line, m.text, m.title) for m in found.here] == [
        ("Pond.md", 3, "water lilies", "Water lilies")
    ]
    assert [(m.path, m.text) for m in found.elsewhere] == [("Water lilies.md", "pond")]
    assert found.as_dict()["suggestions"] == [m.as_dict() for m in found.here + found.elsewhere]


def test_the_cli_connect_prints_each_suggestion_with_its_exact_accept_command(
    make_vault: MakeVault,
) -> None:
    vault = make_vault(dict(CONNECT_FILES))
    run = cli_in(vault.root)
    untouched = fingerprint(vault.root)
    out = run("review", "mark", "Pond", "connect")
    assert fingerprint(vault.root) == untouched  # nothing written until one is accepted
    assert "Pond.md: back on" in out and "links to: Frogs.md" in out and "tags: #garden" in out
    assert "related notes:" in out and "    Water lilies.md  (words:" in out
    assert "Pond.md:3  water lilies -> Water lilies  | About [[Frogs]] and the water lilies." in out
    commands = [line.strip() for line in out.splitlines() if "link accept" in line]
    root = shlex.quote(str(vault.root))
    assert commands == [
        f"knowflow --vault {root} link accept Pond.md --line 3 --text 'water lilies'"
        " --column 25 --target 'Water lilies.md'",
        f"knowflow --vault {root} link accept 'Water lilies.md' --line 3 --text pond"
        " --column 17 --target Pond.md",
    ]
    before = (vault.root / "Water lilies.md").read_bytes()
    # The command printed, run as it stands, makes that link and changes nothing else.
    printed = shlex.split(commands[1])
    assert printed[:3] == ["knowflow", "--vault", str(vault.root)]
    assert run(*printed[3:]).strip() == "Water lilies.md:3: [[Pond|pond]]"
    after = before.replace(b"on a pond;", b"on a [[Pond|pond]];")
    assert (vault.root / "Water lilies.md").read_bytes() == after
    doc = json.loads(run("review", "mark", "Pond", "connect", "--json"))
    assert doc["connect"]["links"] == ["Frogs.md"]
    assert [s["accept"] for s in doc["to_connect"]["suggestions"]] == commands[:1]
    assert doc["to_connect"]["related"][0]["why"]


def test_the_same_answer_twice_in_a_day_is_one_answer(setup: Setup) -> None:
    index, conn = setup
    first = review.mark(index, conn, "a.md", "still-useful", DAY)
    again = [review.mark(index, conn, "a.md", "still-useful", DAY) for _ in range(3)]
    assert (
        {(m.due, m.interval) for m in again} == {(first.due, first.interval)} == {("2026-03-03", 1)}
    )
    assert conn.execute("SELECT reps FROM review_items").fetchone() == (1,)
    assert first.as_dict()["answer"] == "still-useful"


def test_a_rename_or_move_keeps_the_review_history(setup: Setup) -> None:
    from knowflow.sense.rename import move, rename

    index, conn = setup
    review.mark(index, conn, "a.md", "still-useful", DAY)
    review.mark(index, conn, "b.md", "let-go", DAY)
    highlight = [i.item for i in review.due_today(index, conn, DAY, 10) if i.kind == "highlight"]
    review.mark(index, conn, highlight[0], "let-go", DAY)
    rename(index, "a", "Alpha")
    move(index, "b", "old")
    move(index, "clip", "clips")
    index.scan()
    rows = dict(conn.execute("SELECT item, last_answer FROM review_items").fetchall())
    assert rows == {
        "Alpha.md": "still_useful",
        "old/b.md": "let_go",
        "clips/clip.md#^" + highlight[0].split("#^")[1]: "let_go",
    }
    later = [i.item for i in review.due_today(index, conn, DAY + dt.timedelta(days=1), 20)]
    assert "old/b.md" not in later and "Alpha.md" in later


def test_an_experiment_comes_back_first_on_its_look_back_date(setup: Setup) -> None:
    index, conn = setup
    (index.vault.root / "exp.md").write_text(
        "---\ntype: experiment\ntried_with: team\nlook_back: 2026-03-10\n---\n"
        "# Try pairing\n\n## What happened\n\n## What was learned\n",
        encoding="utf-8",
    )
    index.scan()
    before = review.due_today(index, conn, dt.date(2026, 3, 9), 20)
    assert "look-back" not in {i.kind for i in before}
    due = review.due_today(index, conn, dt.date(2026, 3, 10))
    assert (due[0].item, due[0].kind) == ("exp.md", "look-back")
    assert "with team" in due[0].text
    review.mark(index, conn, "exp.md", "still-useful", dt.date(2026, 3, 10))
    assert review.due_today(index, conn, dt.date(2026, 3, 11))[0].kind != "look-back"


def test_an_excerpt_leaves_out_html_and_block_ids(setup: Setup) -> None:
    index, _ = setup
    (index.vault.root / "a.md").write_text(
        '# A\n\n<div class="note">\nA term worth keeping. ^term-pkm\n</div>\n', encoding="utf-8"
    )
    index.scan()
    assert review.describe(index, "a.md").text == "A term worth keeping."  # type: ignore[union-attr]


def test_an_excerpt_is_plain_words_not_markdown() -> None:
    trial = (
        "[loop note](concepts/Seek%20Sense%20Share.md) … See [[#PKM]] and [[#^term-pkm]]"
        " … ![[Seek Sense Share]]"
    )
    assert review.plain(trial) == "loop note … See PKM and term-pkm …"
    assert review.plain("[[Serendipity|follow a hunch]]") == "follow a hunch"
    assert review.plain("**Outline Panel:**") == "Outline Panel:"
    assert review.plain("[[folder/Note.md#Part#Detail]], [[Note#^abc1]]") == (
        "Note > Part > Detail, Note"
    )
    assert (
        review.plain(
            "- [ ] *Try* __this__ ~~or~~ ==that== with `a_b` <b>now</b> ![x](i.png)"
            " [web](https://e.org/a_(b)) <https://e.org> %%aside%% <!-- c --> \\*a\\* ^id-1"
        )
        == "Try this or that with a_b now web https://e.org *a*"
    )
    assert review.plain("snake_case_name, 2 * 3 * 4 and a < b > c") == (
        "snake_case_name, 2 * 3 * 4 and a < b > c"
    )


def test_a_notes_excerpt_reads_as_plain_words(setup: Setup) -> None:
    index, _ = setup
    (index.vault.root / "t.md").write_text(
        "---\ntags: [x]\n---\n# Trial\n\n```\ncode()\n```\n%% an\naside %%\n"
        "Read the [loop note](concepts/Seek%20Sense%20Share.md). See [[#PKM]] and"
        " [[#^term-pkm]].\n![[Seek Sense Share]]\n\n- [[Serendipity|follow a hunch]]\n"
        "**Outline Panel:** ^b1\n",
        encoding="utf-8",
    )
    index.scan()
    assert review.describe(index, "t.md").text == (  # type: ignore[union-attr]
        "Read the loop note. See PKM and term-pkm. follow a hunch Outline Panel:"
    )


def test_the_prompt_takes_one_letter_and_weekly_says_what_it_found(setup: Setup) -> None:
    from knowflow.cli.sense import _answer

    assert [_answer(a) for a in ("u", "C", "l", "s", "st", "sk", "Let go")] == [
        "still-useful",
        "connect",
        "let-go",
        "skip",
        "still-useful",
        "skip",
        "let-go",
    ]
    with pytest.raises(Exception, match="answer u"):
        _answer("maybe")
    index, _ = setup
    run = cli_in(index.vault.root)
    assert "--per-day is for the daily review" in run(
        "review", "--weekly", "--per-day", "2", code=2
    )
    # the only clipping was captured long before this week
    assert "No clippings were kept this week." in run("review", "--weekly")
