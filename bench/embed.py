"""Meaning at 10,000 notes: embedding the vault (notes/s, model named), related()
with the meaning signal in (p50, p95; target p95 <= 100 ms), semantic search, and
the labelled sets: how often related() ranks the right partner first, hybrid
(words + links + meaning) against words alone.

    python bench/embed.py [--notes 10000] [--samples 200] [--fresh]

The vault is bench/generate.py's (notes of about 6 KB: each is cut to the model's
256 tokens), generated once into bench/out/ with bench/related.py's labelled pairs
(words and links) and tests/meaning_set.py's cases (meaning, few shared words).
Embeddings are kept in its index between runs: --fresh drops them first, so that
the whole vault is embedded and timed again. Needs the semantic model installed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from generate import generate
from related import add_pairs, sample_notes, timed

from knowflow import Index, Vault
from knowflow.index import encoder, vectors
from knowflow.sense.connect import SIGNALS, active_signals, fuse, lexical, related
from knowflow.sense.graph import note_at
from knowflow.sense.meaning import meaning, semantic
from tests.meaning_set import write as write_meaning_set

OUT = Path(__file__).resolve().parent / "out"


def embed(index: Index, fresh: bool) -> None:
    if fresh:
        with index.conn:
            index.conn.execute("DELETE FROM embeddings")
    todo = len(vectors.stale(index))
    started = time.perf_counter()
    report = vectors.update(index, _progress(todo))
    seconds = time.perf_counter() - started
    if report.embedded:
        print(
            f"embedded {report.embedded} notes in {seconds:.1f} s:"
            f" {report.embedded / seconds:.1f} notes/s with {encoder.MODEL_NAME}"
            f" (numpy encoder, {os.cpu_count()} CPUs)"
        )
    else:
        print(f"all {vectors.count(index)} notes already embedded (--fresh times it again)")


def _progress(total: int) -> vectors.Progress:
    started = time.perf_counter()
    last = [0.0]

    def report(done: int, _: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 60 or done == total:
            last[0] = now
            rate = done / (now - started)
            print(f"  {done}/{total} embedded, {rate:.1f} notes/s", flush=True)

    return report


def time_related(index: Index, samples: int) -> None:
    """related() with meaning, then without it, then the meaning signal alone, over
    the same notes."""
    sample = sample_notes(index, samples)
    related(index, sample[0])  # reads the vectors once, as a process does
    with_meaning = timed(sample, lambda n: related(index, n))
    without = timed(sample, lambda n: related(index, n, signals=SIGNALS))
    alone = timed(sample, lambda n: meaning(index, n))
    print(
        f"related() over {len(sample)} notes: with meaning {with_meaning} (target p95 <="
        f" 100 ms); words + links only {without}; the meaning signal alone {alone}"
    )
    queries = ["how plants grow", "money and taxes", "sleep and memory", "ocean animals"] * 5
    searched = timed(queries, lambda q: semantic(index, q))
    print(f"search --semantic: {searched} over {len(queries)} queries")


def labelled(index: Index, name: str, cases: list[tuple[str, str]]) -> None:
    """How often the partner comes first: related() as it is (meaning weighing
    twice), the same signals fused with equal weights, and words alone."""
    hybrid = equal = words = 0
    for source, want in cases:
        note = note_at(index, source)
        assert note is not None, source
        top = related(index, note, 1)
        hybrid += bool(top) and top[0].path == want
        lists = {name: signal(index, note) for name, signal in active_signals().items()}
        fused = fuse(lists, weights={})
        equal += bool(fused) and fused[0][0] == want
        ranked = lexical(index, note)
        words += bool(ranked) and ranked[0][0] == want
    n = len(cases)
    print(
        f"{name}: partner first {hybrid}/{n} hybrid (words + links + meaning x2),"
        f" {equal}/{n} with equal weights, {words}/{n} words alone"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--pairs", type=int, default=100)
    parser.add_argument("--fresh", action="store_true", help="embed every note again")
    args = parser.parse_args()
    encoder.model_dir()  # fails here, with the reason, when the model is not installed
    root = generate(OUT / f"meaning-{args.notes}", args.notes)
    add_pairs(root, args.pairs)
    meaning_cases = write_meaning_set(root / "meaning")
    vault = Vault.init(root) if not (root / ".knowflow").exists() else Vault(root)
    with Index(vault) as index:
        started = time.perf_counter()
        index.scan()
        print(
            f"vault: {index.count()} notes (index up to date in"
            f" {time.perf_counter() - started:.1f} s)"
        )
        embed(index, args.fresh)
        time_related(index, args.samples)
        labelled(index, "meaning cases", [(a, b) for a, b, _ in meaning_cases])
        pairs = [(f"labelled/Pair {p}a.md", f"labelled/Pair {p}b.md") for p in range(args.pairs)]
        labelled(index, "words-and-links pairs", pairs)


if __name__ == "__main__":
    main()
