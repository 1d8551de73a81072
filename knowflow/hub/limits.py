"""What one client may ask of the hub: a body size limit on every endpoint (push has
its own, larger one), a query string limit, and a rate per token.

The rate is a token bucket per credential, in this process's memory (several hub
processes each keep their own: the limit is per process, which is what it is for, to
keep one client from starving the others). A wrong token costs its client address a
second bucket, so guessing tokens (a fresh bucket per guess) is slow too.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from knowflow.hub.errors import TooLarge
from knowflow.web.security import replay_body

MAX_BODY_BYTES = 64 * 1024  # every endpoint but push: none takes more than a few names
MAX_QUERY_BYTES = 8 * 1024
EXEMPT = ("/static/",)  # the vendored assets: cheap, and a page loads several at once


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Requests per second per token, sustained, and how many may come at once; and
    the same for wrong tokens per client address."""

    rate: float = 20.0
    burst: int = 60
    failures_rate: float = 1.0
    failures_burst: int = 20


RATE = RateLimit()  # the default: 20 requests/s per token, 60 at once


class Buckets:
    """Token buckets by key. ``take`` spends one token: 0.0 when there was one, else
    the seconds until there will be."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._held: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def _level(self, key: str, at: float) -> float:
        tokens, then = self._held.get(key, (float(self.burst), at))
        return min(float(self.burst), tokens + (at - then) * self.rate)

    def take(self, key: str) -> float:
        with self._lock:
            at = self.clock()
            tokens = self._level(key, at)
            if tokens < 1:
                self._held[key] = (tokens, at)
                return (1 - tokens) / self.rate
            self._held[key] = (tokens - 1, at)
            self._forget_full(at)
        return 0.0

    def wait(self, key: str) -> float:
        """Seconds until key has a token, without spending one."""
        with self._lock:
            tokens = self._level(key, self.clock())
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _forget_full(self, at: float) -> None:
        # A full bucket is the same as none: dropped, so memory stays bounded by the
        # clients of the last burst/rate seconds.
        if len(self._held) > 10_000:
            self._held = {k: v for k, v in self._held.items() if self._level(k, at) < self.burst}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def client_key(scope: Scope) -> str:
    """Whose bucket a request spends: its bearer token, its feed token, its session
    cookie, else its address (hashed: the table never holds a usable token)."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "t:" + _digest(token.strip())
    for pair in scope.get("query_string", b"").decode("latin-1").split("&"):
        if pair.startswith("token=") and len(pair) > 6:
            return "f:" + _digest(pair[6:])
    if headers.get("cookie"):
        return "c:" + _digest(headers["cookie"])
    return "a:" + _address(scope)


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "?"


async def refuse(
    send: Send, status: int, error: str, headers: dict[str, str] | None = None
) -> None:
    """A JSON refusal sent straight from the middleware (outside the app's handlers)."""
    body = json.dumps({"error": error}).encode()
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Limits:
    """ASGI middleware: size limits on every request, a rate per token."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body: int = MAX_BODY_BYTES,
        max_push: int,
        rate: RateLimit | None = None,
    ) -> None:
        self.app, self.max_body, self.max_push = app, max_body, max_push
        self.rate = rate
        self.buckets = Buckets(rate.rate, rate.burst) if rate else None
        self.failures = Buckets(rate.failures_rate, rate.failures_burst) if rate else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            await refuse(send, 414, f"the query is over the {MAX_QUERY_BYTES} byte limit")
            return
        limit = self.max_push if path == "/api/push" else self.max_body
        declared = _declared(scope)
        if declared is not None and declared > limit:
            await refuse(send, 413, f"the body is {declared} bytes; this hub takes {limit} at most")
            return
        if not path.startswith(EXEMPT) and (wait := self._wait(scope)) > 0:
            seconds = str(max(1, math.ceil(wait)))
            await refuse(
                send, 429, f"too many requests: try again in {seconds} s", {"retry-after": seconds}
            )
            return
        if path != "/api/push" and _has_body(scope):
            # Read here, whether or not the endpoint would: every endpoint's limit holds,
            # and 64 KB at most is held in memory. (A push is counted as it streams.)
            body = await _read(receive, limit)
            if body is None:
                await refuse(send, 413, f"the body is over the {limit} byte limit")
                return
            receive = replay_body(body, receive)
        await self.app(scope, _counted(receive, limit), self._watching(scope, send))

    def _wait(self, scope: Scope) -> float:
        if self.buckets is None or self.failures is None:
            return 0.0
        failed = self.failures.wait(_address(scope))
        return failed or self.buckets.take(client_key(scope))

    def _watching(self, scope: Scope, send: Send) -> Send:
        if self.failures is None:
            return send
        failures, address = self.failures, _address(scope)

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                failures.take(address)
            await send(message)

        return watched


def _declared(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length" and value.isdigit():
            return int(value)
    return None


def _has_body(scope: Scope) -> bool:
    names = {key for key, _ in scope.get("headers", [])}
    return b"transfer-encoding" in names or (_declared(scope) or 0) > 0


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is over limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away: the app will see no body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _counted(receive: Receive, limit: int) -> Receive:
    """receive, refusing a body that grows over limit as it is sent (a chunked body
    declares no length)."""
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise TooLarge(f"the body is over the {limit} byte limit")
        return message

    return counted
