"""What a new user's trial of the hub found (issue 11): a mistyped --db never creates a
hub, the admin can list the hub and replace a lost token, and members can read a
shared note on its own page, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from knowflow.cli.main import cli
from knowflow.hub import admin
from knowflow.hub.artifact import body_html, read_note, ref
from knowflow.hub.db import NoHub, open_engine
from knowflow.hub.errors import NotFound, Unauthorized
from knowflow.hub.server import running_in_thread

from .hubsupport import Hub, a_bundle, a_note, api, fresh_db, make_hub
from .test_hub_pages import (
    DESIGN,
    PLATFORM,
    World,
    browser_client,
    csrf_of,
    populate,
    sign_in,
)
from .websupport import WIDTHS, Watched, chromium, serious_violations


def hub(db: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["hub", *args, "--db", db], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


ADMIN_COMMANDS = [
    ("add-member", "zed"),
    ("add-audience", "x", "--kind", "team"),
    ("add-to", "x", "zed"),
    ("remove-from", "x", "zed"),
    ("remove-member", "zed"),
    ("audit",),
    ("list",),
    ("new-token", "zed"),
    ("link", "zed"),
    ("serve", "--port", "1"),
]


@pytest.mark.parametrize("args", ADMIN_COMMANDS, ids=lambda a: a[0])
def test_no_command_but_init_creates_a_hub(tmp_path: Path, args: tuple[str, ...]) -> None:
    typo = tmp_path / "typo.db"
    out = hub(str(typo), *args, code=3)
    assert f"no hub at {typo}" in out and "knowflow hub init --db" in out
    assert list(tmp_path.iterdir()) == []  # nothing created, not even a -wal file


def test_the_default_db_is_not_created_in_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWFLOW_HUB_DB", raising=False)
    result = CliRunner().invoke(cli, ["hub", "add-member", "zed"])
    assert result.exit_code == 3, result.output
    assert "no hub at knowflow-hub.db" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_database_without_a_hub_is_refused(db: str, tmp_path: Path) -> None:
    if "://" not in db:
        Path(db).write_bytes(b"")  # an empty file is no hub either
    assert "no hub at" in hub(db, "add-member", "zed", code=3)
    with pytest.raises(NoHub):
        open_engine(db, create=False)
    hub(db, "init")
    assert "Member zed added" in hub(db, "add-member", "zed")


def test_an_unreachable_postgresql_is_refused_not_created() -> None:
    url = "postgresql://postgres:secret@127.0.0.1:5432/kf_hub_no_such_database"
    out = hub(url, "audit", code=3)
    assert "no hub at" in out and "secret" not in out  # the password is not echoed


def test_a_sqlite_hub_is_private_to_its_owner(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    old = os.umask(0o022)
    try:
        hub(str(db), "init")
    finally:
        os.umask(old)
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_list_shows_members_audiences_and_roles(db: str) -> None:
    hub(db, "init")
    for name in ("alice", "bob", "carol"):
        hub(db, "add-member", name)
    hub(db, "add-audience", "platform", "--kind", "team")
    hub(db, "add-audience", "readers", "--kind", "community")
    hub(db, "add-to", "platform", "alice", "--steward")
    hub(db, "add-to", "platform", "bob")
    hub(db, "add-to", "readers", "bob")
    hub(db, "remove-member", "carol")
    found = json.loads(hub(db, "list", "--json"))
    members = {m["name"]: m for m in found["members"]}
    assert members["alice"]["audiences"] == {"platform": "steward"}
    assert members["bob"]["audiences"] == {"platform": "member", "readers": "member"}
    assert members["carol"]["revoked"] and not members["alice"]["revoked"]
    assert members["admin"]["admin"]
    audiences = {a["name"]: a for a in found["audiences"]}
    assert audiences["platform"]["kind"] == "team"
    assert audiences["platform"]["stewards"] == ["alice"]
    assert audiences["platform"]["members"] == 2 and audiences["readers"]["members"] == 1
    text = hub(db, "list")
    assert "alice: platform (steward)" in text and "carol (revoked)" in text
    assert "platform (team): 2 members; stewards alice" in text


def test_new_token_replaces_a_lost_one_at_once(db: str) -> None:
    hub(db, "init")
    old = hub(db, "add-member", "alice").splitlines()[-1]
    new = hub(db, "new-token", "alice").splitlines()[-1]
    assert new != old
    engine = open_engine(db, create=False)
    try:
        assert admin.authenticate(engine, new).name == "alice"
        with pytest.raises(Unauthorized):
            admin.authenticate(engine, old)
    finally:
        engine.dispose()
    log = hub(db, "audit")
    assert "token_reissued\talice" in log and new not in log and old not in log
    assert "no member named 'nobody'" in hub(db, "new-token", "nobody", code=2)
    hub(db, "remove-member", "alice")
    assert "was removed" in hub(db, "new-token", "alice", code=2)


# -- reading a shared note: its page and GET /api/artifacts/{ref} --------------------------


@pytest.fixture
def world(db: str) -> Iterator[World]:
    hub = make_hub(db)
    with running_in_thread(hub.engine) as app:
        populate(hub, app.state.address)
        yield World(hub, app.state.address)
    hub.engine.dispose()


@contextmanager
def signed_in(world: World, who: str) -> Iterator[httpx.Client]:
    with browser_client(world.address) as client:
        assert sign_in(client, world.hub.tokens[who]).status_code in (200, 303)
        yield client


def test_a_note_reads_whole_for_those_who_may_see_it(world: World) -> None:
    mine, theirs = ref("alice", "p1"), ref("bob", "d1")
    with api(world.address, world.hub.tokens["alice"]) as alice:
        found = alice.get(f"/api/artifacts/{mine}")
        assert found.status_code == 200, found.text
        note = found.json()
        assert note["author"] == "alice" and note["audiences"] == ["platform"]
        assert note["title"] == f"Deploy {PLATFORM}" and f"t{PLATFORM}" in note["tags"]
        assert f"deploy kiwi {PLATFORM}" in note["html"]
        # Another team's note and a ref that never was: one and the same answer.
        hidden, missing = alice.get(f"/api/artifacts/{theirs}"), alice.get("/api/artifacts/0")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.json() == missing.json()
        assert DESIGN not in hidden.text
    with api(world.address, None) as nobody:
        assert nobody.get(f"/api/artifacts/{mine}").status_code == 401
    with signed_in(world, "alice") as browser:
        page = browser.get(f"/artifacts/{mine}")
        assert page.status_code == 200 and f"deploy kiwi {PLATFORM}" in page.text
        assert '<body class="page-artifact">' in page.text
        hidden_page, missing_page = browser.get(f"/artifacts/{theirs}"), browser.get("/artifacts/0")
        assert hidden_page.status_code == missing_page.status_code == 404
        assert DESIGN not in hidden_page.text and "bob" not in hidden_page.text


def test_a_note_shared_twice_shows_only_the_audiences_the_reader_reads(world: World) -> None:
    with api(world.address, world.hub.tokens["bob"]) as bob:
        answer = bob.post("/api/push", json=a_bundle("bob", "everyone", a_note("d1", "open")))
        assert answer.status_code == 200, answer.text
    with api(world.address, world.hub.tokens["alice"]) as alice:
        note = alice.get(f"/api/artifacts/{ref('bob', 'd1')}").json()
    assert note["audiences"] == ["everyone"] and DESIGN not in json.dumps(note)
    with api(world.address, world.hub.tokens["bob"]) as bob:
        assert bob.get(f"/api/artifacts/{ref('bob', 'd1')}").json()["audiences"] == [
            "design", "everyone"
        ]  # fmt: skip


def test_a_pushed_body_is_sanitized(world: World) -> None:
    hostile = a_note(
        "x1", "plain", html='<p onclick="x()">hi<script>alert(1)</script>'
        '<a href="javascript:alert(1)">l</a></p>',
    )  # fmt: skip
    with api(world.address, world.hub.tokens["alice"]) as alice:
        assert alice.post("/api/push", json=a_bundle("alice", "everyone", hostile)).is_success
        body = alice.get(f"/api/artifacts/{ref('alice', 'x1')}").json()["html"]
    assert "script" not in body and "onclick" not in body and "javascript" not in body
    assert body_html("", "# Title\n\n<b>raw</b> *em*") == (
        "<h1>Title</h1>\n<p>&lt;b&gt;raw&lt;/b&gt; <em>em</em></p>\n"
    )


def test_titles_link_to_their_notes_everywhere(world: World) -> None:
    link = f'href="/artifacts/{ref("alice", "p1")}"'
    with signed_in(world, "alice") as browser:
        for path in ("/search?q=kiwi", "/search", "/people/alice", "/people?q=deploy",
                     "/digest", "/communities/platform"):  # fmt: skip
            page = browser.get(path)
            assert page.status_code == 200 and link in page.text, path
        assert f'href="/artifacts/{ref("alice", "r1")}"' in browser.get("/communities/readers").text
    with signed_in(world, "bob") as browser:
        for path in ("/search?q=kiwi", "/people/alice", "/digest"):
            assert ref("alice", "p1") not in browser.get(path).text, path


def test_atom_entries_link_to_their_notes(world: World) -> None:
    with api(world.address, world.hub.tokens["alice"]) as alice:
        feed = alice.post("/api/feed-token").json()["feed"]
        atom = httpx.get(feed, trust_env=False).text
    assert f'href="{world.address}/artifacts/{ref("alice", "p1")}"' in atom
    assert ref("bob", "d1") not in atom


# -- small ones: bad dates, body classes, teams, revoking the feed ------------------------


def test_bad_dates_on_pages_are_said(world: World) -> None:
    with signed_in(world, "alice") as browser:
        for path in ("/search?since=soon", "/digest?since=soon", "/digest?until=2026-13-01"):
            page = browser.get(path)
            assert page.status_code == 400 and ("not a date" in page.text or "ISO" in page.text)
        assert '<body class="page-digest">' in browser.get("/digest").text
        assert '<body class="page-search">' in browser.get("/search").text


def test_a_member_reads_their_own_team_and_no_other(world: World) -> None:
    with signed_in(world, "alice") as browser:
        listing = browser.get("/communities").text
        assert 'href="/communities/platform"' in listing and "design" not in listing
        assert "you are in it" in listing
        team = browser.get("/communities/platform")
        assert team.status_code == 200 and f"Deploy {PLATFORM}" in team.text
        other = browser.get("/communities/design")
        assert other.status_code == 403 and DESIGN not in other.text and "bob" not in other.text
    with signed_in(world, "bob") as browser:
        listing = browser.get("/communities").text
        assert "you are in it" not in listing and "platform" not in listing
        assert browser.get("/communities/platform").status_code == 403


def test_the_digest_page_stops_the_feed_address(world: World) -> None:
    with api(world.address, world.hub.tokens["alice"]) as alice:
        feed = alice.post("/api/feed-token").json()["feed"]
    assert httpx.get(feed, trust_env=False).status_code == 200
    with signed_in(world, "alice") as browser:
        csrf = csrf_of(browser, "/digest")
        done = browser.post("/digest/feed/revoke", data={"csrf": csrf}, follow_redirects=True)
        assert "no longer works" in done.text
    assert httpx.get(feed, trust_env=False).status_code == 401


def test_the_new_pages_in_a_browser(tmp_path: Path) -> None:
    for db in fresh_db("sqlite", tmp_path):
        hub = make_hub(db)
        with running_in_thread(hub.engine) as app:
            populate(hub, app.state.address)
            _browse(hub, app.state.address)
        hub.engine.dispose()


def _browse(hub: Hub, base: str) -> None:
    with chromium() as browser:
        for size in WIDTHS:
            context = browser.new_context(viewport=size, bypass_csp=True)
            watched = Watched(context.new_page())
            page = watched.page
            page.goto(base + "/search")
            page.fill("#token", hub.tokens["alice"])
            page.click("button[type=submit]")
            page.wait_for_url("**/search")
            page.goto(base + "/search?q=deploy")
            page.click(f"a.hit-title:has-text('Deploy {PLATFORM}')")  # a title leads to its note
            page.wait_for_url(f"**/artifacts/{ref('alice', 'p1')}")
            problems = [f"note: {v}" for v in serious_violations(page)]
            for path, expect in [
                ("/communities", "Your teams"),
                ("/communities/platform", f"Deploy {PLATFORM}"),
                ("/digest?since=2000-01-01", "Stop my feed address"),
                ("/digest?since=soon", "not a date"),
            ]:
                page.goto(base + path)
                assert expect in page.content(), path
                problems += [f"{path}: {v}" for v in serious_violations(page)]
            assert not problems, problems
            # the 400 of a bad date is the page's answer, not a problem of the page
            assert all("400" in p for p in watched.problems), watched.problems
            context.close()


def test_read_note_matches_among_the_readers_rows_only(world: World) -> None:
    alice = admin.authenticate(world.hub.engine, world.hub.tokens["alice"])
    assert read_note(world.hub.engine, alice, ref("alice", "p1"))["author"] == "alice"
    for wanted, author in [(ref("bob", "d1"), None), (ref("bob", "d1"), "bob"),
                           (ref("alice", "p1"), "bob"), ("0" * 32, None)]:  # fmt: skip
        with pytest.raises(NotFound, match="no shared note here"):
            read_note(world.hub.engine, alice, wanted, author)
