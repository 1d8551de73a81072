"""Search: the query language of ``knowflow search``, results as you type, filters by
tag, type and audience, and the notes holding most of the words when none holds all.
With the semantic model installed, results may be ranked by words, by meaning or by
both (``by=``), as ``knowflow search --semantic`` and ``--hybrid`` rank them.

One address, ``/search?q=...``, answers both the whole page (a plain GET form: it
works without JavaScript) and, for htmx's requests as the person types, only the
results, so the address in the location bar is always the search being shown.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError, QueryError
from knowflow.index import Index
from knowflow.sense import meaning
from knowflow.sense.graph import tag_tree
from knowflow.sense.query import parse_query
from knowflow.sense.search import Hit, closest, note_types, search
from knowflow.share.audiences import PRIVATE, audiences
from knowflow.web.app import open_index, vault_of
from knowflow.web.templating import page

PAGE_SIZE = 20
FILTERS = (("tag", "tag"), ("type", "type"), ("audience", "share"))  # form field, query field
MODES = {"words": "Words", "meaning": "Meaning", "both": "Both"}  # by= value -> label
EMBED_AT_MOST = 200  # notes a search embeds before answering; more waits for `knowflow index`


class Result(NamedTuple):
    """A hit as the page shows it: the snippet cut into text and matched words."""

    hit: Hit
    parts: list[tuple[str, bool]]  # (text, is a match), escaped by the template


class Found(NamedTuple):
    results: list[Result]
    partial: bool  # no note holds every word: these hold most of them
    more: bool  # another page follows
    error: str
    unembedded: int = 0  # notes a search by meaning could not see yet


def composed(query: str, chosen: dict[str, str]) -> str:
    """The query with the chosen filters added as the query language writes them."""
    terms = [query.strip()]
    for form_field, field in FILTERS:
        value = chosen.get(form_field, "").strip()
        if value:
            spaced = any(c.isspace() for c in value)
            terms.append(f'{field}:"{value}"' if spaced else f"{field}:{value}")
    return " ".join(t for t in terms if t)


def find(index: Index, query: str, page_no: int, by: str = "words") -> Found:
    """One page of results; on the first page, the closest notes when none matches."""
    if not query:
        return Found([], False, False, "")
    if by != "words" and meaning.on() and _has_words(query):
        return _by_meaning(index, query, page_no, by)
    try:
        hits = search(index, query, limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
        partial = False
        if not hits and page_no == 1:
            hits = closest(index, query, limit=PAGE_SIZE)
            partial = bool(hits)
    except QueryError as exc:
        return Found([], False, False, str(exc))
    more = len(hits) > PAGE_SIZE and not partial
    return Found([Result(h, snippet_parts(h)) for h in hits[:PAGE_SIZE]], partial, more, "")


def _has_words(query: str) -> bool:
    try:
        parsed = parse_query(query)
    except QueryError:
        return True  # said by the search itself
    return any(t.is_text and not t.negated for g in parsed.groups for t in g)


def _by_meaning(index: Index, query: str, page_no: int, by: str) -> Found:
    """A page of notes ranked by meaning, or by meaning and words fused."""
    left = meaning.refresh(index, EMBED_AT_MOST)
    rank = meaning.semantic if by == "meaning" else meaning.hybrid
    try:
        hits = rank(index, query, page_no * PAGE_SIZE + 1)
    except QueryError as exc:
        return Found([], False, False, str(exc))
    page_hits = hits[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
    more = len(hits) > page_no * PAGE_SIZE
    return Found([Result(h, snippet_parts(h)) for h in page_hits], False, more, "", left)


def snippet_parts(hit: Hit) -> list[tuple[str, bool]]:
    """The snippet as pieces of plain text, each saying whether it is a match (the
    template escapes the text and wraps matches in <mark>)."""
    if hit.snippet is None:
        return []
    text, spans = hit.matches()
    parts, pos = [], 0
    for start, end in spans:
        if start > pos:
            parts.append((text[pos:start], False))
        parts.append((text[start:end], True))
        pos = end
    if pos < len(text):
        parts.append((text[pos:], False))
    return parts


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or 1), 10_000))
    except ValueError:
        return 1


def search_page(request: Request) -> Response:
    params = request.query_params
    query = params.get("q", "")
    chosen = {name: params.get(name, "") for name, _ in FILTERS}
    by = params.get("by", "words") if meaning.on() else "words"
    by = by if by in MODES else "words"
    page_no = _page_number(params.get("page"))
    full = composed(query, chosen)
    wants_results = "hx-request" in request.headers and (
        "hx-history-restore-request" not in request.headers
    )
    with open_index(request) as index:
        found = find(index, full, page_no, by)
        typed = _as_prefix(full) if query == query.rstrip() and by == "words" else None
        if typed and (found.partial or not found.results) and not found.error:
            # A word being typed ("knowl") finds what it begins, as Obsidian's search
            # does, when the words as they stand find nothing.
            as_prefix = find(index, typed, page_no)
            if as_prefix.results and not as_prefix.partial:
                found, full = as_prefix, typed
        context: dict[str, Any] = {
            "query": query,
            "chosen": chosen,
            "by": by,
            "modes": MODES if meaning.on() else {},
            "full": full,
            "found": found,
            "page_no": page_no,
            "first": (page_no - 1) * PAGE_SIZE + 1,
            "pager": _pager(query, {**chosen, "by": _by_field(by)}, page_no, found.more),
        }
        if wants_results:
            response = page(request, "search_results.html", **context)
        else:
            choices = _choices(index, request)
            response = page(
                request, "search.html", section="search", title=_title(full), **context, **choices
            )
    # The same address answers a page or its results: caches must tell them apart.
    response.headers["Vary"] = "HX-Request"
    return response


_LAST_WORD = re.compile(r"(?:^|(?<=\s))(\w{2,})$")


def _as_prefix(query: str) -> str | None:
    """The query with its last word as a prefix (``knowl*``), when it ends in a plain
    word: no operator, field, quote or star, and no space after it."""
    if query.count('"') % 2 or not _LAST_WORD.search(query):
        return None
    return query + "*"


def _by_field(by: str) -> str:
    """by= in the pager's addresses: left out for words, the default."""
    return "" if by == "words" else by


def _title(full: str) -> str:
    return f"Search: {full}" if full else "Search"


def _pager(query: str, chosen: dict[str, str], page_no: int, more: bool) -> dict[str, str]:
    """Addresses of the previous and next pages, keeping the query and filters."""
    from urllib.parse import urlencode

    def address(n: int) -> str:
        fields = {"q": query, **{k: v for k, v in chosen.items() if v}}
        if n > 1:
            fields["page"] = str(n)
        return "/search?" + urlencode(fields)

    links = {}
    if page_no > 1:
        links["previous"] = address(page_no - 1)
    if more:
        links["next"] = address(page_no + 1)
    return links


def _choices(index: Index, request: Request) -> dict[str, Any]:
    """What the filter selects offer: the vault's tags (as a tree), the types its
    notes carry, and the audiences config.toml defines."""
    try:
        names = sorted(audiences(vault_of(request)))
    except KnowflowError:  # a config.toml that cannot be read: `check` says why
        names = ["public"]
    return {
        "tags": tag_tree(index).walk(),
        "types": note_types(index),
        "audiences": [PRIVATE, *names],
    }


routes: list[BaseRoute] = [Route("/search", search_page, name="search")]
