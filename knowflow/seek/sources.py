"""Sources: the feeds a person follows, each in one of three networks.

A source's kind says how knowledge flows through it: ``team`` (collaboration
on shared work), ``community`` (a community of practice) or ``network`` (the
open web, for diversity).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from knowflow.errors import SourceExists, SourceNotFound
from knowflow.seek.state import now, record

KINDS = ("team", "community", "network")


@dataclass(frozen=True, slots=True)
class Source:
    """A followed feed."""

    id: int
    name: str
    url: str
    kind: str
    tags: list[str] = field(default_factory=list)
    site_url: str | None = None
    paused: bool = False
    dead: bool = False
    last_fetched: str | None = None
    last_error: str | None = None
    failures: int = 0
    warning: str | None = None  # what the last fetch could not read cleanly

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "url": self.url,
            "kind": self.kind,
            "tags": self.tags,
            "site_url": self.site_url,
            "paused": self.paused,
            "dead": self.dead,
            "last_fetched": self.last_fetched,
            "last_error": self.last_error,
            "failures": self.failures,
            "warning": self.warning,
        }


_COLUMNS = (
    "id, name, url, kind, tags, site_url, paused, dead, last_fetched, last_error, failures, warning"
)


def _source(row: tuple[object, ...]) -> Source:
    sid, name, url, kind, tags, site, paused, dead, fetched, error, failures, warning = row
    return Source(
        int(sid),  # type: ignore[call-overload]
        str(name),
        str(url),
        str(kind),
        json.loads(str(tags)),
        site if isinstance(site, str) else None,
        bool(paused),
        bool(dead),
        fetched if isinstance(fetched, str) else None,
        error if isinstance(error, str) else None,
        int(failures),  # type: ignore[call-overload]
        warning if isinstance(warning, str) else None,
    )


def check_kind(kind: str) -> str:
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{url!r} is not an http(s) address")
    return url


def clean_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for tag in tags:
        tag = tag.strip().lstrip("#").strip("/")
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return list(seen.values())


class Sources:
    """The sources stored in a vault's state database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def add(
        self,
        url: str,
        name: str | None = None,
        kind: str = "network",
        tags: Iterable[str] = (),
        site_url: str | None = None,
    ) -> Source:
        """Follow a feed; its name defaults to the address's host, or host and path when
        another source of that host has it (two feeds of one site)."""
        url = check_url(url)
        kind = check_kind(kind)
        name = (name or self._default_name(url)).strip()
        if not name:
            raise ValueError("a source needs a name")
        clash = self.conn.execute(
            "SELECT name FROM sources WHERE url = ? OR name = ?", (url, name)
        ).fetchone()
        if clash:
            raise SourceExists(f"already following {clash[0]!r} at that name or address")
        self.conn.execute(
            "INSERT INTO sources (name, url, site_url, kind, tags, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, url, site_url, kind, json.dumps(clean_tags(tags)), now()),
        )
        record(self.conn, "source_added", name, url=url, kind=kind)
        return self.get(name)

    def _default_name(self, url: str) -> str:
        parts = urlsplit(url)
        taken = self.conn.execute("SELECT 1 FROM sources WHERE name = ?", (parts.netloc,))
        if taken.fetchone() is None:
            return parts.netloc
        return (parts.netloc + parts.path).rstrip("/")

    def list(self, kind: str | None = None, tag: str | None = None) -> list[Source]:
        """Sources in name order, optionally of one kind or carrying a tag (or one below it)."""
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM sources ORDER BY name COLLATE NOCASE")
        found = [_source(r) for r in rows]
        if kind:
            found = [s for s in found if s.kind == check_kind(kind)]
        if tag:
            want = tag.lstrip("#").casefold()
            found = [
                s
                for s in found
                if any(t.casefold() == want or t.casefold().startswith(want + "/") for t in s.tags)
            ]
        return found

    def get(self, name_or_url: str) -> Source:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM sources WHERE name = ? OR url = ?",
            (name_or_url.strip(), name_or_url.strip()),
        ).fetchone()
        if row is None:
            raise SourceNotFound(f"no source named {name_or_url!r}")
        return _source(row)

    def rename(self, name: str, new_name: str) -> Source:
        source = self.get(name)
        new_name = new_name.strip()
        if not new_name:
            raise ValueError("a source needs a name")
        other = self.conn.execute(
            "SELECT id FROM sources WHERE name = ? AND id != ?", (new_name, source.id)
        ).fetchone()
        if other:
            raise SourceExists(f"a source is already named {new_name!r}")
        self.conn.execute("UPDATE sources SET name = ? WHERE id = ?", (new_name, source.id))
        record(self.conn, "source_renamed", new_name, old=source.name)
        return self.get(new_name)

    def set_paused(self, name: str, paused: bool) -> Source:
        source = self.get(name)
        self.conn.execute("UPDATE sources SET paused = ? WHERE id = ?", (int(paused), source.id))
        record(self.conn, "source_paused" if paused else "source_resumed", source.name)
        return self.get(source.name)

    def remove(self, name: str) -> Source:
        source = self.get(name)
        self.conn.execute("DELETE FROM sources WHERE id = ?", (source.id,))
        record(self.conn, "source_removed", source.name, url=source.url)
        return source


def unread_by_source(conn: sqlite3.Connection) -> dict[int, int]:
    """How many new (unread) entries each source has in the stream, by source id."""
    rows = conn.execute("SELECT source_id, count(*) FROM entries WHERE state = 'new' GROUP BY 1")
    return {int(sid): int(count) for sid, count in rows}
