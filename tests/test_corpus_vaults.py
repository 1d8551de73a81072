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


def test_foam_published_has_no_callout_marker_and_no_dead_anchor(tmp_path: Path) -> None:
    import re

    from knowflow.share import publish

    from .test_site_fidelity import Elements

    vault = tmp_path / "foam"
    shutil.copytree(FOAM, vault)
    for note in vault.rglob("*.md"):
        text = note.read_text("utf-8")
        shared = text.replace("---\n", "---\nshare: public\n", 1)
        note.write_text(shared if text.startswith("---\n") else f"---\nshare: public\n---\n{text}")
    with Index(Vault.init(vault)) as index:
        index.scan()
        publish(index, "public", tmp_path / "site")
    pages = sorted((tmp_path / "site").rglob("*.html"))
    assert len(pages) > 90
    dead = []
    for page in pages:
        html = page.read_text("utf-8")
        assert "[!" not in "".join(Elements(html).text), page  # in code it may stay
        ids = set(re.findall(r'id="([^"]+)"', html))
        dead += [(page.name, a) for a in re.findall(r'href="#([^"]+)"', html) if a not in ids]
    # Left: the two headings that are not there (check reports them), and anchors that
    # a note's own raw HTML (its contributors table) points at nothing.
    assert sorted({a for _, a in dead}) == [
        "content-theowenyoung",
        "further-customise-material-for-mkdocs",
        "publish-your-site",
        "question-thomaskoppelaar",
        "tool-cliffordfajardo",
        "tool-hezhizhen",
        "userTesting-thomaskoppelaar",
    ]
