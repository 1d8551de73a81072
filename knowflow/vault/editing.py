"""A note's text as an editor shows it, and saved back only over the file it was read from.

An editor (a browser's <textarea>) shows text with ``\\n`` line breaks and no byte
order mark, and sends ``\\r\\n``. The note keeps its own: what the file used when it
was opened is carried with the text and put back on saving, so that an edit of one
word changes one word on disk. The save is atomic, and refused (ConflictError) when
the file on disk is no longer the one that was opened: nothing is overwritten that
the person has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from knowflow.errors import ConflictError, KnowflowError
from knowflow.vault.files import FileStamp, atomic_write, content_hash, read_bytes

BOM = b"\xef\xbb\xbf"
NEWLINES = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


class NotText(KnowflowError):
    """The file is not UTF-8 text: an editor would change bytes it never showed."""


@dataclass(frozen=True, slots=True)
class EditableText:
    """A note's text for an editor, and what saving it needs to know of the file."""

    text: str  # with "\n" line breaks, without a byte order mark
    hash: str  # content_hash of the file's bytes when read; "" when there was none
    newline: str  # "lf", "crlf" or "cr": the file's line breaks
    bom: bool  # whether the file starts with a byte order mark


def read_for_editing(path: Path) -> EditableText:
    """The note at ``path`` as an editor shows it (NotText when it is not UTF-8)."""
    data = read_bytes(path)
    return editable(data, path)


def editable(data: bytes, path: Path | str = "") -> EditableText:
    bom = data.startswith(BOM)
    try:
        text = data[len(BOM) if bom else 0 :].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(
            f"{path}: byte {exc.start} is not UTF-8; edit it in an editor that keeps its bytes"
        ) from None
    newline = "crlf" if "\r\n" in text else "cr" if "\r" in text else "lf"
    return EditableText(_lf(text), content_hash(data), newline, bom)


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def encoded(text: str, newline: str = "lf", bom: bool = False) -> bytes:
    """The bytes of ``text`` (any line breaks) as a file with these line breaks."""
    body = _lf(text).replace("\n", NEWLINES.get(newline, "\n")).encode("utf-8")
    return (BOM if bom else b"") + body


def save_edit(
    path: Path, text: str, base: str, *, newline: str = "lf", bom: bool = False
) -> FileStamp | None:
    """Write ``text`` to ``path`` atomically, if the file is still the one whose bytes
    had the hash ``base`` (``""``: there was no file). ConflictError when it changed,
    was deleted or appeared meanwhile; None when there was nothing to write."""
    data = encoded(text, newline, bom)
    try:
        st = path.stat()
        now = content_hash(read_bytes(path))
    except FileNotFoundError:
        if base:
            raise ConflictError(f"{path} was deleted since it was opened") from None
        return atomic_write(path, data, None)
    if now != base:
        raise ConflictError(f"{path} changed on disk since it was opened; not overwritten")
    if now == content_hash(data):
        return None
    # atomic_write looks again right before the rename: a change in between is refused.
    return atomic_write(path, data, FileStamp(st.st_size, st.st_mtime_ns, now))
