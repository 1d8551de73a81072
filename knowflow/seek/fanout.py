"""Large updates on several processors: sites shared out among worker processes.

An update's own work is nearly all CPU (HTTP with httpx, parsing, storing),
and one Python process uses one processor. With many sources, each worker
process fetches and parses the sources of its share of the sites with a client
of its own (all of a site's sources go to one worker, so a site still sees at
most a few connections) and sends each outcome back as soon as it has it; the
calling process stores them while the workers go on.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import cast
from urllib.parse import urlsplit

from knowflow.seek.fastfeed import parse_for_store
from knowflow.seek.http import Client, FetchError, Response


@dataclass(frozen=True, slots=True)
class Request:
    """One source to fetch: its id, address and the validators for a conditional GET."""

    source_id: int
    url: str
    etag: str | None
    last_modified: str | None


Outcome = tuple[int, Response | FetchError]


def can_fan_out() -> bool:
    """Whether worker processes can be started here: forking is available, and this
    is not itself a daemon process (a multiprocessing pool's worker)."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def fetch_in_workers(requests: list[Request], workers: int) -> Iterator[Outcome]:
    """Fetch and parse in ``workers`` processes; yields each outcome as it arrives.

    A worker that dies leaves its remaining sources failed, with the reason."""
    ctx = multiprocessing.get_context("fork")
    pending: dict[Connection, set[int]] = {}
    processes = []
    for batch in _by_site(requests, workers):
        if not batch:
            continue
        reader, writer = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_work, args=(batch, writer), daemon=True)
        process.start()
        writer.close()
        pending[reader] = {r.source_id for r in batch}
        processes.append(process)
    try:
        while pending:
            for ready in wait(list(pending)):
                reader = cast(Connection, ready)
                try:
                    outcome: Outcome = reader.recv()
                except EOFError:
                    for source_id in pending.pop(reader):
                        yield source_id, FetchError("the worker fetching it stopped unexpectedly")
                    continue
                pending[reader].discard(outcome[0])
                if not pending[reader]:
                    del pending[reader]
                yield outcome
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


def _work(requests: list[Request], writer: Connection) -> None:
    """In a worker: fetch these sources concurrently, send each outcome when it is ready."""
    asyncio.run(_fetch_all(requests, writer))
    writer.close()


async def _fetch_all(requests: list[Request], writer: Connection) -> None:
    async with Client() as client:
        for task in asyncio.as_completed([_fetch_one(client, r) for r in requests]):
            writer.send(await task)


async def _fetch_one(client: Client, request: Request) -> Outcome:
    try:
        response = await client.get(
            request.url, etag=request.etag, last_modified=request.last_modified
        )
    except FetchError as exc:
        return request.source_id, exc
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
