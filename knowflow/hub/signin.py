"""Signing in to the hub's pages with a member token or a one-time link, and out.

Before a session exists, the sign-in forms are guarded by a double-submit cookie: a
random value set with the form and sent back in it, which another site can neither
read nor set. A link's GET only shows whose it is and a button; the POST spends it, so
a mail scanner or a chat preview fetching the link does not use it up.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from knowflow.hub import admin, session
from knowflow.hub.admin import Member
from knowflow.hub.errors import Unauthorized
from knowflow.hub.pagekit import HEADERS, engine_of, error, render, signed_in


def _next(target: str) -> str:
    """Where to go after signing in: a path of this hub only (no open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _form_page(
    request: Request, template: str, *, status: int = 200, **context: object
) -> Response:
    """A sign-in form with a fresh double-submit token, set as a cookie too."""
    token = request.cookies.get(session.PRE_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, template, status=status, csrf=token, **context)
    response.set_cookie(
        session.PRE_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return response


async def _form_checked(request: Request) -> dict[str, str] | None:
    """The posted form, if its CSRF field matches the sign-in cookie."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    expected = request.cookies.get(session.PRE_COOKIE, "")
    return fields if session.same(fields.get(session.CSRF_FIELD), expected) else None


def _signed_in(request: Request, member: Member, target: str) -> Response:
    session_id = session.start(engine_of(request), member)
    response = RedirectResponse(_next(target), 303, HEADERS)
    response.set_cookie(
        session.COOKIE,
        session_id,
        max_age=session.SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(session.PRE_COOKIE)
    return response


async def signin_form(request: Request) -> Response:
    target = _next(request.query_params.get("next", "/"))
    return _form_page(request, "hub_signin.html", title="Sign in", next=target)


async def signin_post(request: Request) -> Response:
    form = await _form_checked(request)
    if form is None:
        return error(request, 403, "This form carries no valid CSRF token: reload the page.")
    target = _next(form.get("next", "/"))
    try:
        member = await run_in_threadpool(
            admin.authenticate, engine_of(request), form.get("token", "").strip()
        )
    except Unauthorized:
        return _form_page(
            request,
            "hub_signin.html",
            status=401,
            title="Sign in",
            next=target,
            problem="That token is not valid here (wrong, or revoked).",
        )
    return await run_in_threadpool(_signed_in, request, member, target)


async def link_form(request: Request) -> Response:
    code = request.path_params["code"]
    name = await run_in_threadpool(session.link_member, engine_of(request), code)
    if name is None:
        return _spent(request)
    return _form_page(
        request, "hub_link.html", title="Sign in", name=name, action=f"/signin/{quote(code)}"
    )


async def link_post(request: Request) -> Response:
    form = await _form_checked(request)
    if form is None:
        return error(request, 403, "This form carries no valid CSRF token: reload the page.")
    member = await run_in_threadpool(
        session.use_link, engine_of(request), request.path_params["code"]
    )
    if member is None:
        return _spent(request)
    return await run_in_threadpool(_signed_in, request, member, "/")


def _spent(request: Request) -> Response:
    return error(
        request,
        410,
        "This sign-in link was used already, has expired, or was never issued:"
        " ask the hub's admin for a new one, or sign in with your token.",
    )


async def signout(request: Request, me: session.Session) -> Response:
    await run_in_threadpool(session.end, engine_of(request), request.cookies.get(session.COOKIE))
    response = RedirectResponse("/signin", 303, HEADERS)
    response.delete_cookie(session.COOKIE)
    return response


routes = [
    Route("/signin", signin_form, methods=["GET"]),
    Route("/signin", signin_post, methods=["POST"]),
    Route("/signin/{code}", link_form, methods=["GET"]),
    Route("/signin/{code}", link_post, methods=["POST"]),
    Route("/signout", signed_in(signout), methods=["POST"]),
]
