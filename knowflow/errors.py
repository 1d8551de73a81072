"""Exceptions raised by knowflow's Python API.

KnowflowError
├── VaultNotFound       no vault at the given place, or none found upward
├── NoteNotFound        a title, alias or path names no note
│   └── AmbiguousNote   it names several notes
├── ConflictError       a file changed on disk since it was read; nothing written
├── NoteExists          a new note would overwrite an existing file
└── QueryError          a search query cannot be understood
"""

from __future__ import annotations


class KnowflowError(Exception):
    """Base class of every error knowflow raises on purpose."""


class VaultNotFound(KnowflowError):
    """No vault at the given place, or none found upward from it."""


class NoteNotFound(KnowflowError):
    """A title, alias or path names no note."""


class AmbiguousNote(NoteNotFound):
    """A title or alias names several notes."""

    def __init__(self, name: str, paths: list[str]) -> None:
        super().__init__(f"{name!r} names {len(paths)} notes: " + ", ".join(paths))
        self.paths = paths


class ConflictError(KnowflowError):
    """A file changed on disk since knowflow read it, so it was not overwritten."""


class NoteExists(KnowflowError):
    """Creating a note would overwrite an existing file."""


class QueryError(KnowflowError):
    """A search query cannot be understood."""
