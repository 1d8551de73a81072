"""One Jinja2 environment for every page: autoescaped, with the request's CSRF token
and the navigation in every context."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

HERE = Path(__file__).parent
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every value is escaped unless a page marks it as safe HTML
        trim_blocks=True,
        lstrip_blocks=True,
    )
)


def note_url(path: str) -> str:
    """The app's address of a note (or attachment) by its vault path."""
    return "/note/" + quote(path)


templates.env.filters["note_url"] = note_url

NAV = (
    ("read", "/", "Read"),
    ("search", "/search", "Search"),
    ("graph", "/graph", "Graph"),
    ("sources", "/sources", "Sources"),
    ("share", "/share", "Share"),
    ("new", "/new", "New note"),
)


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``template`` with what every page shows: the vault's name, the
    navigation, the CSRF token (for forms and htmx's requests)."""
    context.setdefault("section", "")
    context.update(
        csrf=request.scope.get("state", {}).get("csrf", ""),
        nav=NAV,
        vault_name=request.app.state.vault.root.name,
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)
