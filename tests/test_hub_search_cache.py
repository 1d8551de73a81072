"""The hub's cache of search answers (read.SearchCache), on SQLite and PostgreSQL: a
cached answer is the answer the search gives without the cache, whoever asks and
whatever changed since (a push, an un-share, a membership given or taken, a member
removed, a member deleting all they shared); readers of the same audiences share
answers, readers of different ones never do; and the API uses the cache it is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from knowflow.hub import admin, push, read
from knowflow.hub.app import create_app
from knowflow.hub.errors import Unauthorized

from .hubsupport import Hub, a_bundle, a_note, make_hub

QUERIES = ["kiwi", "plum", "kiwi plum", "secret", "", "nothing"]
FILTERS = [read.NO_FILTERS, read.Filters(audience="design"), read.Filters(person="alice")]


@pytest.fixture
def hub(db: str) -> Iterator[Hub]:
    made = make_hub(db)
    made.member("alice", "platform")
    made.member("bob", "design")
    made.member("carol", "platform")  # alice's audiences: they share answers
    made.member("dave")  # the public audience only
    _push(made, "alice", "platform", a_note("a1", "kiwi plum"), a_note("a2", "kiwi"))
    _push(made, "bob", "design", a_note("b1", "kiwi secret design plan"))
    _push(made, "alice", "everyone", a_note("p1", "plum for everyone"))
    yield made
    made.engine.dispose()


def _push(hub: Hub, who: str, audience: str, *notes: dict[str, Any]) -> None:
    push.push(hub.engine, _reader(hub, who), a_bundle(who, audience, *notes))


def _reader(hub: Hub, who: str) -> admin.Member:
    return admin.authenticate(hub.engine, hub.tokens[who])


def _answers(hub: Hub, cache: read.SearchCache | None) -> dict[tuple[Any, ...], Any]:
    """Every reader's answer to every query and filter, first and second page."""
    found = {}
    for who in hub.tokens:
        reader = _reader(hub, who)
        for query in QUERIES:
            for filters in FILTERS:
                for offset in (0, 1):
                    page = read.find(hub.engine, reader, query, filters, 1, offset, cache)
                    found[who, query, filters, offset] = (page.hits, page.more)
    return found


def _same_with_and_without(hub: Hub, cache: read.SearchCache) -> None:
    uncached = _answers(hub, None)
    assert _answers(hub, cache) == uncached  # filled (or, after a change, refilled)
    assert _answers(hub, cache) == uncached  # answered from the cache


def test_a_cached_answer_is_the_uncached_one_through_every_kind_of_change(hub: Hub) -> None:
    cache = read.SearchCache()
    _same_with_and_without(hub, cache)
    assert cache.hits > 0
    changes: list[Callable[[], object]] = [
        lambda: _push(hub, "alice", "platform", a_note("a1", "kiwi plum"),
                      a_note("a3", "kiwi secret newer")),  # added, and a2 un-shared
        lambda: admin.add_to(hub.engine, "design", "dave"),  # dave now reads design
        lambda: admin.remove_from(hub.engine, "platform", "carol"),
        lambda: _push(hub, "bob", "design", a_note("b1", "kiwi secret design plan, edited")),
        lambda: read.delete_mine(hub.engine, _reader(hub, "bob")),
        lambda: admin.remove_member(hub.engine, "alice"),
    ]  # fmt: skip
    for change in changes:
        change()
        if "alice" in hub.tokens and _revoked(hub, "alice"):
            del hub.tokens["alice"]
        _same_with_and_without(hub, cache)


def _revoked(hub: Hub, who: str) -> bool:
    try:
        _reader(hub, who)
    except Unauthorized:
        return True
    return False


def test_a_push_shows_at_once_in_a_cached_search(hub: Hub) -> None:
    cache = read.SearchCache()
    carol = _reader(hub, "carol")
    before = [h["id"] for h in read.search(hub.engine, carol, "kiwi")]
    assert sorted(before) == ["a1", "a2"]
    read.find(hub.engine, carol, "kiwi", cache=cache)
    assert read.find(hub.engine, carol, "kiwi", cache=cache).hits and cache.hits == 1
    _push(hub, "alice", "platform", a_note("a9", "kiwi fresh"))  # a1 and a2 un-shared
    after = read.find(hub.engine, carol, "kiwi", cache=cache)
    assert [h["id"] for h in after.hits] == ["a9"]
    assert cache.hits == 1  # a miss: the push moved the hub's version


def test_a_membership_change_shows_at_once_in_a_cached_search(hub: Hub) -> None:
    cache = read.SearchCache()
    dave = _reader(hub, "dave")
    assert read.find(hub.engine, dave, "secret", cache=cache).hits == []
    assert read.find(hub.engine, dave, "secret", cache=cache).hits == []  # from the cache
    admin.add_to(hub.engine, "design", "dave")
    given = read.find(hub.engine, dave, "secret", cache=cache)
    assert [h["id"] for h in given.hits] == ["b1"]
    admin.remove_from(hub.engine, "design", "dave")
    assert read.find(hub.engine, dave, "secret", cache=cache).hits == []


def test_readers_of_the_same_audiences_share_answers_and_no_one_else(hub: Hub) -> None:
    cache = read.SearchCache()
    alice, carol, bob = (_reader(hub, who) for who in ("alice", "carol", "bob"))
    first = read.find(hub.engine, alice, "kiwi", cache=cache)
    assert read.find(hub.engine, carol, "kiwi", cache=cache) is first  # the same audiences
    seen_by_bob = read.find(hub.engine, bob, "kiwi", cache=cache)
    assert [h["id"] for h in seen_by_bob.hits] == ["b1"]
    assert not {h["id"] for h in first.hits} & {"b1"}
    assert (cache.hits, cache.misses) == (1, 2)
    # Another page, another filter, other words: another answer.
    read.find(hub.engine, alice, "kiwi", limit=1, cache=cache)
    read.find(hub.engine, alice, "kiwi", read.Filters(person="bob"), cache=cache)
    read.find(hub.engine, alice, "kiwi plum", cache=cache)
    assert cache.misses == 5


def test_the_cache_keeps_its_newest_entries_and_only_the_newest_version(hub: Hub) -> None:
    cache = read.SearchCache(size=2)
    alice = _reader(hub, "alice")
    for query in ("kiwi", "plum", "kiwi plum"):
        read.find(hub.engine, alice, query, cache=cache)
    assert len(cache) == 2
    read.find(hub.engine, alice, "kiwi", cache=cache)  # pushed out: asked again
    assert cache.hits == 0
    _push(hub, "bob", "design", a_note("b2", "pear"))
    read.find(hub.engine, alice, "plum", cache=cache)
    assert len(cache) == 1  # the older version's answers went


def test_the_api_answers_from_the_cache_it_is_given(hub: Hub) -> None:
    cache = read.SearchCache()
    app = create_app(hub.engine, search_cache=cache, rate=None)
    with TestClient(app) as client:
        asked = {"Authorization": f"Bearer {hub.tokens['alice']}"}
        first = client.get("/api/search", params={"q": "kiwi"}, headers=asked).json()
        again = client.get("/api/search", params={"q": "kiwi"}, headers=asked).json()
        assert first == again and cache.hits == 1
        _push(hub, "alice", "platform", a_note("a1", "kiwi plum"))
        after = client.get("/api/search", params={"q": "kiwi"}, headers=asked).json()
        assert [h["id"] for h in after["results"]] == ["a1"]
        bad = client.get("/api/search", params={"q": "kiwi"}, headers={"Authorization": "x"})
        assert bad.status_code == 401  # the token is checked before any cached answer


def test_the_cache_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KNOWFLOW_HUB_SEARCH_CACHE", raising=False)
    assert isinstance(read.SearchCache.configured(), read.SearchCache)
    monkeypatch.setenv("KNOWFLOW_HUB_SEARCH_CACHE", "0")
    assert read.SearchCache.configured() is None
    monkeypatch.setenv("KNOWFLOW_HUB_SEARCH_CACHE", "10")
    made = read.SearchCache.configured()
    assert made is not None and made.size == 10
    monkeypatch.setenv("KNOWFLOW_HUB_SEARCH_CACHE", "lots")
    with pytest.raises(ValueError, match="KNOWFLOW_HUB_SEARCH_CACHE"):
        read.SearchCache.configured()
