"""What keeps the local app the person's own: an access token, the Host it was bound
to, a CSRF token on every change, and a Content-Security-Policy with no inline script.

The app serves a whole vault, so any other local user or process that could reach the
port could read it, and any web page the person visits could make their browser send it
requests. As Jupyter does, the first address printed carries a token; the app sets it as
a cookie (HttpOnly; SameSite=Lax, so that the bookmarklet's window, opened from another
site, is signed in) and redirects to the same address without it.
Requests whose Host header is not the bound address are refused (a DNS-rebinding page
reaches 127.0.0.1 under its own name). State-changing requests carry a CSRF token in the
``X-CSRF-Token`` header or a ``csrf`` form field; it is derived from the access token, so
only a page the app served knows it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "knowflow_token"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' http: https: data:; media-src 'self' http: https:; "
    "frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'; connect-src 'self'"
)
# The bookmarklet's window may be opened from any page, but its form posts to the app.
HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(token: str) -> str:
    """The CSRF token pages carry: a keyed digest of the access token, so it is the same
    for every page of one run and says nothing of the access token itself."""
    return hmac.new(token.encode(), b"knowflow csrf", hashlib.sha256).hexdigest()


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    names = {host}
    if host in ("127.0.0.1", "::1", "localhost"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return frozenset({f"{name}:{port}" for name in names} | ({host} if port == 80 else set()))


class Guard:
    """ASGI middleware: Host, token, CSRF and security headers, before any page runs."""

    def __init__(self, app: ASGIApp, *, token: str, hosts: Iterable[str]) -> None:
        self.app = app
        self.token = token
        self.csrf = csrf_token(token)
        self.hosts = frozenset(hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _with_headers(refusal)(scope, receive, send)
            return
        scope.setdefault("state", {})["csrf"] = self.csrf

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A page may set its own policy (a "view as" page drawing a diagram
                # needs inline styles); every other page gets the default.
                own = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in HEADERS if name not in own]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        if scope["method"] not in SAFE_METHODS and not _csrf_in_header(scope, self.csrf):
            replay = await _checked_form(scope, receive, self.csrf)
            if replay is None:
                forbidden = PlainTextResponse(
                    "This request carries no valid CSRF token: reload the page and try again.",
                    status_code=403,
                )
                await _with_headers(forbidden)(scope, receive_nothing, send)
                return
            receive = replay
        await self.app(scope, receive, send_with_headers)

    def _refusal(self, scope: Scope) -> Response | None:
        headers = Headers(scope=scope)
        if headers.get("host", "").lower() not in self.hosts:
            return PlainTextResponse(
                "This app answers only at the address it printed (Host header refused).",
                status_code=421,
            )
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        offered = query.get("token")
        if offered is not None and hmac.compare_digest(offered, self.token):
            rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
            target = scope["path"] + (f"?{rest}" if rest else "")
            redirect = RedirectResponse(target, status_code=303)
            redirect.set_cookie(COOKIE, self.token, httponly=True, samesite="lax")
            return redirect
        cookie = SimpleCookie(headers.get("cookie", "")).get(COOKIE)
        if cookie is not None and hmac.compare_digest(cookie.value, self.token):
            return None
        return PlainTextResponse(
            "knowflow: open the address `knowflow serve` printed (it carries the access token).",
            status_code=401,
        )


def _with_headers(response: Response) -> Response:
    for name, value in HEADERS:
        response.headers[name.decode()] = value.decode()
    return response


async def receive_nothing() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _csrf_in_header(scope: Scope, expected: str) -> bool:
    offered = Headers(scope=scope).get(CSRF_HEADER)
    return offered is not None and hmac.compare_digest(offered, expected)


MAX_FORM = 16 * 1024 * 1024  # a note being saved; the bookmarklet's page text


async def _checked_form(scope: Scope, receive: Receive, expected: str) -> Receive | None:
    """Read a form body to find its ``csrf`` field; give the app a receive that replays
    it, or None when the token is missing or wrong (or the body is too big)."""
    content_type = Headers(scope=scope).get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_FORM:
            return None
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    if not _form_has(body, content_type, expected):
        return None
    return replay_body(body, receive)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A receive that gives ``body`` (already read) once, then whatever the server says
    next (a disconnect): for a middleware that had to read the body before the app."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


def _form_has(body: bytes, content_type: str, expected: str) -> bool:
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        offered = [value for name, value in fields if name == CSRF_FIELD]
    else:
        # A multipart part named "csrf": its value is the line after the blank line.
        marker = f'name="{CSRF_FIELD}"'.encode()
        at = body.find(marker)
        if at < 0:
            return False
        start = body.find(b"\r\n\r\n", at)
        end = body.find(b"\r\n", start + 4)
        offered = [body[start + 4 : end].decode("utf-8", "replace")] if start >= 0 else []
    return any(hmac.compare_digest(value, expected) for value in offered)
