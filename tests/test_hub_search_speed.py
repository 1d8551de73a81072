"""A word in most of the hub's artifacts: its search ranks only a bounded pool of the
newest matches the reader may see (read.POOL, made small here), best first, and stays
exact for rare words, private across audiences and whole when paged; on SQLite and
PostgreSQL. No timings: bench/hub.py measures those."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from knowflow.hub import admin, push, read
from knowflow.hub.admin import Member

from .hubsupport import BACKENDS, Hub, a_bundle, a_note, fresh_db, make_hub

POOL = 8
WEAK, STRONG, HIDDEN = 30, 4, 16
FILLER = " ".join(f"filler{i}" for i in range(60))


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    for db in fresh_db(request.param, tmp_path):
        made = make_hub(db)
        _populate(made)
        yield made
        made.engine.dispose()


@pytest.fixture(autouse=True)
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(read, "POOL", POOL)


def _populate(hub: Hub) -> None:
    """alice (platform) shares 30 notes that hold "plum" once in a long text (and three
    "fig" too, the first also in its title), then 4 with "plum" in the title and often;
    after them bob shares 16 to design that hold "plum" most of all, secretdesign in
    their titles: newer than all of alice's, seen by bob only."""
    hub.member("alice", "platform")
    hub.member("bob", "design")
    weak = [
        a_note(f"w{i}", f"{FILLER} plum {'fig' if i < 3 else ''} {FILLER}",
               title="fig w0" if i == 0 else f"w{i}")
        for i in range(WEAK)
    ]  # fmt: skip
    strong = [a_note(f"s{i}", "plum " * 6, title=f"plum s{i}") for i in range(STRONG)]
    _push(hub, "alice", "platform", weak + strong)
    hidden = [a_note(f"h{i}", "plum " * 9, title=f"plum secretdesign {i}") for i in range(HIDDEN)]
    _push(hub, "bob", "design", hidden)
    if hub.engine.dialect.name == "postgresql":
        # Statistics, so "plum" (in every artifact) is found by the walk, not the index.
        with hub.engine.begin() as conn:
            conn.execute(text("ANALYZE artifacts"))


def _push(hub: Hub, who: str, audience: str, notes: list[dict[str, object]]) -> None:
    push.push(hub.engine, _reader(hub, who), a_bundle(who, audience, *notes))


def _reader(hub: Hub, who: str) -> Member:
    return admin.authenticate(hub.engine, hub.tokens[who])


def _walk(hub: Hub, who: str, query: str, limit: int) -> list[str]:
    found: list[str] = []
    while True:
        page = read.find(hub.engine, _reader(hub, who), query, limit=limit, offset=len(found))
        found += [hit["id"] for hit in page.hits]
        if not page.more:
            return found


def test_a_common_word_ranks_the_best_first_and_only_what_the_reader_may_see(hub: Hub) -> None:
    hits = read.search(hub.engine, _reader(hub, "alice"), "plum", limit=6)
    ids = [hit["id"] for hit in hits]
    # bob's newer notes take no place in alice's pool: her strong ones lead it.
    assert sorted(ids[:STRONG]) == [f"s{i}" for i in range(STRONG)]
    assert all(i.startswith("w") for i in ids[STRONG:]) and len(ids) == 6
    assert not any("secretdesign" in str(hit) for hit in hits)
    bob = [hit["id"] for hit in read.search(hub.engine, _reader(hub, "bob"), "plum", limit=100)]
    assert sorted(bob) == sorted(f"h{i}" for i in range(HIDDEN))


def test_paging_a_common_word_gives_every_visible_match_once(hub: Hub) -> None:
    found = _walk(hub, "alice", "plum", limit=3)
    assert len(found) == len(set(found)) == WEAK + STRONG
    assert set(found) == {f"w{i}" for i in range(WEAK)} | {f"s{i}" for i in range(STRONG)}
    assert _walk(hub, "alice", "secretdesign", limit=3) == []


def test_a_rare_word_is_ranked_over_all_its_matches(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "fig" is in three of alice's oldest notes, far outside the newest pool of plum.
    bounded = [h["id"] for h in read.search(hub.engine, _reader(hub, "alice"), "fig")]
    assert bounded[0] == "w0" and sorted(bounded) == ["w0", "w1", "w2"]
    monkeypatch.setattr(read, "POOL", 10_000)
    whole = [h["id"] for h in read.search(hub.engine, _reader(hub, "alice"), "fig")]
    assert whole == bounded
    best = [h["id"] for h in read.search(hub.engine, _reader(hub, "alice"), "plum", limit=4)]
    assert sorted(best) == [f"s{i}" for i in range(STRONG)]
