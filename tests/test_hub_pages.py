"""The hub's pages, on SQLite and on PostgreSQL: sign-in by token and by one-time link,
sessions and CSRF, every page computed from what the member may see (markers planted
in what they may not), and the browser and axe checks the local app's pages pass."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from knowflow.hub import admin, push, session
from knowflow.hub.app import create_app
from knowflow.hub.artifact import ref
from knowflow.hub.server import running_in_thread

from .hubsupport import BACKENDS, Hub, a_bundle, a_note, api, fresh_db, make_hub
from .websupport import WIDTHS, Watched, chromium, serious_violations

# Unique words planted in what one member may not see: bodies, titles, tags.
PLATFORM, DESIGN, PUBLIC, CIRCLE = "zqplatformword", "zqdesignword", "zqpublicword", "zqcircleword"
PAGES = [
    "/",
    "/search",
    "/search?q=kiwi",
    "/people",
    "/people?q=kiwi",
    "/people/alice",
    "/communities",
    "/communities/readers",
    "/flow",
    "/digest",
]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class World:
    hub: Hub
    address: str


def populate(hub: Hub, address: str) -> None:
    """Two members and four audiences, filled through the real push API."""
    admin.add_audience(hub.engine, "readers", "community", "Readers' circle")
    hub.member("alice", "platform", "readers")
    admin.add_to(hub.engine, "readers", "alice", steward=True)
    hub.member("bob", "design")
    pushes = [
        ("alice", "platform", a_note("p1", f"deploy kiwi {PLATFORM}", title=f"Deploy {PLATFORM}",
                                     tags=["ops", f"t{PLATFORM}"])),
        ("alice", "everyone", a_note("o1", f"open kiwi {PUBLIC}", tags=["ops"])),
        ("alice", "readers", a_note("r1", f"books kiwi {CIRCLE}", tags=[f"t{CIRCLE}"])),
        ("bob", "design", a_note("d1", f"shapes kiwi {DESIGN}", title=f"Sketch {DESIGN}",
                                 tags=[f"t{DESIGN}"])),
        ("bob", "everyone", a_note("o2", f"colours kiwi {PUBLIC}", tags=["ops"])),
    ]  # fmt: skip
    for who, audience, item in pushes:
        with api(address, hub.tokens[who]) as client:
            answer = client.post("/api/push", json=a_bundle(who, audience, item))
            assert answer.status_code == 200, answer.text


@pytest.fixture
def world(db: str) -> Iterator[World]:
    hub = make_hub(db)
    with running_in_thread(hub.engine) as app:
        populate(hub, app.state.address)
        yield World(hub, app.state.address)
    hub.engine.dispose()


def browser_client(address: str) -> httpx.Client:
    return httpx.Client(base_url=address, timeout=60, trust_env=False)


def sign_in(client: httpx.Client, token: str) -> httpx.Response:
    form = client.get("/signin")
    csrf = CSRF.search(form.text)
    assert csrf, form.text
    return client.post("/signin", data={"token": token, "csrf": csrf[1], "next": "/people"})


def csrf_of(client: httpx.Client, path: str = "/search") -> str:
    found = CSRF.search(client.get(path).text)
    assert found
    return found[1]


# -- sessions and links: storage on both backends ----------------------------------------


def test_sessions_and_links_are_kept_as_hashes_and_end(db: str) -> None:
    hub = make_hub(db)
    try:
        hub.member("alice")
        alice = admin.authenticate(hub.engine, hub.tokens["alice"])
        sid = session.start(hub.engine, alice)
        found = session.find(hub.engine, sid)
        assert found is not None and found.member == alice
        assert found.csrf == session.csrf_for(sid) and found.csrf != sid
        assert session.find(hub.engine, sid + "x") is None
        assert session.find(hub.engine, session.start(hub.engine, alice, days=0)) is None
        code = session.issue_link(hub.engine, "alice")
        snapshot = repr(hub.snapshot()) + repr(session_rows(hub))
        assert sid not in snapshot and code not in snapshot
        assert session.link_member(hub.engine, code) == "alice"
        assert session.use_link(hub.engine, code) == alice
        assert session.use_link(hub.engine, code) is None  # single use
        assert session.link_member(hub.engine, code) is None
        assert (
            session.use_link(hub.engine, session.issue_link(hub.engine, "alice", hours=0)) is None
        )
        with pytest.raises(admin.NotFound):
            session.issue_link(hub.engine, "nobody")
        session.end(hub.engine, sid)
        assert session.find(hub.engine, sid) is None
        other = session.start(hub.engine, alice)
        late = session.issue_link(hub.engine, "alice")
        admin.remove_member(hub.engine, "alice")  # a removed member's sessions die with them
        assert session.find(hub.engine, other) is None
        assert session.use_link(hub.engine, late) is None
    finally:
        hub.engine.dispose()


def session_rows(hub: Hub) -> list[Any]:
    from sqlalchemy import text

    with hub.engine.connect() as conn:
        return [
            *conn.execute(text("SELECT * FROM page_sessions")),
            *conn.execute(text("SELECT * FROM signin_links")),
        ]


# -- the guard: sessions, CSRF, cookies --------------------------------------------------


def test_every_page_needs_a_session_and_every_form_its_csrf(world: World) -> None:
    with browser_client(world.address) as client:
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/signin?next="), path
        for path in ("/signout", "/communities/readers/join", "/digest/feed"):
            assert client.post(path, data={"csrf": "x"}).status_code == 303
        assert client.post("/signin", data={"token": world.hub.tokens["bob"]}).status_code == 403
        answer = sign_in(client, world.hub.tokens["bob"])
        assert answer.status_code == 303 and answer.headers["location"] == "/people"
        cookie = answer.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
        for path in PAGES:
            page = client.get(path, follow_redirects=True)
            assert page.status_code == 200, (path, page.text)
            assert "script-src 'self'" in page.headers["content-security-policy"]
            assert "style=" not in page.text and "<script>" not in page.text
        for path in ("/signout", "/communities/readers/join", "/digest/feed"):
            assert client.post(path).status_code == 403
            assert client.post(path, data={"csrf": "forged"}).status_code == 403
        assert client.get("/search").status_code == 200  # still signed in
        assert client.post("/signout", data={"csrf": csrf_of(client)}).status_code == 303
        assert client.get("/search").status_code == 303


def test_a_wrong_token_and_an_outside_next_are_refused(world: World) -> None:
    with browser_client(world.address) as client:
        assert sign_in(client, "not-a-token").status_code == 401
        csrf = CSRF.search(client.get("/signin").text)
        assert csrf
        answer = client.post(
            "/signin",
            data={"token": world.hub.tokens["bob"], "csrf": csrf[1], "next": "//evil.example/"},
        )
        assert answer.headers["location"] == "/"


def test_the_cookie_is_secure_over_https(db: str) -> None:
    hub = make_hub(db)
    try:
        hub.member("alice")
        with TestClient(
            create_app(hub.engine), base_url="https://hub.example", follow_redirects=False
        ) as client:
            answer = sign_in(client, hub.tokens["alice"])  # type: ignore[arg-type]
            assert "secure" in answer.headers["set-cookie"].lower()
    finally:
        hub.engine.dispose()


def test_a_one_time_link_signs_in_once(world: World) -> None:
    code = session.issue_link(world.hub.engine, "bob")
    with browser_client(world.address) as client:
        shown = client.get(f"/signin/{code}")
        assert shown.status_code == 200 and "Sign in as bob" in shown.text
        csrf = CSRF.search(shown.text)
        assert csrf
        assert client.post(f"/signin/{code}", data={"csrf": "wrong"}).status_code == 403
        assert client.post(f"/signin/{code}", data={"csrf": csrf[1]}).status_code == 303
        assert client.get("/search").status_code == 200
    with browser_client(world.address) as client:
        assert client.get(f"/signin/{code}").status_code == 410
        csrf = CSRF.search(client.get("/signin").text)
        assert csrf
        assert client.post(f"/signin/{code}", data={"csrf": csrf[1]}).status_code == 410


# -- privacy: a member meets nothing of an audience not theirs ---------------------------


def every_page(client: httpx.Client, extra: list[str]) -> str:
    seen = []
    for path in [*PAGES, *extra]:
        answer = client.get(path, follow_redirects=True)
        assert answer.status_code in (200, 404), (path, answer.status_code)
        seen.append(answer.text)
    return "\n".join(seen)


def feed(client: httpx.Client) -> str:
    """The member's Atom feed, from the address the digest page makes."""
    made = client.post("/digest/feed", data={"csrf": csrf_of(client, "/digest")})
    address = re.search(r'class="feed-address" href="([^"]+)"', made.text)
    assert address, made.text
    answer = client.get(address[1])
    assert answer.status_code == 200 and "<feed" in answer.text
    return made.text + answer.text


def test_a_member_meets_nothing_of_another_team_on_any_page(world: World) -> None:
    probes = [f"/search?q={word}" for word in ("deploy", "books", "shapes", "kiwi")] + [
        f"/people?q={word}" for word in ("deploy", "books", "shapes", "ops")
    ] + [
        "/search?audience=platform", "/search?person=alice", "/search?tag=ops",
        "/people/bob", "/digest?since=2000-01-01", "/digest?audience=platform",
        "/communities/readers",
    ]  # fmt: skip
    with browser_client(world.address) as bob:
        sign_in(bob, world.hub.tokens["bob"])
        text = every_page(bob, probes) + feed(bob)
    for marker in (PLATFORM, CIRCLE):
        assert marker not in text
    assert "Platform team" not in text and ">platform<" not in text
    assert DESIGN in text and PUBLIC in text  # what bob may see, he sees
    assert "Ask to join" in text  # readers' door, and nothing behind it
    with browser_client(world.address) as alice:
        sign_in(alice, world.hub.tokens["alice"])
        text = every_page(alice, probes) + feed(alice)
    assert DESIGN not in text
    assert PLATFORM in text and CIRCLE in text and PUBLIC in text


def test_asking_to_join_and_a_steward_admitting(world: World) -> None:
    with browser_client(world.address) as bob:
        sign_in(bob, world.hub.tokens["bob"])
        answer = bob.post("/communities/readers/join", data={"csrf": csrf_of(bob)})
        assert answer.status_code == 303
        assert "a steward will decide" in bob.get(answer.headers["location"]).text
    with browser_client(world.address) as alice:
        sign_in(alice, world.hub.tokens["alice"])
        page = alice.get("/communities/readers").text
        assert "Admit bob" in page
        answer = alice.post("/communities/readers/admit/bob", data={"csrf": csrf_of(alice)})
        assert answer.status_code == 303
    with browser_client(world.address) as bob:
        sign_in(bob, world.hub.tokens["bob"])
        assert CIRCLE in bob.get("/communities/readers").text


# -- the browser and axe checks of the local app -----------------------------------------


def test_the_pages_in_a_browser(tmp_path: Path) -> None:
    for db in fresh_db("sqlite", tmp_path):
        hub = make_hub(db)
        with running_in_thread(hub.engine) as app:
            populate(hub, app.state.address)
            browse(hub, app.state.address)
        hub.engine.dispose()


def browse(hub: Hub, base: str) -> None:
    with chromium() as browser:
        for size in WIDTHS:
            context = browser.new_context(viewport=size, bypass_csp=True)
            watched = Watched(context.new_page())
            page = watched.page
            page.goto(base + "/search")
            page.fill("#token", hub.tokens["alice"])
            page.click("button[type=submit]")
            page.wait_for_url("**/search")
            problems: list[str] = []
            for path, expect in [
                ("/search?q=kiwi", PLATFORM),
                ("/people?q=ops", "Who knows"),
                ("/people/bob", "colours"),
                ("/communities", "Readers"),
                ("/communities/readers", CIRCLE),
                ("/flow", "Bridgers"),
                ("/digest?since=2000-01-01", PUBLIC),
            ]:
                page.goto(base + path)
                assert expect in page.content(), path
                problems += [f"{path}: {v}" for v in serious_violations(page)]
            page.click("text=Sign out")
            page.wait_for_url("**/signin")
            assert not problems, problems
            assert not watched.problems, watched.problems
            context.close()
        # A one-time link: once, then refused.
        code = session.issue_link(hub.engine, "bob")
        context = browser.new_context(bypass_csp=True)
        watched = Watched(context.new_page())
        watched.page.goto(f"{base}/signin/{code}")
        watched.page.click("button:has-text('Sign in as bob')")
        watched.page.wait_for_url("**/search")
        assert DESIGN in watched.page.content()
        assert not serious_violations(watched.page)
        assert not watched.problems, watched.problems
        context.close()
        context = browser.new_context()
        page = context.new_page()
        assert page.goto(f"{base}/signin/{code}").status == 410
        context.close()


def test_hub_link_prints_a_one_time_address(db: str) -> None:
    from click.testing import CliRunner

    from knowflow.cli.main import cli

    hub = make_hub(db)
    try:
        hub.member("alice")
        args = ["hub", "link", "alice", "--url", "https://hub.example/", "--db", db]
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        address = result.output.strip()
        assert address.startswith("https://hub.example/signin/")
        assert session.link_member(hub.engine, address.rsplit("/", 1)[1]) == "alice"
        nobody = CliRunner().invoke(cli, ["hub", "link", "nobody", "--db", db])
        assert nobody.exit_code != 0 and "no member named 'nobody'" in nobody.output
    finally:
        hub.engine.dispose()


# -- a property over random hubs: no page shows a trace of another audience --------------

PEOPLE = ("ann", "ben", "cy")
GROUPS = (("t1", "team"), ("t2", "team"), ("c1", "community"), ("pub", "public"))
_runs = itertools.count()
CHECKED = [0, 0]  # over all examples: markers kept out, markers shown


@pytest.fixture(params=BACKENDS)
def random_hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    for db in fresh_db(request.param, tmp_path):
        made = make_hub(db)
        yield made
        made.engine.dispose()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    members=st.sets(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(GROUPS))),
    sent=st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(GROUPS)), max_size=6),
)
# One case with a marker shown and one kept out, whatever hypothesis draws besides:
# test_the_page_property_met_both_cases counts on both having been tested.
@example(members={("ann", ("t1", "team"))}, sent=[("ann", ("t1", "team"))])
def test_no_page_shows_a_trace_of_another_audience(
    random_hub: Hub,
    members: set[tuple[str, tuple[str, str]]],
    sent: list[tuple[str, tuple[str, str]]],
) -> None:
    hub, run = random_hub, next(_runs)
    name = {p: f"{p}{run}" for p in PEOPLE} | {g: f"{g}{run}" for g, _ in GROUPS}
    for group, kind in GROUPS:
        admin.add_audience(hub.engine, name[group], kind)
    readers = {p: admin.authenticate(hub.engine, hub.member(name[p])) for p in PEOPLE}
    for person, (group, _) in members:
        admin.add_to(hub.engine, name[group], name[person], steward=group == "c1")
    held: dict[tuple[str, str], str] = {}  # (person, group) -> the marker held now
    gone: list[str] = []  # replaced by a later push: in nobody's pages
    for i, (person, (group, kind)) in enumerate(sent):
        if kind != "public" and (person, (group, kind)) not in members:
            continue
        marker = f"mk{run}x{i}"
        item = a_note(marker, f"common {marker} words", title=f"T{marker}", tags=[f"g{marker}"])
        push.push(hub.engine, readers[person], a_bundle(name[person], name[group], item))
        if (person, group) in held:
            gone.append(held[(person, group)])
        held[(person, group)] = marker  # a push is the complete state: it replaces
    app = create_app(hub.engine, rate=None)
    for reader in PEOPLE:
        mine = {g for p, (g, _) in members if p == reader} | {"pub"}
        hidden = [m for (_, g), m in held.items() if g not in mine] + gone
        shown = [m for (_, g), m in held.items() if g in mine]
        with TestClient(app, base_url="http://hub.test") as client:
            client.cookies.set(session.COOKIE, session.start(hub.engine, readers[reader]))
            paths = [*PAGES[1:], "/digest?since=2000-01-01", f"/communities/{name['c1']}"]
            paths += [f"/people/{name[p]}" for p in PEOPLE]
            paths += [f"/communities/{name[g]}" for g in ("t1", "t2") if g in mine]  # own teams
            paths += [f"/artifacts/{ref(name[p], m)}" for p in PEOPLE for m in [*hidden, *shown]]
            paths += [f"/search?q={m}" for m in [*hidden, *shown]]
            paths += [f"/people?q=g{m}" for m in [*hidden, *shown]]
            pages = {path: client.get(path) for path in paths}
        for path, answer in pages.items():
            assert answer.status_code in (200, 404), (path, answer.status_code)
            body = answer.text.replace(path.rpartition("=")[2], "") if "q=" in path else answer.text
            for marker in hidden:
                assert marker not in body, (reader, path, marker)
        found = "\n".join(a.text for p, a in pages.items() if "q=" not in p)
        assert all(f"T{m}" in found for m in shown), reader  # what is theirs, they see
        CHECKED[0] += len(hidden)
        CHECKED[1] += len(shown)


def test_the_page_property_met_both_cases() -> None:
    # runs after the property (file order): it must have kept a marker out and shown one
    if CHECKED == [0, 0]:
        pytest.skip("the property did not run (selected alone)")
    assert CHECKED[0] > 0 and CHECKED[1] > 0, CHECKED
