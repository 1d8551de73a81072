"""The one HTTP client of knowflow: every request to the network goes through here.

It is built on httpx, whose transports can be swapped: tests pass a
``httpx.MockTransport`` or point it at a server on 127.0.0.1. It follows at most
five redirects itself (so permanent ones can be remembered), caps how many
bytes a response may have, asks conditionally (ETag, Last-Modified), accepts
gzip, and keeps to a few connections per host.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import httpx

MAX_REDIRECTS = 5
MAX_BYTES = 10 * 1024 * 1024
USER_AGENT = "knowflow/0.1 (+personal knowledge mastery; feed reader)"


class FetchError(Exception):
    """A request that failed; the message says why in words a person understands."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[object, ...]:
        # So that it crosses from a worker process intact (see knowflow.seek.fanout).
        return (_fetch_error, (str(self), self.status, self.retry_after))


def _fetch_error(message: str, status: int | None, retry_after: float | None) -> FetchError:
    return FetchError(message, status=status, retry_after=retry_after)


@dataclass
class Response:
    """What came back: the final address, status, headers and body."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes = b""
    moved_to: str | None = None  # set when every redirect on the way was permanent
    parsed: Any = None  # the parsed feed, once parsed (see knowflow.seek.update)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Client:
    """An HTTP client with per-host limits; use ``async with Client() as client``."""

    transport: httpx.AsyncBaseTransport | None = None
    timeout: float = 15.0  # for connecting, and between any two reads
    deadline: float = 60.0  # for a whole response: a server trickling bytes is cut off
    max_bytes: int = MAX_BYTES
    per_host: int = 2
    _open: bool = field(default=False, init=False)
    _tls: ssl.SSLContext | None = field(default=None, init=False)
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict, init=False)
    _hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict, init=False)

    async def __aenter__(self) -> Client:
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()

    def _client_for(self, host: str) -> httpx.AsyncClient:
        """One connection pool per host: httpx's pool scans every connection it holds on
        each request, which grows costly with hundreds of sites in one pool. A transport
        given by a test is shared, so it gets one client."""
        key = "" if self.transport is not None else host
        client = self._clients.get(key)
        if client is None:
            if self._tls is None:  # loading the CA store takes ~30 ms: once, not per host
                self._tls = ssl.create_default_context(cafile=certifi.where())
            client = self._clients[key] = httpx.AsyncClient(
                transport=self.transport,
                verify=self._tls,
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
            )
        return client

    async def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Response:
        """GET url, following redirects; raises FetchError on any failure."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        permanent = True
        seen = [url]
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._one(url, headers)
            if response.status not in (301, 302, 303, 307, 308):
                if len(seen) > 1 and permanent:
                    response.moved_to = url
                return response
            location = response.headers.get("location")
            if not location:
                raise FetchError(
                    f"redirect ({response.status}) without a Location", status=response.status
                )
            permanent = permanent and response.status in (301, 308)
            url = urljoin(url, location)
            if url in seen:
                raise FetchError(f"redirect loop through {url}")
            seen.append(url)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    async def _one(self, url: str, headers: dict[str, str]) -> Response:
        if not self._open:
            raise RuntimeError("use the client inside 'async with'")
        host = urlsplit(url).netloc
        limit = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with limit:
            try:
                async with asyncio.timeout(self.deadline):
                    async with self._client_for(host).stream("GET", url, headers=headers) as reply:
                        body = await self._body(reply)
                        return Response(
                            str(reply.url), reply.status_code, dict(reply.headers), body
                        )
            except TimeoutError:
                raise FetchError(f"no complete answer within {self.deadline:g} s") from None
            except httpx.TimeoutException:
                raise FetchError(f"no answer within {self.timeout:g} s") from None
            except httpx.ConnectError as exc:
                raise FetchError(f"could not connect: {_reason(exc)}") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"network error: {_reason(exc)}") from None

    async def _body(self, reply: httpx.Response) -> bytes:
        length = reply.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(f"response of {int(length)} bytes is over the {self.max_bytes} limit")
        chunks, size = [], 0
        async for chunk in reply.aiter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"response is over the {self.max_bytes} byte limit")
            chunks.append(chunk)
        return b"".join(chunks)


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
