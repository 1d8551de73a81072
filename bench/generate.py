"""Generate a synthetic vault: N notes of about 6 KB with front matter, links,
aliases, headings and nested tags. Deterministic for a given N and seed.

    python bench/generate.py OUT_DIR N [--seed S]
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
from pathlib import Path

VERSION = 2  # bump when the generated notes change, so cached vaults are rebuilt
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "sa",
    "ti",
    "vo",
    "ze",
    "pa",
    "qu",
    "di",
    "fe",
    "go",
    "hu",
    "ja",
    "ba",
    "ce",
    "xi",
    "yo",
    "wa",
    "el",
    "an",
    "or",
    "is",
    "um",
    "et",
    "al",
    "in",
    "on",
]
COMMON = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "or",
    "from",
    "at",
    "which",
    "an",
    "have",
    "not",
    "but",
    "can",
    "all",
    "more",
    "one",
    "there",
    "their",
    "what",
    "so",
    "about",
    "when",
    "if",
    "into",
    "how",
    "use",
    "other",
    "then",
    "them",
]
TOPICS = ["seek", "sense", "share", "team", "community", "network", "practice", "project"]


def vocabulary(rng: random.Random, size: int = 40_000) -> list[str]:
    """Content words, most frequent first (stop words are added separately)."""
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    ordered = sorted(words)
    rng.shuffle(ordered)  # so the frequent words are not all alike
    return ordered


def note_name(i: int) -> str:
    return f"Note {i:06d}"


def folder_of(i: int) -> str:
    return f"area{i % 10}/topic{(i // 10) % 20}"


def make_note(i: int, n: int, rng: random.Random, vocab: list[str], weights: list[float]) -> str:
    tags = [f"{rng.choice(TOPICS)}/{rng.choice(TOPICS)}" for _ in range(3)]
    alias = " ".join(rng.choices(vocab, k=2)).title()
    front = (
        f"---\ntags: [{', '.join(tags)}]\naliases: [{alias}]\n"
        f"type: {rng.choice(['note', 'note', 'note', 'clipping', 'experiment'])}\n"
        f"share: {rng.choice(['private', 'public', 'team/platform'])}\ncreated: 2026-01-01\n---\n"
    )
    parts = [front, f"# {note_name(i)}\n\n"]
    size = len(front)
    section = sentence_no = 0
    # Densities of a well-linked vault: a heading per ~1.2 KB, a link in every
    # other sentence (~10 a note), an inline nested tag in every third.
    while size < 6000:
        sentence_no += 1
        if size > 1200 * (section + 1):
            section += 1
            heading = " ".join(rng.choices(vocab, cum_weights=weights, k=3)).capitalize()
            parts.append(f"\n## {heading}\n\n")
        words = rng.choices(vocab, cum_weights=weights, k=40)
        for j in range(0, 40, 3):  # about a third of running text is stop words
            words[j] = rng.choice(COMMON)
        sentence = " ".join(words)
        target = rng.randrange(n)
        link = rng.choice(
            [
                f"[[{note_name(target)}]]",
                f"[[{note_name(target)}|{alias.lower()}]]",
                f"[[{note_name(target)}#Details]]",
                f"[[Missing {target}]]" if rng.random() < 0.1 else f"[[{note_name(target)}]]",
            ]
        )
        link = link if sentence_no % 2 else ""
        tag = f" #{rng.choice(TOPICS)}/{rng.choice(TOPICS)}" if sentence_no % 3 == 0 else ""
        text = f"{sentence.capitalize()}{' ' + link if link else ''}{tag}.\n"
        parts.append(text)
        size += len(text)
    return "".join(parts)


def generate(out: Path, n: int, seed: int = 42) -> Path:
    """Write the vault (skipped if a complete one is already there) and return its path."""
    marker = out / ".generated"
    stamp = f"{n} {seed} v{VERSION}"
    if marker.exists() and marker.read_text() == stamp:
        return out
    if out.exists():
        shutil.rmtree(out)
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    weights = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(len(vocab))))  # Zipf
    for i in range(n):
        folder = out / folder_of(i)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{note_name(i)}.md").write_text(make_note(i, n, rng, vocab, weights))
    marker.write_text(stamp)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("n", type=int)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    generate(args.out, args.n, args.seed)


if __name__ == "__main__":
    main()
