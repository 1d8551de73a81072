"""knowflow: a local-first personal knowledge mastery system.

The Python API is complete on its own; the CLI is a thin layer over it::

    from knowflow import Vault, Index, search
    index = Index(Vault("~/notes"))
    index.scan()
    for hit in search(index, 'tag:pkm "sense making"'):
        print(hit.path, hit.snippet)

Names are imported on first use, so that a command pays only for what it runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from knowflow.errors import (
    AmbiguousNote,
    ConflictError,
    KnowflowError,
    NoteExists,
    NoteNotFound,
    QueryError,
    VaultNotFound,
)

if TYPE_CHECKING:
    from knowflow.index import Index, ScanReport
    from knowflow.sense.search import search
    from knowflow.vault import Vault

__version__ = "0.1.0"
_HOMES = {
    "Index": "knowflow.index",
    "ScanReport": "knowflow.index",
    "search": "knowflow.sense.search",
    "Vault": "knowflow.vault",
}
__all__ = [
    "AmbiguousNote",
    "ConflictError",
    "Index",
    "KnowflowError",
    "NoteExists",
    "NoteNotFound",
    "QueryError",
    "ScanReport",
    "Vault",
    "VaultNotFound",
    "search",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'knowflow' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
