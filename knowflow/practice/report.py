"""The practice report: seek, sense, share and balance indicators, bucket by bucket.

A period (week, month, year) ends now and is cut into buckets (days, weeks,
months); each indicator has a value per bucket (its series, drawn as a sparkline or
a small chart), a value for the whole period and a trend (the second half of the
period against the first). Seek and share come from the activity log in state.db,
sense from the index (notes by when they were last written). The focus the person
picked (``set_focus``) puts its indicators first. Nothing here judges: there is no
score, no grade and no comparison with anyone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sqlite3
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from knowflow.errors import KnowflowError
from knowflow.index.index import Index

PERIODS = ("week", "month", "year")
KINDS = ("team", "community", "network")
# focus -> (its words, the indicators that bear on it, first)
FOCUSES: dict[str, tuple[str, tuple[str, ...]]] = {
    "sense-making": (
        "sense-making",
        ("notes_edited", "clippings_commented", "links_made", "highlights", "unmade"),
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
STUCK_RATIO = 3.0  # kept items for each thing made sense of, above which seeking outpaces
STUCK_MIN_KEPT = 10  # ...when at least this many were kept in the period
READ_OFTEN = 5  # entries read from a source before its rarely kept items say something
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SKIP_TYPES = ("clipping", "digest")  # not notes the person wrote themselves


@dataclass
class Indicator:
    """One indicator: a value per bucket, the period's value and the trend."""

    key: str
    label: str
    series: list[float]
    total: float
    trend: str = "steady"  # rising, falling, steady or none (nothing in the period)
    items: list[str] = field(default_factory=list)  # what it names (sources, say)
    about: str = ""  # how it is counted

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "series": self.series,
            "total": self.total,
            "trend": self.trend,
            "items": self.items,
            "about": self.about,
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

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period,
            "since": self.since,
            "until": self.until,
            "buckets": self.buckets,
            "focus": self.focus,
            "signals": self.signals,
            "sections": [s.as_dict() for s in self.sections],
        }

    def indicator(self, key: str) -> Indicator:
        for section in self.sections:
            for found in section.indicators:
                if found.key == key:
                    return found
        raise KeyError(key)


def set_focus(conn: sqlite3.Connection, focus: str) -> str:
    """Keep ``focus`` (one of FOCUSES; spaces or hyphens) as the focus from now on."""
    key = focus.strip().lower().replace(" ", "-").replace("_", "-")
    if key not in FOCUSES:
        raise KnowflowError(f"a focus is one of: {', '.join(FOCUSES)} (not {focus!r})")
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    conn.execute("INSERT INTO practice_focus (set_at, focus) VALUES (?, ?)", (now, key))
    return key


def current_focus(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT focus FROM practice_focus ORDER BY id DESC LIMIT 1").fetchone()
    return str(row[0]) if row and row[0] in FOCUSES else None


def sparkline(values: list[float]) -> str:
    """``▁▂▃▄▅▆▇█``, one character a value, the highest the tallest."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(7, round(max(v, 0) / top * 7))] for v in values)


def buckets(period: str, now: dt.datetime) -> list[tuple[dt.datetime, str]]:
    """The starts and labels of the period's buckets (the last holds ``now``)."""
    if period not in PERIODS:
        raise KnowflowError(f"a period is one of: {', '.join(PERIODS)} (not {period!r})")
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        days = [today - dt.timedelta(days=n) for n in range(6, -1, -1)]
        return [(d, d.strftime("%a %d")) for d in days]
    if period == "month":
        monday = today - dt.timedelta(days=today.weekday())
        weeks = [monday - dt.timedelta(weeks=n) for n in range(4, -1, -1)]
        return [(w, "week of " + w.strftime("%b %d")) for w in weeks]
    first = today.replace(day=1)
    months = []
    for n in range(11, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - n, 12)
        months.append(first.replace(year=year, month=month + 1))
    return [(m, m.strftime("%b %Y")) for m in months]


def _trend(series: list[float]) -> str:
    if not any(series):
        return "none"
    half = len(series) // 2
    before = sum(series[:half]) / max(half, 1)
    after = sum(series[half:]) / max(len(series) - half, 1)
    if after > before * 1.25 + 1e-9:
        return "rising"
    if after < before * 0.8 - 1e-9:
        return "falling"
    return "steady"


def _evenness(counts: Counter[str]) -> float:
    """Shannon evenness (0: everything from one; 1: evenly from each)."""
    total = sum(counts.values())
    if len(counts) < 2 or total == 0:
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


# Seek events by bucket ({bucket}: a CASE naming each bucket's start), action and
# source; then kept items by bucket and the host of their address (a kept entry's
# link, a captured page's url): what it holds between :// and a /.
_SEEK_SQL = """
WITH a AS MATERIALIZED (
    SELECT {bucket} AS b, action, json_extract(detail, '$.source') AS source,
        CASE action WHEN 'entries_seen' THEN json_extract(detail, '$.count') END AS n,
        CASE action
            WHEN 'entry_kept' THEN (SELECT link FROM entries
                WHERE id = json_extract(detail, '$.entry'))
            WHEN 'page_captured' THEN json_extract(detail, '$.url')
        END AS address
    FROM activity
    WHERE at >= ? AND at < ? AND action IN
        ('entry_seen', 'entries_seen', 'entry_kept', 'page_captured', 'source_added')
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
    """Which bucket an ISO time (UTC, as the log writes it) falls in."""

    def __init__(self, starts: list[dt.datetime], end: dt.datetime) -> None:
        self.keys = [s.isoformat(timespec="seconds") for s in starts]
        self.end = end.isoformat(timespec="seconds")
        self.n = len(starts)
        self.days = [k[:10] for k in self.keys]

    def __call__(self, at: str) -> int | None:
        if at < self.keys[0] or at >= self.end:
            return None
        return bisect_right(self.keys, at) - 1

    def of_day(self, day: str) -> int:
        """The bucket of a day (YYYY-MM-DD) within the period: buckets start at midnight."""
        return max(0, bisect_right(self.days, day) - 1)

    def counter(self) -> list[float]:
        return [0.0] * self.n


def practice_report(
    index: Index,
    conn: sqlite3.Connection,
    *,
    period: str = "month",
    now: dt.datetime | None = None,
) -> Report:
    """The report of the period ending ``now``, with the focus set in state.db first."""
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    cut = buckets(period, moment)
    end = moment + dt.timedelta(seconds=1)
    bins = _Bins([s for s, _ in cut], end)
    kinds = dict(conn.execute("SELECT name, kind FROM sources"))
    kinds_lower = {str(k).casefold(): v for k, v in kinds.items()}
    seek, kept_kind, kept_n = _seek(conn, bins, kinds_lower)
    sense, made = _sense(index, bins)
    share, shared_kind = _share(index, conn, bins, kinds_lower)
    balance, signals = _balance(bins, kept_n, made, kept_kind, shared_kind)
    sections = [
        Section("seek", "Seek", seek),
        Section("sense", "Sense", sense),
        Section("share", "Share", share),
        Section("balance", "Balance", balance),
    ]
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
    return Report(
        period,
        cut[0][0].isoformat(timespec="seconds"),
        moment.isoformat(timespec="seconds"),
        [label for _, label in cut],
        focus,
        sections,
        signals,
    )


def _ind(key: str, label: str, series: list[float], total: float, **more: object) -> Indicator:
    return Indicator(key, label, series, total, _trend(series), **more)  # type: ignore[arg-type]


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
            kept[b] += items
            name = str(source) if source else "(captured pages)"
            by_source[b][name] += items
            all_sources[name] += items
            if source:
                kept_of[name] += items
            kind = kinds.get(name.casefold(), "captured") if source else "captured"
            kept_kind[kind][b] += items
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
            _ind(f"sources_{k}", f"{k} sources followed", followed[k], followed[k][-1])
            for k in KINDS
        ),
        _ind("new_sources", "new sources", new, sum(new)),
        _ind("entries_read", "entries read", read, sum(read)),
        _ind("entries_kept", "entries kept or pages captured", kept, sum(kept)),
        _ind(
            "source_evenness",
            "how evenly kept items come from their sources",
            [_evenness(c) for c in by_source],
            _evenness(all_sources),
            about="Shannon evenness, 0 to 1: 1 when each source gives as many",
        ),
        _ind(
            "domain_evenness",
            "how evenly kept items come from their sites",
            [_evenness(c) for c in by_domain],
            _evenness(all_domains),
            about="Shannon evenness of the kept items' web domains, 0 to 1",
        ),
        Indicator(
            "read_not_kept",
            "sources read often, rarely kept from",
            [],
            len(quiet),
            "none" if not quiet else "steady",
            quiet[:10],
            "perhaps a view unlike your usual ones: read at least"
            f" {READ_OFTEN} times, kept from once in ten or less",
        ),
    ]
    return indicators, dict(kept_kind), kept


def _sense(index: Index, bins: _Bins) -> tuple[list[Indicator], list[float]]:
    conn = index.conn
    start_ns = int(dt.datetime.fromisoformat(bins.keys[0]).timestamp() * 1e9)
    end_ns = int(dt.datetime.fromisoformat(bins.end).timestamp() * 1e9)
    links_of = dict(
        conn.execute(
            "SELECT l.file_id, count(*) FROM links l JOIN files f ON f.id = l.file_id"
            " WHERE f.mtime_ns >= ? AND f.mtime_ns < ? GROUP BY l.file_id",
            (start_ns, end_ns),
        )
    )
    marks_of = dict(
        conn.execute(
            "SELECT b.file_id, count(*) FROM blocks b JOIN files f ON f.id = b.file_id"
            " WHERE b.block_id LIKE 'hl-%' GROUP BY b.file_id"
        )
    )
    linked_to = {
        p for (p,) in conn.execute("SELECT DISTINCT resolved_path FROM links WHERE resolved_path")
    }
    linking = {f for (f,) in conn.execute("SELECT DISTINCT file_id FROM links")}
    edited, commented, links, marks = bins.counter(), bins.counter(), bins.counter(), bins.counter()
    experiments, narration, unmade_new = bins.counter(), bins.counter(), bins.counter()
    unmade = 0
    rows = conn.execute(
        "SELECT id, path, mtime_ns, type, json_extract(front_matter, '$.comment')"
        " FROM files WHERE is_note = 1"
    )
    for fid, path, mtime_ns, kind, comment in rows:
        own = bool(comment and str(comment).strip())
        lone = (
            kind == "clipping"
            and not own
            and fid not in marks_of
            and fid not in linking
            and path not in linked_to
        )
        unmade += lone
        if not start_ns <= mtime_ns < end_ns:
            continue
        at = dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).isoformat(timespec="seconds")
        b = bins(at)
        if b is None:
            continue
        unmade_new[b] += lone
        if kind == "clipping":
            commented[b] += own
            marks[b] += marks_of.get(fid, 0)
        elif kind not in SKIP_TYPES:
            edited[b] += 1
            links[b] += links_of.get(fid, 0)
        experiments[b] += kind == "experiment"
    # A narration entry is a "## YYYY-MM-DD HH:MM" heading of a narration note
    # (knowflow narrate): counted by its own date, whenever the note was saved.
    first, last = bins.days[0], bins.end[:10]
    for (text,) in conn.execute(
        "SELECT h.text FROM headings h JOIN files f ON f.id = h.file_id"
        " WHERE f.type = 'narration' AND h.level = 2"
    ):
        day = str(text)[:10]
        if _DAY.fullmatch(day) and first <= day <= last:
            narration[bins.of_day(day)] += 1
    made = [edited[b] + commented[b] + marks[b] for b in range(bins.n)]
    indicators = [
        _ind("notes_edited", "notes written or edited", edited, sum(edited)),
        _ind("clippings_commented", "clippings with your own comment", commented, sum(commented)),
        _ind("links_made", "links in notes written or edited", links, sum(links)),
        _ind("highlights", "highlights in clippings", marks, sum(marks)),
        _ind("experiments", "experiment notes", experiments, sum(experiments)),
        _ind("narration", "narration entries (working out loud)", narration, sum(narration)),
        _ind(
            "unmade",
            "collected, not yet made sense of",
            unmade_new,
            unmade,
            about="clippings with no comment, no highlight and no link in or out (all of them;"
            " the chart: those of each bucket)",
        ),
    ]
    return indicators, made


def _share(
    index: Index, conn: sqlite3.Connection, bins: _Bins, kinds: dict[str, str]
) -> tuple[list[Indicator], dict[str, float]]:
    start_ns = int(dt.datetime.fromisoformat(bins.keys[0]).timestamp() * 1e9)
    per: dict[str, list[float]] = defaultdict(bins.counter)
    totals: Counter[str] = Counter()
    shared_kind: Counter[str] = Counter()
    seen_paths: set[str] = set()
    for path, mtime_ns, audience, source in index.conn.execute(
        "SELECT f.path, f.mtime_ns, s.audience, json_extract(f.front_matter, '$.source')"
        " FROM shares s JOIN files f ON f.id = s.file_id"
        " WHERE f.is_note = 1 AND s.audience != 'private'"
    ):
        totals[audience] += 1
        if path not in seen_paths:
            seen_paths.add(path)
            if source:
                shared_kind[kinds.get(str(source).casefold(), "captured")] += 1
            else:
                shared_kind["own notes"] += 1
        if mtime_ns >= start_ns:
            at = dt.datetime.fromtimestamp(mtime_ns / 1e9, dt.UTC).isoformat(timespec="seconds")
            b = bins(at)
            if b is not None:
                per[audience][b] += 1
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
            f"notes shared with {name}",
            per[name],
            totals[name],
            about="all shared now; the chart: by when each was last edited",
        )
        for name in sorted(totals)
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
    ratio = [round(k / m, 1) if m else float(k) for k, m in zip(kept, made, strict=True)]
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
            round(all_kept / all_made, 1) if all_made else all_kept,
            about="items kept, over notes written, clippings commented and highlights",
        )
    ]
    for kind in (*KINDS, "captured"):
        series = kept_kind.get(kind, bins.counter())
        share = [round(series[b] / kept[b], 2) if kept[b] else 0.0 for b in range(bins.n)]
        indicators.append(
            _ind(
                f"kept_{kind}",
                f"share of kept items from {kind}"
                + (" pages" if kind == "captured" else " sources"),
                share,
                round(sum(series) / all_kept, 2) if all_kept else 0.0,
            )
        )
    for kind, part in sorted(shared_kind.items()):
        indicators.append(
            Indicator(
                f"shared_kind_{kind.replace(' ', '_')}",
                f"share of shared notes: {kind}",
                [],
                part,
                "steady",
                about="notes shared now, by the kind of source they were kept from",
            )
        )
    return indicators, signals


def report_json(report: Report) -> str:
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
