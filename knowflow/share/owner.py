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


def owner_gate(index: Index) -> Gate:
    """A gate that lets everything inside the vault through."""
    inside = _inside(index)
    notes: set[str] = set()
    attachments: set[str] = set()
    for path, is_note in index.conn.execute("SELECT path, is_note FROM files"):
        if inside(path):
            (notes if is_note else attachments).add(path)
    # No index: nothing is hidden, so no link's words need looking up.
    return Gate(OWNER, frozenset(notes), frozenset(attachments), None)


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
