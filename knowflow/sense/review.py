"""Resurfacing: a few notes and highlights a day on a spaced schedule, and the weekly
list of clippings that hold nothing of the person's own yet.

An item is a note (its vault path) or a highlight in a clipping (``path#^hl-id``, as
Obsidian links to a block). Each day brings back up to ``per_day`` items: those due
first (oldest due date first), then ones never reviewed, the oldest files first. The
person answers each, as SM-2 schedules a card that was remembered, but with three
answers that are about use, not recall:

- ``still_useful``: the interval grows (1 day, 6 days, then times 2.5, rounded);
- ``connect``: the note's links, backlinks and tags are shown, and what to connect it
  with (``to_connect``: related notes, and the unlinked mentions in it and of it as
  links to accept); the interval is kept (the item comes back after as long again);
- ``let_go``: never brought back again.

Nothing here writes into a note: the schedule lives in the state database.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from knowflow.errors import KnowflowError, NoteNotFound
from knowflow.index.index import Index
from knowflow.sense.connect import Related, related
from knowflow.sense.graph import backlinks, note_at, note_tags, outgoing
from knowflow.sense.mentions import Mention, mentions
from knowflow.vault.markdown import Link

ANSWERS = ("still_useful", "connect", "let_go")
PER_DAY = 5
EASE = 2.5
FIRST, SECOND = 1, 6  # days, as SM-2's first two intervals
# Notes that are the person's running logs or outputs, not things to resurface.
NOT_RESURFACED = ("digest", "narration")
# What plain() drops or rewrites in a line, besides links, code and comments: a
# backslash escape (its character kept), an autolink (its address kept), an HTML tag,
# a footnote mark, a block id at the line's end, and list, task and quote markers.
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^<>\s]*)>", re.IGNORECASE)
_TAG_HTML = re.compile(r"</?[A-Za-z][^<>\n]*>")
_FOOTNOTE = re.compile(r"\[\^[^\]\n]+\]")
_BLOCK_ID = re.compile(r"(?:^|(?<=\s))\^[A-Za-z0-9-]+[ \t]*$")
_LINE_START = re.compile(r"^[ \t]*(?:>[ \t]?)*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[.\][ \t]+)?)?")
# A Markdown link or image to anywhere: [words](address "title").
_MD_LINK = re.compile(
    r"(!?)\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]"
    r"\(\s*(?:<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)
# Emphasis delimiters, longest first; _ only at word edges (snake_case stays).
_EMPHASIS = [
    (re.compile(rf"{before}{d}(?=\S).+?(?<=\S){d}{after}"), len(d.replace("\\", "")))
    for before, d, after in (
        ("", r"\*\*", ""),
        (r"(?<!\w)", "__", r"(?!\w)"),
        ("", "~~", ""),
        ("", "==", ""),
        ("", r"\*", ""),
        (r"(?<!\w)", "_", r"(?!\w)"),
    )
]
Edit = tuple[int, int, str]  # text[start:end] is shown as the string


@dataclass
class Item:
    """One thing the review brings back."""

    item: str  # a note's path, or path#^hl-id
    kind: str  # note or highlight
    path: str
    title: str
    text: str  # a highlight's quote, or the start of the note's text
    due: str | None = None  # None: never reviewed
    interval: int = 0
    reps: int = 0
    last_answer: str | None = None
    connect: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "kind": self.kind,
            "path": self.path,
            "title": self.title,
            "text": self.text,
            "due": self.due,
            "interval": self.interval,
            "reps": self.reps,
            "last_answer": self.last_answer and self.last_answer.replace("_", "-"),
            **({"connect": self.connect} if self.connect else {}),
        }


@dataclass(frozen=True)
class Marked:
    item: str
    answer: str
    due: str | None  # None once let go
    interval: int
    connect: dict[str, list[str]]

    def as_dict(self) -> dict[str, object]:
        return {
            "item": self.item,
            "answer": self.answer.replace("_", "-"),  # as the CLI takes it
            "due": self.due,
            "interval": self.interval,
            "connect": self.connect,
        }


def normal_answer(answer: str) -> str:
    """``still-useful``, ``still_useful`` and ``Still useful`` are one answer."""
    key = answer.strip().lower().replace("-", "_").replace(" ", "_")
    if key not in ANSWERS:
        raise KnowflowError(f"unknown answer {answer!r}: give still-useful, connect or let-go")
    return key


def next_interval(interval: int, reps: int, answer: str) -> int:
    """The interval in days after ``answer``, for an item kept ``reps`` times so far
    whose interval was ``interval`` (0: never reviewed). ``let_go`` has none."""
    if answer == "still_useful":
        if reps == 0:
            return FIRST
        if reps == 1:
            return SECOND
        return max(interval + 1, round(interval * EASE))
    if answer == "connect":
        return interval or FIRST
    return 0


def due_today(
    index: Index, conn: sqlite3.Connection, today: dt.date, per_day: int = PER_DAY
) -> list[Item]:
    """The day's review: what is due, then what was never reviewed, up to ``per_day``
    less those already answered today."""
    answered = conn.execute(
        "SELECT count(*) FROM review_items WHERE last_reviewed = ?", (today.isoformat(),)
    ).fetchone()[0]
    room = max(0, per_day - answered)
    if not room:
        return []
    items = _look_backs(index, conn, today)[:room]
    if len(items) == room:
        return items
    rows = conn.execute(
        "SELECT item, due, interval, reps, last_answer FROM review_items"
        " WHERE due <= ? AND (last_answer IS NULL OR last_answer != 'let_go')"
        " AND (last_reviewed IS NULL OR last_reviewed != ?) ORDER BY due, item",
        (today.isoformat(), today.isoformat()),
    ).fetchall()
    shown = {i.item for i in items}
    for item, due, interval, reps, last in rows:
        found = None if item in shown else describe(index, item)
        if found is None:
            continue  # deleted or renamed since: it stays in the schedule, unseen
        found.due, found.interval, found.reps, found.last_answer = due, interval, reps, last
        items.append(found)
        if len(items) == room:
            return items
    known = {row[0] for row in conn.execute("SELECT item FROM review_items")}
    for candidate in _candidates(index):
        if candidate in known or candidate in shown:
            continue
        found = describe(index, candidate)
        if found is not None:
            items.append(found)
            if len(items) == room:
                break
    return items


def _look_backs(index: Index, conn: sqlite3.Connection, today: dt.date) -> list[Item]:
    """Experiments whose look-back date has come, with nothing learned written yet and
    no answer given since that date: they come first, as the note asked."""
    from knowflow.sense.journal import due_look_backs

    out = []
    for due in due_look_backs(index, today):
        row = conn.execute(
            "SELECT last_answer, last_reviewed FROM review_items WHERE item = ?", (due.path,)
        ).fetchone()
        if row and (row[0] == "let_go" or (row[1] or "") >= due.look_back):
            continue
        found = describe(index, due.path)
        if found is not None:
            found.kind = "look-back"
            with_whom = f" with {due.tried_with}" if due.tried_with else ""
            found.text = f"Time to look back (set for {due.look_back}): tried{with_whom}."
            found.text += " What happened, and what was learned?"
            out.append(found)
    return out


def _candidates(index: Index) -> list[str]:
    """Every note and highlight, the oldest files first (their text is read only for
    the few shown)."""
    skip = ",".join("?" * len(NOT_RESURFACED))
    rows = index.conn.execute(
        "SELECT id, path FROM files WHERE is_note = 1"
        f" AND coalesce(type, 'note') NOT IN ({skip}) ORDER BY mtime_ns, path",
        NOT_RESURFACED,
    ).fetchall()
    marks: dict[int, list[str]] = {}
    for file_id, block in index.conn.execute(
        "SELECT file_id, block_id FROM blocks WHERE block_id LIKE 'hl-%' ORDER BY file_id, line"
    ):
        marks.setdefault(file_id, []).append(block)
    out: list[str] = []
    for file_id, path in rows:
        out.append(path)
        out.extend(f"{path}#^{b}" for b in marks.get(file_id, []))
    return out


def describe(index: Index, item: str) -> Item | None:
    """The item as it is now in the vault, or None if its note or highlight is gone."""
    path, _, block = item.partition("#^")
    note = note_at(index, path)
    if note is None:
        return None
    try:
        text = (index.vault.root / path).read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not block:
        return Item(item, "note", path, note.title, _opening(text))
    from knowflow.seek.highlights import highlights

    for h in highlights(text):
        if h.id == block:
            return Item(item, "highlight", path, note.title, plain(h.quote))
    return None


def _opening(text: str, limit: int = 280) -> str:
    """The start of a note's text as plain words (``plain``), without front matter,
    headings, quotes, tables, code blocks, comments or blank lines."""
    from knowflow.vault.frontmatter import split_front_matter
    from knowflow.vault.masking import Masked

    _, body_start, _ = split_front_matter(text)
    body = text[body_start:]
    found = Masked(body)
    pieces, pos = [], 0
    for start, end in sorted(found.fences + found.comments):
        pieces += [body[pos:start], "\n" * body.count("\n", start, end)]
        pos = end
    words = []
    for raw in ("".join(pieces) + body[pos:]).splitlines():
        raw = raw.strip()
        if not raw or raw.startswith(("#", "---", "%%", ">", "|")):
            continue
        line = plain(raw)
        if not line:
            continue
        words.append(line)
        if sum(map(len, words)) > limit:
            break
    joined = " ".join(words)
    return joined if len(joined) <= limit else joined[: limit - 1].rstrip() + "…"


def plain(line: str) -> str:
    """A line of Markdown as a person reads it: a link as its words (a wikilink's alias,
    else its note's name, with ``Note > Heading`` for a heading), embeds and images
    dropped, emphasis, code and escape marks, HTML tags, comments, footnote marks, a
    block id and list, task or quote markers left out, whitespace collapsed."""
    return " ".join(apply_edits(line, plain_edits(line)).split())


def apply_edits(text: str, edits: list[Edit]) -> str:
    pieces, pos = [], 0
    for start, end, words in edits:
        pieces += [text[pos:start], words]
        pos = end
    return "".join(pieces) + text[pos:]


def plain_edits(line: str) -> list[Edit]:
    """What ``plain`` changes in the line, as (start, end, shown instead), in order and
    not overlapping: a span of the line outside them is shown as written."""
    from knowflow.vault.markdown import link_spans
    from knowflow.vault.masking import Masked

    edits: list[Edit] = []

    def free(start: int, end: int) -> bool:
        return all(end <= s or start >= e for s, e, _ in edits)

    def claim(start: int, end: int, words: str) -> None:
        if start < end and free(start, end):
            edits.append((start, end, words))

    lead = _LINE_START.match(line)
    claim(0, lead.end() if lead else 0, "")
    found = Masked(line)
    for start, end, link in link_spans(line):
        if link.kind in ("wikilink", "embed"):
            claim(start, end, "" if link.kind == "embed" else _wikilink_words(link))
    for m in _MD_LINK.finditer(found.masked):
        claim(m.start(), m.end(), "" if m.group(1) else plain(line[m.start(2) : m.end(2)]))
    for start, end in found.comments:
        claim(start, end, " ")
    for start, end in found.code:
        ticks = len(line[start:end]) - len(line[start:end].lstrip("`"))
        inner = line[start + ticks : end - ticks]
        claim(start, end, inner[1:-1] if len(inner) > 2 and inner[0] == inner[-1] == " " else inner)
    blank = _blanked(line, edits)
    for pattern in (_ESCAPE, _AUTOLINK, _TAG_HTML, _FOOTNOTE, _BLOCK_ID):
        for m in pattern.finditer(blank):
            keep = m.group(1) if pattern in (_ESCAPE, _AUTOLINK) else ""
            claim(m.start(), m.end(), keep)
    for pattern, width in _EMPHASIS:
        blank = _blanked(line, edits)
        for m in pattern.finditer(blank):
            if free(m.start(), m.start() + width) and free(m.end() - width, m.end()):
                claim(m.start(), m.start() + width, "")
                claim(m.end() - width, m.end(), "")
    return sorted(edits)


def _blanked(line: str, edits: list[Edit]) -> str:
    """The line with what the edits change blanked (a character no pattern starts
    or ends at, nor takes for whitespace), lengths kept."""
    chars = list(line)
    for start, end, _ in edits:
        chars[start:end] = "\x01" * (end - start)
    return "".join(chars)


def _wikilink_words(link: Link) -> str:
    """A wikilink's words: its alias, else its note's name and the headings it points
    to (``Note > Heading``); a block id only when it is all there is."""
    if link.display:
        return plain(link.display)
    name = link.target.rsplit("/", 1)[-1]
    name = name[:-3] if name.lower().endswith(".md") else name
    parts = [p for p in link.subpath.split("#") if p.strip()]
    headings = [p.strip() for p in parts if not p.startswith("^")]
    if not name and not headings:
        return " ".join(p.lstrip("^") for p in parts)
    return " > ".join([name] * bool(name) + headings)


def mark(index: Index, conn: sqlite3.Connection, item: str, answer: str, today: dt.date) -> Marked:
    """Record the person's answer for ``item`` and schedule it again (or never)."""
    answer = normal_answer(answer)
    item = _known_item(index, conn, item)
    row = conn.execute(
        "SELECT interval, reps, due, last_answer, last_reviewed FROM review_items WHERE item = ?",
        (item,),
    ).fetchone()
    interval, reps = row[:2] if row else (0, 0)
    if row and row[3] == answer and row[4] == today.isoformat():
        # The same answer again the same day (a repeated command, a double click) is
        # the one answer already given, not a second review pushing the item further.
        return Marked(
            item,
            answer,
            None if answer == "let_go" else row[2],
            interval,
            connections(index, item) if answer == "connect" else {},
        )
    new = next_interval(interval, reps, answer)
    due = (today + dt.timedelta(days=new)).isoformat() if answer != "let_go" else "9999-12-31"
    reps = reps + 1 if answer == "still_useful" else reps
    conn.execute(
        "INSERT INTO review_items (item, due, interval, reps, last_answer, last_reviewed)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (item) DO UPDATE SET due = excluded.due,"
        " interval = excluded.interval, reps = excluded.reps,"
        " last_answer = excluded.last_answer, last_reviewed = excluded.last_reviewed",
        (item, due, new, reps, answer, today.isoformat()),
    )
    from knowflow.seek.state import record

    record(conn, "review_marked", item, answer=answer, interval=new)
    return Marked(
        item,
        answer,
        None if answer == "let_go" else due,
        new,
        connections(index, item) if answer == "connect" else {},
    )


def _known_item(index: Index, conn: sqlite3.Connection, item: str) -> str:
    """The item as stored: a scheduled one as given, else a note or highlight found
    by its path or name (``Some note`` names ``folder/Some note.md``)."""
    if conn.execute("SELECT 1 FROM review_items WHERE item = ?", (item,)).fetchone():
        return item
    name, _, block = item.partition("#^")
    note = index.note(name)  # raises NoteNotFound
    full = f"{note.path}#^{block}" if block else note.path
    if describe(index, full) is None:
        raise NoteNotFound(f"{note.path} has no highlight {block!r}")
    return full


def connections(index: Index, item: str) -> dict[str, list[str]]:
    """What to connect the item with: the notes its note links to and is linked from,
    and its tags."""
    note = note_at(index, item.partition("#^")[0])
    if note is None:
        return {"links": [], "backlinks": [], "tags": []}
    links = sorted({r.resolved for r in outgoing(index, note) if r.resolved} - {note.path})
    back = sorted({r.path for r in backlinks(index, note, with_text=False)} - {note.path})
    return {"links": links, "backlinks": back, "tags": note_tags(index, note)}


@dataclass(frozen=True)
class ToConnect:
    """What to connect an item's note with: nothing is written until a link is accepted."""

    path: str
    related: list[Related]
    here: list[Mention]  # other notes named in it without a link
    elsewhere: list[Mention]  # it named in other notes without a link

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "related": [r.as_dict() for r in self.related],
            "suggestions": [m.as_dict() for m in self.here + self.elsewhere],
        }


def to_connect(index: Index, item: str, limit: int = 10) -> ToConnect:
    """The item's note's related notes and suggested links (as ``knowflow related``
    and ``knowflow link suggest`` find them)."""
    note = note_at(index, item.partition("#^")[0])
    if note is None:
        raise NoteNotFound(f"no note {item.partition('#^')[0]!r}")
    here, elsewhere = mentions(index, note)
    return ToConnect(note.path, related(index, note, limit), here, elsewhere)


@dataclass(frozen=True)
class Unmade:
    """A clipping kept in the period that holds nothing of the person's own yet."""

    path: str
    title: str
    captured: str
    source: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "title": self.title,
            "captured": self.captured,
            "source": self.source,
        }


def weekly(index: Index, since: dt.datetime, until: dt.datetime) -> list[Unmade]:
    """The clippings captured in [since, until) with no comment of the person's own, no
    link out to another note and no highlight with a comment: collected, not yet made
    sense of. Oldest first."""
    from knowflow.seek.highlights import highlights
    from knowflow.vault.frontmatter import parse_datetime

    rows = index.conn.execute(
        "SELECT f.id, f.path, f.title, f.front_matter FROM files f"
        " WHERE f.is_note = 1 AND f.type = 'clipping'"
        " AND NOT EXISTS (SELECT 1 FROM links l WHERE l.file_id = f.id AND l.target != '')"
        " ORDER BY f.path"
    ).fetchall()
    found = []
    for _, path, title, front_json in rows:
        front = json.loads(front_json) if front_json else {}
        captured = parse_datetime(front.get("captured"))
        if captured is None or not since <= captured < until:
            continue
        if str(front.get("comment") or "").strip():
            continue
        try:
            text = (index.vault.root / path).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if any(h.comment for h in highlights(text)):
            continue
        source = front.get("source")
        found.append(
            Unmade(
                path, title, captured.isoformat(timespec="seconds"), str(source) if source else None
            )
        )
    found.sort(key=lambda u: (u.captured, u.path))
    return found


def clippings_kept(index: Index, since: dt.datetime, until: dt.datetime) -> int:
    """How many clippings were captured in [since, until), made sense of or not."""
    from knowflow.vault.frontmatter import parse_datetime

    rows = index.conn.execute(
        "SELECT json_extract(front_matter, '$.captured') FROM files"
        " WHERE is_note = 1 AND type = 'clipping'"
    )
    return sum(
        1 for (at,) in rows if (when := parse_datetime(at)) is not None and since <= when < until
    )


def week_bounds(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The seven days ending with ``today`` (UTC), as the weekly review's period."""
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), dt.UTC)
    return end - dt.timedelta(days=7), end


def follow_move(conn: sqlite3.Connection, old: str, new: str) -> None:
    """Carry a note's schedule, and its highlights', over to the note's new path, so a
    rename or move loses no review history (run again, it finds nothing to change)."""
    conn.execute(
        "UPDATE OR REPLACE review_items SET item = ? || substr(item, ?)"
        " WHERE item = ? OR substr(item, 1, ?) = ?",
        (new, len(old) + 1, old, len(old) + 2, old + "#^"),
    )


def vault_path(index: Index, item: str) -> Path:
    return index.vault.root / item.partition("#^")[0]
