"""One shared note, to read whole: its page (/artifacts/{ref}) and GET /api/artifacts/{ref}.

A note's ``ref`` is a hash of its author and note id, not the table's row number: a
row number would tell a reader how many things were shared where they cannot see
(ids they never meet), and the same note shared to two audiences is one page. A
reader gets the note only through the audiences they may see (``VISIBLE``, in SQL);
for anything else the answer is the same 404 as for a ref that never existed, so a
ref cannot be used to probe what others shared.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import Engine, text

from knowflow.hub.admin import Member
from knowflow.hub.db import reading
from knowflow.hub.errors import NotFound
from knowflow.hub.read import VISIBLE

MISSING = "no shared note here by that address"


def ref(author: str, note_id: str) -> str:
    """The address of author's note on the hub (stable across pushes and audiences)."""
    key = f"knowflow-hub-note\0{author}\0{note_id}".encode()
    return hashlib.sha256(key).hexdigest()[:32]


_VISIBLE_ROWS = (
    "SELECT f.id, m.name AS author, f.note_id, au.name AS audience, f.shared_at"
    " FROM artifacts f JOIN members m ON m.id = f.author_id"
    f" JOIN audiences au ON au.id = f.audience_id WHERE m.revoked = 0 AND {VISIBLE}"
)
_CANDIDATES = text(_VISIBLE_ROWS)
_OF_AUTHOR = text(_VISIBLE_ROWS + " AND m.name = :author")
_WHOLE = text("SELECT title, tags, markdown, html, updated FROM artifacts WHERE id = :id")


def read_note(
    engine: Engine, reader: Member, wanted: str, author: str | None = None
) -> dict[str, Any]:
    """The note at ``wanted`` as reader may see it: its newest visible version, with
    only the audiences reader reads; NotFound (one message) for anything else.
    ``author``, when the caller knows it (from the reader's cached Visible), narrows
    the rows hashed to that author's: a ref cannot be looked up by SQL."""
    sql, params = _CANDIDATES, dict[str, object](reader=reader.id)
    if author is not None:
        sql, params = _OF_AUTHOR, params | {"author": author}
    with reading(engine) as conn:
        # Only rows reader may see are read at all; the ref is matched among them.
        rows = [
            r for r in conn.execute(sql, params) if ref(str(r.author), str(r.note_id)) == wanted
        ]
        if not rows:
            raise NotFound(MISSING)
        newest = max(rows, key=lambda r: (str(r.shared_at), int(r.id)))
        whole = conn.execute(_WHOLE, {"id": newest.id}).one()
    return {
        "ref": wanted,
        "title": str(whole.title),
        "author": str(newest.author),
        "audiences": sorted({str(r.audience) for r in rows}),
        "tags": _tags(str(whole.tags)),
        "shared_at": str(newest.shared_at),
        "updated": str(whole.updated),
        "html": body_html(str(whole.html), str(whole.markdown)),
    }


def body_html(stored: str, markdown: str) -> str:
    """The note's body as safe HTML: what the push stored, else its Markdown rendered;
    cleaned by nh3 either way (a pushed body is a member's input, never trusted)."""
    raw = stored if stored.strip() else _MD.render(markdown)
    return nh3.clean(raw, url_schemes={"http", "https", "mailto"})


_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


def _tags(raw: str) -> list[str]:
    found = json.loads(raw)
    return [str(t) for t in found] if isinstance(found, list) else []
