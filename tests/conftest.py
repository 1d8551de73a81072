"""Fixtures: vaults built from a dict of files in tmp_path, and their indexes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from knowflow import Index, Vault

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "vault"

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
