"""Capturing any web page as a clipping: fetch it, keep its main text as Markdown.

The main text is found by trafilatura, a maintained extraction library, which
also reads the page's title, author and date (kept as plain text); its Markdown
is cleaned when the note is written (trafilatura keeps no markup of its own but
links and lists). The page's bytes are decoded as a browser would decode them
(see ``knowflow.seek.charset``).
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import trafilatura

from knowflow.errors import KnowflowError
from knowflow.index import Index
from knowflow.seek.charset import decode_html
from knowflow.seek.clean import clean_text
from knowflow.seek.http import Client, FetchError
from knowflow.seek.keep import write_clipping
from knowflow.seek.sources import check_url
from knowflow.seek.state import record
from knowflow.vault.vault import Vault


@dataclass(frozen=True, slots=True)
class Page:
    """A page's main text and what it says about itself."""

    url: str
    title: str
    author: str | None
    published: str | None
    site: str | None
    markdown: str


def extract(html: str, url: str) -> Page:
    """The main text of a page as Markdown, with its title, author, date and site."""
    text = trafilatura.extract(
        html, url=url, output_format="markdown", include_links=True, include_comments=False
    )
    if not text:
        raise KnowflowError(f"{url}: no readable text found on the page")
    meta = trafilatura.extract_metadata(html, default_url=url)
    # What the page says about itself is text from outside: plain text, one line.
    title = clean_text(meta.title if meta else "") or urlsplit(url).path.strip("/") or url
    return Page(
        url=url,
        title=clean_text(title),
        author=clean_text(meta.author if meta else "") or None,
        published=clean_text(meta.date if meta else "") or None,
        site=clean_text(meta.sitename if meta else "") or urlsplit(url).netloc,
        markdown=_without_title(text, title),
    )


_FIRST_HEADING = re.compile(r"\A\s*#{1,6}[ \t]+(.+?)[ \t#]*(?:\n|\Z)")


def _without_title(markdown: str, title: str) -> str:
    """The page's text without a first heading that only repeats its title: the
    clipping's own heading is the title already."""
    found = _FIRST_HEADING.match(markdown)
    heading, words = _words(found[1]) if found else [], _words(title)
    # "Why wikis fail" repeats the title "Why wikis fail | KM Blog" too.
    if found and heading and (heading == words or words[: len(heading)] == heading):
        return markdown[found.end() :].lstrip("\n")
    return markdown


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def fetch_page(url: str, client: Client | None = None) -> Page:
    """Fetch a page through knowflow's HTTP client and extract it."""
    check_url(url)

    async def run() -> Page:
        async with client or Client() as http:
            response = await http.get(url)
        if response.status >= 400:
            raise FetchError(f"HTTP {response.status}", status=response.status)
        # Sniffed as a browser does: many pages name their encoding only in <meta>.
        html, _ = decode_html(response.body, response.headers.get("content-type", ""))
        return extract(html, response.url)

    return asyncio.run(run())


def capture(
    vault: Vault,
    conn: sqlite3.Connection,
    page: Page,
    *,
    tags: Iterable[str] = (),
    note: str | None = None,
) -> Path:
    """Write a fetched page as a private clipping note and log it."""
    path = write_clipping(
        vault,
        title=page.title,
        url=page.url,
        source=page.site,
        author=page.author,
        published=page.published,
        markdown=page.markdown,
        tags=tags,
        note=note,
    )
    record(
        conn,
        "page_captured",
        page.title,
        url=page.url,
        note=path.relative_to(vault.root).as_posix(),
    )
    return path


def clipping_of(index: Index, url: str) -> str | None:
    """The vault path of the clipping already kept of the page at ``url``, if any."""
    row = index.conn.execute(
        "SELECT path FROM files WHERE type = 'clipping'"
        " AND json_extract(front_matter, '$.url') = ?",
        (url,),
    ).fetchone()
    return str(row[0]) if row else None
