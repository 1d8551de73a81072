"""Practice feedback: buckets, the seek / sense / share / balance indicators from a
planted activity log and a small vault, the focus (its migration, its indicators
first), the CLI, words that would judge (none), the log of publishes and digests,
and privacy: nothing of the practice data leaves the vault."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from knowflow import Index, Vault
from knowflow.errors import KnowflowError
from knowflow.practice import practice_report, set_focus, sparkline
from knowflow.practice.report import current_focus
from knowflow.practice.series import buckets
from knowflow.seek.state import open_state
from knowflow.share import publish
from knowflow.share.audiences import audience as find_audience
from knowflow.share.bundle import bundle
from knowflow.share.digest import draft_digest
from knowflow.share.gate import Gate

from .conftest import cli_in, fingerprint, write_files

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
CONFIG = '[share]\nauthor = "Ada"\n\n[audiences."team/ops"]\nkind = "team"\n'
FILES: dict[str, str | bytes] = {
    ".knowflow/config.toml": CONFIG,
    "Plain.md": "# Plain\n\nTo [[Experiment one]] and [[clippings/Kept with words]].\n",
    "Experiment one.md": "---\ntype: experiment\ncreated: '2026-11-29'\n---\n# Experiment one\n",
    "Week 48.md": "---\ntype: narration\n---\n# Week 48\n\n## 2026-11-28 09:00\n\nworking\n"
    "\n## 2026-11-30 08:00\n\nmore\n\n## Not an entry\n\n## 2025-01-01 10:00\n\nlong ago\n",
    "Shared.md": "---\nshare: public\n---\n# Shared\n\nFor everyone.\n",
    "clippings/Kept with words.md": "---\ntype: clipping\nsource: Team blog\n"
    "comment: Mine.\nshare: team/ops\n---\n# Kept with words\ntext\n",
    "clippings/Marked.md": "---\ntype: clipping\n---\n# Marked\n\n> [!quote] Highlight ^hl-1a2b3c\n"
    '> words\n> %%{"created": "2026-11-29T10:00:00+00:00"}%%\n',
    "clippings/Lonely one.md": "---\ntype: clipping\n---\n# Lonely one\nnothing of mine\n",
}
# Words a report that judges or compares would use; none may appear.
JUDGING = ("score", "level", "rank", "percentile", "grade", "badge", "compare", "average",
           "peers", "other people", "leaderboard")  # fmt: skip


def _at(days_ago: float) -> str:
    return (NOW - dt.timedelta(days=days_ago)).isoformat(timespec="seconds")


def _log(conn: sqlite3.Connection, at: str, action: str, subject: str, **detail: object) -> None:
    conn.execute(
        "INSERT INTO activity (at, action, subject, detail) VALUES (?, ?, ?, ?)",
        (at, action, subject, json.dumps(detail) if detail else None),
    )


def _source(conn: sqlite3.Connection, name: str, kind: str, added: str) -> int:
    cur = conn.execute(
        "INSERT INTO sources (name, url, kind, added_at) VALUES (?, ?, ?, ?)",
        (name, f"https://{name.replace(' ', '').lower()}.example/feed", kind, added),
    )
    return int(cur.lastrowid or 0)


def _entry(conn: sqlite3.Connection, source: int, n: int, link: str) -> int:
    cur = conn.execute(
        "INSERT INTO entries (source_id, guid, link, title, html, content_hash, first_seen,"
        " changed_at) VALUES (?, ?, ?, ?, '', '', ?, ?)",
        (source, f"g{source}-{n}", link, f"Entry {n}", _at(1), _at(1)),
    )
    return int(cur.lastrowid or 0)


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The person's local time zone: UTC unless a test says otherwise."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def in_zone(monkeypatch: pytest.MonkeyPatch, zone: str) -> None:
    monkeypatch.setenv("TZ", zone)
    time.tzset()


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    root = tmp_path / "vault"
    root.mkdir()
    write_files(root, FILES)
    vault = Vault.init(root)
    when = (NOW - dt.timedelta(days=2)).timestamp()  # every note: two days ago
    for path in root.rglob("*.md"):
        os.utime(path, (when, when))
    with Index(vault) as index:
        index.scan()
    return vault


@pytest.fixture
def state(vault: Vault) -> Iterator[sqlite3.Connection]:
    conn = open_state(vault)
    team = _source(conn, "Team blog", "team", _at(40))
    net = _source(conn, "Loud site", "network", _at(3))
    other = _source(conn, "Other view", "community", _at(3))
    _log(conn, _at(3), "source_added", "Loud site", kind="network")
    _log(conn, _at(3), "source_added", "Other view", kind="community")
    for n in range(6):  # kept today: four from one site, two from another
        src, link = (
            (team, "https://www.team.example/a") if n < 4 else (net, "https://loud.example/b")
        )
        entry = _entry(conn, src, n, link)
        name = "Team blog" if n < 4 else "Loud site"
        _log(conn, _at(0.1), "entry_kept", f"Entry {n}", entry=entry, source=name)
    _log(conn, _at(1), "entries_seen", "20 entries", count=20)
    for _ in range(8):  # read often from one source, never kept from
        _log(conn, _at(1), "entry_seen", "x", entry=0, source="Other view")
    _log(conn, _at(400), "entry_kept", "too old to count", entry=0, source="Team blog")
    assert other
    yield conn
    conn.close()


def report(
    vault: Vault, conn: sqlite3.Connection, period: str = "week", now: dt.datetime = NOW
) -> dict[str, Any]:
    with Index(vault) as index:
        index.scan()
        return practice_report(index, conn, period=period, now=now).as_dict()


def write(vault: Vault, rel: str, text: str, days_ago: float) -> None:
    """Write a note as the person would, its file time ``days_ago``."""
    path = vault.root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    when = (NOW - dt.timedelta(days=days_ago)).timestamp()
    os.utime(path, (when, when))


def touch_all(vault: Vault, when: dt.datetime) -> None:
    """What a clone, a copy or ``touch -d`` does: every file time changed, no content."""
    for path in vault.root.rglob("*.md"):
        os.utime(path, (when.timestamp(), when.timestamp()))


def values(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["key"]: i for s in doc["sections"] for i in s["indicators"]}


def test_each_period_has_its_buckets_the_last_holding_now() -> None:
    week, month, year = (buckets(p, NOW) for p in ("week", "month", "year"))
    assert len(week) == 7 and len(month) == 5 and len(year) == 12
    assert week[-1][0] <= NOW < week[-1][0] + dt.timedelta(days=1)
    assert month[-1][0].weekday() == 0 and year[-1][1] == "Nov 2026" and year[0][1] == "Dec 2025"
    with pytest.raises(KnowflowError):
        buckets("decade", NOW)


def test_sparkline_draws_each_value_the_highest_tallest() -> None:
    assert sparkline([0, 1, 2, 7]) == "▁▂▃█"
    assert sparkline([0, 0]) == "▁▁"


def test_seek_indicators_come_from_the_activity_log(
    vault: Vault, state: sqlite3.Connection
) -> None:
    got = values(report(vault, state))
    assert got["entries_read"]["series"] == [0, 0, 0, 0, 0, 28, 0]
    assert got["entries_kept"]["total"] == 6  # the one 400 days ago is outside the week
    assert got["entries_kept"]["series"][-1] == 6
    assert got["new_sources"]["total"] == 2
    assert [got[f"sources_{k}"]["total"] for k in ("team", "community", "network")] == [1, 1, 1]
    assert got["sources_network"]["series"] == [0, 0, 0, 1, 1, 1, 1]
    # 4 and 2 from two sources: -(2/3 ln 2/3 + 1/3 ln 1/3) / ln 2 = 0.92
    assert got["source_evenness"]["total"] == 0.92
    assert got["domain_evenness"]["total"] == 0.92  # team.example (www. dropped), loud.example
    assert got["read_not_kept"]["items"] == ["Other view"]


def test_sense_indicators_count_content_changes_not_file_times(
    vault: Vault, state: sqlite3.Connection
) -> None:
    # The first look is the baseline: every note there was written before it.
    first = values(report(vault, state, now=NOW - dt.timedelta(days=3)))
    assert first["notes_edited"]["total"] == 0 and first["links_made"]["total"] == 0
    # A clone or `touch` changes every file time and nothing else: still nothing.
    touch_all(vault, NOW - dt.timedelta(days=1))
    got = values(report(vault, state, now=NOW - dt.timedelta(hours=12)))
    assert got["notes_edited"]["total"] == 1  # Experiment one: its created: date
    assert got["links_made"]["total"] == 0 and got["clippings_commented"]["total"] == 0
    # Real writing: Plain gains a link, a new note with one, a clipping a comment.
    plain = (vault.root / "Plain.md").read_text("utf-8")
    write(vault, "Plain.md", plain + "\nAnd [[Shared]].\n", 0.4)
    write(vault, "Fresh.md", "# Fresh\n\nOn [[Plain]].\n", 0.3)
    lonely = "clippings/Lonely one.md"
    text = (
        (vault.root / lonely)
        .read_text("utf-8")
        .replace("type: clipping", "type: clipping\ncomment: Mine")
    )
    write(vault, lonely, text, 0.2)
    got = values(report(vault, state))
    assert got["notes_edited"]["series"] == [0, 0, 0, 0, 0, 1, 2]  # Experiment one; Plain, Fresh
    assert got["notes_edited"]["total"] == 3
    assert got["links_made"]["series"][-1] == 2 and got["links_made"]["total"] == 2
    assert got["clippings_commented"]["total"] == 1
    assert got["experiments"]["series"] == [0, 0, 0, 0, 0, 1, 0]  # by created:
    assert got["highlights"]["series"] == [0, 0, 0, 0, 0, 1, 0]  # by its metadata
    assert got["narration"]["series"] == [0, 0, 0, 0, 1, 0, 1]  # by the entries' dates
    assert got["unmade"]["total"] == 0  # Lonely one has a comment now
    # Moved, not written: a rename is no edit.
    (vault.root / "Fresh.md").rename(vault.root / "Moved.md")
    assert values(report(vault, state))["notes_edited"]["total"] == 3
    assert all(
        i["total"] == sum(i["series"]) for i in got.values() if i["measure"] == "sum"
    )  # a total is the sum of what its chart shows


def test_dates_in_metadata_count_whatever_the_file_time(
    vault: Vault, state: sqlite3.Connection
) -> None:
    """touch -d 2025-06-01: a note's created: and a highlight's date still count."""
    touch_all(vault, dt.datetime(2025, 6, 1, tzinfo=dt.UTC))
    got = values(report(vault, state))
    assert got["experiments"]["total"] == 1 and got["highlights"]["total"] == 1


def test_the_days_are_the_persons_local_days(
    vault: Vault, state: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_zone(monkeypatch, "America/Los_Angeles")
    monday = dt.datetime(2026, 11, 30, 16, 12, tzinfo=ZoneInfo("America/Los_Angeles"))
    write(vault, "Trial.md", "---\ntype: experiment\ncreated: '2026-11-30'\n---\n# Trial\n", 9)
    doc = report(vault, state, now=monday)
    assert doc["buckets"][-1] == "Mon 30" and doc["buckets"][0] == "Tue 24"
    assert values(doc)["experiments"]["series"][-1] == 1  # created on Monday, local
    assert doc["until"].startswith("2026-11-30T16:12") and doc["since"].startswith("2026-11-24")
    week = buckets("week", monday)
    assert week[-1][0] <= monday < week[-1][0] + dt.timedelta(days=1)
    assert week[-1][0].astimezone(ZoneInfo("America/Los_Angeles")).hour == 0


def test_shares_are_counted_when_made_the_standing_count_said_as_such(
    vault: Vault, state: sqlite3.Connection
) -> None:
    report(vault, state, now=NOW - dt.timedelta(days=3))  # the baseline
    got = values(report(vault, state))
    assert got["shared_public"]["total"] == 0 and sum(got["shared_public"]["series"]) == 0
    assert got["shared_public"]["about"].startswith("1 shared with it now")
    write(vault, "Plain.md", "---\nshare: public\n---\n# Plain\n", 0.5)
    got = values(report(vault, state))
    assert got["shared_public"]["series"][-1] == 1 and got["shared_public"]["total"] == 1
    assert got["shared_public"]["about"].startswith("2 shared with it now")


def test_share_and_balance(vault: Vault, state: sqlite3.Connection) -> None:
    _log(state, _at(0.5), "site_published", "public", notes=1)
    _log(state, _at(0.5), "digest_drafted", "digests/Finds.md", audience=None, items=1)
    _log(state, _at(0.5), "pushed", "team/ops", hub_audience="ops", sent=1)
    doc = report(vault, state)
    got = values(doc)
    assert "shared_public" in got and "shared_team/ops" in got
    assert [got[k]["total"] for k in ("publishes", "digests", "pushes")] == [1, 1, 1]
    assert got["kept_team"]["total"] == 0.67 and got["kept_network"]["total"] == 0.33
    assert got["kept_team"]["series"][:6] == [None] * 6  # nothing kept then: undefined
    assert got["shared_kind_team"]["total"] == 0.5  # the clipping kept from Team blog
    assert got["shared_kind_own_notes"]["total"] == 0.5
    assert doc["signals"] == []  # 6 kept, 2 made sense of: below the line


def test_undefined_values_are_said_as_such_not_zero(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    run = cli_in(tmp_path)
    doc = json.loads(run("practice", "--json"))
    got = values(doc)
    assert got["source_evenness"]["total"] is None and got["source_evenness"]["trend"] == "none"
    assert got["kept_per_made"]["total"] is None
    text = run("practice")
    line = next(x for x in text.splitlines() if "how evenly kept items come from their s" in x)
    assert line.rstrip().endswith("—") and "rising" not in line
    # An empty vault says what starts the indicators.
    assert "Nothing to show yet" in text and "knowflow source add" in text
    assert doc["hints"] and "Nothing to show yet" in doc["hints"][0]
    assert vault


def test_imported_bookmarks_are_kept_items_and_collected_alike(tmp_path: Path) -> None:
    Vault.init(tmp_path)
    marks = tmp_path / "marks.html"
    marks.write_text(
        "<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n"
        '<DT><A HREF="https://a.example/1">One</A>\n<DT><A HREF="https://b.example/2">Two</A>\n'
        "</DL><p>\n",
        "utf-8",
    )
    run = cli_in(tmp_path)
    run("import", "bookmarks", str(marks))
    got = values(json.loads(run("practice", "--json", "--period", "week")))
    assert got["entries_kept"]["total"] == 2 and got["entries_kept"]["series"][-1] == 2
    assert got["unmade"]["total"] == 2 and got["unmade"]["series"][-1] == 2


def test_a_fresh_copy_of_a_vault_shows_nothing_done(tmp_path: Path) -> None:
    root = tmp_path / "copy"
    root.mkdir()
    write_files(root, {f"n{i}.md": f"# N{i}\n\nTo [[n{i + 1}]].\n" for i in range(30)})
    Vault.init(root)
    run = cli_in(root)
    got = values(json.loads(run("practice", "--json", "--period", "week")))
    assert got["notes_edited"]["total"] == 0 and got["links_made"]["total"] == 0
    for path in root.glob("*.md"):  # touch -d 2025-06-01
        os.utime(path, (1748736000, 1748736000))
    got = values(json.loads(run("practice", "--json", "--period", "week")))
    assert got["notes_edited"]["total"] == 0
    (root / "n3.md").write_text("# N3\n\nTo [[n4]] and [[n5]].\n", "utf-8")
    got = values(json.loads(run("practice", "--json", "--period", "week")))
    assert got["notes_edited"]["total"] == 1 and got["links_made"]["total"] == 1
    text = run("practice")
    assert "first looked at this vault" in text


def test_stuck_in_seeking_when_keeping_far_outpaces_sense_making(
    vault: Vault, state: sqlite3.Connection
) -> None:
    for n in range(30):
        _log(state, _at(0.2), "page_captured", f"Page {n}", url=f"https://p{n}.example/")
    doc = report(vault, state)
    assert len(doc["signals"]) == 1 and "stuck in seeking" in doc["signals"][0]
    assert values(doc)["kept_captured"]["series"][-1] == 0.83  # 30 of 36 kept today


def test_the_focus_is_kept_in_state_and_its_indicators_come_first(
    vault: Vault, state: sqlite3.Connection
) -> None:
    assert current_focus(state) is None
    applied = {r[0] for r in state.execute("SELECT name FROM _migrations")}
    assert "m010_practice_focus" in applied
    with pytest.raises(KnowflowError):
        set_focus(state, "productivity")
    assert set_focus(state, "New media literacy") == "new-media-literacy"
    doc = report(vault, state)
    first = doc["sections"][0]
    assert first["name"] == "focus" and doc["focus"] == "new-media-literacy"
    keys = [i["key"] for i in first["indicators"]]
    assert keys == ["source_evenness", "domain_evenness", "new_sources", "read_not_kept"]
    rest = [i["key"] for s in doc["sections"][1:] for i in s["indicators"]]
    assert not set(keys) & set(rest)  # shown once


def test_cli_prints_sparklines_json_and_sets_the_focus(
    vault: Vault, state: sqlite3.Connection
) -> None:
    run = cli_in(vault.root)
    text = run("practice", "--period", "year")
    assert "Practice over the last 12 months" in text and "notes written or edited" in text
    assert any(c in text for c in "▂▃▄▅▆▇█")
    assert "No focus picked" in text
    text = run("practice", "--focus", "sense-making")
    assert "Your focus: sense-making" in text
    doc = json.loads(run("practice", "--json", "--period", "week"))
    assert doc["focus"] == "sense-making" and doc["period"] == "week"
    assert len(doc["buckets"]) == 7
    assert "--focus" in run("practice", "--help")
    run("practice", "--focus", "fame", code=2)
    text = run("practice", "--focus", "none")  # cleared
    assert "Your focus" not in text and "No focus picked" in text


def test_nothing_judges_no_score_level_or_comparison(
    vault: Vault, state: sqlite3.Connection
) -> None:
    run = cli_in(vault.root)
    outputs = [json.dumps(report(vault, state, p)) for p in ("week", "month", "year")]
    outputs += [run("practice"), run("practice", "--json"), run("practice", "--help")]
    for focus in ("sense-making", "social-intelligence", "cognitive-load-management"):
        outputs.append(run("practice", "--focus", focus, "--json"))
    for text in outputs:
        lowered = text.lower()
        assert not [w for w in JUDGING if w in lowered]
        assert "%" not in text  # no percentages against a norm


def test_publishes_and_digests_are_logged(vault: Vault, tmp_path: Path) -> None:
    with Index(vault) as index:
        publish(index, "public", tmp_path / "site")
        draft_digest(index)
    conn = open_state(vault)
    try:
        actions = [r[0] for r in conn.execute("SELECT action FROM activity ORDER BY id")]
    finally:
        conn.close()
    assert actions == ["site_published", "digest_drafted"]


def test_practice_data_never_leaves_the_vault(
    vault: Vault, state: sqlite3.Connection, tmp_path: Path
) -> None:
    markers = ["Zyxwv-source-marker", "Qwerty note title marker", "Vbnmq-focus-marker"]
    _source(state, markers[0], "network", _at(1))
    _log(state, _at(1), "entry_kept", markers[1], entry=0, source=markers[0], note="x.md")
    _log(state, _at(1), "entry_seen", markers[1], entry=0, source=markers[0])
    _log(state, _at(1), "page_captured", markers[2], url="https://marker.example/")
    set_focus(state, "sense-making")
    # A public note that names the state database: the log is no attachment of it.
    (vault.root / "Leaky.md").write_text(
        "---\nshare: public\n---\n# Leaky\n\n![[.knowflow/state.db]] and"
        " [the log](.knowflow/state.db), [[.knowflow/state.db|again]]\n",
        encoding="utf-8",
    )
    before = fingerprint(vault.root)
    run = cli_in(vault.root)
    run("practice")
    run("practice", "--json", "--period", "year")
    assert fingerprint(vault.root) == before  # practice writes nothing into notes
    with Index(vault) as index:
        index.scan()
        for name in ("public", "team/ops"):
            site = tmp_path / f"site-{name.replace('/', '-')}"
            publish(index, name, site)
            texts = [p.read_bytes() for p in site.rglob("*") if p.is_file()]
            assert not [p for p in site.rglob("*") if p.name.startswith("state.db")]
            assert not [t for t in texts if b"SQLite format 3" in t]
            doc = json.dumps(bundle(index, name), ensure_ascii=False)  # what a push sends
            for marker in markers:
                assert not [t for t in texts if marker.encode() in t]
                assert marker not in doc
                assert "practice" not in doc.lower() and "SQLite format" not in doc
            gate = Gate.build(index, find_audience(vault, name))
            assert not [p for p in gate.notes | gate.attachments if p.startswith(".knowflow")]
            assert not gate.attachment(".knowflow/state.db")
            assert name != "public" or gate.note("Leaky.md")  # the note itself is shared
        out = tmp_path / "bundle.json"
        run("bundle", "--audience", "public", "--out", str(out))
        assert not [m for m in markers if m in out.read_text()]


def test_a_real_push_is_logged_and_carries_no_practice_data(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from knowflow.cli.main import cli
    from knowflow.hub.client import TOKEN_ENV
    from knowflow.hub.server import running_in_thread

    from .hubsupport import api, make_hub, note, personal_vault

    hub = make_hub(str(tmp_path / "hub.db"))
    hub.member("alice", "platform")
    markers = ["Zyxwv-pushed-source", "Qwerty-pushed-title"]
    with running_in_thread(hub.engine) as app:
        files = {"Open.md": note("public", "Open to all"), "Deploy.md": note("team/platform", "x")}
        vault = personal_vault(tmp_path / "alice", "alice", app.state.address, files)
        conn = open_state(vault)
        _source(conn, markers[0], "team", _at(1))
        _log(conn, _at(1), "entry_kept", markers[1], entry=0, source=markers[0])
        set_focus(conn, "social-intelligence")
        env = {TOKEN_ENV: hub.tokens["alice"]}
        for audience in ("public", "team/platform"):
            result = CliRunner().invoke(
                cli, ["--vault", str(vault.root), "push", "--audience", audience, "--yes"], env=env
            )
            assert result.exit_code == 0, result.output
        pushed = conn.execute(
            "SELECT subject, json_extract(detail, '$.hub_audience') FROM activity"
            " WHERE action = 'pushed' ORDER BY id"
        ).fetchall()
        conn.close()
        with api(app.state.address, hub.tokens["alice"]) as client:
            held = client.get("/api/export").text
    hub.engine.dispose()
    assert pushed == [("public", "everyone"), ("team/platform", "platform")]
    assert "Open to all" in held  # what was shared is there...
    assert not [m for m in markers if m in held]  # ...and nothing of the practice data
    assert "social-intelligence" not in held


def test_the_sense_making_focus_takes_in_experiments_and_narration(
    vault: Vault, state: sqlite3.Connection
) -> None:
    set_focus(state, "sense-making")
    keys = [i["key"] for i in report(vault, state)["sections"][0]["indicators"]]
    assert "experiments" in keys and "narration" in keys
    assert set_focus(state, "none") is None and current_focus(state) is None
    assert report(vault, state)["sections"][0]["name"] == "seek"


def test_experiments_to_look_back_on_are_listed_until_something_is_learned(
    vault: Vault, state: sqlite3.Connection
) -> None:
    from knowflow.sense.journal import new_experiment

    path = new_experiment(vault, "Demo on Fridays", "team/ops", dt.date(2026, 11, 10), 14)
    rel = path.relative_to(vault.root).as_posix()
    doc = report(vault, state, now=NOW)  # look back on 2026-11-24: it has come
    assert doc["look_backs"] == [
        {"path": rel, "title": path.stem, "look_back": "2026-11-24"}
    ]  # fmt: skip
    assert report(vault, state, now=dt.datetime(2026, 11, 20, tzinfo=dt.UTC))["look_backs"] == []
    text = cli_in(vault.root)("practice")
    assert "Experiments to look back on" in text and rel in text
    path.write_text(path.read_text("utf-8") + "Fridays are too busy.\n", "utf-8")
    assert report(vault, state, now=NOW)["look_backs"] == []


def test_a_note_the_index_has_not_read_yet_is_neither_gone_nor_new(
    vault: Vault, state: sqlite3.Connection
) -> None:
    from knowflow.practice.versions import observe

    with Index(vault) as index:
        assert observe(index, state, NOW - dt.timedelta(days=1)) == 0  # the baseline
        index.conn.execute("UPDATE files SET hash = NULL WHERE path = 'Plain.md'")
        assert observe(index, state, NOW - dt.timedelta(hours=12)) == 0
        index.scan()  # read again: the same content
        assert observe(index, state, NOW) == 0
    kept = state.execute("SELECT count(*) FROM note_versions WHERE path = 'Plain.md'")
    assert kept.fetchone() == (1,)


def test_each_index_run_is_a_look_so_two_edits_between_reports_count_twice(
    vault: Vault,
) -> None:
    run = cli_in(vault.root)
    run("index")  # the baseline
    note = vault.root / "Plain.md"
    for n in range(2):
        note.write_text(note.read_text("utf-8") + f"\nEdit {n}.\n", "utf-8")
        run("index")
    state = open_state(vault)
    edits = state.execute("SELECT count(*) FROM activity WHERE action = 'note_edited'")
    assert edits.fetchone() == (2,)
    state.close()
