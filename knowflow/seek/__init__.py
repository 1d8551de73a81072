"""Seeking: sources in three networks, and OPML in and out (fetching and the stream follow)."""

from knowflow.seek.opml import ImportReport, import_opml, read_opml, write_opml
from knowflow.seek.sources import KINDS, Source, Sources
from knowflow.seek.state import open_state

__all__ = [
    "KINDS",
    "ImportReport",
    "Source",
    "Sources",
    "import_opml",
    "open_state",
    "read_opml",
    "write_opml",
]
