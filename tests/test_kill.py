"""kill -9 at random points during `knowflow index` never harms notes or the index."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from knowflow import Index, Vault

from .conftest import dump, fingerprint


def _make_notes(root: Path, count: int) -> None:
    words = [
        "seek",
        "sense",
        "share",
        "team",
        "community",
        "network",
        "note",
        "link",
        "tag",
        "digest",
    ]
    rng = random.Random(7)
    for i in range(count):
        folder = root / f"f{i % 13}"
        folder.mkdir(exist_ok=True)
        body = " ".join(rng.choice(words) for _ in range(300))
        links = " ".join(f"[[n{rng.randrange(count)}]]" for _ in range(5))
        front = f"---\ntags: [t{i % 7}]\naliases: [alias{i}]\n---\n"
        (folder / f"n{i}.md").write_text(f"{front}# Note {i}\n{body}\n{links} #x{i % 5}\n")


def _orphans(root: Path) -> list[int]:
    """Processes still running an index of this vault, after a short grace period."""
    found: list[int] = []
    for _ in range(30):
        found = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if str(root).encode() in cmdline and b"knowflow" in cmdline:
                found.append(int(proc.name))
        if not found:
            break
        time.sleep(0.2)
    return found


def _start_index(root: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "knowflow", "--vault", str(root), "index", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_kill_minus_nine_at_random_points(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    root.mkdir()
    _make_notes(root, 2500)
    vault = Vault.init(root)
    before = fingerprint(root)
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    assert _start_index(root).wait() == 0
    # Timed warm, as the rebuilds below run: a cold first build can take so much longer
    # that kills aimed at a fraction of it would land after the rebuilds had finished.
    started = time.perf_counter()
    assert _start_index(root, "--rebuild").wait() == 0
    full = time.perf_counter() - started
    killed = round_ = 0
    # Eight rounds, or more while fewer than four landed: a busy machine can make one
    # run faster than the timed one, and a kill that lands after the end tests nothing.
    while round_ < 8 or (killed < 4 and round_ < 16):
        # A rebuild starts from nothing, so there is always work to interrupt;
        # the plain index after it must finish what the killed one left.
        proc = _start_index(root, *(["--rebuild"] if round_ % 2 == 0 else []))
        time.sleep(rng.uniform(0.1, 0.8) * full)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
        if round_ % 3 == 2:  # the vault changes between runs, as it would in life
            victim = root / "f1" / f"n{rng.randrange(1, 2500, 13)}.md"
            victim.write_text(victim.read_text() + f"\nedited in round {round_} [[n0]]\n")
            before = fingerprint(root)
        round_ += 1
    assert killed >= 3, f"seed {seed}: the index finished too fast to be interrupted"
    assert _orphans(root) == [], "worker processes outlived the killed indexer"
    finish = _start_index(root)
    assert finish.wait() == 0, finish.stderr.read() if finish.stderr else ""
    assert fingerprint(root) == before, "a note was modified"
    with Index(vault) as resumed, Index(vault, tmp_path / "fresh.db") as fresh:
        fresh.scan()
        assert resumed.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert resumed.count() == 2500
        assert dump(resumed) == dump(fresh), f"seed {seed}"
