"""A note as knowflow reads it: front matter, text and structure, plus any problems.

Parsing never raises on bad content: a note that cannot be read fully is read
as well as it can be, and what was wrong is listed in ``problems``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowflow.vault.frontmatter import (
    front_matter_aliases,
    front_matter_tags,
    parse_front_matter,
    string_list,
)
from knowflow.vault.markdown import Block, Heading, Link, Scan, Tag, is_valid_tag, scan_markdown

# Larger notes are still indexed by name and front matter; only this much of
# their text is read for links, tags and search.
MAX_NOTE_TEXT = 8 * 1024 * 1024
NOTE_TYPES = ("note", "clipping", "highlight", "experiment", "narration", "digest")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one file, for ``knowflow check``."""

    kind: str
    message: str
    line: int | None = None


@dataclass(slots=True)
class Note:
    """Everything the index keeps about one note file."""

    path: str
    title: str
    type: str = "note"
    front_matter: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    share: list[str] = field(default_factory=list)
    body: str = ""
    headings: list[Heading] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    tags: list[Tag] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def note_title(path: str) -> str:
    """A note's title is its file name without the extension, as in Obsidian."""
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.lower().endswith(".md") else name


def parse_note(path: str, data: bytes) -> Note:
    """Parse a note's bytes; path is vault-relative and used only for naming."""
    note = Note(path=path, title=note_title(path))
    if b"\x00" in data[:8192]:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        message = f"file holds binary data (a NUL byte on line {line}), not text"
        if shared := claimed_share(data):
            # Its share: is not read (binary data is no note), so it is not published:
            # said here, since the person asked for the opposite.
            message += (
                f"; it says share: {', '.join(shared)}, but is not published"
                " until the NUL byte is taken out"
            )
        note.problems.append(Problem("binary", message, line))
        return note
    if len(data) > MAX_NOTE_TEXT:
        note.problems.append(
            Problem(
                "too-large",
                f"note is {len(data) // (1024 * 1024)} MB; only the first "
                f"{MAX_NOTE_TEXT // (1024 * 1024)} MB are indexed",
            )
        )
        data = data[:MAX_NOTE_TEXT]
    text = line_breaks(_decode(data, note))
    fm = parse_front_matter(text)
    if fm.error:
        note.problems.append(Problem("malformed-front-matter", fm.error, fm.error_line))
    _read_front_matter(note, fm.data)
    note.body = text[fm.body_start :]
    scan: Scan = scan_markdown(note.body, fm.body_line)
    note.headings, note.blocks, note.links = scan.headings, scan.blocks, scan.links
    note.tags = [Tag(None, t) for t in front_matter_tags(fm.data) if is_valid_tag(t)] + scan.tags
    return note


def claimed_share(data: bytes) -> list[str]:
    """The audiences a file's front matter names, read as if it held no NUL bytes: what
    a note with binary data in it would be shared with, were it text."""
    text = line_breaks(data[:MAX_NOTE_TEXT].replace(b"\x00", b"").decode("utf-8", "replace"))
    share = parse_front_matter(text).data.get("share")
    names = string_list(share) if isinstance(share, str | list) else []
    return [n for n in names if n.casefold() != "private"]


def line_breaks(text: str) -> str:
    """The text with Windows' and old Macs' line breaks read as "\\n", as CommonMark
    reads them (a line number stays the same)."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _decode(data: bytes, note: Note) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        note.problems.append(
            Problem("invalid-encoding", f"not valid UTF-8 at byte {exc.start}", line)
        )
        return data.decode("utf-8", "replace")


def _read_front_matter(note: Note, data: dict[str, Any]) -> None:
    note.front_matter = data
    note.aliases = front_matter_aliases(data)
    share = data.get("share")
    if share is not None and not isinstance(share, str | list):
        note.problems.append(
            Problem("malformed-front-matter", "share: must be an audience or a list of them", 1)
        )
    note.share = string_list(share) if isinstance(share, str | list) else []
    kind = data.get("type")
    if isinstance(kind, str) and kind.strip():
        note.type = kind.strip().lower()
