"""``knowflow serve``: bind, print the address with its token, serve until stopped."""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from knowflow.errors import KnowflowError
from knowflow.vault import Vault
from knowflow.web.security import new_token

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class PortsTaken(KnowflowError):
    """No port free in the range tried."""


def bind(host: str, port: int, tries: int = 20) -> socket.socket:
    """A listening socket on ``host`` at ``port``, or the next free one after it (as
    Jupyter does), so a second app on another vault just works."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    last: OSError | None = None
    for candidate in range(port, port + (tries if port else 1)):
        sock = socket.socket(family, socket.SOCK_STREAM)
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
    background: bool = True,
    announce: Callable[[str], None] = print,
) -> None:
    import uvicorn

    from knowflow.web.app import create_app

    sock = bind(host, port)
    bound = sock.getsockname()[1]
    token = new_token()
    app = create_app(vault, token=token, host=host, port=bound, background=background)
    announce(f"{app.state.address}?token={token}")
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
