"""Large updates on several processors: sites shared out among worker processes.

An update's own work is nearly all CPU (HTTP with httpx, parsing, storing),
and one Python process uses one processor. With many sources, each worker
process fetches and parses the sources of its share of the sites with a client
of its own (all of a site's sources go to one worker, so a site still sees at
most a few connections) and sends each outcome back as soon as it has it; the
calling process stores them while the workers go on.

A worker must not outlive the update that started it: killed with ``kill -9``,
an update's workers would go on fetching, each holding the caller's output
open, and each (having inherited the other workers' pipe ends) never told that
nobody reads it any more. So workers are forked here rather than through
multiprocessing, which gives no say over what a child inherits: each closes the
other workers' pipes and its own reading end, points its output at /dev/null,
is killed by the kernel with its parent on Linux (PR_SET_PDEATHSIG), and
elsewhere has a thread that notices the orphaning.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import cast
from urllib.parse import urlsplit

from knowflow.seek.fastfeed import parse_for_store
from knowflow.seek.http import Client, FetchError, Response
from knowflow.seek.state import crash_point


@dataclass(frozen=True, slots=True)
class Request:
    """One source to fetch: its id, address and the validators for a conditional GET."""

    source_id: int
    url: str
    etag: str | None
    last_modified: str | None


Outcome = tuple[int, Response | FetchError]


def can_fan_out() -> bool:
    """Whether worker processes can be started here (os.fork exists)."""
    return hasattr(os, "fork")


def fetch_in_workers(
    requests: list[Request],
    workers: int,
    chosen: Iterable[str] = (),
    tick: float | None = None,
) -> Iterator[list[Outcome]]:
    """Fetch and parse in ``workers`` processes; yields the outcomes that have arrived
    each time some do, or an empty list after ``tick`` seconds without any.

    ``chosen`` are the addresses the person named (see ``Client.choose``). A worker
    that dies leaves its remaining sources failed, with the reason."""
    chosen = list(chosen)
    pending: dict[Connection, set[int]] = {}
    pids: list[int] = []
    finished = False
    try:
        for batch in _by_site(requests, workers):
            if batch:
                pid, reader = _start(batch, chosen, list(pending))
                pids.append(pid)
                pending[reader] = {r.source_id for r in batch}
        while pending:
            outcomes: list[Outcome] = []
            for ready in wait(list(pending), timeout=tick):
                outcomes.extend(_drain(cast(Connection, ready), pending))
            yield outcomes
        finished = True
    finally:
        for reader in pending:
            reader.close()
        # Workers that are done exit by themselves; after a failure here, or when the
        # caller stops listening, the rest have no one to send to.
        _reap(pids, patience=5.0 if finished else 0.0)


def _drain(reader: Connection, pending: dict[Connection, set[int]]) -> list[Outcome]:
    """Every outcome this worker has sent so far; a worker that stopped fails the rest."""
    got: list[Outcome] = []
    while True:
        try:
            outcome: Outcome = reader.recv()
        except (EOFError, OSError):  # it exited, perhaps in the middle of a message
            got.extend(
                (sid, FetchError("the worker fetching it stopped unexpectedly"))
                for sid in pending.pop(reader)
            )
            reader.close()
            return got
        got.append(outcome)
        pending[reader].discard(outcome[0])
        if not pending[reader]:
            del pending[reader]
            reader.close()
            return got
        if not reader.poll(0):
            return got


def _start(
    batch: list[Request], chosen: list[str], others: list[Connection]
) -> tuple[int, Connection]:
    """Fork a worker for these sources; returns its pid and the end it sends on.

    ``others`` are the ends the earlier workers send on, which this one must not
    hold: its own sends must fail once the update is gone."""
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the worker: it never returns from here
        code = 1
        try:
            os.close(read_fd)
            for end in others:
                end.close()
            _cut_loose(parent)
            _work(batch, Connection(write_fd, readable=False), chosen)
            code = 0
        except (KeyboardInterrupt, BrokenPipeError):  # interrupted, or the update is gone
            pass
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, Connection(read_fd, writable=False)


def _cut_loose(parent: int) -> None:
    """In a new worker: die with the parent, and leave its output alone."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the tie was made
        os._exit(1)
    # Its input and output become /dev/null (standard error stays, for a worker's own
    # crash). Other descriptors are not closed by number: objects inherited with the
    # memory would close them again when collected, by then another file's.
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _reap(pids: list[int], patience: float) -> None:
    """Wait for the workers to exit, at most ``patience`` seconds, then kill the rest."""
    until = time.monotonic() + patience
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(pid, os.WNOHANG) == (0, 0):
                if time.monotonic() >= until:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    break
                time.sleep(0.01)


def _work(requests: list[Request], writer: Connection, chosen: list[str]) -> None:
    """In a worker: fetch these sources concurrently, send each outcome when it is ready."""
    asyncio.run(_fetch_all(requests, writer, chosen))
    writer.close()


async def _fetch_all(requests: list[Request], writer: Connection, chosen: list[str]) -> None:
    async with Client(chosen=chosen) as client:
        for task in asyncio.as_completed([_fetch_one(client, r) for r in requests]):
            writer.send(await task)
            crash_point("update-worker-sent")


async def _fetch_one(client: Client, request: Request) -> Outcome:
    try:
        response = await client.get(
            request.url, etag=request.etag, last_modified=request.last_modified
        )
    except FetchError as exc:
        # Without its traceback: that would keep the failed response's frames and
        # buffers alive until the outcome has been sent.
        return request.source_id, exc.with_traceback(None)
    if response.status == 200:
        response.parsed = parse_for_store(response.body, response.url, response.headers)
        response.body = b""  # parsed: no need to send it back
    return request.source_id, response


def _by_site(requests: list[Request], count: int) -> list[list[Request]]:
    """Split into ``count`` batches, all the sources of one site in the same batch."""
    batches: list[list[Request]] = [[] for _ in range(count)]
    for request in requests:
        site = urlsplit(request.url).netloc
        batches[zlib.crc32(site.encode()) % count].append(request)
    return batches
