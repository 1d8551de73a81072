"""What runs beside the pages while ``serve`` runs: the index brought up to date at
start and kept so by a file watcher, scheduled fetching of due sources, and the
notices open pages hear about (``/events``, server-sent events).

Updates run in a thread of their own (``knowflow.seek.update.update`` runs its own
event loop, and fans out to worker processes for large updates), never on the
server's loop. They take the vault's update lock in state.db, the one
``knowflow update`` takes: while the CLI holds it the app waits, saying who holds
it; while the app holds it the CLI refuses, naming this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from knowflow.index import Index
from knowflow.seek.sources import Sources
from knowflow.seek.state import LockHolder, UpdateRunning, now, open_state, update_holder
from knowflow.seek.update import DEFAULT_INTERVAL, due, next_fetches, scheduled
from knowflow.seek.update import update as update_sources
from knowflow.vault import Vault
from knowflow.vault.files import content_hash

log = logging.getLogger("knowflow.web")
TICK = 30.0  # seconds between the scheduler's looks at what is due, at most
WAIT_FOR_LOCK = 1.0  # seconds between looks at a lock another process holds
DEBOUNCE_MS = 300  # changes closer together than this are one batch
COMMAND = "knowflow serve (background update)"


class Notices:
    """Change notices for open pages: each ``/events`` stream has a queue; anything
    (the watcher, an update's thread) may publish, from any thread."""

    def __init__(self) -> None:
        self.queues: set[asyncio.Queue[tuple[str, str]]] = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def publish(self, event: str, data: dict[str, Any]) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        message = (event, json.dumps(data, ensure_ascii=False))
        with contextlib.suppress(RuntimeError):  # the loop stopped meanwhile
            loop.call_soon_threadsafe(self._deliver, message)

    def _deliver(self, message: tuple[str, str]) -> None:
        for queue in self.queues:
            if queue.qsize() < 1000:  # a page that stopped reading loses notices, not memory
                queue.put_nowait(message)

    @contextlib.contextmanager
    def listening(self) -> Any:
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.queues.add(queue)
        try:
            yield queue
        finally:
            self.queues.discard(queue)


@dataclass
class Run:
    """One update the app runs: why, how far it is, and what came of it."""

    reason: str  # "schedule", "now", or a source's name
    started: str = field(default_factory=now)
    done: int = 0
    total: int = 0
    added: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    finished: str | None = None
    error: str | None = None  # the update itself failed (not a source)
    waiting_for: LockHolder | None = None  # another process holds the lock

    def as_dict(self) -> dict[str, Any]:
        holder = self.waiting_for
        return {
            "reason": self.reason,
            "started": self.started,
            "done": self.done,
            "total": self.total,
            "added": self.added,
            "failed": len(self.failed),
            "finished": self.finished,
            "error": self.error,
            "waiting_for": None
            if holder is None
            else {"pid": holder.pid, "command": holder.command, "since": holder.started},
        }


class Updates:
    """The app's updates: at most one at a time, each in a thread of its own."""

    def __init__(self, vault: Vault, notices: Notices, default: int = DEFAULT_INTERVAL) -> None:
        self.vault, self.notices, self.default = vault, notices, default
        self.current: Run | None = None
        self.last: Run | None = None
        self.stopping = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self, names: Iterable[str] | None = None, reason: str = "now") -> bool:
        """Update the named sources, or every due one (``names`` None), in the
        background; False when an update of the app's is already under way."""
        with self._guard:
            if self.current is not None or self.stopping.is_set():
                return False
            self.current = Run(reason)
            chosen = None if names is None else list(names)
            self._thread = threading.Thread(
                target=self._run, args=(self.current, chosen), name="knowflow-update", daemon=True
            )
            self._thread.start()
            return True

    def start_scheduled(self) -> bool:
        """Start an update of the sources whose interval has elapsed, if there are any."""
        if self.current is not None:
            return False
        with contextlib.closing(open_state(self.vault)) as conn:
            chosen = scheduled(Sources(conn).list(), conn, self.default)
        return bool(chosen) and self.start([s.name for s in chosen], reason="schedule")

    def seconds_to_next(self) -> float:
        """Seconds until a source is next due on the schedule (TICK at most)."""
        with contextlib.closing(open_state(self.vault)) as conn:
            plan = next_fetches(conn, self.default)
        if not plan:
            return TICK
        soonest = min(plan.values()) - dt.datetime.now(dt.UTC)
        return min(TICK, max(1.0, soonest.total_seconds()))

    def join(self, timeout: float) -> None:
        self.stopping.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self, run: Run, names: list[str] | None) -> None:
        try:
            with contextlib.closing(open_state(self.vault)) as conn:
                self._update(conn, run, names)
        except Exception as exc:  # shown on /sources; the app goes on
            log.exception("background update failed")
            run.error = str(exc) or type(exc).__name__
        finally:
            run.finished = now()
            run.waiting_for = None
            with self._guard:
                self.current, self.last = None, run
            self.notices.publish("update", {"state": "finished", **run.as_dict()})
            if run.added:
                self.notices.publish("entries-added", {"count": run.added})

    def _update(self, conn: sqlite3.Connection, run: Run, names: list[str] | None) -> None:
        sources = Sources(conn)
        while not self.stopping.is_set():
            # Asked for now: every source not paused, dead or backing off, as the CLI's
            # update takes them (the schedule names its sources).
            listed = sources.list()
            chosen = due(listed, conn) if names is None else [s for s in listed if s.name in names]
            run.total = len(chosen)
            if run.waiting_for is None:
                self.notices.publish("update", {"state": "running", **run.as_dict()})
            try:
                report = update_sources(conn, chosen, progress=self._progress(run), command=COMMAND)
            except UpdateRunning:
                # The CLI (or another app on this vault) is updating: wait for it.
                run.waiting_for = update_holder(conn)
                self.notices.publish("update", {"state": "waiting", **run.as_dict()})
                self.stopping.wait(WAIT_FOR_LOCK)
                continue
            run.waiting_for = None
            run.added = report.added
            run.failed = [(r.name, r.error or r.status) for r in report.failed]
            return

    def _progress(self, run: Run) -> Any:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            run.done, run.total, run.waiting_for = done, total, None
            if time.monotonic() - last[0] > 0.5 or done == total:  # not a notice per source
                last[0] = time.monotonic()
                self.notices.publish("update", {"state": "running", **run.as_dict()})

        return progress


@asynccontextmanager
async def running(app: Starlette, *, enabled: bool, fetch: bool = True) -> AsyncIterator[None]:
    """The lifespan of what runs beside the pages: with ``enabled``, the file watcher
    and (unless ``fetch`` is False) the scheduler; always the notices and on-demand
    updates."""
    vault: Vault = app.state.vault
    notices = Notices()
    notices.loop = asyncio.get_running_loop()
    updates = Updates(vault, notices)
    app.state.notices, app.state.updates = notices, updates
    await asyncio.to_thread(_scan, vault)
    stop = asyncio.Event()
    tasks = []
    if enabled:
        tasks = [asyncio.create_task(_watch(vault, notices, stop))]
        if fetch:
            tasks.append(asyncio.create_task(_schedule(updates, stop)))
    try:
        yield
    finally:
        stop.set()
        notices.closed = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # An update under way is given a moment; a killed one leaves a stale lock row,
        # which the next update takes over (its process is gone).
        await asyncio.to_thread(updates.join, 2.0)


def _scan(vault: Vault, paths: Iterable[str] = ()) -> dict[str, str]:
    """Bring the index up to date; returns the content hash of each of ``paths`` now (the
    note pages carry the one they show as ``data-note-version``: their own save is no
    news to them)."""
    from knowflow.practice.versions import observe
    from knowflow.seek.state import open_state

    with Index(vault) as index:
        index.scan()
        # Each change seen is a look for practice's "notes written or edited", so
        # edits between two visits to the Practice page count one by one.
        conn = open_state(vault)
        try:
            observe(index, conn)
        finally:
            conn.close()
    versions = {}
    for path in paths:
        if not path.lower().endswith(".md"):
            continue  # an attachment (a video, say) is not read whole to say it changed
        with contextlib.suppress(OSError):
            versions[path] = content_hash((vault.root / path).read_bytes())
    return versions


async def _schedule(updates: Updates, stop: asyncio.Event) -> None:
    """Start an update whenever a source is due, until the app stops."""
    while not stop.is_set():
        try:
            await asyncio.to_thread(updates.start_scheduled)
            pause = await asyncio.to_thread(updates.seconds_to_next)
        except Exception:
            log.exception("the update scheduler failed; trying again")
            pause = TICK
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)


def watched(path: str, root: Path) -> str | None:
    """The vault path of a changed file worth noticing, or None: nothing hidden
    (``.knowflow/``, ``.obsidian/``, ``.git/``), no temporary file (an atomic write's
    ``.NAME.md.*.tmp``, an editor's swap or backup file)."""
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return None
    if any(part.startswith(".") for part in relative.parts):
        return None
    name = relative.name
    if name.endswith(("~", ".tmp", ".swp", ".swx")) or name.startswith("#"):
        return None
    return relative.as_posix()


async def _watch(vault: Vault, notices: Notices, stop: asyncio.Event) -> None:
    """Keep the index current as other programs change the vault, and tell open pages
    which notes changed."""
    import watchfiles

    root = vault.root.resolve()
    changes_of = watchfiles.awatch(
        root,
        watch_filter=lambda _change, path: watched(path, root) is not None,
        debounce=DEBOUNCE_MS,
        stop_event=stop,
        rust_timeout=1000,
        ignore_permission_denied=True,
    )
    async for changes in changes_of:
        paths = {p for _, raw in changes if (p := watched(raw, root)) is not None}
        try:
            versions = await asyncio.to_thread(_scan, vault, paths)
        except Exception:
            log.exception("scanning after a change failed")
            versions = {}
        for path in sorted(paths):
            gone = not (root / path).exists()
            notice = {"path": path, "deleted": gone, "version": versions.get(path)}
            notices.publish("note-changed", notice)


async def event_stream(app: Starlette, stopping: Any) -> AsyncIterator[str]:
    """Server-sent events for one open page, until it goes or the server stops
    (``stopping()`` is polled, since uvicorn waits for open responses to finish)."""
    notices: Notices = app.state.notices
    yield "retry: 3000\n\n"
    with notices.listening() as queue:
        while not notices.closed and not stopping():
            try:
                event, data = await asyncio.wait_for(queue.get(), 0.25)
            except TimeoutError:
                continue
            yield f"event: {event}\ndata: {data}\n\n"
