"""When notes were written or edited: content changes seen between two looks at the index.

A file's modification time says when its bytes were last touched, not when the person
last wrote in it: a git clone, a copy, a sync client or ``touch`` sets it for every
file at once. So practice does not count notes by it. Instead ``observe`` compares each
note's content hash (as the index holds it after a scan) with the one it saw last time,
kept in state.db (``note_versions``), and logs what changed in the activity log:

- ``note_created``: a path it had not seen, whose content is not that of a note gone
  since (that would be a rename, not writing);
- ``note_edited``: a path whose content hash changed.

Each event carries the links the note gained, whether a clipping gained a comment of
the person's, and the audiences it became shared with. The first look at a vault is a
baseline: every note then is where the record starts, nothing is counted as done.
An event is dated by the file's modification time when that lies between the previous
look and this one (the change happened then, and the time is the best word on when),
otherwise by this look.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from knowflow.index.index import Index


@dataclass(frozen=True)
class _Version:
    hash: str
    type: str | None
    links: int
    audiences: tuple[str, ...]
    commented: bool


def _current(index: Index) -> tuple[dict[str, _Version], dict[str, int], set[str]]:
    """The notes as the index holds them, their file times, and the paths of notes it
    has not read yet (no hash: neither changed nor gone as far as this look knows)."""
    conn = index.conn
    links = dict(conn.execute("SELECT file_id, count(*) FROM links GROUP BY file_id"))
    shared: dict[int, list[str]] = {}
    for fid, audience in conn.execute(
        "SELECT file_id, audience FROM shares WHERE audience != 'private' ORDER BY audience"
    ):
        shared.setdefault(fid, []).append(str(audience))
    notes: dict[str, _Version] = {}
    mtimes: dict[str, int] = {}
    for fid, path, mtime_ns, digest, kind, comment in conn.execute(
        "SELECT id, path, mtime_ns, hash, type, json_extract(front_matter, '$.comment')"
        " FROM files WHERE is_note = 1 AND hash IS NOT NULL"
    ):
        notes[path] = _Version(
            str(digest),
            kind,
            int(links.get(fid, 0)),
            tuple(shared.get(fid, ())),
            bool(comment and str(comment).strip()),
        )
        mtimes[path] = int(mtime_ns)
    unread = {
        p for (p,) in conn.execute("SELECT path FROM files WHERE is_note = 1 AND hash IS NULL")
    }
    return notes, mtimes, unread


def observe(index: Index, conn: sqlite3.Connection, now: dt.datetime | None = None) -> int:
    """Log the notes created or edited since the last look (none on the first look, the
    baseline); return how many events were logged."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    stamp = moment.isoformat(timespec="seconds")
    notes, mtimes, unread = _current(index)
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT at FROM note_observations ORDER BY id DESC LIMIT 1").fetchone()
        known = {
            path: _Version(h, t, n, tuple(json.loads(a)), bool(c))
            for path, h, t, n, a, c in conn.execute(
                "SELECT path, hash, type, links, audiences, commented FROM note_versions"
            )
        }
        events = []
        if row is not None:
            previous = dt.datetime.fromisoformat(row[0])
            gone = {v.hash for p, v in known.items() if p not in notes and p not in unread}
            for path, new in notes.items():
                old = known.get(path)
                if old is not None and old.hash == new.hash:
                    continue
                if old is None and new.hash in gone:
                    continue  # renamed or moved: nothing written
                at = dt.datetime.fromtimestamp(mtimes[path] / 1e9, dt.UTC).replace(microsecond=0)
                if not previous < at <= moment:
                    at = moment
                detail = {
                    "type": new.type,
                    "links": max(0, new.links - (old.links if old else 0)),
                    "commented": new.commented and not (old and old.commented),
                    "shared": [a for a in new.audiences if not old or a not in old.audiences],
                }
                action = "note_created" if old is None else "note_edited"
                events.append((at.isoformat(timespec="seconds"), action, path, json.dumps(detail)))
        conn.executemany(
            "INSERT INTO activity (at, action, subject, detail) VALUES (?, ?, ?, ?)", events
        )
        changed = [
            (p, v.hash, v.type, v.links, json.dumps(list(v.audiences)), int(v.commented))
            for p, v in notes.items()
            if known.get(p) != v
        ]
        conn.executemany(
            "INSERT OR REPLACE INTO note_versions (path, hash, type, links, audiences, commented)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            changed,
        )
        conn.executemany(
            "DELETE FROM note_versions WHERE path = ?",
            [(p,) for p in known if p not in notes and p not in unread],
        )
        conn.execute(
            "INSERT INTO note_observations (at, notes, changed) VALUES (?, ?, ?)",
            (stamp, len(notes), len(events)),
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return len(events)


def first_look(conn: sqlite3.Connection) -> str | None:
    """When practice first looked at the vault (the baseline), if it has."""
    row = conn.execute("SELECT at FROM note_observations ORDER BY id LIMIT 1").fetchone()
    return str(row[0]) if row else None
