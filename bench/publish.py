"""knowflow's publishing benchmark, against ``mkdocs build`` in the same run.

    pip install -e '.[bench]' && python bench/publish.py [--notes 10000]

A generated vault (bench/generate.py) with every other note shared with
``public``: knowflow publishes that audience's site, then republishes after one
shared note changes (rescanning the index first, as ``knowflow publish`` does),
five times, and the median is printed.
mkdocs (default theme, no plugins) builds a site from the same shared notes.
Printed: the times, the ratio, and how many files each wrote.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from generate import generate, note_name

from knowflow import Index, Vault
from knowflow.share import publish

OUT = Path(__file__).resolve().parent / "out"
_SHARE = re.compile(r"^share: .*$", re.MULTILINE)


def half_shared(n: int) -> Path:
    """The generated vault, with even notes shared with public and odd ones private."""
    vault = generate(OUT / f"vault-{n}", n)
    marker = vault / ".half-shared"
    if not marker.exists():
        for path in vault.rglob("*.md"):
            if any(part.startswith(".") for part in path.relative_to(vault).parts):
                continue  # .knowflow/templates/note.md, if bench/run.py made the vault a vault
            number = int(path.stem.rsplit(" ", 1)[-1])
            audience = "public" if number % 2 == 0 else "private"
            path.write_text(_SHARE.sub(f"share: {audience}", path.read_text(), count=1))
        marker.write_text("even notes public, odd private\n")
        shutil.rmtree(vault / ".knowflow", ignore_errors=True)
    Vault.init(vault)
    return vault


def bench_knowflow(vault: Path, work: Path, rounds: int) -> tuple[float, float, float, int, int]:
    """Full publish; then, ``rounds`` times, one shared note changes and the site is
    published again (scan included): the medians of those."""
    site = work / "knowflow-site"
    with Index(Vault(vault)) as index:
        index.scan()
        started = time.perf_counter()
        first = publish(index, "public", site)
        full = time.perf_counter() - started
        # The disk is still writing out the first site; a republish hours later
        # would not wait on that, so it is not timed here either.
        os.sync()
        changed = next(vault.rglob(f"{note_name(0)}.md"))
        original = changed.read_text()
        scans, republishes = [], []
        try:
            for n in range(rounds):
                changed.write_text(original + f"\nOne more thought ({n}), for the benchmark.\n")
                started = time.perf_counter()
                index.scan()
                scans.append(time.perf_counter() - started)
                again = publish(index, "public", site)
                republishes.append(time.perf_counter() - started)
        finally:
            changed.write_text(original)
    return (
        full,
        statistics.median(scans),
        statistics.median(republishes),
        len(first.written),
        len(again.written),
    )


def bench_mkdocs(vault: Path, work: Path) -> float | None:
    if shutil.which("mkdocs") is None and not _has_module("mkdocs"):
        return None
    project = work / "mkdocs"
    docs = project / "docs"
    for path in vault.rglob("*.md"):
        if "share: public" in path.read_text()[:400]:
            target = docs / path.relative_to(vault)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    (docs / "index.md").write_text("# Notes\n")
    (project / "mkdocs.yml").write_text("site_name: Notes\nuse_directory_urls: false\n")
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--quiet", "-f", str(project / "mkdocs.yml")],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="republishes to take the median of")
    parser.add_argument("--no-peer", action="store_true", help="skip mkdocs (it takes minutes)")
    args = parser.parse_args()
    vault = half_shared(args.notes)
    work = OUT / f"publish-{args.notes}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    full, scanned, republish, written, rewritten = bench_knowflow(vault, work, args.rounds)
    print(f"{args.notes} notes, half shared with public")
    print(f"  knowflow full publish        {full:7.2f} s  ({written} files)")
    print(
        f"  knowflow after one change    {republish:7.2f} s  (median of {args.rounds}; scan "
        f"{scanned:.2f} s of it; {rewritten} files rewritten)"
    )
    theirs = None if args.no_peer else bench_mkdocs(vault, work)
    if args.no_peer:
        print("  mkdocs: skipped (--no-peer)")
    elif theirs is None:
        print("  mkdocs: not installed (pip install -e '.[bench]')")
    else:
        print(f"  mkdocs build                 {theirs:7.2f} s")
        print(f"  ratio mkdocs / knowflow      {theirs / full:7.1f} x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
