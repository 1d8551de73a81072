"""``<vault>/.knowflow/state.db``: what cannot be derived from the notes.

Sources, fetch state, the activity log and the update lock live here. Unlike
the index this file is never deleted or rebuilt by knowflow; its schema only
moves forward through named migrations.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from knowflow.errors import ConflictError
from knowflow.migrations import Migrations, run_script
from knowflow.vault.vault import Vault

STATE = Migrations()


@STATE.migration
def m001_sources_and_activity(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            url TEXT NOT NULL UNIQUE,
            site_url TEXT,
            kind TEXT NOT NULL CHECK (kind IN ('team', 'community', 'network')),
            tags TEXT NOT NULL DEFAULT '[]',
            paused INTEGER NOT NULL DEFAULT 0,
            dead INTEGER NOT NULL DEFAULT 0,
            added_at TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            last_fetched TEXT,
            last_error TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE activity (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            subject TEXT,
            detail TEXT
        );
        CREATE INDEX activity_at ON activity (at)
        """,
    )


def open_state(vault: Vault, path: Path | None = None) -> sqlite3.Connection:
    """Open (creating and migrating as needed) the vault's state database."""
    target = path or vault.state_dir / "state.db"
    target.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(target), isolation_level=None, timeout=30)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")  # not derivable: every commit reaches the disk
    conn.execute("PRAGMA busy_timeout = 30000")
    STATE.apply(conn)
    return conn


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def record(conn: sqlite3.Connection, action: str, subject: str, **detail: object) -> None:
    """Append to the activity log; ``action`` is a past-tense verb such as ``source_added``."""
    conn.execute(
        "INSERT INTO activity (at, action, subject, detail) VALUES (?, ?, ?, ?)",
        (now(), action, subject, json.dumps(detail, ensure_ascii=False) if detail else None),
    )


@STATE.migration
def m002_stream(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL,
            guid TEXT NOT NULL,
            link TEXT,
            title TEXT NOT NULL,
            author TEXT,
            published TEXT,
            updated TEXT,
            html TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'new'
                CHECK (state IN ('new', 'seen', 'kept', 'dismissed')),
            first_seen TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            note_path TEXT,
            UNIQUE (source_id, guid)
        );
        CREATE INDEX entries_link ON entries (source_id, link);
        CREATE INDEX entries_hash ON entries (source_id, content_hash);
        CREATE INDEX entries_state ON entries (state, first_seen);
        ALTER TABLE sources ADD COLUMN next_fetch TEXT
        """,
    )


@STATE.migration
def m003_stream_search(conn: sqlite3.Connection) -> None:
    # Full-text search over the stream: titles and the text of entries.
    run_script(
        conn,
        """
        CREATE VIRTUAL TABLE entries_fts USING fts5 (
            title, text, tokenize = 'porter unicode61 remove_diacritics 2'
        )
        """,
    )


@STATE.migration
def m004_imported(conn: sqlite3.Connection) -> None:
    # What importers have brought in, so that importing again adds nothing.
    run_script(
        conn,
        """
        CREATE TABLE imported (
            importer TEXT NOT NULL,
            key TEXT NOT NULL,
            note_path TEXT,
            imported_at TEXT NOT NULL,
            PRIMARY KEY (importer, key)
        ) WITHOUT ROWID
        """,
    )


@STATE.migration
def m005_locks(conn: sqlite3.Connection) -> None:
    # Who is updating the vault's sources: one updater at a time (see update_lock).
    run_script(
        conn,
        """
        CREATE TABLE locks (
            name TEXT PRIMARY KEY,
            pid INTEGER NOT NULL,
            process_start TEXT,
            started TEXT NOT NULL,
            command TEXT NOT NULL
        ) WITHOUT ROWID
        """,
    )


@STATE.migration
def m006_entry_warning(conn: sqlite3.Connection) -> None:
    # What parsing left out of an entry and why (its javascript: link, say), in
    # words, so that keeping it can say so (see knowflow.seek.feeds.Entry.warning).
    conn.execute("ALTER TABLE entries ADD COLUMN warning TEXT")


@STATE.migration
def m007_source_warning(conn: sqlite3.Connection) -> None:
    # What the last successful fetch of a source could not read as it should (bytes
    # that were not the declared encoding, say), kept until a fetch reads it cleanly.
    conn.execute("ALTER TABLE sources ADD COLUMN warning TEXT")


@STATE.migration
def m008_source_schedule(conn: sqlite3.Connection) -> None:
    # How often each source is worth fetching, in seconds, as its feed says (RSS <ttl>,
    # sy:updatePeriod; NULL: the default), and when it was last tried, whatever came
    # of it, so that a scheduler does not try a failing source again at once.
    run_script(
        conn,
        """
        ALTER TABLE sources ADD COLUMN update_interval INTEGER;
        ALTER TABLE sources ADD COLUMN last_tried TEXT
        """,
    )


@STATE.migration
def m009_stream_reading_order(conn: sqlite3.Connection) -> None:
    # The reader's list is the newest entries in a state, of every source or of one
    # (by the date the stream sorts on: see knowflow.seek.stream), and beside it each
    # source's unread count: with these, 50 of 10,000 unread entries and every count
    # take a millisecond or so instead of reading every entry.
    run_script(
        conn,
        """
        CREATE INDEX entries_state_date
            ON entries (state, coalesce(published, updated, first_seen), id);
        CREATE INDEX entries_source_state_date
            ON entries (source_id, state, coalesce(published, updated, first_seen), id);
        CREATE INDEX entries_state_source ON entries (state, source_id)
        """,
    )


class UpdateRunning(ConflictError):
    """Another process is updating this vault's sources; the message names it."""


@contextmanager
def update_lock(conn: sqlite3.Connection, command: str | None = None) -> Iterator[None]:
    """Hold the vault's update lock while the block runs, or raise UpdateRunning at
    once, naming the process that holds it and since when.

    The lock is a row in state.db naming its process. A row whose process is gone
    (a killed update leaves one) does not hold, nor does one whose process id now
    belongs to another process: the process's start time is kept to tell them
    apart. ``command`` says what holds it (default: this command line)."""
    pid, birth = os.getpid(), _process_start(os.getpid())
    what = command or " ".join(["knowflow", *sys.argv[1:]])[:200]
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(
            "SELECT pid, process_start, started, command FROM locks WHERE name = 'update'"
        ).fetchone()
        if row and _alive(row[0], row[1]):
            raise UpdateRunning(
                f"another update is running in this vault: process {row[0]} ({row[3]}),"
                f" started {_ago(row[2])}; try again when it has finished"
            )
        conn.execute(
            "INSERT OR REPLACE INTO locks (name, pid, process_start, started, command)"
            " VALUES ('update', ?, ?, ?, ?)",
            (pid, birth, now(), what),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        yield
    finally:
        conn.execute(
            "DELETE FROM locks WHERE name = 'update' AND pid = ? AND process_start IS ?",
            (pid, birth),
        )


@dataclass(frozen=True, slots=True)
class LockHolder:
    """The process holding the update lock, what it runs and since when."""

    pid: int
    command: str
    started: str


def update_holder(conn: sqlite3.Connection) -> LockHolder | None:
    """Who holds the vault's update lock now, or None (a stale row holds nothing)."""
    row = conn.execute(
        "SELECT pid, process_start, started, command FROM locks WHERE name = 'update'"
    ).fetchone()
    if row is None or not _alive(row[0], row[1]):
        return None
    return LockHolder(int(row[0]), str(row[3]), str(row[2]))


def _alive(pid: int, birth: str | None) -> bool:
    """Whether the process that took a lock still runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    return birth is None or _process_start(pid) in (None, birth)


def _process_start(pid: int) -> str | None:
    """When a process started, in clock ticks since boot (Linux), or None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name may hold spaces


def _ago(when: str) -> str:
    try:
        seconds = (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(when)).total_seconds()
    except ValueError:
        return when
    return f"{when} ({max(0, round(seconds))} s ago)"


def crash_point(name: str) -> None:
    """Die on the spot, as kill -9 would, when $KNOWFLOW_CRASH_AT is ``name``.

    The kill tests set it to reach moments a random kill rarely lands on (between
    a batch's commit and the next, in a worker that has sent an outcome); nothing
    else reads the variable."""
    if os.environ.get("KNOWFLOW_CRASH_AT") == name:
        os._exit(137)


@STATE.migration
def m010_practice_focus(conn: sqlite3.Connection) -> None:
    # What the person chose to work on in their practice (knowflow.practice), from a
    # moment on: the latest row is the focus now. Private: it never leaves the vault.
    run_script(
        conn,
        """
        CREATE TABLE practice_focus (
            id INTEGER PRIMARY KEY,
            set_at TEXT NOT NULL,
            focus TEXT NOT NULL
        )
        """,
    )


@STATE.migration
def m011_review_and_wander(conn: sqlite3.Connection) -> None:
    # The review's schedule (knowflow.sense.review): each note or highlight
    # ("path#^hl-id") brought back, when it is due again, its interval in days, how
    # often it was kept, and the last answer (still_useful, connect, let_go: never
    # again). The wander's visits and walks (knowflow.sense.wander): how often each
    # note was walked through, and each seeded walk as taken, so a seed replays it.
    run_script(
        conn,
        """
        CREATE TABLE review_items (
            item TEXT PRIMARY KEY,
            due TEXT NOT NULL,
            interval INTEGER NOT NULL,
            reps INTEGER NOT NULL DEFAULT 0,
            last_answer TEXT
                CHECK (last_answer IN ('still_useful', 'connect', 'let_go')),
            last_reviewed TEXT
        ) WITHOUT ROWID;
        CREATE INDEX review_items_due ON review_items (due);
        CREATE TABLE wander_visits (
            path TEXT PRIMARY KEY,
            visits INTEGER NOT NULL,
            last_visit TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE wander_walks (
            seed INTEGER NOT NULL,
            start TEXT NOT NULL,
            steps INTEGER NOT NULL,
            walk TEXT NOT NULL,
            walked_at TEXT NOT NULL,
            PRIMARY KEY (seed, start, steps)
        ) WITHOUT ROWID
        """,
    )


@STATE.migration
def m012_note_versions(conn: sqlite3.Connection) -> None:
    # What knowflow.practice last saw of each note (its content hash, links, audiences,
    # whether a clipping has a comment of the person's), so that a note counts as
    # written or edited when its content changed between two looks, not when its
    # modification time did (a clone, a copy or `touch` changes only that). The first
    # look at a vault is a baseline (note_observations has no row yet): nothing in it
    # is counted as done.
    run_script(
        conn,
        """
        CREATE TABLE note_versions (
            path TEXT PRIMARY KEY,
            hash TEXT NOT NULL,
            type TEXT,
            links INTEGER NOT NULL,
            audiences TEXT NOT NULL,
            commented INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE note_observations (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            notes INTEGER NOT NULL,
            changed INTEGER NOT NULL
        )
        """,
    )


@STATE.migration
def m013_activity_by_action(conn: sqlite3.Connection) -> None:
    # The activity log by action, then time: practice reads a few actions (the notes
    # written or edited, publishes, digests, pushes) over a period out of a log where
    # entries read outnumber them many times.
    run_script(conn, "CREATE INDEX activity_action_at ON activity (action, at)")
