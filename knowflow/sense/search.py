"""Full-text search over the index, ranked by BM25 with title, alias and heading boosts."""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from knowflow.index.index import Index
from knowflow.sense.filters import filter_sql
from knowflow.sense.query import Query, Term, parse_query

# BM25 weights of the FTS columns: title, aliases, headings, body.
WEIGHTS = (10.0, 6.0, 3.0, 1.0)
MARK = ("\x02", "\x03")  # snippet highlight markers, replaced by the caller's
RANK_CAP = 1000  # at most this many newest matches are ranked (plus title/heading hits)
_NOT_ID = re.compile(r"\bf\.(?!id\b)")  # a condition on a column of files other than id


class Hit(NamedTuple):
    """One search result; ``missing`` lists the query's words it lacks (see ``closest``)."""

    path: str
    title: str
    type: str | None
    score: float
    snippet: str | None
    missing: tuple[str, ...] = ()

    def marked(self, start: str, end: str) -> str | None:
        """The snippet with the matches wrapped in start/end."""
        if self.snippet is None:
            return None
        return self.snippet.replace(MARK[0], start).replace(MARK[1], end)

    def matches(self) -> tuple[str, list[tuple[int, int]]]:
        """The snippet as plain text, and where in it each match starts and ends."""
        text, spans = [], []
        length = 0
        for n, piece in enumerate(re.split(f"[{MARK[0]}{MARK[1]}]", self.snippet or "")):
            if n % 2:
                spans.append((length, length + len(piece)))
            text.append(piece)
            length += len(piece)
        return "".join(text), spans


class Compiled(NamedTuple):
    """A query as SQL: FTS5 expressions plus conditions on ``files f``."""

    positive: str  # what must match, as FTS5; '' when only filters or exclusions
    full: str  # positive with exclusions applied
    where: list[str]
    args: list[object]

    @property
    def conditions(self) -> str:
        return "".join(" AND " + w for w in self.where)


def search(index: Index, query: str | Query, limit: int = 20, offset: int = 0) -> list[Hit]:
    """Run a query (see ``knowflow.sense.query``) and return the best notes first.

    Notes are ranked by BM25. When more than ``RANK_CAP`` notes match, only
    the newest ``RANK_CAP`` of them and those matching in a title, alias or
    heading are ranked, so a word found in most notes stays as fast as a rare
    one; such a word weighs almost nothing in BM25 anyway.
    """
    parsed = parse_query(query) if isinstance(query, str) else query
    if parsed.is_empty:
        return []
    q = _compile(index, parsed)
    if not q.positive:
        sql = (
            f"SELECT f.path, f.title, f.type FROM files f WHERE f.is_note = 1{q.conditions}"
            " ORDER BY f.path LIMIT ? OFFSET ?"
        )
        rows = index.conn.execute(sql, (*q.args, limit, offset))
        return [Hit(p, t, k, 0.0, None) for p, t, k in rows]
    ranked = _ranked(index, q, limit + offset)[offset:]
    return _hits(index, q, ranked)


def _ranked(index: Index, q: Compiled, window: int) -> list[tuple[int, float]]:
    conn = index.conn
    newest = [i for (i,) in conn.execute(_newest(q, "notes_fts", "n"), (q.full, *q.args))]
    heads = [i for (i,) in conn.execute(_newest(q, "heads_fts", "h"), (q.positive, *q.args))]
    return _bm25(index, q, sorted(set(newest) | set(heads)), window)


def _bm25(index: Index, q: Compiled, ids: list[int], window: int) -> list[tuple[int, float]]:
    """The best ``window`` of these matching notes by BM25.

    The rowid range lets FTS5 skip the rest of the matches; "+n.rowid" keeps
    SQLite from handing the id list to FTS5 one value at a time.
    """
    if not ids:
        return []
    weights = ", ".join(str(w) for w in WEIGHTS)
    marks = ",".join("?" * len(ids))
    sql = (
        f"SELECT n.rowid, bm25(notes_fts, {weights}) AS score FROM notes_fts n"
        f" WHERE notes_fts MATCH ? AND n.rowid >= ? AND +n.rowid IN ({marks})"
        " ORDER BY score LIMIT ?"
    )
    rows = index.conn.execute(sql, (q.full, min(ids), *ids, window))
    return [(int(i), -float(s)) for i, s in rows]


def _newest(q: Compiled, table: str, alias: str) -> str:
    """The newest RANK_CAP matches in an FTS table that pass the filters."""
    conditions = q.conditions
    if _NOT_ID.search(conditions):
        source = f"{table} {alias} CROSS JOIN files f ON f.id = {alias}.rowid"
    else:  # the filters need only the note's id: spare a join per match
        source = f"{table} {alias}"
        conditions = conditions.replace("f.id", f"+{alias}.rowid")
    return (
        f"SELECT {alias}.rowid FROM {source} WHERE {table} MATCH ?{conditions}"
        f" ORDER BY {alias}.rowid DESC LIMIT {RANK_CAP}"
    )


def _hits(index: Index, q: Compiled, ranked: list[tuple[int, float]]) -> list[Hit]:
    """Paths, titles and snippets for one page of ranked notes, in one pass."""
    if not ranked:
        return []
    marks = ",".join("?" * len(ranked))
    # One scan of the matches with a membership test: FTS5 would otherwise
    # expand the query again for every note.
    rows = index.conn.execute(
        f"SELECT n.rowid, f.path, f.title, f.type,"
        f" snippet(notes_fts, -1, '{MARK[0]}', '{MARK[1]}', '…', 16)"
        " FROM notes_fts n CROSS JOIN files f ON f.id = n.rowid"
        f" WHERE notes_fts MATCH ? AND +n.rowid IN ({marks})",
        (q.full, *(i for i, _ in ranked)),
    )
    found = {fid: (path, title, kind, snip) for fid, path, title, kind, snip in rows}
    return [
        Hit(found[i][0], found[i][1], found[i][2], score, found[i][3])
        for i, score in ranked
        if i in found
    ]


def _compile(index: Index, query: Query) -> Compiled:
    """Split a query into FTS5 expressions plus SQL conditions on ``files f``."""
    positive: list[str] = []
    negative: list[str] = []
    where: list[str] = []
    args: list[object] = []
    for group in query.groups:
        if all(t.is_text and not t.negated for t in group):
            positive.append(" OR ".join(fts_term(t) for t in group))
        elif len(group) == 1 and group[0].is_text:
            negative.append(fts_term(group[0]))
        else:
            parts = []
            for term in group:
                sql, term_args = _condition(index, term)
                parts.append(sql)
                args.extend(term_args)
            where.append("(" + " OR ".join(parts) + ")")
    fts = " AND ".join(f"({p})" for p in positive)
    full = fts
    if negative and fts:
        full = f"({fts}) NOT ({' OR '.join(negative)})"
    elif negative:
        where.append("f.id NOT IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?)")
        args.append(" OR ".join(negative))
    return Compiled(fts, full, where, args)


def fts_term(term: Term) -> str:
    """A word or phrase quoted for FTS5, so punctuation never breaks the query."""
    value = term.value
    prefix = term.kind == "word" and value.endswith("*")
    if prefix:
        value = value.rstrip("*")
    quoted = '"' + value.replace('"', '""') + '"'
    return quoted + ("*" if prefix else "")


def _condition(index: Index, term: Term) -> tuple[str, list[object]]:
    sql: str
    args: list[object]
    if term.is_text:
        sql = "f.id IN (SELECT rowid FROM notes_fts WHERE notes_fts MATCH ?)"
        args = [fts_term(term)]
    else:
        sql, args = filter_sql(index, term)
    return (f"NOT {sql}" if term.negated else sql), args


CLOSEST_POOL = 200  # notes holding any of the words, ranked before counting words


def closest(index: Index, query: str | Query, limit: int = 20) -> list[Hit]:
    """For a query no note fully answers: the notes holding most of its words (and
    passing its filters and exclusions), most words first, then by BM25. Each hit's
    ``missing`` names the words it lacks. Empty when the query has under two words."""
    parsed = parse_query(query) if isinstance(query, str) else query
    words = [g for g in parsed.groups if all(t.is_text and not t.negated for t in g)]
    if len(words) < 2:
        return []
    rest = [g for g in parsed.groups if g not in words]
    anyword = Query((tuple(t for g in words for t in g), *rest))
    pool = search(index, anyword, limit=CLOSEST_POOL)
    if not pool:
        return []
    holders = [_holding(index, group, [h.path for h in pool]) for group in words]
    notes = index.count()
    weights = [_rarity(index, group, notes) for group in words]
    ranked = []
    for hit in pool:
        lacks = [i for i, held in enumerate(holders) if hit.path not in held]
        missing = tuple(_label(words[i]) for i in lacks)
        # A note lacking "the" is closer than one lacking "phone": what is missing
        # weighs as rare as it is (its idf), not one word each.
        cost = round(sum(weights[i] for i in lacks), 6)
        ranked.append((cost, -hit.score, hit.path, hit._replace(missing=missing)))
    ranked.sort()
    return [hit for *_, hit in ranked[:limit]]


def _rarity(index: Index, group: tuple[Term, ...], notes: int) -> float:
    """The group's inverse document frequency: log(notes / notes holding it)."""
    holding = index.matching(" OR ".join(fts_term(t) for t in group))
    return math.log((notes + 1) / (holding + 1))


def _holding(index: Index, group: tuple[Term, ...], paths: list[str]) -> set[str]:
    """Which of these notes match one group of the query."""
    marks = ",".join("?" * len(paths))
    rows = index.conn.execute(
        "SELECT f.path FROM notes_fts n JOIN files f ON f.id = n.rowid"
        f" WHERE notes_fts MATCH ? AND f.path IN ({marks})",
        (" OR ".join(fts_term(t) for t in group), *paths),
    )
    return {path for (path,) in rows}


def _label(group: tuple[Term, ...]) -> str:
    return " OR ".join(f'"{t.value}"' if t.kind == "phrase" else t.value for t in group)


def note_types(index: Index) -> list[str]:
    """The front-matter types the vault's notes carry (``note`` where none is given),
    for a ``type:`` filter to offer."""
    rows = index.conn.execute(
        "SELECT DISTINCT coalesce(type, 'note') FROM files WHERE is_note = 1 ORDER BY 1"
    )
    return [kind for (kind,) in rows]
