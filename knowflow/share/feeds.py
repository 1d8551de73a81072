"""Feeds others can subscribe to: Atom 1.0 and JSON Feed 1.1 of the recent notes an
audience may see, and the sitemap that lists every page."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from knowflow.share.catalog import VisibleNote

ATOM_NS = "http://www.w3.org/2005/Atom"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_SIZE = 20


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """Who and where: the site's title, its author, its address, the audience."""

    title: str
    author: str
    base_url: str  # "" when unknown: links are then relative to the site's root
    audience: str

    def url(self, path: str) -> str:
        return self.base_url + path

    def id_for(self, key: str) -> str:
        """A stable, absolute id (atom:id must be an IRI), the same on every publish."""
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"knowflow:{self.audience}:{key}"))


def atom(info: FeedInfo, notes: list[VisibleNote], bodies: dict[str, str]) -> str:
    """An Atom 1.0 document of these notes (newest first), with their HTML."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "title", info.title)
    _sub(feed, "id", info.id_for("feed"))
    updated = max((n.updated for n in notes), default="1970-01-01T00:00:00+00:00")
    _sub(feed, "updated", updated)
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    _sub(author, "name", info.author)
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", href=info.url("atom.xml"))
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="alternate", href=info.url("index.html"))
    _sub(feed, "generator", "knowflow")
    for note in notes:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        _sub(entry, "title", note.title)
        _sub(entry, "id", info.id_for(note.id))
        _sub(entry, "updated", note.updated)
        _sub(entry, "published", note.created)
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", href=info.url(note.url))
        for tag in note.tags:
            ET.SubElement(entry, f"{{{ATOM_NS}}}category", term=tag)
        content = _sub(entry, "content", bodies.get(note.path, ""))
        content.set("type", "html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


def json_feed(info: FeedInfo, notes: list[VisibleNote], bodies: dict[str, str]) -> str:
    """A JSON Feed 1.1 document of these notes (newest first)."""
    doc: dict[str, object] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": info.title,
        "home_page_url": info.url("index.html"),
        "feed_url": info.url("feed.json"),
        "authors": [{"name": info.author}],
        "language": "en",
        "items": [
            {
                "id": info.id_for(note.id),
                "url": info.url(note.url),
                "title": note.title,
                "content_html": bodies.get(note.path, ""),
                "date_published": note.created,
                "date_modified": note.updated,
                "tags": note.tags,
            }
            for note in notes
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def sitemap(info: FeedInfo, pages: list[tuple[str, str]]) -> str:
    """A sitemap of (page path, last modified) pairs."""
    ET.register_namespace("", SITEMAP_NS)
    urlset = ET.Element(f"{{{SITEMAP_NS}}}urlset")
    for path, modified in pages:
        url = ET.SubElement(urlset, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = info.url(path)
        if modified:
            ET.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = modified
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(urlset, encoding="unicode")


def _sub(parent: ET.Element, name: str, text: str) -> ET.Element:
    child = ET.SubElement(parent, f"{{{ATOM_NS}}}{name}")
    child.text = text
    return child
