"""Reading an entry: its text as a reader shows it, and the page it links to.

An entry's HTML was sanitized when its feed was read; it is cleaned once more
before it is shown (a stored entry may predate a stricter cleaner), and its
headings are moved two levels down, so that an entry's ``<h1>`` sits below the
page's own title and the entry's. The full text of the linked page is fetched
and extracted as ``knowflow capture`` does, through knowflow's one HTTP client.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowflow.errors import KnowflowError
from knowflow.seek.clean import sanitize
from knowflow.seek.keep import html_to_markdown
from knowflow.seek.sources import Sources
from knowflow.seek.stream import Stream, StreamEntry

if TYPE_CHECKING:
    # Extraction loads trafilatura (slow to import): only reading the full text needs it.
    from knowflow.seek.capture import Page
    from knowflow.seek.http import Client

# A heading tag as ammonia writes it (lower case; "<" in text is always escaped).
_HEADING = re.compile(r"<(/?)h([1-6])\b")


@dataclass(frozen=True, slots=True)
class Reading:
    """An entry opened to be read: the entry (its state as it is now, after
    opening marked it seen) and its state before it was opened."""

    entry: StreamEntry
    was: str

    @property
    def link(self) -> str | None:
        """The entry's own address, when it is a web page (http or https)."""
        return web_page(self.entry.link)


def web_page(link: str | None) -> str | None:
    """``link`` when it is an http(s) address (a reader opens it in a new tab), else None."""
    if link and link.lower().startswith(("http://", "https://")):
        return link
    return None


def open_entry(conn: sqlite3.Connection, entry_id: int, *, mark: bool = True) -> Reading:
    """The entry, marked seen when it was new (as readers do: opening is reading);
    a kept, dismissed or seen one stays as it is."""
    stream = Stream(conn)
    entry = stream.get(entry_id)
    if mark and entry.state == "new":
        stream.triage([entry_id], "seen")
        return Reading(stream.get(entry_id), "new")
    return Reading(entry, entry.state)


def shown_html(html: str, base: str | None = None) -> str:
    """HTML from outside, safe to put in a page: sanitized, headings two levels down."""
    clean = sanitize(html, web_page(base))
    return _HEADING.sub(lambda m: f"<{m[1]}h{min(6, int(m[2]) + 2)}", clean)


def entry_html(conn: sqlite3.Connection, entry_id: int) -> str:
    """The entry's text as HTML to show (see ``shown_html``)."""
    entry = Stream(conn).get(entry_id)
    return shown_html(Stream(conn).html(entry_id), entry.link)


def entry_markdown(conn: sqlite3.Connection, entry_id: int) -> str:
    """The entry's text as Markdown, as ``keep`` writes it into a note."""
    return html_to_markdown(Stream(conn).html(entry_id))


def markdown_html(markdown: str, base: str | None = None) -> str:
    """Markdown from outside (a page's extracted text) as HTML to show: raw HTML in
    it is text, and the result is sanitized as an entry's HTML is."""
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": False}).render(markdown)
    return shown_html(rendered, base)


def full_text(conn: sqlite3.Connection, entry_id: int, client: Client | None = None) -> Page:
    """The main text of the page the entry links to, fetched and extracted as
    ``capture`` does. The link comes from a feed: it may reach a private host only
    when that is the source's own (an intranet feed linking to its intranet pages).
    Raises KnowflowError, with the reason in words, when there is no page to fetch
    or fetching it failed."""
    from knowflow.seek.capture import fetch_page
    from knowflow.seek.http import Client, FetchError

    entry = Stream(conn).get(entry_id)
    link = web_page(entry.link)
    if link is None:
        raise KnowflowError(f"entry {entry_id} links to no web page")
    if client is None:
        client = Client(chosen=[Sources(conn).get(entry.source).url], named_only=True)
    try:
        return fetch_page(link, client)
    except FetchError as exc:
        raise KnowflowError(f"could not fetch {link}: {exc}") from None
