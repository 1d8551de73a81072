"""Real vaults written by other people (../shared/corpus/vaults): what knowflow reads
there agrees with what the notes say, and `check` reports only what is really broken."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from knowflow import Index, Vault
from knowflow.sense.check import check
from knowflow.vault.frontmatter import split_front_matter
from knowflow.vault.note import parse_note

FOAM = Path(__file__).resolve().parent.parent.parent / "shared/corpus/vaults/foam-docs"

pytestmark = pytest.mark.skipif(not FOAM.is_dir(), reason="shared corpus not present")

# Each really broken, looked at by hand: the files and headings are not there. Foam's
# link reference definitions at the ends of notes ("[templates]: templates.md") are
# not links here, as they are not in Obsidian (the corpus README asks to follow it).
FOAM_BROKEN = [
    ("unresolved-link", "dev/contribution-guide.md", 3, "../../CONTRIBUTING.md"),
    (
        "unresolved-link",
        "dev/design/static-site-publishing-research.md",
        11,
        "../../user/publishing/publishing.md",
    ),
    ("unresolved-link", "user/index.md", 69, "publishing"),  # a folder, not a note
    (
        "missing-heading",
        "user/recipes/generate-material-for-mkdocs-site.md",
        35,
        "#further-customise-material-for-mkdocs",  # the heading says "your site"
    ),
    (
        "missing-heading",
        "user/recipes/generate-material-for-mkdocs-site.md",
        39,
        "#publish-your-site",  # the heading is "Building and publishing your site"
    ),
    ("unresolved-link", "user/tools/cli/search.md", 11, "cli-grep"),  # the note is grep.md
]


def test_check_on_foam_reports_only_what_is_broken(tmp_path: Path) -> None:
    shutil.copytree(FOAM, tmp_path / "foam")
    with Index(Vault.init(tmp_path / "foam")) as index:
        index.scan()
        found = [(f.kind, f.path, f.line, f.target) for f in check(index)]
    assert found == FOAM_BROKEN


def test_headings_on_foam_are_commonmark_headings() -> None:
    """Every heading in the vault as markdown-it-py finds it, with its words; headings
    keep their own Markdown (links, escapes) where markdown-it gives plain text."""
    md = MarkdownIt("commonmark").enable("table")
    compared = 0
    for path in sorted(FOAM.rglob("*.md")):
        data = path.read_bytes()
        text = data.decode("utf-8", "replace")
        _, start, first_line = split_front_matter(text)
        tokens = md.parse(text[start:])
        theirs = []
        for i, token in enumerate(tokens):
            if token.type == "heading_open" and token.map:
                children = tokens[i + 1].children or []
                words = "".join(c.content if c.type != "softbreak" else " " for c in children)
                theirs.append((token.map[0] + first_line, int(token.tag[1]), words))
        ours = [(h.line, h.level, h.text) for h in parse_note(path.name, data).headings]
        assert [(line, level) for line, level, _ in ours] == [(ln, lv) for ln, lv, _ in theirs]
        for (_, _, mine), (_, _, words) in zip(ours, theirs, strict=True):
            if "[" not in mine and "\\" not in mine:
                assert " ".join(mine.split()) == " ".join(words.split()), path
        compared += len(ours)
    assert compared > 500
