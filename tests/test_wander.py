"""Wander: a seeded walk that replays, says why each step was taken, prefers older and
less visited notes, and counts its visits."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import Index, Vault
from knowflow.errors import KnowflowError
from knowflow.index.index import NoteRef
from knowflow.seek.state import open_state
from knowflow.sense.graph import note_at
from knowflow.sense.wander import neighbours, take_walk, wander, weights

from .conftest import cli_in, fingerprint, write_files

FILES = {
    "hub.md": "# Hub\n\nSee [[old]] and [[new]].\n",
    "old.md": "# Old\n\nAn old note.\n",
    "new.md": "# New\n\nA new note.\n",
    "back.md": "# Back\n\nPoints at [[hub]].\n",
    "tagged.md": "# Tagged\n\nNothing links here. #gardening\n",
    "other tagged.md": "# Other\n\nAlso #gardening.\n",
    "Compost heaps.md": "# Compost heaps\n\nOn compost.\n",
    "Compost tea.md": "# Compost tea\n\nA brew made of compost and water.\n",
    "digest.md": "---\ntype: digest\n---\n# Finds\n\nSee [[hub]].\n",
}
# Oldest first.
AGE = ["old.md", "back.md", "tagged.md", "other tagged.md", "Compost heaps.md"]
AGE += ["Compost tea.md", "hub.md", "digest.md", "new.md"]

Setup = tuple[Index, sqlite3.Connection]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    root = tmp_path / "vault"
    root.mkdir()
    write_files(root, dict(FILES))
    for n, name in enumerate(AGE):
        os.utime(root / name, ns=(1_700_000_000_000_000_000 + n * 10**9,) * 2)
    vault = Vault.init(root)
    index = Index(vault)
    index.scan()
    conn = open_state(vault)
    yield index, conn
    conn.close()
    index.close()


def _note(index: Index, path: str) -> NoteRef:
    note = note_at(index, path)
    assert note is not None
    return note


def test_neighbours_are_links_backlinks_shared_tags_and_similar_words(setup: Setup) -> None:
    index, _ = setup
    near = {s.path: (s.why, s.via) for s in neighbours(index, _note(index, "hub.md"))}
    # The digest links to hub too, but a digest is not wandered to.
    assert near == {
        "old.md": ("links to", ""),
        "new.md": ("links to", ""),
        "back.md": ("linked from", ""),
    }
    near = {s.path: (s.why, s.via) for s in neighbours(index, _note(index, "tagged.md"))}
    assert near == {"other tagged.md": ("shares tag", "gardening")}
    near = {s.path: (s.why, s.via) for s in neighbours(index, _note(index, "Compost heaps.md"))}
    assert near == {"Compost tea.md": ("similar words", "compost, heaps")}


def test_the_same_seed_walks_the_same_path(setup: Setup) -> None:
    index, conn = setup
    weight = weights(index, conn)
    for seed in range(20):
        first = take_walk(index, None, seed, 7, weight)
        assert take_walk(index, None, seed, 7, weight) == first
        assert len({s.path for s in first}) == len(first)  # no note twice
        assert "digest.md" not in {s.path for s in first}
        assert first[0].why == "random start"
    assert len({tuple(take_walk(index, None, s, 7, weight)) for s in range(20)}) > 1


def test_a_seeded_walk_is_kept_and_replayed_whatever_was_visited_since(setup: Setup) -> None:
    index, conn = setup
    walk = wander(index, conn, "hub", seed=42, steps=3)
    assert not walk.replayed and walk.seed == 42
    assert walk.steps[0].why == "start" and len(walk.steps) == 4
    assert walk.steps[1].why in ("links to", "linked from") and walk.steps[1].via == "hub"
    visits = dict(conn.execute("SELECT path, visits FROM wander_visits").fetchall())
    assert visits == {s.path: 1 for s in walk.steps}
    for _ in range(5):  # other walks change the visits, and so the chances
        wander(index, conn, "hub", steps=3)
    again = wander(index, conn, "hub", seed=42, steps=3)
    assert again.replayed and again.steps == walk.steps
    assert conn.execute("SELECT count(*) FROM activity WHERE action = 'wandered'").fetchone() == (
        6,
    )
    # Another start or length is another walk.
    assert not wander(index, conn, "back", seed=42, steps=3).replayed


def test_older_notes_are_preferred(setup: Setup) -> None:
    index, conn = setup
    hub, weight = _note(index, "hub.md"), weights(index, conn)
    taken = Counter(take_walk(index, hub, seed, 1, weight)[1].path for seed in range(600))
    # old is the oldest note (weight 2), new the newest (weight 1); both are links.
    assert taken["old.md"] > 1.5 * taken["new.md"] > 0


def test_less_visited_notes_are_preferred(setup: Setup) -> None:
    index, conn = setup
    conn.execute("INSERT INTO wander_visits VALUES ('old.md', 5, '2026-01-01T00:00:00+00:00')")
    hub, weight = _note(index, "hub.md"), weights(index, conn)
    taken = Counter(take_walk(index, hub, seed, 1, weight)[1].path for seed in range(600))
    # old's weight is now 2 / 6, new's still 1.
    assert taken["new.md"] > 2 * taken["old.md"] > 0


def test_where_nothing_new_is_near_the_walk_jumps(setup: Setup) -> None:
    index, conn = setup
    walk = take_walk(index, _note(index, "tagged.md"), 1, 9, weights(index, conn))
    assert [s.why for s in walk[:2]] == ["start", "shares tag"]
    assert walk[2].why == "jump"
    # Eight notes (the digest is never walked to): the walk ends when all are on it.
    assert len(walk) == 8 and len({s.path for s in walk}) == 8


def test_the_cli_prints_the_path_and_why_and_replays(setup: Setup) -> None:
    index, _ = setup
    root = index.vault.root
    before = fingerprint(root)
    run = cli_in(root)
    out = run("wander", "hub", "--seed", "7", "--steps", "2")
    lines = out.splitlines()
    assert lines[0] == "0. hub.md  (the start)"
    assert lines[1].endswith(("(hub links to it)", "(it links to hub)"))
    assert lines[-1].startswith("Seed 7: knowflow wander hub --seed 7 --steps 2")
    again = run("wander", "hub", "--seed", "7", "--steps", "2")
    assert again.splitlines()[:-1] == lines[:-1] and again.startswith("0. hub.md")
    assert again.splitlines()[-1].startswith("Replayed 7")
    assert '"replayed": true' in run("wander", "hub", "--seed", "7", "--steps", "2", "--json")
    assert "replays the same walk" in run("wander", "--help")
    assert fingerprint(root) == before


def test_an_empty_vault_has_nowhere_to_wander(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path)
    with Index(vault) as index:
        index.scan()
        conn = open_state(vault)
        with pytest.raises(KnowflowError, match="no notes"):
            wander(index, conn, seed=1)
        conn.close()


def test_a_seed_out_of_range_is_refused_without_a_traceback(setup: Setup) -> None:
    index, conn = setup
    run = cli_in(index.vault.root)
    out = run("wander", "hub", "--seed", "99999999999999999999", code=2)
    assert "--seed" in out and "Traceback" not in out
    run("wander", "hub", "--seed", "-1", code=2)
    assert run("wander", "hub", "--seed", str(2**63 - 1), "--steps", "1").startswith("0. hub.md")
    with pytest.raises(KnowflowError, match="seed"):
        wander(index, conn, "hub", seed=2**63)


def test_the_start_depends_on_the_seed_alone_and_a_shorter_walk_is_a_prefix(
    setup: Setup,
) -> None:
    index, conn = setup
    for seed in (3, 11, 99):
        short = wander(index, conn, seed=seed, steps=3).steps
        long = wander(index, conn, seed=seed, steps=7).steps
        assert long[:4] == short and long[0].why == "random start"
        assert wander(index, conn, seed=seed, steps=2).steps == short[:3]
    # Fresh seeds, the long walk first: the short one is its start.
    for seed in (5, 8):
        long = wander(index, conn, seed=seed, steps=6).steps
        assert wander(index, conn, seed=seed, steps=2).steps == long[:3]
    # Whatever was visited meanwhile, a seed's random start is the same note.
    weight = weights(index, conn)
    assert {take_walk(index, None, 21, n, weight)[0].path for n in (1, 4, 7)} == {
        take_walk(index, None, 21, 1, lambda _: 1.0)[0].path
    }
