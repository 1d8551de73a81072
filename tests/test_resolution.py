"""Link resolution as Obsidian does it, on real indexes built from fixture vaults."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from knowflow import Index
from knowflow.sense import check, outgoing

Build = Callable[[dict[str, str | bytes]], Index]


def targets(index: Index, note: str) -> list[tuple[str, str, str | None]]:
    return [(ln.target, ln.status, ln.resolved) for ln in outgoing(index, index.note(note))]


def test_by_name_anywhere_case_insensitive(indexed: Build) -> None:
    index = indexed({"a/Source.md": "[[target]] [[TARGET.md]]", "b/c/Target.md": "x"})
    assert targets(index, "a/Source.md") == [
        ("target", "resolved", "b/c/Target.md"),
        ("TARGET.md", "resolved", "b/c/Target.md"),
    ]


def test_unicode_normalisation(indexed: Build) -> None:
    nfd = unicodedata.normalize("NFD", "Café")
    index = indexed({"Source.md": f"[[{nfd}]]", "Café.md": "x"})
    assert targets(index, "Source.md") == [(nfd, "resolved", "Café.md")]


def test_collisions_follow_obsidian_order(indexed: Build) -> None:
    index = indexed(
        {
            "Note.md": "root",
            "b/Note.md": "b",
            "a/b/Note.md": "ab",
            "zzzz/Note.md": "z",
            "b/Source.md": "[[Note]] [[b/Note]] [[a/b/Note]] [[/zzzz/Note]]",
            "zzzz/deep/Source2.md": "[[Note]]",
            "a/b/Source3.md": "[[Note]]",
        }
    )
    # 1. an exact vault path wins, even over the source's own folder
    assert targets(index, "b/Source.md") == [
        ("Note", "resolved", "Note.md"),
        ("b/Note", "resolved", "b/Note.md"),
        ("a/b/Note", "resolved", "a/b/Note.md"),
        ("/zzzz/Note", "resolved", "zzzz/Note.md"),
    ]
    # with no root Note.md, the own folder wins, then the shortest path string
    (index.vault.root / "Note.md").unlink()
    index.scan()
    assert targets(index, "b/Source.md")[0] == ("Note", "ambiguous", "b/Note.md")
    assert targets(index, "zzzz/deep/Source2.md") == [("Note", "ambiguous", "b/Note.md")]
    assert targets(index, "a/b/Source3.md") == [("Note", "ambiguous", "a/b/Note.md")]


def test_path_suffix_when_names_collide(indexed: Build) -> None:
    index = indexed(
        {
            "projects/x/Overview.md": "",
            "areas/Overview.md": "",
            "S.md": "[[x/Overview]] [[areas/Overview]] [[nope/Overview]] [[Overview]]",
        }
    )
    assert targets(index, "S.md") == [
        ("x/Overview", "resolved", "projects/x/Overview.md"),
        ("areas/Overview", "resolved", "areas/Overview.md"),
        ("nope/Overview", "unresolved", None),
        ("Overview", "ambiguous", "areas/Overview.md"),
    ]
    ambiguous = [f for f in check(index) if f.kind == "ambiguous-link"]
    assert len(ambiguous) == 1
    assert ambiguous[0].candidates == ["areas/Overview.md", "projects/x/Overview.md"]


def test_attachments_resolve(indexed: Build) -> None:
    index = indexed(
        {
            "img/pic.png": b"\x89PNG\r\n\x1a\n",
            "docs/file.pdf": b"%PDF-1.4",
            "S.md": "![[pic.png]] ![[missing.png]] [pdf](docs/file.pdf) ![](img/pic.png)",
        }
    )
    assert targets(index, "S.md") == [
        ("pic.png", "resolved", "img/pic.png"),
        ("missing.png", "unresolved", None),
        ("docs/file.pdf", "resolved", "docs/file.pdf"),
        ("img/pic.png", "resolved", "img/pic.png"),
    ]


def test_markdown_links_relative_to_the_note(indexed: Build) -> None:
    index = indexed(
        {
            "a/S.md": "[x](Here.md) [y](../Top.md) [z](./Here.md) [w](Far.md) [v](../a/Nope.md)",
            "a/Here.md": "",
            "Here.md": "",
            "Top.md": "",
            "deep/er/Far.md": "",
        }
    )
    assert targets(index, "a/S.md") == [
        ("Here.md", "resolved", "a/Here.md"),
        ("../Top.md", "resolved", "Top.md"),
        ("./Here.md", "resolved", "a/Here.md"),
        ("Far.md", "resolved", "deep/er/Far.md"),
        ("../a/Nope.md", "unresolved", None),
    ]


def test_same_note_links_resolve_to_self(indexed: Build) -> None:
    index = indexed({"S.md": "# H\n[[#H]] [[#^b]] ^b"})
    assert targets(index, "S.md") == [("", "resolved", "S.md"), ("", "resolved", "S.md")]


def test_new_and_deleted_targets_change_resolution(indexed: Build) -> None:
    index = indexed({"S.md": "[[Later]]"})
    assert targets(index, "S.md") == [("Later", "unresolved", None)]
    (index.vault.root / "sub").mkdir()
    (index.vault.root / "sub" / "Later.md").write_text("now")
    index.scan()
    assert targets(index, "S.md") == [("Later", "resolved", "sub/Later.md")]
    (index.vault.root / "sub" / "Later.md").rename(index.vault.root / "Later2.md")
    report = index.scan()
    assert report.renamed == 1
    assert targets(index, "S.md") == [("Later", "unresolved", None)]
    (index.vault.root / "Later2.md").unlink()
    index.scan()
    assert targets(index, "S.md") == [("Later", "unresolved", None)]
