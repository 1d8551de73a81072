"""What a member reads: search over the artifacts they may see, and everything the
hub holds of their own (export), which they may also delete.

Who may see what is decided in the SQL of each query, by one condition
(``VISIBLE``), never by filtering rows afterwards: a row a reader may not see is
never read for them, so it cannot leak through a count, a snippet or a title.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from sqlalchemy import Connection, Engine, text

from knowflow.hub.admin import Member
from knowflow.hub.db import audit, reading, writing

# An artifact the reader may see: its audience is public, or one they belong to.
VISIBLE = (
    "(au.kind = 'public' OR f.audience_id IN"
    " (SELECT audience_id FROM memberships WHERE member_id = :reader))"
)
# Snippet marks the database puts around matches: private-use characters, never in
# ordinary text, so the snippet can be escaped and the marks then made <mark>.
_OPEN, _CLOSE = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_RESULTS = 100


def search(engine: Engine, reader: Member, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Artifacts reader may see that match every word of query, best first, each with
    a snippet (HTML: escaped text, matches in <mark>)."""
    words = _WORD.findall(query)
    if not words:
        return []
    limit = max(1, min(limit, MAX_RESULTS))
    with reading(engine) as conn:
        rows = (_sqlite_search if conn.dialect.name == "sqlite" else _pg_search)(
            conn, reader, words, limit
        )
    return [_hit(row) for row in rows]


_HIT_COLUMNS = (
    "f.note_id, f.title, f.path, f.tags, f.shared_at, m.name AS author, au.name AS audience"
)
_HIT_JOINS = "JOIN members m ON m.id = f.author_id JOIN audiences au ON au.id = f.audience_id"


def _sqlite_search(conn: Connection, reader: Member, words: list[str], limit: int) -> list[Any]:
    # Each word quoted: FTS5's query syntax is not for people to trip over.
    match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    sql = (
        f"SELECT {_HIT_COLUMNS}, snippet(artifacts_fts, 2, '{_OPEN}', '{_CLOSE}', '…', 16)"
        f" AS snippet FROM artifacts_fts JOIN artifacts f ON f.id = artifacts_fts.rowid"
        f" {_HIT_JOINS} WHERE artifacts_fts MATCH :match AND {VISIBLE}"
        " ORDER BY bm25(artifacts_fts, 10.0, 5.0, 1.0), f.id LIMIT :limit"
    )
    params = {"match": match, "reader": reader.id, "limit": limit}
    return list(conn.execute(text(sql), params).mappings())


def _pg_search(conn: Connection, reader: Member, words: list[str], limit: int) -> list[Any]:
    options = f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=30, MinWords=10"
    sql = (
        f"SELECT {_HIT_COLUMNS}, ts_headline('english', f.markdown, q, :options) AS snippet"
        f" FROM artifacts f {_HIT_JOINS}, plainto_tsquery('english', :query) q"
        f" WHERE f.search @@ q AND {VISIBLE}"
        " ORDER BY ts_rank(f.search, q) DESC, f.id LIMIT :limit"
    )
    params = {"query": " ".join(words), "reader": reader.id, "limit": limit, "options": options}
    return list(conn.execute(text(sql), params).mappings())


def _hit(row: Any) -> dict[str, Any]:
    snippet = html.escape(str(row["snippet"] or ""))
    return {
        "id": row["note_id"],
        "title": row["title"],
        "path": row["path"],
        "author": row["author"],
        "audience": row["audience"],
        "tags": json.loads(row["tags"]),
        "shared_at": row["shared_at"],
        "snippet": snippet.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>"),
    }


def export(engine: Engine, member: Member) -> dict[str, Any]:
    """Everything the hub holds of member's: who they are, where they belong, and
    each artifact whole."""
    with reading(engine) as conn:
        audiences = conn.execute(
            text(
                "SELECT au.name, au.kind, s.role, s.joined_at FROM memberships s"
                " JOIN audiences au ON au.id = s.audience_id WHERE s.member_id = :m"
                " ORDER BY au.name"
            ),
            {"m": member.id},
        ).mappings()
        memberships = [dict(row) for row in audiences]
        rows = conn.execute(
            text(
                "SELECT au.name AS audience, f.* FROM artifacts f"
                " JOIN audiences au ON au.id = f.audience_id WHERE f.author_id = :m"
                " ORDER BY au.name, f.path"
            ),
            {"m": member.id},
        ).mappings()
        artifacts = [_artifact(row) for row in rows]
    return {"member": member.name, "memberships": memberships, "artifacts": artifacts}


def _artifact(row: Any) -> dict[str, Any]:
    item = {
        key: row[key]
        for key in ("audience", "note_id", "path", "url", "title", "type", "markdown", "html",
                    "created", "updated", "content_hash", "shared_at")
    }  # fmt: skip
    for key in ("tags", "aliases", "links"):
        item[key] = json.loads(row[key])
    return item


def delete_mine(engine: Engine, member: Member) -> int:
    """Delete every artifact member shared, in one transaction; returns how many."""
    with writing(engine) as conn:
        deleted = conn.execute(
            text("DELETE FROM artifacts WHERE author_id = :m"), {"m": member.id}
        ).rowcount
        audit(conn, member.name, "deleted_all_own", member.name, artifacts_deleted=deleted)
    return int(deleted)
