"""The query language, BM25 ranking with boosts, and snippets."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import pytest

from knowflow import Index, QueryError
from knowflow.sense import parse_query, search

Build = Callable[[dict[str, str | bytes]], Index]

VAULT: dict[str, str | bytes] = {
    "Gardening.md": "---\ntags: [hobby/garden]\n---\n# Gardening\nTomatoes need sun and water.",
    "Cooking.md": "---\ntags: [hobby/kitchen]\naliases: [Recipes]\n---\nTomatoes in a sauce.",
    "work/Meeting notes.md": "---\ntags: [work]\nshare: team/platform\n---\n"
    "## Sauce strategy\nWe discussed water supply and the garden budget. [[Gardening]]",
    "work/Clip.md": "---\ntype: clipping\ntags: [hobby]\nshare: [public]\n---\n"
    "A sauce recipe clipped from the web. [[Nowhere]]",
    "Notes about notes.md": "Writing notes about note taking; hobby talk.",
}


def paths(index: Index, query: str) -> list[str]:
    return [h.path for h in search(index, query)]


@pytest.fixture
def index(indexed: Build) -> Index:
    return indexed(VAULT)


def test_words_are_anded_and_stemmed(index: Index) -> None:
    assert set(paths(index, "tomatoes")) == {"Gardening.md", "Cooking.md"}
    assert paths(index, "tomatoes sun") == ["Gardening.md"]
    assert set(paths(index, "note")) == {"Notes about notes.md", "work/Meeting notes.md"}


def test_phrase_exclude_or_prefix(index: Index) -> None:
    assert paths(index, '"water supply"') == ["work/Meeting notes.md"]
    assert paths(index, '"supply water"') == []
    assert set(paths(index, "sauce -clipped")) == {"Cooking.md", "work/Meeting notes.md"}
    assert paths(index, "sauce -recipe") == ["work/Meeting notes.md"]  # alias Recipes counts
    assert set(paths(index, "sun OR clipped")) == {"Gardening.md", "work/Clip.md"}
    assert set(paths(index, "garde*")) == {"Gardening.md", "work/Meeting notes.md"}
    assert set(paths(index, "-tomatoes -sauce")) == {"Notes about notes.md"}


def test_filters(index: Index) -> None:
    assert set(paths(index, "tag:hobby")) == {"Gardening.md", "Cooking.md", "work/Clip.md"}
    assert paths(index, "tag:hobby/garden") == ["Gardening.md"]
    assert paths(index, "tag:#HOBBY/Kitchen") == ["Cooking.md"]
    assert set(paths(index, "path:work/")) == {"work/Clip.md", "work/Meeting notes.md"}
    assert paths(index, "type:clipping") == ["work/Clip.md"]
    assert paths(index, "share:team/platform") == ["work/Meeting notes.md"]
    assert set(paths(index, "share:private")) == {
        "Gardening.md",
        "Cooking.md",
        "Notes about notes.md",
    }
    assert paths(index, "links-to:Gardening") == ["work/Meeting notes.md"]
    assert paths(index, "links-to:Nowhere") == ["work/Clip.md"]
    assert paths(index, "has:unresolved") == ["work/Clip.md"]
    assert set(paths(index, "sauce tag:hobby")) == {"Cooking.md", "work/Clip.md"}
    assert set(paths(index, "sauce -tag:hobby")) == {"work/Meeting notes.md"}
    assert set(paths(index, "tag:work OR type:clipping")) == {
        "work/Clip.md",
        "work/Meeting notes.md",
    }


def test_title_alias_and_heading_boosts(indexed: Build) -> None:
    body = "filler words " * 30
    index = indexed(
        {
            "Sauce.md": f"{body}",
            "Other.md": "---\naliases: [Sauce guide]\n---\n" + body,
            "Third.md": f"# Sauce\n{body}",
            "Fourth.md": f"{body} sauce sauce",
        }
    )
    assert paths(index, "sauce") == ["Sauce.md", "Other.md", "Third.md", "Fourth.md"]


def test_snippet_marks_the_match(index: Index) -> None:
    hit = search(index, "budget")[0]
    snippet = hit.marked("[", "]")
    assert snippet is not None and "[budget]" in snippet


def test_bad_queries(index: Index) -> None:
    with pytest.raises(QueryError):
        parse_query("has:nonsense")
    with pytest.raises(QueryError):
        parse_query("tag:")
    # punctuation never breaks FTS5
    assert paths(index, '( ) * " OR -') == []
    assert paths(index, "AND sun") == ["Gardening.md"]  # FTS5 operators are plain words
    assert paths(index, "c++ sauce:") == []
    assert paths(index, "") == []


def test_limit_and_offset(indexed: Build) -> None:
    index = indexed({f"n{i:02}.md": f"common word {'x ' * i}" for i in range(30)})
    first = search(index, "common", limit=10)
    second = search(index, "common", limit=10, offset=10)
    assert len(first) == 10 and len(second) == 10
    assert not {h.path for h in first} & {h.path for h in second}


def test_ranking_stays_sensible_past_the_cap(
    indexed: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    search_module = importlib.import_module("knowflow.sense.search")
    files: dict[str, str | bytes] = {"aa Garden.md": "an old note about the garden"}
    files.update({f"n{i:02}.md": f"garden {'filler ' * i}" for i in range(30)})
    index = indexed(files)
    full = paths(index, "garden")
    monkeypatch.setattr(search_module, "RANK_CAP", 5)
    capped = paths(index, "garden")
    assert full[0] == capped[0] == "aa Garden.md"  # the title match is never lost
    assert len(capped) == 6  # the title match plus the 5 newest matches
    newest = index.conn.execute(
        "SELECT path FROM files WHERE path LIKE 'n%' ORDER BY id DESC LIMIT 5"
    ).fetchall()
    assert len(full) == 20 and set(capped[1:]) == {p for (p,) in newest}
    assert len(search(index, "garden", limit=100)) == 6


def test_closest_when_no_note_holds_every_word(index: Index) -> None:
    from knowflow.sense.search import closest

    assert search(index, "tomatoes sauce sun") == []
    hits = closest(index, "tomatoes sauce sun")
    assert [(h.path, h.missing) for h in hits[:2]] == [
        ("Gardening.md", ("sauce",)),
        ("Cooking.md", ("sun",)),
    ]
    assert {h.path for h in hits} >= {"work/Meeting notes.md", "work/Clip.md"}
    assert all(len(h.missing) <= 2 for h in hits)
    # filters and exclusions still hold; a single word has nothing closer to offer
    assert [h.path for h in closest(index, "tomatoes sauce sun -water")] == [
        "Cooking.md",
        "work/Clip.md",
    ]
    assert [h.path for h in closest(index, "tomatoes sun tag:hobby/kitchen")] == ["Cooking.md"]
    assert closest(index, "zebra") == []


def test_match_offsets_leave_the_snippet_plain(indexed: Build) -> None:
    index = indexed({"keys.md": "**Hotkeys** are listed here: hotkeys for everything."})
    hit = search(index, "hotkeys")[0]
    text, spans = hit.matches()
    assert "\x02" not in text and "\x03" not in text
    assert [text[a:b] for a, b in spans] == ["Hotkeys", "hotkeys"]
    assert "**Hotkeys**" in text  # the note's own Markdown, not a marker of ours


def test_closest_weighs_a_missing_word_by_how_rare_it_is(indexed: Build) -> None:
    from knowflow.sense.search import closest

    files = {f"n{i}.md": f"The notes, number {i}.\n" for i in range(8)}
    files["phone.md"] = "Writing on a phone.\n"  # lacks "the" and "notes", in most notes
    files["words.md"] = "Writing the notes.\n"  # lacks only "phone", but it is rare
    index = indexed(files)
    hits = closest(index, "writing the notes phone")
    assert [h.path for h in hits[:2]] == ["phone.md", "words.md"]
    assert hits[0].missing == ("the", "notes")
