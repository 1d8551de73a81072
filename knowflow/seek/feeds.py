"""Parsing feeds: RSS 0.9x/1.0/2.0, Atom 0.3/1.0 and JSON Feed, as the real world writes them.

feedparser copes with the mess (wrong or missing encodings, entities,
``xml:base``, dates in many formats) and Python's expat refuses entity
expansion attacks. Every piece of HTML is then cleaned again by nh3 (the Rust
sanitizer ammonia) before knowflow keeps or shows it: no scripts, no event
handlers, no ``javascript:`` addresses.
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
import nh3
from feedparser.util import FeedParserDict

from knowflow.vault.frontmatter import parse_datetime

HTML_TYPES = ("text/html", "application/xhtml+xml")
_DETAILS = ("title", "subtitle", "summary", "rights", "info")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Entry:
    """One item of a feed, ready to store: text fields plain, HTML sanitized."""

    id: str
    title: str
    link: str | None
    author: str | None
    published: str | None  # ISO 8601, UTC
    updated: str | None
    html: str  # sanitized content, else sanitized summary
    content_hash: str


@dataclass
class ParsedFeed:
    """A feed as knowflow keeps it, plus feedparser's (sanitized) result for reference."""

    title: str
    link: str | None
    version: str
    entries: list[Entry] = field(default_factory=list)
    error: str | None = None  # set when the document was malformed (it may still have entries)
    raw: Any = None


def sanitize(html: str) -> str:
    """HTML safe to store and show: ammonia's allow-list, links marked noopener."""
    return nh3.clean(html)


def parse_feed(
    data: bytes | str, *, url: str | None = None, headers: dict[str, str] | None = None
) -> ParsedFeed:
    """Parse a feed document; never raises on bad input (see ``error``)."""
    response = {k.lower(): v for k, v in (headers or {}).items()}
    if url:
        # A relative Content-Location is relative to the address asked for.
        response["content-location"] = urljoin(url, response.get("content-location", ""))
    if "json" in response.get("content-type", "") or data[:64].lstrip()[:1] in (b"{", "{"):
        raw = parse_json_feed(data)
    else:
        raw = feedparser.parse(data, response_headers=response, sanitize_html=True)
    _sanitize_result(raw)
    feed = raw.get("feed", {})
    error = None
    if raw.get("bozo"):
        error = f"{type(raw.get('bozo_exception')).__name__}: {raw.get('bozo_exception')}"
    return ParsedFeed(
        title=_text(feed.get("title_detail"), feed.get("title", "")),
        link=feed.get("link"),
        version=raw.get("version", ""),
        entries=[_entry(e) for e in raw.get("entries", [])],
        error=error,
        raw=raw,
    )


def parse_json_feed(data: bytes | str) -> Any:
    """JSON Feed 1.0 and 1.1, in the shape feedparser gives other feeds."""
    result = FeedParserDict(bozo=False, entries=[], feed=FeedParserDict(), version="")
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or "jsonfeed.org/version/1" not in str(doc.get("version")):
            raise ValueError("not a JSON Feed (no jsonfeed.org version)")
    except ValueError as exc:  # JSONDecodeError is a ValueError
        result.update(bozo=True, bozo_exception=exc)
        return result
    result["version"] = "json11" if str(doc["version"]).endswith("1.1") else "json1"
    result["feed"] = FeedParserDict(
        title=str(doc.get("title", "")),
        link=doc.get("home_page_url"),
        title_detail=FeedParserDict(type="text/plain", value=str(doc.get("title", ""))),
    )
    for item in doc.get("items") or []:
        if isinstance(item, dict):
            result["entries"].append(_json_item(item))
    return result


def _json_item(item: dict[str, Any]) -> Any:
    entry = FeedParserDict(id=str(item.get("id", "")), link=item.get("url"))
    if "title" in item:
        entry["title"] = str(item["title"])
        entry["title_detail"] = FeedParserDict(type="text/plain", value=entry["title"])
    if item.get("content_html"):
        entry["content"] = [FeedParserDict(type="text/html", value=str(item["content_html"]))]
    elif item.get("content_text"):
        entry["content"] = [FeedParserDict(type="text/plain", value=str(item["content_text"]))]
    if item.get("summary"):
        entry["summary"] = str(item["summary"])
    authors = item.get("authors") or ([item["author"]] if item.get("author") else [])
    names = [str(a.get("name")) for a in authors if isinstance(a, dict) and a.get("name")]
    if names:
        entry["author"] = ", ".join(names)
    for key, field_name in (("date_published", "published"), ("date_modified", "updated")):
        if item.get(key):
            entry[field_name] = str(item[key])
            entry[f"{field_name}_parsed"] = _json_date(str(item[key]))
    return entry


def _json_date(text: str) -> Any:
    moment = parse_datetime(text)
    return moment.timetuple() if moment else None


def _sanitize_result(raw: Any) -> None:
    """Clean every HTML value in feedparser's result in place, and the plain mirrors of it."""
    for holder in [raw.get("feed", {}), *raw.get("entries", [])]:
        for key in _DETAILS:
            detail = holder.get(f"{key}_detail")
            if detail and detail.get("type") in HTML_TYPES and detail.get("value"):
                detail["value"] = sanitize(detail["value"])
                holder[key] = detail["value"]
        for content in holder.get("content", []) or []:
            if content.get("type") in HTML_TYPES and content.get("value"):
                content["value"] = sanitize(content["value"])


def _text(detail: Any, fallback: str) -> str:
    """A title as plain text, whatever markup the feed put in it."""
    value = detail.get("value", fallback) if detail else fallback
    if detail and detail.get("type") in HTML_TYPES:
        value = _TAG.sub("", value)
    return " ".join(str(value).split())


def _entry(e: Any) -> Entry:
    contents = e.get("content") or []
    html = contents[0].get("value", "") if contents else e.get("summary", "")
    if contents and contents[0].get("type") not in HTML_TYPES:
        html = escape(html)  # plain text, shown as text
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
        html=html,
    )


def entry_from(
    *,
    guid: str | None,
    title: str,
    link: str | None,
    author: str | None,
    published: str | None,
    updated: str | None,
    html: str,
) -> Entry:
    """An entry with its content hash, and an id even when the feed gave none."""
    digest = hashlib.blake2b(
        "\x00".join([title, link or "", html]).encode("utf-8", "replace"), digest_size=16
    ).hexdigest()
    return Entry(
        id=guid or link or digest,
        title=title,
        link=link,
        author=author,
        published=published,
        updated=updated,
        html=html,
        content_hash=digest,
    )


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
    """What storing needs from a parse, small enough to send between processes."""

    title: str
    entries: list[Entry]
    error: str | None
