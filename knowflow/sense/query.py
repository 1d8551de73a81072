"""The search query language, parsed into terms grouped by AND and OR.

words             every word must appear (stemmed: "notes" finds "note")
"a phrase"        the words in this order
word*             a prefix
-word, -tag:x     exclude
a OR b            either (binds tighter than the implicit AND)
tag:x             tag x or any tag nested under it (x/y)
path:x            the vault path contains x
type:x            front-matter type (note, clipping, experiment, ...)
share:x           shared with audience x (share:private: shared with nobody)
links-to:NOTE     links to the note named by title, alias or path
has:unresolved    holds a link that resolves to nothing (also has:ambiguous,
                  has:links, has:tags, has:problems)
"""

from __future__ import annotations

import re
from typing import NamedTuple

from knowflow.errors import QueryError

FIELDS = frozenset({"tag", "path", "type", "share", "links-to", "has"})
HAS_VALUES = frozenset({"unresolved", "ambiguous", "links", "tags", "problems"})

_TOKEN = re.compile(
    r"""(?P<neg>-)?(?:
        (?P<field>[A-Za-z-]+):(?:"(?P<fquoted>[^"]*)"?|(?P<fvalue>\S*))
      | "(?P<phrase>[^"]*)"?
      | (?P<word>[^\s"]+)
    )""",
    re.VERBOSE,
)


class Term(NamedTuple):
    """One atom of a query."""

    kind: str  # 'word', 'phrase' or 'filter'
    value: str
    field: str = ""
    negated: bool = False

    @property
    def is_text(self) -> bool:
        return self.kind != "filter"


class Query(NamedTuple):
    """Groups joined by AND; the terms of a group are joined by OR."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def is_empty(self) -> bool:
        return not self.groups


def parse_query(text: str) -> Query:
    """Parse a query string; raises QueryError for a filter it cannot use."""
    groups: list[list[Term]] = []
    join_next = False
    for m in _TOKEN.finditer(text):
        if m.group("word") == "OR" and not m.group("neg"):
            join_next = bool(groups)
            continue
        term = _term(m)
        if term is None:
            continue
        if join_next and groups:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return Query(tuple(tuple(g) for g in groups))


def _term(m: re.Match[str]) -> Term | None:
    negated = bool(m.group("neg"))
    field = (m.group("field") or "").lower()
    if field in FIELDS:
        value = m.group("fquoted") if m.group("fquoted") is not None else m.group("fvalue")
        value = value.strip()
        if not value:
            raise QueryError(f"{field}: needs a value")
        if field == "has" and value.lower() not in HAS_VALUES:
            raise QueryError(
                f"has:{value} is not known; use one of {', '.join(sorted(HAS_VALUES))}"
            )
        return Term("filter", value, field, negated)
    if m.group("phrase") is not None:
        phrase = m.group("phrase").strip()
        return Term("phrase", phrase, negated=negated) if phrase else None
    word = m.group(0)[1:] if negated else m.group(0)
    word = word.strip()
    if not _has_word_chars(word):
        return None
    return Term("word", word, negated=negated)


def _has_word_chars(word: str) -> bool:
    return any(ch.isalnum() for ch in word)
