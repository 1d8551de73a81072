"""Turning files into the rows the index stores for them.

This is the CPU-heavy half of indexing (read, hash, parse, resolve links) and
touches no database, so it runs in worker processes when there is much to do.
Rows come out flat, one list per table with the file id first, so the writer
hands each list to ``executemany`` without touching the rows again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowflow.vault.files import WalkEntry, content_hash, read_bytes
from knowflow.vault.names import file_keys, name_key, strip_md, target_keys
from knowflow.vault.note import Note, note_title, parse_note
from knowflow.vault.resolve import NameLookup, resolve

Row = tuple[Any, ...]
LinkRow = tuple[int, str, str, str, str | None, str, str, str | None]


@dataclass(slots=True)
class Rows:
    """Rows for a set of files, table by table."""

    files: list[Row] = field(default_factory=list)
    touched: list[Row] = field(default_factory=list)  # (size, mtime_ns, hash, id)
    aliases: list[Row] = field(default_factory=list)
    shares: list[Row] = field(default_factory=list)
    headings: list[Row] = field(default_factory=list)
    blocks: list[Row] = field(default_factory=list)
    links: list[Row] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    problems: list[Row] = field(default_factory=list)
    fts: list[Row] = field(default_factory=list)
    hashes: list[tuple[str, str | None]] = field(default_factory=list)  # (path, hash)

    def extend(self, other: Rows) -> None:
        for name in self.__slots__:
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True, slots=True)
class Job:
    """One changed file to prepare: its id (new or kept) and the hash indexed before."""

    entry: WalkEntry
    file_id: int
    old_hash: str | None


def prepare_many(root: str, jobs: list[Job], names: NameLookup) -> Rows:
    rows = Rows()
    for job in jobs:
        prepare(rows, root, job, names)
    return rows


def prepare(rows: Rows, root: str, job: Job, names: NameLookup) -> None:
    """Read, parse and resolve one file into rows; ``names`` are the files links may lead to."""
    entry, fid = job.entry, job.file_id
    nkey, pkey = file_keys(entry.path, entry.is_note)
    file_hash, note = None, None
    if entry.is_note:
        try:
            data = read_bytes(Path(root, entry.path))
        except OSError as exc:
            rows.problems.append((entry.path, "unreadable", None, exc.strerror or str(exc)))
        else:
            file_hash = content_hash(data)
            if file_hash == job.old_hash:
                rows.touched.append((entry.size, entry.mtime_ns, file_hash, fid))
                return
            note = parse_note(entry.path, data)
    rows.hashes.append((entry.path, file_hash))
    fm = json.dumps(note.front_matter, ensure_ascii=False, default=str) if note else None
    rows.files.append(
        (
            fid,
            entry.path,
            int(entry.is_note),
            nkey,
            pkey,
            entry.size,
            entry.mtime_ns,
            file_hash,
            note.title if note else note_title(entry.path),
            note.type if note else None,
            fm,
        )
    )
    if note is not None:
        _note_rows(rows, fid, note, names)


def _note_rows(rows: Rows, fid: int, note: Note, names: NameLookup) -> None:
    rows.aliases.extend((fid, a, name_key(a)) for a in note.aliases)
    rows.shares.extend((fid, s) for s in note.share)
    rows.headings.extend((fid, h.line, h.level, h.text) for h in note.headings)
    rows.blocks.extend((fid, b.line, b.block_id) for b in note.blocks)
    rows.links.extend(
        (fid, *link_row(note.path, ln.line, ln.kind, ln.target, ln.subpath, ln.display, names))
        for ln in note.links
    )
    rows.tags.extend((fid, t.name, t.name.casefold(), t.line) for t in note.tags)
    rows.problems.extend((note.path, p.kind, p.line, p.message) for p in note.problems)
    heading_text = " ".join(h.text for h in note.headings)
    rows.fts.append((fid, note.title, " ".join(note.aliases), heading_text, note.body))


def link_row(
    source: str,
    line: int,
    kind: str,
    target: str,
    subpath: str,
    display: str | None,
    names: NameLookup,
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
    res = resolve(target, source, names.get(key, []), markdown=kind.startswith("markdown"))
    return (line, kind, target, subpath, display, key, res.status, res.path)
