"""Readers of other tools' highlight exports, each giving quotes, the records it could not
read and warnings about records it read in a way the file did not quite say.

- Kindle's ``My Clippings.txt`` (English, German, French and Spanish devices);
- Readwise's CSV export;
- Hypothesis annotations as its API returns them (JSON: a list, ``{"rows": [...]}``
  or ``{"annotations": [...]}``).

A record that cannot be read is reported with its file and line (or its
position in the JSON list), and the rest are read: one bad record never costs
the others.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from knowflow.errors import KnowflowError
from knowflow.seek.imports import Quote
from knowflow.seek.notetext import plain_text, valid_text

Failure = tuple[str, str]


class Read(NamedTuple):
    """What a reader found: quotes, records it could not read, and warnings."""

    quotes: list[Quote]
    failures: list[Failure]
    warnings: list[Failure]


_KINDLE_KIND = {
    "highlight": ("your highlight", "ihre markierung", "votre surlignement", "tu subrayado"),
    "note": ("your note", "ihre notiz", "votre note", "tu nota"),
    "bookmark": ("your bookmark", "ihr lesezeichen", "votre signet", "tu marcador"),
}
_LOCATION = re.compile(
    r"(?:location|position|emplacement|posición|pos\.)\s*(\d+(?:-\d+)?)", re.IGNORECASE
)
KINDLE_SEPARATOR = "=" * 10
_SEPARATOR_LIKE = re.compile(r"\s*(={3,})\s*")


def _text(path: Path) -> str:
    try:
        return valid_text(path.read_bytes().decode("utf-8-sig", "replace"))
    except OSError as exc:
        raise KnowflowError(f"{path}: {exc.strerror or exc}") from None


def read_kindle(path: Path) -> Read:
    """Highlights of ``My Clippings.txt``; a Kindle note becomes the comment of the
    highlight it was written on (same book, location ending where the note is)."""
    quotes: list[Quote] = []
    failures: list[Failure] = []
    records, warnings = _kindle_records(path)
    for start, raw in records:
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
        _kindle_quote(quotes, kind, lines, text)
    return Read(quotes, failures, warnings)


def _kindle_quote(quotes: list[Quote], kind: str, lines: list[str], text: str) -> None:
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
            return
    exact = "\n".join(lines[2:]).strip()
    created = _kindle_date(lines[1])
    quotes.append(Quote(doc, title, author, None, text, None, loc, exact, created=created))


def _kindle_records(path: Path) -> tuple[list[tuple[int, list[str]]], list[Failure]]:
    """(first line number, lines) of each record, and warnings. Records end with a line
    of ten '='; one of another length ends a record too when a clipping's title and
    details follow it (and is reported), else it is text. A last record with no
    separator after it is read if its last line is whole, and reported either way."""
    text = _text(path)
    lines = text.splitlines()
    if KINDLE_SEPARATOR not in text and not any(_kindle_kind(ln) for ln in lines[:3]):
        raise KnowflowError(f"{path}: no Kindle clippings found (records end with '==========')")
    records: list[tuple[int, list[str]]] = []
    warnings: list[Failure] = []
    current: list[str] = []
    start = 1
    for number, line in enumerate(lines, 1):
        m = _SEPARATOR_LIKE.fullmatch(line)
        if m and len(m.group(1)) != 10 and _header_follows(lines, number):
            warnings.append(
                (
                    f"{path.name}:{number}",
                    f"a separator of {len(m.group(1))} '=' (Kindle writes 10),"
                    " read as the end of a clipping",
                )
            )
        elif not m or len(m.group(1)) != 10:
            current.append(line)
            continue
        records.append((start, current))
        current, start = [], number + 1
    if any(ln.strip() for ln in current):
        _kindle_tail(path, text, start, current, records, warnings)
    return records, warnings


def _kindle_tail(
    path: Path,
    text: str,
    start: int,
    lines: list[str],
    records: list[tuple[int, list[str]]],
    warnings: list[Failure],
) -> None:
    where = f"{path.name}:{start}"
    if not text.endswith(("\n", "\r")):
        # The file ends mid-line, as one cut short while it was written: the quote may
        # be cut too, and is imported once the file is whole.
        warnings.append(
            (where, "the last clipping is cut short mid-line (no '==========' after it): not read")
        )
        return
    warnings.append((where, "the last clipping has no '==========' after it: read as it is"))
    records.append((start, lines))


def _header_follows(lines: list[str], number: int) -> bool:
    """Whether the lines after line ``number`` (1-based) open a clipping: a title line,
    then a details line naming a kind of clipping."""
    rest = [ln.strip() for ln in lines[number : number + 4]]
    while rest and not rest[0]:
        rest.pop(0)
    return len(rest) >= 2 and rest[1].startswith("-") and _kindle_kind(rest[1]) is not None


def _kindle_kind(details: str) -> str | None:
    low = details.lower()
    if not low.lstrip().startswith("-"):
        return None
    for kind, words in _KINDLE_KIND.items():
        if any(w in low for w in words):
            return kind
    return None


def _kindle_title(line: str) -> tuple[str, str | None]:
    m = re.fullmatch(r"(.*?)\s*\(([^()]*)\)\s*", line)
    if m and m.group(1):
        return m.group(1).strip(), m.group(2).strip() or None
    return line.strip() or "Untitled book", None


def _kindle_date(details: str) -> str | None:
    """When an English Kindle says the clipping was added (local time, as it says)."""
    m = re.search(r"Added on (.+)$", details)
    if not m:
        return None
    try:
        when = dt.datetime.strptime(m.group(1).strip(), "%A, %B %d, %Y %I:%M:%S %p")
    except ValueError:
        return None
    return when.isoformat(timespec="seconds")


def _iso(value: object) -> str | None:
    """A date and time another tool wrote, as ISO 8601, or None if it is not one."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.isoformat(timespec="seconds")


# Python's csv module refuses a field longer than this by default; a longer one is
# reported, as no highlight is that long.
CSV_FIELD_LIMIT = 131_072


def read_readwise(path: Path) -> Read:
    """Rows of Readwise's CSV export (Highlight, Book Title, Book Author, URL, Note, ...).

    A row the CSV reader cannot read (a quote that opens a field and never closes
    it, a field over CSV_FIELD_LIMIT characters) is reported with its line, and
    reading goes on with the next line."""
    lines = list(io.StringIO(_text(path), newline=""))
    header = next(csv.reader(lines[:1]), [])
    if "Highlight" not in header:
        raise KnowflowError(f"{path}: not a Readwise export (no 'Highlight' column)")
    quotes: list[Quote] = []
    failures: list[Failure] = []
    for line, fields, problem in _csv_rows(lines, 1, len(header)):
        where = f"{path.name}:{line}"
        if problem:
            failures.append((where, problem))
            continue
        row = dict(zip(header, fields, strict=False))
        quote = _readwise_quote(row, where)
        if quote is None:
            failures.append((where, "a highlight needs its text and a title"))
        else:
            quotes.append(quote)
    return Read(quotes, failures, [])


def _readwise_quote(row: dict[str, str], where: str) -> Quote | None:
    text = (row.get("Highlight") or "").strip()
    title = (row.get("Book Title") or "").strip()
    if not text or not title:
        return None
    url = (row.get("Highlight URL") or row.get("URL") or "").strip() or None
    author = (row.get("Book Author") or "").strip() or None
    return Quote(
        f"readwise:{title}\x00{author or ''}",
        title,
        author,
        url,
        text,
        (row.get("Note") or "").strip() or None,
        where,
        exact=row.get("Highlight"),
        created=_iso(row.get("Highlighted at")),
    )


def _csv_rows(lines: list[str], first: int, width: int) -> list[tuple[int, list[str], str | None]]:
    """(line number, fields, problem) of each row from ``lines[first:]``."""
    rows: list[tuple[int, list[str], str | None]] = []
    limit = csv.field_size_limit()
    csv.field_size_limit(2**31 - 1)  # read long fields whole, to say how long, and go on
    try:
        while first < len(lines):
            first = _csv_run(lines, first, width, rows)
    finally:
        csv.field_size_limit(limit)
    return rows


def _csv_run(
    lines: list[str], first: int, width: int, rows: list[tuple[int, list[str], str | None]]
) -> int:
    """Read rows from ``lines[first:]`` until the end or a row that cannot be read;
    where to start again (the line after that row's first)."""
    reader = csv.reader(lines[first:], strict=True)
    while True:
        start = first + reader.line_num  # index of the row's first line
        try:
            fields = next(reader)
        except StopIteration:
            return len(lines)
        except csv.Error as exc:
            # Most often a quote that opens a field and never closes (the next quote in
            # the file closes it, or none does): the next line starts a row.
            rows.append((start + 1, [], f"not readable as CSV: {_csv_error(exc)}"))
            return start + 1
        if not any(f.strip() for f in fields):
            continue  # a blank line
        rows.append((start + 1, fields, _csv_problem(fields, width)))


def _csv_error(exc: csv.Error) -> str:
    """What the csv module's message means, in words."""
    if "end of data" in str(exc):
        return "a quoted field never closes"
    if "expected after" in str(exc):
        return "a quote closes a field in the middle of it (is a quote before it unclosed?)"
    return str(exc)


def _csv_problem(fields: list[str], width: int) -> str | None:
    long = max((len(f) for f in fields), default=0)
    if long > CSV_FIELD_LIMIT:
        return f"a field of {long:,} characters, over the {CSV_FIELD_LIMIT:,} allowed"
    if len(fields) != width:
        # Read out of step (after a broken row) or written so: not a row to trust.
        return f"{len(fields)} fields where the header has {width}"
    return None


def read_hypothesis(path: Path) -> Read:
    """Annotations as Hypothesis's API returns them; the quote is the TextQuoteSelector's.
    Each annotation of an unexpected shape is reported with its position."""
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise KnowflowError(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from None
    except RecursionError:
        raise KnowflowError(f"{path}: not an export (arrays or objects nested too deep)") from None
    rows = _hypothesis_rows(path, data)
    quotes: list[Quote] = []
    failures: list[Failure] = []
    for n, row in enumerate(rows, 1):
        where = f"{path.name}: annotation {n}"
        if isinstance(row, dict) and isinstance(row.get("id"), str):
            where += f" (id {plain_text(row['id'])[:40]})"
        try:
            quote = _hypothesis_quote(row, where)
        except ValueError as exc:
            failures.append((where, str(exc)))
            continue
        if quote is not None:
            quotes.append(quote)
    return Read(quotes, failures, [])


def _hypothesis_rows(path: Path, data: object) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("rows", "annotations", "items"):
            if isinstance(data.get(key), list):
                return data[key]  # type: ignore[no-any-return]
        if "uri" in data or "target" in data:
            return [data]  # a single annotation
    raise KnowflowError(
        f"{path}: expected a list of annotations, or an object with 'rows' or"
        f" 'annotations' holding one (found {_shape(data)})"
    )


def _shape(value: object) -> str:
    """What a JSON value is, in words."""
    if isinstance(value, bool):
        return "true or false"
    kinds = {dict: "an object", list: "a list", str: "text", int: "a number", float: "a number"}
    return kinds.get(type(value), "nothing")


def _hypothesis_quote(row: object, where: str) -> Quote | None:
    """The quote of one annotation; ValueError saying what is wrong with its shape."""
    if not isinstance(row, dict):
        raise ValueError(f"an annotation is an object, not {_shape(row)}")
    targets = _list_of_objects(row.get("target"), "target")
    uri = row.get("uri") or next((t.get("source") for t in targets if t.get("source")), None)
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError("an annotation needs a 'uri' (text)")
    comment = _optional_text(row, "text")
    document = row.get("document")
    if document is not None and not isinstance(document, dict):
        raise ValueError(f"its 'document' is {_shape(document)}, not an object")
    titles = (document or {}).get("title") or [uri]
    title = titles[0] if isinstance(titles, list) and titles else titles
    if not isinstance(title, str):
        raise ValueError(f"its document's 'title' is {_shape(title)}, not text")
    selector = _quote_selector(targets)
    exact = selector.get("exact") if selector else None
    if not (exact and exact.strip()) and not (comment and comment.strip()):
        raise ValueError("neither a quote nor a comment")
    quote = exact.strip() if exact and exact.strip() else (comment or "").strip()
    return Quote(
        f"hypothesis:{uri}",
        title,
        None,
        uri,
        quote,
        comment.strip() or None if comment and exact and exact.strip() else None,
        where,
        exact if exact and exact.strip() else None,
        selector.get("prefix") if selector else None,
        selector.get("suffix") if selector else None,
        _iso(row.get("created")),
    )


def _optional_text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"its {key!r} is {_shape(value)}, not text")
    return value


def _list_of_objects(value: object, name: str) -> list[dict[str, Any]]:
    """A target or selector list; one object stands for a list of one, as the Web
    Annotation model allows."""
    if value is None:
        return []
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        raise ValueError(f"a {name} is {_shape(items)}, not an object")
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(f"a {name} is {_shape(item)}, not an object")
    return items


def _quote_selector(targets: list[dict[str, Any]]) -> dict[str, str] | None:
    for target in targets:
        for selector in _list_of_objects(target.get("selector"), "selector"):
            if selector.get("type") != "TextQuoteSelector":
                continue
            fields = {k: selector.get(k) for k in ("exact", "prefix", "suffix")}
            for key, value in fields.items():
                if value is not None and not isinstance(value, str):
                    raise ValueError(f"its selector's {key!r} is {_shape(value)}, not text")
            if fields["exact"]:
                return {k: v for k, v in fields.items() if v is not None}
    return None
