"""Connections: related notes, unlinked mentions and the links they suggest.

Related notes fuse ranked lists by reciprocal rank fusion (``RRF_K``): one list
per signal (``SIGNALS``: lexical similarity through the index's FTS5 and the
link graph: shared links and co-citation), and meaning (the notes' embeddings,
``knowflow.sense.meaning``) when the semantic model is installed. Nothing is written
until a suggestion is accepted, and accepting changes only that span of that line.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from knowflow.errors import ConflictError, KnowflowError
from knowflow.index.index import Index, NoteRef
from knowflow.sense.rename import link_name
from knowflow.vault.files import FileStamp, atomic_write, read_bytes
from knowflow.vault.markdown import TAG_PATTERN, link_spans
from knowflow.vault.masking import mask_code_and_comments

RRF_K = 60
# Meaning counts twice: a trained model's nearest notes are its most precise signal,
# and with equal weights a note sharing the key words (first by words, second by
# meaning) outranks the note that says the same in other words (first by meaning,
# lower by words) almost always. Measured on tests/meaning_set.py: the partner
# first 4/30 at weight 1, 18/30 at 2; bench/embed.py prints both.
WEIGHTS = {"meaning": 2.0}
KEY_TERMS = 10
CANDIDATES = 50
MIN_NAME = 3  # shorter titles and aliases are not looked for as mentions
COMMON_SHARE = 0.05  # a one-word name in more notes than this is mostly the plain word
COMMON_MIN = 5
_WORD = re.compile(r"[^\W\d_]{3,}")
_STOP_WORDS = (
    "the and for are but not you all any can had her was one our out has him his how its may"
    " new now old see two way who did get let put say she too use that with have this will"
    " your from they know want been good much some time very when come here just like long"
    " make many more only over such take than them well were what into also which their"
    " there these those would could should about after other where while because"
)
_STOP = frozenset(_STOP_WORDS.split())
_FRONT = re.compile(r"\A---\r?\n.*?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
# Where a mention must not become a link: Markdown links and images to anywhere
# (local ones are in link_spans already), reference links and their definitions,
# footnote marks, autolinks, bare web addresses, HTML tags and heading lines.
_NO_LINK_HERE = re.compile(
    r"!?\[[^\]\n]*\]\([^)\n]*\)"
    r"|!?\[[^\]\n]*\]\[[^\]\n]*\]"
    r"|^ {0,3}\[[^\]\n]+\]:.*$"
    r"|\[\^[^\]\n]+\]"
    r"|<[a-z][a-z0-9+.-]{1,31}:[^<>\s]*>"
    r"|\b(?:https?|ftp|mailto|file):[^\s<>\[\]]*"
    r"|\bwww\.[^\s<>\[\]]+"
    r"|</?[a-z][^<>\n]*>"
    r"|^ {0,3}#{1,6}(?:[ \t].*)?$",
    re.IGNORECASE | re.MULTILINE,
)
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_ENDING = re.compile(r"(?:ing|ed|(?<=[sxz])es|(?<=[cs]h)es|(?<!s)s)$")
_STOP_MARK = re.compile(r"[.!?](?=\s|$)")
_ABBREVIATIONS = frozenset(["vs", "e.g", "i.e", "cf", "fig", "no", "mr", "mrs", "dr", "st"])
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
    terms = key_terms(index, note)
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
    one from a third note (co-citation), most shared first."""
    conn = index.conn
    score: Counter[str] = Counter()
    reasons: dict[str, list[str]] = {}
    shared = conn.execute(
        "SELECT DISTINCT f.path, l.resolved_path FROM links l JOIN files f ON f.id = l.file_id"
        " WHERE l.resolved_path IN (SELECT resolved_path FROM links WHERE file_id = ?"
        " AND resolved_path IS NOT NULL) AND l.file_id != ? AND f.is_note = 1"
        " AND l.resolved_path != ? AND l.resolved_path != f.path",
        (note.id, note.id, note.path),
    ).fetchall()
    for path, target in shared:
        score[path] += 1
        reasons.setdefault(path, []).append(f"both link to {target}")
    cocited = conn.execute(
        "SELECT DISTINCT l.resolved_path, s.path FROM links me JOIN files s ON s.id = me.file_id"
        " JOIN links l ON l.file_id = me.file_id JOIN files t ON t.path = l.resolved_path"
        " WHERE me.resolved_path = ? AND l.resolved_path != ? AND t.is_note = 1"
        " AND me.file_id != ? AND l.resolved_path != s.path",
        (note.path, note.path, note.id),
    ).fetchall()
    for path, source in cocited:
        score[path] += 1
        reasons.setdefault(path, []).append(f"co-cited by {source}")
    ranked = sorted(score, key=lambda p: (-score[p], p))
    return [(p, "; ".join(reasons[p][:5])) for p in ranked]


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


@dataclass(frozen=True)
class Mention:
    """A note's title or alias written without a link: in ``path`` at ``line``."""

    path: str  # the file holding the mention
    line: int
    text: str  # as written
    target: str  # the mentioned note's path
    title: str  # the mentioned note's title
    sentence: str
    column: int = 0  # where on its line the mention starts, in characters from 0

    @property
    def id(self) -> str:
        raw = f"{self.path}\0{self.line}\0{self.column}\0{self.text}\0{self.target}"
        return hashlib.sha1(raw.encode()).hexdigest()[:10]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "text": self.text,
            "target": self.target,
            "title": self.title,
            "sentence": self.sentence,
        }


Names = dict[str, tuple[str, str]]  # lowercased name -> (path, title)


def _names(index: Index, where: str = "", args: tuple[object, ...] = ()) -> Names:
    names: Names = {}
    rows = index.conn.execute(
        "SELECT f.title, f.path, f.title FROM files f WHERE f.is_note = 1"
        + where
        + " UNION ALL SELECT a.alias, f.path, f.title FROM aliases a JOIN files f"
        " ON f.id = a.file_id WHERE f.is_note = 1" + where,
        args + args,
    )
    for name, path, title in rows:
        key = name.strip().lower()
        if len(key) >= MIN_NAME and len(key) == len(name.strip()):
            names.setdefault(key, (path, title))
    return names


def _read(index: Index, path: str) -> str:
    return read_bytes(index.vault.root / path).decode("utf-8", errors="replace")


def _searchable(text: str) -> str:
    """The text lowercased, with every place a link must not go blanked: front
    matter, code, comments, links of any kind, web addresses, tags, HTML and
    headings (a link there would change the heading's anchor)."""
    masked = mask_code_and_comments(text)
    chars = list(masked.lower())
    front = _FRONT.match(text)
    spans = [(0, front.end())] if front else []
    spans += [(s, e) for s, e, _ in link_spans(text)]
    spans += [m.span() for m in _NO_LINK_HERE.finditer(masked)]
    spans += [m.span() for m in TAG_PATTERN.finditer(masked) if _after_space(masked, m.start())]
    for s, e in spans:
        for i in range(s, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars) if len(chars) == len(text) else " " * len(text)


def _after_space(text: str, at: int) -> bool:
    return at == 0 or text[at - 1].isspace() or text[at - 1] in "([{"


def _table_lines(text: str) -> set[int]:
    """The lines (1-based) of Markdown tables, where a link's ``|`` must be escaped."""
    lines = text.split("\n")
    out: set[int] = set()
    for i, line in enumerate(lines):
        if i and "|" in lines[i - 1] and _TABLE_RULE.match(line):
            j = i - 1
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                out.add(j + 1)
                j += 1
    return out


def find_mentions(path: str, text: str, names: Names, skip: set[str]) -> list[Mention]:
    """Each name in ``names`` (not leading to a path in ``skip``) written in text
    where a link may go (see ``_searchable``), on word boundaries."""
    hay = _searchable(text)
    by_first: dict[str, list[str]] = {}
    for key in names:
        first = re.match(r"\w+", key)
        if first:
            by_first.setdefault(first.group(), []).append(key)
    for keys in by_first.values():
        keys.sort(key=len, reverse=True)
    found: list[Mention] = []
    taken = -1
    line, counted = 1, 0  # lines counted up to ``counted``: a huge note is read once
    for m in re.finditer(r"\w+", hay):
        if m.start() < taken:
            continue
        for key in by_first.get(m.group(), ()):
            end = m.start() + len(key)
            if not hay.startswith(key, m.start()) or (end < len(hay) and _is_word(hay[end])):
                continue
            if m.start() > 0 and _is_word(hay[m.start() - 1]):
                continue
            target, title = names[key]
            if target in skip:
                break
            line_start = text.rfind("\n", 0, m.start()) + 1
            line, counted = line + text.count("\n", counted, m.start()), m.start()
            found.append(
                Mention(
                    path,
                    line,
                    text[m.start() : end],
                    target,
                    title,
                    _sentence(text, m.start(), end),
                    m.start() - line_start,
                )
            )
            taken = end
            break
    return found


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence holding text[start:end], within its line; a stop after a known
    abbreviation ("vs.", "e.g.") or before a lowercase word ends no sentence."""
    lo = text.rfind("\n", 0, start) + 1
    hi = text.find("\n", end)
    hi = len(text) if hi < 0 else hi
    for m in _STOP_MARK.finditer(text, lo, start):
        if not _abbreviation(text, m.start()):
            lo = max(lo, m.end())
    for m in _STOP_MARK.finditer(text, end, hi):
        if not _abbreviation(text, m.start()):
            hi = m.start() + 1
            break
    return text[lo:hi].strip()


def _abbreviation(text: str, stop: int) -> bool:
    word = re.search(r"[\w.]+$", text[max(0, stop - 8) : stop])
    after = text[stop + 1 : stop + 3].strip()
    return bool(
        text[stop] == "."
        and ((word and word.group().lower() in _ABBREVIATIONS) or (after and after[0].islower()))
    )


def _linked_from(index: Index, note: NoteRef) -> set[str]:
    rows = index.conn.execute(
        "SELECT resolved_path FROM links WHERE file_id = ? AND resolved_path IS NOT NULL",
        (note.id,),
    )
    return {r[0] for r in rows} | {note.path}


def mentions(
    index: Index, note: NoteRef, *, common: bool = False
) -> tuple[list[Mention], list[Mention]]:
    """Other notes' names in this note unlinked, and this note's names in others.
    Single-word names common across the vault ("note", "list") are left out
    unless ``common``: as mentions they are mostly the plain word."""
    names = _names(index)
    out = find_mentions(note.path, _read(index, note.path), names, _linked_from(index, note))
    own = _names(index, " AND f.id = ?", (note.id,))
    if not common:
        plain = common_names(index, {m.text for m in out})  # once: a note may hold thousands
        out = [m for m in out if m.text.lower() not in plain]
        own = {k: v for k, v in own.items() if k not in common_names(index, set(own))}
    inbound: list[Mention] = []
    if own:
        query = " OR ".join('"' + k.replace('"', '""') + '"' for k in own)
        rows = index.conn.execute(
            "SELECT f.id, f.path, f.title, f.type FROM notes_fts n JOIN files f ON f.id = n.rowid"
            " WHERE notes_fts MATCH ? AND f.id != ? AND f.is_note = 1 ORDER BY f.path",
            (query, note.id),
        ).fetchall()
        for row in rows:
            other = NoteRef(*row)
            if note.path in _linked_from(index, other):
                continue
            inbound += find_mentions(other.path, _read(index, other.path), own, set())
    return out, inbound


def common_names(index: Index, names: set[str]) -> set[str]:
    """Which of these names (lowercased) are single words found in more than
    COMMON_SHARE of the vault's notes (and in at least COMMON_MIN of them)."""
    words = {n.lower() for n in names if re.fullmatch(r"\w+", n)}
    if not words:
        return set()
    (total,) = index.conn.execute("SELECT count(*) FROM files WHERE is_note = 1").fetchone()
    floor = max(COMMON_MIN, total * COMMON_SHARE)
    common = set()
    for word in words:
        (count,) = index.conn.execute(
            "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH ?", ('"' + word + '"',)
        ).fetchone()
        if count > floor:
            common.add(word)
    return common


def suggestions(index: Index, note: NoteRef, *, common: bool = False) -> list[Mention]:
    out, inbound = mentions(index, note, common=common)
    return out + inbound


def plan_accept(
    index: Index,
    path: str,
    line: int,
    text: str,
    target: str | None = None,
    column: int | None = None,
) -> tuple[FileStamp, str, str]:
    """The file's stamp, its new text and the link written, with one unlinked ``text``
    on ``line`` turned into a wikilink: the one at ``column`` when given, else the
    first written exactly so, else the first in any case. ``target`` names the note
    to link to (default: the note so named); it must name exactly one."""
    file = index.vault.root / path
    stamp = FileStamp.of(file)
    original = read_bytes(file).decode("utf-8")
    starts = [0] + [m.end() for m in re.finditer("\n", original)]
    if not 1 <= line <= len(starts):
        raise KnowflowError(f"{path} has no line {line}")
    lo = starts[line - 1]
    hi = starts[line] - 1 if line < len(starts) else len(original)
    span = _mention_at(_searchable(original), original, text, lo, hi, column)
    if span is None:
        where = f"{path}:{line}" + (f":{column + 1}" if column is not None else "")
        raise KnowflowError(f"{where} has no unlinked {text!r}")
    written = original[span[0] : span[1]]
    link = _link_to(index, _target_path(index, target or text), path, written)
    if line in _table_lines(original):
        link = link.replace("|", "\\|")  # a bare | would split the table's cell
    return stamp, original[: span[0]] + link + original[span[1] :], link


def _mention_at(
    hay: str, original: str, text: str, lo: int, hi: int, column: int | None
) -> tuple[int, int] | None:
    pattern = re.compile(rf"(?<!\w){re.escape(text.lower())}(?!\w)")
    found = [m.span() for m in pattern.finditer(hay, lo, hi)]
    if column is not None:
        found = [f for f in found if f[0] == lo + column]
    exact = [f for f in found if original[f[0] : f[1]] == text]
    chosen = exact or found
    return chosen[0] if chosen else None


def _target_path(index: Index, name: str) -> str:
    """The path of the one note ``name`` names (a title, alias, file name or path);
    an ambiguous or unknown name is refused as everywhere else."""
    return index.note(name).path


def _link_to(index: Index, target: str, source: str, written: str) -> str:
    name = link_name(index, target, source)
    return f"[[{written}]]" if name == written else f"[[{name}|{written}]]"


def accept(
    index: Index,
    path: str,
    line: int,
    text: str,
    target: str | None = None,
    column: int | None = None,
) -> str:
    """Write the link (refused if the file changed since it was read), then rescan."""
    stamp, new_text, link = plan_accept(index, path, line, text, target, column)
    write_planned(index, path, stamp, new_text)
    return link


def write_planned(index: Index, path: str, stamp: FileStamp, new_text: str) -> None:
    try:
        atomic_write(index.vault.root / path, new_text, stamp)
    except ConflictError:
        raise ConflictError(f"{path} changed since it was read: nothing written") from None
    index.scan()
