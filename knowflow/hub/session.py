"""Signing in to the hub's pages: sessions, one-time sign-in links, CSRF tokens.

A member signs in with their token or with a one-time link an admin issued
(``knowflow hub link MEMBER``); the browser then holds a random session id in a cookie
(HttpOnly, SameSite=Lax, Secure over https). The hub keeps only the sha256 of a session
id or a link's code, so a copy of its database signs nobody in. A session ends when it
expires, when its member signs out, or when the member is removed (the join with
``members`` requires a live token).

Every form carries a CSRF token bound to the session: an HMAC of the session id, which
only a page the hub served to that browser knows. The sign-in form, before any session
exists, uses a double-submit cookie instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, text

from knowflow.hub.admin import Member, token_hash
from knowflow.hub.db import audit, reading, writing
from knowflow.hub.errors import NotFound

COOKIE = "knowflow_hub_session"
PRE_COOKIE = "knowflow_hub_signin"  # the sign-in form's double-submit CSRF cookie
CSRF_FIELD = "csrf"
SESSION_DAYS = 14
LINK_HOURS = 24


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: its member, and the CSRF token its forms carry."""

    member: Member
    csrf: str


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def csrf_for(session_id: str) -> str:
    """The CSRF token of a session: a keyed digest of its id (never the id itself)."""
    return hmac.new(session_id.encode(), b"knowflow hub csrf", hashlib.sha256).hexdigest()


def same(offered: str | None, expected: str) -> bool:
    """Constant-time equality of a token sent and the one expected."""
    return offered is not None and bool(expected) and hmac.compare_digest(offered, expected)


def start(engine: Engine, member: Member, days: int = SESSION_DAYS) -> str:
    """A new session for member; returns its id (for the cookie), the only time it exists
    outside the browser."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    with writing(engine) as conn:
        # Expired sessions go as new ones come: no sweeper process to forget.
        conn.execute(text("DELETE FROM page_sessions WHERE expires_at < :now"), {"now": _iso(now)})
        conn.execute(
            text(
                "INSERT INTO page_sessions (id_hash, member_id, created_at, expires_at)"
                " VALUES (:h, :m, :at, :until)"
            ),
            {
                "h": token_hash(session_id),
                "m": member.id,
                "at": _iso(now),
                "until": _iso(now + dt.timedelta(days=days)),
            },
        )
    return session_id


def find(engine: Engine, session_id: str | None) -> Session | None:
    """The session a cookie names, if it is live and its member not removed."""
    if not session_id:
        return None
    with reading(engine) as conn:
        row = conn.execute(
            text(
                "SELECT m.id, m.name, m.is_admin, s.id_hash FROM page_sessions s"
                " JOIN members m ON m.id = s.member_id"
                " WHERE s.id_hash = :h AND s.expires_at > :now AND m.revoked = 0"
            ),
            {"h": token_hash(session_id), "now": _iso(_now())},
        ).first()
    if row is None or not hmac.compare_digest(str(row.id_hash), token_hash(session_id)):
        return None
    return Session(Member(int(row.id), str(row.name), bool(row.is_admin)), csrf_for(session_id))


def end(engine: Engine, session_id: str | None) -> None:
    """Sign a browser out: its session is deleted, the cookie then names nothing."""
    if session_id:
        with writing(engine) as conn:
            conn.execute(
                text("DELETE FROM page_sessions WHERE id_hash = :h"),
                {"h": token_hash(session_id)},
            )


def issue_link(engine: Engine, member: str, actor: str = "admin", hours: int = LINK_HOURS) -> str:
    """A one-time sign-in code for member, valid ``hours``; returns the code (the hub
    keeps its sha256). Recorded in the audit log."""
    code = secrets.token_urlsafe(32)
    now = _now()
    with writing(engine) as conn:
        row = conn.execute(
            text("SELECT id FROM members WHERE name = :n AND revoked = 0"), {"n": member}
        ).first()
        if row is None:
            raise NotFound(f"no member named {member!r}")
        conn.execute(
            text(
                "INSERT INTO signin_links (code_hash, member_id, created_at, expires_at)"
                " VALUES (:h, :m, :at, :until)"
            ),
            {
                "h": token_hash(code),
                "m": int(row.id),
                "at": _iso(now),
                "until": _iso(now + dt.timedelta(hours=hours)),
            },
        )
        audit(conn, actor, "signin_link_issued", member, hours=hours)
    return code


def link_member(engine: Engine, code: str) -> str | None:
    """Whose unused, unexpired link this is (to say so before it is used), or None."""
    with reading(engine) as conn:
        name = conn.execute(
            text(
                "SELECT m.name FROM signin_links l JOIN members m ON m.id = l.member_id"
                " WHERE l.code_hash = :h AND l.used_at IS NULL AND l.expires_at > :now"
                " AND m.revoked = 0"
            ),
            {"h": token_hash(code), "now": _iso(_now())},
        ).scalar()
    return None if name is None else str(name)


def use_link(engine: Engine, code: str) -> Member | None:
    """Spend a one-time code: its member, or None when it is unknown, used or expired.
    The spending is one conditional UPDATE, so two browsers racing with one link cannot
    both win."""
    now = _iso(_now())
    with writing(engine) as conn:
        spent = conn.execute(
            text(
                "UPDATE signin_links SET used_at = :now"
                " WHERE code_hash = :h AND used_at IS NULL AND expires_at > :now"
            ),
            {"h": token_hash(code), "now": now},
        ).rowcount
        if spent != 1:
            return None
        row = conn.execute(
            text(
                "SELECT m.id, m.name, m.is_admin FROM signin_links l"
                " JOIN members m ON m.id = l.member_id WHERE l.code_hash = :h AND m.revoked = 0"
            ),
            {"h": token_hash(code)},
        ).first()
        if row is None:
            return None
        audit(conn, str(row.name), "signed_in_with_link", str(row.name))
    return Member(int(row.id), str(row.name), bool(row.is_admin))
