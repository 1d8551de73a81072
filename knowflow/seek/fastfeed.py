"""The fast path for plain RSS 2.0 and Atom 1.0 feeds, and the parse an update stores.

feedparser is thorough and slow: about 7 ms for a feed of 20 entries, nearly
all of an update's work. Most feeds in the wild are plain: well-formed UTF-8
RSS 2.0 or Atom 1.0, one title, link, id and date per entry, HTML with
absolute links. For those, lxml's parser and a strict reading of the common
elements give the same entries as feedparser in a twentieth of the time.
Anything less plain (another encoding, a DOCTYPE, ``xml:base``, an element the
fast path does not know, a repeated field, markup in a title, relative links,
HTML beyond simple formatting, a date it cannot read) is left to feedparser,
so the fast path never has to be right about the mess. A test checks over the
whole shared feed corpus that wherever the fast path answers, it answers
exactly what feedparser would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import email.utils
import re
from collections.abc import Mapping

from lxml import etree

from knowflow.seek.clean import web_link
from knowflow.seek.feeds import Entry, Parsed, entry_from, parse_feed

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"

# The entry elements the fast path reads, and those it may safely ignore.
_RSS_ITEM = {"title", "link", "guid", "description", "pubDate", CONTENT, DC_CREATOR}
_RSS_IGNORED = {
    "category",  # read apart, since there may be several
    "comments",
    "enclosure",  # read apart, as category
    "source",
    "{http://wellformedweb.org/CommentAPI/}commentRss",
    "{http://purl.org/rss/1.0/modules/slash/}comments",
}
_ATOM_ENTRY = {
    f"{ATOM}{n}"
    for n in ("id", "title", "link", "updated", "published", "content", "summary", "author")
}
_ATOM_IGNORED = {f"{ATOM}{n}" for n in ("category", "rights")}
# Simple formatting whose sanitizing feedparser and ammonia agree on.
_SIMPLE_HTML = re.compile(  # attributes in alphabetical order, as feedparser writes them
    r"</?(?:p|a|em|strong|b|i|u|ul|ol|li|blockquote|code|pre|h[1-6]|span|div|br|hr"
    r"|table|thead|tbody|tr|td|th)"
    r"""(?:\s+href="https?://[^"<>]*")?(?:\s+title="[^"<>]*")?\s*/?>"""
    r"""|<img(?:\s+alt="[^"<>]*")?\s+src="https?://[^"<>]*"\s*/?>""",
    re.I,
)
_CATEGORY = frozenset({"domain"})
_LINK_ATTRIBUTES = {"rel", "type", "href", "title", "hreflang"}
_C1 = re.compile("[\x80-\x9f]")
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


class _NotPlain(Exception):
    """The document needs feedparser."""


def parse_for_store(
    data: bytes, url: str | None = None, headers: dict[str, str] | None = None
) -> Parsed:
    """The parse an update stores: the fast path when the feed is plain, else feedparser;
    with how often the feed asks to be fetched (see ``feed_interval``)."""
    plain = parse_plain(data, headers)
    if plain is None:
        feed = parse_feed(data, url=url, headers=headers)
        plain = Parsed(feed.title, feed.entries, feed.error, feed.link, feed.version, feed.warning)
    interval = feed_interval(data) if plain.is_feed else None
    return dataclasses.replace(plain, interval=interval) if interval else plain


_TTL = re.compile(rb"<ttl>\s*(\d{1,7})\s*</ttl>")
_SY_PERIOD = re.compile(rb"<(\w+):updatePeriod>\s*(\w+)\s*</\1:updatePeriod>")
_SY_FREQUENCY = re.compile(rb"<(\w+):updateFrequency>\s*(\d{1,5})\s*</\1:updateFrequency>")
_PERIODS = {b"hourly": 3600, b"daily": 86400, b"weekly": 604800, b"monthly": 2592000,
            b"yearly": 31536000}  # fmt: skip
_FIRST_ITEM = re.compile(rb"<(?:\w+:)?(?:item|entry)[\s>]")


def feed_interval(data: bytes) -> int | None:
    """How often a feed says it changes, in seconds: RSS's ``<ttl>`` (minutes), else the
    syndication module's ``sy:updatePeriod`` divided by ``sy:updateFrequency``; None
    when it says neither. Only the feed's head is read (before its first item), where
    both belong; the prefix bound to the syndication namespace is almost always ``sy``,
    and any is taken."""
    first = _FIRST_ITEM.search(data)
    head = data[: first.start()] if first else data[:65536]
    ttl = _TTL.search(head)
    if ttl and int(ttl[1]) > 0:
        return int(ttl[1]) * 60
    period = _SY_PERIOD.search(head)
    if period is None or period[2].lower() not in _PERIODS:
        return None
    frequency = _SY_FREQUENCY.search(head)
    times = int(frequency[2]) if frequency and int(frequency[2]) > 0 else 1
    return _PERIODS[period[2].lower()] // times


def parse_plain(data: bytes, headers: Mapping[str, str] | None = None) -> Parsed | None:
    """Entries of a plain feed, or None when the document needs feedparser."""
    try:
        _check_bytes(data, headers or {})
        root = etree.fromstring(data, _PARSER)
        if root.tag == "rss" and root.get("version") == "2.0":
            (channel,) = root  # exactly one child
            if channel.tag != "channel":
                raise _NotPlain
            title, entries = _text(channel, "title"), channel.iterchildren("item")
            link = _feed_link(_text(channel, "link"))
            parsed = Parsed(title, [_rss_entry(i) for i in entries], None, link, "rss20")
        elif root.tag == f"{ATOM}feed":
            title, entries = _text(root, f"{ATOM}title"), root.iterchildren(f"{ATOM}entry")
            link = _feed_link(_atom_home(root))
            parsed = Parsed(title, [_atom_entry(e) for e in entries], None, link, "atom10")
        else:
            raise _NotPlain
    except (_NotPlain, ValueError, etree.XMLSyntaxError):
        # feedparser decides how much of a broken document to recover, and says why.
        return None
    return parsed if parsed.entries or parsed.title else None


def _feed_link(href: str | None) -> str | None:
    """The feed's own link; one feedparser would resolve (a relative one) is not plain."""
    if href and not href.startswith(("http://", "https://")):
        raise _NotPlain
    return web_link(href)


def _atom_home(root: etree._Element) -> str | None:
    homes = [
        link.get("href")
        for link in root.iterchildren(f"{ATOM}link")
        if link.get("rel", "alternate") == "alternate"
    ]
    if len(homes) > 1:
        raise _NotPlain  # feedparser picks among them by type
    return homes[0] if homes else None


def _check_bytes(data: bytes, headers: Mapping[str, str]) -> None:
    head = data[:200].lower()
    declared = re.search(rb"""encoding=["']([\w-]+)""", head)
    if data.startswith(b"\xef\xbb\xbf") or (declared and declared[1] not in (b"utf-8", b"utf8")):
        raise _NotPlain
    for name, value in headers.items():
        if name.lower() == "content-location":
            raise _NotPlain  # links would resolve against it
        if name.lower() == "content-type" and "charset" in value and "utf-8" not in value.lower():
            raise _NotPlain
    if b"<!DOCTYPE" in data or _C1.search(data.decode("utf-8")):
        raise _NotPlain  # the decode raises on anything but UTF-8 (a ValueError)


def _fields(
    element: etree._Element, read: set[str], ignored: set[str]
) -> dict[str, etree._Element]:
    """The element's known children by tag; unknown, repeated or nested ones are not plain."""
    fields: dict[str, etree._Element] = {}
    for child in element:
        tag = child.tag
        if not isinstance(tag, str) or (tag in ignored and not len(child)):
            continue  # a comment, or a simple element knowflow does not keep
        if tag not in read or tag in fields or child.get("type") == "xhtml":
            raise _NotPlain
        fields[tag] = child
    return fields


def _rss_entry(item: etree._Element) -> Entry:
    fields = _fields(item, _RSS_ITEM, _RSS_IGNORED)
    link = _plain(fields.get("link"))
    if not link or not link.startswith(("http://", "https://")):
        raise _NotPlain  # feedparser may take the guid for the link, or resolve a relative one
    published = _rfc822(fields.get("pubDate"))
    return entry_from(
        guid=_plain(fields.get("guid")) or None,
        title=_plain(fields.get("title")) or "",
        link=link,
        author=_plain(fields.get(DC_CREATOR)) or None,
        published=published,
        updated=published,
        html=_html(fields.get(CONTENT, fields.get("description"))),
        categories=[_plain(c, _CATEGORY) for c in item.iterchildren("category")],
        enclosures=[_enclosure(e.get("url")) for e in item.iterchildren("enclosure")],
    )


def _enclosure(url: str | None) -> str | None:
    if url and not url.startswith(("http://", "https://")):
        raise _NotPlain  # feedparser resolves a relative one
    return url


def _atom_entry(entry: etree._Element) -> Entry:
    fields = _fields(entry, _ATOM_ENTRY, _ATOM_IGNORED)
    link = fields.get(f"{ATOM}link")
    if link is None or link.get("rel", "alternate") != "alternate":
        raise _NotPlain  # feedparser may take the id for the link
    href = link.get("href") or ""
    if set(link.attrib) - _LINK_ATTRIBUTES or not href.startswith(("http://", "https://")):
        raise _NotPlain
    content = fields.get(f"{ATOM}content", fields.get(f"{ATOM}summary"))
    if content is not None and content.get("type", "text") != "html":
        raise _NotPlain
    title = fields.get(f"{ATOM}title")
    if title is not None and title.get("type", "text") not in ("text", "html"):
        raise _NotPlain
    published = _iso(fields.get(f"{ATOM}published"))
    updated = _iso(fields.get(f"{ATOM}updated"))
    return entry_from(
        guid=_plain(fields.get(f"{ATOM}id")) or None,
        title=_plain(title) or "",
        link=href,
        author=_atom_author(fields.get(f"{ATOM}author")),
        published=published or updated,  # as feeds.py: <updated> dates an undated entry
        updated=updated or published,
        html=_html(content),
        categories=[_atom_category(c) for c in entry.iterchildren(f"{ATOM}category")],
    )


def _atom_category(element: etree._Element) -> str | None:
    if set(element.attrib) - {"term", "scheme", "label"}:
        raise _NotPlain
    return element.get("term") or element.get("label")


def _atom_author(element: etree._Element | None) -> str | None:
    """The author's name; more than a name and an address is not plain (feedparser
    writes "name (email)", which is not worth matching)."""
    if element is None:
        return None
    fields = _fields(element, {f"{ATOM}name", f"{ATOM}uri"}, set())
    if f"{ATOM}name" not in fields:
        raise _NotPlain
    return _plain(fields[f"{ATOM}name"]) or None


def _text(parent: etree._Element, tag: str) -> str:
    found = parent.findall(tag)
    if len(found) > 1:
        raise _NotPlain
    return _plain(found[0]) or "" if found else ""


def _plain(element: etree._Element | None, attributes: frozenset[str] = frozenset()) -> str | None:
    """An element's text, tidied; markup, references, C1 controls or unusual attributes
    are not plain (feedparser has its own rules for each)."""
    if element is None:
        return None
    text = element.text or ""
    unusual = set(element.attrib) - {"type", "isPermaLink"} - attributes
    if len(element) or unusual or not _clean(text):
        raise _NotPlain
    if element.get("type", "text") not in ("text", "html", "text/plain", "text/html"):
        raise _NotPlain
    return " ".join(text.split())


def _clean(text: str) -> bool:
    """No markup, no references, and no C1 controls (the mark of Windows-1252 or
    double-encoded text, which feedparser repairs)."""
    return not ("<" in text or "&" in text or _C1.search(text))


def _html(element: etree._Element | None) -> str:
    """The entry's HTML when it is simple formatting (entry_from sanitizes it)."""
    if element is None:
        return ""
    html = (element.text or "").strip()
    if len(element) or not _clean(_SIMPLE_HTML.sub("", html)):
        raise _NotPlain
    return html


def _rfc822(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    try:
        moment = email.utils.parsedate_to_datetime((element.text or "").strip())
    except (TypeError, ValueError):
        raise _NotPlain from None
    if moment.tzinfo is None:
        raise _NotPlain
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _iso(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = (element.text or "").strip()
    if not _ISO.fullmatch(text):
        raise _NotPlain
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")
