"""Turning one file into the rows the index stores for it.

This is the CPU-heavy half of indexing (read, hash, parse, resolve links) and
touches no database, so it runs in worker processes when there is much to do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.vault.files import WalkEntry, content_hash, read_bytes
from knowflow.vault.names import file_keys, name_key, strip_md, target_keys
from knowflow.vault.note import Note, Problem, note_title, parse_note
from knowflow.vault.resolve import Names, resolve

LinkRow = tuple[int, str, str, str, str | None, str, str, str | None]


@dataclass(slots=True)
class FileRows:
    """Everything the index stores for one file, ready for ``executemany``."""

    entry: WalkEntry
    hash: str | None
    name_key: str
    path_key: str
    title: str
    type: str | None = None
    front_matter: str | None = None
    unchanged: bool = False  # content hash equals the indexed one: only the stamp moves
    aliases: list[tuple[str, str]] = field(default_factory=list)
    shares: list[str] = field(default_factory=list)
    headings: list[tuple[int, int, str]] = field(default_factory=list)
    blocks: list[tuple[int, str]] = field(default_factory=list)
    links: list[LinkRow] = field(default_factory=list)
    tags: list[tuple[str, str, int | None]] = field(default_factory=list)
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)
    fts: tuple[str, str, str, str] | None = None


def prepare(root: str, entry: WalkEntry, old_hash: str | None, names: Names) -> FileRows:
    """Read, parse and resolve one file; ``names`` are the files links may lead to."""
    nkey, pkey = file_keys(entry.path, entry.is_note)
    rows = FileRows(entry, None, nkey, pkey, note_title(entry.path))
    if not entry.is_note:
        return rows
    try:
        data = read_bytes(Path(root, entry.path))
    except OSError as exc:
        rows.problems.append(("unreadable", None, exc.strerror or str(exc)))
        return rows
    rows.hash = content_hash(data)
    if rows.hash == old_hash:
        rows.unchanged = True
        return rows
    _fill(rows, parse_note(entry.path, data), names)
    return rows


def _fill(rows: FileRows, note: Note, names: Names) -> None:
    rows.type = note.type
    rows.front_matter = json.dumps(note.front_matter, ensure_ascii=False, default=str)
    rows.aliases = [(a, name_key(a)) for a in note.aliases]
    rows.shares = note.share
    rows.headings = [(h.line, h.level, h.text) for h in note.headings]
    rows.blocks = [(b.line, b.block_id) for b in note.blocks]
    rows.links = [
        link_row(note.path, ln.line, ln.kind, ln.target, ln.subpath, ln.display, names)
        for ln in note.links
    ]
    rows.tags = [(t.name, t.name.casefold(), t.line) for t in note.tags]
    rows.problems = [_problem(p) for p in note.problems]
    heading_text = " ".join(h.text for h in note.headings)
    rows.fts = (note.title, " ".join(note.aliases), heading_text, note.body)


def link_row(
    source: str,
    line: int,
    kind: str,
    target: str,
    subpath: str,
    display: str | None,
    names: Names,
) -> LinkRow:
    """A link as stored: where it stands, what it says and where it leads."""
    if not target:
        return (line, kind, target, subpath, display, "", "resolved", source)
    if "/" not in target and not kind.startswith("markdown"):
        # The common case, kept cheap: a bare name that fits one file.
        key = name_key(strip_md(target))
        found = names.get(key, [])
        if len(found) == 1:
            return (line, kind, target, subpath, display, key, "resolved", found[0].path)
    else:
        key = target_keys(target, source)[0]
    found = resolve(target, source, names.get(key, []), markdown=kind.startswith("markdown"))
    return (line, kind, target, subpath, display, key, found.status, found.path)


def _problem(p: Problem) -> tuple[str, int | None, str]:
    return (p.kind, p.line, p.message)
