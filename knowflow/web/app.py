"""The app: its pages, its static files, its guard, and what runs beside it."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from knowflow.index import Index
from knowflow.share.pages import STATIC as SITE_STATIC  # the published site's own files
from knowflow.vault import Vault
from knowflow.web.security import Guard, allowed_hosts, new_token
from knowflow.web.templating import HERE, page

# Each page's module, in the order of the navigation; each has ``routes``.
PAGES = (
    "read",
    "notes",
    "search",
    "graph",
    "sources",
    "share",
    "practice",
    "review",
    "wander",
    "journal",
)


def create_app(
    vault: Vault,
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    background: bool = True,
    fetch: bool = True,
) -> Starlette:
    """The app for ``vault``, answering at ``host:port`` to requests carrying ``token``.
    ``background`` runs the file watcher and (unless ``fetch`` is False) scheduled
    fetching while it serves."""
    routes: list[BaseRoute] = []
    for name in PAGES:
        routes += importlib.import_module(f"knowflow.web.{name}").routes
    # The site's own files (callouts' styles) before the app's, whose prefix holds it.
    routes.append(Mount("/static/site", StaticFiles(directory=SITE_STATIC), name="site-static"))
    routes.append(Mount("/static", StaticFiles(directory=HERE / "static"), name="static"))
    token = token or new_token()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from knowflow.web import background as beside

        async with beside.running(app, enabled=background, fetch=fetch):
            yield

    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, token=token, hosts=allowed_hosts(host, port))],
        exception_handlers={HTTPException: _error_page},
        lifespan=lifespan,
    )
    app.state.vault = vault
    app.state.token = token
    app.state.address = f"http://{_url_host(host)}:{port}/"
    return app


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return page(
        request,
        "error.html",
        status_code=exc.status_code,
        status=exc.status_code,
        message=exc.detail,
    )


@contextmanager
def open_index(request: Request) -> Iterator[Index]:
    """The vault's index for one request (SQLite connections stay in their thread)."""
    with Index(request.app.state.vault) as index:
        yield index


def vault_of(request: Request) -> Vault:
    vault: Vault = request.app.state.vault
    return vault


def note_file(request: Request, relative: str) -> Path:
    """The file a request names by its vault path, refused (404) when the path leaves
    the vault, by ``..``, an absolute path or a symlink, or names no file."""
    vault = vault_of(request)
    root = vault.root.resolve()
    candidate = (vault.root / relative).resolve()
    hidden = any(part.startswith(".") for part in Path(relative).parts)
    if not relative or hidden or Path(relative).is_absolute() or not candidate.is_relative_to(root):
        raise HTTPException(404, f"No note at {relative!r} in this vault.")
    if not candidate.is_file():
        raise HTTPException(404, f"No note at {relative!r} in this vault.")
    return candidate
