"""`check` reports every link to a heading or block that does not exist, compares
headings as Obsidian does, and quotes each broken link as its note writes it."""

from __future__ import annotations

from collections.abc import Callable

from knowflow import Index
from knowflow.sense.check import check

Build = Callable[[dict[str, str | bytes]], Index]

TARGET = (
    "# Target\n"
    "## D&D WOTC\n"
    "## Setup\n"
    "### Install\n"
    "## `hasTag()`\n"
    "A paragraph with an id ^para-1\n"
    "An id that is not at the end ^inside here\n"
)


def found(index: Index) -> list[tuple[str, str, int | None, str | None]]:
    return [(f.kind, f.path, f.line, f.target) for f in check(index)]


def test_links_to_missing_headings_and_blocks(indexed: Build) -> None:
    index = indexed(
        {
            "Target.md": TARGET,
            "a.md": (
                "[[Target#No such heading]]\n"
                "[[Target#^nope]]\n"
                "![[Target#Gone]]\n"
                "[x](Target.md#not-here)\n"
                "[[Target#Setup#Uninstall]]\n"
                "[[Target#^inside]]\n"
                "[[#Local]] and [[#Missing local]]\n"
                "## Local\n"
            ),
        }
    )
    assert found(index) == [
        ("missing-heading", "a.md", 1, "Target#No such heading"),
        ("missing-block", "a.md", 2, "Target#^nope"),
        ("missing-heading", "a.md", 3, "Target#Gone"),
        ("missing-heading", "a.md", 4, "Target.md#not-here"),
        ("missing-heading", "a.md", 5, "Target#Setup#Uninstall"),
        ("missing-block", "a.md", 6, "Target#^inside"),
        ("missing-heading", "a.md", 7, "#Missing local"),
    ]
    messages = [f.message for f in check(index)]
    assert messages[0] == '[[Target#No such heading]]: "Target" has no heading "No such heading"'
    assert messages[1] == '[[Target#^nope]]: "Target" has no block "nope"'
    assert messages[3] == '[x](Target.md#not-here): "Target" has no heading "not-here"'


def test_headings_compare_as_obsidian_does(indexed: Build) -> None:
    index = indexed(
        {
            "Target.md": TARGET,
            "ok.md": (
                "[[Target#D D WOTC]] [[target#d&d wotc]] [[Target#setup]]\n"
                "[[Target#Setup#Install]] [[Target#hasTag()]] [[Target#^para-1]]\n"
                "![[Target#Install]] [[Target|shown]] [[Target#D&D WOTC|shown]]\n"
                "[a](Target.md#dd-wotc) [b](Target.md#D%26D%20WOTC) [c](Target.md#hastag)\n"
                "[[file.pdf#page=2]] ![[file.pdf#page=3]]\n"
            ),
            "file.pdf": b"%PDF-1.4",
        }
    )
    assert found(index) == []


def test_a_heading_added_later_settles_the_link(indexed: Build) -> None:
    index = indexed({"Target.md": "# Target\n", "a.md": "[[Target#Later]]"})
    assert [f.kind for f in check(index)] == ["missing-heading"]
    (index.vault.root / "Target.md").write_text("# Target\n## Later\n")
    index.scan()
    assert check(index) == []


def test_unresolved_links_are_quoted_as_written(indexed: Build) -> None:
    index = indexed(
        {
            "a.md": (
                "See [the note](Missing%20note.md) and ![pic](img/gone.png)\n"
                "[[Nowhere|shown words]] and [[Other#Part]]\n"
            )
        }
    )
    assert [f.message for f in check(index)] == [
        "[the note](Missing%20note.md) leads to no file",
        "![pic](img/gone.png) leads to no file",
        "[[Nowhere|shown words]] leads to no file",
        "[[Other#Part]] leads to no file",
    ]
    assert [f.target for f in check(index)] == [
        "Missing note.md",
        "img/gone.png",
        "Nowhere",
        "Other",
    ]


def test_windows_line_breaks_read_as_any_other(indexed: Build) -> None:
    index = indexed(
        {
            "crlf.md": b"# C\r\n\r\nPara ^blk\r\n\r\nSetext\r\n---\r\nold mac\r^mac\r",
            "a.md": "[[crlf#^blk]] [[crlf#Setext]] [[crlf#^mac]]",
        }
    )
    assert check(index) == []


def test_code_inside_a_link_is_part_of_it(indexed: Build) -> None:
    index = indexed(
        {
            "Note.md": "## The `hasTag()` function\n",
            "a.md": "[[Note#The `hasTag()` function]] [[Note#The `gone()` function]]",
        }
    )
    (finding,) = check(index)
    assert finding.target == "Note#The `gone()` function"
    assert finding.message.endswith('has no heading "The `gone()` function"')
