"""Fixtures: vaults built from a dict of files in tmp_path, and their indexes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from knowflow import Index, Vault
from knowflow.cli import cli

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "vault"

Dump = dict[str, list[tuple[object, ...]]]
MakeVault = Callable[[dict[str, str | bytes]], Vault]


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def fingerprint(root: Path) -> dict[str, str]:
    """Hash of every file outside .knowflow/, to prove notes were not touched."""
    out = {}
    for path in sorted(root.rglob("*")):
        if ".knowflow" in path.relative_to(root).parts or not path.is_file():
            continue
        try:
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[str(path.relative_to(root))] = "unreadable"
    return out


def cli_in(root: Path, *, strip: bool = False) -> Callable[..., str]:
    """Run knowflow commands on the vault at root, checking each exit code."""
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(cli, ["--vault", str(root), *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output.strip() if strip else result.output

    return run


def run_unprivileged(args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run knowflow where file permissions apply, even for root."""
    cmd = [sys.executable, "-m", "knowflow", *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if not setpriv:
            pytest.skip("root without setpriv cannot lose its power to read any file")
        caps = "-dac_override,-dac_read_search"
        cmd = [setpriv, f"--inh-caps={caps}", f"--bounding-set={caps}", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


@pytest.fixture
def make_vault(tmp_path: Path) -> MakeVault:
    def make(files: dict[str, str | bytes]) -> Vault:
        root = tmp_path / "vault"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        return Vault.init(root)

    return make


@pytest.fixture
def indexed(make_vault: MakeVault) -> Iterator[Callable[[dict[str, str | bytes]], Index]]:
    opened: list[Index] = []

    def build(files: dict[str, str | bytes]) -> Index:
        index = Index(make_vault(files))
        index.scan()
        opened.append(index)
        return index

    yield build
    for index in opened:
        index.close()


def dump(index: Index) -> Dump:
    """Everything the index derived, keyed by path instead of row ids."""
    q = index.conn.execute
    return {
        "files": q(
            "SELECT path, is_note, title, type, hash, front_matter FROM files ORDER BY path"
        ).fetchall(),
        "links": q(
            "SELECT s.path, l.line, l.kind, l.target, l.subpath, l.status, l.resolved_path"
            " FROM links l JOIN files s ON s.id = l.file_id"
            " ORDER BY 1, 2, 4"
        ).fetchall(),
        "tags": q(
            "SELECT f.path, t.tag, t.line FROM tags t JOIN files f ON f.id = t.file_id"
            " ORDER BY 1, 2"
        ).fetchall(),
        "headings": q(
            "SELECT f.path, h.line, h.text FROM headings h JOIN files f ON f.id = h.file_id"
            " ORDER BY 1, 2"
        ).fetchall(),
        "fts": q(
            "SELECT f.path, n.title, n.body FROM notes_fts n JOIN files f ON f.id = n.rowid"
            " ORDER BY 1"
        ).fetchall(),
        "problems": q("SELECT path, kind, line FROM problems ORDER BY 1, 2").fetchall(),
    }


# The hub's storage, on both backends: a fresh SQLite file and a fresh PostgreSQL
# database per test (tests/hubsupport.py makes and drops them).
@pytest.fixture(params=["sqlite", "postgresql"])  # hubsupport.BACKENDS
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    from .hubsupport import fresh_db

    yield from fresh_db(request.param, tmp_path)


@pytest.fixture
def hub(db: str) -> Iterator[Any]:
    from .hubsupport import make_hub

    made = make_hub(db)
    yield made
    made.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright, one per test module (skipped where it is
    missing, outside CI)."""
    from .websupport import chromium

    with chromium() as launched:
        yield launched
