"""Seeking: sources in three networks, OPML in and out, feed parsing; fetching comes next."""

from knowflow.seek.feeds import Entry, ParsedFeed, parse_feed, sanitize
from knowflow.seek.opml import ImportReport, import_opml, read_opml, write_opml
from knowflow.seek.sources import KINDS, Source, Sources
from knowflow.seek.state import open_state

__all__ = [
    "KINDS",
    "Entry",
    "ImportReport",
    "ParsedFeed",
    "Source",
    "Sources",
    "import_opml",
    "open_state",
    "parse_feed",
    "read_opml",
    "sanitize",
    "write_opml",
]
