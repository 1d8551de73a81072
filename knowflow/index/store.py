"""Writing parsed notes into the index database, and resolving their links."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable

from knowflow.vault.files import WalkEntry
from knowflow.vault.names import file_keys, name_key, target_keys
from knowflow.vault.note import Note, Problem, note_title
from knowflow.vault.resolve import Candidate, resolve

_CHILD_TABLES = ("aliases", "shares", "headings", "blocks", "links", "tags")


def open_db(path: str) -> sqlite3.Connection:
    """Open the index with settings that let readers work while it is written."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def forget(conn: sqlite3.Connection, file_id: int) -> None:
    """Remove everything derived from one file except its row in ``files``."""
    for table in _CHILD_TABLES:
        conn.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
    conn.execute("DELETE FROM notes_fts WHERE rowid = ?", (file_id,))


def mark_dirty(conn: sqlite3.Connection, keys: Iterable[str]) -> None:
    conn.executemany("INSERT OR IGNORE INTO dirty_keys (key) VALUES (?)", [(k,) for k in keys])


def delete_file(conn: sqlite3.Connection, file_id: int, path: str, name_key: str) -> None:
    forget(conn, file_id)
    conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
    conn.execute("DELETE FROM problems WHERE path = ?", (path,))
    # Links that pointed here must be resolved again (to nothing, or elsewhere).
    conn.execute(
        "UPDATE links SET status = 'pending', resolved_id = NULL WHERE resolved_id = ?",
        (file_id,),
    )
    mark_dirty(conn, [name_key])


def write_file(
    conn: sqlite3.Connection,
    entry: WalkEntry,
    file_id: int | None,
    file_hash: str | None,
    note: Note | None,
    old_name_key: str | None = None,
) -> int:
    """Insert or replace one file's rows; returns its id.

    ``note`` is None for attachments, and for notes that could not be read
    (then ``note.problems`` says why and only the name is indexed).
    """
    nkey, pkey = file_keys(entry.path, entry.is_note)
    title = note.title if note else note_title(entry.path)
    kind = note.type if note else None
    fm = json.dumps(note.front_matter, ensure_ascii=False, default=str) if note else None
    values = (entry.path, int(entry.is_note), nkey, pkey, entry.size, entry.mtime_ns)
    if file_id is None:
        cur = conn.execute(
            "INSERT INTO files (path, is_note, name_key, path_key, size, mtime_ns, hash, title,"
            " type, front_matter) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*values, file_hash, title, kind, fm),
        )
        file_id = int(cur.lastrowid or 0)
        mark_dirty(conn, [nkey])
    else:
        forget(conn, file_id)
        conn.execute(
            "UPDATE files SET path = ?, is_note = ?, name_key = ?, path_key = ?, size = ?,"
            " mtime_ns = ?, hash = ?, title = ?, type = ?, front_matter = ? WHERE id = ?",
            (*values, file_hash, title, kind, fm, file_id),
        )
        if old_name_key is not None and old_name_key != nkey:
            mark_dirty(conn, [old_name_key, nkey])
    conn.execute("DELETE FROM problems WHERE path = ?", (entry.path,))
    if note is not None:
        _write_note_rows(conn, file_id, note)
    return file_id


def write_problems(conn: sqlite3.Connection, path: str, problems: Iterable[Problem]) -> None:
    conn.executemany(
        "INSERT INTO problems (path, kind, line, message) VALUES (?, ?, ?, ?)",
        [(path, p.kind, p.line, p.message) for p in problems],
    )


def _write_note_rows(conn: sqlite3.Connection, fid: int, note: Note) -> None:
    conn.executemany(
        "INSERT INTO aliases (file_id, alias, alias_key) VALUES (?, ?, ?)",
        [(fid, a, name_key(a)) for a in note.aliases],
    )
    conn.executemany(
        "INSERT INTO shares (file_id, audience) VALUES (?, ?)", [(fid, s) for s in note.share]
    )
    conn.executemany(
        "INSERT INTO headings (file_id, line, level, text) VALUES (?, ?, ?, ?)",
        [(fid, h.line, h.level, h.text) for h in note.headings],
    )
    conn.executemany(
        "INSERT INTO blocks (file_id, line, block_id) VALUES (?, ?, ?)",
        [(fid, b.line, b.block_id) for b in note.blocks],
    )
    conn.executemany(
        "INSERT INTO links (file_id, line, kind, target, subpath, display, target_key)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (fid, ln.line, ln.kind, ln.target, ln.subpath, ln.display, _link_key(ln.target, note))
            for ln in note.links
        ],
    )
    conn.executemany(
        "INSERT INTO tags (file_id, tag, tag_key, line) VALUES (?, ?, ?, ?)",
        [(fid, t.name, t.name.casefold(), t.line) for t in note.tags],
    )
    write_problems(conn, note.path, note.problems)
    conn.execute(
        "INSERT INTO notes_fts (rowid, title, aliases, headings, body) VALUES (?, ?, ?, ?, ?)",
        (
            fid,
            note.title,
            " ".join(note.aliases),
            " ".join(h.text for h in note.headings),
            note.body,
        ),
    )


def _link_key(target: str, note: Note) -> str:
    return target_keys(target, note.path)[0] if target else ""


def resolve_pending(conn: sqlite3.Connection) -> int:
    """Resolve new links and links to names whose files changed; returns how many."""
    rows = conn.execute(
        "SELECT l.id, l.file_id, l.kind, l.target, l.target_key, f.path FROM links l"
        " JOIN files f ON f.id = l.file_id WHERE l.status = 'pending'"
        " UNION SELECT l.id, l.file_id, l.kind, l.target, l.target_key, f.path FROM links l"
        " JOIN files f ON f.id = l.file_id JOIN dirty_keys d ON d.key = l.target_key"
    ).fetchall()
    candidates = _candidates(conn, {row[4] for row in rows if row[3]})
    updates = []
    for link_id, file_id, kind, target, key, source in rows:
        if not target:
            updates.append(("resolved", file_id, link_id))
            continue
        found = resolve(
            target, source, candidates.get(key, []), markdown=kind.startswith("markdown")
        )
        status = (
            "unresolved"
            if found.file_id is None
            else "ambiguous"
            if found.ambiguous
            else "resolved"
        )
        updates.append((status, found.file_id, link_id))
    conn.executemany("UPDATE links SET status = ?, resolved_id = ? WHERE id = ?", updates)
    conn.execute("DELETE FROM dirty_keys")
    return len(updates)


def _candidates(conn: sqlite3.Connection, keys: set[str]) -> dict[str, list[Candidate]]:
    found: dict[str, list[Candidate]] = defaultdict(list)
    if len(keys) > 2000:
        query = conn.execute("SELECT name_key, id, path_key FROM files")
        for nkey, fid, pkey in query:
            if nkey in keys:
                found[nkey].append(Candidate(fid, pkey))
        return found
    for key in keys:
        for fid, pkey in conn.execute("SELECT id, path_key FROM files WHERE name_key = ?", (key,)):
            found[key].append(Candidate(fid, pkey))
    return found
