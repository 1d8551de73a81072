"""The hub end to end, on SQLite and on PostgreSQL: personal vaults push through the
real `knowflow push` to a hub served by uvicorn on 127.0.0.1, and each member reads
exactly what their audiences allow."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from click.testing import CliRunner

from knowflow import Index
from knowflow.cli.main import cli
from knowflow.errors import ConfigError
from knowflow.hub import admin
from knowflow.hub.bundle import check
from knowflow.hub.client import TOKEN_ENV, read_token
from knowflow.hub.db import audit_log
from knowflow.hub.server import running_in_thread
from knowflow.share.bundle import bundle
from knowflow.vault import Vault

from .conftest import ROOT
from .hubsupport import Hub, api, make_hub, note, personal_vault

SCHEMA = json.loads((ROOT / "docs" / "bundle.schema.json").read_text())
LIMIT = 256 * 1024
# Unique words planted in what some member may not see.
PLATFORM, DESIGN, PRIVATE, PUBLIC = "zqplatform", "zqdesign", "zqprivate", "zqpublic"
ALICE_FILES = {
    "Deploy.md": note("team/platform", f"How we deploy, {PLATFORM} kiwi", "deploy-1"),
    "Open.md": note("public", f"Open to all, {PUBLIC} kiwi"),
    "Diary.md": note(None, f"My own {PRIVATE} kiwi"),
}
BOB_FILES = {"Sketch zqdesigntitle.md": note("team/design", f"Shapes {DESIGN} kiwi")}


@dataclass
class World:
    hub: Hub
    address: str
    alice: Path
    bob: Path

    def push(self, who: str, *args: str, code: int = 0, answer: str | None = None) -> str:
        return self.cli(who, "push", *args, code=code, answer=answer)

    def cli(self, who: str, *args: str, code: int = 0, answer: str | None = None) -> str:
        root = self.alice if who == "alice" else self.bob
        env = {TOKEN_ENV: self.hub.tokens[who]}
        result = CliRunner().invoke(
            cli, ["--vault", str(root), *args], input=answer, env=env, catch_exceptions=False
        )
        assert result.exit_code == code, result.output
        return result.output

    def client(self, who: str | None, token: str | None = None) -> httpx.Client:
        return api(self.address, token or (self.hub.tokens[who] if who else None))


@pytest.fixture
def world(db: str, tmp_path: Path) -> Iterator[World]:
    hub = make_hub(db)
    hub.member("alice", "platform")
    hub.member("bob", "design")
    hub.member("carol", "platform")
    with running_in_thread(hub.engine, max_push_bytes=LIMIT) as app:
        address = app.state.address
        alice = personal_vault(tmp_path / "alice", "alice", address, ALICE_FILES).root
        bob = personal_vault(tmp_path / "bob", "bob", address, BOB_FILES).root
        yield World(hub, address, alice, bob)
    hub.engine.dispose()


def _everything(client: httpx.Client, queries: list[str]) -> str:
    """Every answer a member can get from the API, as one text."""
    # the results only: each answer also says back the query, planted words and all
    answers = [
        json.dumps(client.get("/api/search", params={"q": q}).json()["results"]) for q in queries
    ]
    answers.append(client.get("/api/export").text)
    for name in ("platform", "design", "everyone"):
        answers.append(client.get(f"/api/audiences/{name}/members").text)
        answers.append(client.get("/api/hashes", params={"audience": name}).text)
    return "\n".join(answers)


def _titles(client: httpx.Client, query: str) -> set[str]:
    reply = client.get("/api/search", params={"q": query})
    assert reply.status_code == 200, reply.text
    return {hit["title"] for hit in reply.json()["results"]}


def test_each_member_reads_exactly_what_their_audiences_allow(world: World) -> None:
    world.push("alice", "--audience", "team/platform", "--yes")
    world.push("alice", "--audience", "public", "--yes")
    out = world.push("alice", "--audience", "design", "--yes", code=1)  # a failed audience: exit 1
    assert "403" in out and "not in the audience 'design'" in out
    world.push("bob", "--audience", "team/design", "--yes")
    world.push("bob", "--audience", "public", "--yes")  # nothing of bob's is public
    queries = ["kiwi", PLATFORM, DESIGN, PRIVATE, PUBLIC, "zqdesigntitle", "Sketch", "Diary"]
    with world.client("carol") as carol, world.client("bob") as bob:
        assert _titles(carol, "kiwi") == {"Deploy", "Open"}
        assert _titles(bob, "kiwi") == {"Sketch zqdesigntitle", "Open"}
        seen_by_carol = _everything(carol, queries)
        seen_by_bob = _everything(bob, queries)
    for marker in (DESIGN, PRIVATE, "zqdesigntitle", "Sketch"):
        assert marker not in seen_by_carol
    for marker in (PLATFORM, PRIVATE, "Deploy", "deploy-1"):
        assert marker not in seen_by_bob
    assert PLATFORM in seen_by_carol and DESIGN in seen_by_bob  # the markers do show


def test_unsharing_and_pushing_removes_it_when_the_push_returns(world: World) -> None:
    world.push("alice", "--audience", "team/platform", "--yes")
    deploy = world.alice / "Deploy.md"
    with world.client("carol") as carol:
        assert _titles(carol, PLATFORM) == {"Deploy"}
        deploy.write_text(note("team/platform", f"Changed, {PLATFORM} melon", "deploy-1"))
        assert "1 updated" in world.push("alice", "--audience", "team/platform")
        assert _titles(carol, "melon") == {"Deploy"} and "Deploy" not in _titles(carol, "kiwi")
        # (Open.md is shared with public, so it is in team/platform's bundle too)
        again = json.loads(world.push("alice", "--audience", "team/platform", "--json"))[0]
        assert (again["sent_whole"], again["sent_as_hash"]) == (0, 2)  # unchanged: hashes
        deploy.write_text(note(None, f"Changed, {PLATFORM} melon", "deploy-1"))
        assert "1 removed" in world.push("alice", "--audience", "team/platform")
        assert _titles(carol, PLATFORM) == set()
    pushes = [r for r in audit_log(world.hub.engine) if r["action"] == "pushed"]
    assert [r["detail"]["removed"] for r in pushes] == [0, 0, 0, 1]


def test_leaving_export_then_delete_everything(world: World) -> None:
    world.push("alice", "--audience", "team/platform", "--yes")
    world.push("alice", "--audience", "public", "--yes")
    world.push("bob", "--audience", "team/design", "--yes")
    with world.client("alice") as alice, world.client("bob") as bob:
        mine = alice.get("/api/export").json()
        assert {(a["audience"], a["title"]) for a in mine["artifacts"]} == {
            ("platform", "Deploy"),
            ("platform", "Open"),  # shared with public: in every audience's bundle
            ("everyone", "Open"),
        }
        assert all(a["markdown"] and a["html"] for a in mine["artifacts"])
        out = world.alice / "mine.json"
        world.cli("alice", "hub", "export", "--out", str(out))
        assert json.loads(out.read_text()) == mine
        assert "3 artifacts deleted" in world.cli("alice", "hub", "delete-mine", "--yes")
        assert alice.get("/api/export").json()["artifacts"] == []
        assert _titles(bob, "kiwi") == {"Sketch zqdesigntitle"}  # bob's stay
    assert audit_log(world.hub.engine)[-1]["action"] == "deleted_all_own"


def _push_body(world: World, **changes: Any) -> dict[str, Any]:
    with Index(Vault(world.alice)) as index:
        index.scan()
        doc = bundle(index, "team/platform")
    doc["audience"] = {**doc["audience"], "name": "platform"}  # type: ignore[dict-item]
    doc["author"] = {"name": "alice"}
    doc.update(changes)
    return doc


def test_bad_pushes_are_clear_json_errors_and_change_nothing(world: World) -> None:
    world.push("alice", "--audience", "team/platform", "--yes")
    good = _push_body(world)
    admin.remove_member(world.hub.engine, "carol")
    before = world.hub.snapshot()
    big = {**good, "notes": [{**good["notes"][0], "markdown": "x" * LIMIT}]}
    cases: list[tuple[str | None, Any, int, str]] = [
        (None, good, 401, "token"),
        ("not-a-token", good, 401, "not valid"),
        (world.hub.tokens["carol"], good, 401, "revoked"),
        ("alice", b"{not json", 400, "not JSON"),
        ("alice", big, 413, "at most"),
        ("alice", {**good, "version": 2}, 422, "version 2"),
        ("alice", {**good, "notes": "x"}, 422, "notes must be an array"),
        ("alice", {**good, "audience": {**good["audience"], "name": "nowhere"}}, 404, "nowhere"),
        ("alice", {**good, "audience": {**good["audience"], "name": "design"}}, 403, "not in"),
        ("alice", {**good, "author": {"name": "bob"}}, 403, "own notes"),
        ("alice", {**good, "notes": [{"id": "zz", "content_hash": "ab"}]}, 409, "hash"),
    ]
    for who, body, status, words in cases:
        token = world.hub.tokens.get(who or "", who)
        with world.client(None, token) as client:
            if isinstance(body, bytes):
                reply = client.post("/api/push", content=body)
            else:
                reply = client.post("/api/push", json=body)
        assert reply.status_code == status, (who, reply.text)
        assert reply.headers["content-type"] == "application/json"
        assert words in reply.json()["error"], reply.json()
        assert world.hub.snapshot() == before
    with world.client("alice") as alice:
        # over the limit without saying so beforehand (chunked): cut off as it comes
        chunks = iter([b"[" + b" " * LIMIT, b"]"])
        reply = alice.post("/api/push", content=chunks)
        assert reply.status_code == 413 and "limit" in reply.json()["error"]
        deep = b"[" * 100_000 + b"]" * 100_000
        reply = alice.post("/api/push", content=deep)
        assert reply.status_code in (400, 413) and reply.json()["error"]
        assert world.hub.snapshot() == before
        assert alice.get("/api/nowhere").json() == {"error": "Not Found"}
        assert alice.get("/api/search", params={"limit": "x"}).status_code == 400


def test_concurrent_pushes_by_one_member_serialize(world: World) -> None:
    base = _push_body(world)
    template = base["notes"][0]
    bodies = [
        {**base, "notes": [{**template, "id": f"c{i}-{j}", "path": f"c{i}/{j}.md",
                           "markdown": f"version {i} part {j}"} for j in range(15)]}
        for i in range(6)
    ]  # fmt: skip
    statuses: list[int] = []

    def send(body: dict[str, Any]) -> None:
        with world.client("alice") as client:
            statuses.append(client.post("/api/push", json=body).status_code)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * len(bodies)
    with world.client("alice") as alice:
        held = set(alice.get("/api/hashes", params={"audience": "platform"}).json()["hashes"])
    # exactly one whole push won: never a mix of two
    assert held in [{n["id"] for n in body["notes"]} for body in bodies]
    pushes = [r for r in audit_log(world.hub.engine) if r["action"] == "pushed"]
    # each push saw the whole state the one before it left: it replaced all 15 notes
    removed = sorted(r["detail"]["removed"] for r in pushes)
    assert removed == [0] + [15] * (len(bodies) - 1)
    assert all(r["detail"]["added"] == 15 for r in pushes)


def test_the_token_file_must_be_its_owners_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    path = tmp_path / "hub-token"
    with pytest.raises(ConfigError, match="no hub token"):
        read_token(path)
    path.write_text("secret\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="read by others"):
        read_token(path)
    path.chmod(0o600)
    assert read_token(path) == "secret"
    monkeypatch.setenv(TOKEN_ENV, "from-env")
    assert read_token(path) == "from-env"


def test_first_push_to_an_audience_shows_who_is_in_it_and_asks(world: World) -> None:
    before = world.hub.snapshot()
    out = world.push("alice", "--audience", "team/platform", answer="n\n")
    assert "platform (team) has 2 members: alice, carol" in out
    assert "platform: nothing sent (not confirmed)" in out
    assert world.hub.snapshot() == before  # said no: nothing sent
    out = world.push("alice", "--audience", "team/platform", answer="y\n")
    assert "2 added" in out and world.hub.snapshot() != before
    out = world.push("alice", "--audience", "team/platform")  # asked once only
    assert "has 2 members" not in out and "2 unchanged" in out
    dry = world.push("alice", "--audience", "public", "--dry-run")
    assert "would send 1 whole" in dry


def test_a_pushed_bundle_is_valid_under_the_published_schema(world: World) -> None:
    with Index(Vault(world.alice)) as index:
        index.scan()
        doc = bundle(index, "team/platform")
    jsonschema.validate(doc, SCHEMA)
    assert check(doc) is doc
