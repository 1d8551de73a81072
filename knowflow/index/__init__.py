"""The derived SQLite index: rebuilt from the vault's files, safe to delete."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from knowflow.index.index import Index, NoteRef

if TYPE_CHECKING:
    from knowflow.index.scan import ScanReport

__all__ = ["Index", "NoteRef", "ScanReport"]


def __getattr__(name: str) -> Any:
    if name == "ScanReport":  # the scanner loads only when something scans
        from knowflow.index.scan import ScanReport

        return ScanReport
    raise AttributeError(f"module 'knowflow.index' has no attribute {name!r}")
