"""``knowflow serve``: bind, print the address with its token, serve until stopped."""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Literal

from knowflow.errors import KnowflowError
from knowflow.vault import Vault
from knowflow.web.security import new_token

if TYPE_CHECKING:
    from starlette.applications import Starlette

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class PortsTaken(KnowflowError):
    """No port free in the range tried."""


def bind(host: str, port: int, tries: int = 20) -> socket.socket:
    """A listening socket on ``host`` at ``port``, or the next free one after it (as
    Jupyter does), so a second app on another vault just works."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last: OSError | None = None
    for candidate in range(port, port + (tries if port else 1)):
        # Named TCP, so that asyncio turns Nagle's algorithm off for each connection:
        # with the protocol left 0 it does not, and a kept-alive response's body
        # (uvicorn sends it apart from the headers) waited 40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            last = exc
            continue
        sock.listen(128)
        sock.set_inheritable(True)
        return sock
    raise PortsTaken(f"ports {port}-{port + tries - 1} on {host} are all in use ({last})")


def serve(
    vault: Vault,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    fetch: bool = True,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve ``vault`` until stopped (Ctrl-C, SIGTERM), following changes made to it
    and, with ``fetch``, fetching its sources on their schedules."""
    import uvicorn

    from knowflow.web.app import create_app

    sock = bind(host, port)
    bound = sock.getsockname()[1]
    token = new_token()
    app = create_app(vault, token=token, host=host, port=bound, fetch=fetch)
    announce(f"{app.state.address}?token={token}")
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    app.state.server = server  # open event streams end when it is told to stop
    server.run(sockets=[sock])


@contextmanager
def running_in_thread(
    vault: Vault, *, host: str = "127.0.0.1", background: bool = False
) -> Iterator[Starlette]:
    """The app served by uvicorn in a thread of this process, on a free port, for as
    long as the block runs: for tests, benchmarks and the screenshot script.
    ``app.state.address`` is where it answers, ``app.state.token`` its token."""
    from knowflow.web.app import create_app

    sock = bind(host, 0)
    app = create_app(vault, host=host, port=sock.getsockname()[1], background=background)
    with serve_in_thread(app, sock, lifespan="on"):
        yield app


@contextmanager
def serve_in_thread(
    app: Starlette, sock: socket.socket, *, lifespan: Literal["on", "off"] = "off"
) -> Iterator[None]:
    """Serve ``app`` with uvicorn on the listening ``sock`` in a thread of this process
    for as long as the block runs (the local app's and the hub's tests both use it);
    ``app.state.server`` is the uvicorn server, so open event streams can end."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    app.state.server = server
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
