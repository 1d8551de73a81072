"""The Wander page: a seeded walk across the vault, as ``knowflow wander`` takes it.

A form (a start note, or a random one; a seed, or a new one; how many steps) sent
by GET, and the walk drawn as an ordered list: each note a link to its page, with
why the step was taken. A walk with no seed is walked with a new one and the page
redirects to the address that names it (start, seed and steps), so the address in
the bar, "Walk again" and a bookmark replay the same walk: ``wander`` keeps each
walk with its seed in ``.knowflow/state.db`` (nothing is written into a note).
"""

from __future__ import annotations

import shlex
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.errors import KnowflowError
from knowflow.seek.state import open_state
from knowflow.sense.wander import MAX_SEED, STEPS, Walk, wander
from knowflow.web.app import open_index, vault_of
from knowflow.web.templating import page

MAX_STEPS = 100  # as `knowflow wander --steps` takes
ASKED = ("from", "seed", "steps")


def address(start: str, seed: int | None, steps: int) -> str:
    """The page's address for a walk: with a seed it replays, without one it is new."""
    query = {"from": start, "seed": "" if seed is None else str(seed), "steps": str(steps)}
    return "/wander?" + urlencode(query)


def _whole(text: str, what: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise KnowflowError(f"{what} is a whole number from {low} to {high} (not {text!r})")
    return value


def _walk(request: Request, start: str, seed: int | None, steps: int) -> Walk:
    with open_index(request) as index:
        conn = open_state(vault_of(request))
        try:
            return wander(index, conn, start or None, seed=seed, steps=steps)
        finally:
            conn.close()


def _page(request: Request, status_code: int = 200, **context: Any) -> Response:
    return page(
        request,
        "wander.html",
        status_code=status_code,
        section="wander",
        title="Wander",
        max_steps=MAX_STEPS,
        max_seed=MAX_SEED,
        **context,
    )


async def wander_page(request: Request) -> Response:
    params = request.query_params
    start = params.get("from", "").strip()
    seed_text = params.get("seed", "").strip()
    steps_text = params.get("steps", "").strip()
    form = {"start": start, "seed": seed_text, "steps": steps_text or str(STEPS)}
    if not any(key in params for key in ASKED):
        return _page(request, form=form, walk=None)
    try:
        seed = _whole(seed_text, "A seed", 0, MAX_SEED) if seed_text else None
        steps = _whole(steps_text, "Steps", 1, MAX_STEPS) if steps_text else STEPS
        walk = await run_in_threadpool(_walk, request, start, seed, steps)
    except KnowflowError as exc:
        return _page(request, status_code=400, form=form, walk=None, error=str(exc))
    # The start as the walk found it (a title given: its path), so the address replays.
    begun = walk.steps[0].path if start else ""
    here = address(begun, walk.seed, steps)
    if (start, seed_text, steps_text) != (begun, str(walk.seed), str(steps)):
        return RedirectResponse(here, status_code=303)
    return _page(
        request,
        form={"start": begun, "seed": "", "steps": str(steps)},
        walk=walk,
        start=begun,
        steps=steps,
        again=here,
        another=address(begun, None, steps),
        command=f"knowflow wander {shlex.quote(begun) + ' ' if begun else ''}"
        f"--seed {walk.seed} --steps {steps}",
    )


routes: list[BaseRoute] = [Route("/wander", wander_page, methods=["GET"])]
