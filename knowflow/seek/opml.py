"""OPML in and out, the format every feed reader imports and exports.

On import, folders become tags (nested folders nested tags, ``a/b``); a folder
named ``team``, ``community`` or ``network``, or a ``kind`` attribute on a
folder or feed, sets the network kind. Export writes one folder per kind and
each feed's tags as its ``category``, so importing the export gives back the
same sources.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from knowflow.errors import OpmlError, SourceExists
from knowflow.seek.sources import KINDS, Source, Sources, check_url, clean_tags
from knowflow.seek.state import record

if TYPE_CHECKING:
    from knowflow.seek.http import Client

KIND_ATTRIBUTES = ("kind", "knowflow:kind", "{https://knowflow.org/opml}kind")


@dataclass(frozen=True, slots=True)
class Outline:
    """A feed as an OPML file describes it."""

    name: str
    url: str
    kind: str
    tags: list[str]
    site_url: str | None


@dataclass
class ImportReport:
    """What an import did: added, skipped (already followed) and failed, with reasons."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "added": len(self.added),
            "skipped": len(self.skipped),
            "failed": [{"source": name, "reason": why} for name, why in self.failed],
        }


def read_opml(data: bytes, origin: str = "OPML", default_kind: str = "network") -> list[Outline]:
    """Every feed outline in an OPML document; OpmlError if it is not readable."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=False)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise OpmlError(f"{origin}:{line}: not well-formed XML ({exc.msg})") from None
    except DefusedXmlException as exc:
        raise OpmlError(f"{origin}: refused: {exc}") from None
    if root.tag != "opml" or root.find("body") is None:
        raise OpmlError(f"{origin}: not an OPML document (no <opml><body>)")
    body = root.find("body")
    assert body is not None
    return list(_walk(body, [], default_kind))


def _walk(node: ET.Element, folders: list[str], kind: str) -> Iterator[Outline]:
    for outline in node.findall("outline"):
        title = (outline.get("title") or outline.get("text") or "").strip()
        kind_here = _kind_of(outline) or kind
        url = outline.get("xmlUrl") or outline.get("xmlurl")
        if url is None:
            if title.lower() in KINDS:
                yield from _walk(outline, folders, title.lower())
            else:
                yield from _walk(outline, [*folders, title] if title else folders, kind_here)
            continue
        tags = ["/".join(folders)] if folders else []
        tags += (outline.get("category") or "").split(",")
        yield Outline(
            name=title or url,
            url=url.strip(),
            kind=kind_here,
            tags=clean_tags(tags),
            site_url=outline.get("htmlUrl") or None,
        )


def _kind_of(outline: ET.Element) -> str | None:
    for attribute in KIND_ATTRIBUTES:
        value = (outline.get(attribute) or "").strip().lower()
        if value in KINDS:
            return value
    return None


def import_opml(
    sources: Sources,
    location: Path | str,
    default_kind: str = "network",
    client: Client | None = None,
) -> ImportReport:
    """Follow every feed in an OPML file, or at an http(s) address (fetched through
    knowflow's one HTTP client, with its limits); feeds already followed are skipped."""
    data = read_location(location, client)
    return import_document(sources, data, str(location), default_kind)


def import_document(
    sources: Sources, data: bytes, origin: str, default_kind: str = "network"
) -> ImportReport:
    """Follow every feed in an OPML document already read (an upload, say); ``origin``
    names it in errors and the activity log."""
    report = ImportReport()
    for outline in read_opml(data, origin, default_kind):
        _import_one(sources, outline, report)
    record(sources.conn, "opml_imported", origin, **report.as_dict())
    return report


def is_address(location: Path | str) -> bool:
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))


def read_location(location: Path | str, client: Client | None = None) -> bytes:
    """The bytes of a file, or of the document at an address; OpmlError names either."""
    if is_address(location):
        return fetch_opml(str(location), client)
    try:
        return Path(location).read_bytes()
    except OSError as exc:
        raise OpmlError(f"{location}: {exc.strerror or exc}") from None


def fetch_opml(url: str, client: Client | None = None) -> bytes:
    """GET an OPML document; any failure is an OpmlError naming the address."""
    import asyncio

    from knowflow.seek.http import Client, FetchError  # httpx: only when fetching

    try:
        check_url(url)
    except ValueError as exc:
        raise OpmlError(str(exc)) from None

    async def run() -> bytes:
        async with client or Client() as http:
            response = await http.get(url)
        if response.status >= 400:
            raise FetchError(f"HTTP {response.status}", status=response.status)
        return response.body

    try:
        return asyncio.run(run())
    except FetchError as exc:
        raise OpmlError(f"{url}: {exc}") from None


def _import_one(sources: Sources, outline: Outline, report: ImportReport) -> None:
    try:
        check_url(outline.url)
    except ValueError as exc:
        report.failed.append((outline.name, str(exc)))
        return
    if sources.conn.execute("SELECT 1 FROM sources WHERE url = ?", (outline.url,)).fetchone():
        report.skipped.append(outline.name)
        return
    name = _free_name(sources, outline.name)
    try:
        sources.add(outline.url, name, outline.kind, outline.tags, outline.site_url)
    except (ValueError, SourceExists) as exc:
        report.failed.append((outline.name, str(exc)))
        return
    report.added.append(name)


def _free_name(sources: Sources, name: str) -> str:
    """The name, or the name with a number when another feed already has it."""
    candidate, n = name, 2
    while sources.conn.execute("SELECT 1 FROM sources WHERE name = ?", (candidate,)).fetchone():
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def write_opml(sources: Iterable[Source], title: str = "knowflow sources") -> str:
    """An OPML 2.0 document with one folder per network kind."""
    root = ET.Element("opml", {"version": "2.0"})
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    by_kind: dict[str, list[Source]] = {kind: [] for kind in KINDS}
    for source in sources:
        by_kind[source.kind].append(source)
    for kind, members in by_kind.items():
        if not members:
            continue
        folder = ET.SubElement(body, "outline", {"text": kind, "title": kind})
        for source in members:
            attributes = {
                "type": "rss",
                "text": source.name,
                "title": source.name,
                "xmlUrl": source.url,
            }
            if source.site_url:
                attributes["htmlUrl"] = source.site_url
            if source.tags:
                attributes["category"] = ",".join(source.tags)
            ET.SubElement(folder, "outline", attributes)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
