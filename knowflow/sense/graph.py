"""The link graph: backlinks, outgoing links, unresolved links, orphans and tags."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import NamedTuple

from knowflow.index.index import Index, NoteRef


class LinkRow(NamedTuple):
    """One link as written in a note, and where it leads."""

    path: str  # the note holding the link
    line: int
    kind: str
    target: str
    subpath: str
    status: str  # resolved, ambiguous or unresolved
    resolved: str | None  # path of the file it leads to
    text: str = ""  # the line the link stands on, for backlinks

    def as_dict(self) -> dict[str, object]:
        return dict(self._asdict())


_LINK_SELECT = (
    "SELECT src.path, l.line, l.kind, l.target, l.subpath, l.status, l.resolved_path"
    " FROM links l JOIN files src ON src.id = l.file_id"
)


def note_at(index: Index, path: str) -> NoteRef | None:
    """The note at exactly this vault path, or None (no guessing by name: a page that
    names a path shows that file or nothing)."""
    row = index.conn.execute(
        "SELECT id, path, title, type FROM files WHERE path = ? AND is_note = 1", (path,)
    ).fetchone()
    return NoteRef(*row) if row else None


def note_tags(index: Index, note: NoteRef) -> list[str]:
    """The note's tags (front matter and ``#tags``), each once, as first written."""
    rows = index.conn.execute(
        "SELECT tag FROM tags WHERE file_id = ? ORDER BY rowid", (note.id,)
    ).fetchall()
    seen: dict[str, str] = {}
    for (tag,) in rows:
        seen.setdefault(tag.casefold(), tag)
    return list(seen.values())


def backlinks(index: Index, note: NoteRef, *, with_text: bool = True) -> list[LinkRow]:
    """Links from other notes (and the note itself) that lead to this note."""
    rows = index.conn.execute(
        f"{_LINK_SELECT} WHERE l.resolved_path = ? AND l.target != '' ORDER BY src.path, l.line",
        (note.path,),
    ).fetchall()
    links = [LinkRow(*row) for row in rows]
    return _with_lines(index, links) if with_text else links


def outgoing(index: Index, note: NoteRef) -> list[LinkRow]:
    """The links written in this note, in order."""
    rows = index.conn.execute(
        f"{_LINK_SELECT} WHERE l.file_id = ? ORDER BY l.line, l.id", (note.id,)
    ).fetchall()
    return [LinkRow(*row) for row in rows]


def unresolved(index: Index) -> list[LinkRow]:
    """Every link in the vault that leads to no file."""
    rows = index.conn.execute(
        f"{_LINK_SELECT} WHERE l.status = 'unresolved' ORDER BY src.path, l.line"
    ).fetchall()
    return [LinkRow(*row) for row in rows]


def ambiguous(index: Index) -> list[tuple[LinkRow, list[str]]]:
    """Links whose name fits several files, with every file it could mean."""
    rows = index.conn.execute(
        f"{_LINK_SELECT.replace('SELECT ', 'SELECT l.target_key, ', 1)}"
        " WHERE l.status = 'ambiguous' ORDER BY src.path, l.line"
    ).fetchall()
    result = []
    for key, *row in rows:
        link = LinkRow(*row)
        found = index.conn.execute(
            "SELECT path FROM files WHERE name_key = ? ORDER BY path", (key,)
        )
        result.append((link, [p for (p,) in found]))
    return result


def orphans(index: Index) -> list[NoteRef]:
    """Notes that no other note links to and that link to nothing."""
    rows = index.conn.execute(
        "SELECT id, path, title, type FROM files f WHERE f.is_note = 1"
        " AND NOT EXISTS (SELECT 1 FROM links l"
        "  WHERE l.resolved_path = f.path AND l.file_id != f.id)"
        " AND NOT EXISTS (SELECT 1 FROM links l WHERE l.file_id = f.id AND l.target != '')"
        " ORDER BY f.path"
    )
    return [NoteRef(*row) for row in rows]


class TagNode:
    """A tag with its count (notes carrying it or a tag nested below) and children."""

    __slots__ = ("children", "count", "name", "own")

    def __init__(self, name: str) -> None:
        self.name = name  # full name, e.g. "pkm/seek"
        self.count = 0
        self.own = 0  # notes carrying exactly this tag
        self.children: dict[str, TagNode] = {}

    def __repr__(self) -> str:
        return f"TagNode({self.name!r}, count={self.count}, own={self.own})"

    def walk(self, depth: int = 0) -> list[tuple[int, TagNode]]:
        out = []
        for child in sorted(self.children.values(), key=lambda n: n.name.casefold()):
            out.append((depth, child))
            out.extend(child.walk(depth + 1))
        return out


def tag_tree(index: Index) -> TagNode:
    """All tags as a tree; a parent counts the notes of all its children once each.

    Tags compare case-insensitively; each is shown in its most used spelling.
    """
    rows = index.conn.execute("SELECT tag_key, tag, file_id FROM tags").fetchall()
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    files: dict[str, set[int]] = defaultdict(set)
    for key, tag, file_id in rows:
        spellings[key][tag] += 1
        files[key].add(file_id)
    root = TagNode("")
    counted: dict[str, set[int]] = defaultdict(set)
    for key in sorted(files):
        shown = max(spellings[key].items(), key=lambda kv: (kv[1], kv[0]))[0]
        parts = shown.split("/")
        node = root
        for depth in range(len(parts)):
            name = "/".join(parts[: depth + 1])
            node = node.children.setdefault(name.casefold(), TagNode(name))
            counted[name.casefold()] |= files[key]
        node.own = len(files[key])
    _fill_counts(root, counted)
    return root


def _fill_counts(node: TagNode, counted: dict[str, set[int]]) -> None:
    for key, child in node.children.items():
        child.count = len(counted.get(key, ()))
        _fill_counts(child, counted)


def _with_lines(index: Index, links: list[LinkRow]) -> list[LinkRow]:
    """Attach the text of each link's line, reading each linking note once."""
    cache: dict[str, list[str]] = {}
    out = []
    for link in links:
        if link.path not in cache:
            try:
                text = (Path(index.vault.root) / link.path).read_text("utf-8", "replace")
                cache[link.path] = text.splitlines()
            except OSError:
                cache[link.path] = []
        lines = cache[link.path]
        line = lines[link.line - 1].strip() if 0 < link.line <= len(lines) else ""
        out.append(
            LinkRow(
                link.path,
                link.line,
                link.kind,
                link.target,
                link.subpath,
                link.status,
                link.resolved,
                line,
            )
        )
    return out
