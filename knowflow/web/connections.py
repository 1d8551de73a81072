"""The note page's connections: related notes (each with why), unlinked mentions both
ways (this note names another without a link; another names this one), and each as a
suggested link with its sentence and an Accept button.

Finding them reads many notes on a big vault, so the note page draws only the
section's frame; ``note.js`` fetches the lists from ``/connections/<path>``, and
without script a link asks for the note page with them drawn in (``?connections=show``).
Accepting posts a form (through the app's CSRF guard) to ``/link/accept``, which uses
``sense.connect``'s ``plan_accept`` and ``write_planned``, as ``knowflow link accept``
does: only that span of that line changes, and a file that changed since the page was
drawn is left as it is. Then it redirects back to the note (post, redirect, get).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import ConflictError, KnowflowError
from knowflow.index import Index
from knowflow.index.index import NoteRef
from knowflow.sense.connect import Related, related
from knowflow.sense.graph import note_at
from knowflow.sense.mentions import (
    Mention,
    by_file_and_note,
    mentions,
    plan_accept,
    write_planned,
)
from knowflow.sense.review import apply_edits, plain, plain_edits
from knowflow.vault.files import content_hash, read_bytes
from knowflow.web.app import note_file, open_index
from knowflow.web.templating import note_url, page

RELATED = 10
REFRESH = 5  # notes embedded before the lists are drawn, at most (0.1-0.2 s each)
SHOWN = 50  # suggestions listed each way; the command line lists them all
PLACES = 10  # other places one file names one note, folded under its first
CONTEXT = 120  # characters of a long sentence kept on each side of the mention
# What each of related()'s signals is called on the page; a signal added later is
# shown by its own name.
SIGNAL_WORDS = {"words": "shared words", "links": "links", "meaning": "meaning"}
REFUSED = {
    "changed": "{file} changed since this page was drawn: nothing was written."
    " The suggestions below are as the file is now.",
    "gone": "{file} no longer holds that mention on line {line} (linked or edited since):"
    " nothing was written.",
    "unreadable": "{file} could not be read as UTF-8 text: nothing was written.",
}


@dataclass(frozen=True)
class Suggestion:
    """An unlinked mention offered as a link: its sentence cut around the words."""

    mention: Mention
    version: str  # the hash of the file holding it, as read for this page
    before: str
    words: str
    after: str


@dataclass
class Group:
    """The places one file names one note without a link: the first is offered, the
    others folded away (one accepted link makes them linked mentions, not suggestions)."""

    first: Suggestion
    rest: list[Suggestion]
    more: int = 0  # places left off (over PLACES)


@dataclass
class Connections:
    related: list[Related]
    here: list[Group]  # other notes named in this one without a link
    elsewhere: list[Group]  # this note named in others without a link
    more_here: int = 0  # left off the page (over SHOWN)
    more_elsewhere: int = 0


def find(index: Index, ref: NoteRef) -> Connections:
    """Everything the section shows for the note; a few notes changed since the last
    embedding (the one just edited, most often) are embedded first, so meaning speaks
    of them as they are now."""
    from knowflow.sense import meaning

    if meaning.on():
        meaning.refresh(index, at_most=REFRESH)
    out, inbound = mentions(index, ref)
    versions: dict[str, str] = {}
    here, elsewhere = by_file_and_note(out), by_file_and_note(inbound)
    return Connections(
        related(index, ref, RELATED),
        [_group(index, g, versions) for g in here[:SHOWN]],
        [_group(index, g, versions) for g in elsewhere[:SHOWN]],
        max(0, len(here) - SHOWN),
        max(0, len(elsewhere) - SHOWN),
    )


def _group(index: Index, found: list[Mention], versions: dict[str, str]) -> Group:
    first, *rest = (_suggestion(index, m, versions) for m in found[: PLACES + 1])
    return Group(first, rest, max(0, len(found) - PLACES - 1))


def _suggestion(index: Index, m: Mention, versions: dict[str, str]) -> Suggestion:
    if m.path not in versions:
        versions[m.path] = content_hash(read_bytes(index.vault.root / m.path))
    before, words, after = marked(m.sentence, m.text)
    return Suggestion(m, versions[m.path], before, words, after)


def marked(sentence: str, text: str) -> tuple[str, str, str]:
    """The sentence as plain words (``review.plain``: no Markdown marks) split around
    the mention's words (the first place they stand outside a mark), a long one cut to
    ``CONTEXT`` characters either side."""
    edits = plain_edits(sentence)
    places = [m.start() for m in re.finditer(re.escape(text), sentence)]
    places += [m.start() for m in re.finditer(re.escape(text), sentence, re.IGNORECASE)]
    if not places:  # not in it (a sentence tidied away): the words alone
        return "", text, ""
    # The first place outside every Markdown mark (a mention is never in code or a link).
    at = next((p for p in places if all(e <= p or s >= p + len(text) for s, e, _ in edits)), -1)
    if at < 0:  # the words within a mark: the plain sentence, cut where they stand in it
        sentence, edits = plain(sentence), []
        at = sentence.lower().find(text.lower())
        if at < 0:
            return "", text, ""
    end = at + len(text)
    before = apply_edits(sentence[:at], [x for x in edits if x[1] <= at])
    after = apply_edits(sentence[end:], [(s - end, e - end, w) for s, e, w in edits if s >= end])
    before = re.sub(r"\s+", " ", before).lstrip()
    after = re.sub(r"\s+", " ", after).rstrip()
    if len(before) > CONTEXT:
        before = "…" + before[-CONTEXT:].lstrip()
    if len(after) > CONTEXT:
        after = after[:CONTEXT].rstrip() + "…"
    return before, sentence[at:end], after


def why_lines(item: Related) -> list[tuple[str, str]]:
    """(signal's name on the page, its reasons) for one related note."""
    return [
        (SIGNAL_WORDS.get(name, name), ", ".join(reasons)) for name, reasons in item.why.items()
    ]


def notice(request: Request) -> tuple[str, str]:
    """What the last accept did, from the address it redirected to: (kind, words)
    with kind "ok" or "error", or ("", "")."""
    params = request.query_params
    file, line = params.get("file", ""), params.get("line", "")
    if params.get("linked"):
        return "ok", f"Linked: {params['linked']} written in {file}, line {line}."
    if params.get("reviewed") and params.get("due"):  # review's connect answer
        return "ok", f"Review: {params['reviewed']} comes back on {params['due']}."
    refused = params.get("refused", "")
    if refused in REFUSED:
        return "error", REFUSED[refused].format(file=file, line=line)
    return "", ""


def context_for(request: Request, index: Index, rel: str, ref: NoteRef | None) -> dict[str, Any]:
    """What note.html needs to draw the section: the lists themselves only when this
    address asks for them (no script; after an accept), else a frame to fill."""
    kind, words = notice(request)
    shown = request.query_params.get("connections") == "show"
    return {
        "notice_kind": kind,
        "notice": words,
        # Come from the review's connect answer: the way back to the rest of the day's.
        "review_back": bool(request.query_params.get("reviewed")),
        "connections": find(index, ref) if shown and ref is not None else None,
        "indexed": ref is not None,
        "fragment_url": "/connections/" + quote(rel),
        "fallback_url": note_url(rel) + "?connections=show#connections",
        **_helpers(),
    }


def _helpers() -> dict[str, Any]:
    return {"why_lines": why_lines, "SIGNAL_WORDS": SIGNAL_WORDS}


async def fragment(request: Request) -> Response:
    """The section's lists alone, for note.js to put in the page."""
    rel = request.path_params["path"]
    note_file(request, rel)
    found = await run_in_threadpool(_find_at, request, rel)
    return page(
        request,
        "note_connections.html",
        path=rel,
        connections=found,
        indexed=found is not None,
        **_helpers(),
    )


def _find_at(request: Request, rel: str) -> Connections | None:
    with open_index(request) as index:
        ref = note_at(index, rel)
        return find(index, ref) if ref is not None else None


async def accept(request: Request) -> Response:
    """Make one suggested link, then go back to the note that showed it."""
    form = await request.form()
    names = ("note", "path", "line", "column", "text", "target")
    fields = {k: str(form.get(k, "")) for k in names}
    version = str(form.get("version", ""))
    return await run_in_threadpool(_accept, request, fields, version)


def _accept(request: Request, fields: dict[str, str], version: str) -> Response:
    back, path = fields["note"], fields["path"]
    note_file(request, back)
    file = note_file(request, path)  # 404 for a path outside the vault
    if not path.lower().endswith(".md") or not fields["line"].isdigit() or not fields["text"]:
        return _back(back, refused="gone", file=path, line=fields["line"])
    line = int(fields["line"])
    column = int(fields["column"]) if fields["column"].isdigit() else None
    with open_index(request) as index:
        try:
            stamp, new_text, link = plan_accept(
                index, path, line, fields["text"], fields["target"] or None, column
            )
        except UnicodeDecodeError:
            return _back(back, refused="unreadable", file=path, line=str(line))
        except KnowflowError:
            changed = content_hash(read_bytes(file)) != version
            return _back(back, refused="changed" if changed else "gone", file=path, line=str(line))
        if stamp.hash != version:  # changed since the page was drawn
            return _back(back, refused="changed", file=path, line=str(line))
        try:
            write_planned(index, path, stamp, new_text)
        except ConflictError:  # changed between reading and writing
            return _back(back, refused="changed", file=path, line=str(line))
    return _back(back, linked=link, file=path, line=str(line))


def _back(note: str, **query: str) -> Response:
    """The note page, with the lists drawn in and a word on what happened."""
    address = f"{note_url(note)}?{urlencode({**query, 'connections': 'show'})}#connections"
    return RedirectResponse(address, status_code=303)


routes: list[BaseRoute] = [
    Route("/connections/{path:path}", fragment, methods=["GET"]),
    Route("/link/accept", accept, methods=["POST"]),
]
