"""Readers of other tools' highlight exports, each giving quotes and the records it could not read.

- Kindle's ``My Clippings.txt`` (English, German, French and Spanish devices);
- Readwise's CSV export;
- Hypothesis annotations as its API returns them (JSON: a list, or ``{"rows": [...]}``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from knowflow.errors import KnowflowError
from knowflow.seek.imports import Quote

Failure = tuple[str, str]

_KINDLE_KIND = {
    "highlight": ("your highlight", "ihre markierung", "votre surlignement", "tu subrayado"),
    "note": ("your note", "ihre notiz", "votre note", "tu nota"),
    "bookmark": ("your bookmark", "ihr lesezeichen", "votre signet", "tu marcador"),
}
_LOCATION = re.compile(
    r"(?:location|position|emplacement|posición|pos\.)\s*(\d+(?:-\d+)?)", re.IGNORECASE
)


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig", "replace")
    except OSError as exc:
        raise KnowflowError(f"{path}: {exc.strerror or exc}") from None


def read_kindle(path: Path) -> tuple[list[Quote], list[Failure]]:
    """Highlights of ``My Clippings.txt``; a Kindle note becomes the comment of the
    highlight it was written on (same book, location ending where the note is)."""
    quotes: list[Quote] = []
    failures: list[Failure] = []
    for start, raw in _kindle_records(path):
        lines = [ln.strip() for ln in raw]
        while lines and not lines[0]:
            lines.pop(0)
            start += 1
        where = f"{path.name}:{start}"
        if len(lines) < 2 or not lines[1].startswith("-"):
            failures.append((where, "a clipping needs a title line and a '- ...' details line"))
            continue
        kind = _kindle_kind(lines[1])
        if kind is None:
            failures.append((where, f"unknown kind of clipping: {lines[1][:60]}"))
            continue
        text = " ".join(ln for ln in lines[2:] if ln)
        if kind == "bookmark":
            continue
        if not text:
            failures.append((where, f"an empty {kind}"))
            continue
        title, author = _kindle_title(lines[0])
        location = _LOCATION.search(lines[1]) or re.search(r"(\d+)", lines[1])
        loc = location.group(1) if location else ""
        doc = f"kindle:{title}\x00{author or ''}"
        if kind == "note":
            target = next(
                (q for q in reversed(quotes) if q.doc == doc and q.where.split("-")[-1] == loc),
                None,
            )
            if target is not None:
                target.comment = text
                continue
        quotes.append(Quote(doc, title, author, None, text, None, loc))
    return quotes, failures


def _kindle_records(path: Path) -> list[tuple[int, list[str]]]:
    """(first line number, lines) of each record; records end with a '==========' line."""
    text = _text(path)
    if "==========" not in text:
        raise KnowflowError(f"{path}: no Kindle clippings found (records end with '==========')")
    records: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() == "==========":
            records.append((start, current))
            current, start = [], number + 1
        else:
            current.append(line)
    return records


def _kindle_kind(details: str) -> str | None:
    low = details.lower()
    for kind, words in _KINDLE_KIND.items():
        if any(w in low for w in words):
            return kind
    return None


def _kindle_title(line: str) -> tuple[str, str | None]:
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)\s*", line)
    if m and m.group(1):
        return m.group(1).strip(), m.group(2).strip() or None
    return line.strip() or "Untitled book", None


def read_readwise(path: Path) -> tuple[list[Quote], list[Failure]]:
    """Rows of Readwise's CSV export (Highlight, Book Title, Book Author, URL, Note, ...)."""
    reader = csv.DictReader(io.StringIO(_text(path)))
    if not reader.fieldnames or "Highlight" not in reader.fieldnames:
        raise KnowflowError(f"{path}: not a Readwise export (no 'Highlight' column)")
    quotes, failures = [], []
    for row in reader:
        where = f"{path.name}:{reader.line_num}"
        text = (row.get("Highlight") or "").strip()
        title = (row.get("Book Title") or "").strip()
        if not text or not title:
            failures.append((where, "a highlight needs its text and a title"))
            continue
        url = (row.get("Highlight URL") or row.get("URL") or "").strip() or None
        author = (row.get("Book Author") or "").strip() or None
        quotes.append(
            Quote(
                f"readwise:{title}\x00{author or ''}",
                title,
                author,
                url,
                text,
                (row.get("Note") or "").strip() or None,
                where,
            )
        )
    return quotes, failures


def read_hypothesis(path: Path) -> tuple[list[Quote], list[Failure]]:
    """Annotations as Hypothesis's API returns them; the quote is the TextQuoteSelector's."""
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise KnowflowError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    rows = data.get("rows", []) if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise KnowflowError(f"{path}: expected a list of annotations or {{'rows': [...]}}")
    quotes, failures = [], []
    for n, row in enumerate(rows, 1):
        where = f"{path.name}: annotation {n}"
        if not isinstance(row, dict) or not row.get("uri"):
            failures.append((where, "an annotation needs a 'uri'"))
            continue
        exact = _exact(row)
        comment = (row.get("text") or "").strip() or None
        if not exact and not comment:
            failures.append((where, "neither a quote nor a comment"))
            continue
        titles = (row.get("document") or {}).get("title") or [row["uri"]]
        title = titles[0] if isinstance(titles, list) and titles else str(titles)
        quotes.append(
            Quote(
                f"hypothesis:{row['uri']}",
                str(title),
                None,
                row["uri"],
                exact or comment or "",
                comment if exact else None,
                where,
            )
        )
    return quotes, failures


def _exact(row: dict[str, object]) -> str | None:
    for target in row.get("target") or []:  # type: ignore[attr-defined]
        for selector in (target or {}).get("selector") or []:
            if selector.get("type") == "TextQuoteSelector" and selector.get("exact"):
                return str(selector["exact"]).strip()
    return None
