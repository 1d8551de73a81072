"""Updating sources: fetch every feed due, concurrently, and store what is new.

Each source keeps its last error in words and how many times in a row it
failed. A failing source waits longer before the next try (doubling, up to a
day), a server's ``Retry-After`` is obeyed, a permanent redirect moves the
source, and ``410 Gone`` marks it dead. One bad source never stops the rest.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from knowflow.seek.fanout import Request, can_fan_out, fetch_in_workers
from knowflow.seek.fastfeed import parse_for_store
from knowflow.seek.http import Client, FetchError, Response
from knowflow.seek.sources import Source
from knowflow.seek.state import crash_point, now, record, update_lock
from knowflow.seek.stream import store_entries

Progress = Callable[[int, int], None]
COMMIT_EVERY = 100  # sources per transaction at most
HOLD_AT_MOST = 0.25  # seconds a transaction stays open while outcomes keep coming
PAUSE = 0.02  # seconds without an outcome after which what is stored is committed
PARALLEL_FROM = 50  # fewer sources than this are fetched and parsed in this process
DEFAULT_INTERVAL = 3600  # seconds between scheduled fetches of a feed that says nothing
# What a feed may ask for: no more often than every quarter of an hour (a ttl of 1 is
# no reason to fetch every minute), and at least daily (a "weekly" feed still gets news).
SHORTEST_INTERVAL, LONGEST_INTERVAL = 900, 86400


@dataclass
class SourceResult:
    """What happened to one source in an update."""

    name: str
    status: str  # updated, empty (a feed with no entries), not-modified, failed, dead, waiting
    added: int = 0
    updated: int = 0
    error: str | None = None
    moved_to: str | None = None
    warning: str | None = None  # read, but not cleanly: see Parsed.warning


@dataclass
class UpdateReport:
    results: list[SourceResult] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(r.added for r in self.results)

    @property
    def failed(self) -> list[SourceResult]:
        return [r for r in self.results if r.status in ("failed", "dead")]

    def as_dict(self) -> dict[str, object]:
        return {
            "sources": len(self.results),
            "added": self.added,
            "updated": sum(r.updated for r in self.results),
            "failed": len(self.failed),
            "results": [asdict(r) for r in self.results],
        }


def due(sources: Sequence[Source], conn: sqlite3.Connection) -> list[Source]:
    """Sources to fetch now: not paused, not dead, not waiting for a retry."""
    waiting = {
        sid
        for sid, when in conn.execute("SELECT id, next_fetch FROM sources")
        if when and when > now()
    }
    return [s for s in sources if not s.paused and not s.dead and s.id not in waiting]


def interval_of(asked: int | None, default: int = DEFAULT_INTERVAL) -> int:
    """Seconds between scheduled fetches for a feed that asks for ``asked`` (its
    ``<ttl>`` or ``sy:updatePeriod``; None: it does not say), within the bounds."""
    if asked is None:
        return default
    return min(max(asked, SHORTEST_INTERVAL), LONGEST_INTERVAL)


def next_fetches(
    conn: sqlite3.Connection, default: int = DEFAULT_INTERVAL
) -> dict[int, dt.datetime]:
    """When each source is next due on a schedule, by id: its interval after it was last
    tried (never tried: now), or later when it waits out a back-off. Paused and dead
    sources have none."""
    at = dt.datetime.now(dt.UTC)
    plan: dict[int, dt.datetime] = {}
    rows = conn.execute(
        "SELECT id, coalesce(last_tried, last_fetched), update_interval, next_fetch"
        " FROM sources WHERE NOT paused AND NOT dead"
    )
    for sid, tried, asked, waiting in rows:
        when = at
        if tried:
            when = _moment(tried) + dt.timedelta(seconds=interval_of(asked, default))
        if waiting:
            when = max(when, _moment(waiting))
        plan[sid] = when
    return plan


def scheduled(
    sources: Sequence[Source], conn: sqlite3.Connection, default: int = DEFAULT_INTERVAL
) -> list[Source]:
    """The sources a scheduler fetches now: due (see ``due``) and their interval elapsed
    since they were last tried."""
    plan, at = next_fetches(conn, default), dt.datetime.now(dt.UTC)
    return [s for s in due(sources, conn) if s.id in plan and plan[s.id] <= at]


def _moment(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def update(
    conn: sqlite3.Connection,
    sources: Sequence[Source],
    *,
    client: Client | None = None,
    progress: Progress | None = None,
    command: str | None = None,
) -> UpdateReport:
    """Fetch these sources concurrently and store their entries.

    Holds the vault's update lock (``knowflow.seek.state.update_lock``): while another
    update runs, this one raises UpdateRunning at once. No write transaction is open
    while fetching, so other commands are not kept waiting. A large update on several
    processors is shared out among worker processes (see ``knowflow.seek.fanout``); a
    given ``client`` keeps it in this process. ``command`` is what the lock names as
    holding it (default: this process's command line)."""
    sources = list(sources)
    workers = min(os.cpu_count() or 1, 8) if can_fan_out() else 1
    # Every source's host was named by the person: those hosts may be private ones.
    chosen = [url for (url,) in conn.execute("SELECT url FROM sources")]
    with update_lock(conn, command):
        crash_point("update-locked")
        if client is None and len(sources) >= PARALLEL_FROM and workers > 1:
            return _update_in_workers(conn, sources, workers, chosen, progress)
        client = client or Client()
        client.choose(chosen)
        return asyncio.run(_update(conn, sources, client, progress))


def _update_in_workers(
    conn: sqlite3.Connection,
    sources: list[Source],
    workers: int,
    chosen: list[str],
    progress: Progress | None,
) -> UpdateReport:
    by_id = {s.id: s for s in sources}
    validators = {
        sid: (etag, modified)
        for sid, etag, modified in conn.execute("SELECT id, etag, last_modified FROM sources")
    }
    requests = [Request(s.id, s.url, *validators.get(s.id, (None, None))) for s in sources]
    with _Storing(conn, len(sources), progress) as storing:
        for outcomes in fetch_in_workers(requests, workers, chosen, tick=PAUSE):
            storing.take([(by_id[sid], outcome) for sid, outcome in outcomes])
        return storing.finish()


class _Storing:
    """Storing outcomes as they come, each in the transaction open when it arrives.

    A transaction is opened by an outcome and committed after a hundred, after
    HOLD_AT_MOST seconds, or as soon as outcomes pause (PAUSE seconds without one):
    a disk sync per batch rather than per source, and never a transaction held
    open while waiting for the network, so that a command such as ``seen`` run
    meanwhile waits a fraction of a second, not the whole update."""

    def __init__(self, conn: sqlite3.Connection, total: int, progress: Progress | None) -> None:
        self.conn, self.total, self.progress = conn, total, progress
        self.report = UpdateReport()
        self.began = 0.0
        self.batch = 0

    def __enter__(self) -> _Storing:
        return self

    def take(self, outcomes: list[tuple[Source, Response | FetchError]]) -> None:
        """Store these outcomes; none means a pause, and what is stored is committed."""
        if not outcomes:
            self.commit()
        for source, outcome in outcomes:
            if not self.conn.in_transaction:
                self.conn.execute("BEGIN IMMEDIATE")
                self.began, self.batch = time.monotonic(), 0
            self.report.results.append(_store(self.conn, source, outcome))
            self.batch += 1
            if self.progress:
                self.progress(len(self.report.results), self.total)
            if self.batch >= COMMIT_EVERY or time.monotonic() - self.began >= HOLD_AT_MOST:
                self.commit()

    def commit(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")
            crash_point("update-stored")

    def finish(self) -> UpdateReport:
        self.commit()
        self.report.results.sort(key=lambda r: r.name.casefold())
        return self.report

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


async def _update(
    conn: sqlite3.Connection,
    sources: list[Source],
    client: Client,
    progress: Progress | None,
) -> UpdateReport:
    async with client:
        pending = {asyncio.create_task(_fetch(client, conn, s)) for s in sources}
        try:
            with _Storing(conn, len(sources), progress) as storing:
                while pending:
                    done, pending = await asyncio.wait(
                        pending, timeout=PAUSE, return_when=asyncio.FIRST_COMPLETED
                    )
                    storing.take([task.result() for task in done])
                return storing.finish()
        finally:
            for task in pending:
                task.cancel()


async def _fetch(
    client: Client, conn: sqlite3.Connection, source: Source
) -> tuple[Source, Response | FetchError]:
    etag, modified = conn.execute(
        "SELECT etag, last_modified FROM sources WHERE id = ?", (source.id,)
    ).fetchone()
    try:
        response = await client.get(source.url, etag=etag, last_modified=modified)
    except FetchError as exc:
        return source, exc.with_traceback(None)  # not keeping its frames until stored
    if response.status == 200:
        response.parsed = parse_for_store(response.body, response.url, response.headers)
    return source, response


def _store(
    conn: sqlite3.Connection, source: Source, outcome: Response | FetchError
) -> SourceResult:
    conn.execute("SAVEPOINT source")  # one source's failure undoes only its own writes
    try:
        conn.execute("UPDATE sources SET last_tried = ? WHERE id = ?", (now(), source.id))
        result = _outcome(conn, source, outcome)
        record(
            conn,
            "source_fetched",
            source.name,
            status=result.status,
            added=result.added,
            updated=result.updated,
            error=result.error,
        )
        conn.execute("RELEASE source")
    except BaseException:
        conn.execute("ROLLBACK TO source")
        conn.execute("RELEASE source")
        raise
    return result


def _outcome(
    conn: sqlite3.Connection, source: Source, outcome: Response | FetchError
) -> SourceResult:
    if isinstance(outcome, FetchError):
        return _failed(conn, source, str(outcome), outcome.retry_after)
    response = outcome
    if response.status == 410:
        conn.execute(
            "UPDATE sources SET dead = 1, last_error = ?, failures = failures + 1 WHERE id = ?",
            ("gone (HTTP 410): the publisher removed this feed", source.id),
        )
        return SourceResult(source.name, "dead", error="gone (HTTP 410)")
    if response.status in (429, 503):
        wait = _retry_after(response.headers.get("retry-after"))
        return _failed(conn, source, f"server busy (HTTP {response.status})", wait)
    if response.status >= 400:
        return _failed(conn, source, f"HTTP {response.status}")
    moved = _move(conn, source, response.moved_to)
    if response.not_modified:
        _succeeded(conn, source, response)
        return SourceResult(source.name, "not-modified", moved_to=moved)
    parsed = response.parsed or parse_for_store(response.body, response.url, response.headers)
    if not parsed.is_feed:  # a well-formed feed with no entries yet is one (status "empty")
        return _failed(conn, source, f"not a feed ({parsed.error or 'nothing found'})")
    added, updated = store_entries(conn, source.id, parsed.entries)
    _succeeded(conn, source, response, parsed.warning, parsed.interval)
    status = "empty" if parsed.empty else "updated"
    return SourceResult(source.name, status, added, updated, moved_to=moved, warning=parsed.warning)


def _succeeded(
    conn: sqlite3.Connection,
    source: Source,
    response: Response,
    warning: str | None = None,
    interval: int | None = None,
) -> None:
    """A fetch that worked; ``warning`` is what reading it found amiss and ``interval``
    how often the feed asks to be fetched (both kept as they are when the feed was not
    modified, since nothing was read)."""
    etag = response.headers.get("etag")
    modified = response.headers.get("last-modified")
    conn.execute(
        "UPDATE sources SET last_fetched = :now, last_error = NULL, failures = 0,"
        " next_fetch = NULL, etag = coalesce(:etag, etag),"
        " last_modified = coalesce(:modified, last_modified),"
        " warning = CASE WHEN :same THEN warning ELSE :warning END,"
        " update_interval = CASE WHEN :same THEN update_interval ELSE :interval END"
        " WHERE id = :id",
        {
            "now": now(),
            "etag": etag,
            "modified": modified,
            "same": response.not_modified,
            "warning": warning,
            "interval": interval,
            "id": source.id,
        },
    )


def _failed(
    conn: sqlite3.Connection, source: Source, error: str, wait: float | None = None
) -> SourceResult:
    failures = source.failures + 1
    # Back off: 2, 4, 8 ... minutes after repeated failures, at most a day.
    delay = wait if wait is not None else min(60 * 2**failures, 86400) if failures > 1 else 0
    next_fetch = None
    if delay:
        next_fetch = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)).isoformat(
            timespec="seconds"
        )
    conn.execute(
        "UPDATE sources SET last_error = ?, failures = ?, next_fetch = ? WHERE id = ?",
        (error, failures, next_fetch, source.id),
    )
    return SourceResult(source.name, "failed", error=error)


def _move(conn: sqlite3.Connection, source: Source, moved_to: str | None) -> str | None:
    """Remember a permanent redirect, unless another source already has that address."""
    if not moved_to or moved_to == source.url:
        return None
    if conn.execute("SELECT 1 FROM sources WHERE url = ?", (moved_to,)).fetchone():
        return None
    conn.execute("UPDATE sources SET url = ? WHERE id = ?", (moved_to, source.id))
    return moved_to


def _retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date); 1 h if absent."""
    if not value:
        return 3600.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 3600.0
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())
