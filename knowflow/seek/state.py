"""``<vault>/.knowflow/state.db``: what cannot be derived from the notes.

Sources, fetch state and the activity log live here. Unlike the index this
file is never deleted or rebuilt by knowflow; its schema only moves forward
through named migrations.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

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
