"""The Netscape bookmark file format that browsers and bookmarking services export.

A bookmark is ``<DT><A HREF=...>title</A>``, optionally followed by ``<DD>`` and
its description; folders are ``<DT><H3>name</H3>`` followed by a ``<DL>`` of what
they hold. The description is read as the bit of HTML it is: its lines,
paragraphs, lists and links are kept as Markdown (a link in it is part of the
description, not a bookmark of its own). Old exports that list ``<DT><A>`` with
no ``<DL>`` around them are read too.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from knowflow.errors import KnowflowError
from knowflow.seek.clippings import clean_tags
from knowflow.seek.notetext import md_link, md_text, plain_text, web_url


@dataclass
class Bookmark:
    url: str
    title: str
    tags: list[str]
    added: str | None
    private: bool
    description: str = ""  # Markdown
    line: int = 0


# Tags after which a description is over: the next item, folder or list.
_ENDS_DESCRIPTION = frozenset({"dt", "dd", "dl", "h3", "hr"})
_DD_BREAKS = {"br": "\n", "p": "\n\n", "div": "\n", "ul": "\n", "ol": "\n", "li": "\n- "}


class NetscapeParser(HTMLParser):
    """Bookmarks as they are met; folders (nested) and TAGS as tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bookmarks: list[Bookmark] = []
        self.folders: list[str] = []
        self._pending_folder: str | None = None
        self._in: str | None = None  # 'h3', 'a' or 'dd'
        self._text: list[str] = []
        self._attrs: dict[str, str] = {}
        self._link: tuple[str, list[str]] | None = None  # a link inside a description

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in == "dd" and tag not in _ENDS_DESCRIPTION:
            self._description_tag(tag, attrs)
            return
        if tag in ("h3", "a", "dd", "dt", "dl", "hr"):
            self._finish()
        if tag == "dl":
            self.folders.append(self._pending_folder or "")
            self._pending_folder = None
        elif tag in ("h3", "a", "dd"):
            self._in, self._text = tag, []
            self._attrs = {k.lower(): v or "" for k, v in attrs}
            self._attrs["__line"] = str(self.getpos()[0])

    def _description_tag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._close_link()
            self._link = (dict(attrs).get("href") or "", [])
        elif tag in _DD_BREAKS:
            self._text.append(_DD_BREAKS[tag])

    def handle_endtag(self, tag: str) -> None:
        if self._in == "dd":
            if tag == "a":
                self._close_link()
            elif tag == "dl":
                self._finish()
                self._pop_folder()
            elif tag in ("p", "ul", "ol", "div"):
                self._text.append("\n")
            return
        if tag in ("h3", "a"):
            self._finish()
        elif tag == "dl":
            self._finish()
            self._pop_folder()

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._link[1].append(data)
        elif self._in == "dd":
            self._text.append(md_text(data))
        elif self._in:
            self._text.append(data)

    def close(self) -> None:
        super().close()
        self._finish()

    def _pop_folder(self) -> None:
        if self.folders:
            self.folders.pop()

    def _close_link(self) -> None:
        if self._link is None:
            return
        href, words = self._link
        self._link = None
        text = " ".join("".join(words).split())
        url = web_url(href)
        self._text.append(md_link(text, url) if url else md_text(text))

    def _finish(self) -> None:
        self._close_link()
        if self._in == "h3":
            self._pending_folder = plain_text("".join(self._text))
        elif self._in == "a" and self._attrs.get("href"):
            self._add_bookmark(plain_text("".join(self._text)))
        elif self._in == "dd" and self.bookmarks:
            text = _description("".join(self._text))
            if text:
                last = self.bookmarks[-1]
                last.description = f"{last.description}\n\n{text}".strip()
        self._in, self._text = None, []

    def _add_bookmark(self, title: str) -> None:
        folder = "/".join(f for f in self.folders if f)
        tags = self._attrs.get("tags", "").replace(" ", ",").split(",")
        self.bookmarks.append(
            Bookmark(
                url=self._attrs["href"].strip(),
                title=title or self._attrs["href"],
                tags=clean_tags([*([folder] if folder else []), *tags]),
                added=_epoch(self._attrs.get("add_date")),
                private=self._attrs.get("private") == "1",
                line=int(self._attrs["__line"]),
            )
        )


def _description(text: str) -> str:
    """A description's Markdown: each line trimmed (indentation would make code),
    at most one blank line between paragraphs."""
    lines = [line.strip() for line in text.splitlines()]
    out = "\n".join(line for line in lines if line != "-")  # an empty list item
    return re.sub(r"\n{3,}", "\n\n", out).strip()


def _epoch(value: str | None) -> str | None:
    if not value or not value.strip().isdigit():
        return None
    seconds = int(value)
    if seconds > 10**11:  # some exporters write microseconds
        seconds //= 10**6
    try:
        return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


def read_bookmarks(path: Path) -> list[Bookmark]:
    """Every bookmark in a Netscape bookmark file; KnowflowError if it is not one."""
    try:
        text = path.read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise KnowflowError(f"{path}: {exc.strerror or exc}") from None
    if not re.search(r"<a\s[^>]*href", text, re.IGNORECASE):
        raise KnowflowError(f"{path}: not a bookmark file (no <A HREF=...> links)")
    parser = NetscapeParser()
    parser.feed(text)
    parser.close()
    return parser.bookmarks
