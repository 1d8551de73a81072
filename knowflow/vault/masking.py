"""Where a note's code and comments are, so that nothing inside them counts.

Found in the order a CommonMark parser meets them: fenced blocks first (at any
indentation, so in list items, and inside quotes and callouts), then, left to
right, whichever of a code span or a comment starts first. So a ``%%`` inside
`` `code` `` opens no comment, and a backtick inside a comment opens no code span.
Offsets and line numbers are kept: what is masked is blanked, not removed.
"""

from __future__ import annotations

import functools
import re

# A fence line: quote markers (a callout is a quote), any indentation (a list item's
# code is indented), the fence, its info string.
_FENCE = re.compile(r"^((?:[ \t]*>)*)[ \t]*(`{3,}|~{3,})(.*)$", re.MULTILINE)
_QUOTE_PREFIX = re.compile(r"(?:[ \t]*>)*")
_INLINE = re.compile(r"`+|%%|<!--")
_BLANK_LINE = re.compile(r"\n[ \t]*(?:\n|$)")


def mask_code_and_comments(text: str) -> str:
    """Blank out code and comments, keeping length and newlines intact."""
    return Masked(text).masked


def strip_comments(text: str) -> str:
    """The text without its ``%% comments %%`` and ``<!-- HTML comments -->`` (those in
    code stay: they are code). Comments are the person's asides, never published."""
    if "%%" not in text and "<!--" not in text:
        return text
    out, pos = [], 0
    for start, end in Masked(text).comments:
        out.append(text[pos:start])
        out.append("\n" * text.count("\n", start, end))  # keep line numbers
        pos = end
    out.append(text[pos:])
    return "".join(out)


class Masked:
    """A note's text with its fenced blocks, code spans and comments found, and
    ``masked``: the text with all of them blanked."""

    __slots__ = ("code", "comments", "fences", "masked", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.fences = _fenced_spans(text)
        self.code: list[tuple[int, int]] = []  # inline code spans, backticks included
        self.comments: list[tuple[int, int]] = []
        if "`" in text or "%%" in text or "<!--" in text:
            self._inline()
        spans = sorted(self.fences + self.code + self.comments)
        self.masked = _blank_spans(text, spans) if spans else text

    def _inline(self) -> None:
        text, fences = self.text, self.fences
        pos, f = 0, 0
        while (m := _INLINE.search(text, pos)) is not None:
            start = m.start()
            while f < len(fences) and fences[f][1] <= start:
                f += 1
            if f < len(fences) and fences[f][0] <= start:
                pos = fences[f][1]  # inside a fenced block: code already
                continue
            token = m.group()
            if token[0] != "`":
                closer = "%%" if token == "%%" else "-->"
                found = text.find(closer, m.end())
                end = len(text) if found < 0 else found + len(closer)
                self.comments.append((start, end))
            elif start > 0 and text[start - 1] == "\\":
                end = start + 1  # an escaped backtick is literal; the rest of the run may open
            else:
                closing = _code_span_end(text, m.end(), len(token))
                if closing is None:
                    end = m.end()  # no closing run: the backticks are literal
                else:
                    end = closing
                    self.code.append((start, end))
            pos = end

    def readable(self, start: int, end: int) -> str:
        """text[start:end] as a person reads it: comments gone, code spans as their
        content without the backticks (for heading text)."""
        pieces, pos = [], start
        for s, e in sorted(self.code + self.comments):
            if e <= start or s >= end:
                continue
            pieces.append(self.text[pos:s])
            if (s, e) in self.comments:
                pieces.append(" ")
            else:
                pieces.append(_code_content(self.text[s:e]))
            pos = e
        pieces.append(self.text[pos:end])
        return " ".join("".join(pieces).split())


def _code_span_end(text: str, after: int, ticks: int) -> int | None:
    """Where the code span opened by ``ticks`` backticks ending at ``after`` ends: at the
    next run of exactly as many backticks in the same paragraph, else None."""
    blank = _BLANK_LINE.search(text, after)
    limit = blank.start() if blank else len(text)
    closing = _closing_run(ticks).search(text, after, limit)
    return closing.end() if closing else None


@functools.lru_cache(maxsize=16)
def _closing_run(ticks: int) -> re.Pattern[str]:
    return re.compile(f"(?<!`)`{{{ticks}}}(?!`)")


def _code_content(span: str) -> str:
    inner = span.strip("`")
    if len(inner) > 1 and inner[0] == " " and inner[-1] == " " and inner.strip():
        inner = inner[1:-1]  # CommonMark strips one space each side
    return inner


def _blank_spans(text: str, spans: list[tuple[int, int]]) -> str:
    out: list[str] = []
    pos = 0
    for start, end in spans:
        start = max(start, pos)
        if start >= end:
            continue
        out.append(text[pos:start])
        out.append(_blank(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _blank(segment: str) -> str:
    return re.sub(r"[^\n]", " ", segment)


def _fenced_spans(text: str) -> list[tuple[int, int]]:
    """Fenced code blocks, at any indentation (in list items too) and inside quotes and
    callouts, each from its opening fence to its closing fence, the end of its quote,
    or the end of the text."""
    if "```" not in text and "~~~" not in text:
        return []
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _FENCE.finditer(text):
        if m.start() < pos:
            continue  # a fence line inside the block just found
        fence, info = m.group(2), m.group(3)
        if fence[0] == "`" and "`" in info:
            continue  # ```code``` on one line is a code span, not a fence
        depth = m.group(1).count(">")
        end = _fence_end(text, m.end(), fence, depth)
        spans.append((m.start(), end))
        pos = end
    return spans


def _fence_end(text: str, after: int, fence: str, depth: int) -> int:
    closing = _closing_fence(fence[0], len(fence), depth)
    if depth == 0:
        m = closing.search(text, after)
        return m.end() if m else len(text)
    # In a quote, the block also ends where the quote does.
    pos = after + 1
    while pos < len(text):
        line_end = text.find("\n", pos)
        line_end = len(text) if line_end < 0 else line_end
        m = _QUOTE_PREFIX.match(text, pos, line_end)
        if m is None or m.group().count(">") < depth:
            return pos - 1
        if closing.match(text, pos, line_end):
            return line_end
        pos = line_end + 1
    return len(text)


@functools.lru_cache(maxsize=64)
def _closing_fence(char: str, length: int, depth: int) -> re.Pattern[str]:
    quote = r"(?:[ \t]*>)" * depth
    return re.compile(f"^{quote}[ \t]*{re.escape(char)}{{{length},}}[ \t]*$", re.MULTILINE)
