"""The Read page: the stream as a reader. Sources grouped by network kind with their
unread counts, the entry list (unread by default) with its filters, a reading pane
with the entry's cleaned text or its page's full text, and triage: keep (the
clipping note is written at once), keep with a note, dismiss, toggle read, mark
everything above as read, mark all read.

Every change is a form that POSTs and redirects, so the page works without script;
read.js adds the keyboard and swaps the pane in place. A request made by read.js
says so in the ``X-Knowflow-Read`` header and gets the pane (or, for bulk marking,
JSON) instead of a redirect. The work is the Python API's: ``knowflow.seek.stream``,
``knowflow.seek.reading`` and ``knowflow.seek.keep``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError
from knowflow.seek.keep import keep_entry
from knowflow.seek.reading import (
    Reading,
    entry_html,
    full_text,
    markdown_html,
    open_entry,
    web_page,
)
from knowflow.seek.sources import KINDS, Sources
from knowflow.seek.state import now, open_state
from knowflow.seek.stream import STATES, SourceCount, Stream, StreamEntry, StreamFilter
from knowflow.web.app import open_index, vault_of
from knowflow.web.templating import hold_remote_media, note_url, page

PAGE_SIZE = 50
SCRIPTED = "x-knowflow-read"  # the header read.js sends: answer with the pane, not a redirect
FILTER_KEYS = ("kind", "source", "tag", "state", "q")
STATE_CHOICES = (*STATES, "all")
STATE_WORDS = {"new": "unread", "seen": "read", "kept": "kept", "dismissed": "dismissed"}
DONE = {
    "kept": "Kept: its clipping note is written.",
    "dismissed": "Dismissed.",
    "seen": "Marked read.",
    "new": "Marked unread.",
}


@dataclass(frozen=True, slots=True)
class View:
    """What the list shows, as a request names it: its filter and its address."""

    kind: str = ""
    source: str = ""
    tag: str = ""
    state: str = "new"
    q: str = ""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> View:
        """The view a query string or a form names; anything unknown is left out."""

        def text(key: str) -> str:
            value = values.get(key)
            return value.strip()[:500] if isinstance(value, str) else ""

        kind = text("kind") if text("kind") in KINDS else ""
        state = text("state") if text("state") in STATE_CHOICES else "new"
        return cls(kind, text("source"), text("tag"), state, text("q"))

    @property
    def filter(self) -> StreamFilter:
        return StreamFilter(
            source=self.source or None,
            kind=self.kind or None,
            tag=self.tag or None,
            state=self.state,
            search=self.q or None,
        )

    @property
    def query(self) -> str:
        """The view as a query string (without its defaults), to carry across pages."""
        pairs = [(k, getattr(self, k)) for k in FILTER_KEYS]
        return urlencode([(k, v) for k, v in pairs if v and not (k == "state" and v == "new")])

    def url(self, path: str = "/", **extra: object) -> str:
        rest = "&".join(q for q in (self.query, urlencode(extra)) if q)
        return f"{path}?{rest}" if rest else path

    @property
    def fields(self) -> list[tuple[str, str]]:
        """The view as hidden form fields, so that a POST returns to it."""
        return [(k, getattr(self, k)) for k in FILTER_KEYS if getattr(self, k)]


@dataclass
class KindGroup:
    kind: str
    unread: int
    sources: list[SourceCount] = field(default_factory=list)


@contextmanager
def stream_of(request: Request) -> Iterator[sqlite3.Connection]:
    """The vault's state database for one request (a connection stays in its thread)."""
    conn = open_state(vault_of(request))
    try:
        yield conn
    finally:
        conn.close()


def _scripted(request: Request) -> bool:
    return request.headers.get(SCRIPTED) is not None


def _entry_id(request: Request) -> int:
    return int(request.path_params["entry_id"])


def _listing(conn: sqlite3.Connection, view: View, after: int | None) -> dict[str, Any]:
    """The list's part of the page: sources by kind, the entries, where more begin."""
    stream = Stream(conn)
    found = stream.listing(view.filter, limit=PAGE_SIZE + 1, after=after)
    shown_count = stream.count(view.filter)
    counts = stream.unread_by_source()
    groups = [
        KindGroup(kind, sum(s.unread for s in rows), rows)
        for kind, rows in ((k, list(g)) for k, g in groupby(counts, key=lambda s: s.kind))
    ]
    groups.sort(key=lambda g: KINDS.index(g.kind))
    tags = sorted({t for s in Sources(conn).list() for t in s.tags}, key=str.casefold)
    return {
        "entries": found[:PAGE_SIZE],
        "more_after": found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None,
        "after": after,
        "shown_count": shown_count,
        "groups": groups,
        "unread": sum(g.unread for g in groups),
        "source_names": [s.name for s in counts],
        "tags": tags,
        "listed_at": now(),
    }


def _common(view: View) -> dict[str, Any]:
    return {
        "view": view,
        "kinds": KINDS,
        "state_choices": STATE_CHOICES,
        "state_words": STATE_WORDS,
        "date_of": date_of,
    }


def date_of(entry: StreamEntry) -> str:
    return (entry.published or entry.first_seen or "")[:10]


def read_page(request: Request) -> Response:
    """The list of entries (unread by default) beside an empty reading pane."""
    view = View.of(request.query_params)
    after = _int(request.query_params.get("after"))
    with stream_of(request) as conn:
        listing = _listing(conn, view, after)
    context = {**_common(view), **listing, "pane": None, "notice": notice(request)}
    return page(request, "read.html", section="read", title="Read", **context)


def more_entries(request: Request) -> Response:
    """The next page of the list, as rows for read.js to append."""
    view = View.of(request.query_params)
    after = _int(request.query_params.get("after"))
    with stream_of(request) as conn:
        listing = _listing(conn, view, after)
    return page(request, "read_rows.html", **_common(view), **listing)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _pane(
    conn: sqlite3.Connection,
    view: View,
    reading: Reading,
    *,
    html: Markup,
    full: bool = False,
    error: str | None = None,
) -> dict[str, Any]:
    entry = reading.entry
    newer, older = Stream(conn).neighbours(view.filter, entry.id)
    return {
        "entry": entry,
        "was": reading.was,
        "link": web_page(entry.link),
        "text": html,
        "full": full,
        "error": error,
        "newer": newer,
        "older": older,
        "note_href": note_url(entry.note_path) if entry.note_path else None,
        "listed_at": now(),
    }


def _show_entry(request: Request, *, full: bool) -> Response:
    """An entry in the reading pane; opening it marks it seen (not the page shown after
    a change, say after marking it unread). ``full``: the text of the page it links
    to, fetched now, instead of the feed's."""
    view = View.of(request.query_params)
    entry_id = _entry_id(request)
    with stream_of(request) as conn:
        # The list is read before the entry is marked, so the entry is still in it.
        listing = None if _scripted(request) else _listing(conn, view, None)
        try:
            reading = open_entry(conn, entry_id, mark="done" not in request.query_params)
        except KnowflowError as exc:
            raise HTTPException(404, str(exc)) from None
        text, error = _text(conn, entry_id, full)
        text = hold_remote_media(request, text)
        pane = _pane(conn, view, reading, html=text, full=full and not error, error=error)
    context = {**_common(view), "pane": pane, "notice": notice(request)}
    if listing is None:
        return page(request, "read_entry.html", **context)
    title = reading.entry.title or f"Entry {entry_id}"
    return page(request, "read.html", section="read", title=title, **context, **listing)


def notice(request: Request) -> str | None:
    """What the change that led here did, in words (it came as ``done`` or ``marked``)."""
    done = request.query_params.get("done")
    marked = _int(request.query_params.get("marked"))
    if marked is not None:
        return f"{marked} {'entry' if marked == 1 else 'entries'} marked read."
    return DONE.get(done or "")


def _text(conn: sqlite3.Connection, entry_id: int, full: bool) -> tuple[Markup, str | None]:
    """The entry's text as HTML to show, and what went wrong fetching its page."""
    error = None
    if full:
        try:
            found = full_text(conn, entry_id)
            return Markup(markdown_html(found.markdown, found.url)), None
        except KnowflowError as exc:
            error = str(exc)
    return Markup(entry_html(conn, entry_id)), error


def show_entry(request: Request) -> Response:
    return _show_entry(request, full=False)


def show_full(request: Request) -> Response:
    return _show_entry(request, full=True)


async def _form(request: Request) -> tuple[View, Mapping[str, Any]]:
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    return View.of(values), values


def _after_change(request: Request, view: View, entry_id: int, done: str) -> Response:
    """Where a change to one entry leads: its pane again (read.js), or its page."""
    if _scripted(request):
        with stream_of(request) as conn:
            reading = open_entry(conn, entry_id, mark=False)
            shown = hold_remote_media(request, entry_html(conn, entry_id))
            pane = _pane(conn, view, reading, html=shown)
        context = {**_common(view), "pane": pane, "notice": DONE.get(done)}
        return page(request, "read_entry.html", **context)
    return RedirectResponse(view.url(f"/entry/{entry_id}", done=done), status_code=303)


async def keep_entry_now(request: Request) -> Response:
    """Keep the entry: its clipping note is written now, with the person's comment
    and, when they were reading it, the page's full text."""
    view, values = await _form(request)
    entry_id = _entry_id(request)
    comment = str(values.get("comment", "")).strip() or None
    return await _in_thread(request, _keep, view, entry_id, comment, values.get("full") == "1")


def _keep(request: Request, view: View, entry_id: int, comment: str | None, full: bool) -> Response:
    with stream_of(request) as conn:
        text = None
        if full:
            try:
                text = full_text(conn, entry_id).markdown
            except KnowflowError:
                text = None  # the feed's text is kept; the pane said the page failed
        try:
            kept = keep_entry(vault_of(request), conn, entry_id, note=comment, full_text=text)
        except KnowflowError as exc:
            raise HTTPException(404, str(exc)) from None
    if kept.written:
        # Found by search at once, not when the file watcher (if it runs) sees the note.
        with open_index(request) as index:
            index.scan()
    return _after_change(request, view, entry_id, "kept")


async def _in_thread(request: Request, work: Any, *args: Any) -> Response:
    """SQLite and file work off the event loop, as Starlette runs sync endpoints."""
    response: Response = await run_in_threadpool(work, request, *args)
    return response


async def dismiss_entry(request: Request) -> Response:
    view, _ = await _form(request)
    return await _in_thread(request, _mark, view, _entry_id(request), "dismissed")


async def toggle_entry(request: Request) -> Response:
    """Unread becomes read; read (or dismissed) becomes unread; kept stays kept."""
    view, _ = await _form(request)
    return await _in_thread(request, _mark, view, _entry_id(request), "toggle")


def _mark(request: Request, view: View, entry_id: int, state: str) -> Response:
    with stream_of(request) as conn:
        stream = Stream(conn)
        try:
            current = stream.get(entry_id).state
        except KnowflowError as exc:
            raise HTTPException(404, str(exc)) from None
        if state == "toggle":
            state = "seen" if current == "new" else "new"
        stream.triage([entry_id], state)
    return _after_change(request, view, entry_id, state)


async def mark_above(request: Request) -> Response:
    """Mark every unread entry above this one in the list as read."""
    view, values = await _form(request)
    entry_id = _entry_id(request)
    listed_at = str(values.get("listed_at", "")) or None
    return await _in_thread(request, _mark_all, view, entry_id, None, listed_at)


async def mark_all(request: Request) -> Response:
    """Mark every unread entry of the view as read, or those older than a date."""
    view, values = await _form(request)
    before = str(values.get("before", "")).strip() or None
    listed_at = str(values.get("listed_at", "")) or None
    return await _in_thread(request, _mark_all, view, None, before, listed_at)


def _mark_all(
    request: Request, view: View, above: int | None, before: str | None, listed_at: str | None
) -> Response:
    chosen = StreamFilter(
        source=view.source or None,
        kind=view.kind or None,
        tag=view.tag or None,
        search=view.q or None,
        before=before,
    )
    with stream_of(request) as conn:
        try:
            marked = Stream(conn).mark_all_seen(chosen, above=above, listed_at=listed_at)
        except KnowflowError as exc:  # a date the person typed that is no date
            raise HTTPException(400, str(exc)) from None
    if _scripted(request):
        return JSONResponse({"marked": marked})
    back = f"/entry/{above}" if above is not None else "/"
    return RedirectResponse(view.url(back, marked=marked), status_code=303)


routes: list[BaseRoute] = [
    Route("/", read_page, name="read"),
    Route("/read/entries", more_entries, name="read_more"),
    Route("/read/mark-all", mark_all, methods=["POST"], name="read_mark_all"),
    Route("/entry/{entry_id:int}", show_entry, name="entry"),
    Route("/entry/{entry_id:int}/full", show_full, name="entry_full"),
    Route("/entry/{entry_id:int}/keep", keep_entry_now, methods=["POST"], name="entry_keep"),
    Route("/entry/{entry_id:int}/dismiss", dismiss_entry, methods=["POST"], name="entry_dismiss"),
    Route("/entry/{entry_id:int}/toggle", toggle_entry, methods=["POST"], name="entry_toggle"),
    Route("/entry/{entry_id:int}/above", mark_above, methods=["POST"], name="entry_above"),
]
