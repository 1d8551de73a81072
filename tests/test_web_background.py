"""What runs beside the pages: each source's schedule from its feed, one update at a
time between the app and the CLI (real processes, both ways), the file watcher and
its notices to an open page, and `knowflow serve` stopping promptly (an open event
stream, SIGINT, SIGTERM) and leaving nothing behind when killed."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from knowflow.seek.sources import Sources
from knowflow.seek.state import open_state, update_holder
from knowflow.seek.update import interval_of, next_fetches, scheduled, update
from knowflow.vault import Vault
from knowflow.web.security import csrf_token

from .feedserver import FeedServer, run_server
from .websupport import Watched, chromium, serving

SY = "http://purl.org/rss/1.0/modules/syndication/"


def rss(*titles: str, head: str = "") -> bytes:
    items = "".join(
        f'<item><guid isPermaLink="false">{t}</guid><title>{t}</title>'
        f"<link>http://e.org/{t}</link><description>{t}</description></item>"
        for t in titles
    )
    channel = f"<channel><title>Feed</title>{head}{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0" xmlns:sy="{SY}">{channel}</rss>'.encode()


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    yield from run_server()


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "Welcome.md").write_text("# Welcome\n\nHello.\n", encoding="utf-8")
    return Vault.init(root)


def test_each_source_is_scheduled_by_what_its_feed_says(server: FeedServer, vault: Vault) -> None:
    server.serve("/ttl", body=rss("a", head="<ttl>30</ttl>"))
    server.serve("/often", body=rss("a", head="<ttl>1</ttl>"))
    period = "<sy:updatePeriod>daily</sy:updatePeriod><sy:updateFrequency>4</sy:updateFrequency>"
    server.serve("/sy", body=rss("a", head=period))
    server.serve("/weekly", body=rss("a", head="<sy:updatePeriod>weekly</sy:updatePeriod>"))
    server.serve("/plain", body=rss("a"))
    server.serve("/broken", status=500)
    conn = open_state(vault)
    sources = Sources(conn)
    for name in ("ttl", "often", "sy", "weekly", "plain", "broken"):
        sources.add(server.url(f"/{name}"), name)
    assert {s.name for s in scheduled(sources.list(), conn)} == {
        "ttl", "often", "sy", "weekly", "plain", "broken"
    }  # fmt: skip
    update(conn, sources.list())
    asked = dict(conn.execute("SELECT name, update_interval FROM sources"))
    assert asked == {
        "ttl": 1800, "often": 60, "sy": 21600, "weekly": 604800, "plain": None, "broken": None
    }  # fmt: skip
    assert [interval_of(asked[n]) for n in ("ttl", "often", "sy", "weekly", "plain")] == [
        1800, 900, 21600, 86400, 3600
    ]  # fmt: skip
    # Just tried, the failing one too: nothing is due until its interval has passed.
    assert scheduled(sources.list(), conn) == []
    plan = next_fetches(conn)
    ids = dict(conn.execute("SELECT name, id FROM sources"))
    spans = {n: (plan[ids[n]] - plan[ids["plain"]]).total_seconds() for n in ids}
    assert abs(spans["ttl"] + 1800) < 5 and abs(spans["sy"] - 18000) < 5
    # An hour and a half later the 30-minute and hourly feeds are due, not the rest.
    conn.execute(
        "UPDATE sources SET last_tried = datetime('now', '-90 minutes') || '+00:00',"
        " last_fetched = NULL"
    )
    due_now = {s.name for s in scheduled(sources.list(), conn)}
    assert due_now == {"ttl", "often", "plain", "broken"}
    # A source waiting out a back-off is not due; a paused one never is.
    conn.execute("UPDATE sources SET next_fetch = datetime('now', '+1 hour') WHERE name = 'ttl'")
    sources.set_paused("often", True)
    assert {s.name for s in scheduled(sources.list(), conn)} == {"plain", "broken"}
    conn.close()


class App:
    """The app in this process, and an HTTP client signed in to it."""

    def __init__(self, served: Any) -> None:
        self.served = served
        self.http = httpx.Client(base_url=served.base, follow_redirects=True, timeout=30)
        assert self.http.get(f"/?token={served.token}").status_code < 500
        self.csrf = csrf_token(served.token)

    def post(self, path: str, **form: str) -> httpx.Response:
        return self.http.post(path, data={"csrf": self.csrf, **form})

    def status(self) -> str:
        return re.sub(r"\s+", " ", self.http.get("/sources/status").text)


def _cli(vault: Vault, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "knowflow", "--vault", str(vault.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(check: Any, timeout: float = 30.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"not within {timeout} s: {check}")


def _slow_feed(server: FeedServer, vault: Vault, seconds: float = 3.0) -> None:
    body = rss("one", "two")
    server.serve("/slow", body=body, X_Slow=str(seconds / len(body)))
    conn = open_state(vault)
    Sources(conn).add(server.url("/slow"), "Slow")
    conn.close()


def test_the_app_waits_while_the_cli_updates(server: FeedServer, vault: Vault) -> None:
    _slow_feed(server, vault)
    cli = _cli(vault, "update")
    conn = open_state(vault)
    holder = _until(lambda: update_holder(conn))
    assert holder.pid == cli.pid
    with serving(vault) as served:
        app = App(served)
        app.post("/sources/update")
        status = _until(lambda: "Waiting" in (s := app.status()) and s)
        assert f"an update is running (pid {cli.pid}, knowflow --vault" in status
        server.serve("/slow", body=rss("one", "two", "three"))  # the app's fetch: quick
        assert cli.wait(timeout=60) == 0
        # Then the app's own update runs: due again, since it was asked for now.
        _until(lambda: "Last update" in app.status(), timeout=60)
        assert "1 source, 1 new entry" in app.status()
        assert update_holder(conn) is None
    conn.close()


def test_the_cli_is_refused_while_the_app_updates(server: FeedServer, vault: Vault) -> None:
    _slow_feed(server, vault)
    conn = open_state(vault)
    with serving(vault) as served:
        app = App(served)
        app.post("/sources/update")
        holder = _until(lambda: update_holder(conn))
        assert holder.pid == os.getpid() and holder.command.startswith("knowflow serve")
        assert "Updating" in app.status()
        started = time.monotonic()
        cli = _cli(vault, "update")
        _, err = cli.communicate(timeout=30)
        assert cli.returncode == 4 and time.monotonic() - started < 10
        assert f"another update is running in this vault: process {os.getpid()}" in err
        assert "(knowflow serve (background update)), started " in err
        _until(lambda: "Last update" in app.status(), timeout=60)
        assert "1 source, 2 new entries" in app.status()
    assert update_holder(conn) is None
    conn.close()


def test_the_watcher_keeps_the_index_and_open_pages_current(vault: Vault) -> None:
    from knowflow.index import Index

    with serving(vault, background=True) as served, chromium() as browser:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "note/Welcome.md")
        page.wait_for_timeout(300)  # the event stream is open
        # Another program writes the note as an editor does, and a new one beside it.
        temporary = vault.root / ".Welcome.md.1234.tmp"
        temporary.write_text("# Welcome\n\nChanged elsewhere.\n", encoding="utf-8")
        temporary.replace(vault.root / "Welcome.md")
        (vault.root / "Outside.md").write_text("# Outside\n\nzanzibar\n", encoding="utf-8")
        notice = page.locator(".live-notice[role=status]")
        notice.wait_for(timeout=15000)
        assert "This note changed on disk." in notice.inner_text()
        with Index(vault) as index:
            _until(
                lambda: index.conn.execute(
                    "SELECT 1 FROM files WHERE path = 'Outside.md'"
                ).fetchone(),
                timeout=15,
            )
        with page.expect_navigation():
            notice.get_by_role("button", name="Reload").click()
        assert "Changed elsewhere." in page.locator("article").inner_text()
        assert page.locator(".live-notice").count() == 0
        assert not watched.problems
        context.close()


def _serve(vault: Vault, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "knowflow", "serve", str(vault.root), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith("http://127.0.0.1:"), line
    return process, line


@contextlib.contextmanager
def _listening(entry: str) -> Iterator[list[str]]:
    """An open /events stream (as a page's live.js holds one), read in a thread."""
    base = entry.split("?")[0]
    client = httpx.Client(follow_redirects=True, timeout=None)
    client.get(entry)
    heard: list[str] = []

    def listen() -> None:
        with contextlib.suppress(httpx.HTTPError), client.stream("GET", base + "events") as r:
            heard.append(str(r.status_code))
            for line in r.iter_lines():
                heard.append(line)

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    _until(lambda: heard)
    try:
        yield heard
    finally:
        client.close()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_promptly_with_an_open_event_stream(vault: Vault, stop: int) -> None:
    process, entry = _serve(vault)
    try:
        with _listening(entry) as heard:
            assert heard[0] == "200"
            started = time.monotonic()
            process.send_signal(stop)
            process.wait(timeout=15)
            assert time.monotonic() - started < 5
    finally:
        process.kill()
        process.wait()
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
    return found


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_stopped_during_an_update_it_leaves_no_worker_and_no_lock(
    server: FeedServer, vault: Vault, stop: int
) -> None:
    # Enough sources for the update to share them out among worker processes.
    body = rss("one")
    conn = open_state(vault)
    for n in range(60):
        server.serve(f"/k{n}", body=body, X_Slow=str(4.0 / len(body)))
        Sources(conn).add(server.url(f"/k{n}"), f"K{n}")
    process, entry = _serve(vault, "--no-fetch")
    try:
        app = httpx.Client(follow_redirects=True, timeout=30)
        app.get(entry)
        token = entry.split("token=")[1]
        app.post(entry.split("?")[0] + "sources/update", data={"csrf": csrf_token(token)})
        holder = _until(lambda: update_holder(conn))
        assert holder.pid == process.pid
        workers = _until(lambda: _children(process.pid), timeout=15)
        started = time.monotonic()
        process.send_signal(stop)
        process.wait(timeout=30)
        assert time.monotonic() - started < 10
    finally:
        process.kill()
        process.wait()
    _until(lambda: not any(Path(f"/proc/{w}").exists() for w in workers), timeout=10)
    assert update_holder(conn) is None  # its row names a process that is gone
    for n in range(60):
        server.serve(f"/k{n}", body=body)
    cli = _cli(vault, "update")
    _, err = cli.communicate(timeout=120)
    assert cli.returncode == 0, err
    conn.close()
