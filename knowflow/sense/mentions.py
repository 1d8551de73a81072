"""Unlinked mentions and the links they suggest: another note's title or alias
written in a note without a link, found where a link may go (not in code, front
matter, links, web addresses, tags, HTML or headings), each with its sentence.
Nothing is written until a suggestion is accepted, and accepting changes only that
span of that line, atomically, in a file unchanged since it was read.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from knowflow.errors import ConflictError, KnowflowError
from knowflow.index.index import Index, NoteRef
from knowflow.sense.connect import notes_holding
from knowflow.sense.rename import link_name
from knowflow.vault.files import FileStamp, atomic_write, read_bytes
from knowflow.vault.markdown import TAG_PATTERN, link_spans
from knowflow.vault.masking import mask_code_and_comments

MIN_NAME = 3  # shorter titles and aliases are not looked for as mentions
# A one-word name in more than a fifth of the notes (and in more than ten) is mostly
# the plain word ("note", "list" on foam-docs); a concept note's name, found in a few
# notes ("serendipity" in 6 of the sample vault's 33), is what a link is for.
COMMON_SHARE = 0.2
COMMON_MIN = 10
_FRONT = re.compile(r"\A---\r?\n.*?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# Where a mention must not become a link: Markdown links and images to anywhere
# (local ones are in link_spans already), reference links and their definitions,
# footnote marks, autolinks, bare web addresses, HTML tags and heading lines.
_NO_LINK_HERE = re.compile(
    r"!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|!?\[[^\]\n]*\]\[[^\]\n]*\]"
    r"|^ {0,3}\[[^\]\n]+\]:.*$"
    r"|\[\^[^\]\n]+\]"
    r"|<[a-z][a-z0-9+.-]{1,31}:[^<>\s]*>"
    r"|\b(?:https?|ftp|mailto|file):[^\s<>\[\]]*"
    r"|\bwww\.[^\s<>\[\]]+"
    r"|</?[a-z][^<>\n]*>"
    r"|^ {0,3}#{1,6}(?:[ \t].*)?$",
    re.IGNORECASE | re.MULTILINE,
)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_STOP_MARK = re.compile(r"[.!?](?=\s|$)")
_ABBREVIATIONS = frozenset(["vs", "e.g", "i.e", "cf", "fig", "no", "mr", "mrs", "dr", "st"])


@dataclass(frozen=True)
class Mention:
    """A note's title or alias written without a link: in ``path`` at ``line``."""

    path: str  # the file holding the mention
    line: int
    text: str  # as written
    target: str  # the mentioned note's path
    title: str  # the mentioned note's title
    sentence: str
    column: int = 0  # where on its line the mention starts, in characters from 0

    @property
    def id(self) -> str:
        raw = f"{self.path}\0{self.line}\0{self.column}\0{self.text}\0{self.target}"
        return hashlib.sha1(raw.encode()).hexdigest()[:10]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "text": self.text,
            "target": self.target,
            "title": self.title,
            "sentence": self.sentence,
        }


Names = dict[str, tuple[str, str]]  # lowercased name -> (path, title)


def _names(index: Index, where: str = "", args: tuple[object, ...] = ()) -> Names:
    names: Names = {}
    rows = index.conn.execute(
        "SELECT f.title, f.path, f.title FROM files f WHERE f.is_note = 1"
        + where
        + " UNION ALL SELECT a.alias, f.path, f.title FROM aliases a JOIN files f"
        " ON f.id = a.file_id WHERE f.is_note = 1" + where,
        args + args,
    )
    for name, path, title in rows:
        key = name.strip().lower()
        if len(key) >= MIN_NAME and len(key) == len(name.strip()):
            names.setdefault(key, (path, title))
    return names


def _read(index: Index, path: str) -> str:
    return read_bytes(index.vault.root / path).decode("utf-8", errors="replace")


def _searchable(text: str) -> str:
    """The text lowercased, with every place a link must not go blanked: front
    matter, code, comments, links of any kind, web addresses, tags, HTML and
    headings (a link there would change the heading's anchor)."""
    masked = mask_code_and_comments(text)
    chars = list(masked.lower())
    front = _FRONT.match(text)
    spans = [(0, front.end())] if front else []
    spans += [(s, e) for s, e, _ in link_spans(text)]
    spans += [m.span() for m in _NO_LINK_HERE.finditer(masked)]
    spans += [m.span() for m in TAG_PATTERN.finditer(masked) if _after_space(masked, m.start())]
    for s, e in spans:
        for i in range(s, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars) if len(chars) == len(text) else " " * len(text)


def _after_space(text: str, at: int) -> bool:
    return at == 0 or text[at - 1].isspace() or text[at - 1] in "([{"


def _table_lines(text: str) -> set[int]:
    """The lines (1-based) of Markdown tables, where a link's ``|`` must be escaped."""
    lines = text.split("\n")
    out: set[int] = set()
    for i, line in enumerate(lines):
        if i and "|" in lines[i - 1] and _TABLE_RULE.match(line):
            j = i - 1
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                out.add(j + 1)
                j += 1
    return out


def find_mentions(path: str, text: str, names: Names, skip: set[str]) -> list[Mention]:
    """Each name in ``names`` (not leading to a path in ``skip``) written in text
    where a link may go (see ``_searchable``), on word boundaries."""
    hay = _searchable(text)
    by_first: dict[str, list[str]] = {}
    for key in names:
        first = re.match(r"\w+", key)
        if first:
            by_first.setdefault(first.group(), []).append(key)
    for keys in by_first.values():
        keys.sort(key=len, reverse=True)
    found: list[Mention] = []
    taken = -1
    line, counted = 1, 0  # lines counted up to ``counted``: a huge note is read once
    for m in re.finditer(r"\w+", hay):
        if m.start() < taken:
            continue
        for key in by_first.get(m.group(), ()):
            end = m.start() + len(key)
            if not hay.startswith(key, m.start()) or (end < len(hay) and _is_word(hay[end])):
                continue
            if m.start() > 0 and _is_word(hay[m.start() - 1]):
                continue
            target, title = names[key]
            if target in skip:
                break
            line_start = text.rfind("\n", 0, m.start()) + 1
            line, counted = line + text.count("\n", counted, m.start()), m.start()
            found.append(
                Mention(
                    path,
                    line,
                    text[m.start() : end],
                    target,
                    title,
                    _sentence(text, m.start(), end),
                    m.start() - line_start,
                )
            )
            taken = end
            break
    return found


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end], within its line; a stop after a known
    abbreviation ("vs.", "e.g.") or before a lowercase word ends no sentence."""
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    for m in _STOP_MARK.finditer(text, lo, start):
        if not _abbreviation(text, m.start()):
            lo = max(lo, m.end())
    for m in _STOP_MARK.finditer(text, end, hi):
        if not _abbreviation(text, m.start()):
            hi = m.start() + 1
            break
    return text[lo:hi].strip()


def _abbreviation(text: str, stop: int) -> bool:
    word = re.search(r"[\w.]+$", text[max(0, stop - 8) : stop])
    after = text[stop + 1 : stop + 3].strip()
    return bool(
        text[stop] == "."
        and ((word and word.group().lower() in _ABBREVIATIONS) or (after and after[0].islower()))
    )


def _linked_from(index: Index, note: NoteRef) -> set[str]:
    rows = index.conn.execute(
        "SELECT resolved_path FROM links WHERE file_id = ? AND resolved_path IS NOT NULL",
        (note.id,),
    )
    return {r[0] for r in rows} | {note.path}


def mentions(
    index: Index, note: NoteRef, *, common: bool = False
) -> tuple[list[Mention], list[Mention]]:
    """Other notes' names in this note unlinked, and this note's names in others.
    Single-word names common across the vault ("note", "list") are left out
    unless ``common``: as mentions they are mostly the plain word."""
    names = _names(index)
    out = find_mentions(note.path, _read(index, note.path), names, _linked_from(index, note))
    own = _names(index, " AND f.id = ?", (note.id,))
    if not common:
        plain = common_names(index, {m.text for m in out})  # once: a note may hold thousands
        out = [m for m in out if m.text.lower() not in plain]
        own = {k: v for k, v in own.items() if k not in common_names(index, set(own))}
    inbound: list[Mention] = []
    if own:
        query = " OR ".join('"' + k.replace('"', '""') + '"' for k in own)
        rows = index.conn.execute(
            "SELECT f.id, f.path, f.title, f.type FROM notes_fts n JOIN files f ON f.id = n.rowid"
            " WHERE notes_fts MATCH ? AND f.id != ? AND f.is_note = 1 ORDER BY f.path",
            (query, note.id),
        ).fetchall()
        for row in rows:
            other = NoteRef(*row)
            if note.path in _linked_from(index, other):
                continue
            inbound += find_mentions(other.path, _read(index, other.path), own, set())
    return out, inbound


def common_names(index: Index, names: set[str]) -> set[str]:
    """Which of these names (lowercased) are single words found in more than
    COMMON_SHARE of the vault's notes (and in at least COMMON_MIN of them)."""
    words = {n.lower() for n in names if re.fullmatch(r"\w+", n)}
    if not words:
        return set()
    floor = max(COMMON_MIN, index.count() * COMMON_SHARE)
    return {word for word, held in notes_holding(index, sorted(words)).items() if held > floor}


def by_file_and_note(found: list[Mention]) -> list[list[Mention]]:
    """Mentions by (file, note named), in the order first found: one link from a file
    to a note makes its other mentions there linked ones, so each group is one
    suggestion."""
    groups: dict[tuple[str, str], list[Mention]] = {}
    for m in found:
        groups.setdefault((m.path, m.target), []).append(m)
    return list(groups.values())


def suggestions(index: Index, note: NoteRef, *, common: bool = False) -> list[Mention]:
    out, inbound = mentions(index, note, common=common)
    return out + inbound


def plan_accept(
    index: Index,
    path: str,
    line: int,
    text: str,
    target: str | None = None,
    column: int | None = None,
) -> tuple[FileStamp, str, str]:
    """The file's stamp, its new text and the link written, with one unlinked ``text``
    on ``line`` turned into a wikilink: the one at ``column`` when given, else the
    first written exactly so, else the first in any case. ``target`` names the note
    to link to (default: the note so named); it must name exactly one."""
    file = index.vault.root / path
    stamp = FileStamp.of(file)
    original = read_bytes(file).decode("utf-8")
    starts = [0] + [m.end() for m in re.finditer("\n", original)]
    if not 1 <= line <= len(starts):
        raise KnowflowError(f"{path} has no line {line}")
    lo = starts[line - 1]
    hi = starts[line] - 1 if line < len(starts) else len(original)
    span = _mention_at(_searchable(original), original, text, lo, hi, column)
    if span is None:
        where = f"{path}:{line}" + (f":{column + 1}" if column is not None else "")
        raise KnowflowError(f"{where} has no unlinked {text!r}")
    written = original[span[0] : span[1]]
    link = _link_to(index, _target_path(index, target or text), path, written)
    if line in _table_lines(original):
        link = link.replace("|", "\\|")  # a bare | would split the table's cell
    return stamp, original[: span[0]] + link + original[span[1] :], link


def _mention_at(
    hay: str, original: str, text: str, lo: int, hi: int, column: int | None
) -> tuple[int, int] | None:
    pattern = re.compile(rf"(?<!\w){re.escape(text.lower())}(?!\w)")
    found = [m.span() for m in pattern.finditer(hay, lo, hi)]
    if column is not None:
        found = [f for f in found if f[0] == lo + column]
    exact = [f for f in found if original[f[0] : f[1]] == text]
    chosen = exact or found
    return chosen[0] if chosen else None


def _target_path(index: Index, name: str) -> str:
    """The path of the one note ``name`` names (a title, alias, file name or path);
    an ambiguous or unknown name is refused as everywhere else."""
    return index.note(name).path


def _link_to(index: Index, target: str, source: str, written: str) -> str:
    name = link_name(index, target, source)
    return f"[[{written}]]" if name == written else f"[[{name}|{written}]]"


def accept(
    index: Index,
    path: str,
    line: int,
    text: str,
    target: str | None = None,
    column: int | None = None,
) -> str:
    """Write the link (refused if the file changed since it was read), then rescan."""
    stamp, new_text, link = plan_accept(index, path, line, text, target, column)
    write_planned(index, path, stamp, new_text)
    return link


def write_planned(index: Index, path: str, stamp: FileStamp, new_text: str) -> None:
    try:
        atomic_write(index.vault.root / path, new_text, stamp)
    except ConflictError:
        raise ConflictError(f"{path} changed since it was read: nothing written") from None
    index.scan()
