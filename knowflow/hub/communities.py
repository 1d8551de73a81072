"""Communities: members ask to join, the community's own stewards admit them (trust
comes first); teams stay admin-managed. Every request, admission and refusal is in
the audit log.

A community's page shows what was shared there, who is active, who joined when and
who stewards it, to its members. Anyone else sees only its name, kind, title and
stewards: enough to know whom to ask, nothing of what is shared there, not a count.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, text

from knowflow.hub.admin import Member
from knowflow.hub.db import audit, now, reading, writing
from knowflow.hub.errors import Conflict, Forbidden, NotFound

SHOWN = 50  # artifacts listed on a community's page, newest first


def _community(conn: Connection, name: str) -> Any:
    row = conn.execute(
        text("SELECT id, name, kind, title FROM audiences WHERE name = :n"), {"n": name}
    ).first()
    if row is None:
        raise NotFound(f"no community named {name!r}")
    if row.kind != "community":
        # Said plainly: a team's name is no secret (push names it), its members are.
        raise Forbidden(
            f"{name!r} is a {row.kind}, not a community: the hub's admin decides who is in it"
        )
    return row


def _role(conn: Connection, audience_id: int, member: Member) -> str | None:
    found = conn.execute(
        text("SELECT role FROM memberships WHERE audience_id = :a AND member_id = :m"),
        {"a": audience_id, "m": member.id},
    ).scalar()
    return None if found is None else str(found)


def _require_steward(conn: Connection, community: Any, member: Member) -> None:
    if _role(conn, community.id, member) != "steward":
        raise Forbidden(f"only a steward of {community.name!r} may do that")


def ask(engine: Engine, member: Member, name: str) -> dict[str, Any]:
    """member asks to join the community; asking twice is one request."""
    with writing(engine) as conn:
        community = _community(conn, name)
        if _role(conn, community.id, member) is not None:
            raise Conflict(f"you are in {name!r} already")
        held = conn.execute(
            text("SELECT asked_at FROM join_requests WHERE audience_id = :a AND member_id = :m"),
            {"a": community.id, "m": member.id},
        ).scalar()
        if held is None:
            held = now()
            conn.execute(
                text(
                    "INSERT INTO join_requests (audience_id, member_id, asked_at)"
                    " VALUES (:a, :m, :at)"
                ),
                {"a": community.id, "m": member.id, "at": held},
            )
            audit(conn, member.name, "join_requested", name)
    return {"community": name, "status": "asked", "asked_at": held}


def requests(engine: Engine, steward: Member, name: str) -> dict[str, Any]:
    """Who asked to join, oldest first: for the community's stewards only."""
    with reading(engine) as conn:
        community = _community(conn, name)
        _require_steward(conn, community, steward)
        rows = conn.execute(
            text(
                "SELECT m.name, r.asked_at FROM join_requests r JOIN members m"
                " ON m.id = r.member_id WHERE r.audience_id = :a AND m.revoked = 0"
                " ORDER BY r.asked_at, m.name"
            ),
            {"a": community.id},
        )
        found = [{"member": str(r.name), "asked_at": str(r.asked_at)} for r in rows]
    return {"community": name, "requests": found}


def decide(engine: Engine, steward: Member, name: str, who: str, *, admit: bool) -> dict[str, Any]:
    """A steward admits or declines who's request to join; a request must be there
    (stewards do not pull people in: people ask)."""
    with writing(engine) as conn:
        community = _community(conn, name)
        _require_steward(conn, community, steward)
        row = conn.execute(
            text(
                "SELECT m.id FROM join_requests r JOIN members m ON m.id = r.member_id"
                " WHERE r.audience_id = :a AND m.name = :n AND m.revoked = 0"
            ),
            {"a": community.id, "n": who},
        ).first()
        if row is None:
            raise NotFound(f"{who!r} has not asked to join {name!r}")
        conn.execute(
            text("DELETE FROM join_requests WHERE audience_id = :a AND member_id = :m"),
            {"a": community.id, "m": row.id},
        )
        if admit:
            conn.execute(
                text(
                    "INSERT INTO memberships (audience_id, member_id, role, joined_at)"
                    " VALUES (:a, :m, 'member', :at)"
                ),
                {"a": community.id, "m": row.id, "at": now()},
            )
        action = "join_admitted" if admit else "join_declined"
        audit(conn, steward.name, action, name, member=who)
    return {"community": name, "member": who, "status": "admitted" if admit else "declined"}


def page(engine: Engine, reader: Member, name: str) -> dict[str, Any]:
    """The community as reader may see it: all of it for a member, the door for others."""
    with reading(engine) as conn:
        community = _community(conn, name)
        people = _people(conn, community.id)
        found: dict[str, Any] = {
            "name": community.name,
            "kind": community.kind,
            "title": community.title,
            "stewards": [p["name"] for p in people if p["role"] == "steward"],
        }
        if _role(conn, community.id, reader) is None:
            asked = conn.execute(
                text("SELECT 1 FROM join_requests WHERE audience_id = :a AND member_id = :m"),
                {"a": community.id, "m": reader.id},
            ).first()
            return found | {"member": False, "asked": asked is not None}
        found |= {"member": True, "members": people}
        found |= _shared(conn, community.id)
    return found


def _people(conn: Connection, audience_id: int) -> list[dict[str, str]]:
    rows = conn.execute(
        text(
            "SELECT m.name, s.role, s.joined_at FROM memberships s JOIN members m"
            " ON m.id = s.member_id WHERE s.audience_id = :a AND m.revoked = 0"
            " ORDER BY s.joined_at, m.name"
        ),
        {"a": audience_id},
    )
    return [{"name": str(r.name), "role": str(r.role), "joined_at": str(r.joined_at)} for r in rows]


def _shared(conn: Connection, audience_id: int) -> dict[str, Any]:
    """What was shared in the community (newest first) and who is active there."""
    active = conn.execute(
        text(
            "SELECT m.name, COUNT(*) AS shared, MAX(f.shared_at) AS last_shared"
            " FROM artifacts f JOIN members m ON m.id = f.author_id"
            " WHERE f.audience_id = :a GROUP BY m.name ORDER BY MAX(f.shared_at) DESC, m.name"
        ),
        {"a": audience_id},
    )
    people = [
        {"person": str(r.name), "shared": int(r.shared), "last_shared": str(r.last_shared)}
        for r in active
    ]
    rows = conn.execute(
        text(
            "SELECT f.note_id, f.title, f.tags, f.shared_at, m.name AS author FROM artifacts f"
            " JOIN members m ON m.id = f.author_id WHERE f.audience_id = :a"
            " ORDER BY f.shared_at DESC, f.id DESC LIMIT :limit"
        ),
        {"a": audience_id, "limit": SHOWN},
    )
    shared = [
        {
            "id": str(r.note_id),
            "title": str(r.title),
            "author": str(r.author),
            "tags": json.loads(r.tags),
            "shared_at": str(r.shared_at),
        }
        for r in rows
    ]
    return {"active": people, "shared": shared, "shared_count": sum(p["shared"] for p in people)}
