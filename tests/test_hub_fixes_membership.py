"""What a new member's trial of the hub found in membership and push semantics, on
SQLite and on PostgreSQL: a member taken out of an audience may still take back what
they shared there (and only that); `knowflow push` reports every audience; a stale
bundle is refused; delete-mine forgets the first-push confirmations; names are one
name whatever their case; the admin is nobody's reader."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy
from click.testing import CliRunner
from sqlalchemy import text

from knowflow.cli.main import cli
from knowflow.hub import admin
from knowflow.hub.client import PUSHED_FILE, TOKEN_ENV
from knowflow.hub.db import audit_log
from knowflow.hub.errors import Conflict, Forbidden, Invalid
from knowflow.hub.push import push
from knowflow.hub.server import running_in_thread

from .hubsupport import (
    Hub,
    a_bundle,
    a_note,
    api,
    note,
    personal_vault,
)

# Words planted in what carol, in platform, must stop seeing once alice takes it back.
KEPT, TAKEN = "zqkeptword", "zqtakenword"


def _member(hub: Hub, name: str) -> admin.Member:
    return admin.authenticate(hub.engine, hub.tokens[name])


def _at(bundle: dict[str, object], generated: str) -> dict[str, object]:
    return {**bundle, "generated": generated}


# -- withdrawal after removal (the hub) --------------------------------------------------


def test_a_member_taken_out_may_withdraw_but_never_add_or_change(hub: Hub) -> None:
    hub.member("alice", "platform")
    alice = _member(hub, "alice")
    kept, taken = a_note("n1", f"kept {KEPT}"), a_note("n2", f"taken {TAKEN}")
    push(hub.engine, alice, a_bundle("alice", "platform", kept, taken))
    assert admin.remove_from(hub.engine, "platform", "alice").shares_left == 2

    before = hub.snapshot()
    for refused in (
        a_bundle("alice", "platform", kept, taken, a_note("n3", "new")),  # an addition
        a_bundle("alice", "platform", a_note("n1", "changed")),  # a change (and a removal)
    ):
        with pytest.raises(Forbidden, match="only take back"):
            push(hub.engine, alice, refused)
        assert hub.snapshot() == before  # all or nothing: not even the removal happened

    slim = {"id": "n1", "content_hash": kept["content_hash"]}
    result = push(hub.engine, alice, a_bundle("alice", "platform", slim))
    assert result.withdrawn and (result.removed, result.unchanged) == (1, 1)
    assert (result.added, result.updated) == (0, 0)
    emptied = push(hub.engine, alice, a_bundle("alice", "platform"))
    assert emptied.withdrawn and emptied.removed == 1
    assert any(r["action"] == "withdrew" for r in audit_log(hub.engine))


def test_withdrawal_is_a_403_for_a_non_member_who_tries_to_add(hub: Hub) -> None:
    # bob was never in design: he can add nothing there, and nothing is changed
    hub.member("bob", "platform")
    before = hub.snapshot()
    with pytest.raises(Forbidden, match="not in the audience 'design'"):
        push(hub.engine, _member(hub, "bob"), a_bundle("bob", "design", a_note("b", "x")))
    assert hub.snapshot() == before


# -- stale bundles -----------------------------------------------------------------------


def test_a_bundle_older_than_the_last_accepted_push_is_refused(hub: Hub) -> None:
    hub.member("alice", "platform")
    alice = _member(hub, "alice")
    newer = _at(a_bundle("alice", "platform", a_note("n1", "new")), "2026-11-30T12:00:00+00:00")
    push(hub.engine, alice, newer)
    before = hub.snapshot()
    older = _at(a_bundle("alice", "platform", a_note("n0", "old")), "2026-11-30T11:59:59Z")
    with pytest.raises(Conflict, match="stale bundle") as refused:
        push(hub.engine, alice, older)
    assert refused.value.status == 409 and hub.snapshot() == before
    # the very same bundle again: accepted, and nothing changes
    again = push(hub.engine, alice, newer)
    assert (again.unchanged, again.added, again.removed) == (1, 0, 0)
    # the same instant in another zone is not older
    same = _at(newer, "2026-11-30T13:00:00+01:00")
    assert push(hub.engine, alice, same).unchanged == 1
    later = _at(a_bundle("alice", "platform"), "2026-11-30T12:00:01+00:00")
    assert push(hub.engine, alice, later).removed == 1
    # each (author, audience) has its own clock: an older bundle elsewhere is fine
    public = _at(a_bundle("alice", "everyone", a_note("p", "x")), "2026-01-01T00:00:00Z")
    assert push(hub.engine, alice, public).added == 1
    with pytest.raises(Invalid, match="ISO 8601"):
        push(hub.engine, alice, _at(a_bundle("alice", "platform"), "yesterday"))


def test_stale_bundles_are_409_json_over_http(hub: Hub) -> None:
    hub.member("alice", "platform")
    with running_in_thread(hub.engine) as app, api(app.state.address, hub.tokens["alice"]) as c:
        first = _at(a_bundle("alice", "platform", a_note("n", "x")), "2026-11-30T10:00:00Z")
        assert c.post("/api/push", json=first).status_code == 200
        stale = c.post("/api/push", json=_at(first, "2026-11-30T09:00:00Z"))
        assert stale.status_code == 409 and stale.json()["error"].startswith("stale bundle: ")
        assert c.post("/api/push", json=first).json()["unchanged"] == 1


# -- names -------------------------------------------------------------------------------


def test_names_differing_only_by_case_are_one_name(hub: Hub) -> None:
    hub.member("alice")
    with pytest.raises(Conflict, match=r"'alice' exists already.*differing only by case"):
        admin.add_member(hub.engine, "ALICE")
    with pytest.raises(Conflict, match="'admin' exists already"):
        admin.add_member(hub.engine, "Admin")
    with pytest.raises(Conflict, match="'platform' exists already"):
        admin.add_audience(hub.engine, "Platform", "team")
    # the database refuses a pair too, whoever writes it
    with pytest.raises(sqlalchemy.exc.IntegrityError), hub.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO members (name, token_hash, is_admin, revoked, created_at)"
                " VALUES ('Alice', 'x', 0, 0, 'now')"
            )
        )
    with pytest.raises(admin.HubError, match="must be letters"):
        admin.add_member(hub.engine, "Ali\u0301ce")  # NFC first, then the rule on names


def test_the_admin_is_nobodys_reader_of_the_public_audience(hub: Hub) -> None:
    hub.member("alice")
    found = admin.audience_members(hub.engine, _member(hub, "alice"), "everyone")
    assert found["members"] == ["alice"] and found["count"] == 1


# -- remove-from: the last steward ---------------------------------------------------


def test_the_last_steward_of_a_community_stays_unless_forced(hub: Hub, db: str) -> None:
    admin.add_audience(hub.engine, "km", "community")
    hub.member("alice")
    hub.member("bob", "km")
    admin.add_to(hub.engine, "km", "alice", steward=True)
    push(hub.engine, _member(hub, "alice"), a_bundle("alice", "km", a_note("k", "x")))
    runner = CliRunner()

    def remove(*args: str) -> str:
        result = runner.invoke(cli, ["hub", "remove-from", *args, "--db", db])
        return f"{result.exit_code}\n{result.output}"

    refused = remove("km", "alice")
    assert refused.startswith("2\n") and "last steward of the community 'km'" in refused
    assert "--force" in refused and "nobody can admit" in refused
    forced = remove("km", "alice", "--force")
    assert forced.startswith("0\n") and "alice is no longer in km" in forced
    assert "Warning: km has no steward now" in forced
    assert "Note: 1 notes alice shared in km stay there" in forced
    # a team has no stewards to lose; a member who is not the last steward just goes
    hub.member("carol", "platform")
    assert admin.remove_from(hub.engine, "platform", "carol") == admin.Removal(True)
    assert remove("km", "bob").startswith("0\n")


# -- the client: knowflow push, delete-mine --------------------------------------------


@dataclass
class World:
    hub: Hub
    address: str
    alice: Path

    def run(self, *args: str, answer: str | None = None) -> tuple[int, str]:
        env = {TOKEN_ENV: self.hub.tokens["alice"]}
        result = CliRunner().invoke(cli, ["--vault", str(self.alice), *args], input=answer, env=env)
        return result.exit_code, result.output

    def client(self, who: str) -> httpx.Client:
        return api(self.address, self.hub.tokens[who])


@pytest.fixture
def world(hub: Hub, tmp_path: Path) -> Iterator[World]:
    hub.member("alice", "platform")
    hub.member("carol", "platform")
    files = {
        "Kept.md": note("team/platform", f"Kept {KEPT} kiwi", "kept-1"),
        "Taken.md": note("team/platform", f"Taken {TAKEN} kiwi", "taken-1"),
        "Open.md": note("public", "Open kiwi"),  # public: in the team's bundle too
    }
    with running_in_thread(hub.engine) as app:
        root = personal_vault(tmp_path / "alice", "alice", app.state.address, files).root
        yield World(hub, app.state.address, root)


def _seen_by(client: httpx.Client) -> str:
    """What carol reads that might carry alice's words: search, directory, digest, flow."""
    # a search's results only: its answer also says back the query, planted word and all
    found = [json.dumps(client.get("/api/search", params={"q": q}).json()["results"])
             for q in ("kiwi", TAKEN)]  # fmt: skip
    return "\n".join(
        [*found, *(client.get(p).text for p in ("/api/directory", "/api/digest", "/api/flow"))]
    )


def test_push_reports_every_audience_and_fails_only_those_that_failed(world: World) -> None:
    code, out = world.run("push", "--yes")
    assert code == 1, out
    lines = out.splitlines()
    assert "platform: pushed: 3 added, 0 updated, 0 unchanged, 0 removed" in lines
    assert any(line.startswith("design: failed: the hub said (403)") for line in lines)
    assert "everyone: pushed: 1 added, 0 updated, 0 unchanged, 0 removed" in lines
    code, out = world.run("push", "--yes", "--json")
    assert code == 1
    answer = json.loads(out[: out.rindex("]") + 1])
    assert [(o["audience"], o["status"]) for o in answer] == [
        ("platform", "unchanged"), ("design", "failed"), ("everyone", "unchanged"),
    ]  # fmt: skip
    assert "not in the audience 'design'" in answer[1]["error"]
    code, out = world.run("push", "--audience", "public")
    assert (code, out.strip()) == (0, "everyone: unchanged: 0 added, 0 updated, 1 unchanged,"
                                       " 0 removed")  # fmt: skip


def test_a_member_taken_out_withdraws_what_they_unshare(world: World) -> None:
    assert world.run("push", "--yes", "--audience", "team/platform")[0] == 0
    with world.client("carol") as carol:
        assert TAKEN in _seen_by(carol)
    admin.remove_from(world.hub.engine, "platform", "alice")
    (world.alice / "Taken.md").write_text(note(None, f"Taken {TAKEN} kiwi", "taken-1"))
    code, out = world.run("push", "--audience", "team/platform")
    assert code == 0, out
    assert "withdrawn from platform (you are no longer a member): 1 removed, 2 still there" in out
    with world.client("carol") as carol:
        seen = _seen_by(carol)
        assert TAKEN not in seen and "Taken" not in seen and KEPT in seen
    # an addition is still refused, and said so for that audience alone
    (world.alice / "New.md").write_text(note("team/platform", "New kiwi"))
    code, out = world.run("push", "--audience", "team/platform")
    assert code == 1 and "platform: failed: the hub said (403)" in out


def test_delete_mine_asks_forgets_confirmations_and_n_is_not_an_error(world: World) -> None:
    code, out = world.run("push", "--audience", "team/platform", answer="y\n")
    assert code == 0 and "platform (team) has 2 members: alice, carol" in out
    code, out = world.run("push", "--audience", "public", answer="y\n")
    assert "everyone (public) has 2 members: alice, carol" in out  # the admin is not there
    pushed = world.alice / ".knowflow" / PUSHED_FILE
    assert set(json.loads(pushed.read_text())[world.address]) == {"platform", "everyone"}

    code, out = world.run("hub", "delete-mine", answer="n\n")
    assert (code, out.splitlines()[-1]) == (0, "Nothing deleted."), out
    assert "Aborted" not in out and world.address in json.loads(pushed.read_text())
    code, out = world.run("hub", "delete-mine", answer="y\n")
    assert code == 0 and "4 artifacts deleted from the hub." in out
    assert "asks again" in out and world.address not in json.loads(pushed.read_text())
    code, out = world.run("push", "--audience", "team/platform", answer="n\n")
    assert code == 0 and "has 2 members" in out and "nothing sent (not confirmed)" in out


def test_one_member_is_one_member(world: World) -> None:
    admin.remove_from(world.hub.engine, "platform", "carol")
    code, out = world.run("push", "--audience", "team/platform", answer="n\n")
    assert code == 0 and "platform (team) has 1 member: alice" in out
