"""Text from outside made safe for the notes knowflow writes.

Everything a clipping note holds came from someone else: a feed, a web page, a
bookmark file, another tool's export. The rules, for every writer (keep, capture,
every importer, highlights):

- a text field (a title, an author, a quote) is text: its markup is stripped
  where it names something (``plain_text``) and escaped where it is shown
  (``md_text``), so that it reads in the note as it read where it came from;
- Markdown from outside (a page's main text, an entry's HTML turned into
  Markdown) keeps its structure, but no link, image, autolink or raw HTML whose
  address has a scheme other than http, https or mailto (``safe_markdown``);
  raw HTML is written as text, since nothing knowflow keeps needs it;
- what the cleaning produced is read back with markdown-it-py, a CommonMark
  parser, and anything it still finds to be a link elsewhere, or raw HTML,
  makes the text fall back to being escaped whole (``escape_all``): a
  guarantee, not only a best effort.
"""

from __future__ import annotations

import functools
import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# Browsers drop ASCII whitespace and control characters inside a scheme
# ("java\tscript:"); dropping them all before looking is the careful reading.
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]+")
_BACKSLASH_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def valid_text(text: str) -> str:
    """``text`` without what cannot be written as UTF-8 (lone surrogates, which JSON may
    hold) or has no place in a note (control characters other than tab and newline)."""
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def url_scheme(url: str) -> str | None:
    """The scheme a reader would follow ``url`` with, lower-cased; None for a relative
    address. Entities and backslash escapes are decoded first, as CommonMark decodes
    them in a link's destination (``&#106;avascript:`` is ``javascript:``)."""
    decoded = _BACKSLASH_ESCAPE.sub(r"\1", html.unescape(url))
    m = _SCHEME.match(_IGNORED_IN_URL.sub("", decoded))
    return m.group(1).lower() if m else None


def url_is_safe(url: str) -> bool:
    """Whether a note may link to ``url``: http, https, mailto, or a relative address."""
    scheme = url_scheme(url)
    return scheme is None or scheme in SAFE_SCHEMES


def web_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) or mailto address a note may name, else None."""
    if not url:
        return None
    url = valid_text(url).strip()
    if url_scheme(url) not in SAFE_SCHEMES:
        return None
    # Whitespace is not part of an address; encoded, it stays one token in YAML and Markdown.
    return re.sub(r"\s", lambda m: f"%{ord(m.group()):02X}", url)


def plain_text(text: str | None) -> str:
    """A text field as plain text on one line: tags dropped (a script's or style's
    content with them), entities read, whitespace collapsed. Markup that was escaped
    (``&lt;b&gt;``) is markup all the same, and goes too."""
    if not text:
        return ""
    text = valid_text(text)
    if "<" not in text and "&" not in text:
        return " ".join(text.split())
    import nh3

    from knowflow.seek.clean import strip_markup, text_brackets

    for _ in range(8):  # once for markup, again for markup escaped (however often)
        if "<" not in text and "&" not in text:
            break
        text, before = html.unescape(nh3.clean(text_brackets(text), tags=set())), text
        if text == before:
            break
    text = strip_markup(text)  # what eight rounds left: no markup may remain
    return " ".join(text.split())


# In text: what could start a link, an image, raw HTML, an autolink, code or an entity,
# and what Obsidian reads as more than text: a #tag (which would add a tag to the
# person's vault), a %%comment%% (which would hide the words), an ==highlight==,
# emphasis (a * or _ that was a character where the text came from), a ^block-id.
_MD_SPECIAL = re.compile(
    r"[\\`\[\]*_~]|<(?=[A-Za-z/!?])|&(?=#?[A-Za-z0-9]+;)|%(?=%)|(?<=%)%|=(?==)|(?<==)="
    r"|(?:(?<=\s)|^)#(?=[^\s#])|\^(?=[A-Za-z0-9-]+[ \t]*$)",
    re.MULTILINE,
)
# At a line's start: what would make the line a heading, a quote or a setext underline.
_MD_LINE_START = re.compile(r"^([ \t]*)(#|>|=+[ \t]*$|-{3,}[ \t]*$)", re.MULTILINE)


def md_text(text: str) -> str:
    """Text written so that Markdown (and Obsidian) shows it as it is, lines kept:
    nothing in it links, embeds, tags, hides, emphasizes, opens code or raw HTML."""
    text = _MD_SPECIAL.sub(_escape_one, valid_text(text))
    return _MD_LINE_START.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", text)


def _escape_one(m: re.Match[str]) -> str:
    char = m.group()
    return {"<": "&lt;", "&": "&amp;"}.get(char, "\\" + char)


def escape_all(text: str) -> str:
    """Text with every ASCII punctuation mark escaped: inert under any CommonMark reading
    (the fallback when cleaning left something a parser reads as a link)."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", valid_text(text))


def md_link(text: str, url: str) -> str:
    """A Markdown link to ``url`` (already checked) showing ``text``."""
    url = re.sub(r"[\s<>]", lambda m: f"%{ord(m.group()):02X}", url)
    if url.count("(") != url.count(")"):
        url = f"<{url}>"
    return f"[{md_text(text) or md_text(url)}]({url})"


def safe_markdown(text: str) -> str:
    """Markdown from outside with every link, image and autolink to a scheme other than
    http, https or mailto turned into its words, and raw HTML turned into text."""
    text = valid_text(text)
    if "[" not in text and "<" not in text:
        return text
    for _ in range(8):  # nested links come apart one level at a time
        text, changed = _drop_unsafe_links(text)
        if not changed:
            break
    text = _escape_raw_html(text)
    return text if not unsafe_in_markdown(text) else escape_all(text)


def unsafe_in_markdown(text: str) -> list[str]:
    """What a CommonMark reader finds in ``text`` that a note must not hold: the address
    of each link or image whose scheme is not http, https or mailto, and raw HTML."""
    if not _may_link(text):
        return []
    found: list[str] = []
    _walk(_parser().parse(text), found)
    return found


def _may_link(text: str) -> bool:
    # Links, images and reference links need a '[', raw HTML and autolinks a '<'.
    return re.search(r"(?<!\\)[\[<]", text) is not None


def _walk(tokens: list[Any], found: list[str]) -> None:
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            found.append(token.content.strip())
        for attr in ("href", "src"):
            value = token.attrs.get(attr) if token.attrs else None
            if isinstance(value, str) and not url_is_safe(value):
                found.append(value)
        if token.children:
            _walk(token.children, found)


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    # markdown-it refuses javascript: links itself; Obsidian and other readers may not,
    # so the check sees every link as written.
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


def _code_mask(text: str) -> str:
    """``text`` with code (fenced blocks, code spans) blanked, lengths kept: links and
    HTML are looked for in the rest. Comments are not masked: a link in one is cleaned
    too, since not every reader hides ``%% comments %%``."""
    from knowflow.vault.masking import Masked

    masked = Masked(text)
    chars = list(text)
    for start, end in masked.fences + masked.code:
        for i in range(start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` is backslash-escaped (an odd run before it)."""
    run = 0
    while pos - run - 1 >= 0 and text[pos - run - 1] == "\\":
        run += 1
    return run % 2 == 1


def _drop_unsafe_links(text: str) -> tuple[str, bool]:
    masked = _code_mask(text)
    out: list[str] = []
    pos, changed = 0, False
    for m in re.finditer(r"\]\(", masked):
        close = m.start()
        if close < pos or _escaped(masked, close):
            continue
        span = _destination(masked, m.end())
        if span is None or url_is_safe(text[span[0] : span[1]]):
            continue
        opening = _opening_bracket(masked, close)
        if opening is None or opening < pos:
            continue
        start = opening - 1 if opening and masked[opening - 1] == "!" else opening
        if start < opening and _escaped(masked, start):
            start = opening
        out += [text[pos:start], text[opening + 1 : close]]
        pos, changed = span[2], True
    for m in _REFERENCE.finditer(masked):
        if m.start() >= pos and not url_is_safe(m.group("dest").strip("<>")):
            out += [text[pos : m.start("dest")], "<>"]
            pos, changed = m.end("dest"), True
    out.append(text[pos:])
    return "".join(out), changed


# A link reference definition: `[label]: destination`, in a quote too.
_REFERENCE = re.compile(
    r"^(?:[ \t]*>)*[ \t]{0,3}\[(?:[^\]\\\n]|\\.){1,999}\]:[ \t]*\n?[ \t]*(?P<dest><[^>\n]*>|\S+)",
    re.MULTILINE,
)


def _opening_bracket(masked: str, close: int) -> int | None:
    """Where the ``[`` that ``]`` at ``close`` closes is, within its paragraph."""
    depth = 0
    for i in range(close - 1, -1, -1):
        char = masked[i]
        if char == "\n" and not masked[masked.rfind("\n", 0, i) + 1 : i].strip():
            return None  # a blank line: the paragraph starts after it
        if char not in "[]" or _escaped(masked, i):
            continue
        if char == "]":
            depth += 1
        elif depth == 0:
            return i
        else:
            depth -= 1
    return None


def _destination(masked: str, start: int) -> tuple[int, int, int] | None:
    """(start, end) of an inline link's destination that begins at ``start`` (after
    ``](``), and where the link ends (after its ``)``); None if no link is there."""
    i = _skip_space(masked, start)
    if i < len(masked) and masked[i] == "<":
        end = masked.find(">", i)
        if end < 0 or "\n" in masked[i:end]:
            return None
        dest = (i + 1, end)
        i = end + 1
    else:
        j, depth = i, 0
        while j < len(masked) and masked[j] > " ":
            char = masked[j]
            if char == "\\":
                j += 2
                continue
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            j += 1
        dest, i = (i, min(j, len(masked))), min(j, len(masked))
    i = _skip_space(masked, i)
    if i < len(masked) and masked[i] in "\"'(":
        closer = {"(": ")"}.get(masked[i], masked[i])
        j = i + 1
        while j < len(masked) and (masked[j] != closer or _escaped(masked, j)):
            j += 1
        i = _skip_space(masked, j + 1)
    if i < len(masked) and masked[i] == ")":
        return dest[0], dest[1], i + 1
    return None


def _skip_space(text: str, i: int) -> int:
    newlines = 0
    while i < len(text) and text[i] in " \t\n":
        newlines += text[i] == "\n"
        if newlines > 1:
            break
        i += 1
    return i


_AUTOLINK = re.compile(
    r"<(?:[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*"
    r"|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*)>"
)


def _escape_raw_html(text: str) -> str:
    """Every ``<`` that would open raw HTML (or an autolink elsewhere) written as
    ``&lt;``, outside code and link destinations."""
    masked = _code_mask(text)
    protected = _destinations(masked)
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"<(?=[A-Za-z/!?])", masked):
        at = m.start()
        if _escaped(masked, at) or any(s <= at < e for s, e in protected):
            continue
        auto = _AUTOLINK.match(masked, at)
        if auto and "@" in auto.group() and ":" not in auto.group():
            continue  # an e-mail autolink: mailto
        if auto and url_is_safe(auto.group()[1:-1]):
            continue
        out += [text[pos:at], "&lt;"]
        pos = at + 1
    out.append(text[pos:])
    return "".join(out)


def _destinations(masked: str) -> list[tuple[int, int]]:
    spans = []
    for m in re.finditer(r"\]\(", masked):
        span = _destination(masked, m.end())
        if span is not None:
            spans.append((m.end(), span[2]))
    return spans
