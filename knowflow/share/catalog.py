"""What one audience may see of a vault, read from the index through the gate.

The catalog is the common ground of every output (site, feeds, digest, bundle):
the visible notes with their titles, tags, aliases and dates, the links among
them, and the addresses their pages get. Nothing private enters it, so nothing
built from it can show anything private.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import posixpath
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowflow.errors import PublishError
from knowflow.index.index import Index
from knowflow.index.scan import IndexedNames
from knowflow.share.audiences import Audience, audiences
from knowflow.share.audiences import audience as find_audience
from knowflow.share.gate import Gate
from knowflow.share.render import Renderer, Site, slug
from knowflow.vault.frontmatter import parse_datetime
from knowflow.vault.names import name_key, strip_md
from knowflow.vault.resolve import Candidate, NameLookup, Names, name_map
from knowflow.vault.vault import Vault


@dataclass
class VisibleNote:
    """A note the audience may see, with what outputs show of it."""

    path: str
    title: str
    type: str
    hash: str
    updated: str  # ISO 8601, UTC
    created: str
    tags: list[str]
    aliases: list[str]
    front_text: str | None  # the front matter as the index keeps it (JSON)
    url: str = ""
    links_to: list[str] = field(default_factory=list)  # visible notes it links to or embeds
    embeds: list[str] = field(default_factory=list)  # visible notes it transcludes
    backlinks: list[str] = field(default_factory=list)  # visible notes linking to it

    @functools.cached_property
    def front_matter(self) -> dict[str, Any]:
        return _front(self.front_text)

    @property
    def id(self) -> str:
        """A stable id: the note's own ``id:`` or ``uid:``, else one made from its path."""
        own = self.front_matter.get("id") or self.front_matter.get("uid")
        if isinstance(own, str | int) and str(own).strip():
            return str(own).strip()
        return "n-" + hashlib.blake2b(self.path.encode(), digest_size=10).hexdigest()


@dataclass
class Catalog:
    """The visible part of a vault for one audience."""

    audience: Audience
    gate: Gate
    notes: dict[str, VisibleNote]  # by vault path
    names: NameLookup  # every file of the vault, for resolving links as the index does
    tags: dict[str, list[str]]  # tag -> visible note paths, the tag as first written
    attachment_urls: dict[str, str]
    # The links written in each visible note: (kind, target, subpath, resolved path).
    links: dict[str, list[tuple[str, str, str, str | None]]] = field(default_factory=dict)
    root: Path = field(default_factory=Path)  # the vault's folder

    @classmethod
    def build(cls, index: Index, audience: Audience) -> Catalog:
        gate = Gate.build(index, audience)
        _mark_visible(index, gate)
        notes = _visible_notes(index)
        links = _links(index)
        _link_up(notes, links)
        _assign_urls(notes)
        tags: dict[str, list[str]] = {}
        spelled: dict[str, str] = {}
        keys: dict[str, list[str]] = {}  # a tag as written -> it and its parents, as keys
        for note in sorted(notes.values(), key=lambda n: n.path):
            for tag in note.tags:
                if tag not in keys:
                    keys[tag] = [name_key(whole) for whole in _tag_and_parents(tag)]
                    for whole, key in zip(_tag_and_parents(tag), keys[tag], strict=True):
                        spelled.setdefault(key, whole)
                for key in keys[tag]:
                    tags.setdefault(spelled[key], []).append(note.path)
        return cls(
            audience,
            gate,
            notes,
            _Names(index),
            {t: list(dict.fromkeys(paths)) for t, paths in sorted(tags.items())},
            _attachment_urls(sorted(gate.attachments)),
            links,
            index.vault.root,
        )

    def renderer(self) -> Renderer:
        """A renderer of this catalog's notes, for this audience."""
        vault = self.gate.index.vault if self.gate.index else None
        guard = vault if vault is not None and not vault.publishes_outside() else None
        return Renderer(
            Site(
                gate=self.gate,
                names=self.names,
                note_url=self.note_url,
                attachment_url=self.attachment_url,
                tag_url=tag_url,
                read=lambda path: _read_note(guard, self.root, path),
            )
        )

    def note_url(self, path: str) -> str:
        return self.notes[path].url

    def attachment_url(self, path: str) -> str:
        return self.attachment_urls[path]

    def tag_url(self, tag: str) -> str:
        return tag_url(tag)

    def recent(self, count: int) -> list[VisibleNote]:
        """The most recently updated visible notes, newest first."""
        ordered = sorted(self.notes.values(), key=lambda n: (n.updated, n.path), reverse=True)
        return ordered[:count]


class _Names:
    """Files by name key, for resolving links: looked up in the index as links ask
    (a republish renders a few pages), or all read at once after many lookups (a
    first publish renders every page)."""

    ALL_AFTER = 3000

    def __init__(self, index: Index) -> None:
        self.index = index
        self.lookups = 0
        self.indexed = IndexedNames(index.conn, [], {})
        self.all: Names | None = None

    def get(self, key: str, default: list[Candidate], /) -> list[Candidate]:
        if self.all is None:
            self.lookups += 1
            if self.lookups <= self.ALL_AFTER:
                return self.indexed.get(key, default)
            files = self.index.conn.execute("SELECT path, is_note FROM files")
            self.all = name_map((path, bool(is_note)) for path, is_note in files)
        return self.all.get(key, default)


def _read_note(guard: Vault | None, root: Path, path: str) -> str:
    """A visible note's text; with ``guard``, refused if it has come to live outside it."""
    file = root / path
    if guard is not None and guard.outside(file):
        # The gate saw a file inside the vault; it has become a link leading out since
        # the index was brought up to date (a publish with --no-scan): not read.
        raise PublishError(
            f"{path} is now a link to a file outside the vault; publish again without"
            " --no-scan (it will be left out)"
        )
    try:
        return file.read_text("utf-8", errors="replace")
    except OSError as exc:
        raise PublishError(
            f"{path} could not be read while publishing ({exc.strerror}); run it again"
        ) from None


def shared(index: Index, audience_name: str | None = None) -> list[dict[str, str]]:
    """What each audience (or the one named) may see: audience, path and title."""
    defined = audiences(index.vault)
    names = [audience_name] if audience_name else list(defined)
    items = []
    for name in names:
        catalog = Catalog.build(index, find_audience(index.vault, name))
        for note in sorted(catalog.notes.values(), key=lambda n: n.path):
            items.append({"audience": name, "path": note.path, "title": note.title})
    return items


def tag_url(tag: str) -> str:
    return "tags/" + "/".join(slug(part) for part in tag.split("/")) + ".html"


def _tag_and_parents(tag: str) -> list[str]:
    parts = tag.split("/")
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def _attachment_urls(paths: list[str]) -> dict[str, str]:
    """Each attachment's address; two whose names make the same address (``my_pic.png``
    and ``my-pic.png``) get numbered ones, so that neither overwrites the other."""
    urls: dict[str, str] = {}
    taken: set[str] = set()
    for path in paths:
        folder, name = posixpath.split(path)
        stem, ext = posixpath.splitext(name)
        base = "files/" + "/".join([*(slug(p) for p in folder.split("/") if p), slug(stem)])
        url, n = base + ext.lower(), 2
        while url in taken:
            url, n = f"{base}-{n}{ext.lower()}", n + 1
        taken.add(url)
        urls[path] = url
    return urls


def _mark_visible(index: Index, gate: Gate) -> None:
    """The visible notes' ids in a temporary table, so that SQLite, not Python, leaves
    out everything else (most of the rows in a large vault)."""
    conn = index.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS visible (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.visible")
    conn.execute(
        "INSERT INTO temp.visible SELECT id FROM files WHERE is_note = 1"
        " AND path IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(gate.notes)),),
    )


def _visible_notes(index: Index) -> dict[str, VisibleNote]:
    rows = index.conn.execute(
        "SELECT f.id, f.path, f.title, f.type, f.hash, f.mtime_ns, f.front_matter,"
        " json_extract(f.front_matter, '$.updated'), json_extract(f.front_matter, '$.date'),"
        " json_extract(f.front_matter, '$.created')"
        " FROM files f JOIN temp.visible v ON v.id = f.id"
    ).fetchall()
    tags: dict[int, list[str]] = defaultdict(list)
    aliases: dict[int, list[str]] = defaultdict(list)
    for table, column, into in (
        ("tags", "tag", tags),
        ("aliases", "alias", aliases),
    ):
        sql = (
            f"SELECT t.file_id, t.{column} FROM {table} t JOIN temp.visible v"
            " ON v.id = t.file_id ORDER BY t.file_id, t.rowid"
        )
        for fid, value in index.conn.execute(sql):
            into[fid].append(value)
    notes = {}
    for fid, path, title, kind, digest, mtime_ns, fm_text, when, date, created in rows:
        modified = dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).isoformat(timespec="seconds")
        updated = _date(when) or _date(date) or modified
        notes[path] = VisibleNote(
            path=path,
            title=title,
            type=kind or "note",
            hash=digest or "",
            updated=updated,
            created=_date(created) or _date(date) or updated,
            tags=list(dict.fromkeys(tags[fid])),
            aliases=aliases[fid],
            front_text=fm_text,
        )
    return notes


def _links(index: Index) -> dict[str, list[tuple[str, str, str, str | None]]]:
    paths = dict(
        index.conn.execute("SELECT f.id, f.path FROM files f JOIN temp.visible v USING (id)")
    )
    links: dict[str, list[tuple[str, str, str, str | None]]] = defaultdict(list)
    # A note's links are stored in the order they stand in it, so the index on
    # file_id (with the row id) gives them in order without a sort.
    for fid, kind, target, subpath, resolved in index.conn.execute(
        "SELECT l.file_id, l.kind, l.target, l.subpath, l.resolved_path FROM links l"
        " JOIN temp.visible v ON v.id = l.file_id ORDER BY l.file_id, l.id"
    ):
        links[paths[fid]].append((kind, target, subpath, resolved))
    return links


def _front(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _date(value: Any) -> str | None:
    """A front matter date or time as ISO 8601 UTC; None when it is not one."""
    moment = parse_datetime(value)
    return moment.isoformat(timespec="seconds") if moment else None


def _link_up(
    notes: dict[str, VisibleNote], links: dict[str, list[tuple[str, str, str, str | None]]]
) -> None:
    for source in sorted(links):
        note = notes[source]
        for kind, _, _, target in links[source]:
            if target not in notes or target == source:
                continue
            if target not in note.links_to:
                note.links_to.append(target)
            if kind in ("embed", "markdown-embed") and target not in note.embeds:
                note.embeds.append(target)
            if source not in notes[target].backlinks:
                notes[target].backlinks.append(source)


def _assign_urls(notes: dict[str, VisibleNote]) -> None:
    """Each visible note's page address; the same name twice gets a numbered address."""
    taken: set[str] = set()
    for path in sorted(notes):
        base = "/".join(slug(part) for part in strip_md(path).split("/"))
        if base.split("/")[0] in _RESERVED:
            base = "notes/" + base  # the site's own pages and folders keep their names
        url, n = f"{base}.html", 2
        while url in taken:
            url, n = f"{base}-{n}.html", n + 1
        taken.add(url)
        notes[path].url = url


_RESERVED = {"index", "notes", "search", "tags", "files", "atom", "feed", "sitemap", "style"}
