"""One note per item, whatever happens: `import bookmarks` and `keep` killed (kill -9)
at random moments and at injected points, then run again, give exactly what one
clean run gives: the same notes with the same text (but the time each was
captured), the same records in state.db, no duplicate, no stray temporary file.
Two `keep`s of one entry at once make one note.

Injected points are ``KNOWFLOW_CRASH_AT=name`` (knowflow.vault.files.crash_point):
``bookmark-written-N`` after the N-th new note is written and before its record,
``bookmarks-synced`` after a batch's notes reached the disk and before its records
are committed, ``bookmarks-committed`` right after (``kindle-...`` for a Kindle
import, ``kindle-document-written`` after a book's note is written),
``keep-note-written`` between a kept note and the entry's record of it.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.feeds import Entry
from knowflow.seek.stream import store_entries

COUNT = 200


def _bookmarks(path: Path) -> Path:
    lines = [
        f'<DT><A HREF="https://e.org/{i}" ADD_DATE="{1700000000 + i}" TAGS="t{i % 7}">'
        f"{'Plain Book' if i % 9 == 0 else f'Page {i % 60}'}</A>\n<DD>About {i}, and more."
        for i in range(COUNT)
    ]
    path.write_text("<DL><p>\n<DT><H3>Personal toolbar</H3>\n<DL><p>\n" + "\n".join(lines))
    return path


def _run(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "knowflow", "--vault", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def _result(root: Path) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """Every file outside .knowflow/ (hidden ones too: a stray temporary file counts),
    its text without the time it was captured, and what state.db recorded."""
    files = {
        str(p.relative_to(root)): re.sub(r"(?m)^captured: .*\n", "", p.read_text())
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".knowflow" not in p.relative_to(root).parts
    }
    conn = sqlite3.connect(root / ".knowflow" / "state.db")
    rows = conn.execute("SELECT importer, key, note_path FROM imported ORDER BY 1, 2").fetchall()
    conn.close()
    return files, rows


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("empty") / "vault"
    Vault.init(root)
    open_state(Vault(root)).close()
    return root


def _fresh(empty: Path, where: Path) -> Path:
    shutil.copytree(empty, where)
    return where


def test_killed_imports_finish_as_one_clean_run(empty: Path, tmp_path: Path) -> None:
    marks = _bookmarks(tmp_path / "bookmarks.html")
    clean = _fresh(empty, tmp_path / "clean")
    started = time.perf_counter()
    _finish(_run(clean, "import", "bookmarks", str(marks)))
    took = time.perf_counter() - started
    expected = _result(clean)
    assert len(expected[0]) == COUNT and len(expected[1]) == COUNT
    assert "clippings/Plain Book (2).md" in expected[0]
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    points = ["bookmark-written-1", "bookmark-written-111", "bookmarks-synced"]
    points += ["bookmarks-committed", f"bookmark-written-{COUNT}"]
    trials: list[str | float] = [*points, *(rng.uniform(0.3, 0.95) for _ in range(3))]
    for n, trial in enumerate(trials):
        root = _fresh(empty, tmp_path / f"killed{n}")
        if isinstance(trial, str):
            proc = _run(root, "import", "bookmarks", str(marks), env={"KNOWFLOW_CRASH_AT": trial})
            proc.communicate(timeout=60)
            assert proc.returncode == 137, (trial, proc.returncode)
        else:
            proc = _run(root, "import", "bookmarks", str(marks))
            time.sleep(trial * took)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
        _finish(_run(root, "import", "bookmarks", str(marks)))
        assert _result(root) == expected, f"seed {seed}, trial {trial}"


def _stream(root: Path) -> None:
    conn = open_state(Vault(root))
    source = Sources(conn).add("https://feed.example/", name="Feed")
    entries = [
        Entry(
            f"e{i}",
            "Same title" if i < 3 else f"Entry {i}",
            f"https://e.org/post/{i}",
            "Ada",
            "2026-11-20T10:00:00+00:00",
            None,
            f"<p>Text of entry {i}, <a href='https://x.org/{i}'>a link</a>.</p>",
            f"h{i}",
        )
        for i in range(5)
    ]
    store_entries(conn, source.id, entries)
    conn.close()


def _kept(root: Path) -> tuple[dict[str, str], list[tuple[int, str, str]]]:
    files = _result(root)[0]
    conn = sqlite3.connect(root / ".knowflow" / "state.db")
    rows = conn.execute("SELECT id, state, note_path FROM entries ORDER BY id").fetchall()
    conn.close()
    return files, rows


def test_killed_keeps_and_keeps_at_once_make_one_note(empty: Path, tmp_path: Path) -> None:
    clean = _fresh(empty, tmp_path / "clean")
    _stream(clean)
    for entry in range(1, 6):
        _finish(_run(clean, "keep", str(entry), "--tag", "kept"))
    expected = _kept(clean)
    assert sum(p.startswith("clippings/Same title") for p in expected[0]) == 3
    seed = int(os.environ.get("KILL_SEED", time.time()))
    rng = random.Random(seed)
    root = _fresh(empty, tmp_path / "killed")
    _stream(root)
    for entry in range(1, 6):
        args = ("keep", str(entry), "--tag", "kept")
        if entry % 2:
            proc = _run(root, *args, env={"KNOWFLOW_CRASH_AT": "keep-note-written"})
            proc.communicate(timeout=60)
            assert proc.returncode == 137
        else:
            proc = _run(root, *args)
            time.sleep(rng.uniform(0.2, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
        # Then two at once, each a process of its own: one note, both name it.
        first, second = _run(root, *args), _run(root, *args)
        assert _finish(first) == _finish(second)
    assert _kept(root) == expected, f"seed {seed}"


def test_temporary_files_of_killed_writes_are_cleared(empty: Path, tmp_path: Path) -> None:
    root = _fresh(empty, tmp_path / "v")
    folder = root / "clippings"
    folder.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = folder / f".Page 1.md.{dead.pid}.k3j2h1g0.tmp"
    stale.write_text("half a note")
    mine = folder / f".Page 2.md.{os.getpid()}.a1b2c3d4.tmp"  # a writer still running
    mine.write_text("being written")
    marks = _bookmarks(tmp_path / "bookmarks.html")
    _finish(_run(root, "import", "bookmarks", str(marks)))
    assert not stale.exists() and mine.exists()
    search = _run(root, "search", "being written", "--json")
    out, _ = search.communicate(timeout=60)
    assert search.returncode == 1 and "Page 2.md." not in out  # found nowhere: never indexed


def test_a_killed_highlight_import_finishes_as_one_clean_run(empty: Path, tmp_path: Path) -> None:
    clippings = tmp_path / "My Clippings.txt"
    clippings.write_text(
        "".join(
            f"Plain Book (Author {i % 3})\n- Your Highlight on page {i} | Location {i}-{i + 1}"
            f" | Added on Monday, March 6, 2023 9:15:32 AM\n\nQuote {i}.\n==========\n"
            for i in range(12)
        )
    )
    clean = _fresh(empty, tmp_path / "clean")
    _finish(_run(clean, "import", "kindle", str(clippings)))
    expected = _result(clean)
    for point in ("kindle-document-written", "kindle-synced", "kindle-committed"):
        root = _fresh(empty, tmp_path / point)
        proc = _run(root, "import", "kindle", str(clippings), env={"KNOWFLOW_CRASH_AT": point})
        proc.communicate(timeout=60)
        assert proc.returncode == 137, point
        _finish(_run(root, "import", "kindle", str(clippings)))
        assert _result(root) == expected, point
