"""Administration: members, audiences and who belongs where; every change is in
the audit log. Tokens are random, shown once, and stored only as their sha256."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from knowflow.hub.db import audit, now, reading, writing
from knowflow.hub.errors import Conflict, Forbidden, HubError, NotFound, Unauthorized

KINDS = ("team", "community", "public")
ADMIN = "admin"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@/-]{0,199}")


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    is_admin: bool


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_name(name: str, what: str) -> str:
    """The name as stored (NFC), or HubError saying what a name may hold."""
    name = unicodedata.normalize("NFC", name)
    if not _NAME.fullmatch(name):
        raise HubError(f"{what} name {name!r} must be letters, digits and . _ @ / - (200 at most)")
    return name


def _taken(conn: Connection, table: str, name: str, what: str) -> None:
    """Conflict when table holds name in any case: 'ALICE' and 'alice' are one person
    to people reading the directory, so they must be one name here too."""
    # table is one of two literals, never input
    row = conn.execute(
        text(f"SELECT name FROM {table} WHERE lower(name) = lower(:n)"), {"n": name}
    ).first()
    if row is None:
        return
    if row.name == name:
        raise Conflict(f"{what} named {name!r} exists already")
    raise Conflict(
        f"{what} named {row.name!r} exists already, and names differing only by case"
        f" are one name on this hub: use {row.name!r}, or another name"
    )


def init(engine: Engine) -> str:
    """Create the admin member; returns its token, the only time it is seen."""
    token = new_token()
    with writing(engine) as conn:
        if conn.execute(text("SELECT 1 FROM members WHERE is_admin = 1")).first():
            raise Conflict("this hub is already set up: it has an admin")
        _insert_member(conn, ADMIN, token, is_admin=True)
        audit(conn, ADMIN, "hub_initialized", ADMIN)
    return token


def _insert_member(conn: Connection, name: str, token: str, *, is_admin: bool = False) -> None:
    conn.execute(
        text(
            "INSERT INTO members (name, token_hash, is_admin, revoked, created_at)"
            " VALUES (:name, :hash, :admin, 0, :at)"
        ),
        {"name": name, "hash": token_hash(token), "admin": int(is_admin), "at": now()},
    )


def add_member(engine: Engine, name: str, actor: str = ADMIN) -> str:
    """Add a member; returns their token, the only time it is seen."""
    name = _check_name(name, "member")
    token = new_token()
    with writing(engine) as conn:
        _taken(conn, "members", name, "a member")
        _insert_member(conn, name, token)
        audit(conn, actor, "member_added", name)
    return token


def add_audience(engine: Engine, name: str, kind: str, title: str = "", actor: str = ADMIN) -> None:
    name = _check_name(name, "audience")
    if kind not in KINDS:
        raise HubError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    with writing(engine) as conn:
        _taken(conn, "audiences", name, "an audience")
        conn.execute(
            text(
                "INSERT INTO audiences (name, kind, title, created_at)"
                " VALUES (:name, :kind, :title, :at)"
            ),
            {"name": name, "kind": kind, "title": title or name, "at": now()},
        )
        audit(conn, actor, "audience_added", name, kind=kind)


def _id(conn: Connection, table: str, name: str, what: str) -> int:
    # table is one of two literals, never input
    row = conn.execute(text(f"SELECT id FROM {table} WHERE name = :n"), {"n": name}).first()
    if row is None:
        raise NotFound(f"no {what} named {name!r}")
    return int(row[0])


def add_to(
    engine: Engine, audience: str, member: str, *, steward: bool = False, actor: str = ADMIN
) -> bool:
    """Put member in audience (as a steward, if asked); False if they were in it already
    with that role."""
    role = "steward" if steward else "member"
    with writing(engine) as conn:
        audience_id = _id(conn, "audiences", audience, "audience")
        member_id = _id(conn, "members", member, "member")
        found = conn.execute(
            text("SELECT role FROM memberships WHERE audience_id = :a AND member_id = :m"),
            {"a": audience_id, "m": member_id},
        ).first()
        if found is not None and found[0] == role:
            return False
        if found is None:
            conn.execute(
                text(
                    "INSERT INTO memberships (audience_id, member_id, role, joined_at)"
                    " VALUES (:a, :m, :role, :at)"
                ),
                {"a": audience_id, "m": member_id, "role": role, "at": now()},
            )
        else:
            conn.execute(
                text(
                    "UPDATE memberships SET role = :role WHERE audience_id = :a AND member_id = :m"
                ),
                {"a": audience_id, "m": member_id, "role": role},
            )
        audit(conn, actor, "membership_added", audience, member=member, role=role)
    return True


def remove_member(engine: Engine, name: str, actor: str = ADMIN) -> int:
    """Revoke a member's token, take them out of every audience and delete what they
    shared; returns how many artifacts went. Their name stays, revoked, so the audit
    log keeps meaning something and the name is not handed to someone else."""
    with writing(engine) as conn:
        member_id = _id(conn, "members", name, "member")
        admin = conn.execute(text("SELECT is_admin FROM members WHERE id = :m"), {"m": member_id})
        if admin.scalar():
            raise HubError("the admin cannot be removed")
        removed = conn.execute(
            text("DELETE FROM artifacts WHERE author_id = :m"), {"m": member_id}
        ).rowcount
        conn.execute(text("DELETE FROM memberships WHERE member_id = :m"), {"m": member_id})
        conn.execute(
            # a fresh random hash: the old token can never match again
            text("UPDATE members SET revoked = 1, token_hash = :h WHERE id = :m"),
            {"m": member_id, "h": "revoked-" + secrets.token_hex(24)},
        )
        audit(conn, actor, "member_removed", name, artifacts_deleted=removed)
    return int(removed)


def authenticate(engine: Engine, token: str) -> Member:
    """The member whose token this is; Unauthorized when none is, or theirs is revoked."""
    if not token:
        raise Unauthorized("a member token is needed (Authorization: Bearer TOKEN)")
    wanted = token_hash(token)
    with reading(engine) as conn:
        row = conn.execute(
            text(
                "SELECT id, name, is_admin, revoked, token_hash FROM members WHERE token_hash = :h"
            ),
            {"h": wanted},
        ).first()
    # The lookup is by an index; the comparison that decides is constant-time.
    if row is None or row.revoked or not hmac.compare_digest(str(row.token_hash), wanted):
        raise Unauthorized("that token is not valid here (wrong, or revoked)")
    return Member(int(row.id), str(row.name), bool(row.is_admin))


def audience_members(engine: Engine, reader: Member, audience: str) -> dict[str, object]:
    """Who is in an audience, for a member of it (everyone, for a public audience)."""
    with reading(engine) as conn:
        row = conn.execute(
            text("SELECT id, kind FROM audiences WHERE name = :n"), {"n": audience}
        ).first()
        if row is None:
            raise NotFound(f"no audience named {audience!r}")
        if row.kind == "public":
            # every member reads it; the admin account administers: listing it as one
            # of the people there would only mislead someone deciding to share
            names = conn.execute(
                text("SELECT name FROM members WHERE revoked = 0 AND is_admin = 0 ORDER BY name")
            ).scalars()
        else:
            names = conn.execute(
                text(
                    "SELECT m.name FROM memberships s JOIN members m ON m.id = s.member_id"
                    " WHERE s.audience_id = :a AND m.revoked = 0 ORDER BY m.name"
                ),
                {"a": row.id},
            ).scalars()
        found = [str(n) for n in names]
    if row.kind != "public" and reader.name not in found:
        raise Forbidden(f"you are not in the audience {audience!r}")
    return {"audience": audience, "kind": row.kind, "members": found, "count": len(found)}


@dataclass(frozen=True, slots=True)
class Removal:
    """What remove_from did: whether the member was in the audience, how many of their
    shares stay there, and whether a community was left without a steward."""

    removed: bool
    shares_left: int = 0
    stewardless: bool = False

    def __bool__(self) -> bool:
        return self.removed


def remove_from(
    engine: Engine, audience: str, member: str, actor: str = ADMIN, *, force: bool = False
) -> Removal:
    """Take member out of audience. What they shared there stays (it was shared with
    the audience) until they take it back: a push to it is still accepted from them as
    a withdrawal. The last steward of a community stays unless ``force``: without one,
    nobody can admit anyone to it."""
    with writing(engine) as conn:
        audience_id = _id(conn, "audiences", audience, "audience")
        member_id = _id(conn, "members", member, "member")
        last = _last_steward(conn, audience_id, member_id)
        if last and not force:
            raise Conflict(
                f"{member!r} is the last steward of the community {audience!r}: without one"
                " nobody can admit members or answer requests to join. Make another steward"
                f" first (knowflow hub add-to {audience} NAME --steward), or pass --force"
            )
        gone = conn.execute(
            text("DELETE FROM memberships WHERE audience_id = :a AND member_id = :m"),
            {"a": audience_id, "m": member_id},
        ).rowcount
        if not gone:
            return Removal(False)
        audit(conn, actor, "membership_removed", audience, member=member, last_steward=last)
        left = conn.execute(
            text("SELECT count(*) FROM artifacts WHERE audience_id = :a AND author_id = :m"),
            {"a": audience_id, "m": member_id},
        ).scalar()
    return Removal(True, int(left or 0), last)


def _last_steward(conn: Connection, audience_id: int, member_id: int) -> bool:
    """Whether member is the only steward of a community."""
    rows = conn.execute(
        text(
            "SELECT s.member_id FROM memberships s JOIN audiences a ON a.id = s.audience_id"
            " JOIN members m ON m.id = s.member_id WHERE s.audience_id = :a"
            " AND a.kind = 'community' AND s.role = 'steward' AND m.revoked = 0"
        ),
        {"a": audience_id},
    ).all()
    return [int(r.member_id) for r in rows] == [member_id]


def new_feed_token(engine: Engine, member: Member) -> str:
    """A new feed token for member (the old one, if any, stops working); shown once."""
    token = new_token()
    with writing(engine) as conn:
        conn.execute(text("DELETE FROM feed_tokens WHERE member_id = :m"), {"m": member.id})
        conn.execute(
            text(
                "INSERT INTO feed_tokens (member_id, token_hash, created_at) VALUES (:m, :h, :at)"
            ),
            {"m": member.id, "h": token_hash(token), "at": now()},
        )
        audit(conn, member.name, "feed_token_issued", member.name)
    return token


def revoke_feed_token(engine: Engine, member: Member) -> bool:
    """Revoke member's feed token; False if they had none."""
    with writing(engine) as conn:
        gone = conn.execute(
            text("DELETE FROM feed_tokens WHERE member_id = :m"), {"m": member.id}
        ).rowcount
        if gone:
            audit(conn, member.name, "feed_token_revoked", member.name)
    return bool(gone)


def feed_reader(engine: Engine, token: str) -> Member:
    """The member a feed token reads for; Unauthorized when none, or they were removed."""
    wanted = token_hash(token) if token else ""
    with reading(engine) as conn:
        row = conn.execute(
            text(
                "SELECT m.id, m.name, m.is_admin, m.revoked, f.token_hash FROM feed_tokens f"
                " JOIN members m ON m.id = f.member_id WHERE f.token_hash = :h"
            ),
            {"h": wanted},
        ).first()
    if row is None or row.revoked or not hmac.compare_digest(str(row.token_hash), wanted):
        raise Unauthorized("that feed token is not valid here (wrong, or revoked)")
    return Member(int(row.id), str(row.name), bool(row.is_admin))


def reissue_token(engine: Engine, name: str, actor: str = ADMIN) -> str:
    """A new token for a member who lost theirs; the old one stops working with this
    transaction's commit. Returns it, the only time it is seen."""
    token = new_token()
    with writing(engine) as conn:
        member_id = _id(conn, "members", name, "member")
        revoked = conn.execute(text("SELECT revoked FROM members WHERE id = :m"), {"m": member_id})
        if revoked.scalar():
            raise Conflict(f"{name!r} was removed from this hub: add them again under a new name")
        conn.execute(
            text("UPDATE members SET token_hash = :h WHERE id = :m"),
            {"m": member_id, "h": token_hash(token)},
        )
        audit(conn, actor, "token_reissued", name)
    return token


def overview(engine: Engine) -> dict[str, list[dict[str, object]]]:
    """Everyone and every audience, for the admin: members with their audiences and
    roles (revoked ones marked), audiences with kind, stewards and member count."""
    with reading(engine) as conn:
        members = conn.execute(
            text("SELECT id, name, is_admin, revoked, created_at FROM members ORDER BY name")
        ).all()
        audiences = conn.execute(
            text("SELECT id, name, kind, title FROM audiences ORDER BY name")
        ).all()
        links = conn.execute(
            text(
                "SELECT s.audience_id, s.member_id, s.role, a.name AS audience, m.name AS member"
                " FROM memberships s JOIN audiences a ON a.id = s.audience_id"
                " JOIN members m ON m.id = s.member_id ORDER BY a.name, m.name"
            )
        ).all()
    return {
        "members": [
            {
                "name": m.name,
                "admin": bool(m.is_admin),
                "revoked": bool(m.revoked),
                "created_at": m.created_at,
                "audiences": {x.audience: x.role for x in links if x.member_id == m.id},
            }
            for m in members
        ],
        "audiences": [
            {
                "name": a.name,
                "kind": a.kind,
                "title": a.title,
                "stewards": [
                    x.member for x in links if x.audience_id == a.id and x.role == "steward"
                ],
                "members": sum(1 for x in links if x.audience_id == a.id),
            }
            for a in audiences
        ],
    }
