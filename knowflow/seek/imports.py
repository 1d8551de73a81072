"""Importers: what people kept in other tools, brought in as clipping notes.

Each importer reads its file, writes one private clipping note per item,
remembers what it imported in state.db (so importing again adds nothing) and
reports what it added, skipped and could not read, with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from knowflow.errors import KnowflowError
from knowflow.seek.keep import write_clipping
from knowflow.seek.sources import clean_tags
from knowflow.seek.state import now, record
from knowflow.vault.vault import Vault


@dataclass
class ImportResult:
    """Counts of one import, with a reason for each item that failed."""

    added: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "skipped": self.skipped,
            "failed": [{"item": item, "reason": why} for item, why in self.failed],
        }


@dataclass
class Bookmark:
    url: str
    title: str
    tags: list[str]
    added: str | None
    private: bool
    description: str = ""
    line: int = 0


class _NetscapeParser(HTMLParser):
    """The Netscape bookmark file format that browsers and bookmarking services export."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bookmarks: list[Bookmark] = []
        self.folders: list[str] = []
        self._pending_folder: str | None = None
        self._in: str | None = None  # 'h3', 'a' or 'dd'
        self._text: list[str] = []
        self._attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "dl":
            self.folders.append(self._pending_folder or "")
            self._pending_folder = None
        elif tag in ("h3", "a", "dd"):
            self._finish()
            self._in, self._text = tag, []
            self._attrs = {k.lower(): v or "" for k, v in attrs}
            self._attrs["__line"] = str(self.getpos()[0])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h3", "a"):
            self._finish()
        elif tag == "dl":
            self._finish()
            if self.folders:
                self.folders.pop()

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def _finish(self) -> None:
        text = " ".join("".join(self._text).split())
        if self._in == "h3":
            self._pending_folder = text
        elif self._in == "a" and self._attrs.get("href"):
            folder = "/".join(f for f in self.folders if f)
            tags = self._attrs.get("tags", "").replace(" ", ",").split(",")
            self.bookmarks.append(
                Bookmark(
                    url=self._attrs["href"],
                    title=text or self._attrs["href"],
                    tags=clean_tags([*([folder] if folder else []), *tags]),
                    added=_epoch(self._attrs.get("add_date")),
                    private=self._attrs.get("private") == "1",
                    line=int(self._attrs["__line"]),
                )
            )
        elif self._in == "dd" and self.bookmarks and text:
            self.bookmarks[-1].description = text
        self._in, self._text = None, []


def _epoch(value: str | None) -> str | None:
    if not value or not value.strip().isdigit():
        return None
    seconds = int(value)
    if seconds > 10**11:  # some exporters write microseconds
        seconds //= 10**6
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


def read_bookmarks(path: Path) -> list[Bookmark]:
    """Every bookmark in a Netscape bookmark file; KnowflowError if it is not one."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise KnowflowError(f"{path}: {exc.strerror or exc}") from None
    if "<dl" not in text.lower() or "<a " not in text.lower():
        raise KnowflowError(f"{path}: not a bookmark file (no <DL> list of <A> links)")
    parser = _NetscapeParser()
    parser.feed(text)
    parser.close()
    return parser.bookmarks


def import_bookmarks(vault: Vault, conn: sqlite3.Connection, path: Path) -> ImportResult:
    """A clipping note per bookmark; folders and TAGS become tags; all notes private."""
    result = ImportResult()
    conn.execute("BEGIN IMMEDIATE")
    for n, mark in enumerate(read_bookmarks(path), 1):
        if n % 500 == 0:  # commit as we go: a crash loses track of at most a batch
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
        where = f"{path.name}:{mark.line}"
        if not mark.url.lower().startswith(("http://", "https://")):
            result.failed.append((where, f"not a web address: {mark.url[:60]}"))
            continue
        key = hashlib.blake2b(mark.url.encode(), digest_size=16).hexdigest()
        if _seen(conn, "bookmarks", key):
            result.skipped += 1
            continue
        note = write_clipping(
            vault,
            title=mark.title,
            url=mark.url,
            source="bookmarks",
            author=None,
            published=mark.added,
            markdown=mark.description,
            tags=mark.tags,
            extra={"bookmarked": mark.added, "private_bookmark": mark.private},
            durable=False,
        )
        _remember(conn, "bookmarks", key, note.relative_to(vault.root).as_posix())
        result.added += 1
    os.sync()  # the notes were written without a sync each; one for all
    record(conn, "bookmarks_imported", str(path), **result.as_dict())
    conn.execute("COMMIT")
    return result


def _seen(conn: sqlite3.Connection, importer: str, key: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM imported WHERE importer = ? AND key = ?", (importer, key)
    ).fetchone()
    return row is not None


def _remember(conn: sqlite3.Connection, importer: str, key: str, note: str) -> None:
    conn.execute(
        "INSERT INTO imported (importer, key, note_path, imported_at) VALUES (?, ?, ?, ?)",
        (importer, key, note, now()),
    )


@dataclass
class Quote:
    """A highlight from another tool, with the document it came from."""

    doc: str  # stable key of the document (book title and author, or address)
    title: str
    author: str | None
    url: str | None
    quote: str
    comment: str | None = None
    where: str = ""  # location in the source file, for error reports and identity


def import_quotes(
    vault: Vault, conn: sqlite3.Connection, importer: str, quotes: list[Quote]
) -> ImportResult:
    """One clipping note per document, a highlight callout per quote; new quotes only."""
    from knowflow.seek.highlights import callout
    from knowflow.vault.files import FileStamp, atomic_write

    result = ImportResult()
    fresh: dict[str, list[tuple[Quote, str]]] = {}
    for q in quotes:
        ident = f"{q.doc}\x00{q.quote}\x00{q.comment}".encode()
        quote_key = hashlib.blake2b(ident, digest_size=16).hexdigest()
        if _seen(conn, importer, quote_key):
            result.skipped += 1
        else:
            fresh.setdefault(q.doc, []).append((q, quote_key))
    conn.execute("BEGIN IMMEDIATE")
    try:
        for doc, items in fresh.items():
            blocks = "\n\n".join(callout(q.quote, q.comment) for q, _ in items)
            doc_key = "doc:" + hashlib.blake2b(doc.encode(), digest_size=16).hexdigest()
            row = conn.execute(
                "SELECT note_path FROM imported WHERE importer = ? AND key = ?", (importer, doc_key)
            ).fetchone()
            path = vault.root / row[0] if row else None
            if path is not None and path.exists():
                stamp = FileStamp.of(path)
                text = path.read_text("utf-8").rstrip("\n") + "\n\n" + blocks + "\n"
                atomic_write(path, text, stamp)
            else:
                first = items[0][0]
                path = write_clipping(
                    vault,
                    title=first.title,
                    url=first.url,
                    source=importer,
                    author=first.author,
                    published=None,
                    markdown=blocks,
                )
                rel = path.relative_to(vault.root).as_posix()
                conn.execute(
                    "DELETE FROM imported WHERE importer = ? AND key = ?", (importer, doc_key)
                )
                _remember(conn, importer, doc_key, rel)
            for _, quote_key in items:
                _remember(conn, importer, quote_key, path.relative_to(vault.root).as_posix())
            result.added += len(items)
        record(conn, f"{importer}_imported", importer, **result.as_dict())
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return result
