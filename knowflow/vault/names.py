"""How names compare: Unicode-normalised and case-insensitive, as in Obsidian."""

from __future__ import annotations

import posixpath
import re
import unicodedata


def name_key(text: str) -> str:
    """The form in which two names count as the same: NFC, case-folded."""
    return unicodedata.normalize("NFC", text).casefold()


def strip_md(path: str) -> str:
    return path[:-3] if path.lower().endswith(".md") else path


def file_keys(path: str, is_note: bool) -> tuple[str, str]:
    """(name key, path key) under which a file is found by links.

    Notes are found without their ``.md``; attachments by their full name.
    """
    linkable = strip_md(path) if is_note else path
    key = name_key(linkable)
    return key.rsplit("/", 1)[-1], key


def target_keys(target: str, source_path: str) -> tuple[str, str, bool]:
    """(name key, path key, is_relative) for a link target as written.

    ``./x`` and ``../x`` are relative to the linking note's folder; a leading
    ``/`` means the vault root; anything else is a name or a path suffix.
    """
    relative = target.startswith(("./", "../"))
    if relative:
        folder = posixpath.dirname(source_path)
        target = posixpath.normpath(posixpath.join(folder, target))
    target = target.lstrip("/")
    key = name_key(strip_md(target))
    return key.rsplit("/", 1)[-1], key, relative


_NOT_WORD = re.compile(r"[\W_]+")


def heading_key(text: str) -> str:
    """The form in which a link's ``#heading`` meets a heading, as in Obsidian: case,
    punctuation and runs of spaces do not matter (``#D D WOTC`` reaches ``## D&D WOTC``)."""
    return _NOT_WORD.sub(" ", name_key(text)).strip()


_PUNCTUATION = re.compile(r"[^\w\s-]+")


def slug_key(text: str) -> str:
    """A heading's key as a Markdown link written for GitHub or a static site names it:
    ``#dd-wotc`` for ``## D&D WOTC`` (punctuation dropped, then as ``heading_key``)."""
    return heading_key(_PUNCTUATION.sub("", name_key(text)))
