"""The hub's storage and administration, on SQLite and on PostgreSQL: named
migrations, hashed and revocable tokens, the audit log, pushes as complete state."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sqlalchemy import text

from knowflow.hub import admin, push, read
from knowflow.hub.bundle import fingerprint
from knowflow.hub.db import audit_log, open_engine
from knowflow.hub.errors import Conflict, Forbidden, HubError, NotFound, Unauthorized
from knowflow.hub.schema import HUB

from .hubsupport import Hub, a_bundle, a_note


def test_migrations_are_named_recorded_and_run_once(db: str) -> None:
    engine = open_engine(db)
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(text("SELECT name FROM _migrations"))]
    assert sorted(names) == [name for name, _ in HUB.steps]
    assert HUB.apply(engine) == []  # a second start migrates nothing
    engine.dispose()
    again = open_engine(db)  # nor does a new process
    assert HUB.apply(again) == []
    again.dispose()


def test_tokens_are_stored_hashed_compared_and_revoked(hub: Hub) -> None:
    token = hub.member("alice", "platform")
    with hub.engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash FROM members WHERE name = 'alice'")).scalar()
    assert stored == admin.token_hash(token) and token not in str(hub.snapshot())
    assert admin.authenticate(hub.engine, token).name == "alice"
    for wrong in ("", token + "x", token[:-1], "Bearer"):
        with pytest.raises(Unauthorized):
            admin.authenticate(hub.engine, wrong)
    push.push(hub.engine, admin.authenticate(hub.engine, token),
              a_bundle("alice", "platform", a_note("n1", "kept")))  # fmt: skip
    assert admin.remove_member(hub.engine, "alice") == 1
    with pytest.raises(Unauthorized):
        admin.authenticate(hub.engine, token)
    assert hub.snapshot()["artifacts"] == [] and hub.snapshot()["memberships"] == []


def test_every_admin_action_is_in_the_audit_log(hub: Hub) -> None:
    hub.member("alice", "platform")
    admin.add_to(hub.engine, "design", "alice", steward=True)
    admin.remove_member(hub.engine, "alice")
    actions = [(r["action"], r["subject"]) for r in audit_log(hub.engine)]
    assert actions == [
        ("hub_initialized", "admin"),
        ("audience_added", "platform"),
        ("audience_added", "design"),
        ("audience_added", "everyone"),
        ("member_added", "alice"),
        ("membership_added", "platform"),
        ("membership_added", "design"),
        ("member_removed", "alice"),
    ]


def test_admin_refusals_change_nothing(hub: Hub) -> None:
    hub.member("alice")
    before = hub.snapshot()
    with pytest.raises(Conflict):
        admin.init(hub.engine)
    with pytest.raises(Conflict):
        admin.add_member(hub.engine, "alice")
    with pytest.raises(Conflict):
        admin.add_audience(hub.engine, "platform", "team")
    with pytest.raises(HubError):
        admin.add_audience(hub.engine, "x", "network")
    with pytest.raises(HubError):
        admin.add_member(hub.engine, "bad name; drop")
    with pytest.raises(NotFound):
        admin.add_to(hub.engine, "nowhere", "alice")
    with pytest.raises(NotFound):
        admin.remove_member(hub.engine, "nobody")
    with pytest.raises(HubError):
        admin.remove_member(hub.engine, "admin")
    assert hub.snapshot() == before


def test_a_push_is_the_complete_state_and_idempotent(hub: Hub) -> None:
    alice = admin.authenticate(hub.engine, hub.member("alice", "platform"))
    one, two = a_note("n1", "first zebra"), a_note("n2", "second")
    first = push.push(hub.engine, alice, a_bundle("alice", "platform", one, two))
    assert (first.added, first.updated, first.unchanged, first.removed) == (2, 0, 0, 0)
    state = hub.snapshot()
    again = push.push(hub.engine, alice, a_bundle("alice", "platform", one, two))
    assert (again.added, again.unchanged) == (0, 2) and hub.snapshot() == state
    renamed = {**one, "path": "moved/n1.md"}  # same text, new place: an update
    slim = {"id": "n2", "content_hash": two["content_hash"]}
    third = push.push(hub.engine, alice, a_bundle("alice", "platform", renamed, slim))
    assert (third.updated, third.unchanged) == (1, 1)
    assert push.held_hashes(hub.engine, alice, "platform")["n1"]["fingerprint"] == fingerprint(
        renamed
    )
    gone = push.push(hub.engine, alice, a_bundle("alice", "platform", slim))
    assert gone.removed == 1 and read.search(hub.engine, alice, "zebra") == []


def test_refused_pushes_leave_the_hub_as_it_was(hub: Hub) -> None:
    alice = admin.authenticate(hub.engine, hub.member("alice", "platform"))
    hub.member("bob", "design")
    good = a_bundle("alice", "platform", a_note("n1", "body"))
    push.push(hub.engine, alice, good)
    before = hub.snapshot()
    bad: list[tuple[Any, type[HubError]]] = []
    for key, value in (("version", 2), ("format", "x"), ("notes", {}), ("extra", 1)):
        doc = copy.deepcopy(good)
        doc[key] = value
        bad.append((doc, HubError))
    missing = copy.deepcopy(good)
    del missing["notes"][0]["markdown"]
    twice = a_bundle("alice", "platform", a_note("n1", "a"), a_note("n1", "b"))
    unknown_hash = a_bundle("alice", "platform", {"id": "n9", "content_hash": "ab"})
    bad += [
        ([], HubError), (missing, HubError), (twice, HubError),
        (a_bundle("bob", "platform", a_note("n1", "x")), Forbidden),
        (a_bundle("alice", "design", a_note("n1", "x")), Forbidden),
        (a_bundle("alice", "nowhere", a_note("n1", "x")), NotFound),
        (unknown_hash, Conflict),
    ]  # fmt: skip
    for doc, error in bad:
        with pytest.raises(error):
            push.push(hub.engine, alice, doc)
    assert hub.snapshot() == before


def test_search_reads_only_what_the_reader_may_see(hub: Hub) -> None:
    alice = admin.authenticate(hub.engine, hub.member("alice", "platform"))
    bob = admin.authenticate(hub.engine, hub.member("bob", "design"))
    push.push(hub.engine, alice, a_bundle("alice", "platform", a_note("p", "kiwi platformonly")))
    push.push(hub.engine, bob, a_bundle("bob", "design", a_note("d", "kiwi designonly")))
    push.push(hub.engine, bob, a_bundle("bob", "everyone", a_note("e", "kiwi for all")))
    seen = {h["id"] for h in read.search(hub.engine, alice, "kiwi")}
    assert seen == {"p", "e"}
    assert {h["id"] for h in read.search(hub.engine, bob, "kiwi")} == {"d", "e"}
    assert read.search(hub.engine, alice, "designonly") == []
    hit = read.search(hub.engine, alice, "platformonly")[0]
    assert "<mark>platformonly</mark>" in hit["snippet"]
    assert (hit["author"], hit["audience"]) == ("alice", "platform")


def test_snippets_are_escaped_and_queries_are_words(hub: Hub) -> None:
    alice = admin.authenticate(hub.engine, hub.member("alice", "platform"))
    body = "a <script>alert(1)</script> melon"
    push.push(hub.engine, alice, a_bundle("alice", "platform", a_note("x", body)))
    (hit,) = read.search(hub.engine, alice, "melon")
    # SQLite's snippet keeps the tag, escaped; PostgreSQL's headline drops tags
    assert "<script" not in hit["snippet"] and "<mark>melon</mark>" in hit["snippet"]
    for odd in ('"', "melon OR", "NEAR(", "*", "melon -x", "'; DROP TABLE artifacts; --"):
        read.search(hub.engine, alice, odd)  # never a syntax error
    assert read.search(hub.engine, alice, "   ") == []


def test_export_and_delete_all(hub: Hub) -> None:
    alice = admin.authenticate(hub.engine, hub.member("alice", "platform"))
    bob = admin.authenticate(hub.engine, hub.member("bob", "platform"))
    push.push(hub.engine, alice, a_bundle("alice", "platform", a_note("a", "alpha text")))
    push.push(hub.engine, bob, a_bundle("bob", "platform", a_note("b", "beta text")))
    mine = read.export(hub.engine, alice)
    assert [a["note_id"] for a in mine["artifacts"]] == ["a"]
    assert mine["memberships"][0]["name"] == "platform"
    assert read.delete_mine(hub.engine, alice) == 1
    assert read.export(hub.engine, alice)["artifacts"] == []
    assert [h["id"] for h in read.search(hub.engine, bob, "text")] == ["b"]
