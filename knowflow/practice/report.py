"""The practice report: seek, sense, share and balance indicators, bucket by bucket.

A period is a window ending today, in the person's own local days: the last 7 days
(by day), the last 5 weeks from a Monday (by week) or the last 12 months from the
first of a month (by month); the last bucket is the one under way. Each indicator
has a value per bucket (its series, drawn as a sparkline or a small chart), a value
for the whole window and a trend (the second half against the first). A ``sum``
indicator's value is the sum of its chart; a ``now`` one is a count as things stand
today; a ``whole`` one (an evenness, a share, a ratio) is worked out over the whole
window, and is None ("—") where nothing defines it.

Where the numbers come from (none from a file's modification time, which a clone,
a copy or ``touch`` sets for every file at once):

- seek: the activity log in state.db (entries read, kept, pages captured, imports,
  sources added);
- notes written or edited, links made, clippings commented, notes newly shared: the
  content changes ``knowflow.practice.versions`` logs between two looks at the index
  (the first look is a baseline, not activity), and a note's own ``created:`` date;
- experiments: their ``created:`` date; narration: each entry's dated heading;
  highlights: the ``created`` time in each highlight's metadata; clippings collected:
  their ``captured:`` date.

The focus the person picked (``set_focus``) puts its indicators first. Nothing here
judges: there is no score, no grade and no comparison with anyone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowflow.errors import KnowflowError
from knowflow.index.index import Index
from knowflow.practice.versions import first_look, observe

PERIODS = ("week", "month", "year")
WINDOWS = {
    "week": "the last 7 days, by day",
    "month": "the last 5 weeks (from a Monday), by week",
    "year": "the last 12 months (from the first of a month), by month",
}
KINDS = ("team", "community", "network")
NO_FOCUS = "none"
# focus -> (its words, the indicators that bear on it, first)
FOCUSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sense-making": (
        "sense-making",
        (
            "notes_edited",
            "clippings_commented",
            "links_made",
            "highlights",
            "experiments",
            "narration",
            "unmade",
        ),
    ),
    "social-intelligence": (
        "social intelligence",
        ("sources_team", "sources_community", "sources_network", "kept_team", "shared"),
    ),
    "new-media-literacy": (
        "new media literacy",
        ("source_evenness", "domain_evenness", "new_sources", "read_not_kept"),
    ),
    "cognitive-load-management": (
        "cognitive load management",
        ("entries_read", "entries_kept", "kept_per_made", "unmade"),
    ),
}
SPARKS = "▁▂▃▄▅▆▇█"
UNDEFINED = "·"  # a bucket where the indicator means nothing (no item to be even among)
STUCK_RATIO = 3.0  # kept items for each thing made sense of, above which seeking outpaces
STUCK_MIN_KEPT = 10  # ...when at least this many were kept in the period
READ_OFTEN = 5  # entries read from a source before its rarely kept items say something
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SKIP_TYPES = ("clipping", "digest")  # not notes the person wrote themselves
STARTERS = (
    "Nothing to show yet. The indicators start with what you do: follow a source"
    " (knowflow source add), read and keep from the stream (knowflow stream), capture"
    " or import pages, write and link notes, try an idea (knowflow experiment), work out"
    " loud (knowflow narrate), and share a note (share: in its front matter)."
)
BASELINE = (
    "Practice first looked at this vault on {day}: the notes there then are the"
    " starting point; what you write or edit from then on is counted."
)


@dataclass
class Indicator:
    """One indicator: a value per bucket, the period's value and the trend."""

    key: str
    label: str
    series: list[float | None]
    total: float | None
    trend: str = "steady"  # rising, falling, steady or none (nothing, or undefined)
    items: list[str] = field(default_factory=list)  # what it names (sources, say)
    about: str = ""  # how it is counted
    measure: str = "sum"  # sum: the chart's sum; now: a count today; whole: over the period

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "series": self.series,
            "total": self.total,
            "trend": self.trend,
            "items": self.items,
            "about": self.about,
            "measure": self.measure,
        }


@dataclass
class Section:
    name: str
    title: str
    indicators: list[Indicator]

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "indicators": [i.as_dict() for i in self.indicators],
        }


@dataclass
class Report:
    period: str
    since: str
    until: str
    buckets: list[str]
    focus: str | None
    sections: list[Section]
    signals: list[str]
    window: str = ""
    hints: list[str] = field(default_factory=list)
    look_backs: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "window": self.window,
            "since": self.since,
            "until": self.until,
            "buckets": self.buckets,
            "focus": self.focus,
            "signals": self.signals,
            "hints": self.hints,
            "look_backs": self.look_backs,
            "sections": [s.as_dict() for s in self.sections],
        }

    def indicator(self, key: str) -> Indicator:
        for section in self.sections:
            for found in section.indicators:
                if found.key == key:
                    return found
        raise KeyError(key)


def set_focus(conn: sqlite3.Connection, focus: str) -> str | None:
    """Keep ``focus`` (one of FOCUSES; spaces or hyphens) as the focus from now on, or
    clear it with ``none``; return the focus now (None when cleared)."""
    key = focus.strip().lower().replace(" ", "-").replace("_", "-")
    if key not in FOCUSES and key != NO_FOCUS:
        choices = ", ".join([*FOCUSES, NO_FOCUS])
        raise KnowflowError(f"a focus is one of: {choices} (not {focus!r})")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    conn.execute("INSERT INTO practice_focus (set_at, focus) VALUES (?, ?)", (now, key))
    return None if key == NO_FOCUS else key


def current_focus(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT focus FROM practice_focus ORDER BY id DESC LIMIT 1").fetchone()
    return str(row[0]) if row and row[0] in FOCUSES else None


def sparkline(values: list[float | None]) -> str:
    """``▁▂▃▄▅▆▇█``, one character a value, the highest the tallest; ``·`` where a
    value is undefined."""
    top = max((v for v in values if v is not None), default=0)
    out = []
    for v in values:
        if v is None:
            out.append(UNDEFINED)
        elif top <= 0:
            out.append(SPARKS[0])
        else:
            out.append(SPARKS[min(7, round(max(v, 0) / top * 7))])
    return "".join(out)


def local_day(moment: dt.datetime) -> dt.date:
    """The person's own date of a moment (the machine's local time zone)."""
    return moment.astimezone().date()


def _midnight(day: dt.date) -> dt.datetime:
    """Local midnight of ``day``, aware (with that day's own UTC offset)."""
    return dt.datetime.combine(day, dt.time()).astimezone()


def buckets(period: str, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """The starts (local midnights) and labels of the period's buckets, the last
    holding ``now``: days, weeks from a Monday, or months, in the local time zone."""
    if period not in PERIODS:
        raise KnowflowError(f"a period is one of: {', '.join(PERIODS)} (not {period!r})")
    today = local_day(now)
    if period == "week":
        days = [today - dt.timedelta(days=n) for n in range(6, -1, -1)]
        return [(_midnight(d), d.strftime("%a %d")) for d in days]
    if period == "month":
        monday = today - dt.timedelta(days=today.weekday())
        weeks = [monday - dt.timedelta(weeks=n) for n in range(4, -1, -1)]
        return [(_midnight(w), "week of " + w.strftime("%b %d")) for w in weeks]
    months = []
    for n in range(11, -1, -1):
        year, month = divmod(today.year * 12 + today.month - 1 - n, 12)
        first = dt.date(year, month + 1, 1)
        months.append((_midnight(first), first.strftime("%b %Y")))
    return months


def _trend(series: list[float | None]) -> str:
    known = [v for v in series if v is not None]
    if not any(known):
        return "none"
    half = len(series) // 2
    first = [v for v in series[:half] if v is not None]
    second = [v for v in series[half:] if v is not None]
    if not first or not second:
        return "none"  # defined in one half only: nothing to compare
    before = sum(first) / len(first)
    after = sum(second) / len(second)
    if after > before * 1.25 + 1e-9:
        return "rising"
    if after < before * 0.8 - 1e-9:
        return "falling"
    return "steady"


def _evenness(counts: Counter[str]) -> float | None:
    """Shannon evenness (0: everything from one; 1: evenly from each); None when
    nothing was kept (there is nothing to be even or uneven)."""
    total = sum(counts.values())
    if total == 0:
        return None
    if len(counts) < 2:
        return 0.0
    entropy = -sum(c / total * math.log(c / total) for c in counts.values() if c)
    return round(entropy / math.log(len(counts)), 2)


def _domain(host: str | None) -> str | None:
    """The web domain in what _SEEK_SQL cut from an address: no user, port or www."""
    if not host:
        return None
    host = host.rsplit("@", 1)[-1].split("?", 1)[0].split("#", 1)[0]
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    host = host.strip(".").lower()
    return (host[4:] if host.startswith("www.") else host) or None


def _day_of(value: object) -> str | None:
    """The local date (YYYY-MM-DD) a front-matter or metadata date names: a date as is,
    a time with a zone in the local zone, a time without one as written."""
    if value is None:
        return None
    text = str(value).strip()
    if not _DAY.match(text):
        return None
    if len(text) > 10:
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text[:10] if _DAY.fullmatch(text[:10]) else None
        if when.tzinfo is not None:
            return local_day(when).isoformat()
    return text[:10]


# Seek events by bucket ({bucket}: a CASE naming each bucket's start), action and
# source; then kept items by bucket and the host of their address (a kept entry's
# link, a captured page's url): what it holds between :// and a /. An import (of
# bookmarks, of highlights) counts the items it added, under the importer's name.
_SEEK_SQL = """
WITH a AS MATERIALIZED (
    SELECT {bucket} AS b, action,
        CASE WHEN action LIKE '%\\_imported' ESCAPE '\\' THEN subject
            ELSE json_extract(detail, '$.source') END AS source,
        CASE WHEN action = 'entries_seen' THEN json_extract(detail, '$.count')
            WHEN action LIKE '%\\_imported' ESCAPE '\\' THEN json_extract(detail, '$.added')
        END AS n,
        CASE action
            WHEN 'entry_kept' THEN (SELECT link FROM entries
                WHERE id = json_extract(detail, '$.entry'))
            WHEN 'page_captured' THEN json_extract(detail, '$.url')
        END AS address
    FROM activity
    WHERE at >= ? AND at < ? AND (action IN
        ('entry_seen', 'entries_seen', 'entry_kept', 'page_captured', 'source_added')
        OR (action LIKE '%\\_imported' ESCAPE '\\' AND action != 'opml_imported'))
), h AS (
    SELECT b, CASE WHEN instr(address, '://') THEN substr(address, instr(address, '://') + 3)
        END AS rest
    FROM a WHERE address IS NOT NULL
)
SELECT 0, b, action, source, sum(n), count(*), NULL FROM a GROUP BY b, action, source
UNION ALL
SELECT 1, b, NULL, NULL, NULL, count(*),
    CASE WHEN instr(rest, '/') THEN substr(rest, 1, instr(rest, '/') - 1) ELSE rest END AS host
FROM h WHERE rest IS NOT NULL GROUP BY b, host
"""


class _Bins:
    """Which bucket an ISO time (UTC, as the log writes it) or a local day falls in."""

    def __init__(self, starts: list[dt.datetime], end: dt.datetime) -> None:
        self.keys = [s.astimezone(dt.UTC).isoformat(timespec="seconds") for s in starts]
        self.end = end.astimezone(dt.UTC).isoformat(timespec="seconds")
        self.n = len(starts)
        self.days = [s.date().isoformat() for s in starts]  # local dates
        self.last_day = local_day(end - dt.timedelta(seconds=1)).isoformat()

    def __call__(self, at: str) -> int | None:
        if at < self.keys[0] or at >= self.end:
            return None
        return bisect_right(self.keys, at) - 1

    def of_day(self, day: str | None) -> int | None:
        """The bucket of a local day (YYYY-MM-DD), None outside the period."""
        if day is None or not self.days[0] <= day <= self.last_day:
            return None
        return bisect_right(self.days, day) - 1

    def counter(self) -> list[float]:
        return [0.0] * self.n


def practice_report(
    index: Index,
    conn: sqlite3.Connection,
    *,
    period: str = "month",
    now: dt.datetime | None = None,
) -> Report:
    """The report of the period ending ``now``, with the focus set in state.db first.
    It first logs the notes changed since the last look (``versions.observe``)."""
    from knowflow.sense.journal import due_look_backs

    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    observe(index, conn, moment)
    cut = buckets(period, moment)
    end = moment + dt.timedelta(seconds=1)
    bins = _Bins([s for s, _ in cut], end)
    kinds = dict(conn.execute("SELECT name, kind FROM sources"))
    kinds_lower = {str(k).casefold(): v for k, v in kinds.items()}
    seek, kept_kind, kept_n = _seek(conn, bins, kinds_lower)
    changes = _changes(conn, bins)
    sense, made = _sense(index, bins, changes)
    share, shared_kind = _share(index, conn, bins, kinds_lower, changes)
    balance, signals = _balance(bins, kept_n, made, kept_kind, shared_kind)
    sections = [
        Section("seek", "Seek", seek),
        Section("sense", "Sense", sense),
        Section("share", "Share", share),
        Section("balance", "Balance", balance),
    ]
    hints = []
    quiet = not any(i.total for s in sections for i in s.indicators if i.measure != "whole")
    if quiet:
        hints.append(STARTERS)
    started = first_look(conn)
    if started and started >= bins.keys[0]:
        hints.append(BASELINE.format(day=local_day(dt.datetime.fromisoformat(started))))
    focus = current_focus(conn)
    if focus:
        words, keys = FOCUSES[focus]
        chosen = []
        for key in keys:
            for section in sections:
                for found in section.indicators:
                    if found.key == key or (key == "shared" and found.key.startswith("shared_")):
                        chosen.append(found)
                section.indicators = [i for i in section.indicators if i not in chosen]
        sections.insert(0, Section("focus", f"Your focus: {words}", chosen))
    look_backs = [
        {"path": d.path, "title": d.title, "look_back": d.look_back}
        for d in due_look_backs(index, local_day(moment))
    ]
    return Report(
        period,
        cut[0][0].isoformat(timespec="seconds"),
        moment.astimezone().isoformat(timespec="seconds"),
        [label for _, label in cut],
        focus,
        sections,
        signals,
        WINDOWS[period],
        hints,
        look_backs,
    )


def _ind(
    key: str, label: str, series: Sequence[float | None], total: float | None, **more: object
) -> Indicator:
    values = list(series)
    return Indicator(key, label, values, total, _trend(values), **more)  # type: ignore[arg-type]


def _seek(
    conn: sqlite3.Connection, bins: _Bins, kinds: dict[str, str]
) -> tuple[list[Indicator], dict[str, list[float]], list[float]]:
    read, kept, new = bins.counter(), bins.counter(), bins.counter()
    by_source: list[Counter[str]] = [Counter() for _ in range(bins.n)]
    by_domain: list[Counter[str]] = [Counter() for _ in range(bins.n)]
    all_sources: Counter[str] = Counter()
    all_domains: Counter[str] = Counter()
    reads_of: Counter[str] = Counter()
    kept_of: Counter[str] = Counter()
    kept_kind: dict[str, list[float]] = defaultdict(bins.counter)
    # Grouped by bucket in SQLite: a year of events comes to Python as a few
    # thousand rows.
    bucket = " ".join(f"WHEN at >= ? THEN {b}" for b in range(bins.n - 1, 0, -1))
    sql = _SEEK_SQL.format(bucket=f"CASE {bucket} ELSE 0 END" if bucket else "0")
    rows = conn.execute(sql, (*reversed(bins.keys[1:]), bins.keys[0], bins.end))
    for part, b, action, source, count, items, host in rows:
        if part == 1:
            if domain := _domain(host):
                by_domain[b][domain] += items
                all_domains[domain] += items
        elif action == "entry_seen" or action == "entries_seen":
            n = int(count or items)
            read[b] += n
            if source:
                reads_of[str(source)] += n
        elif action == "source_added":
            new[b] += items
        else:
            imported = str(action).endswith("_imported")
            n = int(count or 0) if imported else items
            if not n:
                continue
            kept[b] += n
            if imported:
                name = f"(imported: {source})"
            else:
                name = str(source) if source else "(captured pages)"
            by_source[b][name] += n
            all_sources[name] += n
            if source and not imported:
                kept_of[name] += n
            kind = kinds.get(name.casefold(), "captured") if source else "captured"
            kept_kind[kind][b] += n
    followed = {k: bins.counter() for k in KINDS}
    for added, kind in conn.execute("SELECT added_at, kind FROM sources"):
        for b in range(bins.n):
            if added < (bins.keys[b + 1] if b + 1 < bins.n else bins.end):
                followed[kind][b] += 1
    quiet = sorted(
        (n for n, r in reads_of.items() if r >= READ_OFTEN and kept_of[n] * 10 <= r),
        key=lambda n: (-reads_of[n], n.casefold()),
    )
    indicators = [
        *(
            _ind(
                f"sources_{k}",
                f"{k} sources followed",
                list(followed[k]),
                followed[k][-1],
                measure="now",
                about="how many were followed at the end of each bucket",
            )
            for k in KINDS
        ),
        _ind("new_sources", "new sources", list(new), sum(new)),
        _ind("entries_read", "entries read", list(read), sum(read)),
        _ind(
            "entries_kept",
            "entries kept, pages captured or imported",
            list(kept),
            sum(kept),
            about="from the stream, captured from the web, or brought in by an import",
        ),
        _ind(
            "source_evenness",
            "how evenly kept items come from their sources",
            [_evenness(c) for c in by_source],
            _evenness(all_sources),
            about="Shannon evenness, 0 to 1: 1 when each source gives as many;"
            " — when nothing was kept",
            measure="whole",
        ),
        _ind(
            "domain_evenness",
            "how evenly kept items come from their sites",
            [_evenness(c) for c in by_domain],
            _evenness(all_domains),
            about="Shannon evenness of the kept items' web domains, 0 to 1;"
            " — when nothing kept has an address",
            measure="whole",
        ),
        Indicator(
            "read_not_kept",
            "sources read often, rarely kept from",
            [],
            len(quiet),
            "none",
            quiet[:10],
            "perhaps a view unlike your usual ones: read at least"
            f" {READ_OFTEN} times, kept from once in ten or less",
            "now",
        ),
    ]
    return indicators, dict(kept_kind), kept


@dataclass
class _Change:
    bucket: int
    path: str
    action: str
    type: str | None
    links: int
    commented: bool
    shared: list[str]


def _changes(conn: sqlite3.Connection, bins: _Bins) -> list[_Change]:
    """The notes created or edited in the period, as ``versions.observe`` logged them."""
    found = []
    for at, action, path, detail in conn.execute(
        "SELECT at, action, subject, detail FROM activity WHERE at >= ? AND at < ?"
        " AND action IN ('note_created', 'note_edited') ORDER BY at",
        (bins.keys[0], bins.end),
    ):
        b = bins(at)
        if b is None:
            continue
        d = json.loads(detail or "{}")
        found.append(
            _Change(
                b,
                str(path),
                str(action),
                d.get("type"),
                int(d.get("links") or 0),
                bool(d.get("commented")),
                [str(a) for a in d.get("shared") or []],
            )
        )
    return found


def _highlight_days(index: Index, paths: list[str]) -> list[str | None]:
    """The local day of each highlight in these clippings, from the ``created`` time
    its metadata holds (None for a highlight without one)."""
    from knowflow.seek.highlights import highlights

    days: list[str | None] = []
    for rel in paths:
        try:
            text = (index.vault.root / rel).read_text("utf-8", "replace")
        except OSError:
            continue
        days.extend(_day_of(h.created) for h in highlights(text))
    return days


def _sense(
    index: Index, bins: _Bins, changes: list[_Change]
) -> tuple[list[Indicator], list[float]]:
    conn = index.conn
    edited_paths: list[set[str]] = [set() for _ in range(bins.n)]
    commented, links, marks = bins.counter(), bins.counter(), bins.counter()
    experiments, narration, collected = bins.counter(), bins.counter(), bins.counter()
    for c in changes:
        if c.type == "clipping":
            commented[c.bucket] += c.commented
        elif c.type not in SKIP_TYPES:
            edited_paths[c.bucket].add(c.path)
            links[c.bucket] += c.links
    marked = [
        p
        for (p,) in conn.execute(
            "SELECT DISTINCT f.path FROM blocks b JOIN files f ON f.id = b.file_id"
            " WHERE b.block_id LIKE 'hl-%' AND f.type = 'clipping'"
        )
    ]
    undated = 0
    for day in _highlight_days(index, marked):
        if day is None:
            undated += 1
        elif (b := bins.of_day(day)) is not None:
            marks[b] += 1
    linked_to = {
        p for (p,) in conn.execute("SELECT DISTINCT resolved_path FROM links WHERE resolved_path")
    }
    linking = {f for (f,) in conn.execute("SELECT DISTINCT file_id FROM links")}
    with_marks = set(marked)
    unmade = 0
    rows = conn.execute(
        "SELECT id, path, type, json_extract(front_matter, '$.comment'),"
        " json_extract(front_matter, '$.created'), json_extract(front_matter, '$.captured')"
        " FROM files WHERE is_note = 1"
    )
    for fid, path, kind, comment, created, captured in rows:
        if kind == "clipping":
            lone = (
                not (comment and str(comment).strip())
                and path not in with_marks
                and fid not in linking
                and path not in linked_to
            )
            unmade += lone
            b = bins.of_day(_day_of(captured))
            if lone and b is not None:
                collected[b] += 1
            continue
        if kind in SKIP_TYPES:
            continue
        b = bins.of_day(_day_of(created))
        if b is not None:
            edited_paths[b].add(path)  # written then, by its own front matter
            experiments[b] += kind == "experiment"
    # A narration entry is a "## YYYY-MM-DD HH:MM" heading of a narration note
    # (knowflow narrate): counted by its own (local) date, whenever the note was saved.
    for (text,) in conn.execute(
        "SELECT h.text FROM headings h JOIN files f ON f.id = h.file_id"
        " WHERE f.type = 'narration' AND h.level = 2"
    ):
        day = str(text)[:10]
        if _DAY.fullmatch(day) and (b := bins.of_day(day)) is not None:
            narration[b] += 1
    edited = [float(len(s)) for s in edited_paths]
    made = [edited[b] + commented[b] + marks[b] for b in range(bins.n)]
    indicators = [
        _ind(
            "notes_edited",
            "notes written or edited",
            edited,
            sum(edited),
            about="a note counts on each day its content changed (not its file time),"
            " and on the day its created: date names",
        ),
        _ind(
            "clippings_commented",
            "clippings given your own comment",
            commented,
            sum(commented),
        ),
        _ind("links_made", "links made in notes written or edited", links, sum(links)),
        _ind(
            "highlights",
            "highlights in clippings",
            marks,
            sum(marks),
            about="by the date in each highlight's metadata"
            + (f"; {undated} without a date are not counted" if undated else ""),
        ),
        _ind(
            "experiments",
            "experiments opened",
            experiments,
            sum(experiments),
            about="by their created: date",
        ),
        _ind("narration", "narration entries (working out loud)", narration, sum(narration)),
        _ind(
            "unmade",
            "collected, not yet made sense of",
            collected,
            unmade,
            about="clippings with no comment, no highlight and no link in or out, all of"
            " them now; the chart: those of them captured in each bucket",
            measure="now",
        ),
    ]
    return indicators, made


def _share(
    index: Index,
    conn: sqlite3.Connection,
    bins: _Bins,
    kinds: dict[str, str],
    changes: list[_Change],
) -> tuple[list[Indicator], dict[str, float]]:
    per: dict[str, list[float]] = defaultdict(bins.counter)
    standing: Counter[str] = Counter()
    shared_kind: Counter[str] = Counter()
    seen_paths: set[str] = set()
    for path, audience, source in index.conn.execute(
        "SELECT f.path, s.audience, json_extract(f.front_matter, '$.source')"
        " FROM shares s JOIN files f ON f.id = s.file_id"
        " WHERE f.is_note = 1 AND s.audience != 'private'"
    ):
        standing[audience] += 1
        if path not in seen_paths:
            seen_paths.add(path)
            if source:
                shared_kind[kinds.get(str(source).casefold(), "captured")] += 1
            else:
                shared_kind["own notes"] += 1
    for c in changes:
        for audience in c.shared:
            per[audience][c.bucket] += 1
    logged = {k: bins.counter() for k in ("site_published", "digest", "pushed")}
    for at, action in conn.execute(
        "SELECT at, action FROM activity WHERE at >= ? AND at < ? AND action IN"
        " ('site_published', 'digest_drafted', 'digest_shared', 'pushed')",
        (bins.keys[0], bins.end),
    ):
        b = bins(at)
        if b is not None:
            logged["digest" if action.startswith("digest") else action][b] += 1
    indicators = [
        _ind(
            f"shared_{name}",
            f"notes newly shared with {name}",
            per[name],
            sum(per[name]),
            about=f"{standing[name]} shared with it now; the chart: notes that became"
            " shared with it in each bucket",
        )
        for name in sorted(set(standing) | set(per))
    ]
    indicators += [
        _ind(
            "publishes", "sites published", logged["site_published"], sum(logged["site_published"])
        ),
        _ind("digests", "digests drafted or shared", logged["digest"], sum(logged["digest"])),
        _ind("pushes", "pushes to a hub", logged["pushed"], sum(logged["pushed"])),
    ]
    total = sum(shared_kind.values())
    return indicators, {k: round(v / total, 2) for k, v in shared_kind.items()} if total else {}


def _balance(
    bins: _Bins,
    kept: list[float],
    made: list[float],
    kept_kind: dict[str, list[float]],
    shared_kind: dict[str, float],
) -> tuple[list[Indicator], list[str]]:
    ratio: list[float | None] = [
        round(k / m, 1) if m else None for k, m in zip(kept, made, strict=True)
    ]
    all_kept, all_made = sum(kept), sum(made)
    signals = []
    if all_kept >= STUCK_MIN_KEPT and all_kept > STUCK_RATIO * all_made:
        signals.append(
            f"stuck in seeking: {all_kept:g} items kept and {all_made:g} made sense of"
            " (written, commented, highlighted) in this period"
        )
    indicators = [
        _ind(
            "kept_per_made",
            "kept for each thing made sense of",
            ratio,
            round(all_kept / all_made, 1) if all_made else None,
            about="items kept, over notes written, clippings commented and highlights;"
            " — when nothing was made sense of",
            measure="whole",
        )
    ]
    for kind in (*KINDS, "captured"):
        series = kept_kind.get(kind, bins.counter())
        share: list[float | None] = [
            round(series[b] / kept[b], 2) if kept[b] else None for b in range(bins.n)
        ]
        indicators.append(
            _ind(
                f"kept_{kind}",
                f"share of kept items from {kind}"
                + (" or imported pages" if kind == "captured" else " sources"),
                share,
                round(sum(series) / all_kept, 2) if all_kept else None,
                measure="whole",
            )
        )
    for kind, part in sorted(shared_kind.items()):
        indicators.append(
            Indicator(
                f"shared_kind_{kind.replace(' ', '_')}",
                f"share of shared notes: {kind}",
                [],
                part,
                "none",
                about="notes shared now, by the kind of source they were kept from",
                measure="now",
            )
        )
    return indicators, signals


def report_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
