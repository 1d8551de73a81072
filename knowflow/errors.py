"""Exceptions raised by knowflow's Python API.

KnowflowError
├── VaultNotFound       no vault at the given place, or none found upward
├── NoteNotFound        a title, alias or path names no note
│   └── AmbiguousNote   it names several notes
├── ConflictError       a file changed on disk since it was read; nothing written
├── NoteExists          a new note would overwrite an existing file
├── QueryError          a search query cannot be understood
├── SourceNotFound      a name or address names no source
├── SourceExists        a source with that name or address is already followed
├── OpmlError           an OPML file cannot be read (file and line say where)
├── ConfigError         config.toml cannot be read or holds a bad setting
├── AudienceNotFound    an audience that config.toml does not define
├── PublishError        a site or bundle cannot be written where asked
└── StorageError        the disk refused a read or write; the message says what was kept
    └── DiskFull        the disk (or quota) is full
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


class SourceNotFound(KnowflowError):
    """A name or address names no source."""


class SourceExists(KnowflowError):
    """A source with that name or address is already followed."""


class OpmlError(KnowflowError):
    """An OPML file cannot be read; the message names the file and line."""


class ConfigError(KnowflowError):
    """The vault's config.toml cannot be read, or holds a setting that makes no sense."""


class AudienceNotFound(KnowflowError):
    """An audience name that the vault's config.toml does not define."""


class PublishError(KnowflowError):
    """A site or bundle cannot be written where it was asked to go."""


class NotInstalled(KnowflowError):
    """What was asked needs an optional extra that is not installed (the message
    says how to install it)."""


class StorageError(KnowflowError):
    """The disk or file system refused to read or write (an I/O error): nothing was
    half-written, and the message says what was kept as it was."""


class DiskFull(StorageError):
    """The disk, or the person's quota, is full: nothing was half-written, and the
    message says what was kept as it was."""


def is_disk_full(exc: BaseException, where: str | None = None) -> bool:
    """Whether an error says the disk (or quota) is full, as the OS or SQLite says it.

    SQLite reports a full disk as a full database, or, when it cannot size the
    shared-memory file beside a WAL database, as a mere I/O error: with ``where``
    (a folder), an I/O error there counts when the disk has no room left."""
    import errno
    import sqlite3

    if isinstance(exc, OSError):
        return exc.errno in (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
        return code == 13 or (code == 10 and where is not None and no_room(where))  # FULL, IOERR
    return False


def no_room(folder: str) -> bool:
    """Whether the file system holding folder has (next to) no space left for us."""
    import os

    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):  # gone, or not a system that has statvfs
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024
