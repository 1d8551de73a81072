"""Meaning: related notes and search by the notes' embeddings (knowflow.index.vectors).

Optional: with the semantic extra and its model installed, ``meaning`` is one more
signal of related notes, and search can rank by meaning (``semantic``) or fuse
that with BM25 (``hybrid``). Without them, words and links do the work alone.
"""

from __future__ import annotations

from knowflow.errors import KnowflowError, NotInstalled
from knowflow.index import vectors
from knowflow.index.index import Index, NoteRef
from knowflow.sense.query import Query, Term, parse_query
from knowflow.sense.search import Hit, _compile, search

CANDIDATES = 50  # as many as the other signals of related notes give
# Below this cosine two notes are not close in meaning (all-MiniLM-L6-v2 gives
# unrelated texts about 0 to 0.25): the signal names only notes above it, as
# words names only notes sharing a key term, not every note in the vault.
MIN_SIMILARITY = 0.3
# A query of a few words sits further from a whole note than two notes do from each
# other: on foam-docs "publish website" finds the publishing notes at 0.39 to 0.52
# and "writing on my phone when away from the computer" its note at 0.30, while
# "bicycle tyre repair" finds nothing above 0.17. Below this, nothing is shown.
MIN_QUERY_SIMILARITY = 0.2
SNIPPET = 160  # characters of a note's text shown with a hit found by meaning
RRF_K = 60


class SemanticUnavailable(NotInstalled):
    """Search by meaning was asked for without the model installed."""


def on() -> bool:
    """Whether meaning can be used: the extra and the packaged model are installed."""
    return vectors.available()


def meaning(index: Index, note: NoteRef) -> list[tuple[str, str]]:
    """Notes closest to this one in meaning (cosine of their embeddings), best first.

    Uses the vectors stored by the last update; a vault never embedded gives nothing
    (loading the model for a note with nothing to compare it with would be waste)."""
    if not vectors.matrix(index).row:
        return []
    found = vectors.nearest(index, vectors.vector_of(index, note), CANDIDATES, exclude=note.id)
    close = [(i, score) for i, score in found if score >= MIN_SIMILARITY]
    return [(path, f"close (cosine {score:.2f})") for path, score in _paths(index, close)]


def _paths(index: Index, found: list[tuple[int, float]]) -> list[tuple[str, float]]:
    if not found:
        return []
    marks = ",".join("?" * len(found))
    rows = index.conn.execute(
        f"SELECT id, path FROM files WHERE id IN ({marks})", [i for i, _ in found]
    )
    paths = dict(rows.fetchall())
    return [(paths[i], score) for i, score in found if i in paths]


def refresh(index: Index, at_most: int) -> int:
    """Embed the notes new or changed since the last update when they are few (a page
    must not wait on a whole vault); return how many are left unembedded."""
    left = len(vectors.stale(index))
    if 0 < left <= at_most:
        vectors.update(index)
        left = 0
    return left


def require() -> None:
    if not on():
        raise SemanticUnavailable(
            f"search by meaning needs the semantic model: {vectors.INSTALL_HINT}"
        )


def semantic(index: Index, query: str | Query, limit: int = 20) -> list[Hit]:
    """The notes nearest the query's words in meaning; its filters (tag:, path:,
    -word, ...) narrow the notes as they do for search."""
    require()
    parsed = parse_query(query) if isinstance(query, str) else query
    words = [t.value for g in parsed.groups if _positive(g) for t in g]
    if not words:
        raise KnowflowError("search by meaning needs some words, not only filters")
    rest = Query(tuple(g for g in parsed.groups if not _positive(g)))
    allowed = _allowed(index, rest) if rest.groups else None
    vector = vectors.embed_query(" ".join(words))
    found = vectors.nearest(index, vector, limit, allowed=allowed)
    return _hits(index, [(i, score) for i, score in found if score >= MIN_QUERY_SIMILARITY])


def _positive(group: tuple[Term, ...]) -> bool:
    return all(t.is_text and not t.negated for t in group)


def _allowed(index: Index, rest: Query) -> set[int]:
    q = _compile(index, rest)
    sql = f"SELECT f.id FROM files f WHERE f.is_note = 1{q.conditions}"
    return {r[0] for r in index.conn.execute(sql, q.args)}


def _hits(index: Index, found: list[tuple[int, float]]) -> list[Hit]:
    if not found:
        return []
    marks = ",".join("?" * len(found))
    rows = index.conn.execute(
        f"SELECT f.id, f.path, f.title, f.type, substr(coalesce(n.body, ''), 1, {SNIPPET * 2})"
        f" FROM files f LEFT JOIN notes_fts n ON n.rowid = f.id WHERE f.id IN ({marks})",
        [i for i, _ in found],
    )
    by_id = {r[0]: r[1:] for r in rows}
    hits = []
    for i, score in found:
        if i in by_id:
            path, title, kind, body = by_id[i]
            hits.append(Hit(path, title, kind, round(score, 4), _excerpt(body)))
    return hits


def _excerpt(body: str) -> str:
    text = " ".join(body.split())
    return text if len(text) <= SNIPPET else text[:SNIPPET].rsplit(" ", 1)[0] + "…"


def hybrid(index: Index, query: str, limit: int = 20) -> list[Hit]:
    """BM25 and meaning fused by reciprocal rank: a note both find comes first, and
    one that shares the query's meaning but not its words still shows."""
    require()
    window = max(limit, CANDIDATES)
    lexical = search(index, query, limit=window)
    semantic_hits = semantic(index, query, limit=window)
    score: dict[str, float] = {}
    best: dict[str, Hit] = {}
    for ranked in (lexical, semantic_hits):
        for rank, hit in enumerate(ranked, 1):
            score[hit.path] = score.get(hit.path, 0.0) + 1.0 / (RRF_K + rank)
            best.setdefault(hit.path, hit)  # BM25's hit first: its snippet marks the words
    order = sorted(score, key=lambda p: (-score[p], p))[:limit]
    return [best[p]._replace(score=round(score[p], 6)) for p in order]
