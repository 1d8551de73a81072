"""The hub's API beyond push and search, on SQLite and on PostgreSQL: the directory,
who knows, the flow map, the digest and its Atom feed (all from what the reader may
see), communities, feed tokens, size and rate limits, and the OpenAPI description."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from starlette.testclient import TestClient

from knowflow.cli.main import cli
from knowflow.hub import admin, api, artifact, communities, push
from knowflow.hub.app import _routes, create_app
from knowflow.hub.db import audit, audit_log, writing
from knowflow.hub.limits import Buckets, RateLimit
from knowflow.hub.openapi import document, route_methods

from .hubsupport import BACKENDS, Hub, a_bundle, a_note, fresh_db, make_hub

# Words planted in what some reader may not see.
PLATFORM, DESIGN, KMC = "zqplatformword", "zqdesignword", "zqcommunityword"
API_MODULES = ("knowflow.hub.app", "knowflow.hub.api")  # the JSON API's own routes
PERIOD = {"since": "2000-01-01", "until": "2100-01-01"}


def client(hub: Hub, who: str | None = None, **options: object) -> TestClient:
    made = TestClient(create_app(hub.engine, **options))  # type: ignore[arg-type]
    if who:
        made.headers["Authorization"] = f"Bearer {hub.tokens[who]}"
    return made


def share(hub: Hub, who: str, audience: str, *notes: tuple[str, str, list[str]]) -> None:
    """who pushes notes (id, body, tags) to audience."""
    member = admin.authenticate(hub.engine, hub.tokens[who])
    bundle = a_bundle(who, audience, *(a_note(i, body, tags=tags) for i, body, tags in notes))
    push.push(hub.engine, member, bundle)


@pytest.fixture
def shared(hub: Hub) -> Hub:
    """alice and carol in platform, bob in design; each shares to their team, alice also
    to everyone."""
    hub.member("alice", "platform")
    hub.member("bob", "design")
    hub.member("carol", "platform")
    share(hub, "alice", "platform", ("deploy", f"How we deploy, {PLATFORM} pipelines", ["ops"]))
    share(hub, "alice", "everyone", ("open", "Open to all: pipelines and ops", ["ops"]))
    share(hub, "bob", "design", ("sketch", f"Shapes {DESIGN} pipelines", ["zqdesigntag"]))
    return hub


# -- insight over the API ----------------------------------------------------------------


def test_directory_who_knows_flow_and_digest_show_only_what_the_reader_may_see(
    shared: Hub,
) -> None:
    with client(shared, "carol") as carol:
        people = carol.get("/api/directory").json()["people"]
        assert [p["person"] for p in people] == ["alice"]
        assert people[0]["shared"] == 2 and people[0]["audiences"] == ["everyone", "platform"]
        assert PLATFORM in {t["term"] for t in people[0]["topics"]}
        knows = carol.get("/api/who-knows", params={"q": PLATFORM}).json()["people"]
        assert [(p["person"], [a["title"] for a in p["artifacts"]]) for p in knows] == [
            ("alice", ["deploy"])
        ]
        assert carol.get("/api/who-knows", params={"q": DESIGN}).json()["people"] == []
        flow = carol.get("/api/flow").json()
        assert {a["name"] for a in flow["audiences"]} == {"platform", "everyone"}
        assert [p["name"] for p in flow["people"]] == ["alice"]
        svg = carol.get("/api/flow.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
        digest = carol.get("/api/digest", params=PERIOD).json()
        assert [s["audience"] for s in digest["audiences"]] == ["everyone", "platform"]
        everything = "\n".join(
            [json.dumps(people), json.dumps(knows), json.dumps(flow), svg.text, str(digest)]
        )
    for marker in ("bob", "design", DESIGN, "zqdesigntag", "sketch"):
        assert marker not in everything
    with client(shared, "bob") as bob:
        people = bob.get("/api/directory").json()["people"]
        assert [(p["person"], p["shared"]) for p in people] == [("alice", 1), ("bob", 1)]


def test_the_digest_takes_a_period_and_one_audience_the_reader_reads(shared: Hub) -> None:
    with client(shared, "carol") as carol:
        one = carol.get("/api/digest", params={**PERIOD, "audience": "platform"}).json()
        assert [s["audience"] for s in one["audiences"]] == ["platform"]
        assert [a["title"] for a in one["audiences"][0]["artifacts"]] == ["deploy"]
        later = carol.get("/api/digest", params={"since": "2099-01-01", "until": "2100-01-01"})
        assert later.json()["audiences"] == []
        assert carol.get("/api/digest").json()["audiences"]  # the last 7 days, by default
        for name in ("design", "no-such-audience"):  # one answer: a name tells nothing
            refused = carol.get("/api/digest", params={"audience": name})
            assert refused.status_code == 403 and name in refused.json()["error"]
        bad = carol.get("/api/digest", params={"since": "last tuesday"})
        assert bad.status_code == 400 and "ISO 8601" in bad.json()["error"]
        assert carol.get("/api/who-knows", params={"q": "x", "limit": "all"}).status_code == 400
    with client(shared) as nobody:
        for path in ("/api/directory", "/api/who-knows", "/api/flow", "/api/flow.svg"):
            assert nobody.get(path).status_code == 401


def test_the_atom_feed_reads_with_a_separate_revocable_feed_token(shared: Hub) -> None:
    with client(shared, "carol") as carol, client(shared) as reader:
        issued = carol.post("/api/feed-token").json()
        feed = reader.get(issued["feed"] + "&since=2000-01-01")
        assert feed.status_code == 200, feed.text
        assert feed.headers["content-type"].startswith("application/atom+xml")
        assert "<title>deploy</title>" in feed.text and "<title>open</title>" in feed.text
        assert DESIGN not in feed.text and "sketch" not in feed.text
        assert issued["token"] not in feed.text  # its own address is given without the key
        member_token = shared.tokens["carol"]
        assert reader.get("/feeds/digest.atom", params={"token": member_token}).status_code == 401
        assert reader.get("/feeds/digest.atom").status_code == 401
        again = carol.post("/api/feed-token").json()  # a new one: the old stops working
        assert reader.get(issued["feed"]).status_code == 401
        assert reader.get(again["feed"]).status_code == 200
        assert carol.delete("/api/feed-token").json() == {"revoked": True}
        refused = reader.get(again["feed"])
        assert refused.status_code == 401 and "feed token" in refused.json()["error"]
        assert carol.delete("/api/feed-token").json() == {"revoked": False}
        bobs = client(shared, "bob").post("/api/feed-token").json()["feed"]
        admin.remove_member(shared.engine, "bob")
        assert reader.get(bobs).status_code == 401  # a removed member's feed is closed
    actions = [row["action"] for row in audit_log(shared.engine)]
    assert "feed_token_issued" in actions and "feed_token_revoked" in actions


def test_the_visible_is_built_once_per_hub_version_and_audience_set(shared: Hub) -> None:
    app = create_app(shared.engine)
    with TestClient(app) as plain:
        carol = {"Authorization": f"Bearer {shared.tokens['carol']}"}
        alice = {"Authorization": f"Bearer {shared.tokens['alice']}"}
        bob = {"Authorization": f"Bearer {shared.tokens['bob']}"}
        for path in ("/api/directory", "/api/flow", "/api/who-knows?q=ops", "/api/digest"):
            assert plain.get(path, headers=carol).status_code == 200
        assert plain.get("/api/directory", headers=alice).status_code == 200  # same audiences
        cache = app.state.insight_cache
        assert isinstance(cache, api.InsightCache) and cache.builds == 1
        plain.get("/api/directory", headers=bob)
        assert cache.builds == 2
        share(shared, "carol", "platform", ("new", "Something new on ops", ["ops"]))
        people = plain.get("/api/directory", headers=carol).json()["people"]
        assert cache.builds == 3 and [p["person"] for p in people] == ["alice", "carol"]
        admin.add_to(shared.engine, "design", "carol")  # a membership change is seen at once
        assert "bob" in plain.get("/api/directory", headers=carol).text


def test_requests_that_come_at_once_build_the_visible_once(shared: Hub) -> None:
    cache = api.InsightCache()
    carol = admin.authenticate(shared.engine, shared.tokens["carol"])
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: cache.seen(shared.engine, carol), range(8)))
        directories = list(pool.map(lambda seen: seen.directory(), found))
    assert cache.builds == 1 and all(seen is found[0] for seen in found)
    assert all(d is directories[0] for d in directories)


# -- communities -------------------------------------------------------------------------


@pytest.fixture
def community(hub: Hub) -> Hub:
    admin.add_audience(hub.engine, "kmc", "community", "KM practitioners")
    hub.member("sam")
    admin.add_to(hub.engine, "kmc", "sam", steward=True)
    hub.member("dan")
    hub.member("eve")
    share(hub, "sam", "kmc", ("practice", f"Working out loud {KMC}", ["wol"]))
    return hub


def test_members_ask_to_join_and_stewards_admit_or_decline(community: Hub) -> None:
    with (
        client(community, "dan") as dan,
        client(community, "eve") as eve,
        client(community, "sam") as sam,
    ):
        asked = dan.post("/api/communities/kmc/join").json()
        assert asked["status"] == "asked"
        assert dan.post("/api/communities/kmc/join").json() == asked  # one request
        eve.post("/api/communities/kmc/join")
        refused = dan.get("/api/communities/kmc/requests")
        assert refused.status_code == 403 and "steward" in refused.json()["error"]
        assert dan.post("/api/communities/kmc/admit/dan").status_code == 403
        waiting = sam.get("/api/communities/kmc/requests").json()["requests"]
        assert [r["member"] for r in waiting] == ["dan", "eve"]
        assert sam.post("/api/communities/kmc/admit/dan").json()["status"] == "admitted"
        assert sam.post("/api/communities/kmc/decline/eve").json()["status"] == "declined"
        assert sam.get("/api/communities/kmc/requests").json()["requests"] == []
        assert sam.post("/api/communities/kmc/admit/eve").status_code == 404  # no request
        assert sam.post("/api/communities/kmc/admit/nobody").status_code == 404
        again = dan.post("/api/communities/kmc/join")
        assert again.status_code == 409 and "already" in again.json()["error"]
        page = dan.get("/api/communities/kmc").json()
        # (joined in the same second, they come by name)
        assert {(p["name"], p["role"]) for p in page["members"]} == {
            ("sam", "steward"),
            ("dan", "member"),
        }
        assert eve.get("/api/communities/kmc").json()["member"] is False
        team = dan.post("/api/communities/platform/join")
        assert team.status_code == 403 and "admin" in team.json()["error"]
        assert dan.post("/api/communities/nowhere/join").status_code == 404
    assert admin.authenticate(community.engine, community.tokens["dan"])
    log = [(r["actor"], r["action"], r["subject"]) for r in audit_log(community.engine)]
    for entry in [
        ("dan", "join_requested", "kmc"),
        ("sam", "join_admitted", "kmc"),
        ("sam", "join_declined", "kmc"),
    ]:
        assert entry in log


def test_a_community_shows_its_door_to_others_and_its_life_to_members(community: Hub) -> None:
    with client(community, "dan") as dan, client(community, "sam") as sam:
        door = dan.get("/api/communities/kmc").json()
        assert door == {
            "name": "kmc",
            "kind": "community",
            "title": "KM practitioners",
            "stewards": ["sam"],
            "member": False,
            "asked": False,
        }
        dan.post("/api/communities/kmc/join")
        assert dan.get("/api/communities/kmc").json()["asked"] is True
        for path in ("/api/directory", "/api/flow", "/api/digest", "/api/communities/kmc"):
            assert KMC not in dan.get(path).text and "practice" not in dan.get(path).text
        inside = sam.get("/api/communities/kmc").json()
        assert inside["member"] is True and inside["shared_count"] == 1
        assert [a["title"] for a in inside["shared"]] == ["practice"]
        assert [(p["person"], p["shared"]) for p in inside["active"]] == [("sam", 1)]
        assert inside["members"][0]["joined_at"]


def test_remove_from_takes_a_member_out_of_an_audience(hub: Hub, db: str) -> None:
    hub.member("alice", "platform")
    runner = CliRunner()
    out = runner.invoke(cli, ["hub", "remove-from", "platform", "alice", "--db", db])
    assert out.exit_code == 0 and "alice is no longer in platform" in out.output, out.output
    again = runner.invoke(cli, ["hub", "remove-from", "platform", "alice", "--db", db])
    assert again.exit_code == 0 and "was not in" in again.output
    with client(hub, "alice") as alice:
        assert alice.get("/api/audiences/platform/members").status_code == 403
    assert any(r["action"] == "membership_removed" for r in audit_log(hub.engine))


# -- limits ------------------------------------------------------------------------------


def test_every_endpoint_refuses_an_oversized_body_or_query(hub: Hub) -> None:
    hub.member("alice")
    with client(hub, "alice") as alice:
        declared = alice.post("/api/communities/x/join", content=b"x" * 70_000)
        assert declared.status_code == 413 and "65536" in declared.json()["error"]

        def chunks() -> Iterator[bytes]:
            yield from [b"x" * 30_000] * 3

        streamed = alice.post("/api/feed-token", content=chunks())
        assert streamed.status_code == 413, streamed.text
        assert "limit" in streamed.json()["error"]
        long = alice.get("/api/who-knows", params={"q": "x" * 9000})
        assert long.status_code == 414 and "error" in long.json()
        assert alice.get("/api/who-knows", params={"q": "x" * 100}).status_code == 200


def test_a_token_over_its_rate_waits_and_others_do_not(hub: Hub) -> None:
    hub.member("alice")
    hub.member("bob")
    rate = RateLimit(rate=0.05, burst=3, failures_rate=0.01, failures_burst=2)
    with client(hub, "alice", rate=rate) as alice:
        bob = {"Authorization": f"Bearer {hub.tokens['bob']}"}
        for _ in range(3):
            assert alice.get("/api/me").status_code == 200
        over = alice.get("/api/me")
        assert over.status_code == 429 and "too many" in over.json()["error"]
        assert int(over.headers["retry-after"]) >= 1
        assert alice.get("/api/me", headers=bob).status_code == 200
        wrong = {"Authorization": "Bearer wrong"}
        for guess in ("wrong1", "wrong2"):
            assert alice.get("/api/me", headers={"Authorization": guess}).status_code == 401
        assert alice.get("/api/me", headers=wrong).status_code in (401, 429)
        # wrong tokens from one address: that address waits, whatever token comes next
        assert alice.get("/api/me", headers=bob).status_code == 429


def test_a_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    buckets = Buckets(rate=2.0, burst=2, clock=lambda: now[0])
    assert buckets.take("k") == 0 and buckets.take("k") == 0
    assert buckets.take("k") == pytest.approx(0.5)
    assert buckets.take("other") == 0
    now[0] += 0.5
    assert buckets.wait("k") == 0 and buckets.take("k") == 0
    assert buckets.take("k") > 0


# -- OpenAPI -----------------------------------------------------------------------------


def test_the_openapi_description_covers_every_endpoint(hub: Hub) -> None:
    with client(hub) as anyone:
        answer = anyone.get("/api/openapi.json")
        assert answer.status_code == 200
        doc = json.loads(answer.text)
        app_routes = anyone.app.routes  # type: ignore[attr-defined]
    assert doc["openapi"].startswith("3.1") and doc["info"]["title"] and doc["info"]["version"]
    for path, methods in route_methods(app_routes).items():
        if path.startswith(("/api/", "/feeds/")):
            assert methods <= set(doc["paths"].get(path, {})), path
    # the JSON API's own routes are described by hand, not merely listed
    hand = document()["paths"]
    own = [r for r in _routes() if _module(r) in API_MODULES]
    assert len(own) > 20
    for path, methods in route_methods(own).items():
        assert methods <= set(hand.get(path, {})), path
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["responses"] and op["summary"]
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)


# -- the privacy property ----------------------------------------------------------------

PEOPLE = ("ann", "ben", "cy")
GROUPS = (("t1", "team"), ("t2", "team"), ("c1", "community"), ("pub", "public"))
_runs = itertools.count()


@pytest.fixture(params=BACKENDS)
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Hub, TestClient]]:
    for db in fresh_db(request.param, tmp_path):
        made = make_hub(db)
        with TestClient(create_app(made.engine, rate=None)) as http:
            yield made, http
        made.engine.dispose()


def _answers(
    http: TestClient, token: str, feed: str, name: dict[str, str], markers: list[str]
) -> list[str]:
    """Every answer of the new endpoints a member can get (the query said back aside)."""
    auth = {"Authorization": f"Bearer {token}"}
    got = [http.get(p, headers=auth).text for p in ("/api/directory", "/api/flow", "/api/flow.svg")]
    for marker in markers:
        found = http.get("/api/who-knows", params={"q": marker}, headers=auth).json()
        got.append(json.dumps(found["people"]))
        for person in PEOPLE:  # each note's own page, by whoever might have shared it
            wanted = artifact.ref(name[person], marker)
            got.append(http.get(f"/api/artifacts/{wanted}", headers=auth).text)
    got.append(http.get("/api/digest", params=PERIOD, headers=auth).text)
    got.append(http.get("/feeds/digest.atom", params={**PERIOD, "token": feed}).text)
    for group, _ in GROUPS:
        got.append(http.get(f"/api/communities/{name[group]}", headers=auth).text)
    got.append(http.get(f"/api/communities/{name['c1']}/requests", headers=auth).text)
    return got


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    members=st.sets(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(GROUPS))),
    sent=st.lists(
        st.tuples(st.sampled_from(PEOPLE), st.sampled_from(GROUPS), st.integers(0, 3)),
        max_size=8,
    ),
    reader=st.sampled_from(PEOPLE),
    stewards=st.sets(st.sampled_from(PEOPLE)),
    askers=st.sets(st.sampled_from(PEOPLE)),
)
def test_no_answer_tells_a_reader_what_is_not_theirs(
    bare: tuple[Hub, TestClient],
    members: set[tuple[str, tuple[str, str]]],
    sent: list[tuple[str, tuple[str, str], int]],
    reader: str,
    stewards: set[str],
    askers: set[str],
) -> None:
    hub, http = bare
    run = next(_runs)  # names of their own for each example: one database for them all
    name = {p: f"{p}{run}" for p in PEOPLE} | {g: f"{g}{run}" for g, _ in GROUPS}
    for group, kind in GROUPS:
        admin.add_audience(hub.engine, name[group], kind)
    people = {p: admin.authenticate(hub.engine, hub.member(name[p])) for p in PEOPLE}
    for person, (group, _) in members:
        steward = group == "c1" and person in stewards
        admin.add_to(hub.engine, name[group], name[person], steward=steward)
    for person in askers - {p for p, (g, _) in members if g == "c1"}:
        communities.ask(hub.engine, people[person], name["c1"])
    held: dict[tuple[str, str], list[str]] = {}  # (person, group) -> markers held now
    for i, (person, (group, kind), count) in enumerate(sent):
        if kind != "public" and (person, (group, kind)) not in members:
            continue  # refused; tested elsewhere
        markers = [f"mk{run}x{i}x{j}" for j in range(count)]
        notes = [a_note(m, f"text {m} shared", tags=[m]) for m in markers]
        push.push(hub.engine, people[person], a_bundle(name[person], name[group], *notes))
        held[(person, group)] = markers  # a push replaces what was there
    mine = {g for p, (g, _) in members if p == reader} | {"pub"}
    hidden = [m for (_, g), found in held.items() if g not in mine for m in found]
    shown = [m for (_, g), found in held.items() if g in mine for m in found]
    feed = admin.new_feed_token(hub.engine, people[reader])
    token = hub.tokens[name[reader]]
    before = _answers(http, token, feed, name, hidden + shown)
    text_ = "\n".join(before)
    assert not [m for m in hidden if m in text_]
    assert all(m in before[-len(GROUPS) - 3] for m in shown)  # the digest shows what it may
    # A hub that never held what the reader may not see answers them the same, to the
    # byte: no count, weight, date or name tells of it.
    with writing(hub.engine) as conn:
        conn.execute(
            text(
                "DELETE FROM artifacts WHERE audience_id NOT IN (SELECT id FROM audiences"
                " WHERE kind = 'public' OR id IN"
                " (SELECT audience_id FROM memberships WHERE member_id = :m))"
            ),
            {"m": people[reader].id},
        )
        audit(conn, "test", "forgot", "what the reader may not see")
    assert _answers(http, token, feed, name, hidden + shown) == before


def _module(route: object) -> str:
    return str(getattr(getattr(route, "endpoint", None), "__module__", ""))
