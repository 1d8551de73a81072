"""Connections: related notes, unlinked mentions, suggested and accepted links."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import Index, Vault
from knowflow.errors import ConflictError, KnowflowError
from knowflow.index.index import NoteRef
from knowflow.sense.connect import (
    fuse,
    graph,
    informative,
    key_terms,
    lexical,
    related,
    shared_words,
)
from knowflow.sense.graph import note_at
from knowflow.sense.mentions import accept, mentions, plan_accept, suggestions, write_planned

from .conftest import cli_in, write_files

FILES = {
    "Bees.md": "# Bees\n\nHoneybees pollinate orchards. Pollination by honeybees feeds orchards.\n",
    "Orchard pollination.md": "# Orchard pollination\n\nOrchards need honeybees for pollination.\n",
    "Alpha.md": "# Alpha\n\nFirst of two. [[Granite]] and [[Basalt]].\n",
    "Beta.md": "# Beta\n\nSecond of two. [[Granite]] and [[Basalt]].\n",
    "Granite.md": "# Granite\n\nA rock.\n",
    "Basalt.md": "# Basalt\n\nAnother rock.\n",
    "Shelf.md": "# Shelf\n\nOn it: [[Kettle]] and [[Teapot]].\n",
    "Kettle.md": "# Kettle\n\nBoils water for tea.\n",
    "Teapot.md": "# Teapot\n\nSteeps tea leaves in water.\n",
}


def _vault(root: Path, files: dict[str, str]) -> Index:
    root.mkdir()
    write_files(root, dict(files))
    index = Index(Vault.init(root))
    index.scan()
    return index


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    index = _vault(tmp_path / "vault", FILES)
    yield index
    index.close()


def _note(index: Index, path: str) -> NoteRef:
    note = note_at(index, path)
    assert note is not None
    return note


def test_related_ranks_the_word_pair_the_link_pair_and_the_co_cited_pair_first(
    index: Index,
) -> None:
    def ranked(path: str) -> list[tuple[str, dict[str, list[str]]]]:
        return [(r.path, r.why) for r in related(index, _note(index, path))]

    assert ranked("Bees.md") == [
        ("Orchard pollination.md", {"words": ["honeybees", "orchards", "pollination"]})
    ]
    shared = ["both link to Basalt.md", "both link to Granite.md"]
    assert ranked("Alpha.md") == [
        ("Beta.md", {"words": ["granite", "basalt"], "links": shared}),
        ("Basalt.md", {"words": ["basalt"]}),
        ("Granite.md", {"words": ["granite"]}),
    ]
    assert ranked("Kettle.md") == [
        ("Teapot.md", {"words": ["water", "tea"], "links": ["co-cited by Shelf.md"]}),
        ("Shelf.md", {"words": ["kettle"]}),
    ]
    top = related(index, _note(index, "Kettle.md"))[0]
    assert top.score == round(2 / 61, 6)


def test_fusion_takes_one_more_ranked_list() -> None:
    fused = fuse({"words": [("a", ""), ("b", "")], "links": [("b", "x")], "semantic": [("b", "")]})
    assert [p for p, _, _ in fused] == ["b", "a"]
    assert fused[0][1] == pytest.approx(1 / 62 + 2 / 61)
    assert fused[0][2] == {"words": "", "links": "x", "semantic": ""}


def _labelled_vault(root: Path, pairs: int, seed: int = 7) -> dict[str, str]:
    """Pairs that share links and a few words; every note also has common words, so
    words alone often find the wrong partner."""
    rng = random.Random(seed)
    common = [f"word{chr(97 + i)}{chr(97 + j)}" for i in range(6) for j in range(6)]
    files: dict[str, str] = {}
    for p in range(pairs):
        hubs = [f"Hub {p} {h}" for h in range(2)]
        shared = rng.sample(common, 2)
        for side in "ab":
            words = " ".join(rng.sample(common, 8) + shared)
            links = " ".join(f"[[{h}]]" for h in hubs)
            files[f"Note {p}{side}.md"] = f"# Note {p}{side}\n\n{words}\n\n{links}\n"
        for h in hubs:
            files[f"{h}.md"] = f"# {h}\n\nplace\n"
    return files


def test_hybrid_finds_the_partner_more_often_than_words_alone(tmp_path: Path) -> None:
    pairs = 30
    index = _vault(tmp_path / "v", _labelled_vault(tmp_path, pairs))
    hybrid = lexical_only = 0
    for p in range(pairs):
        note = _note(index, f"Note {p}a.md")
        want = f"Note {p}b.md"
        hybrid += related(index, note, 1)[0].path == want
        words = lexical(index, note)
        lexical_only += bool(words) and words[0][0] == want
    index.close()
    assert hybrid > lexical_only
    assert hybrid >= pairs * 0.9


MENTIONS = {
    "Garden.md": (
        "---\naliases: [Allotment]\n---\n# Garden\n\n"
        "My compost heap is warm. See [[Compost heap]]?\n"
        "The garden loves COMPOST HEAP tea.\n"
        "`compost heap` in code.\n\n```\ncompost heap\n```\n"
        "Also [compost heap](Other.md) and the Allotment.\n"
    ),
    "Compost heap.md": "# Compost heap\n\nFeeds the garden. Not a compost heaps fan.\n",
    "Shed.md": "# Shed\n\nNext to the allotment and the compost heap.\n",
}


@pytest.fixture
def mindex(tmp_path: Path) -> Iterator[Index]:
    index = _vault(tmp_path / "vault", MENTIONS)
    yield index
    index.close()


def test_unlinked_mentions_skip_code_links_front_matter_and_linked_notes(mindex: Index) -> None:
    out, inbound = mentions(mindex, _note(mindex, "Garden.md"))
    # Garden links to Compost heap already: no suggestion for it in Garden.
    assert out == []
    assert [(m.path, m.line, m.text) for m in inbound] == [
        ("Compost heap.md", 3, "garden"),
        ("Shed.md", 3, "allotment"),
    ]
    shed_out, shed_in = mentions(mindex, _note(mindex, "Shed.md"))
    assert [(m.line, m.text, m.target) for m in shed_out] == [
        (3, "allotment", "Garden.md"),
        (3, "compost heap", "Compost heap.md"),
    ]
    assert shed_out[0].sentence == "Next to the allotment and the compost heap."
    assert shed_in == []
    heap_out, heap_in = mentions(mindex, _note(mindex, "Compost heap.md"))
    assert [(m.line, m.text) for m in heap_out] == [(3, "garden")]
    assert [(m.path, m.line, m.text) for m in heap_in] == [("Shed.md", 3, "compost heap")]


def test_mentions_in_a_note_outside_code_and_links(tmp_path: Path) -> None:
    files = dict(MENTIONS)
    files["Garden.md"] = files["Garden.md"].replace("See [[Compost heap]]?", "See it?")
    index = _vault(tmp_path / "vault", files)
    out, _ = mentions(index, _note(index, "Garden.md"))
    index.close()
    assert [(m.line, m.text) for m in out] == [(6, "compost heap"), (7, "COMPOST HEAP")]
    assert out[1].sentence == "The garden loves COMPOST HEAP tea."


def test_accept_changes_only_that_span(mindex: Index) -> None:
    root = mindex.vault.root
    before = (root / "Shed.md").read_bytes()
    link = accept(mindex, "Shed.md", 3, "compost heap")
    assert link == "[[Compost heap|compost heap]]"
    after = (root / "Shed.md").read_bytes()
    start = before.index(b"compost heap")
    assert after[:start] == before[:start]
    assert after[start : start + len(link)] == link.encode()
    assert after[start + len(link) :] == before[start + len("compost heap") :]
    assert [m.text for m in suggestions(mindex, _note(mindex, "Shed.md"))] == ["allotment"]
    # an alias names its note only in search: the link leads to the note, shows the alias
    assert accept(mindex, "Shed.md", 3, "allotment", "allotment") == "[[Garden|allotment]]"
    assert (root / "Shed.md").read_bytes() == (
        b"# Shed\n\nNext to the [[Garden|allotment]] and the [[Compost heap|compost heap]].\n"
    )


def test_accept_refuses_a_file_changed_since_it_was_read(mindex: Index) -> None:
    path = mindex.vault.root / "Shed.md"
    stamp, text, _ = plan_accept(mindex, "Shed.md", 3, "compost heap")
    path.write_text("# Shed\n\nRewritten meanwhile: compost heap.\n", encoding="utf-8")
    with pytest.raises(ConflictError):
        write_planned(mindex, "Shed.md", stamp, text)
    assert "Rewritten meanwhile" in path.read_text(encoding="utf-8")


def test_cli_json_shapes(mindex: Index) -> None:
    root = mindex.vault.root
    run = cli_in(root)
    rel = json.loads(run("related", "Shed", "--json"))
    assert all(set(r) == {"path", "title", "score", "why"} for r in rel)
    found = json.loads(run("mentions", "Shed", "--json"))
    assert set(found) == {"in_note", "elsewhere"}
    keys = {"id", "path", "line", "column", "text", "target", "title", "sentence"}
    assert found["in_note"] and all(set(m) == keys for m in found["in_note"])
    sugg = json.loads(run("link", "suggest", "Shed", "--json"))
    assert [s["text"] for s in sugg] == ["allotment", "compost heap"]
    out = run("link", "accept", "Shed", "--id", sugg[1]["id"])
    assert "[[Compost heap|compost heap]]" in out
    run("link", "accept", "Shed", "--line", "3", "--text", "allotment")
    assert (root / "Shed.md").read_text(encoding="utf-8") == (
        "# Shed\n\nNext to the [[Garden|allotment]] and the [[Compost heap|compost heap]].\n"
    )
    run("link", "accept", "Shed", "--line", "3", "--text", "nothing", code=2)
    assert run("mentions", "Shed") == "In this note:\n  none\nElsewhere:\n  none\n"


NO_LINK_HERE = """# Serendipity notes

See https://example.org/Serendipity/page and <https://x.org/Serendipity>.
[Serendipity](https://x.org) and ![Serendipity](pic.png) and [Serendipity][ref].
[ref]: https://example.org/Serendipity "Serendipity title"
A #Serendipity tag and <span title="Serendipity">text</span> and www.serendipity.org.
## Serendipity as a heading
Serendipity and serendipity again, vs. this. Serendipity once more.
"""


def test_no_mention_is_found_where_a_link_cannot_go(tmp_path: Path) -> None:
    index = _vault(tmp_path / "v", {"Serendipity.md": "# Serendipity\n", "Notes.md": NO_LINK_HERE})
    out, _ = mentions(index, _note(index, "Notes.md"))
    assert [(m.line, m.column, m.text) for m in out] == [
        (8, 0, "Serendipity"),
        (8, 16, "serendipity"),
        (8, 45, "Serendipity"),
    ]
    # "vs." ends no sentence; the full stop after "this" does
    assert out[1].sentence == "Serendipity and serendipity again, vs. this."
    assert len({m.id for m in out}) == 3
    index.close()


def test_accept_takes_the_occurrence_asked_for(tmp_path: Path) -> None:
    index = _vault(tmp_path / "v", {"Serendipity.md": "# Serendipity\n", "Notes.md": NO_LINK_HERE})
    out, _ = mentions(index, _note(index, "Notes.md"))
    second = out[1]
    accept(index, second.path, second.line, second.text, second.target, second.column)
    line8 = (index.vault.root / "Notes.md").read_text().splitlines()[7]
    assert line8.startswith("Serendipity and [[Serendipity|serendipity]] again")
    # without a column, the occurrence written exactly as asked is taken, not the first
    accept(index, "Notes.md", 8, "Serendipity")
    line8 = (index.vault.root / "Notes.md").read_text().splitlines()[7]
    assert line8.startswith("[[Serendipity]] and [[Serendipity|serendipity]] again")
    index.close()


def test_accept_in_a_table_escapes_the_bar(tmp_path: Path) -> None:
    table = "| term | used |\n| --- | --- |\n| knowledge flow | yes |\n"
    index = _vault(tmp_path / "v", {"Knowledge flow.md": "# Knowledge flow\n", "T.md": table})
    link = accept(index, "T.md", 3, "knowledge flow")
    assert link == "[[Knowledge flow\\|knowledge flow]]"
    assert (index.vault.root / "T.md").read_text().splitlines()[2] == (
        "| [[Knowledge flow\\|knowledge flow]] | yes |"
    )
    index.close()


def test_accept_refuses_a_target_naming_no_single_note(tmp_path: Path) -> None:
    files = {"a/Overview.md": "x\n", "b/Overview.md": "y\n", "N.md": "Serendipity here.\n"}
    index = _vault(tmp_path / "v", files)
    before = (index.vault.root / "N.md").read_bytes()
    for target in ("Overview", "Nothing here"):
        with pytest.raises(KnowflowError):
            accept(index, "N.md", 1, "Serendipity", target)
    assert (index.vault.root / "N.md").read_bytes() == before
    assert accept(index, "N.md", 1, "Serendipity", "a/Overview.md") == "[[a/Overview|Serendipity]]"
    index.close()


def test_common_one_word_names_are_left_out_unless_asked(tmp_path: Path) -> None:
    files = {f"n{i}.md": f"A note about thing {i}.\n" for i in range(12)}
    files["Note.md"] = "# Note\n"
    files["Garden.md"] = "# Garden\n"
    files["Me.md"] = "This note is about the garden.\n"
    index = _vault(tmp_path / "v", files)
    out, _ = mentions(index, _note(index, "Me.md"))
    assert [m.text for m in out] == ["garden"]
    out, _ = mentions(index, _note(index, "Me.md"), common=True)
    assert [m.text for m in out] == ["note", "garden"]
    _, inbound = mentions(index, _note(index, "Note.md"))
    assert inbound == []
    index.close()


def test_a_note_linking_to_itself_shares_no_link_and_web_addresses_give_no_words(
    tmp_path: Path,
) -> None:
    files = {
        "N.md": "About [[P]]. See https://github.com/org/repo and www.example.com/page.\n",
        "P.md": "Principles, see [[P]] and [[Q]].\n",
        "Q.md": "Q.\n",
    }
    index = _vault(tmp_path / "v", files)
    ranked = graph(index, _note(index, "N.md"))
    assert all("P.md" not in why for _, why in ranked)
    terms = key_terms(index, _note(index, "N.md"))
    assert not {"https", "github", "com", "www", "example"} & set(terms)
    index.close()


def test_a_shared_word_is_found_in_its_singular_or_plural(tmp_path: Path) -> None:
    index = _vault(tmp_path / "v", {"A.md": "Notes on boxes.\n", "B.md": "A note in a box.\n"})
    assert shared_words(index, ["notes", "boxes"], "B.md") == ["notes", "boxes"]
    index.close()


def test_words_in_most_notes_of_a_big_vault_are_not_key_terms_to_search(tmp_path: Path) -> None:
    files = {f"n{i:03}.md": f"Common words everywhere, note {i}.\n" for i in range(240)}
    files["a.md"] = "Common everywhere: the heliotrope.\n"
    files["b.md"] = "A heliotrope, common.\n"
    index = _vault(tmp_path / "v", files)
    # "common" is in 242 of 242 notes: BM25 weighs it at nothing, so it is not searched
    assert informative(index, ["common", "heliotrope"]) == ["heliotrope"]
    assert [p for p, _ in lexical(index, _note(index, "a.md"))] == ["b.md"]
    index.close()
    small = _vault(tmp_path / "s", {"a.md": "Granite here.\n", "b.md": "Granite too.\n"})
    assert informative(small, ["granite"]) == ["granite"]  # a small vault keeps it
    small.close()


def test_link_suggest_offers_each_note_once_per_file(tmp_path: Path) -> None:
    files = {
        "Compost heap.md": "# Compost heap\n",
        "Shed.md": "The compost heap.\n\nAgain the compost heap.\n\nA compost heap, thrice.\n",
    }
    _vault(tmp_path / "v", files).close()
    run = cli_in(tmp_path / "v")
    out = run("link", "suggest", "Shed")
    assert out.count("-> Compost heap") == 1
    assert "also on line 3, 5: one link makes these linked too" in out
    assert len(json.loads(run("link", "suggest", "Shed", "--json"))) == 3


def test_a_concept_named_in_a_few_notes_is_not_a_common_word(tmp_path: Path) -> None:
    files = {f"n{i}.md": f"Plain note {i}.\n" for i in range(24)}
    files |= {f"s{i}.md": f"Some serendipity {i}.\n" for i in range(5)}
    files["Serendipity.md"] = "# Serendipity\n"
    files["Me.md"] = "Does serendipity need slack time?\n"
    index = _vault(tmp_path / "v", files)
    out, _ = mentions(index, _note(index, "Me.md"))
    assert [m.text for m in out] == ["serendipity"]  # in 7 of 31 notes: a concept
    index.close()
