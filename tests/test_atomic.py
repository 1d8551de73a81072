"""Writes are atomic and refuse to overwrite a file changed since it was read."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import ConflictError, NoteExists, Vault
from knowflow.vault.files import FileStamp, atomic_write


def test_write_replaces_whole_file_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("old")
    path.chmod(0o640)
    stamp = FileStamp.of(path)
    new = atomic_write(path, "new text", stamp)
    assert path.read_text() == "new text"
    assert (path.stat().st_mode & 0o777) == 0o640
    assert new == FileStamp.of(path)
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]  # no temp file left


def test_conflict_when_changed_since_read(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("old")
    stamp = FileStamp.of(path)
    path.write_text("edited elsewhere")
    os.utime(path, ns=(0, stamp.mtime_ns + 1_000_000))
    with pytest.raises(ConflictError):
        atomic_write(path, "mine", stamp)
    assert path.read_text() == "edited elsewhere"
    assert [p.name for p in tmp_path.iterdir()] == ["n.md"]


def test_touched_but_same_content_is_not_a_conflict(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("same")
    stamp = FileStamp.of(path)
    os.utime(path, ns=(0, stamp.mtime_ns + 1_000_000))
    atomic_write(path, "mine", stamp)
    assert path.read_text() == "mine"


def test_deleted_since_read_and_new_file_exists(tmp_path: Path) -> None:
    path = tmp_path / "n.md"
    path.write_text("x")
    stamp = FileStamp.of(path)
    path.unlink()
    with pytest.raises(ConflictError):
        atomic_write(path, "mine", stamp)
    assert not path.exists()
    path.write_text("someone else's")
    with pytest.raises(ConflictError):
        atomic_write(path, "mine")  # expected=None means: must not exist
    assert path.read_text() == "someone else's"


def test_new_note_from_template(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    (vault.state_dir / "templates" / "note.md").write_text("# {{title}}\nmade {{date}}\n")
    path = vault.new_note("Idea: one/two?")
    assert path.parent == vault.root
    assert path.name == "Idea  one two.md"
    # the file name could not hold the title, so the front matter does
    assert path.read_text().startswith(
        "---\ntitle: 'Idea: one/two?'\n---\n# Idea: one/two?\nmade 20"
    )
    with pytest.raises(NoteExists):
        vault.new_note("Idea: one/two?")
    with pytest.raises(ValueError):
        vault.new_note("x", folder="../outside")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real file system of 6 MB (a tmpfs, mounted as root), unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small file system")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path, leave_kb: int) -> Path:
    """Fill the disk but for about leave_kb kilobytes."""
    filler = disk / "filler"
    filler.unlink(missing_ok=True)
    st = os.statvfs(disk)
    size = max(0, st.f_bavail * st.f_frsize - leave_kb * 1024)
    with filler.open("wb") as fh, contextlib.suppress(OSError):
        fh.write(b"\0" * size)
    return filler


def test_a_full_disk_is_said_and_nothing_is_lost(small_disk: Path) -> None:
    root = small_disk / "vault"
    root.mkdir()
    for i in range(40):
        body = " ".join(f"word{i}x{j}" for j in range(400))
        (root / f"n{i}.md").write_text(f"---\nshare: public\n---\n# N{i}\n{body}\n[[n1]]\n")
    Vault.init(root)

    def knowflow(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "knowflow", "--vault", str(root), *args]
        return subprocess.run(cmd, capture_output=True, text=True)

    site = small_disk / "site"
    assert knowflow("index").returncode == 0
    assert knowflow("publish", "--audience", "public", "--out", str(site)).returncode == 0
    assert knowflow("source", "add", "http://127.0.0.1:9/feed", "--no-discover").returncode == 0
    index_db = root / ".knowflow" / "index.db"
    pages = {p.name: p.read_bytes() for p in site.iterdir() if p.is_file()}
    for i in range(40, 70):  # work for the next scan, which will not find room for it
        (root / f"n{i}.md").write_text(f"# N{i}\n" + " ".join(f"new{i}x{j}" for j in range(900)))

    _fill(small_disk, 0)
    for args in (
        ["search", "word1x1"],
        ["index"],
        ["new", "Idea"],
        ["share", "n2", "public"],
        ["update"],
    ):
        result = knowflow(*args)
        assert result.returncode == 5, (args, result.stderr)
        assert "disk is full" in result.stderr and "Traceback" not in result.stderr, args
        assert index_db.stat().st_size > 0, args  # never deleted for a full disk
    assert not (root / "Idea.md").exists()

    _fill(small_disk, 200)  # room to open the index, not to bring it up to date
    for args in (["search", "word1x1"], ["index"], ["index", "--rebuild"]):
        result = knowflow(*args)
        assert result.returncode == 5, (args, result.stderr)
        assert "disk is full" in result.stderr and "kept" in result.stderr, args
    config = root / ".knowflow" / "config.toml"  # a new title: every page is written again
    config.write_text(config.read_text() + '\n[share]\nsite_title = "Renamed"\n')
    result = knowflow("--no-scan", "publish", "--audience", "public", "--out", str(site))
    assert result.returncode == 5 and "site at" in result.stderr, result.stderr
    assert {p.name: p.read_bytes() for p in site.iterdir() if p.is_file()} == pages

    (small_disk / "filler").unlink()
    assert knowflow("index").returncode == 0
    found = knowflow("search", "new55x3")
    assert found.returncode == 0 and "n55.md" in found.stdout
    leftovers = [p.name for p in small_disk.rglob("*") if p.name.endswith((".new", ".tmp"))]
    leftovers += [p.name for p in small_disk.iterdir() if "knowflow-" in p.name]
    assert leftovers == []


def test_an_error_of_the_system_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import sqlite3

    from click.testing import CliRunner

    from knowflow.cli import cli

    Vault.init(tmp_path / "v")
    # SQLite undoes a transaction the disk refused, and the rollback after it fails:
    # the full disk is the first error of the chain, and the one said.
    second = sqlite3.OperationalError("cannot rollback - no transaction is active")
    second.__context__ = OSError(errno.ENOSPC, "No space left on device", "/disk/z")
    for error, said in (
        (second, "disk is full (/disk/z)"),
        (OSError(errno.EIO, "Input/output error", "/disk/x"), "Input/output error: /disk/x"),
        (OSError(errno.ENOSPC, "No space left on device", "/disk/y"), "disk is full (/disk/y)"),
        (sqlite3.OperationalError("database is locked"), "database is locked"),
    ):

        def fail(*args: object, error: Exception = error) -> None:
            raise error

        monkeypatch.setattr("knowflow.cli.share.audiences", fail)
        result = CliRunner().invoke(cli, ["--vault", str(tmp_path / "v"), "audiences"])
        assert result.exit_code == 5 and said in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("old")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    atomic_write(link, "new", FileStamp.of(link))
    assert link.is_symlink() and real.read_text() == "new"
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere.md")
    with pytest.raises(ConflictError):
        atomic_write(dangling, "x")  # a new file must not appear where a link points
    assert not (tmp_path / "nowhere.md").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.md", "link.md", "real.md"]


def test_a_new_file_gets_the_mode_the_umask_gives(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.md", "text", None)
        os.umask(0o077)
        atomic_write(tmp_path / "private.md", "text", None)
    finally:
        os.umask(old)
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "private.md").stat().st_mode & 0o777 == 0o600
