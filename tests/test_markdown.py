"""Obsidian syntax: headings, block ids, wikilinks, embeds, Markdown links and tags."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from knowflow.vault.markdown import mask_code_and_comments, scan_markdown
from knowflow.vault.note import parse_note


def links(text: str) -> list[tuple[str, str, str, str | None]]:
    return [(ln.kind, ln.target, ln.subpath, ln.display) for ln in scan_markdown(text).links]


def tags(text: str) -> list[str]:
    return [t.name for t in scan_markdown(text).tags]


def test_wikilink_forms() -> None:
    text = (
        "[[Note]] [[Note|shown]] [[Note#Heading]] [[Note#^blk]] [[folder/Note]]"
        " [[#Local]] [[#^here]] [[Note#H1#H2|x]]"
    )
    assert links(text) == [
        ("wikilink", "Note", "", None),
        ("wikilink", "Note", "", "shown"),
        ("wikilink", "Note", "#Heading", None),
        ("wikilink", "Note", "#^blk", None),
        ("wikilink", "folder/Note", "", None),
        ("wikilink", "", "#Local", None),
        ("wikilink", "", "#^here", None),
        ("wikilink", "Note", "#H1#H2", "x"),
    ]


def test_table_escaped_alias() -> None:
    assert links("| a | [[Target\\|shown]] |") == [("wikilink", "Target", "", "shown")]


def test_embeds_of_notes_and_attachments() -> None:
    assert links("![[Note]] ![[pic.png|300]] ![[Note#Part]]") == [
        ("embed", "Note", "", None),
        ("embed", "pic.png", "", "300"),
        ("embed", "Note", "#Part", None),
    ]


def test_markdown_links_to_local_files_only() -> None:
    text = (
        "[a](My%20Note.md) [b](sub/file.pdf#page=2) ![c](img.png) [w](https://x.org/a.md)"
        ' [m](mailto:a@b.c) [t](<spaced name.md> "title")'
    )
    assert links(text) == [
        ("markdown", "My Note.md", "", "a"),
        ("markdown", "sub/file.pdf", "#page=2", "b"),
        ("markdown-embed", "img.png", "", "c"),
        ("markdown", "spaced name.md", "", "t"),
    ]


def test_link_line_numbers() -> None:
    scan = scan_markdown("one\n\n[[A]]\ntext [[B]]\n", first_line=5)
    assert [(ln.target, ln.line) for ln in scan.links] == [("A", 7), ("B", 8)]


def test_tags_follow_obsidian_rules() -> None:
    text = (
        "#top and #nested/deep/tag, word#nottag #123 #1984a (#paren) #with-dash_under\n"
        "# Heading is not a tag\n"
        "## Heading with #inheading\n"
        "url https://example.org/page#frag and [x](#anchor) and [[Note#Heading]]\n"
        "#café #tag. end"
    )
    assert tags(text) == [
        "top",
        "nested/deep/tag",
        "1984a",
        "with-dash_under",
        "inheading",
        "café",
        "tag",
    ]


def test_no_tags_or_links_in_code() -> None:
    text = (
        "```python\n# comment #notag [[NotLink]]\n```\n"
        "~~~~\n#nope\n~~~~\n"
        "inline `#code [[Nope]]` and ``a ` #b`` then #real [[Real]]\n"
    )
    assert tags(text) == ["real"]
    assert [t for _, t, _, _ in links(text)] == ["Real"]


def test_unclosed_fence_runs_to_end() -> None:
    assert tags("#before\n```\n#inside\n") == ["before"]


def test_comments_hide_links_and_tags() -> None:
    text = "a %% hidden [[X]] #x %% b\n%%\nmulti [[Y]]\n%%\n<!-- [[Z]] #z -->\n[[Shown]] #shown"
    assert [t for _, t, _, _ in links(text)] == ["Shown"]
    assert tags(text) == ["shown"]


def test_html_content_is_read_as_text() -> None:
    text = "<div>\n#intag [[InHtml]]\n</div>"
    assert tags(text) == ["intag"]
    assert [t for _, t, _, _ in links(text)] == ["InHtml"]


def test_masking_keeps_offsets() -> None:
    text = "a `code` b\n```\nx\n```\n%% c %%"
    masked = mask_code_and_comments(text)
    assert len(masked) == len(text)
    assert masked.count("\n") == text.count("\n")
    assert "code" not in masked and "a " in masked


def test_headings_atx_and_setext() -> None:
    text = "# One\ntext\n## Two ##\nPara\n===\nOther\n---\n#NotHeading\n####### seven\n"
    scan = scan_markdown(text)
    assert [(h.line, h.level, h.text) for h in scan.headings] == [
        (1, 1, "One"),
        (3, 2, "Two"),
        (4, 1, "Para"),
        (6, 2, "Other"),
    ]


def test_list_before_dashes_is_not_a_heading() -> None:
    assert scan_markdown("- item\n---\n").headings == []


def test_block_ids() -> None:
    scan = scan_markdown("A paragraph ^abc-1\n\n- item\n\n^list-id\nnot^inword")
    assert [(b.line, b.block_id) for b in scan.blocks] == [(1, "abc-1"), (5, "list-id")]


def test_front_matter_tags_and_lines() -> None:
    note = parse_note(
        "n.md",
        b"---\ntags: [a, '#b', c/d]\naliases: Other name\nshare: public\ntype: Clipping\n"
        b"---\n# Title\n#inline\n",
    )
    assert [(t.line, t.name) for t in note.tags] == [
        (None, "a"),
        (None, "b"),
        (None, "c/d"),
        (8, "inline"),
    ]
    assert note.aliases == ["Other name"]
    assert note.share == ["public"]
    assert note.type == "clipping"
    assert note.headings[0].line == 7
    assert note.title == "n"


# Fidelity: each class of construct seen to lose or invent structure in real vaults.


def test_percent_signs_in_code_open_no_comment() -> None:
    text = (
        "Syntax: `# | ^ : %% [[ ]]` and ``%%`` too\n"
        "## After the code\n"
        "[[Kept]] ![[pic.png]] #kept ^block-1\n"
        "<!-- [[Hidden]] --> `<!--` [[Also kept]]\n"
    )
    scan = scan_markdown(text)
    assert [h.text for h in scan.headings] == ["After the code"]
    assert [t for _, t, _, _ in links(text)] == ["Kept", "pic.png", "Also kept"]
    assert tags(text) == ["kept"]
    assert [b.block_id for b in scan.blocks] == ["block-1"]


def test_backticks_in_a_comment_open_no_code() -> None:
    text = "%% a ` b %% [[Shown]] ` #shown"
    assert [t for _, t, _, _ in links(text)] == ["Shown"]
    assert tags(text) == ["shown"]


def test_code_spans_stay_in_their_paragraph() -> None:
    text = "one ` tick\n\n[[Link]] #tag `x`"
    assert [t for _, t, _, _ in links(text)] == ["Link"]
    assert tags(text) == ["tag"]


def test_fences_in_callouts_and_quotes_are_code() -> None:
    text = (
        "> [!example] Syntax\n"
        "> ```md\n"
        "> [[Not a link]] #notatag\n"
        "> ```\n"
        "> After [[In callout]] #incallout\n"
        "\n"
        "> > ~~~\n"
        "> > [[Deep code]]\n"
        "> > ~~~\n"
        "> ```\n"
        "> [[Unclosed in quote]]\n"
        "\n"
        "[[Outside]] #outside\n"
    )
    assert [t for _, t, _, _ in links(text)] == ["In callout", "Outside"]
    assert tags(text) == ["incallout", "outside"]


def test_fences_in_list_items_and_inline_triple_backticks() -> None:
    text = "- step\n    ```bash\n    echo [[No]] #no\n    ```\n- ```inline``` [[Yes]] #yes\n"
    assert [t for _, t, _, _ in links(text)] == ["Yes"]
    assert tags(text) == ["yes"]


def test_headings_keep_the_words_of_their_code() -> None:
    text = (
        "## `hasTag()`\n"
        "### The `Show Graph` command\n"
        "# With %% aside %% a comment\n"
        "Setext with `code`\n"
        "---\n"
    )
    assert [(h.level, h.text) for h in scan_markdown(text).headings] == [
        (2, "hasTag()"),
        (3, "The Show Graph command"),
        (1, "With a comment"),
        (2, "Setext with code"),
    ]


def test_setext_bars_only_under_paragraphs() -> None:
    cases = {
        "Folders:\n- `.vscode`\n": [],
        "- item\n  publish: true\n---\n": [],
        "> quoted\n---\n": [],
        "| a | b |\n|---|---|\n| c | d |\n---\n": [],
        "- item\n\n  para in the item\n---\n": [],
        "```\ncode\n```\n---\n": [],
        "# Title\n---\n": [(1, 1, "Title")],
        "Two line\nparagraph\n===\n": [(1, 1, "Two line paragraph")],
        "para\n\npublish: true\n---\n": [(3, 2, "publish: true")],
        "Heading\n---\nnext\n---\n": [(1, 2, "Heading"), (3, 2, "next")],
        "***\nafter rule\n---\n": [(2, 2, "after rule")],
    }
    for text, expected in cases.items():
        got = [(h.line, h.level, h.text) for h in scan_markdown(text).headings]
        assert got == expected, text


_BLOCKS = [
    "Plain words here",
    "more words",
    "- item",
    "- `.vscode`",
    "* star item",
    "1. first",
    "> quoted words",
    "> [!tip] A callout",
    "> ```md",
    "| a | b |",
    "|---|---|",
    "  para in an item",
    "    indented",
    "-",
    "=",
    "2. second",
    "- # Heading in an item",
    "> ## Quoted heading",
    "1. ### Numbered heading",
    "```",
    "~~~",
    "```js",
    "---",
    "===",
    "***",
    "# Heading one",
    "## Code `x %% y` here",
    "### `hasTag()`",
    "publish: true",
    "Text with `code` and ``a ` b``",
    "  indented words",
    "",
    "",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_BLOCKS), max_size=14))
def test_headings_agree_with_commonmark(lines: list[str]) -> None:
    """Headings (line, level, words) as markdown-it-py, a CommonMark parser, finds them."""
    text = "\n".join(lines) + "\n"
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    expected = []
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            children = tokens[i + 1].children or []
            words = " ".join(c.content if c.type != "softbreak" else " " for c in children)
            expected.append((token.map[0] + 1, int(token.tag[1]), " ".join(words.split())))
    got = [(h.line, h.level, h.text) for h in scan_markdown(text).headings]
    assert got == expected, text


def test_an_empty_heading_part_names_the_note() -> None:
    assert links("[[Note#]] ![[Note#|x]]") == [
        ("wikilink", "Note", "", None),
        ("embed", "Note", "", "x"),
    ]


def test_highlights_render_as_mark_as_in_obsidian() -> None:
    from knowflow.share.inline import use_obsidian_inline

    md = MarkdownIt("commonmark")
    use_obsidian_inline(md)
    assert md.render("a ==hi **b**== c") == "<p>a <mark>hi <strong>b</strong></mark> c</p>\n"
    for plain in ("x === y", "== spaced ==", "`==code==`", "a == b"):
        assert "<mark>" not in md.render(plain), plain
