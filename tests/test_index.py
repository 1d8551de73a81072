"""The index: incremental rescans, deletes, renames, rebuilds, migrations, WAL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from knowflow import Index
from knowflow.errors import DiskFull
from knowflow.index.migrations import INDEX
from knowflow.sense import search

from .conftest import dump

Build = Callable[[dict[str, str | bytes]], Index]


def test_index_lives_in_state_dir_and_records_migrations(indexed: Build) -> None:
    index = indexed({"a.md": "x"})
    assert index.path == index.vault.root / ".knowflow" / "index.db"
    names = [r[0] for r in index.conn.execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in INDEX.steps]
    assert index.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # opening again applies nothing twice
    again = Index(index.vault)
    assert again.conn.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(INDEX.steps)
    again.close()


def test_rescan_reads_only_changed_files(indexed: Build) -> None:
    index = indexed({f"n{i}.md": f"note {i} [[n{i + 1}]]" for i in range(20)})
    report = index.scan()
    assert (report.added, report.updated, report.unchanged) == (0, 0, 20)
    root = index.vault.root
    (root / "n3.md").write_text("changed words [[n4]]")
    report = index.scan()
    assert (report.updated, report.unchanged) == (1, 19)
    assert [h.path for h in search(index, "changed")] == ["n3.md"]


def test_touched_file_with_same_content_is_not_reparsed(indexed: Build) -> None:
    index = indexed({"a.md": "same"})
    path = index.vault.root / "a.md"
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = index.scan()
    assert (report.touched, report.updated) == (1, 0)
    assert index.scan().unchanged == 1


def test_deletes_and_renames(indexed: Build) -> None:
    index = indexed({"a.md": "alpha [[b]]", "b.md": "beta", "c.md": "gamma"})
    root = index.vault.root
    (root / "b.md").rename(root / "b2.md")
    (root / "c.md").unlink()
    report = index.scan()
    assert (report.renamed, report.deleted) == (1, 1)
    assert index.note("b2").path == "b2.md"
    assert index.conn.execute("SELECT count(*) FROM files WHERE path = 'b.md'").fetchone()[0] == 0
    assert [h.path for h in search(index, "gamma")] == []
    assert dump(index)["links"] == [("a.md", 1, "wikilink", "b", "", "unresolved", None)]


def test_rebuild_from_nothing_equals_incremental(indexed: Build) -> None:
    index = indexed(
        {
            "a.md": "---\ntags: [x]\n---\n# A\n[[b]] #t",
            "b.md": "# B\n[[c]]",
            "d/c.md": "see [[a#A]]",
        }
    )
    root = index.vault.root
    (root / "b.md").write_text("# B2\n[[a]] [[gone]]")
    (root / "d" / "c.md").rename(root / "c.md")
    (root / "e.md").write_text("new [[c]]")
    index.scan()
    incremental = dump(index)
    index.rebuild()
    assert dump(index) == incremental
    index.path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(f"{index.path}{suffix}").unlink(missing_ok=True)
    fresh = Index(index.vault)
    fresh.scan()
    assert dump(fresh) == incremental
    fresh.close()


def test_readers_are_not_blocked_while_indexing(indexed: Build) -> None:
    index = indexed({f"n{i}.md": f"word{i} body" for i in range(50)})
    root = index.vault.root
    for i in range(50, 1500):
        (root / f"n{i}.md").write_text(f"word{i} body [[n{i - 1}]]")
    errors: list[Exception] = []
    counts: list[int] = []

    def read() -> None:
        conn = sqlite3.connect(index.path, timeout=0.5)
        try:
            for _ in range(20):
                counts.append(conn.execute("SELECT count(*) FROM files").fetchone()[0])
        except sqlite3.Error as exc:  # pragma: no cover - the failure we test for
            errors.append(exc)
        finally:
            conn.close()

    writer = threading.Thread(target=index.scan)
    writer.start()
    reader = threading.Thread(target=read)
    reader.start()
    writer.join()
    reader.join()
    assert not errors
    assert counts and min(counts) >= 50
    assert index.count() == 1500


def test_damaged_or_foreign_index_is_rebuilt(indexed: Build) -> None:
    index = indexed({"a.md": "alpha [[b]]", "b.md": "beta"})
    expected = dump(index)
    index.close()
    index.path.write_bytes(b"this is not a database" * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{index.path}{suffix}").unlink(missing_ok=True)
    with pytest.warns(UserWarning, match="unusable"):
        again = Index(index.vault)
    again.scan()
    assert dump(again) == expected
    again.close()
    # An index from a schema no migration reaches is started afresh too.
    conn = sqlite3.connect(again.path)
    conn.execute("DROP TABLE links")
    conn.execute("CREATE TABLE links (id INTEGER PRIMARY KEY, resolved_id INTEGER)")
    conn.execute("DELETE FROM _migrations WHERE name != 'm001_initial'")
    conn.commit()
    conn.close()
    with pytest.warns(UserWarning, match="unusable"):
        third = Index(index.vault)
    third.scan()
    assert dump(third) == expected
    third.close()


def test_the_next_index_clears_builds_that_were_killed(indexed: Build) -> None:
    index = indexed({"a.md": "alpha"})
    index.close()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    state = index.path.parent
    for name in (f"index.db.{gone.pid}.new", f"index.db.{gone.pid}.new-journal"):
        (state / name).write_bytes(b"half a build" * 1000)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (state / f"index.db.{running.pid}.new").write_bytes(b"a build still running")
        result = subprocess.run(
            [sys.executable, "-m", "knowflow", "--vault", str(index.vault.root), "index"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        left = sorted(p.name for p in state.iterdir() if ".new" in p.name)
        assert left == [f"index.db.{running.pid}.new"]
    finally:
        running.kill()
        running.wait()


def test_an_io_error_never_discards_the_index(
    indexed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = indexed({"a.md": "alpha"})
    index.close()
    before = index.path.read_bytes()

    def refuse(path: str, *, bulk: bool = False) -> sqlite3.Connection:
        conn = sqlite3.connect(":memory:")
        conn.execute("CREATE TABLE t (x)")
        conn.execute("PRAGMA max_page_count = 1")
        try:  # a real SQLITE_FULL, as a full disk gives it
            conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
        finally:
            conn.close()
        raise AssertionError("unreachable")

    import knowflow.index.index as index_module

    monkeypatch.setattr(index_module, "open_db", refuse)
    with pytest.raises(DiskFull, match="kept as it was"):
        Index(index.vault)
    assert index.path.read_bytes() == before
