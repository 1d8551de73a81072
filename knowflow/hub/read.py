"""What a member reads: search over the artifacts they may see, and everything the
hub holds of their own (export), which they may also delete.

Who may see what is decided in the SQL of each query, by one condition
(``VISIBLE``), never by filtering rows afterwards: a row a reader may not see is
never read for them, so it cannot leak through a count, a snippet or a title. The
search's filters (audience, person, tag, time) and its paging are in the same SQL, so
a filtered search finds every match, not only those among the best hundred; a filter
only narrows what ``VISIBLE`` allows (an audience the reader is not in: nothing).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text

from knowflow.hub.admin import Member
from knowflow.hub.db import audit, reading, writing
from knowflow.hub.errors import HubError

# An artifact the reader may see: its audience is public, or one they belong to.
VISIBLE = (
    "(au.kind = 'public' OR f.audience_id IN"
    " (SELECT audience_id FROM memberships WHERE member_id = :reader))"
)
# Snippet marks the database puts around matches: private-use characters, never in
# ordinary text, so the snippet can be escaped and the marks then made <mark>.
_OPEN, _CLOSE = "\ue000", "\ue001"
_WORD = re.compile(r"\w+", re.UNICODE)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_RESULTS = 100
MAX_OFFSET = 2**31 - 1  # past it, PostgreSQL's OFFSET overflows (a 500, not nothing)
EXCERPT = 240  # characters of a share's text shown when there are no words to mark


@dataclass(frozen=True, slots=True)
class Filters:
    """What a search keeps: shares to one audience, by one person, with one tag
    (``#`` or not), shared in [since, until). Empty: any."""

    audience: str = ""
    person: str = ""
    tag: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def parse(
        cls, audience: str = "", person: str = "", tag: str = "", since: str = "", until: str = ""
    ) -> Filters:
        """Filters from the words of a request; a bad time is a HubError (400).
        ``until`` as a date takes in that whole day; as a time, up to that moment."""
        return cls(
            audience.strip(),
            person.strip(),
            tag.strip().lstrip("#"),
            moment("since", since),
            moment("until", until, whole_day=True),
        )


NO_FILTERS = Filters()


def moment(name: str, value: str, *, whole_day: bool = False) -> dt.datetime | None:
    """An ISO 8601 date or time (naive: UTC); a date as ``until`` means the day after."""
    value = value.strip()
    if not value:
        return None
    try:
        found = dt.datetime.fromisoformat(value)
    except ValueError:
        raise HubError(f"{name} must be a date or time (ISO 8601), not {value!r}") from None
    found = found if found.tzinfo else found.replace(tzinfo=dt.UTC)
    return found + dt.timedelta(days=1) if whole_day and _DATE.fullmatch(value) else found


def _stored(when: dt.datetime) -> str:
    # shared_at is kept as UTC ISO text to the second (db.now), so text order is time
    # order; a bound with a fraction of a second is rounded up, which keeps >= and <
    # exact for whole seconds.
    utc = when.astimezone(dt.UTC)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + dt.timedelta(seconds=1)
    return utc.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Found:
    """One page of results, and whether more follow it."""

    hits: list[dict[str, Any]]
    more: bool


def search(
    engine: Engine,
    reader: Member,
    query: str,
    limit: int = 20,
    offset: int = 0,
    filters: Filters = NO_FILTERS,
) -> list[dict[str, Any]]:
    """Artifacts reader may see that match every word of query (none: nothing) and
    the filters, best first, each with a snippet (HTML: escaped text, matches in <mark>)."""
    if not _WORD.findall(query):
        return []
    return find(engine, reader, query, filters, limit, offset).hits


def find(
    engine: Engine,
    reader: Member,
    query: str,
    filters: Filters = NO_FILTERS,
    limit: int = 20,
    offset: int = 0,
    cache: SearchCache | None = None,
) -> Found:
    """Like ``search``, one page of it (limit 1..100, from offset); without words, the
    newest of what the filters keep, each with the start of its text. With ``cache``,
    an answer already given for the same audiences, words, filters and page at the same
    hub version is given again (see ``SearchCache``)."""
    words = _WORD.findall(query)
    limit, offset = max(1, min(limit, MAX_RESULTS)), max(0, min(offset, MAX_OFFSET))
    with reading(engine) as conn:
        audiences, version, lexemes = view(conn, reader, words)
        key = (audiences, version, tuple(words), filters, limit, offset)
        found = cache.get(key) if cache is not None else None
        if found is not None:
            return found
        # Read after the key: what is found can only be as new as the key says or newer
        # (never older), and only in the audiences the key names.
        where, params = _where(conn, audiences, filters)
        # One row more than asked: whether another page follows, without a count.
        params |= {"limit": limit + 1, "offset": offset}
        if not words:
            rows = _newest(conn, where, params)
        elif conn.dialect.name == "sqlite":
            rows = _sqlite_search(conn, words, where, params)
        else:
            rows = _pg_search(conn, words, where, params, _share(conn, lexemes))
    found = Found([_hit(row, marked=bool(words)) for row in rows[:limit]], len(rows) > limit)
    if cache is not None:
        cache.put(key, found)
    return found


# The audiences a reader reads (their own and every public one) and the hub's version,
# in one round trip. The version is the audit log's last id and length, as for the
# insight cache (knowflow.hub.api): every push, deletion and membership change writes to
# the log in its own transaction; the length also moves when a transaction that took an
# earlier id commits late.
# On PostgreSQL, the same round trip gives the query's lexemes (``_share``).
_VIEW = {
    dialect: text(
        f"SELECT (SELECT {agg} FROM audiences WHERE kind = 'public' OR id IN"
        " (SELECT audience_id FROM memberships WHERE member_id = :reader)) AS audiences,"
        " (SELECT COALESCE(MAX(id), 0) FROM audit) AS last, (SELECT COUNT(*) FROM audit) AS n,"
        f" {lexemes} AS lexemes"
    )
    for dialect, agg, lexemes in (
        ("sqlite", "group_concat(id)", "NULL"),
        ("postgresql", "string_agg(CAST(id AS text), ',')",
         "tsvector_to_array(to_tsvector('english', CAST(:query AS text)))"),
    )
}  # fmt: skip


def view(
    conn: Connection, reader: Member, words: tuple[str, ...] | list[str] = ()
) -> tuple[tuple[int, ...], tuple[int, int], list[str]]:
    """The ids of the audiences reader reads, sorted, the hub's version, and (on
    PostgreSQL) the lexemes of words."""
    asked = {"reader": reader.id, "query": " ".join(words)}
    row = conn.execute(_VIEW[conn.dialect.name], asked).one()
    audiences = tuple(sorted(int(i) for i in str(row.audiences or "").split(",") if i))
    return audiences, (int(row.last), int(row.n)), list(row.lexemes or [])


CacheKey = tuple[tuple[int, ...], tuple[int, int], tuple[str, ...], Filters, int, int]


class SearchCache:
    """Answers of ``find`` by (the reader's audience ids, the hub's version, the query's
    words, the filters, the page), the newest ``size`` kept. What a reader may see is
    decided by their audiences alone, so two readers of the same audiences get the same
    answer; any push, deletion or membership change moves the version, and entries of
    an older version are dropped as a newer one is met. ``KNOWFLOW_HUB_SEARCH_CACHE``
    sets the size for ``hub serve`` (0: no cache)."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.hits = self.misses = 0
        self._entries: OrderedDict[CacheKey, Found] = OrderedDict()
        self._version: tuple[int, int] = (0, 0)
        self._lock = threading.Lock()

    def get(self, key: CacheKey) -> Found | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self.hits += 1
            self._entries.move_to_end(key)
            return found

    def put(self, key: CacheKey, found: Found) -> None:
        with self._lock:
            version = key[1]
            if version < self._version:
                return  # a slow search of an older version: not worth keeping
            if version > self._version:
                self._entries.clear()
                self._version = version
            self._entries[key] = found
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)

    @classmethod
    def configured(cls) -> SearchCache | None:
        """The cache ``KNOWFLOW_HUB_SEARCH_CACHE`` asks for (entries; 0: none)."""
        size = os.environ.get("KNOWFLOW_HUB_SEARCH_CACHE", "").strip()
        if not size:
            return cls()
        if not size.isdigit():
            raise ValueError(f"KNOWFLOW_HUB_SEARCH_CACHE must be a number, not {size!r}")
        return cls(int(size)) if int(size) else None


_HIT_COLUMNS = (
    "f.note_id, f.title, f.path, f.tags, f.shared_at, m.name AS author, au.name AS audience"
)
_HIT_JOINS = "JOIN members m ON m.id = f.author_id JOIN audiences au ON au.id = f.audience_id"
_PAGE = "LIMIT :limit OFFSET :offset"
# The tag filter: one of the artifact's tags (a JSON list as text), with or without #.
_TAG = {
    "sqlite": "EXISTS (SELECT 1 FROM json_each(f.tags) t WHERE ltrim(t.value, '#') = :f_tag)",
    "postgresql": "EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(f.tags AS jsonb))"
    " AS t(v) WHERE ltrim(t.v, '#') = :f_tag)",
}


def _where(
    conn: Connection, audiences: tuple[int, ...], filters: Filters
) -> tuple[str, dict[str, Any]]:
    """The search's condition: in one of the reader's audiences (``view``), and each
    filter chosen (all bound, never quoted in)."""
    parts: list[str] = [_IN_AUDIENCES[conn.dialect.name]]
    params: dict[str, Any] = {"audiences": list(audiences) or [0]}  # 0: no audience's id
    chosen = {
        "au.name = :f_audience": ("f_audience", filters.audience),
        "m.name = :f_person": ("f_person", filters.person),
        _TAG[conn.dialect.name]: ("f_tag", filters.tag),
        "f.shared_at >= :f_since": ("f_since", filters.since and _stored(filters.since)),
        "f.shared_at < :f_until": ("f_until", filters.until and _stored(filters.until)),
    }
    for condition, (name, value) in chosen.items():
        if value:
            parts.append(condition)
            params[name] = value
    return " AND ".join(parts), params


# The reader's audiences, as ids bound to the query: an array on PostgreSQL (one text
# for any number, so the statement can be prepared once), a list on SQLite.
_IN_AUDIENCES = {
    "sqlite": "f.audience_id IN :audiences",
    "postgresql": "f.audience_id = ANY(:audiences)",
}


# Ranking a word that is in most artifacts would read every match (on PostgreSQL,
# each one's tsvector: ~0.3 s at 100,000). So the matches are ranked in blocks of
# POOL, newest first (by id, found cheaply: an index walked backwards, or the
# full-text index in rowid order, stopping once enough are found); best first within
# a block. A word with fewer than POOL matches the reader may see (most words) is
# ranked over all of them, as before. Paging stays exact: the blocks do not depend on
# the page, so each match is on one page only.
POOL = 300


def _pool(where: str, match: str, order: str, params: dict[str, Any]) -> str:
    """The candidates (``c``): the newest matches the reader may see, enough for the page, each
    with its block (``reach``: the page's end rounded up to whole blocks)."""
    end = params["offset"] + params["limit"]
    params |= {"pool": POOL, "reach": -(-end // POOL) * POOL}
    # The blocks numbered apart from the LIMIT: a window over the matches themselves
    # makes SQLite sort all of them first (measured: 0.5 s, not 2 ms).
    return (
        f"WITH p AS MATERIALIZED (SELECT f.id FROM {match} AND {where}"
        f" ORDER BY {order} DESC LIMIT :reach), c AS (SELECT id,"
        f" (row_number() OVER (ORDER BY id DESC) - 1) / :pool AS block FROM p)"
    )


def _sqlite_search(
    conn: Connection, words: list[str], where: str, params: dict[str, Any]
) -> list[Any]:
    # Each word quoted: FTS5's query syntax is not for people to trip over.
    match = " ".join('"' + w.replace('"', '""') + '"' for w in words)
    pool = _pool(
        where,
        f"artifacts_fts JOIN artifacts f ON f.id = artifacts_fts.rowid{_joins(where)}"
        " WHERE artifacts_fts MATCH :match",
        "artifacts_fts.rowid",
        params,
    )
    # bm25 and snippet only where FTS5 is queried: the outer query matches again, in
    # one pass over the rowids from the pool's oldest on (one MATCH per candidate
    # would make FTS5 count the word's rows for bm25 each time: 1 s, not 30 ms).
    sql = (
        f"{pool}"
        f" SELECT {_HIT_COLUMNS}, snippet(artifacts_fts, 2, '{_OPEN}', '{_CLOSE}', '…', 16)"
        f" AS snippet FROM artifacts_fts CROSS JOIN c ON c.id = artifacts_fts.rowid"
        f" JOIN artifacts f ON f.id = c.id {_HIT_JOINS} WHERE artifacts_fts MATCH :match"
        f" AND artifacts_fts.rowid >= (SELECT min(id) FROM p)"
        f" ORDER BY c.block, bm25(artifacts_fts, 10.0, 5.0, 1.0), f.id {_PAGE}"
    )
    return _rows(conn, sql, params | {"match": match})


def _pg_search(
    conn: Connection, words: list[str], where: str, params: dict[str, Any], share: float
) -> list[Any]:
    options = f"StartSel={_OPEN}, StopSel={_CLOSE}, MaxWords=30, MinWords=10"
    # How the pool is found, said by the SQL itself (no planner settings, no round trip
    # to set them). The planner underprices reading a tsvector (each one is fetched and
    # decompressed), so it would walk the ids backwards for words in 2% of the artifacts
    # (0.18 s measured, where the index takes 15 ms): ordering by ``f.id + 0`` leaves it
    # the full-text index only. The walk pays for a word in a good share of them (0.3 s
    # by the index, 17 ms walking, at 100,000): ``IS TRUE`` leaves it the walk only.
    # ``share``: of the artifacts holding the rarest of the query's words (``_share``).
    matches = "f.search @@ plainto_tsquery('english', :query)"
    walk = share >= COMMON
    pool = _pool(
        where,
        f"artifacts f{_joins(where)} WHERE {f'({matches}) IS TRUE' if walk else matches}",
        "f.id" if walk else "f.id + 0",
        params,
    )
    sql = (
        f"{pool}"
        f" SELECT {_HIT_COLUMNS}, ts_headline('english', f.markdown, q, :options) AS snippet"
        f" FROM c JOIN artifacts f ON f.id = c.id {_HIT_JOINS},"
        f" plainto_tsquery('english', :query) q"
        f" ORDER BY c.block, ts_rank(f.search, q) DESC, f.id {_PAGE}"
    )
    params |= {"query": " ".join(words), "options": options}
    return _rows(conn, sql, params)


def _joins(where: str) -> str:
    """The joins the pool needs: only for a filter by person or audience name."""
    return f" {_HIT_JOINS}" if "m.name" in where or "au.name" in where else ""


# The share of artifacts above which a query's rarest word is found by walking the ids.
COMMON = 0.2
# How often each process reads the full-text column's statistics again.
STATISTICS_SECONDS = 300.0
_STATISTICS = text(
    "SELECT most_common_elems::text::text[] AS elems, most_common_elem_freqs AS freqs"
    " FROM pg_stats WHERE tablename = 'artifacts' AND attname = 'search'"
    " AND schemaname = current_schema()"
)
_common: dict[str, tuple[float, dict[str, float]]] = {}  # database -> (read at, shares)
_common_lock = threading.Lock()


def _share(conn: Connection, lexemes: list[str]) -> float:
    """The share of artifacts holding the rarest of lexemes, from the column's
    statistics (0 for a word not among its most common, or before any ANALYZE), read
    once every STATISTICS_SECONDS per database, not once per search."""
    where = conn.engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    with _common_lock:
        read_at, shares = _common.get(where, (-STATISTICS_SECONDS, {}))
    if now - read_at >= STATISTICS_SECONDS:
        row = conn.execute(_STATISTICS).first()
        shares = dict(zip(row.elems, row.freqs, strict=False)) if row and row.elems else {}
        with _common_lock:
            _common[where] = (now, shares)
    return min((shares.get(lexeme, 0.0) for lexeme in lexemes), default=0.0)


def _newest(conn: Connection, where: str, params: dict[str, Any]) -> list[Any]:
    sql = (
        f"SELECT {_HIT_COLUMNS}, substr(f.markdown, 1, {EXCERPT * 2}) AS snippet"
        f" FROM artifacts f {_HIT_JOINS} WHERE {where}"
        f" ORDER BY f.shared_at DESC, f.id DESC {_PAGE}"
    )
    return _rows(conn, sql, params)


def _rows(conn: Connection, sql: str, params: dict[str, Any]) -> list[Any]:
    statement = text(sql)
    if conn.dialect.name == "sqlite":
        statement = statement.bindparams(bindparam("audiences", expanding=True))
    return list(conn.execute(statement, params).mappings())


def _excerpt(value: str) -> str:
    shown = " ".join(value.split())
    return shown if len(shown) <= EXCERPT else shown[: EXCERPT - 1] + "…"


def _hit(row: Any, *, marked: bool = True) -> dict[str, Any]:
    raw = str(row["snippet"] or "")
    snippet = html.escape(raw if marked else _excerpt(raw))
    return {
        "id": row["note_id"],
        "title": row["title"],
        "path": row["path"],
        "author": row["author"],
        "audience": row["audience"],
        "tags": json.loads(row["tags"]),
        "shared_at": row["shared_at"],
        "snippet": snippet.replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>"),
    }


def export(engine: Engine, member: Member) -> dict[str, Any]:
    """Everything the hub holds of member's: who they are, where they belong, and
    each artifact whole."""
    with reading(engine) as conn:
        audiences = conn.execute(
            text(
                "SELECT au.name, au.kind, s.role, s.joined_at FROM memberships s"
                " JOIN audiences au ON au.id = s.audience_id WHERE s.member_id = :m"
                " ORDER BY au.name"
            ),
            {"m": member.id},
        ).mappings()
        memberships = [dict(row) for row in audiences]
        rows = conn.execute(
            text(
                "SELECT au.name AS audience, f.* FROM artifacts f"
                " JOIN audiences au ON au.id = f.audience_id WHERE f.author_id = :m"
                " ORDER BY au.name, f.path"
            ),
            {"m": member.id},
        ).mappings()
        artifacts = [_artifact(row) for row in rows]
    return {"member": member.name, "memberships": memberships, "artifacts": artifacts}


def _artifact(row: Any) -> dict[str, Any]:
    item = {
        key: row[key]
        for key in ("audience", "note_id", "path", "url", "title", "type", "markdown", "html",
                    "created", "updated", "content_hash", "shared_at")
    }  # fmt: skip
    for key in ("tags", "aliases", "links"):
        item[key] = json.loads(row[key])
    return item


def delete_mine(engine: Engine, member: Member) -> int:
    """Delete every artifact member shared, in one transaction; returns how many."""
    with writing(engine) as conn:
        deleted = conn.execute(
            text("DELETE FROM artifacts WHERE author_id = :m"), {"m": member.id}
        ).rowcount
        audit(conn, member.name, "deleted_all_own", member.name, artifacts_deleted=deleted)
    return int(deleted)
