"""The one HTTP client of knowflow: every request to the network goes through here.

It is built on httpx, whose transports can be swapped: tests pass a
``httpx.MockTransport`` or point it at a server on 127.0.0.1. It follows at most
five redirects itself (so permanent ones can be remembered, and each target
checked), caps how many bytes a response may have, before and after
decompression, asks conditionally (ETag, Last-Modified), accepts gzip, and
keeps to a few connections per host. It reaches a private network only on a
host the person chose (see ``knowflow.seek.guard``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import httpcore
import httpx

from knowflow.seek.guard import (
    Guard,
    Origin,
    Refused,
    Resolver,
    guarded_transport,
    origin,
    origins,
)
from knowflow.seek.inflate import Inflater, TooLarge, Undecodable

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
    """An HTTP client with per-host limits; use ``async with Client() as client``.

    ``chosen`` are addresses the person named (the sources they added): their hosts
    may be on a private network, as may the address of each ``get`` unless
    ``named_only`` (for a client fetching links found in feeds). ``resolver`` and
    ``network`` replace DNS and the connections in tests (see
    ``knowflow.seek.guard.Guard``)."""

    transport: httpx.AsyncBaseTransport | None = None
    timeout: float = 15.0  # for connecting, and between any two reads
    deadline: float = 60.0  # for a whole response: a server trickling bytes is cut off
    max_bytes: int = MAX_BYTES
    per_host: int = 2
    chosen: Iterable[str] = ()
    named_only: bool = False
    resolver: Resolver | None = None
    network: httpcore.AsyncNetworkBackend | None = None
    _open: bool = field(default=False, init=False)
    _tls: ssl.SSLContext | None = field(default=None, init=False)
    _clients: dict[str, httpx.AsyncClient] = field(default_factory=dict, init=False)
    _hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict, init=False)
    _chosen: set[Origin] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.choose(self.chosen)

    def choose(self, urls: Iterable[str]) -> None:
        """Let these addresses' hosts (each on its port) be private ones: the person
        named them. Redirects and discovered addresses must not be passed here."""
        self._chosen.update(origins(urls))

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
            limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
            guard = Guard(self._chosen, self.resolver, self.network)
            client = self._clients[key] = _OwnRedirects(
                transport=self.transport or guarded_transport(self._tls, limits, guard),
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,
                headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate"},
            )
        return client

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        chosen: bool = True,
    ) -> Response:
        """GET url, following redirects; raises FetchError on any failure.

        ``chosen``: the person named url (typed it, or added it as a source), so its
        host may be a private one; an address found in a page or a feed is not."""
        if chosen and not self.named_only:
            self.choose([url])
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        permanent = True
        seen = [url]
        for hop in range(MAX_REDIRECTS + 1):
            try:
                response = await self._one(url, headers)
            except Refused as exc:
                what = f"redirect to {shown(url)}" if hop else shown(url)
                raise FetchError(f"{what} refused: {exc}") from None
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
            url = _redirect_target(url, location)
            if url in seen:
                raise FetchError(f"redirect loop through {shown(url)}")
            seen.append(url)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    async def vet(self, url: str) -> None:
        """Raise FetchError unless a fetch may reach url: a web address on a host the
        person chose, or whose name leads to public addresses only. For an address
        found on a page and kept rather than fetched now (a feed a page announces)."""
        where = origin(url)
        if where is None:
            raise FetchError(f"{shown(url)} refused: only http(s) addresses are followed")
        if where in self._chosen:
            return
        guard = Guard(self._chosen, self.resolver, self.network)
        try:
            await guard.addresses(*where, self.timeout)
        except Refused as exc:
            raise FetchError(f"{shown(url)} refused: {exc}") from None
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            raise FetchError(f"could not find {shown(url)}: {exc}") from None

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
            except httpx.InvalidURL:
                raise FetchError(f"{shown(url)} is not a valid address") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"network error: {_reason(exc)}") from None

    async def _body(self, reply: httpx.Response) -> bytes:
        """The body, neither as sent nor decompressed over ``max_bytes``; a gzip bomb is
        refused as it streams in, at the cost of the limit at most (see
        ``knowflow.seek.inflate``)."""
        length = reply.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_bytes:
            raise FetchError(f"response of {int(length)} bytes is over the {self.max_bytes} limit")
        body = Inflater(reply.headers.get("content-encoding", ""), self.max_bytes)
        received = 0
        try:
            async for chunk in reply.aiter_raw():
                received += len(chunk)
                if received > self.max_bytes:
                    raise FetchError(f"response is over the {self.max_bytes} byte limit")
                body.feed(chunk)
            return body.finish()
        except (TooLarge, Undecodable) as exc:
            problem = str(exc)
        # Raised out here, so the error does not carry the first one along (with the
        # frames, and the pieces of body, its traceback holds) as its context.
        raise FetchError(problem)


class _OwnRedirects(httpx.AsyncClient):
    """httpx's client without its reading of a redirect's Location: knowflow follows
    redirects itself, checking each target (``_redirect_target``), while httpx's
    reading raises on a Location such as ``javascript:x`` before the response is
    seen, with a message that does not name it."""

    def _build_redirect_request(
        self, request: httpx.Request, response: httpx.Response
    ) -> httpx.Request:
        return request


def _redirect_target(url: str, location: str) -> str:
    """Where a redirect leads, refused unless it is a web address."""
    try:
        target = urljoin(url, location.strip())
    except ValueError:
        raise FetchError(f"redirect to {shown(location)} refused: not a valid address") from None
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https"):
        raise FetchError(
            f"redirect to {shown(target)} refused: only http(s) addresses are followed"
        )
    try:
        if not httpx.URL(target).host:
            raise httpx.InvalidURL("no host")
    except httpx.InvalidURL:
        raise FetchError(f"redirect to {shown(target)} refused: not a valid address") from None
    return target


def shown(url: str, most: int = 200) -> str:
    """An address from a server, safe to print: control characters escaped, and cut
    short (a Location header can be kilobytes of anything)."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in url[: most + 1])
    return text if len(url) <= most else text[:most] + "..."


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__
