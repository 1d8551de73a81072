"""Related notes at 10,000 notes: the time of ``related()`` (p50, p95; target p95 <=
100 ms) and, on a labelled set of note pairs added to the vault, how often the hybrid
(words + link graph) and words alone rank the right partner first.

    python bench/related.py [--notes 10000] [--samples 200] [--pairs 100]

The vault is bench/generate.py's, generated once into bench/out/ and indexed. The
labelled pairs (in ``labelled/``) each share two link targets and two words, and
are written with the generated vault's frequent words, so words alone often find
another note first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from knowflow import Index, Vault
from knowflow.index.index import NoteRef
from knowflow.sense.connect import lexical, related
from knowflow.sense.graph import note_at

OUT = Path(__file__).resolve().parent / "out"


def add_pairs(root: Path, pairs: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    folder = root / "labelled"
    folder.mkdir(exist_ok=True)
    common = [f"word{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]
    for p in range(pairs):
        hubs = [f"Hub {p} {h}" for h in range(2)]
        shared = rng.sample(common, 2)
        for side in "ab":
            words = " ".join(rng.sample(common, 8) + shared)
            links = " ".join(f"[[{h}]]" for h in hubs)
            text = f"# Pair {p}{side}\n\n{words}\n\n{links}\n"
            path = folder / f"Pair {p}{side}.md"
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
        for h in hubs:
            if not (folder / f"{h}.md").exists():
                (folder / f"{h}.md").write_text(f"# {h}\n\nplace\n")


def sample_notes(index: Index, samples: int) -> list[NoteRef]:
    """The same notes each run: a seeded sample of the vault's."""
    paths = [r[0] for r in index.conn.execute("SELECT path FROM files WHERE is_note = 1")]
    found = [note_at(index, p) for p in random.Random(1).sample(paths, min(samples, len(paths)))]
    return [n for n in found if n is not None]


T = TypeVar("T")


def timed(items: list[T], run: Callable[[T], object]) -> str:
    """p50 and p95 of run(item) over the items, in milliseconds."""
    times = []
    for item in items:
        t = time.perf_counter()
        run(item)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    return f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=100)
    args = parser.parse_args()
    root = generate(OUT / f"related-{args.notes}", args.notes)
    add_pairs(root, args.pairs)
    vault = Vault.init(root) if not (root / ".knowflow").exists() else Vault(root)
    with Index(vault) as index:
        started = time.perf_counter()
        index.scan()
        print(
            f"vault: {index.count()} notes (index up to date in "
            f"{time.perf_counter() - started:.1f} s)"
        )
        print(
            f"related(): {timed(sample_notes(index, args.samples), lambda n: related(index, n))}"
            f" over {args.samples} notes (target p95 <= 100 ms)"
        )
        hybrid = words = 0
        for p in range(args.pairs):
            note = note_at(index, f"labelled/Pair {p}a.md")
            assert note is not None
            want = f"labelled/Pair {p}b.md"
            top = related(index, note, 1)
            hybrid += bool(top) and top[0].path == want
            ranked = lexical(index, note)
            words += bool(ranked) and ranked[0][0] == want
        print(
            f"labelled pairs: partner first {hybrid}/{args.pairs} hybrid,"
            f" {words}/{args.pairs} words alone"
        )


if __name__ == "__main__":
    main()
