"""``knowflow hub serve``, and the hub served in a thread for tests and benchmarks."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from starlette.applications import Starlette

from knowflow.hub.app import MAX_PUSH_BYTES, create_app


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(engine: Engine, *, host: str = "127.0.0.1", port: int = 8770) -> None:
    """Serve the hub until stopped (Ctrl-C, SIGTERM)."""
    import uvicorn

    app = create_app(engine)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    uvicorn.Server(config).run(sockets=[_listen(host, port)])


@contextmanager
def running_in_thread(
    engine: Engine, *, host: str = "127.0.0.1", max_push_bytes: int = MAX_PUSH_BYTES
) -> Iterator[Starlette]:
    """The hub served by uvicorn in a thread of this process, on a free port, for as
    long as the block runs; ``app.state.address`` is where it answers."""
    import uvicorn

    sock = _listen(host, 0)
    app = create_app(engine, max_push_bytes=max_push_bytes)
    app.state.address = f"http://{host}:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
