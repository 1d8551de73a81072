"""The Journal page: working out loud and experiments, as ``knowflow narrate`` and
``knowflow experiment`` write them, and the experiments due for a look back.

Narrating appends a dated entry to the week's narration note and comes back here
(post, redirect, get) with a link to it; opening an experiment writes its note and
goes to its page. Both notes are private (``share: private``) until the person
shares them. Each write is logged in ``.knowflow/state.db`` as the command line logs
it (practice counts them), and the index is brought up to date at once. A refused
write (no text, an audience config.toml does not define, a note that cannot be
written) draws the page again with what was typed and says why; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import ConflictError, KnowflowError
from knowflow.sense.journal import (
    LOOK_BACK_DAYS,
    LookBack,
    due_look_backs,
    narrate,
    narration_path,
    new_experiment,
)
from knowflow.share.audiences import Audience, audiences
from knowflow.vault import Vault
from knowflow.web.app import open_index, vault_of
from knowflow.web.templating import note_url, page

MAX_LOOK_BACK = 3650  # days, as `knowflow experiment --look-back` takes


class Refused(Exception):
    """A write refused, with the status the page is drawn with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _today() -> dt.date:
    return dt.date.today()


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _relative(vault: Vault, path: Path) -> str:
    return path.relative_to(vault.root).as_posix()


def _listing(request: Request) -> dict[str, Any]:
    vault = vault_of(request)
    with open_index(request) as index:
        due: list[LookBack] = due_look_backs(index, _today())
    try:
        known: list[Audience] = list(audiences(vault).values())
        audience_error = ""
    except KnowflowError as exc:
        known, audience_error = [], str(exc)
    week = narration_path(vault, _now())
    return {
        "due": due,
        "audiences": known,
        "audience_error": audience_error,
        "week_note": _relative(vault, week) if week.is_file() else "",
        "week_name": week.stem,
    }


async def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    listing = await run_in_threadpool(_listing, request)
    today = _today()
    context.setdefault("narration", "")
    context.setdefault("idea", "")
    context.setdefault("tried_with", "")
    context.setdefault("look_back", (today + dt.timedelta(days=LOOK_BACK_DAYS)).isoformat())
    return page(
        request,
        "journal.html",
        status_code=status_code,
        section="journal",
        title="Journal",
        first_look_back=(today + dt.timedelta(days=1)).isoformat(),
        last_look_back=(today + dt.timedelta(days=MAX_LOOK_BACK)).isoformat(),
        narrated=request.query_params.get("narrated", ""),
        **listing,
        **context,
    )


async def journal_page(request: Request) -> Response:
    return await _page(request)


def _scanned(request: Request) -> None:
    """The index sees the note just written, at once."""
    with open_index(request) as index:
        index.scan()


def _refusal(exc: Exception, vault: Vault) -> Refused:
    """What the page says: the error, with the vault's paths relative to it."""
    said = str(exc).replace(f"{vault.root}{os.sep}", "")
    if isinstance(exc, ConflictError):
        return Refused(f"Nothing was written: {said}", 409)
    if isinstance(exc, KnowflowError):
        return Refused(f"Nothing was written: {said}", 400)
    assert isinstance(exc, OSError)
    where = Path(exc.filename).resolve() if exc.filename else None
    root = vault.root.resolve()
    name = where.relative_to(root).as_posix() if where and where.is_relative_to(root) else "a file"
    return Refused(f"Nothing was written: {name} could not be written ({exc.strerror}).", 409)


def _narrate(request: Request, text: str) -> str:
    vault = vault_of(request)
    try:
        path = narrate(vault, text, _now())
    except (KnowflowError, OSError) as exc:
        raise _refusal(exc, vault) from None
    rel = _relative(vault, path)
    _scanned(request)
    return rel


async def narrate_post(request: Request) -> Response:
    form = await request.form()
    text = str(form.get("text", ""))
    try:
        rel = await run_in_threadpool(_narrate, request, text)
    except Refused as exc:
        return await _page(request, exc.status, narration=text, narrate_error=str(exc))
    return RedirectResponse(f"/journal?{urlencode({'narrated': rel})}#narrate", status_code=303)


def _look_back_days(text: str) -> int:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise KnowflowError(f"a look-back date is a day, as 2026-12-15 (not {text!r})") from None
    days = (day - _today()).days
    if not 1 <= days <= MAX_LOOK_BACK:
        raise KnowflowError(
            f"the look-back date is from tomorrow to {MAX_LOOK_BACK} days on (not {day})"
        )
    return days


def _experiment(request: Request, idea: str, who: str, look_back: str) -> str:
    vault = vault_of(request)
    try:
        if not idea.strip():
            raise KnowflowError("an experiment needs an idea")
        known = audiences(vault)
        if who not in known:
            raise KnowflowError(
                f"no audience {who!r} in config.toml; defined: {', '.join(sorted(known))}"
            )
        days = _look_back_days(look_back)
        path = new_experiment(vault, idea, who, _today(), days)
    except (KnowflowError, OSError) as exc:
        raise _refusal(exc, vault) from None
    rel = _relative(vault, path)
    _scanned(request)
    return rel


async def experiment_post(request: Request) -> Response:
    form = await request.form()
    idea, who = str(form.get("idea", "")), str(form.get("with", ""))
    look_back = str(form.get("look_back", ""))
    try:
        rel = await run_in_threadpool(_experiment, request, idea, who, look_back)
    except Refused as exc:
        return await _page(
            request,
            exc.status,
            idea=idea,
            tried_with=who,
            look_back=look_back,
            experiment_error=str(exc),
        )
    return RedirectResponse(note_url(rel), status_code=303)


routes: list[BaseRoute] = [
    Route("/journal", journal_page, methods=["GET"]),
    Route("/journal/narrate", narrate_post, methods=["POST"]),
    Route("/journal/experiment", experiment_post, methods=["POST"]),
]
