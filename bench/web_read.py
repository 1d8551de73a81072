"""The local app's Read page with 10,000 entries in the stream.

    python bench/web_read.py [--entries 10000] [--sources 60] [--rounds 200]

A vault (made once into bench/out/web-read-N and kept) whose state.db holds N
entries from sources of all three network kinds, stored through the API
(``Sources.add``, ``store_entries``), each with a paragraph or three of HTML, all
unread. Pages are asked for through Starlette's TestClient (the app as served, its
guard included, without the network), after a few requests to warm up: the Read
page (``/``: unread counts by source, the first 50 unread), one source's entries,
a search, and an entry in the reading pane (without marking it read, as the page
shown after a change is). The p50 and p95 of each are printed, wall time and the
CPU time the process spent (which a busy machine does not inflate). Target: the
Read page's p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.feeds import Entry
from knowflow.seek.sources import KINDS
from knowflow.seek.stream import store_entries

OUT = Path(__file__).resolve().parent / "out"
WORDS = [
    "knowledge",
    "flow",
    "team",
    "community",
    "network",
    "practice",
    "sense",
    "seek",
    "share",
    "garden",
    "note",
    "link",
    "habit",
    "review",
    "stream",
    "source",
    "digest",
    "clipping",
    "experiment",
    "narration",
    "retro",
    "deploy",
]


def paragraph(rng: random.Random) -> str:
    return "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(30, 80))) + ".</p>"


def vault_with_entries(entries: int, sources: int) -> Path:
    """The vault with ``entries`` unread entries from ``sources`` sources (made once)."""
    root = OUT / f"web-read-{entries}"
    marker = root / ".entries"
    if marker.exists() and marker.read_text() == f"{entries} {sources}":
        conn = open_state(Vault(root))
        conn.execute("UPDATE entries SET state = 'new'")  # as it was made
        conn.close()
        return root
    shutil.rmtree(root, ignore_errors=True)
    vault = Vault.init(root)
    conn = open_state(vault)
    rng = random.Random(10)
    added = [
        Sources(conn).add(
            f"https://source{i}.example.org/feed",
            name=f"Source {i}",
            kind=KINDS[i % 3],
            tags=[f"topic/{WORDS[i % len(WORDS)]}"],
        )
        for i in range(sources)
    ]
    per_source = entries // sources
    for n, source in enumerate(added):
        count = per_source + (entries % sources if n == 0 else 0)
        batch = []
        for i in range(count):
            day = rng.randint(0, 730)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(1.7e9 + day * 86400 + i))
            title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize()
            html = "".join(paragraph(rng) for _ in range(rng.randint(1, 3)))
            guid = f"{source.id}-{i}"
            batch.append(
                Entry(guid, title, f"https://source{n}.example.org/p/{i}", "Ada", stamp, None,
                      html, guid)
            )  # fmt: skip
        conn.execute("BEGIN")
        store_entries(conn, source.id, batch)
        conn.execute("COMMIT")
    conn.close()
    marker.write_text(f"{entries} {sources}")
    return root


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def measure(get: Callable[[], object], rounds: int) -> tuple[list[float], list[float]]:
    for _ in range(5):
        get()
    times, cpu = [], []
    for _ in range(rounds):
        started, started_cpu = time.perf_counter(), time.process_time()
        get()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return times, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--sources", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    from knowflow.web import create_app

    started = time.perf_counter()
    root = vault_with_entries(args.entries, args.sources)
    print(f"state.db: {args.entries} entries from {args.sources} sources "
          f"({time.perf_counter() - started:.1f} s to have them)")  # fmt: skip
    app = create_app(Vault(root), token="t", host="testserver", port=80, background=False)
    with TestClient(app) as client:
        client.get("/?token=t")
        conn = open_state(Vault(root))
        (entry_id,) = conn.execute("SELECT max(id) FROM entries").fetchone()
        conn.close()
        pages = {
            "Read page (/)": "/",
            "one source": "/?source=Source+7",
            "search": "/?q=garden+habit",
            "entry in the pane": f"/entry/{entry_id}?done=seen",
        }
        for label, path in pages.items():
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

            def get(path: str = path) -> object:
                return client.get(path)

            times, cpu = measure(get, args.rounds)
            print(
                f"{label:20} p50 {statistics.median(times):6.1f} ms  "
                f"p95 {percentile(times, 95):6.1f} ms   "
                f"(CPU p50 {statistics.median(cpu):5.1f} ms, p95 {percentile(cpu, 95):5.1f} ms)"
            )


if __name__ == "__main__":
    main()
