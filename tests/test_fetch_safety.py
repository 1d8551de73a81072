"""What a fetch may reach, and what a response may cost.

Every test here talks to a real server on 127.0.0.1 only. Names are answered by
an injected resolver, and connections go through an injected network that maps
each (address, port) asked for onto a local server and records what was asked:
a refused address is never connected to, and an address that is allowed is
reached on the loopback interface in its stead. No packet leaves the machine.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import tracemalloc
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpcore
import pytest

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.discover import discover_feed
from knowflow.seek.guard import why_not
from knowflow.seek.http import Client, FetchError, Response, shown
from knowflow.seek.update import update

from .conftest import cli_in
from .feedserver import FeedServer, run_server
from .test_update import rss


class Loopback(httpcore.AsyncNetworkBackend):
    """A network where each (host, port) in ``ports`` is a server on 127.0.0.1."""

    def __init__(self, ports: dict[tuple[str, int], int]) -> None:
        self.ports = ports
        self.asked: list[tuple[str, int]] = []
        self.real = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append((host, port))
        if (host, port) not in self.ports:
            raise httpcore.ConnectError(f"nothing at {host}:{port} on the test network")
        return await self.real.connect_tcp("127.0.0.1", self.ports[host, port], timeout)

    async def sleep(self, seconds: float) -> None:
        await self.real.sleep(seconds)


class Dns:
    """Answers from a table; a list of answers is given out one call after another."""

    def __init__(self, table: dict[str, list[list[str]]]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answers = self.table.get(host)
        if not answers:
            raise OSError(f"{host}: no such name on the test network")
        return answers.pop(0) if len(answers) > 1 else answers[0]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from run_server()


@pytest.fixture
def other() -> Iterator[FeedServer]:
    yield from run_server()


def fetch(client: Client, url: str, chosen: bool = True) -> Response:
    async def run() -> Response:
        async with client:
            return await client.get(url, chosen=chosen)

    return asyncio.run(run())


def refusal(client: Client, url: str) -> str:
    with pytest.raises(FetchError) as caught:
        fetch(client, url)
    return str(caught.value)


PUBLIC = "93.184.216.34"  # a public address; the test network maps it onto a local server


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("http://10.0.0.1/feed", "10.0.0.1 is a private address"),
        ("http://172.16.5.4/", "172.16.5.4 is a private address"),
        ("http://192.168.1.1/admin", "192.168.1.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("http://[fd00::1]/", "fd00::1 is a unique-local address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[::1]:{port}/feed", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/feed", "is a loopback address"),
        ("http://0.0.0.0:{port}/feed", "0.0.0.0 is the unspecified address"),
        ("http://localhost:{port}/feed", "localhost is at 127.0.0.1, a loopback address"),
        ("http://metadata.test/computeMetadata/", "metadata.test is at 169.254.169.254"),
        ("http://intranet.test/", "intranet.test is at 10.20.30.40, a private address"),
    ],
)
def test_redirects_to_private_networks_are_refused_naming_the_address(
    server: FeedServer, target: str, expected: str
) -> None:
    target = target.format(port=server.port)
    server.serve("/feed", status=302, Location=target)
    dns = Dns(
        {
            "localhost": [["127.0.0.1"]],
            "metadata.test": [["169.254.169.254"]],
            "intranet.test": [["10.20.30.40"]],
        }
    )
    network = Loopback({("127.0.0.1", server.port): server.port})
    message = refusal(Client(resolver=dns, network=network), server.url("/feed"))
    assert message.startswith(f"redirect to {target} refused: ") and expected in message
    assert network.asked == [("127.0.0.1", server.port)]  # the source only: nothing else


def test_the_loopback_server_of_another_port_is_refused_unless_the_person_added_it(
    server: FeedServer, other: FeedServer, tmp_path: Path
) -> None:
    server.serve("/feed", status=301, Location=other.url("/feed"))
    other.serve("/feed", body=rss(("a", "Elsewhere")))
    conn = open_state(Vault.init(tmp_path / "v"))
    sources = Sources(conn)
    sources.add(server.url("/feed"), name="Mine")
    report = update(conn, sources.list())
    assert report.results[0].error == (
        f"redirect to {other.url('/feed')} refused: 127.0.0.1 is a loopback address"
    )
    assert other.requests == []
    assert sources.get("Mine").url == server.url("/feed")  # a refused redirect moves nothing
    sources.add(other.url("/other-feed"), name="Also mine")  # now the person named that host
    conn.execute("UPDATE sources SET next_fetch = NULL")
    report = update(conn, [sources.get("Mine")])
    assert report.results[0].status == "updated" and report.added == 1


def test_an_intranet_source_is_allowed_on_its_own_host_and_port_only(
    server: FeedServer, other: FeedServer, tmp_path: Path
) -> None:
    server.serve("/feed", body=rss(("a", "Intranet news")))
    server.serve("/to-port", status=302, Location="http://intranet.test:81/feed")
    server.serve("/to-address", status=302, Location="http://10.20.30.40/feed")
    server.serve("/to-name", status=302, Location="http://wiki.test/feed")
    server.serve("/to-itself", status=302, Location="/feed")
    dns = Dns({"intranet.test": [["10.20.30.40"]], "wiki.test": [["10.20.30.41"]]})
    network = Loopback(
        {
            ("intranet.test", 80): server.port,
            ("intranet.test", 81): other.port,
            ("10.20.30.40", 80): server.port,
            ("10.20.30.41", 80): server.port,
        }
    )
    conn = open_state(Vault.init(tmp_path / "v"))
    sources = Sources(conn)
    for path in ("/feed", "/to-port", "/to-address", "/to-name", "/to-itself"):
        sources.add(f"http://intranet.test{path}", name=path.strip("/"))
    report = update(conn, sources.list(), client=Client(resolver=dns, network=network))
    errors = {r.name: r.error for r in report.results}
    assert errors == {
        "feed": None,
        "to-itself": None,
        "to-port": "redirect to http://intranet.test:81/feed refused:"
        " intranet.test is at 10.20.30.40, a private address",
        "to-address": "redirect to http://10.20.30.40/feed refused:"
        " 10.20.30.40 is a private address",
        "to-name": "redirect to http://wiki.test/feed refused:"
        " wiki.test is at 10.20.30.41, a private address",
    }
    assert ("intranet.test", 81) not in network.asked and ("10.20.30.40", 80) not in network.asked
    assert other.requests == []


def test_a_public_name_is_connected_to_at_the_address_that_was_checked(
    server: FeedServer,
) -> None:
    """DNS rebinding: a name answers with a public address, then a private one. The
    name is resolved once per connection and the connection goes to the address
    checked, so the second answer is never used; asked first, it is refused."""
    server.serve("/feed", status=302, Location="http://rebind.test/feed.xml")
    server.serve("/feed.xml", body=rss(("a", "Fine")))
    dns = Dns({"rebind.test": [[PUBLIC], ["127.0.0.1"]]})
    network = Loopback({("127.0.0.1", server.port): server.port, (PUBLIC, 80): server.port})
    response = fetch(Client(resolver=dns, network=network), server.url("/feed"))
    assert response.status == 200 and b"Fine" in response.body
    assert dns.asked == ["rebind.test"]
    assert network.asked == [("127.0.0.1", server.port), (PUBLIC, 80)]  # never the name
    # A new client connects anew: the name now answers with loopback, and is refused.
    message = refusal(Client(resolver=dns, network=network), server.url("/feed"))
    assert message.endswith("refused: rebind.test is at 127.0.0.1, a loopback address")
    # An answer mixing public and private addresses is refused whole.
    mixed = Dns({"rebind.test": [[PUBLIC, "10.0.0.9"]]})
    message = refusal(Client(resolver=mixed, network=network), server.url("/feed"))
    assert message.endswith("rebind.test is at 10.0.0.9, a private address")


def test_an_address_not_chosen_is_checked_even_when_fetched_first(server: FeedServer) -> None:
    server.serve("/page", body=b"<html>hello</html>")
    network = Loopback({("127.0.0.1", server.port): server.port})
    with pytest.raises(FetchError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        fetch(Client(network=network), server.url("/page"), chosen=False)
    assert network.asked == [] and server.requests == []
    assert fetch(Client(network=network), server.url("/page")).status == 200


def test_a_feed_a_page_announces_on_a_private_address_is_refused(
    server: FeedServer, tmp_path: Path
) -> None:
    def page(feed: str) -> bytes:
        return (
            f'<html><head><link rel="alternate" type="application/rss+xml" href="{feed}">'.encode()
        )

    server.serve("/own", body=page("/feed.xml"), Content_Type="text/html")
    server.serve("/metadata", body=page("http://169.254.169.254/feed"), Content_Type="text/html")
    server.serve("/named", body=page("http://router.test/rss"), Content_Type="text/html")
    server.serve("/public", body=page("http://blog.test/rss"), Content_Type="text/html")
    dns = Dns({"router.test": [["192.168.0.1"]], "blog.test": [[PUBLIC]]})
    assert discover_feed(server.url("/own"), Client(resolver=dns)) == (server.url("/feed.xml"), "")
    with pytest.raises(FetchError, match=r"router\.test is at 192\.168\.0\.1, a private address"):
        discover_feed(server.url("/named"), Client(resolver=dns))
    assert discover_feed(server.url("/public"), Client(resolver=dns)) == (
        "http://blog.test/rss",
        "",
    )
    root = tmp_path / "v"
    Vault.init(root)
    out = cli_in(root)("source", "add", server.url("/metadata"), code=1)
    assert "http://169.254.169.254/feed refused: 169.254.169.254 is a link-local address" in out
    assert Sources(open_state(Vault(root))).list() == []


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("file:///etc/passwd", "redirect to file:///etc/passwd refused: only http(s)"),
        ("javascript:alert(1)", "redirect to javascript:alert(1) refused: only http(s)"),
        ("ftp://e.org/feed", "redirect to ftp://e.org/feed refused: only http(s)"),
        ("gopher://e.org:70/", "redirect to gopher://e.org:70/ refused: only http(s)"),
        ("http://[::1/feed", "redirect to http://[::1/feed refused: not a valid address"),
        ("http://:80/feed", "redirect to http://:80/feed refused: not a valid address"),
    ],
)
def test_redirect_errors_name_the_target(server: FeedServer, location: str, message: str) -> None:
    server.serve("/feed", status=302, Location=location)
    assert refusal(Client(), server.url("/feed")).startswith(message)


def test_addresses_from_servers_are_shown_harmless() -> None:
    assert shown("http://e.org/\x1b[31mred\x07") == "http://e.org/\\x1b[31mred\\x07"
    assert shown("http://e.org/" + "a" * 5000).endswith("a...")
    assert len(shown("http://e.org/" + "a" * 5000)) == 203
    assert why_not(PUBLIC) is None and why_not("8.8.8.8") is None
    assert why_not("100.64.0.1") == "not a public address"  # shared address space


def bomb(inflated: int, wrap: str = "gzip") -> bytes:
    """Zeros compressed: about a thousandth of ``inflated`` bytes."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw": -zlib.MAX_WBITS}
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits[wrap])
    block = bytes(1 << 20)
    return b"".join(packer.compress(block) for _ in range(inflated >> 20)) + packer.flush()


def test_a_gzip_bomb_is_stopped_at_the_limit_while_it_streams(server: FeedServer) -> None:
    body = bomb(300 << 20)  # 300 MB of zeros in about 300 kB
    server.serve("/bomb", body=body, Content_Encoding="gzip")

    async def one(client: Client, url: str) -> str:
        try:
            return str(await client.get(url))
        except FetchError as exc:
            return str(exc)  # as an update keeps it: words, not the frames of the failure

    async def twenty_at_once(client: Client) -> list[str]:
        async with client:
            urls = [server.url("/bomb") + f"?{n}" for n in range(20)]
            return await asyncio.gather(*(one(client, url) for url in urls))

    server.routes.update({f"/bomb?{n}": server.routes["/bomb"] for n in range(20)})
    tracemalloc.start()
    try:
        outcomes = asyncio.run(twenty_at_once(Client(max_bytes=2 << 20, per_host=20)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert set(outcomes) == {"response is over the 2097152 byte limit once decompressed"}
    # Twenty bombs streaming at once cost a few hundred kB each (a chunk as read, zlib's
    # window, a piece measured), not their limit each (40 MB) nor what a chunk inflates
    # to (httpx: 64 kB -> 64 MB): each is kept compressed and measured a piece at a time.
    assert peak < 12 << 20, f"{peak / 2**20:.1f} MB"
    # Within the limit, every coding httpx undid is undone, stacked ones too.
    feed = rss(("a", "Zipped"))
    server.serve("/gzip", body=gzip.compress(feed), Content_Encoding="gzip")
    server.serve("/deflate", body=zlib.compress(feed), Content_Encoding="deflate")
    server.serve("/raw", body=zlib.compress(feed, wbits=-15), Content_Encoding="deflate")
    server.serve(
        "/twice", body=zlib.compress(gzip.compress(feed)), Content_Encoding="gzip, deflate"
    )
    server.serve("/identity", body=feed, Content_Encoding="identity")
    for path in ("/gzip", "/deflate", "/raw", "/twice", "/identity"):
        assert fetch(Client(), server.url(path)).body == feed, path
    server.serve("/corrupt", body=b"\x1f\x8b\x08\x00garbage" * 10, Content_Encoding="gzip")
    with pytest.raises(FetchError, match="the gzip body cannot be decompressed"):
        fetch(Client(), server.url("/corrupt"))
    server.serve("/big", body=gzip.compress(bytes(2 << 20)), Content_Encoding="gzip")
    with pytest.raises(FetchError, match="once decompressed"):
        fetch(Client(max_bytes=(2 << 20) - 1), server.url("/big"))
    assert len(fetch(Client(max_bytes=2 << 20), server.url("/big")).body) == 2 << 20


def test_keep_full_fetches_a_private_link_only_on_the_sources_own_host(
    server: FeedServer, other: FeedServer, tmp_path: Path
) -> None:
    page = b"<html><body><article><p>" + b"Words of the intranet page. " * 20 + b"</p></article>"
    server.serve("/own-page", body=page, Content_Type="text/html")
    other.serve("/secret", body=page, Content_Type="text/html")
    items = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid><title>{guid}</title>'
        f"<link>{link}</link><description>teaser</description></item>"
        for guid, link in (("own", server.url("/own-page")), ("elsewhere", other.url("/secret")))
    )
    server.serve("/feed", body=f'<rss version="2.0"><channel>{items}</channel></rss>'.encode())
    root = tmp_path / "v"
    Vault.init(root)
    run = cli_in(root, strip=True)
    run("source", "add", server.url("/feed"), "--name", "Intranet", "--no-discover")
    run("update")
    ids = {e["title"]: e["id"] for e in json.loads(run("stream", "--json"))}
    assert "intranet page" in (root / run("keep", str(ids["own"]), "--full")).read_text()
    out = run("keep", str(ids["elsewhere"]), "--full", code=1)
    assert f"could not fetch {other.url('/secret')}: {other.url('/secret')} refused:" in out
    assert "127.0.0.1 is a loopback address" in out and other.requests == []


def test_inflating_in_any_chunking_and_past_the_end() -> None:
    from knowflow.seek.inflate import Inflater, TooLarge

    text = rss(("a", "Inflated")) * 50

    def through(coding: str, body: bytes, step: int, limit: int = 1 << 20) -> bytes:
        inflater = Inflater(coding, limit)
        for at in range(0, len(body), step):
            inflater.feed(body[at : at + step])
        return inflater.finish()

    bodies = {
        "gzip": gzip.compress(text),
        "deflate": zlib.compress(text),
        "x-gzip": gzip.compress(text),
        "br": text,  # not asked for: passed through, as httpx passes what it cannot undo
        "": text,
    }
    for coding, body in bodies.items():
        for step in (1, 7, 4096, len(body)):
            assert through(coding, body, step) == text, (coding, step)
    bare = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw = bare.compress(text) + bare.flush()
    for step in (1, 2, 3, 4096):
        assert through("deflate", raw, step) == text, step
    # What follows the end of the stream is not read, nor kept by zlib.
    inflater = Inflater("gzip", 1 << 20)
    inflater.feed(gzip.compress(text))
    for _ in range(50):
        inflater.feed(b"x" * 4096)
    assert all(len(step.measure.unused_data) == 0 for step in inflater.steps)
    # Two codings: neither the inner stream nor what it inflates to may pass the limit.
    with pytest.raises(TooLarge):
        through("gzip, gzip", gzip.compress(gzip.compress(bytes(5 << 20))), 4096)
    noise = os.urandom(2 << 20)  # does not compress: the stage in between is 2 MB
    with pytest.raises(TooLarge):
        through("deflate, gzip", gzip.compress(zlib.compress(noise)), 65536)
