"""The derived SQLite index: rebuilt from the vault's files, safe to delete."""

from knowflow.index.index import Index, NoteRef
from knowflow.index.scan import ScanReport

__all__ = ["Index", "NoteRef", "ScanReport"]
