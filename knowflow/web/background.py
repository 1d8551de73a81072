"""What runs beside the pages while ``serve`` runs: the index brought up to date at
start (then kept so by the file watcher), and scheduled fetching of due sources."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from knowflow.index import Index


@asynccontextmanager
async def running(app: Starlette, *, enabled: bool) -> AsyncIterator[None]:
    await asyncio.to_thread(_scan, app)
    yield


def _scan(app: Starlette) -> None:
    with Index(app.state.vault) as index:
        index.scan()
