"""Headings as CommonMark reads them: ATX (``## Title``) and setext (a paragraph
underlined with ``===`` or ``---``), with the words of any code they hold."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from knowflow.vault.masking import Masked

# Patterns start with a literal where they can: the regex engine then skips
# ahead quickly, and the line-start checks are done in Python.
# A heading may stand in a quote, callout or list item ("> ## Title", "- # Title").
_ATX = re.compile(r"\n {0,3}(?:(?:>|[-*+][ \t]|\d{1,9}[.)][ \t])[ \t]*)*(#{1,6})(?=[ \t\n]|$)")
_SETEXT_BAR = re.compile(r"\n {0,3}(=+|-+)[ \t]*$", re.MULTILINE)
_SETEXT_LINE = re.compile(r"^ {0,3}(?:=+|-+)[ \t]*$")
_BREAK = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")
_ATX_LINE = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)")
# Lines that begin a block a setext bar cannot underline: list items and quotes.
_CONTAINER = re.compile(r"^ {0,3}(?:[-*+](?:[ \t]+|$)|\d{1,9}[.)](?:[ \t]+|$)|>)")
_HTML_START = re.compile(r"^ {0,3}<(?:[A-Za-z/!?])")
_TABLE_DELIMITER = re.compile(r"^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$")


class Heading(NamedTuple):
    line: int
    level: int
    text: str


def find_headings(found: Masked, lo: Callable[[int], int]) -> list[Heading]:
    """Every heading of the text ``found`` masked, in order; ``lo`` turns an offset
    into a line number."""
    masked, text = found.masked, found.text
    result = []
    for m in _ATX.finditer("\n" + masked):  # the "\n" lets the first line match too
        start, after = m.start(), m.end() - 1
        end = masked.find("\n", after)
        end = len(masked) if end < 0 else end
        shown = masked[after:end]
        if shown != text[after:end]:  # code or a comment: keep the code's words
            shown = found.readable(after, end)
        heading = shown.strip()
        closing = heading.rstrip("#")
        if closing != heading and (not closing or closing[-1] in " \t"):
            heading = closing.rstrip()  # an optional closing run of #s
        result.append(Heading(lo(start), len(m.group(1)), heading))
    if _SETEXT_BAR.search(masked):
        result.extend(_setext_headings(found, lo))
        result.sort(key=lambda h: h.line)
    return result


def _setext_headings(found: Masked, lo: Callable[[int], int]) -> list[Heading]:
    """Paragraphs underlined with ``===`` or ``---``, as CommonMark reads them.

    One pass over the lines (masking has blanked code, so a fence reads as blank
    lines): a bar underlines a paragraph only, not a list item, quote, table or
    indented code, and only if the bar itself is not code that masking blanked
    (``- `.vscode``` masks to a dash and spaces).
    """
    masked, text = found.masked, found.text
    result: list[Heading] = []
    first: int | None = None  # offset of the current paragraph's first line
    kind = ""  # what that "paragraph" is: para, container, table or html
    prev = 0  # offset of the previous line
    list_indent: int | None = None  # content column of the last list item, while open
    empty_item = False  # the line before was a list item with nothing on it
    pos = 0
    while pos <= len(masked):
        end = masked.find("\n", pos)
        end = len(masked) if end < 0 else end
        line = masked[pos:end]
        indent = len(line) - len(line.lstrip(" "))
        if first is None and list_indent is not None and line.strip() and indent < list_indent:
            list_indent = None  # back at the margin after a blank or a break: the list ended
        if not line.strip():
            first = None
            if empty_item and not text[pos:end].strip():
                list_indent = None  # an item may start with one blank line, not after one
            written = text[pos:end]
            margin = len(written) - len(written.lstrip(" "))
            if list_indent is not None and written.strip() and margin < list_indent:
                list_indent = None  # code at the margin (a fence, perhaps quoted) ends a list
        elif first is not None and kind == "para" and _SETEXT_LINE.match(line):
            if not text[pos:end].strip().strip(line.strip()[0]):
                words = _readable(found, first, pos - 1)
                result.append(Heading(lo(first), 1 if line.strip()[0] == "=" else 2, words))
                first = None
            # else: "- `.vscode`" masks to a dash: a list item interrupting the paragraph
            else:
                first, kind, list_indent = pos, "container", indent + 2
        elif _BREAK.match(line) or _ATX_LINE.match(line):
            first = None
            if list_indent is not None and indent < list_indent:
                list_indent = None
        elif (m := _CONTAINER.match(line)) and (
            first is None or kind != "para" or _interrupts(text[pos:end])
        ):
            quote = line.lstrip()[0] == ">"
            # An empty list item holds no paragraph for the next line to continue.
            item = _CONTAINER.match(text[pos:end])
            empty = not quote and item is not None and not text[pos + item.end() : end].strip()
            # Nor does one that holds a heading ("- # Title", "> ## Title").
            first = None if empty or _ATX.match("\n" + line) else pos
            kind = "container"
            list_indent = None if quote else m.end()
            empty_item = empty
            prev, pos = pos, end + 1
            continue
        elif first is None:
            if list_indent is not None:
                first, kind = pos, "container"
            elif indent >= 4:
                kind = "code"  # indented code: not a paragraph
            else:
                kind = "html" if _HTML_START.match(line) else "para"
                first = pos
        elif kind == "para" and _is_table(masked[prev : pos - 1], line):
            kind = "table"  # the line before was a table's header: the paragraph ended
        elif kind == "table" and indent >= 4:
            first, kind = None, "code"  # indented code ends a table
        empty_item = False
        prev, pos = pos, end + 1
    return result


def _interrupts(line: str) -> bool:
    """Whether a list item or quote line can interrupt a paragraph: a quote can, a list
    item only with some text and, when ordered, only when it is numbered 1."""
    item = _CONTAINER.match(line)
    if item is None:
        return False
    marker = item.group().strip()
    if marker == ">":
        return True
    if not line[item.end() :].strip():
        return False
    return not marker[0].isdigit() or marker[:-1].lstrip("0") == "1"


def _is_table(header: str, delimiter: str) -> bool:
    """A GFM table: a delimiter row with as many cells as the header row."""
    if not _TABLE_DELIMITER.match(delimiter):
        return False
    return _cells(header) == _cells(delimiter)


def _cells(row: str) -> int:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return len(re.split(r"(?<!\\)\|", row))


def _readable(found: Masked, start: int, end: int) -> str:
    if found.masked[start:end] == found.text[start:end]:
        return " ".join(found.masked[start:end].split())
    return found.readable(start, end)
