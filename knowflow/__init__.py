"""knowflow: a local-first personal knowledge mastery system.

The Python API is complete on its own; the CLI is a thin layer over it::

    from knowflow import Vault, Index, search
    index = Index(Vault("~/notes"))
    index.scan()
    for hit in search(index, 'tag:pkm "sense making"'):
        print(hit.path, hit.snippet)
"""

from knowflow.errors import (
    AmbiguousNote,
    ConflictError,
    KnowflowError,
    NoteExists,
    NoteNotFound,
    QueryError,
    VaultNotFound,
)
from knowflow.index import Index, ScanReport
from knowflow.sense import search
from knowflow.vault import Vault

__version__ = "0.1.0"
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
