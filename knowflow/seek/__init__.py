"""Seeking: sources in three networks, OPML, feeds, the stream, capture and highlights.

Names are imported on first use, so that commands which never touch the network
do not pay for loading its libraries.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "KINDS": "sources",
    "Source": "sources",
    "Sources": "sources",
    "open_state": "state",
    "ImportReport": "opml",
    "import_opml": "opml",
    "read_opml": "opml",
    "write_opml": "opml",
    "Entry": "feeds",
    "ParsedFeed": "feeds",
    "parse_feed": "feeds",
    "sanitize": "feeds",
    "Stream": "stream",
    "keep": "keep",
    "capture": "capture",
    "fetch_page": "capture",
    "update": "update",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'knowflow.seek' has no attribute {name!r}")
    return getattr(importlib.import_module(f"knowflow.seek.{_HOMES[name]}"), name)
