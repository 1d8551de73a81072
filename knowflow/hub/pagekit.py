"""What every hub page shares: one template set (the hub's templates first, then the
local app's), the navigation, the local app's security headers, and the guard that
sends a browser without a session to /signin and refuses a form without its CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from knowflow.hub import session
from knowflow.hub.errors import HubError
from knowflow.web.security import HEADERS as WEB_HEADERS
from knowflow.web.templating import HERE as WEB

HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.FileSystemLoader(HERE / "templates"),
                jinja2.FileSystemLoader(WEB / "templates"),
            ]
        ),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
)
# A name in a link: "q" for one path segment, "qp" for a path's tail (names may hold "/").
templates.env.filters["q"] = lambda value: quote(str(value), safe="")
templates.env.filters["qp"] = lambda value: quote(str(value), safe="/")
NAV = (
    ("search", "/search", "Search"),
    ("people", "/people", "People"),
    ("communities", "/communities", "Communities"),
    ("flow", "/flow", "Flow map"),
    ("digest", "/digest", "Digest"),
)
# The local app's security headers (its CSP: no inline script, no inline style), and
# pages about people are never cached by a shared proxy.
HEADERS = {name.decode(): value.decode() for name, value in WEB_HEADERS} | {
    "cache-control": "no-store"
}
Page = Callable[[Request, session.Session], Awaitable[Response]]


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with what every page shows: the navigation, who is signed in, the CSRF token."""
    found: session.Session | None = getattr(request.state, "session", None)
    context.setdefault("section", "")
    # <body class="page-…">: the template's name (hub_search.html: "search").
    context.setdefault("page", template.removeprefix("hub_").removesuffix(".html"))
    context.update(
        nav=NAV,
        me=found.member.name if found else "",
        csrf=found.csrf if found else context.get("csrf", ""),
    )
    return templates.TemplateResponse(
        request, template, context, status_code=status, headers=HEADERS
    )


def error(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "hub_error.html", status=status, title=str(status), message=message)


def signed_in(fn: Page) -> Callable[[Request], Awaitable[Response]]:
    """A page for signed-in members only: without a live session, to /signin (and back
    after); a POST without the session's CSRF token is refused (403). A refusal of the
    hub (an unknown community, a steward-only action) becomes an error page."""

    async def endpoint(request: Request) -> Response:
        cookie = request.cookies.get(session.COOKIE)
        found = await run_in_threadpool(session.find, engine_of(request), cookie)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/signin?" + urlencode({"next": target}), 303, HEADERS)
        request.state.session = found
        if request.method == "POST":
            form = await request.form()
            offered = form.get(session.CSRF_FIELD)
            if not session.same(offered if isinstance(offered, str) else None, found.csrf):
                return error(
                    request, 403, "This form carries no valid CSRF token: reload the page."
                )
        try:
            return await fn(request, found)
        except HubError as exc:
            return error(request, exc.status, str(exc))

    return endpoint
