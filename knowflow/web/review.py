"""The Review page: the day's notes and highlights brought back, each with its three
answers (still useful, connect, let go) as buttons, and the week's clippings that hold
nothing of the person's own yet.

Every answer is a form that posts and redirects (it works without script): back to
the Review page, or after "connect" straight to the Connections section of the
item's note page, its lists drawn in (related notes, and suggested links each with
an Accept button, beside the links, backlinks and tags the page shows), with when
the item comes back and a link back to the Review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError
from knowflow.index.index import Index
from knowflow.seek.state import open_state
from knowflow.sense import review
from knowflow.web.app import vault_of
from knowflow.web.templating import note_url, page

ANSWER_WORDS = {"still_useful": "Still useful", "connect": "Connect", "let_go": "Let go"}


def _today() -> dt.date:
    return dt.date.today()


def _listing(request: Request) -> dict[str, Any]:
    vault = vault_of(request)
    today = _today()
    with Index(vault) as index:
        conn = open_state(vault)
        try:
            items = review.due_today(index, conn, today)
        finally:
            conn.close()
        since, until = review.week_bounds(today)
        unmade = review.weekly(index, since, until)
    return {"items": items, "unmade": unmade}


async def review_page(request: Request) -> Response:
    listing = await run_in_threadpool(_listing, request)
    return page(
        request,
        "review.html",
        section="review",
        title="Review",
        answers=ANSWER_WORDS,
        done=request.query_params.get("done", ""),
        error=request.query_params.get("error", ""),
        **listing,
    )


def _mark(request: Request, item: str, answer: str) -> review.Marked:
    vault = vault_of(request)
    with Index(vault) as index:
        conn = open_state(vault)
        try:
            return review.mark(index, conn, item, answer, _today())
        finally:
            conn.close()


async def mark(request: Request) -> Response:
    form = await request.form()
    item, answer = str(form.get("item", "")), str(form.get("answer", ""))
    try:
        done = await run_in_threadpool(_mark, request, item, answer)
    except KnowflowError as exc:
        query = {"error": str(exc)}
    else:
        if done.answer == "connect" and done.due is not None:
            # As the command line prints them at once: the note's related notes and
            # suggested links, on its page, with the way back to the review.
            note = done.item.partition("#^")[0]
            ask = urlencode({"reviewed": done.item, "due": done.due, "connections": "show"})
            return RedirectResponse(f"{note_url(note)}?{ask}#connections", status_code=303)
        if done.due is None:
            query = {"done": f"Let go of {done.item}: it will not come back."}
        else:
            query = {"done": f"{done.item} comes back on {done.due}."}
    return RedirectResponse(f"/review?{urlencode(query)}", status_code=303)


routes: list[BaseRoute] = [
    Route("/review", review_page),
    Route("/review/mark", mark, methods=["POST"]),
]
