"""Bringing the index up to date with the files: incremental, resumable, parallel.

A scan walks the vault, compares each file's size and mtime with what the
index holds, and re-reads only what differs (a changed stamp with the same
content hash costs one read and no parse). Work is committed in batches, each
with the names whose files changed, so a scan killed at any point leaves an
index the next scan completes. Notes are only ever read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knowflow.index import store
from knowflow.vault.files import WalkEntry, WalkProblem, walk_vault
from knowflow.vault.names import file_keys
from knowflow.vault.resolve import Candidate, NameLookup, name_map

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

    from knowflow.index.rows import Job, Rows

# Parsing (knowflow.index.rows and what it imports) and worker processes are
# loaded only when some file changed: a rescan that finds nothing new, as before
# every search, does without them.

BATCH = 1000  # files per transaction
CHUNK = 50  # files per task handed to a worker process
IN_FLIGHT = 24  # chunks handed out but not yet written, at most
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


_NAMES: NameLookup = {}


def _set_names(names: NameLookup) -> None:
    global _NAMES
    _NAMES = names


def _start_worker(names: NameLookup, parent: int) -> None:
    """Worker initializer: the files links may lead to, and a tie to the parent.

    A worker must not outlive an indexer killed with ``kill -9``: on Linux the
    kernel kills it with its parent; elsewhere a thread notices the orphaning.
    """
    import ctypes
    import ctypes.util

    _set_names(names)
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _prepare_chunk(args: tuple[str, list[Job]]) -> Rows:
    from knowflow.index.rows import prepare_many

    return prepare_many(args[0], args[1], _NAMES)


def _bounded_map(
    pool: ProcessPoolExecutor, root: str, chunks: list[list[Job]], in_flight: int
) -> Iterator[tuple[list[Job], Rows]]:
    """Results in order, with at most in_flight chunks submitted but not yet taken.

    Workers outpace the writer; unbounded, their results (note bodies
    included) would pile up in memory.
    """
    pending: deque[tuple[list[Job], Future[Rows]]] = deque()
    for chunk in chunks:
        pending.append((chunk, pool.submit(_prepare_chunk, (root, chunk))))
        if len(pending) >= in_flight:
            done, future = pending.popleft()
            yield done, future.result()
    while pending:
        done, future = pending.popleft()
        yield done, future.result()


def _regroup(chunks: Iterator[tuple[list[Job], Rows]]) -> Iterator[tuple[list[Job], Rows]]:
    """Small chunks keep workers busy; larger batches make fewer transactions."""
    from knowflow.index.rows import Rows

    jobs: list[Job] = []
    rows = Rows()
    for chunk_jobs, chunk_rows in chunks:
        jobs.extend(chunk_jobs)
        rows.extend(chunk_rows)
        if len(jobs) >= BATCH:
            yield jobs, rows
            jobs, rows = [], Rows()
    if jobs:
        yield jobs, rows


class IndexedNames:
    """The files links may lead to, looked up in the index as links ask.

    For a small scan this beats working out the name of every file in the
    vault; ``added`` are files new in this scan, ``gone`` files deleted.
    """

    def __init__(self, conn: sqlite3.Connection, added: list[WalkEntry], gone: dict[str, Any]):
        self.conn = conn
        self.added = name_map((e.path, e.is_note) for e in added)
        self.gone = gone
        self.cache: dict[str, list[Candidate]] = {}

    def get(self, key: str, default: list[Candidate]) -> list[Candidate]:
        if key not in self.cache:
            rows = self.conn.execute(
                "SELECT path, path_key FROM files WHERE name_key = ?", (key,)
            ).fetchall()
            found = [Candidate(path, pkey) for path, pkey in rows if path not in self.gone]
            self.cache[key] = found + self.added.get(key, [])
        return self.cache[key] or default


class Scanner:
    """One pass that brings ``conn``'s index in line with the files under ``root``."""

    def __init__(self, root: Path, conn: sqlite3.Connection, progress: Progress | None) -> None:
        self.root = root
        self.conn = conn
        self.progress = progress
        self.report = ScanReport()
        self.first_new_id = 1

    def run(self) -> ScanReport:
        started = time.perf_counter()
        entries, walk_problems = walk_vault(self.root)
        settled = self._settled()
        differ = [e for e in entries if e not in settled]
        self.report.unchanged = len(entries) - len(differ)
        gone = self._gone(entries, self.report.unchanged)
        # Files gone from disk (or renamed: matched by hash below).
        details = self._details([e.path for e in differ] + gone)
        changed = [(e, details.get(e.path)) for e in differ]
        known = {path: details[path] for path in gone}
        if changed:
            if len(changed) < PARALLEL_FROM:
                _set_names(IndexedNames(self.conn, [e for e, old in changed if not old], known))
            else:
                _set_names(name_map((e.path, e.is_note) for e in entries))
            # Content of files now gone: a new file with the same hash was renamed.
            self._apply(changed, {k.hash for k in known.values() if k.hash})
        self._delete_gone(known)
        self._finish(walk_problems)
        self.report.walk_problems = walk_problems
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _settled(self) -> set[tuple[str, int, int, int]]:
        """(path, size, mtime, is_note) of every indexed file whose stamp settles it, as
        walk entries compare: the least a rescan needs. A note that could not be read
        (no hash) is never settled, so it is tried again every time."""
        (top,) = self.conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()
        self.first_new_id = int(top) + 1
        rows = self.conn.execute(
            "SELECT path, size, mtime_ns, is_note FROM files WHERE hash IS NOT NULL OR is_note = 0"
        )
        return set(rows.fetchall())

    def _gone(self, entries: list[WalkEntry], unchanged: int) -> list[str]:
        """Indexed paths no longer on disk (none to look for when every indexed file
        was found unchanged)."""
        (indexed,) = self.conn.execute("SELECT count(*) FROM files").fetchone()
        if indexed == unchanged:
            return []
        on_disk = {e.path for e in entries}
        return [p for (p,) in self.conn.execute("SELECT path FROM files") if p not in on_disk]

    def _details(self, paths: list[str]) -> dict[str, _Known]:
        """What the index holds about these files, for those it holds."""
        found: dict[str, _Known] = {}
        for i in range(0, len(paths), 500):
            part = paths[i : i + 500]
            rows = self.conn.execute(
                "SELECT path, id, size, mtime_ns, hash, name_key, is_note FROM files"
                f" WHERE path IN ({','.join('?' * len(part))})",
                part,
            )
            found.update((r[0], _Known(r[1], r[2], r[3], r[4], r[5], bool(r[6]))) for r in rows)
        return found

    def _apply(self, changed: list[tuple[WalkEntry, _Known | None]], gone: set[str]) -> None:
        """Prepare changed files (in workers when many) and write them in batches."""
        from knowflow.index.rows import Job

        next_id = self.first_new_id
        jobs = []
        for entry, old in changed:
            if old is None:
                jobs.append(Job(entry, next_id, None))
                next_id += 1
            else:
                jobs.append(Job(entry, old.id, old.hash))
        done = 0
        for batch_jobs, rows in self._prepared(jobs):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self._store(batch_jobs, rows, gone)
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:  # SQLite rolls back itself on a full disk
                    self.conn.execute("ROLLBACK")
                raise
            done += len(batch_jobs)
            if self.progress:
                self.progress(done, len(jobs))

    def _prepared(self, jobs: list[Job]) -> Iterator[tuple[list[Job], Rows]]:
        from concurrent.futures import ProcessPoolExecutor

        from knowflow.index.rows import prepare_many

        root = str(self.root)
        chunks = [jobs[i : i + CHUNK] for i in range(0, len(jobs), CHUNK)]
        workers = min(os.cpu_count() or 1, 4)
        if len(jobs) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
            yield from _regroup((c, prepare_many(root, c, _NAMES)) for c in chunks)
            return
        start = (_NAMES, os.getpid())
        with ProcessPoolExecutor(workers, initializer=_start_worker, initargs=start) as pool:
            yield from _regroup(_bounded_map(pool, root, chunks, IN_FLIGHT))

    def _store(self, jobs: list[Job], rows: Rows, gone: set[str]) -> None:
        """Write one batch, counting what happened to each file."""
        new_keys = []
        for job in jobs:
            if job.file_id >= self.first_new_id:
                new_keys.append(file_keys(job.entry.path, job.entry.is_note)[0])
        hashes = dict(rows.hashes)
        for job in jobs:
            if job.file_id < self.first_new_id:
                continue
            if hashes.get(job.entry.path) in gone:
                gone.discard(hashes[job.entry.path] or "")
                self.report.renamed += 1
            else:
                self.report.added += 1
        self.report.touched += len(rows.touched)
        replaced = [j.file_id for j in jobs if j.file_id < self.first_new_id]
        self.report.updated += len(replaced) - len(rows.touched)
        self.report.problems += len({p[0] for p in rows.problems})
        touched_ids = {t[3] for t in rows.touched}
        store.write_rows(self.conn, rows, [i for i in replaced if i not in touched_ids])
        store.mark_dirty(self.conn, new_keys)

    def _delete_gone(self, gone: dict[str, _Known]) -> None:
        doomed = [(k.id, p, k.name_key) for p, k in gone.items()]
        for i in range(0, len(doomed), BATCH):
            self.conn.execute("BEGIN IMMEDIATE")
            store.delete_files(self.conn, doomed[i : i + BATCH])
            self.conn.execute("COMMIT")
        self.report.deleted = len(doomed) - self.report.renamed

    def _finish(self, walk_problems: list[WalkProblem]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            store.resolve_dirty(self.conn, self.first_new_id - 1)
            self.conn.execute("DELETE FROM problems WHERE path NOT IN (SELECT path FROM files)")
            # A link leading out of the vault is found by the walk, not by reading the
            # file it leads to, so its row goes with every walk, even for an indexed file.
            self.conn.execute("DELETE FROM problems WHERE kind = 'outside-vault'")
            self.conn.executemany(
                "INSERT INTO problems (path, kind, line, message) VALUES (?, ?, NULL, ?)",
                [(wp.path, wp.kind, wp.message) for wp in walk_problems],
            )
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # SQLite rolls back itself on a full disk
                self.conn.execute("ROLLBACK")
            raise
