"""Clipping notes: what keep, capture and the importers write, one note per item.

A clipping's file name comes from its title, cut to fit a file name's 255
bytes (not characters: 120 CJK characters are 360 bytes). Before a new note is
written, the names it could take are looked at in order (``Title.md``,
``Title (2).md`` ...): a note there that is this very item (same ``url``,
``source``, ``author`` and heading) is taken as its note, written by a run that
was killed before it could record it. So an item's note and its record in
state.db cannot disagree in a way that makes a second note: a rerun finds the
first. Temporary files that a killed write left (``.NAME.PID.XXXX.tmp``) are
deleted by the next writer to that folder.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.seek.notetext import (
    escape_all,
    md_text,
    plain_text,
    safe_markdown,
    unsafe_in_markdown,
    url_scheme,
    web_url,
)
from knowflow.seek.state import now
from knowflow.vault.files import atomic_write, clear_stale_temps
from knowflow.vault.frontmatter import dump_front_matter, parse_front_matter
from knowflow.vault.vault import Vault

CLIPPINGS_FOLDER = "clippings"
_UNSAFE = re.compile(r'[\\/:*?"<>|#^\[\]\x00-\x1f\x7f]')
# A name's stem leaves room for " (99999).md" within the 255 bytes a file name holds.
MAX_STEM_BYTES = 255 - len(b" (99999).md")
_TAG_BREAK = re.compile(r"[\s!-,.:-@\[-^`{-~]+")  # what a tag cannot hold (as the index reads)


def note_stem(title: str) -> str:
    """The file name (without ``.md``) of a note titled ``title``: characters a file
    name or a link cannot hold become spaces, no leading dot (that would hide it),
    at most MAX_STEM_BYTES bytes of UTF-8, cut between characters."""
    stem = _UNSAFE.sub(" ", title).strip().lstrip(".").strip()
    data = stem.encode("utf-8")
    if len(data) > MAX_STEM_BYTES:
        stem = data[:MAX_STEM_BYTES].decode("utf-8", "ignore").rstrip(" .")
    return stem or "Clipping"


@functools.lru_cache(maxsize=4096)  # an import repeats its folders' tags thousands of times
def tag_of(name: str) -> str | None:
    """``name`` (a folder, a service's tag, a person's ``--tag``) as a tag the index
    reads the same: runs of spaces and punctuation become ``-`` in each ``/`` part
    (``Personal toolbar`` is ``Personal-toolbar``); None if nothing is left."""
    from knowflow.vault.markdown import is_valid_tag

    parts = [_TAG_BREAK.sub("-", part).strip("-") for part in plain_text(name).split("/")]
    tag = "/".join(p for p in parts if p)
    if tag and not is_valid_tag(tag):
        tag = f"_{tag}"  # all digits (a year): a tag needs something else
    return tag if tag and is_valid_tag(tag) else None


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Valid tags, each once (compared without case), in order."""
    seen: dict[str, str] = {}
    for raw in tags:
        tag = tag_of(raw.lstrip("#"))
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return list(seen.values())


@dataclass
class Clipping:
    """A clipping note to write: every field from outside, cleaned when it is written."""

    title: str
    url: str | None
    source: str | None
    author: str | None = None
    published: str | None = None
    markdown: str = ""  # Markdown from outside: links and HTML are cleaned
    tags: Iterable[str] = ()
    note: str | None = None  # the person's own words, at the top
    extra: dict[str, object] = field(default_factory=dict)
    body: str = ""  # Markdown knowflow made itself (highlight callouts), written as is
    # Whether only the same text (all but its capture time) makes the same clipping, as
    # for a kept entry, which may have no address; else the same title, address, source
    # and author do (a bookmark, a book's highlights, a captured page).
    strict: bool = False
    warning: str | None = None  # what was left out before (an entry's link), to say so

    def __post_init__(self) -> None:
        self.title = plain_text(self.title) or "Clipping"
        # What an address that is not a web address was (its scheme), said in the note.
        self.dropped_url: str | None = None
        if self.url and not web_url(self.url):
            scheme = url_scheme(self.url)
            self.dropped_url = f"a {scheme}: address" if scheme else "a relative address"
        self.url = web_url(self.url)
        self.source = plain_text(self.source) or None
        self.author = plain_text(self.author) or None
        self.stem = note_stem(self.title)
        self._front: dict[str, object] | None = None  # made once: it is read several times

    def front(self) -> dict[str, object]:
        """The front matter: a key without a value is left out (no ``author: null``)."""
        if self._front is None:
            self._front = self._make_front()
        return dict(self._front)

    def _make_front(self) -> dict[str, object]:
        front: dict[str, object] = {
            "type": "clipping",
            # A title the file name cannot hold is kept here, where the index finds it.
            "title": self.title if self.stem != self.title else None,
            "url": self.url,
            "source": self.source,
            "author": self.author,
            "published": plain_text(self.published) or None,
            "captured": now(),
            "share": "private",
            "tags": clean_tags(self.tags),
            **{k: plain_text(v) if isinstance(v, str) else v for k, v in self.extra.items()},
        }
        front = {k: v for k, v in front.items() if v is not None and v != "" and v != []}
        if self.note and self.note.strip():
            # Also kept apart from the text, so that a digest can quote it exactly.
            front["comment"] = plain_text(self.note)
        return front

    def heading(self) -> str:
        return f"# {md_text(self.title)}"

    def text(self) -> str:
        """The whole note. Whatever a CommonMark reader still finds to be a link to
        another scheme, or raw HTML, makes the outside text be written escaped whole."""
        note, markdown = safe_markdown(self.note or ""), safe_markdown(self.markdown)
        body = self._body(note, markdown)
        if unsafe_in_markdown(body):
            body = self._body(escape_all(self.note or ""), escape_all(self.markdown))
        return "\n".join(["---", dump_front_matter(self.front()), "---", body])

    def _body(self, note: str, markdown: str) -> str:
        parts = [self.heading(), ""]
        for said in self.warnings():
            parts += [f"*{md_text(said[0].upper() + said[1:])}.*", ""]
        for piece in (note.strip(), markdown.strip(), self.body.strip()):
            if piece:
                parts += [piece, ""]
        return "\n".join(parts)

    def warnings(self) -> list[str]:
        """What the note says was left out of it, and why."""
        said = [plain_text(self.warning).rstrip(".")] if self.warning else []
        if self.dropped_url:
            said.append(f"its link was left out: {self.dropped_url} is not a web address")
        return [s for s in said if s]

    def identity(self) -> str:
        """What tells this clipping's note from another's: its front matter's ``type``,
        ``title``, ``url``, ``source`` and ``author``, and its heading; or, strict, its
        whole text but the time it was captured."""
        return _text_identity(self.text()) if self.strict else self.front_identity()

    def front_identity(self) -> str:
        front = self.front()
        return repr((*(front.get(k) for k in _IDENTITY), self.heading()))

    def is_in(self, path: Path) -> bool:
        """Whether the note at ``path`` is this clipping (written by an earlier run)."""
        return self.identity() in note_identities(path)


def note_identities(path: Path) -> tuple[str, ...]:
    """The identities (see ``Clipping.identity``) of the note at ``path``, both kinds."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ()
    fm = parse_front_matter(text)
    data = fm.data if isinstance(fm.data, dict) else {}
    heading = next((ln for ln in text[fm.body_start :].splitlines() if ln.strip()), "")
    return repr((*(data.get(k) for k in _IDENTITY), heading)), _text_identity(text)


def _text_identity(text: str) -> str:
    import hashlib

    data = _CAPTURED.sub("", text).encode("utf-8", "replace")
    return "text:" + hashlib.blake2b(data, digest_size=16).hexdigest()


_IDENTITY = ("type", "title", "url", "source", "author")
_CAPTURED = re.compile(r"^captured: .*\n", re.MULTILINE)


def clippings_folder(vault: Vault) -> Path:
    """The folder clippings go to (``[seek] clippings_folder``), made if need be, with
    the temporary files of killed writers cleared from it (once a process)."""
    folder = _folders.get(vault.root)
    if folder is None or not folder.is_dir():
        folder = vault.folder_setting("seek", "clippings_folder", CLIPPINGS_FOLDER)
        folder.mkdir(parents=True, exist_ok=True)
        sweep_stale_temps(folder)
        _folders[vault.root] = folder
    return folder


_folders: dict[Path, Path] = {}  # vault -> its clippings folder, swept
_TEMP = re.compile(r"\.(?P<name>.+)\.\d+\.[^.]+\.tmp")


def sweep_stale_temps(folder: Path) -> None:
    """Delete the temporary files that writers killed mid-write left in ``folder``
    (those of a process still running are left to it)."""
    names = set()
    with contextlib.suppress(OSError), os.scandir(folder) as it:
        for entry in it:
            m = _TEMP.fullmatch(entry.name)
            if m:
                names.add(m.group("name"))
    for name in names:
        clear_stale_temps(folder / name)


def save_clipping(vault: Vault, clip: Clipping, *, durable: bool = True) -> tuple[Path, bool]:
    """Write ``clip`` as a new note; (its path, True), or (the path, False) when an
    earlier run had written this very clipping and it is there already."""
    return write_new(clippings_folder(vault), clip, durable=durable)


def write_new(folder: Path, clip: Clipping, *, durable: bool = True) -> tuple[Path, bool]:
    """``save_clipping`` in a folder known to exist."""
    path, n = _find(folder, clip)
    if os.path.lexists(path):
        return path, False
    text = clip.text()
    atomic_write(path, text, durable=durable)
    read, where = _names[folder, clip.stem]
    if n == len(read) + 1:  # known without reading it back
        read.append(path)
        for ident in (clip.front_identity(), _text_identity(text)):
            where.setdefault(ident, n)
    return path, True


def find_place(folder: Path, clip: Clipping) -> Path:
    """The note ``clip`` is in already, else the first free name for it."""
    return _find(folder, clip)[0]


def _find(folder: Path, clip: Clipping) -> tuple[Path, int]:
    # Each name is read once a process: a thousand bookmarks of one title cost a
    # thousand reads, not half a million.
    read, where = _names.setdefault((folder, clip.stem), ([], {}))
    mine = clip.identity()
    if mine in where:
        path = _name(folder, clip.stem, where[mine])
        if clip.is_in(path):
            return path, where[mine]
    n = len(read) + 1
    while True:
        path = _name(folder, clip.stem, n)
        if not os.path.lexists(path):
            return path, n
        ids = note_identities(path)
        if n == len(read) + 1:
            read.append(path)
            for ident in ids:
                where.setdefault(ident, n)
        if mine in ids:
            return path, n
        n += 1


def _name(folder: Path, stem: str, n: int) -> Path:
    return folder / (f"{stem}.md" if n == 1 else f"{stem} ({n}).md")


# (folder, stem) -> (names read, in order; the first of them holding each identity)
_names: dict[tuple[Path, str], tuple[list[Path], dict[str, int]]] = {}


def write_clipping(
    vault: Vault,
    *,
    title: str,
    url: str | None,
    source: str | None,
    author: str | None,
    published: str | None,
    markdown: str,
    tags: Iterable[str] = (),
    note: str | None = None,
    extra: dict[str, object] | None = None,
    durable: bool = True,
) -> Path:
    """A private clipping note in the vault's clippings folder, written atomically (or
    the one an earlier, killed run wrote for the same clipping)."""
    clip = Clipping(title, url, source, author, published, markdown, tags, note, extra or {})
    return save_clipping(vault, clip, durable=durable)[0]
