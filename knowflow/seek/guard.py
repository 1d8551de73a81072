"""Which addresses a fetch may reach: no private network unless the person chose it.

A feed, a redirect or a web page can name any address, the person's own network
included: a router's admin page, a printer, a cloud's metadata service at
169.254.169.254. knowflow connects to a loopback, private, link-local or
unique-local address only on a host the person named themselves (a source they
added, an address they typed), and only on that host and port.

The check is made on the address a name resolves to, when connecting, and the
connection goes to that very address: checking the name first and letting the
connection resolve it again would let a name answer with a public address for
the check and a private one a moment later (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

# How a test replaces DNS: (host, port) -> the addresses, as strings.
Resolver = Callable[[str, int], Awaitable[list[str]]]
Origin = tuple[str, int]

_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


class Refused(Exception):
    """An address knowflow will not connect to; the message names it and why."""


def origin(url: str) -> Origin | None:
    """(host, port) as httpx connects to them, or None for a URL that is not http(s)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return None
    if not host.isascii():  # as httpx writes it: IDNA (done by httpx, the slower way)
        try:
            host = httpx.URL(url).raw_host.decode("ascii").lower()
        except httpx.InvalidURL:
            return None
    return host, port or (443 if parts.scheme == "https" else 80)


def why_not(address: str) -> str | None:
    """What keeps an IP address from being fetched unasked ("a private address"),
    or None for a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 reaches 10.0.0.1
    if ip.is_unspecified:
        return "the unspecified address, which reaches this machine"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip in _UNIQUE_LOCAL:
        return "a unique-local address"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast or not ip.is_global:  # shared (CGNAT), reserved, documentation
        return "not a public address"
    return None


def literal(host: str) -> bool:
    """Whether ``host`` is an IP address written out rather than a name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for host, in its order of preference."""
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for *_, sockaddr in found:
        address = str(sockaddr[0]).split("%")[0]
        if address not in addresses:
            addresses.append(address)
    return addresses


class Guard(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to addresses a fetch may reach.

    ``chosen`` holds the (host, port) origins the person named; it is shared with
    the client that fills it. ``resolver`` and ``network`` (the backend that makes
    the connection) are for tests: a test resolves names to any address it likes
    and maps them onto its server on 127.0.0.1, so no traffic leaves the machine.
    """

    def __init__(
        self,
        chosen: set[Origin],
        resolver: Resolver | None = None,
        network: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.chosen = chosen
        self.resolver = resolver or system_resolver
        self.network = network or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if (host.lower(), port) in self.chosen:
            return await self.network.connect_tcp(
                host, port, timeout, local_address, socket_options
            )
        failure: Exception | None = None
        for address in await self.addresses(host, port, timeout):
            try:
                return await self.network.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address may answer, as happy eyeballs would try
        assert failure is not None
        raise failure

    async def addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        """Where host is, each address checked; raises Refused naming a forbidden one."""
        if literal(host):
            why = why_not(host)
            if why:
                raise Refused(f"{host} is {why}")
            return [host]
        try:
            async with asyncio.timeout(timeout):
                found = await self.resolver(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"{host}: no address within {timeout:g} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc.strerror or exc}") from None
        if not found:
            raise httpcore.ConnectError(f"{host}: no address found")
        for address in found:
            # Any private answer refuses the name: an answer that mixes public and
            # private addresses is how rebinding attacks are usually served.
            why = why_not(address)
            if why:
                raise Refused(f"{host} is at {address}, {why}")
        return found

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise Refused(f"a local socket ({path})")

    async def sleep(self, seconds: float) -> None:
        await self.network.sleep(seconds)


def guarded_transport(
    tls: ssl.SSLContext, limits: httpx.Limits, guard: Guard
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport over a pool whose connections go through ``guard``.

    httpx does not take a network backend itself; its pool does, so the pool is
    replaced by one built the same way with the guard under it."""
    transport = httpx.AsyncHTTPTransport(verify=tls, limits=limits, trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=tls,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=guard,
    )
    return transport


def origins(urls: Iterable[str]) -> set[Origin]:
    """The origins of these addresses, those that have one."""
    return {o for o in map(origin, urls) if o is not None}
