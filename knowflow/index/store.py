"""Writing prepared rows into the index database, a batch at a time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from knowflow.vault.resolve import Candidate, Names

if TYPE_CHECKING:
    from knowflow.index.rows import Row, Rows

_CHILD_TABLES = ("aliases", "shares", "headings", "blocks", "links", "tags")


def open_db(path: str, *, bulk: bool = False) -> sqlite3.Connection:
    """Open the index with settings that let readers work while it is written.

    ``bulk`` is for a new file nobody else reads yet: no journal, no syncs.
    """
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        _configure(conn, bulk)
    except BaseException:
        conn.close()  # a full disk can refuse the journal's files: no handle left open
        raise
    return conn


def _configure(conn: sqlite3.Connection, bulk: bool) -> None:
    # Takes effect only in a new file: a note's text then mostly fits one page,
    # and full-text insertion is a quarter faster than with 4 KB pages.
    conn.execute("PRAGMA page_size = 16384")
    if bulk:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    if not bulk:
        # Reads straight from the OS page cache, without a copy per page.
        conn.execute("PRAGMA mmap_size = 8589934592")


def mark_dirty(conn: sqlite3.Connection, keys: Iterable[str]) -> None:
    """Record names whose set of files changed: links to them are resolved again."""
    conn.executemany("INSERT OR IGNORE INTO dirty_keys (key) VALUES (?)", [(k,) for k in keys])


def forget(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Remove everything derived from these files except their rows in ``files``."""
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    for table in _CHILD_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE file_id IN ({marks})", ids)
    conn.execute(f"DELETE FROM notes_fts WHERE rowid IN ({marks})", ids)
    conn.execute(f"DELETE FROM heads_fts WHERE rowid IN ({marks})", ids)


def delete_files(conn: sqlite3.Connection, gone: Sequence[tuple[int, str, str]]) -> None:
    """Delete files given as (id, path, name_key)."""
    forget(conn, [g[0] for g in gone])
    conn.executemany("DELETE FROM files WHERE id = ?", [(g[0],) for g in gone])
    conn.executemany("DELETE FROM problems WHERE path = ?", [(g[1],) for g in gone])
    mark_dirty(conn, {g[2] for g in gone})


# Columns of each table as rows are prepared for it (see knowflow.index.rows).
COLUMNS = {
    "files": (
        "id",
        "path",
        "is_note",
        "name_key",
        "path_key",
        "size",
        "mtime_ns",
        "hash",
        "title",
        "type",
        "front_matter",
    ),
    "aliases": ("file_id", "alias", "alias_key"),
    "shares": ("file_id", "audience"),
    "headings": ("file_id", "line", "level", "text"),
    "blocks": ("file_id", "line", "block_id"),
    "links": (
        "file_id",
        "line",
        "kind",
        "target",
        "subpath",
        "display",
        "target_key",
        "status",
        "resolved_path",
    ),
    "tags": ("file_id", "tag", "tag_key", "line"),
    "problems": ("path", "kind", "line", "message"),
    "notes_fts": ("rowid", "title", "aliases", "headings", "body"),
}


def insert(conn: sqlite3.Connection, table: str, rows: Sequence[Row], verb: str = "INSERT") -> None:
    columns = COLUMNS[table]
    conn.executemany(
        f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        rows,
    )


def write_rows(conn: sqlite3.Connection, rows: Rows, replaced: Sequence[int]) -> None:
    """Write prepared rows; ``replaced`` are ids of files whose old rows go first."""
    forget(conn, replaced)
    conn.executemany("UPDATE files SET size = ?, mtime_ns = ?, hash = ? WHERE id = ?", rows.touched)
    insert(conn, "files", rows.files, "INSERT OR REPLACE")
    conn.executemany("DELETE FROM problems WHERE path = ?", [(f[1],) for f in rows.files])
    for table in ("aliases", "shares", "headings", "blocks", "links", "tags", "problems"):
        insert(conn, table, getattr(rows, table))
    insert(conn, "notes_fts", rows.fts)
    # Titles, aliases and headings again, on their own (see migration m002).
    conn.executemany(
        "INSERT INTO heads_fts (rowid, title, aliases, headings) VALUES (?, ?, ?, ?)",
        [r[:4] for r in rows.fts],
    )


def resolve_dirty(conn: sqlite3.Connection, written_after: int) -> int:
    """Resolve again the links to names whose files changed; returns how many.

    Files with ids above ``written_after`` were written in this scan, their
    links resolved against every file then on disk, so they are skipped.
    """
    keys = [k for (k,) in conn.execute("SELECT key FROM dirty_keys")]
    if not keys or written_after == 0:
        conn.execute("DELETE FROM dirty_keys")
        return 0
    from knowflow.index.rows import link_row  # parsing modules: only when links move

    names: Names = {}
    updates = []
    for key in keys:
        names[key] = [
            Candidate(path, pkey)
            for path, pkey in conn.execute(
                "SELECT path, path_key FROM files WHERE name_key = ?", (key,)
            )
        ]
        rows = conn.execute(
            "SELECT l.id, f.path, l.line, l.kind, l.target, l.subpath, l.display FROM links l"
            " JOIN files f ON f.id = l.file_id WHERE l.target_key = ? AND l.file_id <= ?",
            (key, written_after),
        ).fetchall()
        for link_id, source, line, kind, target, subpath, display in rows:
            row = link_row(source, line, kind, target, subpath, display, names)
            updates.append((row[6], row[7], link_id))
    conn.executemany("UPDATE links SET status = ?, resolved_path = ? WHERE id = ?", updates)
    conn.execute("DELETE FROM dirty_keys")
    return len(updates)
