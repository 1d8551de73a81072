"""Importers: what people kept in other tools, brought in as clipping notes.

Each importer reads its file, writes one private clipping note per item,
remembers what it imported in state.db (so importing again adds nothing) and
reports what it added, skipped and could not read, with the reason.

An item's note and its record are one unit, whatever happens: a note is
written before its record, the notes of a batch reach the disk before the
batch's records are committed, and a note that a killed (or disk-full) run
wrote without recording it is found by the next run under the name it would
give it (see ``knowflow.seek.clippings``), so a rerun gives exactly the notes
of one clean run. A quote already in its note is not added to it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.errors import DiskFull, KnowflowError, StorageError, is_disk_full
from knowflow.seek.clippings import Clipping, clippings_folder, find_place, write_new
from knowflow.seek.netscape import Bookmark, read_bookmarks
from knowflow.seek.state import now, record
from knowflow.vault.files import FileStamp, atomic_write, crash_point
from knowflow.vault.vault import Vault

__all__ = ["Bookmark", "ImportResult", "Quote", "import_bookmarks", "import_quotes"]
__all__ += ["read_bookmarks"]

BATCH = 500  # notes per commit: a crash leaves at most this many for the rerun to find


@dataclass
class ImportResult:
    """Counts of one import, with a reason for each item that failed, and warnings about
    items that were imported but not as the file wrote them."""

    added: int = 0
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": self.added,
            "skipped": self.skipped,
            "failed": [{"item": item, "reason": why} for item, why in self.failed],
            "warnings": [{"item": item, "reason": why} for item, why in self.warnings],
        }


def import_bookmarks(vault: Vault, conn: sqlite3.Connection, path: Path) -> ImportResult:
    """A clipping note per bookmark; folders and TAGS become tags; all notes private."""
    result = ImportResult()
    marks = read_bookmarks(path)
    with _batches(conn, result, "bookmarks") as batch:
        for mark in marks:
            where = f"{path.name}:{mark.line}"
            if not mark.url.lower().startswith(("http://", "https://")):
                result.failed.append((where, f"not a web address: {mark.url[:60]}"))
                continue
            key = hashlib.blake2b(mark.url.encode(), digest_size=16).hexdigest()
            if _seen(conn, "bookmarks", key):
                result.skipped += 1
                continue
            clip = Clipping(
                title=mark.title,
                url=mark.url,
                source="bookmarks",
                published=mark.added,
                markdown=mark.description,
                tags=mark.tags,
                extra={"bookmarked": mark.added, "private_bookmark": mark.private},
            )
            note = _write_new(vault, clip, where, result)
            if note is None:
                continue
            crash_point(f"bookmark-written-{result.added + 1}")
            _remember(conn, "bookmarks", key, note.relative_to(vault.root).as_posix())
            result.added += 1
            batch()
    return result


def _write_new(vault: Vault, clip: Clipping, where: str, result: ImportResult) -> Path | None:
    """The clipping's note: written now (without a sync: the batch syncs), or found as an
    earlier run left it; None (and a failure) when this one item cannot be written."""
    try:
        return write_new(clippings_folder(vault), clip, durable=False)[0]
    except StorageError:
        raise
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(f"the disk is full: {clip.stem}.md was not written") from None
        name = Path(exc.filename).name if exc.filename else f"{clip.stem}.md"
        result.failed.append((where, f"{name}: {exc.strerror or exc}"))
        return None


@contextmanager
def _batches(conn: sqlite3.Connection, result: ImportResult, importer: str) -> Iterator[_Batcher]:
    """A write transaction on state.db, committed every BATCH notes (and at the end)
    once the notes it records are on disk; a full disk commits what is done, then says
    so."""
    batcher = _Batcher(conn, result, importer)
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield batcher
        record(conn, f"{importer}_imported", importer, **result.as_dict())
        batcher.commit()
    except StorageError as exc:
        # The disk refused a note: what was written before is kept and recorded (if
        # the disk still takes that much), and the rerun finds the rest.
        with contextlib.suppress(sqlite3.Error):
            batcher.commit()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise type(exc)(
            f"{exc}; {result.added} items were imported before it, each with its note:"
            " run the import again, once the disk takes more, to finish"
        ) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


class _Batcher:
    def __init__(self, conn: sqlite3.Connection, result: ImportResult, importer: str) -> None:
        self.conn, self.result, self.importer, self.pending = conn, result, importer, 0

    def __call__(self) -> None:
        self.pending += 1
        if self.pending >= BATCH:
            self.commit()
            self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        if self.pending:
            os.sync()  # the notes first: a record must never name a note the disk lost
            crash_point(f"{self.importer}-synced")
        self.conn.execute("COMMIT")
        crash_point(f"{self.importer}-committed")
        self.pending = 0


def _seen(conn: sqlite3.Connection, importer: str, key: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM imported WHERE importer = ? AND key = ?", (importer, key)
    ).fetchone()
    return row is not None


def _remember(conn: sqlite3.Connection, importer: str, key: str, note: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO imported (importer, key, note_path, imported_at)"
        " VALUES (?, ?, ?, ?)",
        (importer, key, note, now()),
    )


@dataclass
class Quote:
    """A highlight from another tool, with the document it came from."""

    doc: str  # stable key of the document (book title and author, or address)
    title: str
    author: str | None
    url: str | None
    quote: str  # as read, trimmed: part of the quote's identity
    comment: str | None = None
    where: str = ""  # location in the source file, for error reports and identity
    exact: str | None = None  # the quote as the file wrote it, spacing and all
    prefix: str | None = None
    suffix: str | None = None
    created: str | None = None

    def key(self) -> str:
        ident = f"{self.doc}\x00{self.quote}\x00{self.comment}".encode("utf-8", "replace")
        return hashlib.blake2b(ident, digest_size=16).hexdigest()


def import_quotes(
    vault: Vault, conn: sqlite3.Connection, importer: str, quotes: list[Quote]
) -> ImportResult:
    """One clipping note per document, a highlight callout per quote; new quotes only."""
    result = ImportResult()
    fresh: dict[str, list[Quote]] = {}
    keys: set[str] = set()
    for q in quotes:
        if q.key() in keys or _seen(conn, importer, q.key()):
            result.skipped += 1  # imported before, or twice in this file
        else:
            keys.add(q.key())
            fresh.setdefault(q.doc, []).append(q)
    with _batches(conn, result, importer) as batch:
        for doc, items in fresh.items():
            try:
                path = _add_to_document(vault, conn, importer, doc, items)
            except StorageError:
                raise
            except (OSError, KnowflowError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
                result.failed.append((items[0].where, f"{items[0].title}: {reason}"))
                continue
            crash_point(f"{importer}-document-written")
            rel = path.relative_to(vault.root).as_posix()
            for q in items:
                _remember(conn, importer, q.key(), rel)
            result.added += len(items)
            batch()
    return result


def _add_to_document(
    vault: Vault, conn: sqlite3.Connection, importer: str, doc: str, items: list[Quote]
) -> Path:
    """The document's note with these quotes in it: the note recorded for it, else the
    one a killed run left, else a new one."""
    doc_key = "doc:" + hashlib.blake2b(doc.encode("utf-8", "replace"), digest_size=16).hexdigest()
    row = conn.execute(
        "SELECT note_path FROM imported WHERE importer = ? AND key = ?", (importer, doc_key)
    ).fetchone()
    path = vault.root / row[0] if row else None
    if path is None or not path.exists():
        first = items[0]
        clip = Clipping(
            title=first.title, url=first.url, source=importer, author=first.author, markdown=""
        )
        path = find_place(clippings_folder(vault), clip)
        if not path.exists():
            clip.body = _callouts(items, set())
            atomic_write(path, clip.text())
            _remember(conn, importer, doc_key, path.relative_to(vault.root).as_posix())
            return path
        _remember(conn, importer, doc_key, path.relative_to(vault.root).as_posix())
    _append(path, items)
    return path


def _append(path: Path, items: list[Quote]) -> None:
    """Add the quotes not in the note already (a killed run may have added them)."""
    from knowflow.seek.highlights import highlights

    stamp = FileStamp.of(path)
    text = path.read_text("utf-8")
    there = {(h.quote, h.comment) for h in highlights(text)}
    blocks = _callouts(items, there)
    if blocks:
        atomic_write(path, text.rstrip("\n") + "\n\n" + blocks + "\n", stamp)


def _callouts(items: list[Quote], there: set[tuple[str, str | None]]) -> str:
    from knowflow.seek.highlights import callout, highlights

    blocks = []
    for q in items:
        block = callout(
            q.quote,
            q.comment,
            exact=q.exact,
            prefix=q.prefix,
            suffix=q.suffix,
            created=q.created,
        )
        (h,) = highlights(block + "\n")
        if (h.quote, h.comment) not in there:
            there.add((h.quote, h.comment))
            blocks.append(block)
    return "\n\n".join(blocks)
