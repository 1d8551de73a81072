"""Obsidian's inline syntax as markdown-it rules: ``[[wikilinks]]`` and ``![[embeds]]``,
``#tags``, ``^block`` ids and ``==highlights==``. They only make tokens; the renderer
decides what each becomes for an audience."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline

from knowflow.vault.markdown import TAG_PATTERN

BLOCK_ID_AT_END = re.compile(r"\^([A-Za-z0-9-]+)[ \t]*$")


def use_obsidian_inline(md: MarkdownIt) -> None:
    """Add the rules to a parser (before its links, so a wikilink is not read as one)."""
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.inline.ruler.before("link", "tag", _tag_rule)
    md.inline.ruler.before("link", "block_id", _block_id_rule)
    md.inline.ruler.before("emphasis", "mark", _mark_rule)


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    embed = src.startswith("![[", pos)
    if not embed and not src.startswith("[[", pos):
        return False
    start = pos + (3 if embed else 2)
    end = src.find("]]", start)
    if end < 0 or "\n" in src[start:end] or "[" in src[start:end]:
        return False
    if not silent:
        token = state.push("wikilink", "", 0)
        token.meta = {"inner": src[start:end], "embed": embed}
    state.pos = end + 2
    return True


def _tag_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] != "#" or (pos > 0 and not src[pos - 1].isspace()):
        return False
    m = TAG_PATTERN.match(src, pos)
    name = m.group(1).strip("/") if m else ""
    if not m or not name or name.replace("/", "").isdigit():
        return False
    if not silent:
        token = state.push("tag", "", 0)
        token.meta = {"name": name}
    state.pos = m.end()
    return True


def _block_id_rule(state: StateInline, silent: bool) -> bool:
    src, pos = state.src, state.pos
    if src[pos] != "^" or (pos > 0 and not src[pos - 1].isspace()):
        return False
    m = BLOCK_ID_AT_END.match(src, pos, src.find("\n", pos) if "\n" in src[pos:] else len(src))
    if not m:
        return False
    if not silent:
        token = state.push("block_id", "", 0)
        token.meta = {"id": m.group(1)}
    state.pos = m.end()
    return True


def _mark_rule(state: StateInline, silent: bool) -> bool:
    """``==highlighted==`` text becomes <mark>, its inside read as Markdown, as in
    Obsidian; ``===`` and ``== spaced ==`` are not highlights."""
    src, pos = state.src, state.pos
    if not src.startswith("==", pos) or src.startswith("===", pos):
        return False
    end = src.find("==", pos + 2)
    if end <= pos + 2 or src[pos + 2].isspace() or src[end - 1].isspace():
        return False
    if not silent:
        state.push("mark_open", "mark", 1)
        limit = state.posMax
        state.pos, state.posMax = pos + 2, end
        state.md.inline.tokenize(state)
        state.posMax = limit
        state.push("mark_close", "mark", -1)
    state.pos = end + 2
    return True
