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
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from knowflow.errors import KnowflowError
from knowflow.index.index import Index
from knowflow.practice.seeking import seek_indicators
from knowflow.practice.sensemaking import Change, changes, sense_indicators
from knowflow.practice.series import (
    KINDS,
    Bins,
    Indicator,
    Section,
    buckets,
    indicator,
    local_day,
)
from knowflow.practice.versions import first_look, observe

WINDOWS = {
    "week": "the last 7 days, by day",
    "month": "the last 5 weeks (from a Monday), by week",
    "year": "the last 12 months (from the first of a month), by month",
}
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


STUCK_RATIO = 3.0  # kept items for each thing made sense of, above which seeking outpaces
STUCK_MIN_KEPT = 10  # ...when at least this many were kept in the period
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
    bins = Bins([s for s, _ in cut], end)
    kinds = dict(conn.execute("SELECT name, kind FROM sources"))
    kinds_lower = {str(k).casefold(): v for k, v in kinds.items()}
    seek, kept_kind, kept_n = seek_indicators(conn, bins, kinds_lower)
    changed = changes(conn, bins)
    sense, made = sense_indicators(index, bins, changed)
    share, shared_kind = _share(index, conn, bins, kinds_lower, changed)
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


def _share(
    index: Index,
    conn: sqlite3.Connection,
    bins: Bins,
    kinds: dict[str, str],
    changes: list[Change],
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
        indicator(
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
        indicator(
            "publishes", "sites published", logged["site_published"], sum(logged["site_published"])
        ),
        indicator("digests", "digests drafted or shared", logged["digest"], sum(logged["digest"])),
        indicator("pushes", "pushes to a hub", logged["pushed"], sum(logged["pushed"])),
    ]
    total = sum(shared_kind.values())
    return indicators, {k: round(v / total, 2) for k, v in shared_kind.items()} if total else {}


def _balance(
    bins: Bins,
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
        indicator(
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
            indicator(
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
