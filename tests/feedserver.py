"""A real HTTP server on 127.0.0.1 for fetching tests, with routes set per test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = tuple[int, dict[str, str], bytes]
Route = Callable[["Request"], Reply]


@dataclass
class Request:
    path: str
    headers: dict[str, str]


@dataclass
class FeedServer:
    """Routes by path; records every request so tests can check what was asked."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, status: int = 200, body: bytes = b"", **headers: str) -> None:
        self.routes[path] = lambda _request: (
            status,
            {k.replace("_", "-"): v for k, v in headers.items()},
            body,
        )


def run_server() -> Iterator[FeedServer]:
    state = FeedServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = Request(self.path, {k.lower(): v for k, v in self.headers.items()})
            state.requests.append(request)
            route = state.routes.get(self.path)
            status, headers, body = route(request) if route else (404, {}, b"not found")
            slow = headers.pop("X-Slow", None)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if slow:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(float(slow))
            else:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
