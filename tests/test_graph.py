"""Backlinks with their lines, outgoing links, orphans and the tag tree."""

from __future__ import annotations

from collections.abc import Callable

from knowflow import Index
from knowflow.sense import backlinks, orphans, outgoing, tag_tree

Build = Callable[[dict[str, str | bytes]], Index]


def test_backlinks_carry_the_linking_line(indexed: Build) -> None:
    index = indexed(
        {
            "Hub.md": "# Hub\n[[#Hub]] self",
            "a.md": "intro\nSee [[Hub]] for more.",
            "b/c.md": "![[hub#Hub]]\n[x](../Hub.md)",
            "d.md": "[[Other]]",
        }
    )
    rows = [(r.path, r.line, r.kind, r.text) for r in backlinks(index, index.note("Hub"))]
    assert rows == [
        ("a.md", 2, "wikilink", "See [[Hub]] for more."),
        ("b/c.md", 1, "embed", "![[hub#Hub]]"),
        ("b/c.md", 2, "markdown", "[x](../Hub.md)"),
    ]


def test_outgoing_in_order(indexed: Build) -> None:
    index = indexed({"a.md": "[[z]]\n[[b]] [[c]]", "b.md": "", "c.md": ""})
    assert [(r.target, r.resolved) for r in outgoing(index, index.note("a"))] == [
        ("z", None),
        ("b", "b.md"),
        ("c", "c.md"),
    ]


def test_orphans(indexed: Build) -> None:
    index = indexed(
        {"a.md": "[[b]]", "b.md": "", "lonely.md": "[[#self]] #tag", "out.md": "[[nowhere]]"}
    )
    assert [n.path for n in orphans(index)] == ["lonely.md"]


def test_tag_tree_counts_nested(indexed: Build) -> None:
    index = indexed(
        {
            "a.md": "---\ntags: [pkm]\n---\n#pkm/seek #PKM/seek",
            "b.md": "#pkm/sense/deep",
            "c.md": "#other",
        }
    )
    tree = [(depth, node.name, node.count, node.own) for depth, node in tag_tree(index).walk()]
    assert tree == [
        (0, "other", 1, 1),
        (0, "pkm", 2, 1),
        (1, "pkm/seek", 1, 1),
        (1, "pkm/sense", 1, 0),
        (2, "pkm/sense/deep", 1, 1),
    ]
