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
from collections.abc import Collection, Iterable
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
    # The names (title, aliases, file name) of every note and file it may not see,
    # as name keys: a name is part of its note.
    hidden_names: dict[str, frozenset[str]] = field(default_factory=dict)
    _all_hidden: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, index: Index, audience: Audience) -> Gate:
        defined = audiences(index.vault)
        shares: dict[str, list[str]] = defaultdict(list)
        for path, name in index.conn.execute(
            "SELECT f.path, s.audience FROM shares s JOIN files f ON f.id = s.file_id"
            " WHERE f.is_note = 1"
        ):
            shares[path].append(name)
        notes = frozenset(p for p, names in shares.items() if may_see(audience, names, defined))
        attachments = _used_attachments(index, notes)
        hidden = _hidden_names(index, notes | attachments)
        return cls(audience, notes, attachments, hidden, frozenset().union(*hidden.values()))

    def note(self, path: str | None) -> bool:
        """Whether the note at this vault path (or any part of it) may be shown."""
        return path is not None and path in self.notes

    def attachment(self, path: str | None) -> bool:
        """Whether this attachment may be copied: a note the audience sees uses it."""
        return path is not None and path in self.attachments

    def words(self, text: str, leads_to: str | None = None) -> bool:
        """Whether words written about a link (its text, or the name it was written
        with) may be shown: not when they name a note or file the audience may not see."""
        key = name_key(text.strip())
        if key in self._all_hidden:
            return False
        return not any(name in key for name in self.hidden_names.get(leads_to or "", ()))


def _hidden_names(index: Index, shown: frozenset[str]) -> dict[str, frozenset[str]]:
    names: dict[str, set[str]] = defaultdict(set)
    for path, title in index.conn.execute("SELECT path, title FROM files"):
        if path not in shown:
            names[path].update({name_key(title), name_key(posixpath.basename(path))})
    for path, alias in index.conn.execute(
        "SELECT f.path, a.alias FROM aliases a JOIN files f ON f.id = a.file_id"
    ):
        if path not in shown:
            names[path].add(name_key(alias))
    return {path: frozenset(n for n in keys if n) for path, keys in names.items()}


def _used_attachments(index: Index, notes: frozenset[str]) -> frozenset[str]:
    used = set()
    for source, target in index.conn.execute(
        "SELECT f.path, l.resolved_path FROM links l JOIN files f ON f.id = l.file_id"
        " JOIN files t ON t.path = l.resolved_path WHERE t.is_note = 0"
    ):
        if source in notes:
            used.add(target)
    return frozenset(used)
