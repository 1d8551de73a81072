"""Bringing the index up to date with the files: incremental, resumable, parallel.

A scan walks the vault, compares each file's size and mtime with what the
index holds, and re-reads only what differs (a changed stamp with the same
content hash costs one read and no parse). Work is committed in batches, each
with the names whose files changed, so a scan killed at any point leaves an
index the next scan completes. Notes are only ever read.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.index import store
from knowflow.vault.files import WalkEntry, WalkProblem, content_hash, read_bytes, walk_vault
from knowflow.vault.note import Note, Problem, parse_note

BATCH = 500
PARALLEL_FROM = 400  # below this many changed notes, worker start-up costs more than it saves

Progress = Callable[[int, int], None]


@dataclass
class ScanReport:
    """What one scan did."""

    added: int = 0
    updated: int = 0
    renamed: int = 0
    deleted: int = 0
    unchanged: int = 0
    touched: int = 0  # stamp changed, content did not
    problems: int = 0
    seconds: float = 0.0
    walk_problems: list[WalkProblem] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "updated": self.updated,
            "renamed": self.renamed,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "touched": self.touched,
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class _Known:
    id: int
    size: int
    mtime_ns: int
    hash: str | None
    name_key: str
    is_note: bool


@dataclass(frozen=True, slots=True)
class _Read:
    """A changed file after reading (in a worker, when there are many)."""

    entry: WalkEntry
    hash: str | None
    note: Note | None  # None: attachment, or content unchanged
    unreadable: Problem | None = None


def _read(root: str, entry: WalkEntry, old_hash: str | None) -> _Read:
    if not entry.is_note:
        return _Read(entry, None, None)
    try:
        data = read_bytes(Path(root, entry.path))
    except OSError as exc:
        return _Read(entry, None, None, Problem("unreadable", exc.strerror or str(exc)))
    digest = content_hash(data)
    if digest == old_hash:
        return _Read(entry, digest, None)
    return _Read(entry, digest, parse_note(entry.path, data))


def _read_many(args: tuple[str, list[tuple[WalkEntry, str | None]]]) -> list[_Read]:
    root, items = args
    return [_read(root, entry, old) for entry, old in items]


class Scanner:
    """One pass that brings ``conn``'s index in line with the files under ``root``."""

    def __init__(self, root: Path, conn: sqlite3.Connection, progress: Progress | None) -> None:
        self.root = root
        self.conn = conn
        self.progress = progress
        self.report = ScanReport()
        self.renamed_from: set[str] = set()

    def run(self) -> ScanReport:
        started = time.perf_counter()
        entries, walk_problems = walk_vault(self.root)
        known = self._known()
        changed = []
        for entry in entries:
            old = known.pop(entry.path, None)
            same = old and old.size == entry.size and old.mtime_ns == entry.mtime_ns
            # A note that could not be read (no hash) is tried again every time.
            if old and same and (old.hash is not None or not old.is_note):
                self.report.unchanged += 1
                continue
            changed.append((entry, old))
        # What is left in `known` is gone from disk (or renamed: matched by hash below).
        gone_by_hash = {k.hash: (path, k) for path, k in known.items() if k.hash}
        self._apply(changed, gone_by_hash)
        self._delete_gone(known)
        self._finish(walk_problems)
        self.report.walk_problems = walk_problems
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _known(self) -> dict[str, _Known]:
        rows = self.conn.execute(
            "SELECT path, id, size, mtime_ns, hash, name_key, is_note FROM files"
        )
        return {r[0]: _Known(r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows}

    def _apply(
        self,
        changed: list[tuple[WalkEntry, _Known | None]],
        gone_by_hash: dict[str, tuple[str, _Known]],
    ) -> None:
        total = len(changed)
        olds = {entry.path: old for entry, old in changed}
        done = 0
        for batch in self._read_batches(changed):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for item in batch:
                    self._store(item, olds[item.entry.path], gone_by_hash)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            done += len(batch)
            if self.progress:
                self.progress(done, total)

    def _read_batches(
        self, changed: list[tuple[WalkEntry, _Known | None]]
    ) -> Iterator[list[_Read]]:
        root = str(self.root)
        chunks = [
            [(e, o.hash if o else None) for e, o in changed[i : i + BATCH]]
            for i in range(0, len(changed), BATCH)
        ]
        workers = min(os.cpu_count() or 1, 4)
        if len(changed) < PARALLEL_FROM or workers < 2:
            for chunk in chunks:
                yield _read_many((root, chunk))
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(_read_many, [(root, c) for c in chunks])

    def _store(
        self, item: _Read, old: _Known | None, gone_by_hash: dict[str, tuple[str, _Known]]
    ) -> None:
        entry = item.entry
        if old is not None and item.note is None and item.unreadable is None and entry.is_note:
            # Same content under a new stamp: remember the stamp, skip the work.
            self.conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, hash = ? WHERE id = ?",
                (entry.size, entry.mtime_ns, item.hash, old.id),
            )
            self.report.touched += 1
            return
        file_id, old_key = (old.id, old.name_key) if old else (None, None)
        if old is None and item.hash in gone_by_hash:
            gone_path, gone = gone_by_hash.pop(item.hash)
            file_id, old_key = gone.id, gone.name_key
            self.conn.execute("DELETE FROM problems WHERE path = ?", (gone_path,))
            self.renamed_from.add(gone_path)
            self.report.renamed += 1
        elif old is None:
            self.report.added += 1
        else:
            self.report.updated += 1
        store.write_file(self.conn, entry, file_id, item.hash, item.note, old_key)
        problems = item.note.problems if item.note else []
        if item.unreadable:
            problems = [item.unreadable]
            store.write_problems(self.conn, entry.path, problems)
        self.report.problems += len(problems)

    def _delete_gone(self, gone: dict[str, _Known]) -> None:
        doomed = [(p, k) for p, k in gone.items() if p not in self.renamed_from]
        for i in range(0, len(doomed), BATCH):
            self.conn.execute("BEGIN IMMEDIATE")
            for path, k in doomed[i : i + BATCH]:
                store.delete_file(self.conn, k.id, path, k.name_key)
            self.conn.execute("COMMIT")
        self.report.deleted = len(doomed)

    def _finish(self, walk_problems: list[WalkProblem]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            store.resolve_pending(self.conn)
            self.conn.execute("DELETE FROM problems WHERE path NOT IN (SELECT path FROM files)")
            for wp in walk_problems:
                store.write_problems(self.conn, wp.path, [Problem(wp.kind, wp.message)])
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
