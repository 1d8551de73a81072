"""Notes as files: parse, write atomically, resolve links. Knows nothing of the index.

Names are imported on first use: parsing pulls in YAML and the Markdown scanner,
which a command that only looks something up does not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Eager: `resolve` is also the name of a module here, which would shadow a lazy name.
from knowflow.vault.resolve import Candidate, Resolution, resolve

if TYPE_CHECKING:
    from knowflow.vault.files import FileStamp, atomic_write, walk_vault
    from knowflow.vault.note import Note, Problem, parse_note
    from knowflow.vault.vault import Vault

_HOMES = {
    "FileStamp": "files",
    "Note": "note",
    "Problem": "note",
    "Vault": "vault",
    "atomic_write": "files",
    "parse_note": "note",
    "walk_vault": "files",
}
__all__ = [
    "Candidate",
    "FileStamp",
    "Note",
    "Problem",
    "Resolution",
    "Vault",
    "atomic_write",
    "parse_note",
    "resolve",
    "walk_vault",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'knowflow.vault' has no attribute {name!r}")
    return getattr(importlib.import_module(f"knowflow.vault.{_HOMES[name]}"), name)
