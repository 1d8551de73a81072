"""knowflow's fetching benchmark, against the feed library ``reader`` in the same run.

    pip install -e '.[bench]' && python bench/feeds.py [--feeds 500] [--entries 20]

    python bench/feeds.py --before GIT_REF   # and the knowflow of that commit, alternating

Local servers on 127.0.0.1 (25 ports, standing in for 25 sites) serve the
feeds, half Atom and half RSS, each with an ETag. Printed, as medians of
``--rounds`` runs each in a fresh process: the first full update (time, feeds/s,
peak memory) and the second, when every feed answers 304; the same for reader
with 8 workers, and the ratios; then the import of 10,000 bookmarks. With
``--before REF``, the knowflow of that git commit (extracted with ``git archive``
into bench/out, as bench/run.py does, and run with PYTHONPATH from a folder that
is not the checkout) takes turns with this one, round by round, and the ratio of
their medians is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# knowflow itself (and bench/run.py, which imports it) is imported inside the
# functions that use it: each round runs this file in a fresh process, whose
# knowflow may be another commit's (--before) and whose peak memory is measured.

ROOT = Path(__file__).resolve().parent.parent
SITES = 25


def feed(n: int, entries: int) -> bytes:
    words = [
        "seek",
        "sense",
        "share",
        "team",
        "community",
        "network",
        "practice",
        "note",
        "link",
        "digest",
    ]
    if n % 2:
        items = "".join(
            f"<entry><id>urn:f{n}:e{i}</id><title>Entry {i} of feed {n}</title>"
            f'<link href="https://site{n}.example/{i}"/><updated>2026-11-{1 + i % 27:02d}T10:00:00Z'
            f'</updated><content type="html">&lt;p&gt;{" ".join(words * 8)}&lt;/p&gt;</content>'
            "</entry>"
            for i in range(entries)
        )
        return (
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Feed {n}</title><id>urn:f{n}</id>{items}</feed>"
        ).encode()
    items = "".join(
        f"<item><guid>https://site{n}.example/{i}</guid><title>Entry {i} of feed {n}</title>"
        f"<link>https://site{n}.example/{i}</link><pubDate>Mon, {1 + i % 27:02d} Nov 2026 10:00:00"
        f" GMT</pubDate><description>&lt;p&gt;{' '.join(words * 8)}&lt;/p&gt;</description></item>"
        for i in range(entries)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>{items}'
        "</channel></rss>"
    ).encode()


def start_servers(feeds: int, entries: int) -> list[str]:
    """Serve the feeds from a process of their own (so the servers never compete with
    the client for Python's lock); return their addresses."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    ctx.Process(target=_serve, args=(feeds, entries, child), daemon=True).start()
    ports: list[int] = parent.recv()
    return [f"http://127.0.0.1:{ports[n % SITES]}/feed{n}.xml" for n in range(feeds)]


def _serve(feeds: int, entries: int, pipe: Any) -> None:
    bodies = {f"/feed{n}.xml": feed(n, entries) for n in range(feeds)}
    etags = {path: '"' + hashlib.md5(body).hexdigest() + '"' for path, body in bodies.items()}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # As real web servers do: otherwise the body waits on the client's delayed ACK
        # of the headers (40 ms a response on a kept-alive connection).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = bodies.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etags[self.path]:
                self.send_response(304)
                self.send_header("ETag", etags[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            kind = "application/atom+xml" if b"<feed" in body[:200] else "application/rss+xml"
            self.send_header("Content-Type", kind)
            self.send_header("ETag", etags[self.path])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    ports = []
    for _ in range(SITES):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ports.append(server.server_address[1])
    pipe.send(ports)
    threading.Event().wait()  # serve until the benchmark ends


Side = Callable[[list[str], Path, int], "tuple[float, float] | None"]


def measured(
    side: str, urls: list[str], work: Path, entries: int, package: Path | None = None
) -> tuple[float, float, float] | None:
    """Run one side once in a fresh process and folder (so its peak memory is its
    own), with the knowflow found in ``package`` (default: this checkout): first
    update s, all-304 update s, peak resident MB of it and its workers; None when
    the side is not installed."""
    from run import RUN_DIR, package_env

    folder = Path(tempfile.mkdtemp(prefix=f"{side}-", dir=work))
    (folder / "urls.json").write_text(json.dumps(urls))
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", side, str(folder), str(entries)],
        env=package_env(package),
        cwd=RUN_DIR,  # not the checkout: its knowflow must not shadow the one measured
        capture_output=True,
        text=True,
        check=True,
    )
    run = json.loads(done.stdout.splitlines()[-1])
    return None if run is None else (run[0], run[1], run[2])


def medians(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Median first and all-304 times, highest peak. This machine's timings vary by a
    third from run to run; the median of a few is steadier than one."""
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        max(r[2] for r in runs),
    )


def _child(side: str, folder: Path, entries: int) -> None:
    """In a fresh process: run one side, print (first s, all-304 s, peak MB of this
    process and its workers) as JSON, or null when the side is not installed."""
    import resource

    urls = json.loads((folder / "urls.json").read_text())
    job: Side = {"knowflow": bench_knowflow, "reader": bench_reader}[side]
    times = job(urls, folder, len(urls) * entries)
    if times is None:
        print("null")
        return
    peak = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps([times[0], times[1], peak / 1024]))


def bench_knowflow(urls: list[str], work: Path, expected: int) -> tuple[float, float]:
    from knowflow import Vault
    from knowflow.seek import Sources, open_state
    from knowflow.seek.update import update

    vault = Vault.init(work / "vault")
    conn = open_state(vault)
    sources = Sources(conn)
    for n, url in enumerate(urls):
        sources.add(url, name=f"Feed {n}")
    started = time.perf_counter()
    first = update(conn, sources.list())
    cold = time.perf_counter() - started
    assert not first.failed and first.added == expected, (first.failed[:3], first.added)
    started = time.perf_counter()
    second = update(conn, sources.list())
    warm = time.perf_counter() - started
    assert all(r.status == "not-modified" for r in second.results)
    return cold, warm


def bench_reader(urls: list[str], work: Path, expected: int) -> tuple[float, float] | None:
    try:
        from reader import make_reader
    except ImportError:
        return None
    db = make_reader(str(work / "reader.sqlite"))
    for url in urls:
        db.add_feed(url)
    # scheduled=False: every feed is fetched both times, as knowflow's update does.
    started = time.perf_counter()
    db.update_feeds(workers=8, scheduled=False)
    cold = time.perf_counter() - started
    assert db.get_entry_counts().total == expected, db.get_entry_counts()
    started = time.perf_counter()
    db.update_feeds(workers=8, scheduled=False)
    warm = time.perf_counter() - started
    db.close()
    return cold, warm


def bench_bookmarks(work: Path, rounds: int, count: int = 10_000) -> float:
    return statistics.median(
        _import_bookmarks(work / f"bookmarks-{n}", count) for n in range(rounds)
    )


def _import_bookmarks(work: Path, count: int) -> float:
    from knowflow import Vault
    from knowflow.seek import open_state
    from knowflow.seek.imports import import_bookmarks

    work.mkdir()
    lines = [
        f'<DT><A HREF="https://e.org/{i}" ADD_DATE="1700000000" TAGS="t{i % 7}">Page {i}</A>'
        for i in range(count)
    ]
    path = work / "bookmarks.html"
    path.write_text("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n" + "\n".join(lines) + "</DL>")
    vault = Vault.init(work / "bookmarks-vault")
    started = time.perf_counter()
    result = import_bookmarks(vault, open_state(vault), path)
    assert result.added == count
    return time.perf_counter() - started


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--feeds", type=int, default=500)
    parser.add_argument("--entries", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="medians of this many runs")
    parser.add_argument("--before", help="a git commit whose update to run alongside")
    args = parser.parse_args()
    from run import checkout, compiled

    compiled(ROOT)
    before = checkout(args.before, ROOT / "bench" / "out") if args.before else None
    urls = start_servers(args.feeds, args.entries)
    n = len(urls)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ours: list[tuple[float, float, float]] = []
        was: list[tuple[float, float, float]] = []
        for _ in range(args.rounds):
            if before is not None:  # taking turns, so both see the machine as it is
                was.append(_sure(measured("knowflow", urls, work, args.entries, before)))
            ours.append(_sure(measured("knowflow", urls, work, args.entries)))
        cold, warm, peak = medians(ours)
        print(f"{n} feeds of {args.entries} entries on {SITES} local sites")
        print(
            f"  knowflow first update   {cold:6.2f} s  {n / cold:6.0f} feeds/s  peak {peak:.0f} MB"
        )
        print(f"  knowflow all-304 update {warm:6.2f} s")
        if before is not None:
            b_cold, b_warm, b_peak = medians(was)
            sha = before.name[len("knowflow-") :]
            print(
                f"  knowflow {sha} first   {b_cold:6.2f} s  {n / b_cold:6.0f} feeds/s"
                f"  peak {b_peak:.0f} MB"
            )
            print(f"  knowflow {sha} all-304 {b_warm:6.2f} s")
            print(
                f"  now / {sha}: {cold / b_cold:.3f} first, {warm / b_warm:.3f} all-304"
                f" (medians of {args.rounds}, alternating)"
            )
        runs = [measured("reader", urls, work, args.entries) for _ in range(args.rounds)]
        if any(r is None for r in runs):
            print("  reader: not installed (pip install -e '.[bench]')")
        else:
            theirs = medians([_sure(r) for r in runs])
            print(
                f"  reader (8 workers) first {theirs[0]:6.2f} s  {n / theirs[0]:6.0f} feeds/s"
                f"  peak {theirs[2]:.0f} MB"
            )
            print(f"  reader all-304 update   {theirs[1]:6.2f} s")
            print(
                f"  ratio reader / knowflow {theirs[0] / cold:6.1f} x first, "
                f"{theirs[1] / warm:.1f} x all-304"
            )
        print(f"10,000 bookmarks imported in {bench_bookmarks(work, args.rounds):.1f} s")
    sys.stdout.flush()


def _sure(run: tuple[float, float, float] | None) -> tuple[float, float, float]:
    assert run is not None
    return run


if __name__ == "__main__":
    main()
