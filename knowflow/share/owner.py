"""Notes rendered for their owner: the local app shows the person's own vault through
the same renderer as the published site, so a note looks the same in both places.

The owner may see every note and attachment that lives in the vault. What a symlink
brings in from outside it is left out, as the gate leaves it out of a site: a path
from a note never leads the app out of the vault.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from knowflow.index.index import Index
from knowflow.index.scan import IndexedNames
from knowflow.share.audiences import Audience
from knowflow.share.gate import Gate, _inside
from knowflow.share.render import Renderer, Site

OWNER = Audience("owner", "team", "You")


@dataclass(frozen=True, slots=True)
class Addresses:
    """Where the app shows a note, a file, a tag, and where it writes a new note."""

    note: Callable[[str], str]
    file: Callable[[str], str]
    tag: Callable[[str], str]
    new_note: Callable[[str], str] | None = None


class _OwnerGate(Gate):
    """Everything inside the vault, looked up as links ask: a page shows a few dozen
    links, and a large vault has tens of thousands of files."""

    def __init__(self, index: Index) -> None:
        super().__init__(OWNER, frozenset(), frozenset(), None)
        self._conn = index.conn
        self._inside = _inside(index)
        self._kinds: dict[str, bool | None] = {}

    def _is_note(self, path: str) -> bool | None:
        """True for a note, False for an attachment, None for nothing shown."""
        if path not in self._kinds:
            row = self._conn.execute("SELECT is_note FROM files WHERE path = ?", (path,)).fetchone()
            self._kinds[path] = bool(row[0]) if row and self._inside(path) else None
        return self._kinds[path]

    def note(self, path: str | None) -> bool:
        return path is not None and self._is_note(path) is True

    def attachment(self, path: str | None) -> bool:
        return path is not None and self._is_note(path) is False

    def words(self, text: str, leads_to: str | None = None) -> bool:
        return True  # nothing is hidden from the vault's owner


def owner_gate(index: Index) -> Gate:
    """A gate that lets everything inside the vault through."""
    return _OwnerGate(index)


def owner_renderer(
    index: Index,
    addresses: Addresses,
    *,
    gate: Gate | None = None,
    drafts: dict[str, str] | None = None,
) -> Renderer:
    """A renderer of the vault's notes for the person whose vault it is. ``drafts``
    stands in for the text on disk of the notes it names (an edit being previewed)."""
    vault = index.vault
    own = drafts or {}

    def read(path: str) -> str:
        if path in own:
            return own[path]
        file = vault.root / path
        if vault.outside(file):
            return "*(this note lives outside the vault, behind a symlink: not shown)*"
        try:
            return file.read_text("utf-8", errors="replace")
        except OSError as exc:
            return f"*(this note could not be read: {exc.strerror or exc})*"

    return Renderer(
        Site(
            gate=gate or owner_gate(index),
            names=IndexedNames(index.conn, [], {}),
            note_url=addresses.note,
            attachment_url=addresses.file,
            tag_url=addresses.tag,
            read=read,
            new_note_url=addresses.new_note,
        )
    )
