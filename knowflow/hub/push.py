"""Applying a push: the complete current state of one member's notes for one
audience, in one transaction. What the push lacks is deleted (un-shared); a note
sent as its hash alone keeps the version the hub holds; the same push twice
changes nothing the second time. Pushes by one member queue on a lock (the
member's row on PostgreSQL, the database's write lock on SQLite).

A member taken out of an audience may still take back what they shared there: a
push to it is then accepted as a withdrawal only (notes may go or stay, none may be
added or changed). A bundle generated before the last accepted one is refused, so a
late retry cannot put back what a newer push took away."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, text

from knowflow.hub.admin import Member
from knowflow.hub.bundle import check, fingerprint, is_hash_only
from knowflow.hub.db import audit, now, reading, writing
from knowflow.hub.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

_COLUMNS = (
    "path", "url", "title", "type", "tags", "aliases", "links",
    "markdown", "html", "created", "updated", "content_hash", "fingerprint",
)  # fmt: skip


_INSERT = text(
    f"INSERT INTO artifacts (author_id, audience_id, note_id, shared_at, {', '.join(_COLUMNS)})"
    f" VALUES (:author, :audience, :note_id, :at, {', '.join(':' + c for c in _COLUMNS)})"
)
_UPDATE = text(
    f"UPDATE artifacts SET shared_at = :at, {', '.join(f'{c} = :{c}' for c in _COLUMNS)}"
    " WHERE id = :id"
)


@dataclass
class PushResult:
    audience: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    # the member is no longer in the audience: this push could only take notes back
    withdrawn: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def push(engine: Engine, member: Member, doc: Any) -> PushResult:
    """Apply a bundle pushed by member; HubError subclasses say why not, and then the
    hub's state is as it was."""
    bundle = check(doc)
    if bundle["author"]["name"] != member.name:
        raise Forbidden(
            f"the bundle's author is {bundle['author']['name']!r}, but this token is"
            f" {member.name!r}'s: a member pushes only their own notes"
        )
    name = bundle["audience"]["name"]
    generated = _generated(bundle["generated"])
    with writing(engine) as conn:
        _lock_member(conn, member)
        audience_id, belongs = _audience_for(conn, member, name)
        _refuse_stale(conn, member, audience_id, generated)
        result = PushResult(name, withdrawn=not belongs)
        _apply(conn, member, audience_id, bundle["notes"], result)
        if result.withdrawn and (result.added or result.updated):
            # raising rolls the whole push back: nothing was added, nothing taken
            raise Forbidden(
                f"you are not in the audience {name!r}: you may only take back what you"
                " shared there, not add or change it"
            )
        _remember_generated(conn, member, audience_id, generated)
        counts = {k: v for k, v in result.as_dict().items() if k != "audience"}
        audit(conn, member.name, "withdrew" if result.withdrawn else "pushed", name, **counts)
    return result


def _generated(value: str) -> dt.datetime:
    """The bundle's ``generated`` time, in UTC; 422 when it is not ISO 8601 with a zone."""
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise Invalid(f"the bundle's generated time {value!r} is not ISO 8601 with a time zone")
    return when.astimezone(dt.UTC)


def _refuse_stale(conn: Connection, member: Member, audience_id: int, when: dt.datetime) -> None:
    """409 for a bundle older than the last accepted push here; the same time passes, so
    a replay of the very same bundle is accepted (and changes nothing)."""
    last = _last_generated(conn, member, audience_id)
    if last is not None and when < last:
        raise Conflict(
            f"stale bundle: it was generated at {when.isoformat()}, before the last push"
            f" accepted for this audience ({last.isoformat()}); make a new one and push again"
        )


def _last_generated(conn: Connection, member: Member, audience_id: int) -> dt.datetime | None:
    row = conn.execute(
        text("SELECT generated FROM push_state WHERE author_id = :m AND audience_id = :a"),
        {"m": member.id, "a": audience_id},
    ).first()
    return None if row is None else dt.datetime.fromisoformat(str(row.generated))


def _remember_generated(
    conn: Connection, member: Member, audience_id: int, when: dt.datetime
) -> None:
    keys = {"m": member.id, "a": audience_id, "g": when.isoformat()}
    # The member's lock is held: nobody else writes this row meanwhile.
    if _last_generated(conn, member, audience_id) is None:
        conn.execute(
            text("INSERT INTO push_state (author_id, audience_id, generated) VALUES (:m, :a, :g)"),
            keys,
        )
    else:
        conn.execute(
            text("UPDATE push_state SET generated = :g WHERE author_id = :m AND audience_id = :a"),
            keys,
        )


def _lock_member(conn: Connection, member: Member) -> None:
    """Serialize this member's pushes, and see a revocation that raced the request.
    SQLite's BEGIN IMMEDIATE already holds the database's write lock."""
    lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    row = conn.execute(
        text(f"SELECT revoked FROM members WHERE id = :m{lock}"), {"m": member.id}
    ).first()
    if row is None or row.revoked:
        raise Unauthorized("that token is not valid here (wrong, or revoked)")


def _audience_for(conn: Connection, member: Member, name: str) -> tuple[int, bool]:
    """The audience's id, and whether the member may add to it (False: withdraw only)."""
    row = conn.execute(
        text(
            "SELECT a.id, a.kind, s.member_id FROM audiences a LEFT JOIN memberships s"
            " ON s.audience_id = a.id AND s.member_id = :m WHERE a.name = :n"
        ),
        {"m": member.id, "n": name},
    ).first()
    if row is None:
        raise NotFound(f"the hub has no audience named {name!r}")
    return int(row.id), row.kind == "public" or row.member_id is not None


def _apply(
    conn: Connection, member: Member, audience_id: int, notes: list[dict[str, Any]],
    result: PushResult,
) -> PushResult:  # fmt: skip
    held = {
        row.note_id: (int(row.id), str(row.content_hash), str(row.fingerprint))
        for row in conn.execute(
            text(
                "SELECT id, note_id, content_hash, fingerprint FROM artifacts"
                " WHERE author_id = :m AND audience_id = :a"
            ),
            {"m": member.id, "a": audience_id},
        )
    }
    at = now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for note in notes:
        have = held.pop(note["id"], None)
        if is_hash_only(note):
            if have is None or have[1] != note["content_hash"]:
                raise Conflict(
                    f"note {note['id']!r} came as a hash only, but the hub holds no such"
                    " version of it: send it whole"
                )
            result.unchanged += 1
        elif have is None:
            inserts.append({"author": member.id, "audience": audience_id,
                            "note_id": note["id"], "at": at, **_values(note)})  # fmt: skip
        elif have[2] != fingerprint(note):
            updates.append({"id": have[0], "at": at, **_values(note)})
        else:
            result.unchanged += 1
    # One statement for many rows each (executemany): a first push of thousands of
    # notes is not thousands of round trips to PostgreSQL.
    if inserts:
        conn.execute(_INSERT, inserts)
    if updates:
        conn.execute(_UPDATE, updates)
    result.added, result.updated = len(inserts), len(updates)
    if held:
        ids = [artifact_id for artifact_id, *_ in held.values()]
        for start in range(0, len(ids), 500):
            conn.execute(
                text("DELETE FROM artifacts WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": ids[start : start + 500]},
            )
        result.removed = len(ids)
    return result


def _values(note: dict[str, Any]) -> dict[str, Any]:
    values = {key: note[key] for key in _COLUMNS if key != "fingerprint"}
    for key in ("tags", "aliases", "links"):
        values[key] = json.dumps(note[key], ensure_ascii=False)
    values["fingerprint"] = fingerprint(note)
    return values


def held_hashes(engine: Engine, member: Member, audience: str) -> dict[str, dict[str, str]]:
    """The content hash and fingerprint of each note the hub holds of member's for
    audience, so the client sends whole only what changed."""
    with reading(engine) as conn:
        rows = conn.execute(
            text(
                "SELECT f.note_id, f.content_hash, f.fingerprint FROM artifacts f"
                " JOIN audiences a ON a.id = f.audience_id"
                " WHERE f.author_id = :m AND a.name = :n"
            ),
            {"m": member.id, "n": audience},
        )
        return {
            str(r.note_id): {"content_hash": str(r.content_hash), "fingerprint": str(r.fingerprint)}
            for r in rows
        }
