"""Obsidian-flavoured Markdown: headings, block ids, links, embeds and tags.

No CommonMark library knows wikilinks, block ids or Obsidian's tag rules, and
a full parse costs ten times what indexing can afford, so this is a scanner:
it first blanks out what must not yield links or tags (fenced code, inline
code, ``%% comments %%`` and ``<!-- HTML comments -->``), keeping every
offset and line number, then reads the rest with regular expressions.

Code and comments are found by ``knowflow.vault.masking``, headings by
``knowflow.vault.headings``. Choices where Obsidian is unclear, documented in
the README:
- links and tags inside ``%% %%`` and ``<!-- -->`` comments are ignored;
- links and tags inside other raw HTML are read like text;
- indented (four-space) code is read like text, since nested lists look the same;
  a fence, though, is code at any indentation (list items indent their code).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from typing import NamedTuple
from urllib.parse import unquote

from knowflow.vault.headings import Heading as Heading
from knowflow.vault.headings import find_headings
from knowflow.vault.masking import Masked
from knowflow.vault.masking import mask_code_and_comments as mask_code_and_comments
from knowflow.vault.masking import strip_comments as strip_comments

_BLOCK_ID = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*$", re.MULTILINE)
_WIKILINK = re.compile(r"\[\[([^\[\]\n]*?)\]\]")
_MD_LINK = re.compile(
    r"\[((?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]"
    r"\(\s*(<[^<>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# A tag follows whitespace or a line start; its characters are anything but
# whitespace and punctuation other than _ - /, as in Obsidian.
_TAG = re.compile(r"#([^\s!-,.:-@\[-^`{-~]+)")
TAG_PATTERN = _TAG  # for renderers, which must read tags exactly as the index does


def link_spans(text: str) -> list[tuple[int, int, Link]]:
    """Where each link and embed stands in the text (start, end, link), outside code
    and comments; an embed's span includes its ``!``."""
    return sorted(_found_links(mask_code_and_comments(text), text), key=lambda s: s[0])


def _found_links(
    masked: str, text: str, lo: Callable[[int], int] | None = None
) -> Iterator[tuple[int, int, Link]]:
    """Links found where the masked text has them, read from the text as written: a
    code span inside a link (``[[Note#The `hasTag()` function]]``) is part of it."""
    if "[[" in masked:
        for m in _WIKILINK.finditer(masked):
            embed = _is_embed(masked, m.start())
            line = lo(m.start()) if lo else 0
            link = parse_wikilink(text[m.start(1) : m.end(1)], embed, line)
            if link is not None:
                yield m.start() - embed, m.end(), link
    if "](" in masked:
        for m in _MD_LINK.finditer(masked):
            embed = _is_embed(masked, m.start())
            href, words = text[m.start(2) : m.end(2)], text[m.start(1) : m.end(1)]
            line = lo(m.start()) if lo else 0
            link = parse_markdown_link(href, words, embed, line)
            if link is not None:
                yield m.start() - embed, m.end(), link


class Block(NamedTuple):
    line: int
    block_id: str


class Link(NamedTuple):
    """A link or embed as written; resolution happens in the index."""

    line: int
    kind: str  # 'wikilink', 'embed', 'markdown', 'markdown-embed'
    target: str  # the path or name part; '' for a link within the same note
    subpath: str  # '#Heading', '#H1#H2' or '#^block', or ''
    display: str | None


class Tag(NamedTuple):
    line: int | None  # None for front-matter tags
    name: str


class Scan(NamedTuple):
    headings: list[Heading]
    blocks: list[Block]
    links: list[Link]
    tags: list[Tag]


def scan_markdown(text: str, first_line: int = 1) -> Scan:
    """Read the structure of a note body; first_line is the body's line in the file."""
    found = Masked(text)
    masked = found.masked
    starts = [0]
    starts.extend(m.end() for m in re.finditer("\n", text))

    def line_of(offset: int) -> int:
        return bisect_right(starts, offset) - 1 + first_line

    return Scan(
        headings=find_headings(found, line_of),
        blocks=[
            Block(line_of(m.start(1)), m.group(1))
            for m in _BLOCK_ID.finditer(masked)
            if _after_space(masked, m.start())
        ],
        links=_links(masked, text, line_of),
        tags=[
            Tag(line_of(m.start()), name)
            for m in _TAG.finditer(masked)
            if _after_space(masked, m.start()) and (name := _tag(m))
        ],
    )


def _links(masked: str, text: str, lo: Callable[[int], int]) -> list[Link]:
    links = [link for _, _, link in _found_links(masked, text, lo)]
    links.sort(key=lambda link: link.line)
    return links


def _after_space(text: str, pos: int) -> bool:
    """Tags and block ids start a line or follow whitespace."""
    return pos == 0 or text[pos - 1].isspace()


def _is_embed(text: str, pos: int) -> bool:
    return pos > 0 and text[pos - 1] == "!"


def parse_wikilink(inner: str, embed: bool = False, line: int = 0) -> Link | None:
    """Parse what stands between ``[[`` and ``]]``.

    ``\\|`` is the alias separator escaped for tables; ``#`` starts a heading
    (several for nested headings) and ``#^`` a block reference.
    """
    inner = inner.replace("\\|", "|")
    target, bar, display = inner.partition("|")
    path, _, sub = target.partition("#")
    path = path.strip()
    subpath = ("#" + sub.strip()) if sub.strip() else ""  # [[Note#]] is [[Note]]
    if not path and not subpath:
        return None
    kind = "embed" if embed else "wikilink"
    return Link(line, kind, path, subpath, display.strip() if bar else None)


def parse_markdown_link(href: str, text: str, embed: bool = False, line: int = 0) -> Link | None:
    """A Markdown link to a local file; None for web addresses and other schemes."""
    if href.startswith("<") and href.endswith(">"):
        href = href[1:-1]
    if not href or _SCHEME.match(href) or href.startswith("//"):
        return None
    path, hash_, sub = href.partition("#")
    path = unquote(path)
    subpath = ("#" + unquote(sub)) if hash_ else ""
    kind = "markdown-embed" if embed else "markdown"
    return Link(line, kind, path, subpath, text or None)


def _tag(m: re.Match[str]) -> str | None:
    name = m.group(1).strip("/")
    if not name or name.replace("/", "").isdigit():
        return None
    return name


def is_valid_tag(name: str) -> bool:
    """Whether a front-matter tag is a tag Obsidian would accept."""
    m = _TAG.match("#" + name)
    return bool(m and m.end() == len(name) + 1 and _tag(m))
