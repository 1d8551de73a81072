"""knowflow's practice report over a year of synthetic activity.

    python bench/practice.py [--events 50000] [--notes 2000] [--runs 5]

A vault of generated notes (a fifth of them clippings, some with a comment, some
with a dated highlight, some linked; experiments with a ``created:`` date) spread
over the year, 60 sources of the three kinds, and an activity log of ``--events``
events over the last 365 days (entries read one by one and in batches, kept with
their entries' links, pages captured, sources added, notes created and edited as
``knowflow.practice.versions`` logs them, publishes, digests, pushes). The first
report (which takes the baseline of every note's content hash) is timed on its own;
then the year's report (``practice_report``, period year, which compares the notes
with that baseline) is timed ``--runs`` times; the median and the worst are
printed. Target: at most 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import statistics
import time
from pathlib import Path

from knowflow import Index, Vault
from knowflow.practice import practice_report
from knowflow.seek.state import open_state

OUT = Path(__file__).resolve().parent / "out"
KINDS = ("team", "community", "network")


def build(root: Path, events: int, notes: int, seed: int = 12) -> Vault:
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    vault = Vault.init(root)
    now = dt.datetime.now(dt.UTC)
    (root / "clippings").mkdir()
    for n in range(notes):
        clip = n % 5 == 0
        if clip:
            comment = "comment: mine\n" if n % 3 == 0 else ""
            path = root / "clippings" / f"Clip {n}.md"
            text = f"---\ntype: clipping\nsource: Source {n % 60}\n{comment}---\n# Clip {n}\n"
            if n % 7 == 0:
                made = (now - dt.timedelta(days=rng.uniform(0, 365))).isoformat()
                text += (
                    f"\nWords {n}.\n\n> [!quote] Highlight ^hl-{n:06x}\n> Words {n}.\n"
                    f'> %%{{"created": "{made}"}}%%\n'
                )
        else:
            kind = "experiment" if n % 50 == 1 else "narration" if n % 50 == 2 else None
            day = (now - dt.timedelta(days=rng.uniform(0, 365))).date().isoformat()
            created = f"created: {day}\n" if kind == "experiment" else ""
            front = f"---\ntype: {kind}\n{created}---\n" if kind else ""
            path = root / f"Note {n}.md"
            text = f"{front}# Note {n}\n\nSee [[Note {rng.randrange(notes)}]].\n"
        path.write_text(text, encoding="utf-8")
        when = (now - dt.timedelta(days=rng.uniform(0, 365))).timestamp()
        os.utime(path, (when, when))
    with Index(vault) as index:
        index.scan()
    conn = open_state(vault)
    conn.execute("BEGIN")
    for s in range(60):
        added = (now - dt.timedelta(days=rng.uniform(0, 400))).isoformat(timespec="seconds")
        conn.execute(
            "INSERT INTO sources (name, url, kind, added_at) VALUES (?, ?, ?, ?)",
            (f"Source {s}", f"https://s{s}.example/feed", KINDS[s % 3], added),
        )
    rows = []
    for n in range(events):
        at = (now - dt.timedelta(seconds=rng.uniform(0, 365 * 86400))).isoformat(timespec="seconds")
        source = f"Source {min(59, int(rng.expovariate(0.1)))}"
        roll = rng.random()
        if roll < 0.6:
            rows.append((at, "entry_seen", "An entry", {"entry": n, "source": source}))
        elif roll < 0.65:
            rows.append((at, "entries_seen", "12 entries", {"count": 12}))
        elif roll < 0.9:
            sid = int(source.split()[1]) + 1
            conn.execute(
                "INSERT INTO entries (source_id, guid, link, title, html, content_hash,"
                " first_seen, changed_at, state) VALUES (?, ?, ?, 'e', '', '', ?, ?, 'kept')",
                (sid, f"g{n}", f"https://site{n % 300}.example/{n}", at, at),
            )
            entry = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
            rows.append((at, "entry_kept", "Kept", {"entry": entry, "source": source}))
        elif roll < 0.95:
            rows.append((at, "page_captured", "Page", {"url": f"https://p{n % 500}.example/"}))
        elif roll < 0.96:
            rows.append((at, "source_added", source, {"kind": "network"}))
        elif roll < 0.98:
            action = "note_edited" if n % 4 else "note_created"
            detail = {"type": None, "links": n % 3, "commented": False, "shared": []}
            rows.append((at, action, f"Note {n % max(notes, 1)}.md", detail))
        else:
            action = rng.choice(["site_published", "digest_drafted", "pushed", "source_fetched"])
            rows.append((at, action, "public", {"notes": 1}))
    conn.executemany(
        "INSERT INTO activity (at, action, subject, detail) VALUES (?, ?, ?, ?)",
        [(a, b, c, json.dumps(d)) for a, b, c, d in rows],
    )
    conn.execute("COMMIT")
    conn.close()
    return vault


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--notes", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    vault = build(OUT / "practice-vault", args.events, args.notes)
    times = []
    conn = open_state(vault)
    with Index(vault) as index:
        start = time.perf_counter()
        practice_report(index, conn, period="year")  # the baseline look, and a warm-up
        first = time.perf_counter() - start
        for _ in range(args.runs):
            start = time.perf_counter()
            report = practice_report(index, conn, period="year")
            times.append(time.perf_counter() - start)
    conn.close()
    kept = report.indicator("entries_kept").total
    print(
        f"practice report, year, {args.events} events, {args.notes} notes:"
        f" median {statistics.median(times) * 1000:.0f} ms, worst {max(times) * 1000:.0f} ms"
        f" (target 1000 ms), the first (baseline) {first * 1000:.0f} ms; {kept:g} kept,"
        f" {report.indicator('entries_read').total:g} read,"
        f" {report.indicator('notes_edited').total:g} notes written or edited"
    )


if __name__ == "__main__":
    main()
