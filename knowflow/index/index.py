"""The index of one vault: open it, bring it up to date, look notes up."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowflow.errors import AmbiguousNote, NoteNotFound
from knowflow.index.migrations import migrate
from knowflow.index.scan import Progress, Scanner, ScanReport
from knowflow.index.store import open_db
from knowflow.vault.names import name_key, strip_md
from knowflow.vault.vault import Vault


@dataclass(frozen=True, slots=True)
class NoteRef:
    """A note as the index knows it."""

    id: int
    path: str
    title: str
    type: str | None

    def front_matter(self, index: Index) -> dict[str, Any]:
        row = index.conn.execute(
            "SELECT front_matter FROM files WHERE id = ?", (self.id,)
        ).fetchone()
        return json.loads(row[0]) if row and row[0] else {}


class Index:
    """``<vault>/.knowflow/index.db``: everything here can be rebuilt from the notes."""

    def __init__(self, vault: Vault, path: Path | None = None) -> None:
        self.vault = vault
        self.path = path or vault.index_path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = open_db(str(self.path))
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self, progress: Progress | None = None) -> ScanReport:
        """Bring the index up to date with the files; only changed files are read."""
        return Scanner(self.vault.root, self.conn, progress).run()

    def rebuild(self, progress: Progress | None = None) -> ScanReport:
        """Throw the index away and build it again from the files."""
        self.conn.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        self.conn = open_db(str(self.path))
        migrate(self.conn)
        return self.scan(progress)

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM files WHERE is_note = 1").fetchone()[0])

    def note(self, name: str) -> NoteRef:
        """Find a note by vault-relative path, title or alias (in that order)."""
        key = name_key(strip_md(name.strip().lstrip("/")))
        for column, table in (("path_key", "files"), ("name_key", "files")):
            rows = self._notes_where(f"{table}.{column} = ?", key)
            if rows:
                return _one(name, rows)
        rows = self._notes_where(
            "files.id IN (SELECT file_id FROM aliases WHERE alias_key = ?)", name_key(name.strip())
        )
        if rows:
            return _one(name, rows)
        raise NoteNotFound(f"no note named {name!r}")

    def note_by_id(self, file_id: int) -> NoteRef:
        rows = self._notes_where("files.id = ?", file_id)
        if not rows:
            raise NoteNotFound(f"no note with id {file_id}")
        return rows[0]

    def _notes_where(self, where: str, arg: object) -> list[NoteRef]:
        sql = f"SELECT id, path, title, type FROM files WHERE is_note = 1 AND {where} ORDER BY path"
        return [NoteRef(*row) for row in self.conn.execute(sql, (arg,))]

    def execute(self, sql: str, args: tuple[object, ...] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)


def _one(name: str, rows: list[NoteRef]) -> NoteRef:
    if len(rows) > 1:
        raise AmbiguousNote(name, [r.path for r in rows])
    return rows[0]
