"""Parsing feeds: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed, as the real world writes them.

feedparser copes with the mess (wrong or missing encodings, entities,
``xml:base``, dates in many formats) and Python's expat refuses entity
expansion attacks. Whatever a feed says is then made safe by
``knowflow.seek.clean`` before knowflow keeps or shows it, on every path
(feedparser's, the fast path's and JSON Feed's): text fields as plain text,
HTML through nh3, links only when they are http, https or mailto.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urljoin

import feedparser
from feedparser.util import FeedParserDict

from knowflow.seek.charset import repair_feed
from knowflow.seek.clean import clean_id, clean_text, link_or_why, sanitize, web_link
from knowflow.vault.frontmatter import parse_datetime

__all__ = ["Entry", "Parsed", "ParsedFeed", "entry_from", "parse_feed", "sanitize"]

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Faults feedparser reports that leave a well-formed document (served as
# text/plain, read in another encoding than declared).
_BENIGN = ("CharacterEncodingOverride", "NonXMLContentType")
_DETAILS = ("title", "subtitle", "summary", "rights", "info")
# The prefix of an id knowflow made for an entry the feed gave none (see entry_from).
MADE_ID = "urn:knowflow:entry:"


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed, ready to store: text fields plain, HTML sanitized, links
    http(s) or mailto only.

    ``warning`` says in words what knowflow left out of the entry and why (today:
    its own link, when that was a ``javascript:``, ``data:`` or other address
    that is not http, https or mailto); a clipping made from the entry should say
    it too. ``categories`` are plain text; ``enclosures`` are http(s) addresses.
    """

    id: str
    title: str
    link: str | None
    author: str | None
    published: str | None  # ISO 8601, UTC
    updated: str | None
    html: str  # sanitized content, else sanitized summary
    content_hash: str
    categories: tuple[str, ...] = ()
    enclosures: tuple[str, ...] = ()
    warning: str | None = None

    @property
    def has_own_id(self) -> bool:
        """Whether the feed gave the entry an id that is not just its link."""
        return self.id != self.link and not self.id.startswith(MADE_ID)


@dataclass
class ParsedFeed:
    """A feed as knowflow keeps it, plus feedparser's result for reference.

    ``raw`` is feedparser's own dictionary (its HTML cleaned by nh3, but its text,
    links and every other field as the feed wrote them): only tests read it; what
    knowflow keeps or shows comes from the other fields."""

    title: str
    link: str | None
    version: str
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None  # set when the document was malformed (it may still have entries)
    raw: Any = None
    warning: str | None = None  # something read in spite of a fault (see Parsed.warning)

    @property
    def is_feed(self) -> bool:
        """Whether the document was a feed at all (see ``Parsed.is_feed``)."""
        return _is_feed(self.title, self.entries, self.version, self.error)


def parse_feed(
    data: bytes | str, *, url: str | None = None, headers: dict[str, str] | None = None
) -> ParsedFeed:
    """Parse a feed document; never raises on bad input (see ``error``)."""
    response = {k.lower(): v for k, v in (headers or {}).items()}
    if url:
        # A relative Content-Location is relative to the address asked for.
        response["content-location"] = urljoin(url, response.get("content-location", ""))
    warning = None
    if "json" in response.get("content-type", "") or data[:64].lstrip()[:1] in (b"{", "{"):
        raw = parse_json_feed(data)
        warning = raw.pop("knowflow_warning", None)
    else:
        if isinstance(data, bytes):
            data, content_type, warning = repair_feed(data, response.get("content-type", ""))
            if "content-type" in response:
                response["content-type"] = content_type
        raw = feedparser.parse(data, response_headers=response, sanitize_html=True)
    _sanitize_result(raw)
    feed = raw.get("feed", {})
    error = None
    if raw.get("bozo"):
        error = f"{type(raw.get('bozo_exception')).__name__}: {raw.get('bozo_exception')}"
        if isinstance(raw.get("bozo_exception"), feedparser.CharacterEncodingOverride):
            warning = _override_warning(str(raw.get("bozo_exception")))
    home = response.get("content-location") or url
    return ParsedFeed(
        title=_text(feed.get("title_detail"), feed.get("title", "")),
        link=web_link(feed.get("link"), home),
        version=raw.get("version", ""),
        entries=[_entry(e, home) for e in raw.get("entries", [])],
        error=error,
        raw=raw,
        warning=warning,
    )


def _override_warning(message: str) -> str:
    """feedparser's words for a feed read in another encoding than it declared, as
    a warning a person understands."""
    found = re.search(r"declared as (\S+), but parsed as (\S+)", message)
    if not found:
        return message
    return f"not valid {found[1]} (declared, or XML's default when nothing is): read as {found[2]}"


def parse_json_feed(data: bytes | str) -> Any:
    """JSON Feed 1.0 and 1.1, in the shape feedparser gives other feeds.

    Every field is read as the spec types it (``summary`` and ``content_text`` are
    text, ``content_html`` is HTML) and anything of the wrong type (a list for a
    title, a number for a link) counts as absent."""
    result = FeedParserDict(bozo=False, entries=[], feed=FeedParserDict(), version="")
    try:
        doc, result["knowflow_warning"] = _json_document(data)
        if not isinstance(doc, dict) or "jsonfeed.org/version/1" not in str(doc.get("version")):
            raise ValueError("not a JSON Feed (no jsonfeed.org version)")
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        result.update(bozo=True, bozo_exception=exc)
        return result
    result["version"] = "json11" if str(doc["version"]).endswith("1.1") else "json1"
    title = _string(doc.get("title"))
    result["feed"] = FeedParserDict(
        title=title,
        link=_string(doc.get("home_page_url")),
        title_detail=FeedParserDict(type="text/plain", value=title),
    )
    items = doc.get("items")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            result["entries"].append(_json_item(item))
    return result


def _json_document(data: bytes | str) -> tuple[Any, str | None]:
    """The parsed JSON, reading bytes that are not UTF-8 as replacement characters."""
    try:
        return json.loads(data), None
    except UnicodeDecodeError as exc:
        assert isinstance(data, bytes)
        text = data.decode("utf-8", "replace").removeprefix("\ufeff")
        bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
        warning = (
            f"{bad} byte{'s' if bad != 1 else ''} not valid utf-8 replaced by \ufffd"
            f" (the first at byte {exc.start}); the rest read as utf-8"
        )
        return json.loads(text), warning


def _string(value: Any) -> str:
    """A JSON value where the spec wants a string: numbers as text, else nothing."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _json_item(item: dict[str, Any]) -> Any:
    entry = FeedParserDict(
        id=_string(item.get("id")),
        link=_string(item.get("url")) or _string(item.get("external_url")),
    )
    if "title" in item:
        entry["title"] = _string(item["title"])
        entry["title_detail"] = FeedParserDict(type="text/plain", value=entry["title"])
    if _string(item.get("content_html")):
        content = FeedParserDict(type="text/html", value=_string(item["content_html"]))
        entry["content"] = [content]
    elif _string(item.get("content_text")):
        content = FeedParserDict(type="text/plain", value=_string(item["content_text"]))
        entry["content"] = [content]
    if _string(item.get("summary")):  # plain text by the spec, never HTML
        entry["summary"] = _string(item["summary"])
        entry["summary_detail"] = FeedParserDict(type="text/plain", value=entry["summary"])
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [_string(a.get("name")) for a in _list(authors) if isinstance(a, dict)]
    if any(names):
        entry["author"] = ", ".join(n for n in names if n)
    entry["tags"] = [FeedParserDict(term=_string(t)) for t in _list(item.get("tags"))]
    # feedparser's dictionary finds enclosures among the links, as Atom has them.
    entry["links"] = [
        FeedParserDict(
            rel="enclosure", href=_string(a.get("url")), type=_string(a.get("mime_type"))
        )
        for a in _list(item.get("attachments"))
        if isinstance(a, dict)
    ]
    for key, field_name in (("date_published", "published"), ("date_modified", "updated")):
        if _string(item.get(key)):
            entry[field_name] = _string(item[key])
            entry[f"{field_name}_parsed"] = _json_date(entry[field_name])
    return entry


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_date(text: str) -> Any:
    try:
        moment = parse_datetime(text)
        return moment.timetuple() if moment else None
    except (ValueError, OverflowError):
        return None


def _sanitize_result(raw: Any) -> None:
    """Clean every HTML value in feedparser's result in place, and the plain mirrors of it.

    An entry's relative addresses resolve against its own link (feedparser has
    already resolved those it could against ``xml:base`` and the document's)."""
    feed = raw.get("feed", {})
    for holder in [feed, *raw.get("entries", [])]:
        base = web_link(holder.get("link"))
        for key in _DETAILS:
            detail = holder.get(f"{key}_detail")
            if detail and detail.get("type") in HTML_TYPES and detail.get("value"):
                detail["value"] = sanitize(str(detail["value"]), base)
                holder[key] = detail["value"]
        for content in holder.get("content", []) or []:
            if content.get("type") in HTML_TYPES and content.get("value"):
                content["value"] = sanitize(str(content["value"]), base)


def _text(detail: Any, fallback: str) -> str:
    """A text field as plain text, whatever markup the feed put in it."""
    value = detail.get("value", fallback) if detail else fallback
    return clean_text(value, html=bool(detail and detail.get("type") in HTML_TYPES))


def _html(e: Any) -> str:
    """The entry's content, else its summary, as HTML (text is escaped, not read as HTML).

    A summary in plain text (JSON Feed's always is) is a sentence or two: markup
    in it is stripped as in a title, since feeds put HTML there all the same. A
    body in plain text keeps every character, escaped ("use <div> here")."""
    contents = e.get("content") or []
    detail = contents[0] if contents else e.get("summary_detail")
    value = str(detail.get("value", "") if detail else e.get("summary", "") or "")
    if detail and detail.get("type") not in HTML_TYPES:
        return escape(value if contents else clean_text(value))  # shown as text
    return value


def _entry(e: Any, home: str | None) -> Entry:
    # An entry dated only by when it was updated (Atom's required <updated>, JSON
    # Feed's date_modified) is dated by that, so that it sorts and filters by date.
    published, updated = _iso(e.get("published_parsed")), _iso(e.get("updated_parsed"))
    return entry_from(
        guid=e.get("id"),
        title=_text(e.get("title_detail"), e.get("title", "")),
        link=e.get("link"),
        author=e.get("author"),
        published=published or updated,
        updated=updated or published,
        html=_html(e),
        categories=[t.get("term") or t.get("label") for t in e.get("tags") or []],
        enclosures=[x.get("href") for x in e.get("enclosures") or []],
        base=home,
    )


def entry_from(
    *,
    guid: object,
    title: str,
    link: object,
    author: object,
    published: str | None,
    updated: str | None,
    html: str,
    categories: list[Any] | tuple[Any, ...] = (),
    enclosures: list[Any] | tuple[Any, ...] = (),
    base: str | None = None,
) -> Entry:
    """An entry made safe (see ``knowflow.seek.clean``), with its content hash, and an
    id even when the feed gave none: its link without tracking parameters, else
    one made of its title and date, else of its content.

    Every parser ends here, so that no path stores text it did not clean; ``base``
    is the document's address, against which a relative link resolves."""
    title = clean_text(title)
    safe_link, warning = link_or_why(link, base)
    html = sanitize(html, safe_link) if html else ""
    digest = hashlib.blake2b(
        "\x00".join([title, safe_link or "", html]).encode("utf-8", "replace"), digest_size=16
    ).hexdigest()
    return Entry(
        id=clean_id(guid) or safe_link or _made_id(title, published) or digest,
        title=title,
        link=safe_link,
        author=clean_text(author) or None,
        published=published,
        updated=updated,
        html=html,
        content_hash=digest,
        categories=tuple(dict.fromkeys(t for t in map(clean_text, categories) if t)),
        enclosures=tuple(
            dict.fromkeys(
                u for u in (web_link(x, base) for x in enclosures) if u and not _is_mail(u)
            )
        ),
        warning=warning,
    )


def _made_id(title: str, published: str | None) -> str | None:
    if not (title and published):
        return None
    key = f"{title}\x00{published}".encode("utf-8", "replace")
    return MADE_ID + hashlib.blake2b(key, digest_size=16).hexdigest()


def _is_mail(url: str) -> bool:
    return url[:7].lower() == "mailto:"


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        moment = dt.datetime.fromtimestamp(calendar.timegm(parsed), dt.UTC)
    except (OverflowError, ValueError, TypeError):
        return None
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Parsed:
    """What storing needs from a parse, small enough to send between processes.

    ``warning`` is something the feed was read in spite of, in words, for the
    source's record (today: bytes that broke the feed's declared encoding and
    were replaced, or a feed read in another encoding than it declared).
    ``version`` is the format found ("rss20", "atom10", "json11" ...; empty when
    the document is no feed at all). ``interval`` is how often the feed says it is
    worth fetching, in seconds (its ``<ttl>`` or ``sy:updatePeriod``), when it says."""

    title: str
    entries: list[Entry]
    error: str | None
    link: str | None = None
    version: str = ""
    warning: str | None = None
    interval: int | None = None

    @property
    def empty(self) -> bool:
        """A well-formed feed with no entries (not a failure: there is nothing yet)."""
        return _empty(self.entries, self.version, self.error)

    @property
    def is_feed(self) -> bool:
        """Whether the document was a feed at all: with entries, a title, or empty."""
        return _is_feed(self.title, self.entries, self.version, self.error)


def _empty(entries: list[Entry], version: str, error: str | None) -> bool:
    well_formed = error is None or error.startswith(_BENIGN)
    return bool(version) and not entries and well_formed


def _is_feed(title: str, entries: list[Entry], version: str, error: str | None) -> bool:
    return bool(entries or title) or _empty(entries, version, error)
