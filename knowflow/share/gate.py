"""The audience gate: the one place that decides what an audience may see.

``may_see`` is the decision; everything that leaves the vault (the published
site, its feeds and search index, the digest, the bundle for a hub) asks it,
through a ``Gate`` built for one audience, and through nothing else. A part of
a note (an embedded section or block, a link's title) may be shown exactly
when its note may be; an attachment when a note that may be shown uses it.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from knowflow.index.index import Index
from knowflow.share.audiences import PRIVATE, PUBLIC, Audience, audiences
from knowflow.vault.names import name_key


def may_see(audience: Audience, shared_with: Iterable[str], defined: Collection[str]) -> bool:
    """Whether a note shared with these audiences may be shown to this one.

    Only audiences that config.toml defines count: a note shared with an
    unknown name is private as far as that name goes. ``public`` is everyone.
    """
    names = {name for name in shared_with if name in defined and name != PRIVATE}
    return PUBLIC in names or audience.name in names


@dataclass
class Gate:
    """What one audience may see of a vault, as its index knows it."""

    audience: Audience
    notes: frozenset[str]  # vault paths of the notes it may see
    attachments: frozenset[str] = field(default_factory=frozenset)
    index: Index | None = None  # where names are looked up (see ``words``)

    @classmethod
    def build(cls, index: Index, audience: Audience) -> Gate:
        defined = audiences(index.vault)
        shares: dict[str, list[str]] = defaultdict(list)
        # SQLite picks the notes naming this audience or public (a large vault's
        # other notes need not come to Python); may_see decides on each.
        for path, name in index.conn.execute(
            "SELECT f.path, s.audience FROM shares s JOIN files f ON f.id = s.file_id"
            " WHERE f.is_note = 1 AND s.file_id IN (SELECT file_id FROM shares"
            " WHERE audience IN (?, ?))",
            (audience.name, PUBLIC),
        ):
            shares[path].append(name)
        inside = _inside(index)
        notes = frozenset(
            p for p, names in shares.items() if may_see(audience, names, defined) and inside(p)
        )
        used = frozenset(p for p in _used_attachments(index, notes) if inside(p))
        return cls(audience, notes, used, index)

    def note(self, path: str | None) -> bool:
        """Whether the note at this vault path (or any part of it) may be shown."""
        return path is not None and path in self.notes

    def attachment(self, path: str | None) -> bool:
        """Whether this attachment may be copied: a note the audience sees uses it."""
        return path is not None and path in self.attachments

    def words(self, text: str, leads_to: str | None = None) -> bool:
        """Whether words written about a link (its text, or the name it was written
        with) may be shown: not when they hold the name (title, alias, file name) of
        what the link leads to and the audience may not see it, nor when they are
        exactly the name of any note or file it may not see. A name is part of its note."""
        key = name_key(text.strip())
        hidden = leads_to is not None and not (self.note(leads_to) or self.attachment(leads_to))
        if hidden and any(n and n in key for n in self._names_of(leads_to or "")):
            return False
        return all(self.note(p) or self.attachment(p) for p in self._named(key))

    def _names_of(self, path: str) -> list[str]:
        if self.index is None:
            return [name_key(posixpath.basename(path))]
        rows = self.index.conn.execute(
            "SELECT name_key FROM files WHERE path = ? UNION ALL SELECT a.alias_key"
            " FROM aliases a JOIN files f ON f.id = a.file_id WHERE f.path = ?",
            (path, path),
        ).fetchall()
        return [name_key(posixpath.basename(path)), *(r[0] for r in rows)]

    def _named(self, key: str) -> list[str]:
        if self.index is None or not key:
            return []
        rows = self.index.conn.execute(
            "SELECT path FROM files WHERE name_key = ? UNION SELECT f.path FROM aliases a"
            " JOIN files f ON f.id = a.file_id WHERE a.alias_key = ?",
            (key, key),
        ).fetchall()
        return [r[0] for r in rows]


def _inside(index: Index) -> Callable[[str], bool]:
    """Whether a file may leave the vault as far as where it lives goes: not when a
    symlink leads to it from outside the vault (the walk reports each such link as
    ``outside-vault``), unless config.toml says ``publish_outside_vault = true``. A
    link can lead anywhere (``~/.ssh``, another person's folder); what it leads to
    was not put in the vault, so it is not shared by being named there."""
    if index.vault.publishes_outside():
        return lambda path: True
    links = [
        path
        for (path,) in index.conn.execute("SELECT path FROM problems WHERE kind = 'outside-vault'")
    ]
    if not links:
        return lambda path: True
    return lambda path: not any(path == link or path.startswith(f"{link}/") for link in links)


def _used_attachments(index: Index, notes: frozenset[str]) -> frozenset[str]:
    used = set()
    for source, target in index.conn.execute(
        "SELECT f.path, l.resolved_path FROM links l JOIN files f ON f.id = l.file_id"
        " JOIN files t ON t.path = l.resolved_path WHERE t.is_note = 0"
    ):
        if source in notes:
            used.add(target)
    return frozenset(used)
