"""The hub's JSON API, on Starlette (the local web app's framework).

Every endpoint but the health check takes a member token (``Authorization:
Bearer``); every refusal is JSON, ``{"error": "…"}``, with a status that says what
kind of refusal it is. Database work runs in Starlette's thread pool: SQLAlchemy
here is synchronous, and one slow push must not stop the event loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from knowflow.hub import admin, api, pages, push, read
from knowflow.hub.admin import Member
from knowflow.hub.errors import HubError, TooLarge
from knowflow.hub.limits import RATE, Limits, RateLimit

MAX_PUSH_BYTES = 20 * 1024 * 1024
HEADERS = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


def _json(data: object, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=HEADERS)


async def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    return _json({"error": str(exc)}, exc.status)


async def _member(request: Request) -> Member:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return await run_in_threadpool(admin.authenticate, _engine(request), token.strip())


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it is over limit (declared or sent)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the body is {int(declared)} bytes; this hub takes {limit} at most")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the body is over the {limit} byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def push_endpoint(request: Request) -> Response:
    member = await _member(request)
    body = await _body(request, request.app.state.max_push_bytes)
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HubError(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise HubError("the body is not JSON a hub reads: nested too deep") from None
    result = await run_in_threadpool(push.push, _engine(request), member, doc)
    return _json(result.as_dict())


async def hashes_endpoint(request: Request) -> Response:
    member = await _member(request)
    audience = request.query_params.get("audience", "")
    hashes = await run_in_threadpool(push.held_hashes, _engine(request), member, audience)
    return _json({"audience": audience, "hashes": hashes})


async def members_endpoint(request: Request) -> Response:
    member = await _member(request)
    name = request.path_params["name"]
    found = await run_in_threadpool(admin.audience_members, _engine(request), member, name)
    return _json(found)


async def search_endpoint(request: Request) -> Response:
    member = await _member(request)
    params = request.query_params
    query = params.get("q", "")
    limit, offset = (
        _number(params.get("limit", "20"), "limit"),
        _number(params.get("offset", "0"), "offset"),
    )
    chosen = {k: params.get(k, "") for k in ("audience", "person", "tag", "since", "until")}
    filters = read.Filters.parse(**chosen)  # in the search's SQL, with membership
    cache = request.app.state.search_cache
    found = await run_in_threadpool(
        read.find, _engine(request), member, query, filters, limit, offset, cache
    )
    following = offset + len(found.hits) if found.more else None
    return _json(
        {"query": query, "results": found.hits, "offset": offset, "next_offset": following}
    )


def _number(value: str, name: str) -> int:
    if not value.isdigit():
        raise HubError(f"{name} must be a number")
    return int(value)


async def export_endpoint(request: Request) -> Response:
    member = await _member(request)
    return _json(await run_in_threadpool(read.export, _engine(request), member))


async def delete_mine_endpoint(request: Request) -> Response:
    member = await _member(request)
    deleted = await run_in_threadpool(read.delete_mine, _engine(request), member)
    return _json({"deleted": deleted})


async def me_endpoint(request: Request) -> Response:
    member = await _member(request)
    return _json({"name": member.name, "admin": member.is_admin})


async def health(request: Request) -> Response:
    return _json({"ok": True})


def _routes() -> list[BaseRoute]:
    get: list[tuple[str, Callable[[Request], Any]]] = [
        ("/api/health", health),
        ("/api/me", me_endpoint),
        ("/api/search", search_endpoint),
        ("/api/export", export_endpoint),
        ("/api/hashes", hashes_endpoint),
        ("/api/audiences/{name:path}/members", members_endpoint),
    ]
    routes: list[BaseRoute] = [Route(path, fn, methods=["GET"]) for path, fn in get]
    routes.append(Route("/api/push", push_endpoint, methods=["POST"]))
    routes.append(Route("/api/mine", delete_mine_endpoint, methods=["DELETE"]))
    routes.extend(api.routes)  # insight, communities, feeds, OpenAPI (knowflow.hub.api)
    routes.extend(pages.routes)  # the pages members sign in to (knowflow.hub.pages)
    return routes


async def _not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    return _json({"error": str(getattr(exc, "detail", "not found"))}, status)


async def _server_error(request: Request, exc: Exception) -> Response:
    # Still JSON, and without the exception's text: it may quote SQL or a stored value.
    return _json({"error": "the hub failed to answer; its log says why"}, 500)


def create_app(
    engine: Engine,
    *,
    max_push_bytes: int = MAX_PUSH_BYTES,
    rate: RateLimit | None = RATE,
    search_cache: read.SearchCache | None = None,
) -> Starlette:
    """The hub's app over a migrated engine (see ``knowflow.hub.db.open_engine``);
    ``rate`` limits each token's requests (None: no limit); ``search_cache`` keeps
    search answers until the hub changes (None: none)."""
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(Limits, max_push=max_push_bytes, rate=rate)],
        exception_handlers={
            HubError: _hub_error,
            404: _not_found,
            405: _not_found,
            Exception: _server_error,
        },
    )
    app.state.engine = engine
    app.state.max_push_bytes = max_push_bytes
    app.state.search_cache = search_cache
    return app
