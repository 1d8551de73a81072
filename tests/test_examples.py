"""The sample vault that ships with the repository: it uses every syntax and is healthy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import Index, Vault
from knowflow.sense import backlinks, check, search, tag_tree

from .conftest import EXAMPLES, fingerprint


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("examples") / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("index.db*"))
    with Index(Vault(root)) as idx:
        idx.scan()
        yield idx


def test_about_thirty_notes(index: Index) -> None:
    assert 28 <= index.count() <= 40


def test_check_finds_exactly_the_one_planned_unresolved_link(index: Index) -> None:
    assert [f.as_dict() for f in check(index)] == [
        {
            "kind": "unresolved-link",
            "path": "inbox/Questions to explore.md",
            "line": 7,
            "message": "[[Practice dashboard]] leads to no file",
            "target": "Practice dashboard",
        }
    ]


def test_every_link_kind_is_used_and_resolves(index: Index) -> None:
    rows = index.conn.execute(
        "SELECT kind, target, subpath, display, status, resolved_path FROM links"
    ).fetchall()
    kinds = {r[0] for r in rows}
    assert kinds == {"wikilink", "embed", "markdown"}
    assert any(r[3] for r in rows)  # |alias
    assert any(r[2].startswith("#^") and r[1] for r in rows)  # block reference
    assert any(r[2].startswith("#") and not r[2].startswith("#^") and r[1] for r in rows)
    assert any(r[1] == "" for r in rows)  # same-note [[#heading]]
    assert ("embed", "diagram.png", "", None, "resolved", "attachments/diagram.png") in rows
    assert any(r[0] == "markdown" and r[5] == "attachments/reading-list.txt" for r in rows)
    assert any("/" in r[1] and r[5] == "projects/onboarding/Overview.md" for r in rows)
    # the table-escaped alias resolves like any other
    assert (
        "wikilink",
        "Working out loud",
        "",
        "work in progress",
        "resolved",
        "practices/Working out loud.md",
    ) in rows
    # links inside %% and <!-- --> comments are not links
    assert not {"Hidden link", "Stocks and flows"} & {r[1] for r in rows}


def test_tags_and_nesting(index: Index) -> None:
    names = {node.name for _, node in tag_tree(index).walk()}
    assert {"pkm", "pkm/seek", "networks/diversity", "meta/navigation", "html-tag"} <= names
    assert not {"not-a-tag", "neither", "123", "fragment", 'pkm"'} & names


def test_search_and_backlinks(index: Index) -> None:
    assert search(index, "tacit")[0].path == "concepts/Tacit and explicit knowledge.md"
    assert search(index, "PKM loop")[0].path == "concepts/Seek Sense Share.md"
    assert {h.path for h in search(index, "type:clipping")} == {
        "clippings/Why wikis fail.md",
        "clippings/On note-taking.md",
    }
    sources = {b.path for b in backlinks(index, index.note("Seek Sense Share"))}
    assert {"Welcome.md", "Glossary.md", "concepts/Zettelkasten.md"} <= sources


def test_indexing_never_touches_the_notes(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("index.db*"))
    before = fingerprint(root)
    with Index(Vault(root)) as idx:
        idx.scan()
        idx.rebuild()
    assert fingerprint(root) == before
