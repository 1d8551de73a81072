"""``knowflow hub serve``, and the hub served in a thread for tests and benchmarks."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from starlette.applications import Starlette

from knowflow.hub.app import MAX_PUSH_BYTES, create_app
from knowflow.hub.limits import RATE, RateLimit
from knowflow.hub.read import SearchCache
from knowflow.web.server import bind, serve_in_thread


def serve(
    engine: Engine, *, host: str = "127.0.0.1", port: int = 8770, rate: RateLimit | None = RATE
) -> None:
    """Serve the hub until stopped (Ctrl-C, SIGTERM); ``rate`` limits each token's
    requests (None: no limit). Search answers are cached until the hub changes
    (``KNOWFLOW_HUB_SEARCH_CACHE``: how many; 0 for none); how often the cache answered
    is logged as the hub stops."""
    import uvicorn

    cache = SearchCache.configured()
    app = create_app(engine, rate=rate, search_cache=cache)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            # Here, not after run(): uvicorn raises the signal that stopped it again
            # once it has shut down, and SIGTERM then ends the process at once.
            await super().shutdown(sockets)
            if cache is not None:
                print(f"search cache: {cache.hits} hits, {cache.misses} misses,"
                      f" {len(cache)} kept", file=sys.stderr, flush=True)  # fmt: skip

    # One try: the hub's address is announced and given to members, it must not move.
    Server(config).run(sockets=[bind(host, port, tries=1)])


@contextmanager
def running_in_thread(
    engine: Engine, *, host: str = "127.0.0.1", max_push_bytes: int = MAX_PUSH_BYTES
) -> Iterator[Starlette]:
    """The hub served by uvicorn in a thread of this process, on a free port, for as
    long as the block runs; ``app.state.address`` is where it answers."""
    sock = bind(host, 0)
    app = create_app(engine, max_push_bytes=max_push_bytes)
    app.state.address = f"http://{host}:{sock.getsockname()[1]}"
    with serve_in_thread(app, sock):
        yield app
