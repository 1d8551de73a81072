"""Obsidian's callouts as HTML: ``> [!tip] Title`` and the body quoted under it.

A callout is a block quote whose first line is ``[!type]``, optionally followed
by ``-`` (folded, closed) or ``+`` (folded, open) and a title in Markdown. Every
type and alias Obsidian knows is mapped to its canonical type, which names the
class the style sheet colours; an unknown type is a note, as in Obsidian. A
foldable callout is ``<details>``/``<summary>``, so it opens without script.

The rule runs on the block tokens, before inline parsing: the title becomes an
inline token of its own, so its links, tags and embeds are parsed and gated as
any others are.
"""

from __future__ import annotations

import re
from typing import Literal

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

# Obsidian's types, each with its aliases (https://help.obsidian.md/callouts).
_ALIASES = {
    "note": (),
    "abstract": ("summary", "tldr"),
    "info": (),
    "todo": (),
    "tip": ("hint", "important"),
    "success": ("check", "done"),
    "question": ("help", "faq"),
    "warning": ("caution", "attention"),
    "failure": ("fail", "missing"),
    "danger": ("error",),
    "bug": (),
    "example": (),
    "quote": ("cite",),
}
CALLOUT_TYPES: dict[str, str] = {
    name: canonical for canonical, aliases in _ALIASES.items() for name in (canonical, *aliases)
}
_CALLOUT = re.compile(r"\[!([A-Za-z][\w-]*)\]([+-]?)[ \t]*(.*)")


def callout_rule(state: StateCore) -> None:
    """Turn each block quote that starts with ``[!type]`` into a callout, at any depth."""
    if "[!" not in state.src:
        return  # most notes have no callout at all
    tokens = state.tokens
    out: list[Token] = []
    closers: list[list[Token]] = []  # for each open quote, what closes it
    i, count = 0, len(tokens)
    while i < count:
        token = tokens[i]
        if token.type == "blockquote_open":
            made = _callout(tokens, i)
            if made is None:
                out.append(token)
                closers.append([])
                i += 1
                continue
            opened, closing, used = made
            out.extend(opened)
            closers.append(closing)
            i += used
            continue
        if token.type == "blockquote_close" and closers:
            closing = closers.pop()
            out.extend(closing or [token])
        else:
            out.append(token)
        i += 1
    state.tokens = out


def _callout(tokens: list[Token], i: int) -> tuple[list[Token], list[Token], int] | None:
    """The tokens opening the callout that starts at tokens[i] (a block quote), those
    closing it, and how many tokens of the quote they replace; None if not a callout."""
    if i + 3 >= len(tokens) or tokens[i + 1].type != "paragraph_open":
        return None
    inline = tokens[i + 2]
    first, _, rest = inline.content.partition("\n")
    m = _CALLOUT.fullmatch(first.strip())
    if not m:
        return None
    typed, fold, title = m.group(1), m.group(2), m.group(3).strip()
    kind = CALLOUT_TYPES.get(typed.lower(), "note")
    quote = tokens[i]
    level = quote.level
    tag = "details" if fold else "div"
    box = _block("callout_open", tag, 1, level, {"class": f"callout callout-{kind}"})
    if fold == "+":
        box.attrSet("open", "")
    head = _block("callout_title_open", "summary" if fold else "div", 1, level + 1)
    head.attrSet("class", "callout-title")
    words = Token("inline", "", 0, content=title or typed.capitalize(), map=inline.map)
    words.level, words.block, words.children = level + 2, True, []
    opened = [box, head, words, _block("callout_title_close", head.tag, -1, level + 1)]
    # A callout may be only its title: then it has no body at all.
    has_body = bool(rest.strip()) or tokens[i + 4].type != "blockquote_close"
    closing = [_block("callout_close", tag, -1, level)]
    if has_body:
        body = _block("callout_body_open", "div", 1, level + 1, {"class": "callout-content"})
        opened.append(body)
        closing.insert(0, _block("callout_body_close", "div", -1, level + 1))
    if rest.strip():
        inline.content = rest
        opened += tokens[i + 1 : i + 4]  # the first paragraph, now without the title
    return opened, closing, 4


def _block(
    kind: str, tag: str, nesting: Literal[-1, 1], level: int, attrs: dict[str, str] | None = None
) -> Token:
    token = Token(kind, tag, nesting, level=level, block=True)
    for name, value in (attrs or {}).items():
        token.attrSet(name, value)
    return token
