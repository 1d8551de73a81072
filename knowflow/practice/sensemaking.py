"""Sense indicators: notes written or edited (the content changes
``knowflow.practice.versions`` logs), links made, clippings with one's own comment,
highlights, experiments, narration entries, and what was collected but not yet
made sense of."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from knowflow.index.index import Index
from knowflow.practice.series import ISO_DAY, Bins, Indicator, day_of, indicator

SKIP_TYPES = ("clipping", "digest")  # not notes the person wrote themselves


@dataclass
class Change:
    bucket: int
    path: str
    action: str
    type: str | None
    links: int
    commented: bool
    shared: list[str]


def changes(conn: sqlite3.Connection, bins: Bins) -> list[Change]:
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
            Change(
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
        days.extend(day_of(h.created) for h in highlights(text))
    return days


def sense_indicators(
    index: Index, bins: Bins, changes: list[Change]
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
            b = bins.of_day(day_of(captured))
            if lone and b is not None:
                collected[b] += 1
            continue
        if kind in SKIP_TYPES:
            continue
        b = bins.of_day(day_of(created))
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
        if ISO_DAY.fullmatch(day) and (b := bins.of_day(day)) is not None:
            narration[b] += 1
    edited = [float(len(s)) for s in edited_paths]
    made = [edited[b] + commented[b] + marks[b] for b in range(bins.n)]
    indicators = [
        indicator(
            "notes_edited",
            "notes written or edited",
            edited,
            sum(edited),
            about="a note counts on each day its content changed (not its file time),"
            " and on the day its created: date names",
        ),
        indicator(
            "clippings_commented",
            "clippings given your own comment",
            commented,
            sum(commented),
        ),
        indicator("links_made", "links made in notes written or edited", links, sum(links)),
        indicator(
            "highlights",
            "highlights in clippings",
            marks,
            sum(marks),
            about="by the date in each highlight's metadata"
            + (f"; {undated} without a date are not counted" if undated else ""),
        ),
        indicator(
            "experiments",
            "experiments opened",
            experiments,
            sum(experiments),
            about="by their created: date",
        ),
        indicator("narration", "narration entries (working out loud)", narration, sum(narration)),
        indicator(
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
