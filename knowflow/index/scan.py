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
from knowflow.index.rows import FileRows, prepare
from knowflow.vault.files import WalkEntry, WalkProblem, walk_vault
from knowflow.vault.resolve import Names, name_map

BATCH = 1000  # files per transaction
CHUNK = 50  # files per task handed to a worker process
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


_NAMES: Names = {}


def _set_names(names: Names) -> None:
    """Worker initializer: the files links may lead to, as of this scan's walk."""
    global _NAMES
    _NAMES = names


def _prepare_many(args: tuple[str, list[tuple[WalkEntry, str | None]]]) -> list[FileRows]:
    root, items = args
    return [prepare(root, entry, old, _NAMES) for entry, old in items]


def _regroup(chunks: Iterator[list[FileRows]]) -> Iterator[list[FileRows]]:
    """Small chunks keep workers busy; larger batches make fewer transactions."""
    batch: list[FileRows] = []
    for chunk in chunks:
        batch.extend(chunk)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class Scanner:
    """One pass that brings ``conn``'s index in line with the files under ``root``."""

    def __init__(self, root: Path, conn: sqlite3.Connection, progress: Progress | None) -> None:
        self.root = root
        self.conn = conn
        self.progress = progress
        self.report = ScanReport()
        self.renamed_from: set[str] = set()
        self.first_new_id = 1

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
        if changed:
            _set_names(name_map((e.path, e.is_note) for e in entries))
            self._apply(changed, {k.hash: (p, k) for p, k in known.items() if k.hash})
        self._delete_gone(known)
        self._finish(walk_problems)
        self.report.walk_problems = walk_problems
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _known(self) -> dict[str, _Known]:
        (top,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()
        self.first_new_id = int(top) + 1
        rows = self.conn.execute(
            "SELECT path, id, size, mtime_ns, hash, name_key, is_note FROM files"
        )
        return {r[0]: _Known(r[1], r[2], r[3], r[4], r[5], bool(r[6])) for r in rows}

    def _apply(
        self,
        changed: list[tuple[WalkEntry, _Known | None]],
        gone_by_hash: dict[str, tuple[str, _Known]],
    ) -> None:
        olds = {entry.path: old for entry, old in changed}
        done = 0
        for batch in self._prepared_batches(changed):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self._store(batch, olds, gone_by_hash)
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            done += len(batch)
            if self.progress:
                self.progress(done, len(changed))

    def _prepared_batches(
        self, changed: list[tuple[WalkEntry, _Known | None]]
    ) -> Iterator[list[FileRows]]:
        root = str(self.root)
        chunks = [
            (root, [(e, o.hash if o else None) for e, o in changed[i : i + CHUNK]])
            for i in range(0, len(changed), CHUNK)
        ]
        workers = min(os.cpu_count() or 1, 4)
        if len(changed) < PARALLEL_FROM or workers < 2:
            prepared: Iterator[list[FileRows]] = map(_prepare_many, chunks)
            yield from _regroup(prepared)
            return
        with ProcessPoolExecutor(workers, initializer=_set_names, initargs=(_NAMES,)) as pool:
            yield from _regroup(pool.map(_prepare_many, chunks))

    def _store(
        self,
        batch: list[FileRows],
        olds: dict[str, _Known | None],
        gone_by_hash: dict[str, tuple[str, _Known]],
    ) -> None:
        touched, writes = [], []
        for rows in batch:
            old = olds[rows.entry.path]
            if old is not None and rows.unchanged:
                touched.append((rows, old.id))
                continue
            if old is None and rows.hash in gone_by_hash:
                gone_path, old = gone_by_hash.pop(rows.hash)
                self.renamed_from.add(gone_path)
                self.conn.execute("DELETE FROM problems WHERE path = ?", (gone_path,))
                self.report.renamed += 1
            elif old is None:
                self.report.added += 1
            else:
                self.report.updated += 1
            writes.append((rows, old.id if old else None, old.name_key if old else None))
            self.report.problems += len(rows.problems)
        store.touch_files(self.conn, touched)
        store.write_batch(self.conn, writes)
        self.report.touched += len(touched)

    def _delete_gone(self, gone: dict[str, _Known]) -> None:
        doomed = [(k.id, p, k.name_key) for p, k in gone.items() if p not in self.renamed_from]
        for i in range(0, len(doomed), BATCH):
            self.conn.execute("BEGIN IMMEDIATE")
            store.delete_files(self.conn, doomed[i : i + BATCH])
            self.conn.execute("COMMIT")
        self.report.deleted = len(doomed)

    def _finish(self, walk_problems: list[WalkProblem]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            store.resolve_dirty(self.conn, self.first_new_id - 1)
            self.conn.execute("DELETE FROM problems WHERE path NOT IN (SELECT path FROM files)")
            self.conn.executemany(
                "INSERT INTO problems (path, kind, line, message) VALUES (?, ?, NULL, ?)",
                [(wp.path, wp.kind, wp.message) for wp in walk_problems],
            )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
