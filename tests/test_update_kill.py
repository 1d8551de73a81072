"""kill -9 during `knowflow update`, at random moments and at named points: the next
update finishes the work as one clean run would, with no duplicate entry, no stray
file, and no worker process left behind holding the caller's output."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.fanout import can_fan_out
from knowflow.seek.update import PARALLEL_FROM

from .feedserver import FeedServer, Request, run_server
from .test_kill import _orphans

SITES = 4
FEEDS = 60  # over PARALLEL_FROM: the update fans out to worker processes
DELAY = 0.04  # seconds per response, so that an update lasts long enough to be killed

pytestmark = pytest.mark.skipif(not can_fan_out(), reason="no fork here")


@pytest.fixture
def sites() -> Iterator[list[FeedServer]]:
    runs = [run_server() for _ in range(SITES)]
    try:
        yield [next(run) for run in runs]
    finally:
        for run in runs:
            run.close()


class Feeds:
    """60 feeds on 4 local sites, growing by an entry each round; every other feed has
    an ETag, so updates both re-read unchanged feeds and get 304s."""

    def __init__(self, sites: list[FeedServer]) -> None:
        self.sites = sites
        self.entries = 3
        for n in range(FEEDS):
            sites[n % SITES].routes[f"/f{n}.xml"] = self.route(n)

    def url(self, n: int) -> str:
        return self.sites[n % SITES].url(f"/f{n}.xml")

    def body(self, n: int) -> bytes:
        items = "".join(
            f"<item><guid>urn:f{n}:e{i}</guid><title>Entry {i} of {n}</title>"
            f"<link>https://e.org/{n}/{i}</link><description>Text {i}</description></item>"
            for i in range(self.entries)
        )
        return f'<rss version="2.0"><channel><title>F{n}</title>{items}</channel></rss>'.encode()

    def route(self, n: int):  # type: ignore[no-untyped-def]
        def reply(request: Request) -> tuple[int, dict[str, str], bytes]:
            time.sleep(DELAY)
            body = self.body(n)
            if n % 2:
                return 200, {}, body
            etag = f'"{n}-{self.entries}"'
            if request.headers.get("if-none-match") == etag:
                return 304, {"ETag": etag}, b""
            return 200, {"ETag": etag}, body

        return reply

    def vault(self, root: Path) -> Path:
        conn = open_state(Vault.init(root))
        sources = Sources(conn)
        for n in range(FEEDS):
            sources.add(self.url(n), name=f"F{n}")
        conn.close()
        return root


def _update(root: Path, crash_at: str | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("KNOWFLOW_CRASH_AT", None)
    if crash_at:
        env["KNOWFLOW_CRASH_AT"] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "knowflow", "--vault", str(root), "update", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _dump(root: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(root / ".knowflow" / "state.db")
    try:
        return {
            "sources": conn.execute(
                "SELECT name, url, etag, last_error, failures, dead, next_fetch FROM sources"
                " ORDER BY name"
            ).fetchall(),
            "entries": conn.execute(
                "SELECT s.name, e.guid, e.link, e.title, e.html, e.content_hash, e.state"
                " FROM entries e JOIN sources s ON s.id = e.source_id ORDER BY s.name, e.guid"
            ).fetchall(),
            "searchable": conn.execute("SELECT count(*) FROM entries_fts").fetchall(),
            "locks": conn.execute("SELECT * FROM locks").fetchall(),
            "integrity": conn.execute("PRAGMA integrity_check").fetchall(),
        }
    finally:
        conn.close()


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _finished_output(proc: subprocess.Popen[bytes], within: float) -> bool:
    """Whether the update's output reaches its end (every holder of the pipe gone)."""
    assert proc.stdout is not None
    os.set_blocking(proc.stdout.fileno(), False)
    until = time.monotonic() + within
    while time.monotonic() < until:
        try:
            if proc.stdout.read() == b"":
                return True
        except BlockingIOError:
            pass
        time.sleep(0.05)
    return False


def test_killed_updates_finish_as_one_clean_run(sites: list[FeedServer], tmp_path: Path) -> None:
    assert FEEDS >= PARALLEL_FROM
    feeds = Feeds(sites)
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    root = feeds.vault(tmp_path / "killed")
    started = time.perf_counter()
    first = _update(root)
    assert first.wait() == 0, first.stderr.read() if first.stderr else ""
    full = time.perf_counter() - started
    # Named points first: just after the lock is taken, between two batches' commits,
    # and in a worker that has sent its first outcome (it dies; the update goes on).
    for point in ("update-locked", "update-stored", "update-worker-sent"):
        feeds.entries += 1
        proc = _update(root, crash_at=point)
        code = proc.wait()
        assert code == (1 if point == "update-worker-sent" else 137), (point, code)
        # Whatever the update had started, nothing of it holds the output open.
        assert _finished_output(proc, within=3.0), f"{point}: a worker outlived the update"
    killed = 0
    for _ in range(6):
        feeds.entries += rng.choice((0, 1))
        proc = _update(root)
        time.sleep(rng.uniform(0.05, 0.95) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        assert _finished_output(proc, within=3.0), f"seed {seed}: a worker outlived the update"
    assert killed >= 3, f"seed {seed}: the updates finished too fast to be interrupted"
    assert _orphans(root) == [], f"seed {seed}: worker processes outlived the killed update"
    last = _update(root)
    assert last.wait() == 0, (seed, last.stderr.read() if last.stderr else "")
    clean = feeds.vault(tmp_path / "clean")
    once = _update(clean)
    assert once.wait() == 0, once.stderr.read() if once.stderr else ""
    expected, got = _dump(clean), _dump(root)
    assert got["entries"] == expected["entries"], f"seed {seed}"
    assert len(got["entries"]) == FEEDS * feeds.entries
    assert got["searchable"] == [(len(got["entries"]),)], f"seed {seed}: duplicates in search"
    assert got["locks"] == [] and got["integrity"] == [("ok",)]
    assert [s[:2] + s[3:] for s in got["sources"]] == [s[:2] + s[3:] for s in expected["sources"]]
    assert _files(root) == _files(clean), f"seed {seed}: stray files"
