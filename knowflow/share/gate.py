"""The audience gate: the one place that decides what an audience may see.

``may_see`` is the decision; everything that leaves the vault (the published
site, its feeds and search index, the digest, the bundle for a hub) asks it,
through a ``Gate`` built for one audience, and through nothing else. A part of
a note (an embedded section or block, a link's title) may be shown exactly
when its note may be; an attachment when a note that may be shown uses it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from knowflow.index.index import Index
from knowflow.share.audiences import PRIVATE, PUBLIC, Audience, audiences


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
        return cls(audience, notes, _used_attachments(index, notes))

    def note(self, path: str | None) -> bool:
        """Whether the note at this vault path (or any part of it) may be shown."""
        return path is not None and path in self.notes

    def attachment(self, path: str | None) -> bool:
        """Whether this attachment may be copied: a note the audience sees uses it."""
        return path is not None and path in self.attachments


def _used_attachments(index: Index, notes: frozenset[str]) -> frozenset[str]:
    used = set()
    for source, target in index.conn.execute(
        "SELECT f.path, l.resolved_path FROM links l JOIN files f ON f.id = l.file_id"
        " JOIN files t ON t.path = l.resolved_path WHERE t.is_note = 0"
    ):
        if source in notes:
            used.add(target)
    return frozenset(used)
