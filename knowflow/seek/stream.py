"""The stream: entries from sources, kept apart from the vault until the person keeps one."""

from __future__ import annotations

import sqlite3

from knowflow.seek.feeds import Entry
from knowflow.seek.state import now


def store_entries(
    conn: sqlite3.Connection, source_id: int, entries: list[Entry]
) -> tuple[int, int]:
    """Add new entries and update changed ones in place; returns (added, updated).

    An entry is the same as one already stored when its id matches, else its
    link, else its content; the person's state (seen, kept, ...) is never reset.
    """
    added = updated = 0
    for entry in entries:
        row = _existing(conn, source_id, entry)
        stamp = now()
        if row is None:
            conn.execute(
                "INSERT INTO entries (source_id, guid, link, title, author, published, updated,"
                " html, content_hash, first_seen, changed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source_id,
                    entry.id,
                    entry.link,
                    entry.title,
                    entry.author,
                    entry.published,
                    entry.updated,
                    entry.html,
                    entry.content_hash,
                    stamp,
                    stamp,
                ),
            )
            added += 1
        elif row[1] != entry.content_hash:
            conn.execute(
                "UPDATE entries SET title = ?, link = ?, author = ?, updated = ?, html = ?,"
                " content_hash = ?, changed_at = ? WHERE id = ?",
                (
                    entry.title,
                    entry.link,
                    entry.author,
                    entry.updated,
                    entry.html,
                    entry.content_hash,
                    stamp,
                    row[0],
                ),
            )
            updated += 1
    return added, updated


def _existing(conn: sqlite3.Connection, source_id: int, entry: Entry) -> tuple[int, str] | None:
    for column, value in (
        ("guid", entry.id),
        ("link", entry.link),
        ("content_hash", entry.content_hash),
    ):
        if value:
            row = conn.execute(
                f"SELECT id, content_hash FROM entries WHERE source_id = ? AND {column} = ?",
                (source_id, value),
            ).fetchone()
            if row:
                return int(row[0]), str(row[1])
    return None
