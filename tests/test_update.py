"""Fetching sources from a real HTTP server on 127.0.0.1, and storing the stream."""

from __future__ import annotations

import gzip
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from knowflow import Vault
from knowflow.cli import cli
from knowflow.seek import Sources, open_state
from knowflow.seek.http import Client
from knowflow.seek.update import due, update

from .conftest import cli_in
from .feedserver import FeedServer, run_server


def rss(*items: tuple[str, str], title: str = "Feed") -> bytes:
    body = "".join(
        f'<item><guid isPermaLink="false">{guid}</guid>'
        f"<title>{text}</title><link>http://e.org/{guid}</link>"
        f"<description>{text} body</description></item>"
        for guid, text in items
    )
    channel = f"<channel><title>{title}</title>{body}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from run_server()


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return open_state(Vault.init(tmp_path / "v"))


def entries(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return conn.execute("SELECT guid, title, state FROM entries ORDER BY guid").fetchall()


def test_update_stores_then_asks_conditionally(
    server: FeedServer, conn: sqlite3.Connection
) -> None:
    server.serve(
        "/feed",
        body=rss(("a", "One"), ("b", "Two")),
        ETag='"v1"',
        Content_Type="application/rss+xml",
    )
    sources = Sources(conn)
    sources.add(server.url("/feed"), name="F")
    report = update(conn, sources.list())
    assert report.added == 2 and entries(conn) == [("a", "One", "new"), ("b", "Two", "new")]

    def conditional(request: object) -> tuple[int, dict[str, str], bytes]:
        assert request.headers.get("if-none-match") == '"v1"'  # type: ignore[attr-defined]
        return 304, {}, b""

    server.routes["/feed"] = conditional
    report = update(conn, sources.list())
    assert report.results[0].status == "not-modified" and report.added == 0
    assert sources.get("F").failures == 0


def test_changed_entries_update_in_place_keeping_state(
    server: FeedServer, conn: sqlite3.Connection
) -> None:
    server.serve("/feed", body=rss(("a", "One")))
    sources = Sources(conn)
    sources.add(server.url("/feed"), name="F")
    update(conn, sources.list())
    conn.execute("UPDATE entries SET state = 'kept'")
    server.serve("/feed", body=rss(("a", "One, revised"), ("c", "Three")))
    report = update(conn, sources.list())
    assert (report.added, report.results[0].updated) == (1, 1)
    assert entries(conn) == [("a", "One, revised", "kept"), ("c", "Three", "new")]


def test_gzip_and_permanent_redirect(server: FeedServer, conn: sqlite3.Connection) -> None:
    server.serve("/old", status=301, Location="/middle")
    server.serve("/middle", status=308, Location="/new")
    server.serve("/new", body=gzip.compress(rss(("a", "Zipped"))), Content_Encoding="gzip")
    server.serve("/temp", status=302, Location="/new")
    sources = Sources(conn)
    sources.add(server.url("/old"), name="Moved")
    sources.add(server.url("/temp"), name="Temp")
    report = update(conn, sources.list())
    assert {r.name: r.status for r in report.results} == {"Moved": "updated", "Temp": "updated"}
    assert sources.get("Moved").url == server.url("/new")
    assert sources.get("Temp").url == server.url("/temp")  # a temporary redirect is not kept
    assert ("a", "Zipped", "new") in entries(conn)


def test_failures_are_explained_and_the_rest_completes(
    server: FeedServer, conn: sqlite3.Connection
) -> None:
    server.serve("/ok", body=rss(("a", "Fine")))
    server.serve("/gone", status=410)
    server.serve("/missing", status=404)
    server.serve("/busy", status=429, Retry_After="120")
    server.serve("/loop", status=301, Location="/loop2")
    server.serve("/loop2", status=301, Location="/loop")
    server.serve(
        "/html",
        body=b"<!doctype html><html><body><p>Hello</p></body></html>",
        Content_Type="text/html",
    )
    server.serve("/truncated", body=rss(("a", "x"))[:60])
    server.serve("/huge", body=b"x" * 200_000)
    server.serve("/slow", body=rss(("s", "Slow")), X_Slow="0.5")
    sources = Sources(conn)
    for path in (
        "/ok",
        "/gone",
        "/missing",
        "/busy",
        "/loop",
        "/html",
        "/truncated",
        "/huge",
        "/slow",
    ):
        sources.add(server.url(path), name=path.strip("/"))
    client = Client(timeout=1.0, deadline=2.0, max_bytes=100_000)
    report = update(conn, sources.list(), client=client)
    errors = {r.name: (r.status, r.error) for r in report.results}
    assert errors["ok"] == ("updated", None)
    assert errors["gone"][0] == "dead" and sources.get("gone").dead
    assert errors["missing"] == ("failed", "HTTP 404")
    assert errors["busy"] == ("failed", "server busy (HTTP 429)")
    assert "redirect loop" in str(errors["loop"][1])
    assert "not a feed" in str(errors["html"][1])
    assert "not a feed" in str(errors["truncated"][1])
    assert "limit" in str(errors["huge"][1])
    assert "no complete answer within 2 s" in str(errors["slow"][1])
    assert sources.get("missing").failures == 1 and sources.get("missing").last_error == "HTTP 404"
    # dead and waiting sources are not due; a plain failure is tried again
    assert sorted(s.name for s in due(sources.list(), conn)) == [
        "html",
        "huge",
        "loop",
        "missing",
        "ok",
        "slow",
        "truncated",
    ]
    update(conn, [sources.get("missing")])
    assert sources.get("missing").failures == 2
    assert [s.name for s in due([sources.get("missing")], conn)] == []  # backing off
    assert entries(conn) == [("a", "Fine", "new")]


def test_connection_failures_through_the_injectable_transport(conn: sqlite3.Connection) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    sources = Sources(conn)
    sources.add("http://feeds.invalid/rss", name="Nowhere")
    report = update(conn, sources.list(), client=Client(transport=httpx.MockTransport(refuse)))
    assert report.results[0].error == "could not connect: Name or service not known"


def test_tls_failure_against_a_plain_server(server: FeedServer, conn: sqlite3.Connection) -> None:
    sources = Sources(conn)
    sources.add(f"https://127.0.0.1:{server.port}/feed", name="TLS")
    report = update(conn, sources.list(), client=Client(timeout=2.0))
    assert report.results[0].status == "failed" and report.results[0].error


def test_update_command(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/feed", body=rss(("a", "One")))
    root = tmp_path / "v"
    Vault.init(root)
    runner = CliRunner()
    runner.invoke(
        cli,
        ["--vault", str(root), "source", "add", server.url("/feed"), "--name", "F"],
        catch_exceptions=False,
    )
    result = runner.invoke(cli, ["--vault", str(root), "update", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 1
    server.serve("/feed", status=500)
    result = runner.invoke(cli, ["--vault", str(root), "update", "F"], catch_exceptions=False)
    assert result.exit_code == 1 and "F: HTTP 500" in result.output
    actions = [a for (a,) in open_state(Vault(root)).execute("SELECT action FROM activity")]
    assert actions.count("source_fetched") == 2


PAGE = b"""<!doctype html><html><head><title>Blog</title>
<link rel="stylesheet" href="/style.css">
<link rel="alternate" type="application/atom+xml" title="Atom" href="/atom.xml">
<link rel="alternate" type="application/rss+xml" title="RSS" href="rss.xml">
</head><body>Hello</body></html>"""


def test_feed_discovery_from_a_page(server: FeedServer, tmp_path: Path) -> None:
    from knowflow.seek.discover import discover_feed, feed_links

    assert feed_links(PAGE.decode(), "https://e.org/blog/") == [
        ("https://e.org/atom.xml", "Atom"),
        ("https://e.org/blog/rss.xml", "RSS"),
    ]
    server.serve("/blog/", body=PAGE, Content_Type="text/html")
    server.serve("/atom.xml", body=rss(("a", "One"), title="The Blog"))
    server.serve("/plain", body=b"<html><body>no feed here</body></html>", Content_Type="text/html")
    # The feed's own title names it, not its link's ("Atom", "RSS" say nothing).
    assert discover_feed(server.url("/blog/")) == (server.url("/atom.xml"), "The Blog")
    assert discover_feed(server.url("/atom.xml")) == (server.url("/atom.xml"), "The Blog")
    root = tmp_path / "v"
    Vault.init(root)
    runner = CliRunner()
    out = runner.invoke(
        cli, ["--vault", str(root), "source", "add", server.url("/blog/")], catch_exceptions=False
    )
    assert (
        out.exit_code == 0
        and f"Following The Blog (network): {server.url('/atom.xml')}" in out.output
    )
    added = Sources(open_state(Vault(root))).get("The Blog")
    assert added.site_url == server.url("/blog/")
    # Two feeds of one site taken as they are: the second is named by host and path.
    for path in ("/one.xml", "/two.xml"):
        out = runner.invoke(
            cli, ["--vault", str(root), "source", "add", server.url(path), "--no-discover"]
        )
        assert out.exit_code == 0, out.output
    host = f"127.0.0.1:{server.port}"
    assert {s.name for s in Sources(open_state(Vault(root))).list()} >= {host, f"{host}/two.xml"}
    out = runner.invoke(
        cli, ["--vault", str(root), "source", "add", server.url("/plain")], catch_exceptions=False
    )
    assert out.exit_code == 1 and "no feed found" in out.output


ARTICLE = b"""<!doctype html><html><head><title>Why wikis fail | KM Blog</title>
<meta name="author" content="A. Writer">
<meta property="article:published_time" content="2026-10-14">
</head><body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
<article><h1>Why wikis fail</h1>
<p>Central wikis fail when nobody owns the pages and nobody is asked to feed them.
Knowledge lives in people's own practice, and it flows when they choose to share it.</p>
<p>Organisations that succeed start from personal knowledge mastery: seek, sense, share.
They harvest what members share, instead of asking for documents nobody reads.</p>
<ul><li>Own your notes</li><li>Share to inspire</li></ul>
</article><footer>Copyright footer text</footer></body></html>"""


def test_capture_keeps_the_main_text_once(server: FeedServer, tmp_path: Path) -> None:
    server.serve("/why-wikis-fail", body=ARTICLE, Content_Type="text/html; charset=utf-8")
    root = tmp_path / "v"
    Vault.init(root)

    run = cli_in(root, strip=True)

    url = server.url("/why-wikis-fail")
    path = run("capture", url, "--tag", "km", "--note", "For the wiki debate.")
    assert path.startswith("clippings/Why wikis fail")
    text = (root / path).read_text()
    assert "type: clipping" in text and "share: private" in text and f"url: {url}" in text
    assert "nobody owns the pages" in text and "- Own your notes" in text
    assert "Copyright footer" not in text and "About" not in text
    assert text.index("For the wiki debate.") < text.index("nobody owns")
    assert text.count("Why wikis fail\n") == 1  # the page's own h1 is the note's heading
    assert run("capture", url) == path  # captured before: the same note
    assert len(list((root / "clippings").iterdir())) == 1
    server.serve("/broken", status=500)
    assert "could not fetch" in run("capture", server.url("/broken"), code=1)


def test_keep_full_fetches_the_linked_page(server: FeedServer, tmp_path: Path) -> None:
    article = server.url("/why-wikis-fail")
    server.serve("/why-wikis-fail", body=ARTICLE, Content_Type="text/html")
    item = (
        f'<item><guid isPermaLink="false">w1</guid><title>Why wikis fail</title>'
        f"<link>{article}</link><description>Only a teaser.</description></item>"
    )
    server.serve(
        "/feed",
        body=f'<rss version="2.0"><channel><title>KM</title>{item}</channel></rss>'.encode(),
    )
    root = tmp_path / "v"
    Vault.init(root)

    run = cli_in(root, strip=True)

    run("source", "add", server.url("/feed"), "--name", "KM")
    run("update")
    entry_id = json.loads(run("stream", "--json"))[0]["id"]
    note = root / run("keep", str(entry_id), "--full")
    text = note.read_text()
    assert "nobody owns the pages" in text and "Only a teaser." not in text


def test_many_sources_are_parsed_in_workers(server: FeedServer, conn: sqlite3.Connection) -> None:
    from knowflow.seek.update import PARALLEL_FROM

    sources = Sources(conn)
    for n in range(PARALLEL_FROM + 5):
        server.serve(f"/f{n}", body=rss((f"e{n}", f"Entry {n}")))
        sources.add(server.url(f"/f{n}"), name=f"F{n}")
    server.serve("/f0", body=b"<html>not a feed</html>", Content_Type="text/html")
    report = update(conn, sources.list())
    assert report.added == PARALLEL_FROM + 4
    assert [r.name for r in report.failed] == ["F0"]
    assert conn.execute("SELECT count(*) FROM entries_fts").fetchone()[0] == PARALLEL_FROM + 4


def test_large_updates_share_sites_out_among_worker_processes(
    server: FeedServer, conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowflow.seek import fanout
    from knowflow.seek.update import PARALLEL_FROM

    if not fanout.can_fan_out():
        pytest.skip("no fork here")
    sources = Sources(conn)
    for n in range(PARALLEL_FROM):
        server.serve(f"/w{n}", body=rss((f"w{n}", f"Entry {n}")), ETag=f'"v{n}"')
        sources.add(server.url(f"/w{n}"), name=f"W{n}")
    sources.add("http://127.0.0.1:1/closed", name="Closed")
    seen: list[tuple[int, int]] = []
    report = update(conn, sources.list(), progress=lambda done, total: seen.append((done, total)))
    assert report.added == PARALLEL_FROM and seen[-1] == (PARALLEL_FROM + 1, PARALLEL_FROM + 1)
    (closed,) = report.failed
    assert closed.name == "Closed" and "could not connect" in (closed.error or "")
    server.requests.clear()
    again = update(conn, [s for s in sources.list() if s.name != "Closed"])
    assert again.added == 0  # the same entries again: nothing new
    asked = {r.path: r.headers.get("if-none-match") for r in server.requests}
    assert asked == {f"/w{n}": f'"v{n}"' for n in range(PARALLEL_FROM)}  # ETags went both ways

    # A worker that dies leaves its sources (here: all, one site) failed, with the
    # reason; nothing stored before is lost, and the next update fetches them.
    real = fanout._fetch_all

    async def dies_on_w3(requests: list[fanout.Request], writer: object, chosen: list[str]) -> None:
        if any(r.url.endswith("/w3") for r in requests):
            os._exit(1)
        await real(requests, writer, chosen)  # type: ignore[arg-type]

    monkeypatch.setattr(fanout, "_fetch_all", dies_on_w3)
    for n in range(PARALLEL_FROM):
        server.serve(f"/w{n}", body=rss((f"w{n}", f"Entry {n}"), (f"x{n}", "New")))
    third = update(conn, [s for s in sources.list() if s.name != "Closed"])
    assert len(third.failed) == PARALLEL_FROM and third.added == 0
    assert all("stopped unexpectedly" in (r.error or "") for r in third.failed)
    assert conn.execute("SELECT count(*) FROM entries").fetchone()[0] == PARALLEL_FROM
    monkeypatch.setattr(fanout, "_fetch_all", real)
    conn.execute("UPDATE sources SET next_fetch = NULL")  # no waiting out the backoff
    assert update(conn, [s for s in sources.list() if s.name != "Closed"]).added == PARALLEL_FROM


def _knowflow(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "knowflow", "--vault", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_second_update_is_refused_at_once_and_triage_goes_on(
    server: FeedServer, tmp_path: Path
) -> None:
    """An update holds no write transaction while it fetches: `seen` run meanwhile
    answers at once, and a second update is refused at once, naming the first."""
    server.serve("/feed", body=rss(("a", "One"), ("b", "Two")))
    root = tmp_path / "v"
    Vault.init(root)
    run = cli_in(root)
    run("source", "add", server.url("/feed"), "--name", "F", "--no-discover")
    run("update")
    entry = json.loads(run("stream", "--json"))[0]["id"]
    server.serve("/feed", body=rss(("a", "One"), ("c", "Three")), X_Slow="0.02")  # ~5 s
    first = _knowflow(root, "update")
    conn = open_state(Vault(root))
    for _ in range(200):  # until it holds the lock
        if conn.execute("SELECT pid FROM locks").fetchone():
            break
        time.sleep(0.05)
    assert conn.execute("SELECT pid FROM locks").fetchone() == (first.pid,)
    started = time.monotonic()
    second = _knowflow(root, "update")
    _, err = second.communicate(timeout=30)
    assert second.returncode == 4 and time.monotonic() - started < 4
    assert f"another update is running in this vault: process {first.pid}" in err
    assert f"(knowflow --vault {root} update), started " in err and "Traceback" not in err
    started = time.monotonic()
    seen = _knowflow(root, "seen", str(entry))
    out, err = seen.communicate(timeout=30)
    assert seen.returncode == 0 and "new -> seen" in out, err
    assert time.monotonic() - started < 4 and first.poll() is None  # while it still fetched
    assert first.wait(timeout=60) == 0
    assert conn.execute("SELECT count(*) FROM locks").fetchone() == (0,)
    listed = json.loads(run("stream", "--state", "all", "--json"))  # "Two" was seen
    assert [e["title"] for e in listed] == ["Three", "Two", "One"]


def test_the_lock_of_a_process_that_is_gone_does_not_hold(conn: sqlite3.Connection) -> None:
    from knowflow.seek.state import UpdateRunning, _process_start, update_lock

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:

        def held_by(pid: int, birth: str | None) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO locks VALUES ('update', ?, ?, '2026-01-01T00:00:00+00:00',"
                " 'knowflow update')",
                (pid, birth),
            )

        held_by(alive.pid, _process_start(alive.pid))
        with pytest.raises(UpdateRunning, match=f"process {alive.pid} \\(knowflow update\\)"):
            update(conn, [])
        held_by(gone.pid, "1")  # killed: its row stays, and holds nothing
        assert update(conn, []).results == []
        held_by(alive.pid, "1")  # its pid, now another process's (it started later)
        assert update(conn, []).results == []
        serving = f"process {os.getpid()} \\(knowflow serve\\)"
        with update_lock(conn, "knowflow serve"), pytest.raises(UpdateRunning, match=serving):
            update(conn, [])
        assert conn.execute("SELECT count(*) FROM locks").fetchone() == (0,)
    finally:
        alive.kill()
        alive.wait()


def test_a_feed_read_with_bad_bytes_says_so_on_its_source(
    server: FeedServer, conn: sqlite3.Connection
) -> None:
    good = rss(("a", "Gr\u00fc\u00dfe"))
    server.serve("/feed", body=good.replace("\u00fc".encode(), b"\xfc"), ETag='"v1"')
    sources = Sources(conn)
    sources.add(server.url("/feed"), name="F")
    report = update(conn, sources.list())
    assert report.added == 1 and report.results[0].warning
    assert "not valid utf-8" in (sources.get("F").warning or "")
    assert entries(conn)[0][1] == "Gr\ufffd\u00dfe"  # only the bad byte replaced

    server.routes["/feed"] = lambda request: (304, {}, b"")
    update(conn, sources.list())
    assert sources.get("F").warning  # nothing was read: the warning stands
    server.serve("/feed", body=good, ETag='"v2"')
    update(conn, sources.list())
    assert sources.get("F").warning is None  # read cleanly again
