"""The hub's search with its filters and paging in SQL, on SQLite and on PostgreSQL: a
filtered search finds matches that rank far below the first hundred, paging walks every
match once, filters combine, a filter never widens what the reader may see, and the
search page gives what the API gives. Also ``hub serve``'s rate options."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from starlette.testclient import TestClient

from knowflow.cli.main import cli
from knowflow.hub import admin, push, read, server
from knowflow.hub.app import create_app
from knowflow.hub.limits import RATE, RateLimit

from .hubsupport import Hub, a_bundle, a_note, make_hub

STRONG, WEAK = 240, 30  # per (author, audience): see _populate
FILLER = " ".join(f"filler{i}" for i in range(150))
NOW, MARCH, LAST = (
    "2026-11-30T12:00:00+00:00",
    "2026-03-15T08:00:00+00:00",
    "2026-03-31T23:59:59+00:00",
)
TITLE = re.compile(r'class="hit-title"[^>]*>([^<]*)</')  # a link to the note's page


@pytest.fixture
def hub(db: str) -> Iterator[Hub]:
    made = make_hub(db)
    _populate(made)
    yield made
    made.engine.dispose()


def _push(hub: Hub, who: str, audience: str, notes: list[dict[str, Any]]) -> None:
    member = admin.authenticate(hub.engine, hub.tokens[who])
    push.push(hub.engine, member, a_bundle(who, audience, *notes))


def _populate(hub: Hub) -> None:
    """300 artifacts that all hold "kiwi": alice's 240 to platform hold it often and in
    their titles (they rank first), carol's 30 to design and 30 to platform once in a
    long text (they rank last). Half of carol's are tagged "rare" ("#rare" on platform);
    a third were shared in March. bob reads design only, alice platform only."""
    hub.member("alice", "platform")
    hub.member("bob", "design")
    hub.member("carol", "platform", "design")
    hub.member("dave")  # in no audience but the public one
    strong = [
        a_note(f"s{i}", "kiwi " * 6, title=f"kiwi s{i}", tags=["fruit"]) for i in range(STRONG)
    ]
    _push(hub, "alice", "platform", strong)
    for audience, prefix, tag in (("design", "wd", "rare"), ("platform", "wp", "#rare")):
        weak = [
            a_note(f"{prefix}{i}", f"{FILLER} kiwi {FILLER}", title=f"{prefix}{i}",
                   tags=[tag] if i % 2 == 0 else ["other"])
            for i in range(WEAK)
        ]  # fmt: skip
        _push(hub, "carol", audience, weak)
    with hub.engine.begin() as conn:
        conn.execute(text("UPDATE artifacts SET shared_at = :at"), {"at": NOW})
        for i in range(0, WEAK, 3):  # a third of carol's in March, one on its last second
            at = LAST if i == 0 else MARCH
            conn.execute(
                text("UPDATE artifacts SET shared_at = :at WHERE note_id IN (:a, :b)"),
                {"at": at, "a": f"wd{i}", "b": f"wp{i}"},
            )


def _truth(reader: str, **chosen: str) -> set[str]:
    """The ids a filtered search for kiwi must find, from how _populate made them."""
    audiences = {"alice": {"platform"}, "bob": {"design"}, "carol": {"platform", "design"}}
    rows = [(f"s{i}", "alice", "platform", "fruit", NOW) for i in range(STRONG)]
    for audience, prefix in (("design", "wd"), ("platform", "wp")):
        for i in range(WEAK):
            at = (LAST if i == 0 else MARCH) if i % 3 == 0 else NOW
            rows.append((f"{prefix}{i}", "carol", audience, "rare" if i % 2 == 0 else "other", at))
    since, until = chosen.get("since", ""), chosen.get("until", "")
    return {
        note
        for note, author, audience, tag, at in rows
        if audience in audiences.get(reader, set())
        and chosen.get("audience", audience) == audience
        and chosen.get("person", author) == author
        and chosen.get("tag", tag).lstrip("#") == tag
        and (not since or at >= since)
        and (not until or at[:10] <= until)
    }


def _client(hub: Hub, who: str) -> TestClient:
    made = TestClient(create_app(hub.engine, rate=None))
    made.headers["Authorization"] = f"Bearer {hub.tokens[who]}"
    return made


def _walk(client: TestClient, **params: str) -> list[str]:
    """Every result of a search, page by page through next_offset."""
    found: list[str] = []
    offset: int | None = 0
    while offset is not None:
        reply = client.get(
            "/api/search", params={"q": "kiwi", "limit": "100", "offset": str(offset), **params}
        )
        assert reply.status_code == 200, reply.text
        page = reply.json()
        assert len(page["results"]) <= 100
        found += [hit["id"] for hit in page["results"]]
        offset = page["next_offset"]
    return found


FILTERS = [
    {"audience": "design"},
    {"person": "carol"},
    {"tag": "rare"},
    {"tag": "#rare"},
    {"since": "2026-03-01", "until": "2026-03-31"},
    {"until": "2026-04-01"},
]
COMBINED = [
    {"audience": "design", "tag": "rare"},
    {"person": "carol", "tag": "rare", "since": "2026-03-01", "until": "2026-03-31"},
    {"audience": "platform", "person": "carol", "until": "2026-03-30"},
    {"audience": "platform", "person": "alice", "tag": "rare"},
]


def test_the_weak_matches_rank_beyond_the_first_hundred(hub: Hub) -> None:
    carol = admin.authenticate(hub.engine, hub.tokens["carol"])
    first = {hit["id"] for hit in read.search(hub.engine, carol, "kiwi", limit=100)}
    assert len(first) == 100 and all(i.startswith("s") for i in first)  # the premise


@pytest.mark.parametrize("chosen", FILTERS + COMBINED)
def test_each_filter_finds_every_match_beyond_the_first_hundred(
    hub: Hub, chosen: dict[str, str]
) -> None:
    with _client(hub, "carol") as client:
        found = _walk(client, **chosen)
    assert len(found) == len(set(found))
    expected = _truth("carol", **chosen)
    assert set(found) == expected
    assert expected or chosen["person"] == "alice"  # alice tagged nothing rare: none


def test_paging_walks_every_match_once(hub: Hub) -> None:
    for who, count in (("carol", 300), ("alice", STRONG + WEAK), ("bob", WEAK)):
        with _client(hub, who) as client:
            found = _walk(client)
            assert len(found) == count and set(found) == _truth(who)
            small = client.get("/api/search", params={"q": "kiwi", "limit": "7", "offset": "3"})
            assert [h["id"] for h in small.json()["results"]] == found[3:10]
            assert small.json()["next_offset"] == 10
            end = client.get("/api/search", params={"q": "kiwi", "offset": str(count)}).json()
            assert end["results"] == [] and end["next_offset"] is None


def test_read_find_pages_the_same_without_http(hub: Hub) -> None:
    carol = admin.authenticate(hub.engine, hub.tokens["carol"])
    filters = read.Filters.parse(audience="design", tag="rare")
    first = read.find(hub.engine, carol, "kiwi", filters, limit=10)
    rest = read.find(hub.engine, carol, "kiwi", filters, limit=10, offset=10)
    assert first.more and not rest.more
    assert {h["id"] for h in first.hits + rest.hits} == _truth(
        "carol", audience="design", tag="rare"
    )


def test_a_filter_never_widens_what_the_reader_sees(hub: Hub) -> None:
    with _client(hub, "alice") as alice:
        for chosen in (
            {"audience": "design"},
            {"audience": "nowhere"},
            {"audience": "design", "person": "carol"},
        ):
            # the same empty answer for an audience that exists and one that does not
            reply = alice.get("/api/search", params={"q": "kiwi", **chosen})
            assert reply.status_code == 200
            assert reply.json()["results"] == [] and reply.json()["next_offset"] is None
            assert alice.get("/api/search", params=chosen).json()["results"] == []  # newest
        assert set(_walk(alice, person="carol")) == _truth("alice", person="carol")
        for chosen in [{}, *FILTERS, *COMBINED]:  # carol's design shares: not a trace
            for query in ("kiwi", ""):
                reply = alice.get("/api/search", params={"q": query, "limit": "100", **chosen})
                assert "wd" not in reply.text
        assert not any(i.startswith("wd") for i in _walk(alice, tag="rare"))
    with _client(hub, "bob") as bob:
        assert _walk(bob, audience="platform") == [] and _walk(bob, person="alice") == []
        listed = bob.get("/api/search", params={"limit": "100"}).json()["results"]
        assert {h["id"] for h in listed} == _truth("bob")  # without words: still only design
    with _client(hub, "dave") as dave:
        assert _walk(dave) == [] and dave.get("/api/search").json()["results"] == []


def test_without_words_the_newest_that_the_filters_keep(hub: Hub) -> None:
    with _client(hub, "carol") as client:
        reply = client.get("/api/search", params={"since": "2026-03-01", "until": "2026-03-31"})
        hits = reply.json()["results"]
    assert {h["id"] for h in hits} == _truth("carol", since="2026-03-01", until="2026-03-31")
    assert [h["shared_at"] for h in hits[:2]] == [LAST, LAST]  # newest first
    assert "<" not in "".join(h["snippet"] for h in hits)


def test_bad_filters_and_paging_are_refused(hub: Hub) -> None:
    with _client(hub, "carol") as client:
        for params in (
            {"since": "yesterday"},
            {"until": "2026-13-01"},
            {"offset": "-1"},
            {"limit": "x"},
        ):
            reply = client.get("/api/search", params={"q": "kiwi", **params})
            assert reply.status_code == 400 and reply.json()["error"]
        huge = client.get("/api/search", params={"q": "kiwi", "offset": "9" * 30})
        assert huge.status_code == 200 and huge.json()["results"] == []
        hour = {"q": "kiwi", "until": "2026-03-31T23:00:00Z", "limit": "100"}
        found = {h["id"] for h in client.get("/api/search", params=hour).json()["results"]}
        assert "wd3" in found and "wd0" not in found  # a time: up to it, not the whole day


def _page_titles(client: TestClient, **params: str) -> list[str]:
    reply = client.get("/search", params=params)
    assert reply.status_code == 200, reply.text
    return TITLE.findall(reply.text)


def test_the_search_page_gives_what_the_api_gives(hub: Hub) -> None:
    with TestClient(create_app(hub.engine, rate=None)) as browser, _client(hub, "carol") as api:
        signed = browser.post("/signin", data=_signin_form(browser, hub.tokens["carol"]))
        assert signed.status_code == 200, signed.text
        for chosen in [{}, *FILTERS, *COMBINED, {"audience": "nowhere"}]:
            for query in ("kiwi", ""):
                params = {"q": query, **chosen}
                answer = api.get("/api/search", params={**params, "limit": "100"}).json()
                assert _page_titles(browser, **params) == [h["title"] for h in answer["results"]]
        beyond = {"q": "kiwi", "offset": "100"}
        answer = api.get("/api/search", params={**beyond, "limit": "100"}).json()
        assert _page_titles(browser, **beyond) == [h["title"] for h in answer["results"]]


def _signin_form(client: TestClient, token: str) -> dict[str, str]:
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text)
    assert csrf
    return {"token": token, "csrf": csrf[1], "next": "/search"}


# -- hub serve's rate options ------------------------------------------------------------


def test_hub_serve_passes_its_rate_options(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[RateLimit | None] = []
    monkeypatch.setattr(server, "serve", lambda engine, **options: asked.append(options["rate"]))
    db = str(tmp_path / "hub.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["hub", "init", "--db", db]).exit_code == 0  # serve creates none
    for extra in ([], ["--rate", "5", "--burst", "9"], ["--no-rate-limit"]):
        result = runner.invoke(cli, ["hub", "serve", "--db", db, *extra])
        assert result.exit_code == 0, result.output
    assert asked == [RATE, RateLimit(rate=5.0, burst=9), None]
    for wrong in (["--rate", "0"], ["--burst", "0"], ["--rate", "x"]):
        assert runner.invoke(cli, ["hub", "serve", "--db", db, *wrong]).exit_code == 2


def test_serve_gives_create_app_its_rate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[Any] = []

    class Stop(Exception):
        pass

    def create_app(engine: Any, **options: Any) -> Any:
        made.append(options)
        raise Stop

    monkeypatch.setattr(server, "create_app", create_app)
    monkeypatch.delenv("KNOWFLOW_HUB_SEARCH_CACHE", raising=False)
    with pytest.raises(Stop):
        server.serve(None, rate=RateLimit(rate=2.0, burst=3))  # type: ignore[arg-type]
    assert made[0]["rate"] == RateLimit(rate=2.0, burst=3)
    assert isinstance(made[0]["search_cache"], read.SearchCache)  # on unless asked not to
    monkeypatch.setenv("KNOWFLOW_HUB_SEARCH_CACHE", "0")
    with pytest.raises(Stop):
        server.serve(None)  # type: ignore[arg-type]
    assert made[1]["search_cache"] is None
