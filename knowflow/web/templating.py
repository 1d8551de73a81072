"""One Jinja2 environment for every page: autoescaped, with the request's CSRF token
and the navigation in every context."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup
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
    ("practice", "/practice", "Practice"),
    ("review", "/review", "Review"),
    ("wander", "/wander", "Wander"),
    ("journal", "/journal", "Journal"),
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


# An image, sound, video or frame whose address is on another server: loading it tells
# that server who read what, and when (a feed's tracking pixel does nothing else).
_MEDIA_TAG = re.compile(r"<(?:img|video|audio|source|track|iframe)\b[^>]*>", re.IGNORECASE)
_REMOTE_ADDRESS = re.compile(r"""(\s)(src|srcset|poster)=(["']?(?:https?:)?//)""", re.IGNORECASE)


def hold_remote_media(request: Request, html: str) -> Markup:
    """``html`` with its remote media not loaded (the address kept as ``data-held-*``)
    and a line offering to load them, unless this request asked to (``media=show``),
    as a mail reader holds back remote images."""
    if request.query_params.get("media") == "show":
        return Markup(html)
    count = 0

    def hold(tag: re.Match[str]) -> str:
        nonlocal count
        held, found = _REMOTE_ADDRESS.subn(r"\1data-held-\2=\3", tag[0])
        count += found
        return held

    html = _MEDIA_TAG.sub(hold, html)
    if not count:
        return Markup(html)
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "media"]
    show = request.url.path + "?" + urlencode([*params, ("media", "show")])
    notice = Markup(
        '<p class="held-media" role="note">Remote images and media are not loaded: loading'
        ' them would tell their servers that you read this. <a href="{}">Load them</a></p>'
    ).format(show)
    return notice + Markup(html)
