"""Related notes: ranked lists fused by reciprocal rank fusion (``RRF_K``), one list
per signal (``SIGNALS``: lexical similarity through the index's FTS5 and the link
graph: shared links and co-citation), and meaning (the notes' embeddings,
``knowflow.sense.meaning``) when the semantic model is installed. Unlinked mentions
and the links they suggest are in ``knowflow.sense.mentions``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from knowflow.index.index import Index, NoteRef

RRF_K = 60
# Meaning counts twice: a trained model's nearest notes are its most precise signal,
# and with equal weights a note sharing the key words (first by words, second by
# meaning) outranks the note that says the same in other words (first by meaning,
# lower by words) almost always. Measured on tests/meaning_set.py: the partner
# first 4/30 at weight 1, 18/30 at 2; bench/embed.py prints both.
WEIGHTS = {"meaning": 2.0}
KEY_TERMS = 10
CANDIDATES = 50
COMMON_FLOOR = 100  # see informative()
_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP_WORDS = (
    "the and for are but not you all any can had her was one our out has him his how its may"
    " new now old see two way who did get let put say she too use that with have this will"
    " your from they know want been good much some time very when come here just like long"
    " make many more only over such take than them well were what into also which their"
    " there these those would could should about after other where while because"
)
_STOP = frozenset(_STOP_WORDS.split())
_ENDING = re.compile(r"(?:ing|ed|(?<=[sxz])es|(?<=[cs]h)es|(?<!s)s)$")
_WEB_ADDRESS = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE)

# A ranked list: (path, reason) best first.
Ranked = list[tuple[str, str]]
Signal = Callable[[Index, NoteRef], Ranked]


@dataclass
class Related:
    path: str
    title: str
    score: float
    why: dict[str, list[str]] = field(default_factory=dict)  # signal -> reasons

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "title": self.title, "score": self.score, "why": self.why}


def key_terms(index: Index, note: NoteRef) -> list[str]:
    """The note's title words, then its most frequent other words."""
    row = index.conn.execute(
        "SELECT title, body FROM notes_fts WHERE rowid = ?", (note.id,)
    ).fetchone()
    title, body = (row[0] or "", row[1] or "") if row else (note.title, "")
    body = _WEB_ADDRESS.sub(" ", body)  # "https", "github", "com" say nothing of a note
    words = [w.lower() for w in _WORD.findall(title) if w.lower() not in _STOP]
    counts = Counter(w.lower() for w in _WORD.findall(body) if w.lower() not in _STOP)
    terms = list(dict.fromkeys(words))
    for word, _ in counts.most_common(KEY_TERMS * 2):
        if len(terms) >= KEY_TERMS + len(words):
            break
        if word not in terms:
            terms.append(word)
    return terms


def lexical(index: Index, note: NoteRef) -> Ranked:
    """Notes sharing the note's key terms, by BM25 (title weighs most); the words
    shared are found by ``related`` for the notes it returns only."""
    terms = informative(index, key_terms(index, note))
    if not terms:
        return []
    query = " OR ".join(f'"{t}"' for t in terms)
    rows = index.conn.execute(
        "SELECT f.path FROM notes_fts n JOIN files f ON f.id = n.rowid"
        " WHERE notes_fts MATCH ? AND f.id != ? AND f.is_note = 1"
        " ORDER BY bm25(notes_fts, 10.0, 6.0, 3.0, 1.0), f.path LIMIT ?",
        (query, note.id, CANDIDATES),
    ).fetchall()
    return [(path, "") for (path,) in rows]


def informative(index: Index, terms: list[str]) -> list[str]:
    """The terms found in at most half the notes (or in fewer than COMMON_FLOOR).

    FTS5's BM25 weighs a term in more than half the notes at nothing (its idf is
    floored at 1e-6), yet scoring it costs a pass over most of the vault: on 10,000
    generated notes, where most key terms are in most notes, that was nearly all
    of related()'s time. Below COMMON_FLOOR notes such a term still tells the few
    notes that hold it from those that do not, so small vaults keep it."""
    ceiling = max(index.count() / 2, COMMON_FLOOR)
    return [t for t, holding in notes_holding(index, terms).items() if holding <= ceiling]


def notes_holding(index: Index, terms: list[str]) -> dict[str, int]:
    """How many notes hold each term (as FTS5 matches it: stemmed)."""
    return {term: index.matching('"' + term.replace('"', '""') + '"') for term in terms}


def shared_words(index: Index, terms: list[str], path: str) -> list[str]:
    """Which of the key terms the note at path holds (as words, plural or not)."""
    row = index.conn.execute(
        "SELECT lower(n.title || ' ' || n.body) FROM notes_fts n JOIN files f"
        " ON f.id = n.rowid WHERE f.path = ?",
        (path,),
    ).fetchone()
    text = row[0] if row else ""
    return [t for t in terms if re.search(rf"\b{re.escape(_stem(t))}(?:s|es|ed|ing)?\b", text)]


def _stem(word: str) -> str:
    """The word without a plural or verb ending, as FTS5's porter stemmer matched it
    ("notes" shares "note"); short words are kept whole."""
    if len(word) <= 4:
        return word
    m = _ENDING.search(word)
    return word[: m.start()] if m else word


def graph(index: Index, note: NoteRef) -> Ranked:
    """Notes linking to the same notes (shared links) or linked together with this
    one from a third note (co-citation), most shared first. Each shared note counts
    as Adamic and Adar weigh a common neighbour, 1 / log(its links): a hub page that
    links to or is linked from everything says little about any two notes."""
    conn = index.conn
    score: dict[str, float] = {}
    reasons: dict[str, list[tuple[float, str]]] = {}

    def add(path: str, weight: float, reason: str) -> None:
        score[path] = score.get(path, 0.0) + weight
        reasons.setdefault(path, []).append((weight, reason))

    shared = conn.execute(
        "SELECT DISTINCT f.path, l.resolved_path,"
        " (SELECT count(*) FROM links n WHERE n.resolved_path = l.resolved_path)"
        " FROM links l JOIN files f ON f.id = l.file_id"
        " WHERE l.resolved_path IN (SELECT resolved_path FROM links WHERE file_id = ?"
        " AND resolved_path IS NOT NULL) AND l.file_id != ? AND f.is_note = 1"
        " AND l.resolved_path != ? AND l.resolved_path != f.path",
        (note.id, note.id, note.path),
    ).fetchall()
    for path, target, linked_from in shared:
        add(path, _adamic_adar(linked_from), f"both link to {target}")
    cocited = conn.execute(
        "SELECT DISTINCT l.resolved_path, s.path,"
        " (SELECT count(*) FROM links n WHERE n.file_id = s.id AND n.resolved_path IS NOT NULL)"
        " FROM links me JOIN files s ON s.id = me.file_id"
        " JOIN links l ON l.file_id = me.file_id JOIN files t ON t.path = l.resolved_path"
        " WHERE me.resolved_path = ? AND l.resolved_path != ? AND t.is_note = 1"
        " AND me.file_id != ? AND l.resolved_path != s.path",
        (note.path, note.path, note.id),
    ).fetchall()
    for path, source, links_out in cocited:
        add(path, _adamic_adar(links_out), f"co-cited by {source}")
    ranked = sorted(score, key=lambda p: (-score[p], p))
    strongest = {p: sorted(reasons[p], key=lambda x: -x[0])[:5] for p in ranked}
    return [(p, "; ".join(r for _, r in strongest[p])) for p in ranked]


def _adamic_adar(links: int) -> float:
    return 1.0 / math.log(max(links, 2) + 1)


SIGNALS: dict[str, Signal] = {"words": lexical, "links": graph}


def active_signals() -> dict[str, Signal]:
    """SIGNALS, with meaning (knowflow.sense.meaning) when its model is installed."""
    from knowflow.sense import meaning

    return {**SIGNALS, "meaning": meaning.meaning} if meaning.on() else SIGNALS


def fuse(
    lists: dict[str, Ranked], k: int = RRF_K, weights: dict[str, float] | None = None
) -> list[tuple[str, float, dict[str, str]]]:
    """Reciprocal rank fusion: each list adds weight / (k + rank) to a note's score
    (``WEIGHTS``; 1 for a signal not named there)."""
    weights = WEIGHTS if weights is None else weights
    score: dict[str, float] = {}
    why: dict[str, dict[str, str]] = {}
    for name, ranked in lists.items():
        weight = weights.get(name, 1.0)
        for rank, (path, reason) in enumerate(ranked, 1):
            score[path] = score.get(path, 0.0) + weight / (k + rank)
            why.setdefault(path, {})[name] = reason
    order = sorted(score, key=lambda p: (-score[p], p))
    return [(p, score[p], why[p]) for p in order]


def related(
    index: Index, note: NoteRef, limit: int = 10, signals: dict[str, Signal] | None = None
) -> list[Related]:
    """The notes most related to this one, each with why."""
    chosen = active_signals() if signals is None else signals
    lists = {name: signal(index, note) for name, signal in chosen.items()}
    terms = key_terms(index, note) if "words" in lists else []
    # The rarest shared words say most about why two notes go together: shown first.
    rarity = notes_holding(index, terms)
    terms.sort(key=lambda t: rarity[t])
    out = []
    for path, score, why in fuse(lists)[:limit]:
        row = index.conn.execute("SELECT title FROM files WHERE path = ?", (path,)).fetchone()
        reasons = {name: r.split("; ") for name, r in why.items() if r}
        if "words" in why:  # found for the notes shown only: it reads each one's text
            reasons.pop("words", None)
            if words := shared_words(index, terms, path)[:5]:
                reasons["words"] = words
        out.append(Related(path, row[0] if row else path, round(score, 6), reasons))
    return out
