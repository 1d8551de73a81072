"""``knowflow hub serve`` with one difference, for bench/hub.py --nodelay: its listening
socket is made with ``IPPROTO_TCP`` named.

asyncio turns Nagle's algorithm off (TCP_NODELAY) on each accepted connection only when
the socket says it is TCP (``sock.proto == IPPROTO_TCP``); a socket made as
``socket.socket(AF_INET, SOCK_STREAM)`` says 0, and so do the connections it accepts.
uvicorn writes a response's head and body separately, so on a kept-alive connection the
body waits for the client's delayed ACK: about 40 ms a request on Linux. This shows
what the hub does without that wait (knowflow.web.server.bind is where to fix it).

    python bench/hub_serve.py DB PORT
"""

from __future__ import annotations

import socket
import sys

import uvicorn

from knowflow.hub.app import create_app
from knowflow.hub.db import open_engine


def main() -> None:
    db, port = sys.argv[1], int(sys.argv[2])
    engine = open_engine(db)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    config = uvicorn.Config(create_app(engine), log_level="warning", lifespan="off",
                            access_log=False)  # fmt: skip
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
