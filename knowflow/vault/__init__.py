"""Notes as files: parse, write atomically, resolve links. Knows nothing of the index."""

from knowflow.vault.files import FileStamp, atomic_write, walk_vault
from knowflow.vault.note import Note, Problem, parse_note
from knowflow.vault.resolve import Candidate, Resolution, resolve
from knowflow.vault.vault import Vault

__all__ = [
    "Candidate",
    "FileStamp",
    "Note",
    "Problem",
    "Resolution",
    "Vault",
    "atomic_write",
    "parse_note",
    "resolve",
    "walk_vault",
]
