"""Highlights in clipping notes, and their export as W3C Web Annotations.

A highlight is an Obsidian quote callout appended to the clipping, with a block
id so other notes can link to it::

    > [!quote] Highlight ^hl-3f2a9c
    > the quoted words
    >
    > my comment

Exported, each becomes an Annotation whose target is the clipping's ``url``
with a TextQuoteSelector, and whose body is the comment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowflow.errors import KnowflowError
from knowflow.vault.files import FileStamp, atomic_write
from knowflow.vault.frontmatter import parse_front_matter

_BLOCK = re.compile(
    r"^> \[!quote\] Highlight \^(?P<id>hl-[0-9a-f]+)\n(?P<body>(?:>.*\n?)*)", re.MULTILINE
)


@dataclass(frozen=True, slots=True)
class Highlight:
    id: str
    quote: str
    comment: str | None


def add_highlight(path: Path, quote: str, comment: str | None = None) -> Highlight:
    """Append a highlight to a clipping note; the quote must be in the note."""
    text = path.read_text("utf-8")
    stamp = FileStamp.of(path)
    quote = " ".join(quote.split())
    if not quote:
        raise KnowflowError("a highlight needs the quoted text")
    if quote.casefold() not in " ".join(text.split()).casefold():
        raise KnowflowError(f"{path.name} does not contain {quote!r}")
    ident = highlight_id(quote)
    if any(h.id == ident for h in highlights(text)):
        return next(h for h in highlights(text) if h.id == ident)  # highlighted before
    atomic_write(path, text.rstrip("\n") + "\n\n" + callout(quote, comment) + "\n", stamp)
    return Highlight(ident, quote, comment.strip() if comment else None)


def highlight_id(quote: str) -> str:
    return "hl-" + hashlib.blake2b(" ".join(quote.split()).encode(), digest_size=3).hexdigest()


def callout(quote: str, comment: str | None = None) -> str:
    """A highlight as the Obsidian quote callout knowflow writes and reads back."""
    quote = " ".join(quote.split())
    lines = [f"> [!quote] Highlight ^{highlight_id(quote)}", f"> {quote}"]
    if comment and comment.strip():
        lines += [">", *(f"> {line}" for line in comment.strip().splitlines())]
    return "\n".join(lines)


def highlights(text: str) -> list[Highlight]:
    """The highlights in a note's text, in order."""
    found = []
    for m in _BLOCK.finditer(text):
        body = [line[1:].strip() for line in m.group("body").splitlines()]
        quote, _, rest = "\n".join(body).partition("\n\n")
        found.append(Highlight(m.group("id"), quote.strip(), rest.strip() or None))
    return found


def web_annotations(notes: list[tuple[str, Path]], creator: str | None = None) -> dict[str, Any]:
    """A W3C Web Annotation collection of the highlights in these (vault path, file) notes."""
    items = []
    for rel, path in notes:
        text = path.read_text("utf-8", "replace")
        front = parse_front_matter(text).data
        created = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(
            timespec="seconds"
        )
        for h in highlights(text):
            item: dict[str, Any] = {
                "id": f"urn:knowflow:{rel}#{h.id}",
                "type": "Annotation",
                "created": created,
                "target": {
                    "source": front.get("url") or f"urn:knowflow:{rel}",
                    "selector": {"type": "TextQuoteSelector", "exact": h.quote},
                },
            }
            if h.comment:
                item["body"] = {
                    "type": "TextualBody",
                    "value": h.comment,
                    "purpose": "commenting",
                    "format": "text/plain",
                }
                item["motivation"] = "commenting"
            else:
                item["motivation"] = "highlighting"
            if creator:
                item["creator"] = {"type": "Person", "name": creator}
            items.append(item)
    return {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "AnnotationCollection",
        "total": len(items),
        "items": items,
    }
