"""The stream: entries from sources, kept apart from the vault until the person keeps one."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

from knowflow.errors import KnowflowError
from knowflow.seek.sources import check_kind
from knowflow.seek.state import now, record
from knowflow.when import moment

if TYPE_CHECKING:
    from knowflow.seek.feeds import Entry

STATES = ("new", "seen", "kept", "dismissed")
# An entry's date: when it was published, else updated (entries stored before
# the parsers fell back to <updated> have only that), else when it was first seen.
_DATE = "coalesce(e.published, e.updated, e.first_seen)"
_SELECT = (
    "SELECT e.id, s.name, s.kind, e.title, e.link, e.author,"
    " coalesce(e.published, e.updated), e.state, e.first_seen, e.note_path, e.warning"
    " FROM entries e JOIN sources s ON s.id = e.source_id"
)
_TAGS = re.compile(r"<[^>]+>")


def store_entries(
    conn: sqlite3.Connection, source_id: int, entries: list[Entry]
) -> tuple[int, int]:
    """Add new entries and update changed ones in place; returns (added, updated).

    An entry is the same as one already stored when its id matches, else its
    link, else its content, else (with no id of its own) its title and date; the
    person's state (seen, kept, ...) is never reset.
    A feed's entries are looked up and written a statement per kind, not per entry.
    """
    known = _Known(conn, source_id, entries)
    fresh: dict[int, Entry] = {}  # by position among the new ones
    changed: dict[int, Entry] = {}  # by stored id
    updated = 0
    for entry in entries:
        match = known.find(entry)
        if match is None:
            known.add(entry, ~len(fresh))  # a new entry gets a negative key until stored
            fresh[len(fresh)] = entry
        elif match[1] != entry.content_hash:
            if match[0] < 0:
                fresh[~match[0]] = entry  # the feed repeats an entry: the last one wins
            else:
                changed[match[0]] = entry
            known.add(entry, match[0])
            updated += 1
    _insert(conn, source_id, list(fresh.values()))
    _update(conn, changed)
    return len(fresh), updated


class _Known:
    """The stored entries of a source that this batch could match: by id, by link
    (both without tracking parameters, see ``knowflow.seek.clean``), by content,
    and, for an entry the feed gave no id of its own, by title and date (a link
    whose query changes on every fetch would otherwise make it new every time)."""

    _KEYS = ("id", "link", "content_hash", "title_date")

    def __init__(self, conn: sqlite3.Connection, source_id: int, entries: list[Entry]) -> None:
        self.by: dict[str, dict[str, tuple[int, str]]] = {key: {} for key in self._KEYS}
        stored = conn.execute("SELECT 1 FROM entries WHERE source_id = ? LIMIT 1", (source_id,))
        if stored.fetchone() is None:
            return  # a new source: nothing to match (most of a first update)
        for column, attribute in (
            ("guid", "id"),
            ("link", "link"),
            ("content_hash", "content_hash"),
        ):
            values = json.dumps([getattr(e, attribute) for e in entries if getattr(e, attribute)])
            self.by[attribute] = {
                str(value): (int(row_id), str(digest))
                for row_id, value, digest in conn.execute(
                    f"SELECT id, {column}, content_hash FROM entries WHERE source_id = ?"
                    f" AND {column} IN (SELECT value FROM json_each(?)) ORDER BY id DESC",
                    (source_id, values),
                )
            }
        titles = json.dumps([e.title for e in entries if _title_date(e)])
        if titles != "[]":
            self.by["title_date"] = {
                f"{title}\x00{date}": (int(row_id), str(digest))
                for row_id, title, date, digest in conn.execute(
                    "SELECT id, title, coalesce(published, updated), content_hash FROM entries"
                    " WHERE source_id = ? AND title IN (SELECT value FROM json_each(?))"
                    " ORDER BY id DESC",
                    (source_id, titles),
                )
            }

    def find(self, entry: Entry) -> tuple[int, str] | None:
        for key in self._KEYS:
            value = _title_date(entry) if key == "title_date" else getattr(entry, key)
            if value and value in self.by[key]:
                return self.by[key][value]
        return None

    def add(self, entry: Entry, row: int) -> None:
        """Remember an entry of this batch, so that a feed repeating it updates it."""
        for key in self._KEYS:
            value = _title_date(entry) if key == "title_date" else getattr(entry, key)
            if value:
                self.by[key][value] = (row, entry.content_hash)


def _title_date(entry: Entry) -> str | None:
    """The key of an entry with no id of its own, a title and a date."""
    if entry.has_own_id or not (entry.title and entry.published):
        return None
    return f"{entry.title}\x00{entry.published}"


def _insert(conn: sqlite3.Connection, source_id: int, entries: list[Entry]) -> None:
    if not entries:
        return
    stamp = now()
    (last,) = conn.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()
    conn.executemany(
        "INSERT INTO entries (source_id, guid, link, title, author, published, updated,"
        " html, content_hash, first_seen, changed_at, warning)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                source_id,
                e.id,
                e.link,
                e.title,
                e.author,
                e.published,
                e.updated,
                e.html,
                e.content_hash,
                stamp,
                stamp,
                e.warning,
            )
            for e in entries
        ],
    )
    conn.create_function("knowflow_text", 1, _text_of, deterministic=True)
    conn.execute(
        "INSERT INTO entries_fts (rowid, title, text)"
        " SELECT id, title, knowflow_text(html) FROM entries WHERE id > ?",
        (last,),
    )


def _update(conn: sqlite3.Connection, changed: dict[int, Entry]) -> None:
    if not changed:
        return
    stamp = now()
    conn.executemany(
        "UPDATE entries SET title = ?, link = ?, author = ?, updated = ?, html = ?,"
        " content_hash = ?, changed_at = ?, warning = ? WHERE id = ?",
        [
            (e.title, e.link, e.author, e.updated, e.html, e.content_hash, stamp, e.warning, row_id)
            for row_id, e in changed.items()
        ],
    )
    conn.executemany("DELETE FROM entries_fts WHERE rowid = ?", [(i,) for i in changed])
    conn.executemany(
        "INSERT INTO entries_fts (rowid, title, text) VALUES (?, ?, ?)",
        [(i, e.title, _text_of(e.html)) for i, e in changed.items()],
    )


def _text_of(html: str) -> str:
    return _TAGS.sub(" ", html)


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """An entry as the stream lists it."""

    id: int
    source: str
    kind: str
    title: str
    link: str | None
    author: str | None
    published: str | None
    state: str
    first_seen: str
    note_path: str | None
    warning: str | None = None  # what parsing left out (see knowflow.seek.feeds.Entry)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def since_cutoff(since: str, option: str = "--since") -> str:
    """'30m', '12h', '7d', '2w' or a date, as an ISO timestamp to compare with
    (``option`` names the option in the message for anything else)."""
    return moment(since, option=option).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class StreamFilter:
    """Which entries a listing, a count or a bulk marking takes; every field optional.

    ``state`` is one of STATES, or ``all`` (None means the same); ``since`` and
    ``before`` take 7d, 12h, 30m or a date and compare with the entry's date."""

    source: str | None = None
    kind: str | None = None
    tag: str | None = None
    state: str | None = None
    since: str | None = None
    before: str | None = None
    search: str | None = None

    def where(self) -> tuple[str, list[object]]:
        """The SQL condition (on ``entries e`` joined with ``sources s``) and its values."""
        where: list[str] = ["1"]
        args: list[object] = []
        if self.source:
            # One source's id, so that its entries are read by index in date order.
            where.append(
                "e.source_id = (SELECT id FROM sources WHERE name = ? OR url = ?"
                " ORDER BY name = ? DESC LIMIT 1)"
            )
            args += [self.source, self.source, self.source]
        if self.kind:
            where.append("s.kind = ?")
            args.append(check_kind(self.kind))
        if self.tag:
            want = self.tag.lstrip("#").casefold()
            where.append(
                "EXISTS (SELECT 1 FROM json_each(s.tags) t WHERE lower(t.value) = ?"
                " OR lower(t.value) LIKE ?)"
            )
            args += [want, want + "/%"]
        if self.state and self.state != "all":
            if self.state not in STATES:
                raise KnowflowError(f"state must be one of {', '.join(STATES)} or all")
            where.append("e.state = ?")
            args.append(self.state)
        if self.since:
            where.append(f"{_DATE} >= ?")
            args.append(since_cutoff(self.since))
        if self.before:
            where.append(f"{_DATE} < ?")
            args.append(since_cutoff(self.before, "--before"))
        if self.search and self.search.split():
            where.append("e.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?)")
            args.append(" ".join('"' + w.replace('"', '""') + '"' for w in self.search.split()))
        return " AND ".join(where), args


@dataclass(frozen=True, slots=True)
class SourceCount:
    """A source as the reader's list of sources shows it: its unread entries."""

    name: str
    kind: str
    unread: int


class Stream:
    """Listing, searching and triaging the entries in a vault's state database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def entries(
        self,
        *,
        source: str | None = None,
        kind: str | None = None,
        tag: str | None = None,
        state: str | None = None,
        since: str | None = None,
        search: str | None = None,
        limit: int = 50,
    ) -> list[StreamEntry]:
        """Newest first; every filter is optional."""
        chosen = StreamFilter(source, kind, tag, state, since, None, search)
        return self.listing(chosen, limit=limit)

    def listing(
        self, chosen: StreamFilter, *, limit: int = 50, after: int | None = None
    ) -> list[StreamEntry]:
        """Entries ``chosen`` takes, newest first; ``after`` an entry's id, the ones
        that come after it in that order (the next page: a page of 10,000 entries is
        as quick to reach as the first)."""
        where, args = chosen.where()
        if after is not None:
            where += f" AND ({_DATE}, e.id) < (SELECT {_DATE}, e.id FROM entries e WHERE e.id = ?)"
            args.append(after)
        rows = self.conn.execute(
            f"{_SELECT} WHERE {where} ORDER BY {_DATE} DESC, e.id DESC LIMIT ?",
            (*args, limit),
        )
        return [StreamEntry(*row) for row in rows]

    def neighbours(self, chosen: StreamFilter, entry_id: int) -> tuple[int | None, int | None]:
        """The ids of the entries before and after ``entry_id`` in ``chosen``'s order
        (whether or not the entry itself is still in it, once read)."""
        where, args = chosen.where()
        at = f"(SELECT {_DATE}, e.id FROM entries e WHERE e.id = ?)"
        newer = self.conn.execute(
            f"SELECT e.id FROM entries e JOIN sources s ON s.id = e.source_id WHERE {where}"
            f" AND ({_DATE}, e.id) > {at} ORDER BY {_DATE}, e.id LIMIT 1",
            (*args, entry_id),
        ).fetchone()
        older = self.listing(chosen, limit=1, after=entry_id)
        return (newer[0] if newer else None), (older[0].id if older else None)

    def count(self, chosen: StreamFilter) -> int:
        where, args = chosen.where()
        (n,) = self.conn.execute(
            f"SELECT count(*) FROM entries e JOIN sources s ON s.id = e.source_id WHERE {where}",
            args,
        ).fetchone()
        return int(n)

    def unread_by_source(self) -> list[SourceCount]:
        """Every source with its unread (new) entries, by kind then name."""
        rows = self.conn.execute(
            "SELECT s.name, s.kind, coalesce(n.unread, 0) FROM sources s LEFT JOIN"
            " (SELECT source_id, count(*) AS unread FROM entries WHERE state = 'new'"
            "  GROUP BY source_id) n ON n.source_id = s.id"
            " ORDER BY s.kind, s.name COLLATE NOCASE"
        )
        return [SourceCount(str(name), str(kind), int(unread)) for name, kind, unread in rows]

    def html(self, entry_id: int) -> str:
        """The entry's text as stored: HTML sanitized when the feed was read."""
        row = self.conn.execute("SELECT html FROM entries WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise KnowflowError(f"no entry {entry_id} in the stream")
        return str(row[0])

    def mark_all_seen(
        self, chosen: StreamFilter, *, above: int | None = None, listed_at: str | None = None
    ) -> int:
        """Mark every new entry ``chosen`` takes as seen, in one statement; returns how
        many. ``above`` an entry's id: only those that come before it (newer, in the
        listing's order); ``listed_at`` a time: none that arrived after it (the
        person never saw those in the list they marked)."""
        where, args = replace(chosen, state="new").where()
        if above is not None:
            where += f" AND ({_DATE}, e.id) > (SELECT {_DATE}, e.id FROM entries e WHERE e.id = ?)"
            args.append(above)
        if listed_at:
            where += " AND e.first_seen <= ?"
            args.append(listed_at)
        cursor = self.conn.execute(
            "UPDATE entries SET state = 'seen' WHERE id IN (SELECT e.id FROM entries e"
            f" JOIN sources s ON s.id = e.source_id WHERE {where})",
            args,
        )
        marked = cursor.rowcount
        if marked:
            what = {k: v for k, v in asdict(chosen).items() if v and k != "state"}
            words = f"{marked} {'entry' if marked == 1 else 'entries'}"
            record(self.conn, "entries_seen", words, count=marked, **what)
        return marked

    def get(self, entry_id: int) -> StreamEntry:
        found = self._by_ids([entry_id])
        if not found:
            raise KnowflowError(f"no entry {entry_id} in the stream")
        return found[0]

    def _by_ids(self, ids: list[int]) -> list[StreamEntry]:
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"{_SELECT} WHERE e.id IN ({marks})",
            ids,
        )
        return [StreamEntry(*row) for row in rows]

    def mark(self, ids: list[int], state: str) -> int:
        """Mark entries seen, dismissed or new (kept is for ``keep``); returns how many
        changed (see ``triage`` for what happened to each)."""
        return sum(1 for t in self.triage(ids, state) if t.changed)

    def triage(self, ids: list[int], state: str) -> list[Triaged]:
        """Mark entries seen, dismissed or new, and say for each what changed or why not.

        A kept entry stays kept (it has a note in the vault); an entry already in
        that state is left as it is. ``seen`` takes a dismissed entry back."""
        if state not in ("seen", "dismissed", "new"):
            raise KnowflowError("entries are marked seen, dismissed or new; keep them with keep")
        ids = list(dict.fromkeys(ids))
        found = {e.id: e for e in self._by_ids(ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise KnowflowError(f"no entry {', '.join(map(str, missing))} in the stream")
        done = []
        for entry in (found[i] for i in ids):
            if entry.state == "kept":
                why = f"kept as {entry.note_path}" if entry.note_path else "kept"
                done.append(Triaged(entry.id, entry.title, "kept", "kept", why))
                continue
            if entry.state == state:
                done.append(Triaged(entry.id, entry.title, state, state, f"already {state}"))
                continue
            self.conn.execute("UPDATE entries SET state = ? WHERE id = ?", (state, entry.id))
            record(self.conn, f"entry_{state}", entry.title, entry=entry.id, source=entry.source)
            done.append(Triaged(entry.id, entry.title, entry.state, state))
        return done


@dataclass(frozen=True, slots=True)
class Triaged:
    """What marking did to one entry: its state before and after, and why it stayed."""

    id: int
    title: str
    before: str
    after: str
    unchanged_because: str | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "changed": self.changed}
