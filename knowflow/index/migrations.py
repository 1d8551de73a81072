"""The index's schema, as named migrations (see ``knowflow.migrations``)."""

from __future__ import annotations

import sqlite3

from knowflow.migrations import Migrations, run_script

INDEX = Migrations()
migrate = INDEX.apply


@INDEX.migration
def m001_initial(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            is_note INTEGER NOT NULL,
            name_key TEXT NOT NULL,
            path_key TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            hash TEXT,
            title TEXT NOT NULL,
            type TEXT,
            front_matter TEXT
        );
        CREATE INDEX files_name_key ON files (name_key);
        CREATE INDEX files_path_key ON files (path_key);
        CREATE TABLE aliases (
            file_id INTEGER NOT NULL REFERENCES files (id),
            alias TEXT NOT NULL,
            alias_key TEXT NOT NULL
        );
        CREATE INDEX aliases_file ON aliases (file_id);
        CREATE INDEX aliases_key ON aliases (alias_key);
        CREATE TABLE shares (
            file_id INTEGER NOT NULL REFERENCES files (id),
            audience TEXT NOT NULL
        );
        CREATE INDEX shares_file ON shares (file_id);
        CREATE INDEX shares_audience ON shares (audience);
        CREATE TABLE headings (
            file_id INTEGER NOT NULL REFERENCES files (id),
            line INTEGER NOT NULL,
            level INTEGER NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX headings_file ON headings (file_id);
        CREATE TABLE blocks (
            file_id INTEGER NOT NULL REFERENCES files (id),
            line INTEGER NOT NULL,
            block_id TEXT NOT NULL
        );
        CREATE INDEX blocks_file ON blocks (file_id);
        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            file_id INTEGER NOT NULL REFERENCES files (id),
            line INTEGER NOT NULL,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            subpath TEXT NOT NULL,
            display TEXT,
            target_key TEXT NOT NULL,
            -- resolved, ambiguous (resolved, but several files fit) or unresolved
            status TEXT NOT NULL,
            -- by path, so a link resolves before the file it leads to is stored
            resolved_path TEXT
        );
        CREATE INDEX links_file ON links (file_id);
        CREATE INDEX links_resolved ON links (resolved_path);
        CREATE INDEX links_target_key ON links (target_key);
        CREATE INDEX links_unsettled ON links (status) WHERE status != 'resolved';
        CREATE TABLE tags (
            file_id INTEGER NOT NULL REFERENCES files (id),
            tag TEXT NOT NULL,
            tag_key TEXT NOT NULL,
            line INTEGER
        );
        CREATE INDEX tags_file ON tags (file_id);
        CREATE INDEX tags_key ON tags (tag_key);
        CREATE TABLE problems (
            path TEXT NOT NULL,
            kind TEXT NOT NULL,
            line INTEGER,
            message TEXT NOT NULL
        );
        CREATE INDEX problems_path ON problems (path);
        -- names whose set of files changed: links to them must be resolved again
        CREATE TABLE dirty_keys (key TEXT PRIMARY KEY) WITHOUT ROWID;
        CREATE VIRTUAL TABLE notes_fts USING fts5 (
            title, aliases, headings, body,
            tokenize = 'porter unicode61 remove_diacritics 2'
        )
        """,
    )


@INDEX.migration
def m002_heads_fts(conn: sqlite3.Connection) -> None:
    # Titles, aliases and headings alone, so that notes matching there can be
    # found quickly even when a word appears in the body of most notes.
    run_script(
        conn,
        """
        CREATE VIRTUAL TABLE heads_fts USING fts5 (
            title, aliases, headings,
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        INSERT INTO heads_fts (rowid, title, aliases, headings)
            SELECT rowid, title, aliases, headings FROM notes_fts
        """,
    )


@INDEX.migration
def m003_covering_indexes(conn: sqlite3.Connection) -> None:
    # Filters list the notes having some tag, audience or link; with the note
    # id in the index itself, that list is read without visiting table rows.
    run_script(
        conn,
        """
        DROP INDEX tags_key;
        CREATE INDEX tags_key ON tags (tag_key, file_id);
        DROP INDEX shares_audience;
        CREATE INDEX shares_audience ON shares (audience, file_id);
        DROP INDEX links_resolved;
        CREATE INDEX links_resolved ON links (resolved_path, file_id);
        DROP INDEX links_unsettled;
        CREATE INDEX links_unsettled ON links (status, file_id) WHERE status != 'resolved';
        DROP INDEX aliases_key;
        CREATE INDEX aliases_key ON aliases (alias_key, file_id)
        """,
    )


@INDEX.migration
def m004_titled_notes(conn: sqlite3.Connection) -> None:
    # Notes whose front matter has a title: (a title no file name can hold), so a
    # lookup by such a title reads those few rows, not every note's front matter.
    # The WHERE must stay as Index._notes_titled writes it, for SQLite to use it.
    run_script(
        conn,
        "CREATE INDEX files_titled ON files (path) WHERE instr(front_matter, '\"title\"') > 0",
    )


@INDEX.migration
def m005_embeddings(conn: sqlite3.Connection) -> None:
    # A note's vector (float32, see knowflow.index.vectors) with the content hash,
    # title and model it was computed from: any of them changing makes it stale.
    run_script(
        conn,
        """
        CREATE TABLE embeddings (
            file_id INTEGER PRIMARY KEY,
            hash TEXT NOT NULL,
            title TEXT NOT NULL,
            model TEXT NOT NULL,
            vector BLOB NOT NULL
        )
        """,
    )
