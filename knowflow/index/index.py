"""The index of one vault: open it, bring it up to date, look notes up."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from knowflow.errors import (
    AmbiguousNote,
    DiskFull,
    KnowflowError,
    NoteNotFound,
    StorageError,
    is_disk_full,
)
from knowflow.index.migrations import migrate
from knowflow.index.store import open_db
from knowflow.vault.files import crash_point, process_alive
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
            self.conn = self._open()
        except sqlite3.DatabaseError as exc:
            if not _damaged(exc):
                raise _unavailable(self.path, exc) from None
            # The index is derived from the notes: one that is damaged, or was
            # made by a build whose schema no migration reaches, is started
            # afresh and rebuilt by the next scan. Never for a full disk or an I/O
            # error: those say nothing of the file, and it would be lost for nothing.
            warnings.warn(f"{self.path} is unusable ({exc}); starting a new index", stacklevel=2)
            self._discard()
            try:
                self.conn = self._open()
            except sqlite3.DatabaseError as again:
                raise _unavailable(self.path, again) from None

    def _open(self) -> sqlite3.Connection:
        conn = open_db(str(self.path))
        try:
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard(self) -> None:
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

        _remove_stale_builds(self.path)
        if self.conn.execute("SELECT 1 FROM files LIMIT 1").fetchone() is None:
            return self.rebuild(progress)
        try:
            return Scanner(self.vault.root, self.conn, progress).run()
        except (OSError, sqlite3.Error) as exc:
            if is_disk_full(exc, str(self.path.parent)):
                raise DiskFull(
                    f"the disk is full: the index ({self.path}) could not be brought up to"
                    " date; what it held was kept, and the next command finishes the scan"
                    " once there is room"
                ) from None
            raise

    def rebuild(self, progress: Progress | None = None) -> ScanReport:
        """Build the index again from nothing, in a new file swapped in at the end.

        A whole build skips the journal and creates secondary indexes last,
        which is several times faster; if it is killed, or fails (a full disk),
        the index it was replacing is still there and the next scan starts over.
        """
        _remove_stale_builds(self.path)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.new")
        try:
            report = self._build(tmp, progress)
            _carry_embeddings(self.conn, tmp)
            # The old file's WAL must not outlive it: it would be replayed into the new one.
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except BaseException as exc:
            _unlink_database(tmp)
            if is_disk_full(exc, str(self.path.parent)):
                raise DiskFull(
                    f"the disk is full: the index ({self.path}) was not rebuilt; the one"
                    " there was kept as it was"
                ) from None
            raise
        self.conn.close()
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()
        tmp.replace(self.path)
        self.conn = open_db(str(self.path))
        return report

    def _build(self, tmp: Path, progress: Progress | None) -> ScanReport:
        """A whole index in the new file tmp."""
        from knowflow.index.scan import Scanner

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
        crash_point("index-built")
        return report

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM files WHERE is_note = 1").fetchone()[0])

    def matching(self, query: str) -> int:
        """How many notes a full-text query (FTS5 syntax, words stemmed) matches."""
        sql = "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH ?"
        return int(self.conn.execute(sql, (query,)).fetchone()[0])

    def note(self, name: str) -> NoteRef:
        """Find a note by vault-relative path, file name, alias or front-matter ``title:``
        (in that order)."""
        given = name.strip().lstrip("/")
        # An exact path names one note, even where another differs from it only in
        # case or Unicode form (both are files, and the key below would fit both).
        exact = [given] if given.lower().endswith(".md") else [given, f"{given}.md"]
        for path in exact:
            if rows := self._notes_where("files.path = ?", path):
                return rows[0]
        key = name_key(strip_md(given))
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


def _carry_embeddings(conn: sqlite3.Connection, new: Path) -> None:
    """Copy into the new index the note vectors still true of its notes (same path,
    content and title): embedding is the slow part of an index, and a rebuild
    changes no note."""
    conn.execute("ATTACH DATABASE ? AS fresh", (str(new),))
    try:
        with conn:
            conn.execute(
                "INSERT INTO fresh.embeddings (file_id, hash, title, model, vector)"
                " SELECT n.id, e.hash, e.title, e.model, e.vector FROM embeddings e"
                " JOIN files f ON f.id = e.file_id JOIN fresh.files n ON n.path = f.path"
                " WHERE n.hash = e.hash AND n.title = e.title"
            )
    finally:
        conn.execute("DETACH DATABASE fresh")


def _fts_merging(conn: sqlite3.Connection, automerge: int, crisismerge: int) -> None:
    for key, value in (("automerge", automerge), ("crisismerge", crisismerge)):
        conn.execute(f"INSERT INTO notes_fts (notes_fts, rank) VALUES ('{key}', {value})")


def _remove_stale_builds(path: Path) -> None:
    """Delete the half-built index files (``index.db.PID.new``, with any journal beside
    it) that builds since killed left: a scan makes no new build of its own, so it is
    the next command after a killed ``index --rebuild`` that clears them."""
    for stale in path.parent.glob(f"{path.name}.*.new"):
        pid = stale.name[len(path.name) + 1 : -len(".new")]
        if not pid.isdigit() or (process_alive(int(pid)) and int(pid) != os.getpid()):
            continue
        _unlink_database(stale)


def _unlink_database(path: Path) -> None:
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


# SQLite's result codes that say the file is damaged or of a schema no migration
# reaches (SQLITE_ERROR: "no such column" and the like): the index is rebuilt. Any
# other (a full disk, an I/O error, a lock) says nothing of the file.
_DAMAGED = {1, 11, 26}  # SQLITE_ERROR, SQLITE_CORRUPT, SQLITE_NOTADB


def _damaged(exc: sqlite3.DatabaseError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is None or code & 0xFF in _DAMAGED


def _unavailable(path: Path, exc: sqlite3.DatabaseError) -> KnowflowError:
    if is_disk_full(exc, str(path.parent)):
        return DiskFull(
            f"the disk is full: the index ({path}) cannot be opened; it was kept as it was,"
            " and the next command brings it up to date once there is room"
        )
    return StorageError(f"the index ({path}) cannot be opened ({exc}); it was kept as it was")


def _one(name: str, rows: list[NoteRef]) -> NoteRef:
    if len(rows) > 1:
        raise AmbiguousNote(name, [r.path for r in rows])
    return rows[0]
