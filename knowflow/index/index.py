"""The index of one vault: open it, bring it up to date, look notes up."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from knowflow.errors import AmbiguousNote, NoteNotFound
from knowflow.index.migrations import migrate
from knowflow.index.store import open_db
from knowflow.vault.files import process_alive
from knowflow.vault.names import name_key, strip_md
from knowflow.vault.vault import Vault

if TYPE_CHECKING:
    from knowflow.index.scan import Progress, ScanReport


class NoteRef(NamedTuple):
    """A note as the index knows it."""

    id: int
    path: str
    title: str
    type: str | None


class Index:
    """``<vault>/.knowflow/index.db``: everything here can be rebuilt from the notes."""

    def __init__(self, vault: Vault, path: Path | None = None) -> None:
        self.vault = vault
        self.path = path or vault.index_path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = open_db(str(self.path))
            migrate(self.conn)
        except sqlite3.DatabaseError as exc:
            # The index is derived from the notes: one that is damaged, or was
            # made by a build whose schema no migration reaches, is started
            # afresh and rebuilt by the next scan.
            warnings.warn(f"{self.path} is unusable ({exc}); starting a new index", stacklevel=2)
            self._discard()
            self.conn = open_db(str(self.path))
            migrate(self.conn)

    def _discard(self) -> None:
        with contextlib.suppress(NameError, AttributeError, sqlite3.Error):
            self.conn.close()
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scan(self, progress: Progress | None = None) -> ScanReport:
        """Bring the index up to date with the files; only changed files are read."""
        from knowflow.index.scan import Scanner  # only commands that scan load it

        if self.conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None:
            return self.rebuild(progress)
        return Scanner(self.vault.root, self.conn, progress).run()

    def rebuild(self, progress: Progress | None = None) -> ScanReport:
        """Build the index again from nothing, in a new file swapped in at the end.

        A whole build skips the journal and creates secondary indexes last,
        which is several times faster; if it is killed, the index it was
        replacing is still there and the next scan starts over.
        """
        from knowflow.index.scan import Scanner

        _remove_stale_builds(self.path)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.new")
        conn = open_db(str(tmp), bulk=True)
        try:
            migrate(conn)
            indexes = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f"DROP INDEX {name}")
            _fts_merging(conn, automerge=16, crisismerge=64)  # merge less while loading
            report = Scanner(self.vault.root, conn, progress).run()
            for _, sql in indexes:
                conn.execute(sql)
            # FTS5's defaults again: later scans merge the segments left now.
            _fts_merging(conn, automerge=4, crisismerge=16)
            conn.execute("PRAGMA journal_mode = WAL")
        finally:
            conn.close()
        # The old file's WAL must not outlive it: it would be replayed into the new one.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        tmp.replace(self.path)
        self.conn = open_db(str(self.path))
        return report

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM files WHERE is_note = 1").fetchone()[0])

    def note(self, name: str) -> NoteRef:
        """Find a note by vault-relative path, file name, alias or front-matter ``title:``
        (in that order)."""
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
        rows = self._notes_titled(name_key(name.strip()))
        if rows:
            return _one(name, rows)
        raise NoteNotFound(f"no note named {name!r}")

    def _notes_titled(self, key: str) -> list[NoteRef]:
        """Notes whose front matter says ``title:`` key (a title a file name cannot hold,
        such as "What/Why: a note?"). Asked only when nothing else matched, so the common
        lookups pay nothing; the few notes with a title key are picked out by the text of
        their front matter before any JSON is read."""
        rows = self.conn.execute(
            "SELECT id, path, title, type, json_extract(front_matter, '$.title') FROM files"
            " WHERE is_note = 1 AND instr(front_matter, '\"title\"') > 0 ORDER BY path"
        )
        return [
            NoteRef(*row[:4])
            for row in rows
            if isinstance(row[4], str) and name_key(row[4].strip()) == key
        ]

    def _notes_where(self, where: str, arg: object) -> list[NoteRef]:
        sql = f"SELECT id, path, title, type FROM files WHERE is_note = 1 AND {where} ORDER BY path"
        return [NoteRef(*row) for row in self.conn.execute(sql, (arg,))]


def _fts_merging(conn: sqlite3.Connection, automerge: int, crisismerge: int) -> None:
    for key, value in (("automerge", automerge), ("crisismerge", crisismerge)):
        conn.execute(f"INSERT INTO notes_fts (notes_fts, rank) VALUES ('{key}', {value})")


def _remove_stale_builds(path: Path) -> None:
    """Delete half-built index files left by builds that were killed."""
    for stale in path.parent.glob(f"{path.name}.*.new"):
        pid = stale.name[len(path.name) + 1 : -len(".new")]
        if pid.isdigit() and process_alive(int(pid)) and int(pid) != os.getpid():
            continue
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _one(name: str, rows: list[NoteRef]) -> NoteRef:
    if len(rows) > 1:
        raise AmbiguousNote(name, [r.path for r in rows])
    return rows[0]
