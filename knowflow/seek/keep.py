"""Keeping an entry: a clipping note in the vault, the person's own words at the top.

The note is private (``share: private``) until the person shares it, written
atomically, and never written twice for the same entry.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from markdownify import markdownify

from knowflow.errors import KnowflowError
from knowflow.seek.sources import clean_tags
from knowflow.seek.state import now, record
from knowflow.vault.files import atomic_write
from knowflow.vault.frontmatter import dump_front_matter
from knowflow.vault.vault import Vault

CLIPPINGS_FOLDER = "clippings"
_UNSAFE = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f]')


def html_to_markdown(html: str) -> str:
    """Readable Markdown from sanitized HTML."""
    text = markdownify(html, heading_style="ATX", bullets="-", strip=["img"])
    return re.sub(r"\n{3,}", "\n\n", text).strip()


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
    row = conn.execute(
        "SELECT e.title, e.link, e.author, coalesce(e.published, e.updated), e.html,"
        " e.note_path, s.name"
        " FROM entries e JOIN sources s ON s.id = e.source_id WHERE e.id = ?",
        (entry_id,),
    ).fetchone()
    if row is None:
        raise KnowflowError(f"no entry {entry_id} in the stream")
    title, link, author, published, html, note_path, source = row
    if note_path and (vault.root / note_path).exists():
        return vault.root / str(note_path)  # kept before: never a second note
    path = write_clipping(
        vault,
        title=title or f"Entry {entry_id}",
        url=link,
        source=source,
        author=author,
        published=published,
        markdown=full_text or html_to_markdown(html),
        tags=tags,
        note=note,
    )
    rel = path.relative_to(vault.root).as_posix()
    conn.execute("UPDATE entries SET state = 'kept', note_path = ? WHERE id = ?", (rel, entry_id))
    record(conn, "entry_kept", title, entry=entry_id, note=rel, source=source)
    return path


def write_clipping(
    vault: Vault,
    *,
    title: str,
    url: str | None,
    source: str | None,
    author: str | None,
    published: str | None,
    markdown: str,
    tags: Iterable[str] = (),
    note: str | None = None,
    extra: dict[str, object] | None = None,
    durable: bool = True,
) -> Path:
    """A new private clipping note in the vault's clippings folder, written atomically."""
    folder = vault.folder_setting("seek", "clippings_folder", CLIPPINGS_FOLDER)
    path = _free_path(folder, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    front: dict[str, object] = {
        "type": "clipping",
        "url": url,
        "source": source,
        "author": author,
        "published": published,
        "captured": now(),
        "share": "private",
        "tags": clean_tags(tags),
        **(extra or {}),
    }
    # A key without a value is left out (no `author: null`), as a person would write it.
    front = {k: v for k, v in front.items() if v is not None and v != ""}
    if note and note.strip():
        # Also kept apart from the text, so that a digest can quote it exactly.
        front["comment"] = " ".join(note.split())
    front_text = dump_front_matter(front)
    parts = ["---", front_text, "---", f"# {title}", ""]
    if note:
        parts += [note.strip(), ""]
    parts += [markdown.strip(), ""]
    atomic_write(path, "\n".join(parts), durable=durable)
    return path


def _free_path(folder: Path, title: str) -> Path:
    stem = _UNSAFE.sub(" ", title).strip()[:120] or "Clipping"
    path, n = folder / f"{stem}.md", 2
    while path.exists():
        path, n = folder / f"{stem} ({n}).md", n + 1
    return path
