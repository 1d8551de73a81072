"""Highlights in clipping notes, and their export as W3C Web Annotations.

A highlight is an Obsidian quote callout appended to the clipping, with a block
id so other notes can link to it::

    > [!quote] Highlight ^hl-3f2a9c
    > the quoted words
    >
    > my comment
    > %%{"created": "2024-05-01T09:30:00+00:00", "prefix": "what ", "suffix": " next"}%%

The last line is an Obsidian comment (hidden when the note is read, never
published) holding what a Web Annotation's selector needs and the note does not
show: when it was made, the words before and after it, and the quote exactly as
written when that differs from the shown line (its line breaks and spacing).

Exported, each becomes an Annotation whose target is the clipping's ``url``
with a TextQuoteSelector, and whose body is the comment, in an
AnnotationCollection whose first AnnotationPage holds them all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote as percent_encode

from knowflow.errors import KnowflowError
from knowflow.seek.notetext import md_text, safe_markdown, valid_text, web_url
from knowflow.seek.state import now
from knowflow.vault.files import FileStamp, atomic_write
from knowflow.vault.frontmatter import parse_front_matter

_BLOCK = re.compile(
    r"^> \[!quote\] Highlight \^(?P<id>hl-[0-9a-f]+)\n(?P<body>(?:>.*\n?)*)", re.MULTILINE
)
_META = re.compile(r"%%(\{.*\})%%")
_NOT_HIDDEN = re.compile(r"^%%", re.MULTILINE)  # a comment line that could pass for it
CONTEXT_CHARS = 32  # of prefix and suffix, as Hypothesis takes them
COLLECTION_ID = "urn:knowflow:highlights"


@dataclass(frozen=True, slots=True)
class Highlight:
    id: str
    quote: str  # as shown: one line
    comment: str | None  # Markdown
    exact: str | None = None  # as written, when that differs from ``quote``
    prefix: str | None = None
    suffix: str | None = None
    created: str | None = None


def add_highlight(path: Path, quote: str, comment: str | None = None) -> Highlight:
    """Append a highlight to a clipping note; the quote must be in the note (its words in
    order, whatever the case and spacing), and is taken as the note writes it."""
    text = path.read_text("utf-8")
    stamp = FileStamp.of(path)
    found = find_quote(text, quote)
    if found is None:
        if not quote.split():
            raise KnowflowError("a highlight needs the quoted text")
        raise KnowflowError(f"{path.name} does not contain {' '.join(quote.split())!r}")
    start, end = found
    exact = text[start:end]
    ident = highlight_id(exact)
    for h in highlights(text):
        if h.id == ident:
            return h  # highlighted before
    new = Highlight(
        ident,
        " ".join(exact.split()),
        comment.strip() if comment and comment.strip() else None,
        exact,
        text[max(0, start - CONTEXT_CHARS) : start],
        text[end : end + CONTEXT_CHARS],
        now(),
    )
    atomic_write(path, text.rstrip("\n") + "\n\n" + callout_of(new) + "\n", stamp)
    return new


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote``'s words stand in ``text`` (any case, any spacing between them),
    outside the highlights already there if it stands there too."""
    words = quote.split()
    if not words:
        return None
    pattern = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
    outside = _BLOCK.sub(lambda m: " " * len(m.group()), text)
    m = pattern.search(outside) or pattern.search(text)
    return (m.start(), m.end()) if m else None


def highlight_id(quote: str) -> str:
    return "hl-" + hashlib.blake2b(" ".join(quote.split()).encode(), digest_size=3).hexdigest()


def callout(
    quote: str,
    comment: str | None = None,
    *,
    exact: str | None = None,
    prefix: str | None = None,
    suffix: str | None = None,
    created: str | None = None,
) -> str:
    """A highlight as the Obsidian quote callout knowflow writes and reads back. The
    quote and comment come from outside: the quote is shown as text, the comment as
    Markdown without links to other schemes or raw HTML (see knowflow.seek.notetext)."""
    shown = " ".join(valid_text(quote).split())
    ident = highlight_id(shown)
    return callout_of(Highlight(ident, shown, comment, exact, prefix, suffix, created))


def callout_of(h: Highlight) -> str:
    lines = [f"> [!quote] Highlight ^{h.id}", f"> {md_text(h.quote)}"]
    if h.comment and h.comment.strip():
        body = safe_markdown(h.comment.strip())
        # A comment's line cannot pass for the hidden line below it.
        lines += [">", *("> " + _NOT_HIDDEN.sub(r"\\%%", ln) for ln in body.splitlines())]
    fields = {
        "created": h.created,
        "exact": h.exact if h.exact and h.exact != h.quote else None,
        "prefix": h.prefix,
        "suffix": h.suffix,
    }
    meta = {k: valid_text(v) for k, v in fields.items() if v}
    if meta:
        lines.append(f"> %%{_hidden_json(meta)}%%")
    return "\n".join(lines)


def _hidden_json(data: dict[str, str]) -> str:
    """JSON that no Markdown reader sees anything in, and that cannot end the comment
    it stands in: every character that could, as a \\u escape."""
    text = json.dumps(data, ensure_ascii=True)
    return re.sub(r"[%<>\[\]`&*_|~$^]", lambda m: f"\\u{ord(m.group()):04x}", text)


_UNESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])|&lt;|&amp;")


def _shown_text(line: str) -> str:
    """A quote line as a reader sees it (the escapes ``md_text`` wrote undone)."""
    return _UNESCAPE.sub(lambda m: m.group(1) or {"&lt;": "<", "&amp;": "&"}[m.group()], line)


def highlights(text: str) -> list[Highlight]:
    """The highlights in a note's text, in order."""
    found = []
    for m in _BLOCK.finditer(text):
        body = [line[1:].strip() for line in m.group("body").splitlines()]
        meta: dict[str, Any] = {}
        if body and (hidden := _META.fullmatch(body[-1])):
            meta = _load_meta(hidden.group(1))
            body = body[:-1]
        quote, _, rest = "\n".join(body).partition("\n\n")
        found.append(
            Highlight(
                m.group("id"),
                _shown_text(" ".join(quote.split())),
                re.sub(r"^\\%%", "%%", rest.strip(), flags=re.MULTILINE) or None,
                meta.get("exact"),
                meta.get("prefix"),
                meta.get("suffix"),
                meta.get("created"),
            )
        )
    return found


def _load_meta(text: str) -> dict[str, str]:
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def iri(address: str) -> str:
    """An address as an IRI a JSON-LD reader takes: what may not stand in one (spaces,
    quotes, brackets) percent-encoded, escapes already there kept."""
    return percent_encode(valid_text(address), safe=":/?#[]@!$&'()*+,;=%~")


def note_iri(rel: str, fragment: str | None = None) -> str:
    """The IRI of a note (its vault path, percent-encoded), or of a block in it."""
    base = f"urn:knowflow:{percent_encode(rel, safe='/')}"
    return f"{base}#{fragment}" if fragment else base


def web_annotations(notes: list[tuple[str, Path]], creator: str | None = None) -> dict[str, Any]:
    """A W3C Web Annotation collection of the highlights in these (vault path, file) notes:
    an AnnotationCollection whose first AnnotationPage holds every annotation."""
    items = []
    for rel, path in notes:
        text = path.read_text("utf-8", "replace")
        front = parse_front_matter(text).data
        url = web_url(str(front.get("url") or "")) if isinstance(front, dict) else None
        stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        for h in highlights(text):
            items.append(_annotation(rel, h, url, stamp.isoformat(timespec="seconds"), creator))
    doc: dict[str, Any] = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": COLLECTION_ID,
        "type": "AnnotationCollection",
        "label": "Highlights",
        "total": len(items),
    }
    if items:
        page = f"{COLLECTION_ID}:page1"
        doc["first"] = {
            "id": page,
            "type": "AnnotationPage",
            "partOf": COLLECTION_ID,
            "startIndex": 0,
            "items": items,
        }
        doc["last"] = page
    return doc


def _annotation(
    rel: str, h: Highlight, url: str | None, modified: str, creator: str | None
) -> dict[str, Any]:
    selector = {"type": "TextQuoteSelector", "exact": h.exact or h.quote}
    if h.prefix:
        selector["prefix"] = h.prefix
    if h.suffix:
        selector["suffix"] = h.suffix
    item: dict[str, Any] = {
        "id": note_iri(rel, h.id),
        "type": "Annotation",
        "motivation": "commenting" if h.comment else "highlighting",
        "created": h.created or modified,
        "target": {"source": iri(url) if url else note_iri(rel), "selector": selector},
    }
    if h.comment:
        item["body"] = {
            "type": "TextualBody",
            "value": h.comment,
            "purpose": "commenting",
            "format": "text/markdown",
        }
    if creator:
        item["creator"] = {"type": "Person", "name": creator}
    return item
