"""Finding a page's feed from its ``<link rel="alternate">``, as feed readers do."""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from urllib.parse import urljoin

from knowflow.seek.charset import decode_html
from knowflow.seek.clean import clean_text, web_link
from knowflow.seek.feeds import parse_feed
from knowflow.seek.http import Client, FetchError

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.feeds: list[tuple[str, str]] = []  # (href, title)
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "base" and a.get("href") and self.base is None:
            self.base = a["href"]
        rels = a.get("rel", "").lower().split()
        is_feed = a.get("type", "").lower() in FEED_TYPES
        if tag == "link" and "alternate" in rels and is_feed and a.get("href"):
            self.feeds.append((a["href"], a.get("title", "")))


def feed_links(html: str, page_url: str) -> list[tuple[str, str]]:
    """Feeds a page announces, as (absolute http(s) address, plain title), in page order."""
    parser = _Links()
    parser.feed(html)
    base = _join(page_url, parser.base) or page_url if parser.base else page_url
    seen: dict[str, str] = {}
    for href, title in parser.feeds:
        # The page is text from outside: only web addresses, titles as plain text
        # (a title may become the source's name, shown in a terminal).
        address = web_link(_join(base, href))
        if address and address.startswith(("http://", "https://")):
            seen.setdefault(address, clean_text(title))
    return list(seen.items())


def _join(base: str, href: str) -> str | None:
    try:
        return urljoin(base, href)
    except ValueError:  # an address urllib cannot read (a broken [IPv6] host)
        return None


async def find_feed(client: Client, url: str) -> tuple[str, str]:
    """The feed at ``url`` itself, or the first one the page there announces.

    Returns (feed address, feed title); raises FetchError when there is none.
    """
    response = await client.get(url)
    if response.status >= 400:
        raise FetchError(f"HTTP {response.status}", status=response.status)
    parsed = parse_feed(response.body, url=response.url, headers=response.headers)
    if parsed.is_feed:  # an empty feed too: it is the feed asked for
        return response.moved_to or url, parsed.title
    page, _ = decode_html(response.body, response.headers.get("content-type", ""))
    for href, title in feed_links(page, response.url):
        await client.vet(href)  # a page may name any address: no private one unasked
        return href, await _feed_title(client, href) or title
    raise FetchError("neither a feed nor a page that links to one")


async def _feed_title(client: Client, href: str) -> str | None:
    """The title the feed a page links to gives itself: a better name than the link's
    own (often just "RSS" or "Feed"). None when it cannot be read now; the link's
    title serves, and the first update will say what is wrong with the feed."""
    try:
        response = await client.get(href)
    except FetchError:
        return None
    if response.status >= 400:
        return None
    parsed = parse_feed(response.body, url=response.url, headers=response.headers)
    return parsed.title or None if parsed.is_feed else None


def discover_feed(url: str, client: Client | None = None) -> tuple[str, str]:
    """``find_feed`` for callers that are not async."""

    async def run() -> tuple[str, str]:
        async with client or Client() as http:
            return await find_feed(http, url)

    return asyncio.run(run())
