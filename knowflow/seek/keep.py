"""Keeping an entry: a clipping note in the vault, the person's own words at the top.

The note is private (``share: private``) until the person shares it, written
atomically, and never written twice for the same entry: the entry's row is
locked (a write transaction on state.db) from the moment its note is looked
for until it records the note, so two ``keep``s of one entry at once make one
note; and a note written by a ``keep`` killed before it could record it is
found again by the next one (see ``knowflow.seek.clippings``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from knowflow.errors import KnowflowError
from knowflow.seek.clean import bounded_depth
from knowflow.seek.clippings import CLIPPINGS_FOLDER, Clipping, save_clipping, write_clipping
from knowflow.seek.notetext import SAFE_SCHEMES
from knowflow.seek.state import record
from knowflow.vault.files import crash_point
from knowflow.vault.vault import Vault

__all__ = ["CLIPPINGS_FOLDER", "Kept", "html_to_markdown", "keep", "keep_entry", "write_clipping"]


MARKDOWN_DEPTH = 64  # deeper than any real page's text nests


def html_to_markdown(html: str) -> str:
    """Readable Markdown from HTML: cleaned by nh3 first (links and images to http,
    https and mailto only), its text kept as text (a ``[`` or ``<`` in it is escaped)."""
    import nh3
    from markdownify import markdownify

    # markdownify recurses once an element: nesting is bounded well below Python's
    # recursion limit first (deeper elements keep their text, lose their tags).
    clean = nh3.clean(bounded_depth(html, limit=MARKDOWN_DEPTH), url_schemes=set(SAFE_SCHEMES))
    text = markdownify(clean, heading_style="ATX", bullets="-", strip=["img"], escape_misc=True)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


@dataclass(frozen=True, slots=True)
class Kept:
    """What keeping an entry did: its note, whether it was written now, and what was
    left out of it (an entry's own link that is not a web address)."""

    path: Path
    written: bool
    warnings: tuple[str, ...] = ()  # what was left out of it, and why


def keep(
    vault: Vault,
    conn: sqlite3.Connection,
    entry_id: int,
    *,
    tags: Iterable[str] = (),
    note: str | None = None,
    full_text: str | None = None,
) -> Path:
    """Write the entry as a clipping note and mark it kept; returns the note's path.

    ``full_text`` (Markdown, say the main text of the linked page) replaces the
    feed's own text of the entry."""
    return keep_entry(vault, conn, entry_id, tags=tags, note=note, full_text=full_text).path


def keep_entry(
    vault: Vault,
    conn: sqlite3.Connection,
    entry_id: int,
    *,
    tags: Iterable[str] = (),
    note: str | None = None,
    full_text: str | None = None,
) -> Kept:
    """``keep``, saying whether the note was written now and what was left out."""
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN IMMEDIATE")  # one keeper of this vault's entries at a time
    try:
        kept = _keep_locked(vault, conn, entry_id, tags, note, full_text)
        if own:
            conn.execute("COMMIT")
    except BaseException:
        if own and conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return kept


def _keep_locked(
    vault: Vault,
    conn: sqlite3.Connection,
    entry_id: int,
    tags: Iterable[str],
    note: str | None,
    full_text: str | None,
) -> Kept:
    row = conn.execute(
        "SELECT e.title, e.link, e.author, coalesce(e.published, e.updated), e.html,"
        " e.note_path, s.name, e.warning"
        " FROM entries e JOIN sources s ON s.id = e.source_id WHERE e.id = ?",
        (entry_id,),
    ).fetchone()
    if row is None:
        raise KnowflowError(f"no entry {entry_id} in the stream")
    title, link, author, published, html, note_path, source, warning = row
    if note_path and (vault.root / note_path).exists():
        return Kept(vault.root / str(note_path), False)  # kept before: never a second note
    clip = Clipping(
        title=title or f"Entry {entry_id}",
        url=link,
        source=source,
        author=author,
        published=published,
        markdown=full_text or html_to_markdown(html),
        tags=tags,
        note=note,
        strict=True,
        warning=warning,  # the entry's link, left out when the feed was read
    )
    path, written = save_clipping(vault, clip)
    crash_point("keep-note-written")
    rel = path.relative_to(vault.root).as_posix()
    conn.execute("UPDATE entries SET state = 'kept', note_path = ? WHERE id = ?", (rel, entry_id))
    record(conn, "entry_kept", clip.title, entry=entry_id, note=rel, source=source)
    return Kept(path, written, tuple(clip.warnings()))
