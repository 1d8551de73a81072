"""Wander: a seeded walk across the vault, for play rather than search.

From a note (or one picked at random) each step goes to a neighbour: a note it links
to, one that links to it, one that shares a tag, or one whose text shares the words
of its title (the index's full-text search). Which one is chance, weighted towards
older notes and notes walked through less often, so that the walk goes where the
person has not been lately; a note already on the walk is not taken again, and where
nothing new is near, the walk jumps. Every step says why it was taken.

The walk's chances come from a seed, a whole number from 0 to 2**63 - 1 (what
SQLite keeps). The random start depends on the seed and the vault's notes only, not
on the length asked for or on what was visited, and each step has chances of its
own drawn from the seed and the step's number. A walk is kept with its seed (and
start and length), so the same seed replays the same walk, whatever was visited
since; asked again for fewer steps it gives the first of them, and for more it goes
on from where it ended: a shorter walk is the start of a longer one. A walk with a
new seed counts its notes as visited.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from knowflow.errors import KnowflowError
from knowflow.index.index import Index, NoteRef
from knowflow.sense.graph import backlinks, note_at, note_tags, outgoing

STEPS = 7
MAX_SEED = 2**63 - 1  # the largest integer SQLite stores
# How much each kind of neighbour weighs before age and visits.
KIND_WEIGHT = {"links to": 3.0, "linked from": 3.0, "shares tag": 2.0, "similar words": 1.0}
SIMILAR = 3  # notes taken from the full-text search per step
NOT_WANDERED = ("digest",)
_WORD = re.compile(r"\w{4,}")


@dataclass(frozen=True)
class Step:
    path: str
    title: str
    why: str  # start, random start, links to, linked from, shares tag, similar words, jump
    via: str = ""  # the tag or the words, or the note the step came from

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "title": self.title, "why": self.why, "via": self.via}

    def says(self) -> str:
        """Why the step was taken, in words."""
        if self.why == "start":
            return "the start"
        if self.why == "random start":
            return "a random start"
        if self.why == "jump":
            return "nothing new nearby: a jump"
        if self.why == "shares tag":
            return f"shares #{self.via}"
        if self.why == "similar words":
            return f"similar words ({self.via})"
        if self.why == "links to":
            return f"{self.via} links to it"
        return f"it links to {self.via}"


@dataclass(frozen=True)
class Walk:
    seed: int
    steps: list[Step]
    replayed: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "replayed": self.replayed,
            "steps": [s.as_dict() for s in self.steps],
        }


Weight = Callable[[str], float]


def neighbours(index: Index, note: NoteRef) -> list[Step]:
    """Every note one step from ``note``, each once with its first reason (links, then
    backlinks, shared tags and similar words), in a fixed order."""
    found: dict[str, Step] = {}

    def add(path: str | None, why: str, via: str = "") -> None:
        if path and path != note.path and path not in found:
            other = note_at(index, path)
            if other is not None and (other.type or "note") not in NOT_WANDERED:
                found[path] = Step(path, other.title, why, via)

    for link in outgoing(index, note):
        add(link.resolved, "links to")
    for link in backlinks(index, note, with_text=False):
        add(link.path, "linked from")
    for tag in note_tags(index, note):
        for (path,) in index.conn.execute(
            "SELECT DISTINCT f.path FROM tags t JOIN files f ON f.id = t.file_id"
            " WHERE t.tag_key = ? AND f.is_note = 1 ORDER BY f.path",
            (tag.casefold(),),
        ):
            add(path, "shares tag", tag)
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(note.title)))[:8]
    if words:
        query = " OR ".join('"' + w.replace('"', '""') + '"' for w in words)
        try:
            rows = index.conn.execute(
                "SELECT f.path FROM notes_fts n JOIN files f ON f.id = n.rowid"
                " WHERE notes_fts MATCH ? AND f.id != ? ORDER BY bm25(notes_fts), f.path"
                " LIMIT ?",
                (query, note.id, SIMILAR),
            ).fetchall()
        except sqlite3.OperationalError:
            rows = []
        for (path,) in rows:
            add(path, "similar words", ", ".join(words[:3]))
    return list(found.values())


def weights(index: Index, conn: sqlite3.Connection) -> Weight:
    """A note's weight for being taken: from 1 (the newest file) to 2 (the oldest),
    divided by one more than the times the walk went through it."""
    paths = [
        p
        for (p,) in index.conn.execute(
            "SELECT path FROM files WHERE is_note = 1 ORDER BY mtime_ns DESC, path"
        )
    ]
    age = {p: 1.0 + i / max(1, len(paths) - 1) for i, p in enumerate(paths)}
    visits = dict(conn.execute("SELECT path, visits FROM wander_visits").fetchall())
    return lambda path: age.get(path, 1.0) / (1 + visits.get(path, 0))


def choose(rng: random.Random, options: list[Step], weight: Weight) -> Step:
    """One of ``options`` (in their given order), by chance in proportion to its kind's
    weight times ``weight``."""
    chances = [KIND_WEIGHT.get(o.why, 1.0) * weight(o.path) for o in options]
    return rng.choices(options, weights=chances, k=1)[0]


def _all_notes(index: Index) -> list[NoteRef]:
    skip = ",".join("?" * len(NOT_WANDERED))
    return [
        NoteRef(*row)
        for row in index.conn.execute(
            "SELECT id, path, title, type FROM files WHERE is_note = 1"
            f" AND coalesce(type, 'note') NOT IN ({skip}) ORDER BY path",
            NOT_WANDERED,
        )
    ]


def _rng(seed: int, step: int) -> random.Random:
    """The chances of one step of the walk with ``seed`` (step 0: the start)."""
    return random.Random(f"{seed}:{step}")


def take_walk(
    index: Index,
    start: NoteRef | None,
    seed: int,
    steps: int,
    weight: Weight,
    begun: list[Step] | None = None,
) -> list[Step]:
    """The walk itself: ``steps`` notes after the start (fewer in a smaller vault),
    going on from ``begun`` (an earlier walk with the same seed) when given. A random
    start is drawn evenly from the notes by path, from the seed alone."""
    notes = _all_notes(index)
    if not notes:
        raise KnowflowError("the vault has no notes to wander through")
    if begun:
        path = list(begun[: steps + 1])
        here = note_at(index, path[-1].path)
        if here is None:  # gone since: the walk cannot go on from it
            return path
    elif start is None:
        pick = _rng(seed, 0).randrange(len(notes))
        here = notes[pick]
        path = [Step(here.path, here.title, "random start")]
    else:
        here = start
        path = [Step(start.path, start.title, "start")]
    seen = {s.path for s in path}
    while len(path) <= steps:
        rng = _rng(seed, len(path))
        near = [s for s in neighbours(index, here) if s.path not in seen]
        if not near:
            near = [Step(n.path, n.title, "jump") for n in notes if n.path not in seen]
            if not near:
                break
        step = choose(rng, near, weight)
        if step.why in ("links to", "linked from"):
            step = Step(step.path, step.title, step.why, here.title)
        path.append(step)
        seen.add(step.path)
        nxt = note_at(index, step.path)
        assert nxt is not None
        here = nxt
    return path


def wander(
    index: Index,
    conn: sqlite3.Connection,
    start: str | None = None,
    *,
    seed: int | None = None,
    steps: int = STEPS,
    now: dt.datetime | None = None,
) -> Walk:
    """Walk from the note named ``start`` (or a random one). A ``seed`` walked before
    (with the same start and length) is replayed as it was; a new one is walked,
    kept, and its notes counted as visited."""
    if steps < 1:
        raise KnowflowError("--steps must be 1 or more")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise KnowflowError(f"a seed is a whole number from 0 to {MAX_SEED} (not {seed})")
    note = index.note(start) if start else None
    key = note.path if note else ""
    begun: list[Step] | None = None
    if seed is not None:
        # The walk taken with this seed before: its first steps if it was as long,
        # else where this one goes on from.
        walks = [
            (n, [Step(**s) for s in json.loads(walk)])
            for n, walk in conn.execute(
                "SELECT steps, walk FROM wander_walks WHERE seed = ? AND start = ? ORDER BY steps",
                (seed, key),
            )
        ]
        for n, walk in walks:
            if n >= steps:
                return Walk(seed, walk[: steps + 1], replayed=True)
        begun = walks[-1][1] if walks else None
    else:
        seed = random.SystemRandom().randrange(1, 1_000_000)
    path = take_walk(index, note, seed, steps, weights(index, conn), begun)
    when = (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds")
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT OR REPLACE INTO wander_walks (seed, start, steps, walk, walked_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (seed, key, steps, json.dumps([s.as_dict() for s in path]), when),
        )
        for step in path:
            conn.execute(
                "INSERT INTO wander_visits (path, visits, last_visit) VALUES (?, 1, ?)"
                " ON CONFLICT (path) DO UPDATE SET visits = visits + 1,"
                " last_visit = excluded.last_visit",
                (step.path, when),
            )
        from knowflow.seek.state import record

        record(conn, "wandered", key or path[0].path, seed=seed, steps=len(path) - 1)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return Walk(seed, path)
