"""The hub's API described as OpenAPI 3.1, by hand: what each endpoint takes, what it
answers, and who may call it. ``document`` adds any route of the app not described
here as undocumented, so the description never hides an endpoint (a test checks
there are none)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from starlette.routing import BaseRoute, Route

VERSION = "1"
_CONVERTER = re.compile(r"\{(\w+):\w+\}")
_PATH_PARAM = re.compile(r"\{(\w+)\}")
API = ("/api/", "/feeds/")  # where the API's routes are

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "string"}},
}
_OBJECT = {"type": "object"}


def _param(
    name: str, where: str = "query", required: bool = False, **schema: Any
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema or {"type": "string"}}  # fmt: skip


def _op(summary: str, *params: dict[str, Any], ok: str = "application/json",
        errors: tuple[int, ...] = (401,), secured: str = "bearer",
        body: bool = False) -> dict[str, Any]:  # fmt: skip
    responses: dict[str, Any] = {"200": {"description": "OK", "content": {ok: {"schema": _OBJECT}}}}
    for code in (*errors, 413, 429):
        responses[str(code)] = {
            "description": _STATUS[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    op: dict[str, Any] = {"summary": summary, "parameters": list(params), "responses": responses}
    op["security"] = [] if secured == "none" else [{secured: []}]
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Bundle"}}},
        }
    return op


_STATUS = {
    400: "a malformed request",
    401: "no token, or a wrong or revoked one",
    403: "not yours to read or do (an audience you are not in; not a steward)",
    404: "no such audience, community, member or request",
    409: "the state the request assumed is not the hub's",
    413: "a body over the limit",
    422: "not a bundle this hub reads",
    429: "too many requests; Retry-After says when to try again",
}
_NAME = _param("name", "path")
_AUDIENCE = _param("audience", required=False)
_SINCE = _param("since", format="date-time", type="string")
_UNTIL = _param("until", format="date-time", type="string")

PATHS: dict[str, dict[str, Any]] = {
    "/api/health": {"get": _op("Is the hub up?", errors=(), secured="none")},
    "/api/me": {"get": _op("The token's member: name, and whether they administer the hub")},
    "/api/push": {"post": _op(
        "Push a bundle: the complete state of your notes for one audience",
        errors=(400, 401, 403, 404, 409, 422), body=True)},
    "/api/hashes": {"get": _op("Content hash and fingerprint of each of your notes held for an"
                               " audience", _param("audience", required=True))},
    "/api/audiences/{name}/members": {"get": _op(
        "Who is in an audience (for its members; a public one: everyone)", _NAME,
        errors=(401, 403, 404))},
    "/api/search": {"get": _op(
        "Full-text search over what you may see, best first, with snippets (without q: the"
        " newest); filters and paging in the search itself. An audience you do not read"
        " gives no results. until as a date includes that day. next_offset: where the"
        " next page starts (null: none)",
        _param("q"), _AUDIENCE, _param("person"), _param("tag"), _SINCE, _UNTIL,
        _param("limit", type="integer", minimum=1, maximum=100),
        _param("offset", type="integer", minimum=0), errors=(400, 401))},
    "/api/export": {"get": _op("Everything the hub holds of yours")},
    "/api/mine": {"delete": _op("Delete everything you pushed")},
    "/api/directory": {"get": _op(
        "The people directory: each person's topics, how much and how recently, over what"
        " you may see")},
    "/api/who-knows": {"get": _op(
        "Who knows about q: people ranked, with the artifacts that show it",
        _param("q", required=True), _param("limit", type="integer"), errors=(400, 401))},
    "/api/flow": {"get": _op("The knowledge-flow map of what you may see, as JSON")},
    "/api/flow.svg": {"get": _op("The knowledge-flow map as an accessible SVG drawing",
                                 ok="image/svg+xml")},
    "/api/digest": {"get": _op(
        "What was shared in [since, until) (default: the last 7 days), per audience",
        _AUDIENCE, _SINCE, _UNTIL, errors=(400, 401, 403))},
    "/feeds/digest.atom": {"get": _op(
        "The digest as an Atom feed, read with a feed token (a feed reader sends no headers)",
        _param("token", required=True), _AUDIENCE, _SINCE, _UNTIL,
        ok="application/atom+xml", errors=(400, 401, 403), secured="none")},
    "/api/artifacts/{ref}": {"get": _op(
        "One shared note whole (title, author, the audiences of it you read, tags, when"
        " shared, its body as sanitized HTML), if you may see it: else 404, as for none",
        _param("ref", "path"), errors=(401, 404))},
    "/api/feed-token": {
        "post": _op("A new feed token (the previous one stops working); shown once"),
        "delete": _op("Revoke your feed token"),
    },
    "/api/communities/{name}": {"get": _op(
        "A community: for its members what was shared there, who is active, who joined"
        " when and who stewards it; for others its name, kind and stewards",
        _NAME, errors=(401, 403, 404))},
    "/api/communities/{name}/join": {"post": _op(
        "Ask to join a community", _NAME, errors=(401, 403, 404, 409))},
    "/api/communities/{name}/requests": {"get": _op(
        "Who asked to join (stewards only)", _NAME, errors=(401, 403, 404))},
    "/api/communities/{name}/admit/{member}": {"post": _op(
        "Admit a member who asked (stewards only)", _NAME, _param("member", "path"),
        errors=(401, 403, 404))},
    "/api/communities/{name}/decline/{member}": {"post": _op(
        "Decline a member's request (stewards only)", _NAME, _param("member", "path"),
        errors=(401, 403, 404))},
    "/api/openapi.json": {"get": _op("This description", errors=(), secured="none")},
}  # fmt: skip


def openapi_path(path: str) -> str:
    """A Starlette path as OpenAPI writes it: ``{name:path}`` is ``{name}``."""
    return _CONVERTER.sub(r"{\1}", path)


def route_methods(routes: Iterable[BaseRoute]) -> dict[str, set[str]]:
    """Each path of the app's routes and its methods (HEAD aside: it follows GET)."""
    found: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, Route):
            methods = {m.lower() for m in (route.methods or {"GET"})} - {"head"}
            found.setdefault(openapi_path(route.path), set()).update(methods)
    return found


def document(routes: Iterable[BaseRoute] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document for an app with these routes."""
    paths = {path: dict(ops) for path, ops in PATHS.items()}
    for path, methods in route_methods(routes).items():
        if not path.startswith(API):
            continue  # the HTML pages are for people, not part of the API
        named = [_param(name, "path") for name in _PATH_PARAM.findall(path)]
        for method in methods - set(paths.get(path, {})):
            paths.setdefault(path, {})[method] = _op("(not described yet)", *named) | {
                "x-undocumented": True
            }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "knowflow hub",
            "version": VERSION,
            "description": "An organization's hub: it holds only what its members push, and"
            " answers each member from what their audiences allow. Every refusal is JSON,"
            ' {"error": "…"}.',
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {
                "Error": _ERROR,
                "Bundle": {"type": "object", "description": "docs/bundle.schema.json"},
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
