"""YAML front matter: split it from the body, parse it safely, read its known keys.

Front matter is the block between a first line ``---`` and the next line
``---`` (or ``...``), as in Obsidian. A block that never closes is body text.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

try:  # libyaml's loader is many times faster; pure Python is the fallback
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader
try:  # libyaml's emitter is several times faster: bulk imports write thousands of notes
    _Dumper: type[yaml.SafeDumper] = yaml.CSafeDumper  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Dumper = yaml.SafeDumper

# An alias-heavy document can describe an enormous structure in a few lines
# (the "billion laughs" of YAML); anything larger than this is refused.
MAX_EXPANDED_NODES = 20_000

# A first line "---" (after a byte order mark, if the file has one) opens front
# matter; a line "---" or "..." closes it. Lines may end as Windows ("\r\n"), Unix
# ("\n") or old Macs ("\r") end them: the index, the site and `share` all read a note
# through these two expressions, so none of them can see a `share:` another misses.
BOM = "\ufeff"
_OPEN = re.compile(r"\ufeff?---[ \t]*(?:\r\n?|\n)")
_CLOSE = re.compile(r"(?<=[\r\n])(?:---|\.\.\.)[ \t]*(?=[\r\n]|\Z)")


@dataclass(slots=True)
class FrontMatter:
    """Parsed front matter and where it sits in the file."""

    data: dict[str, Any] = field(default_factory=dict)
    body_start: int = 0  # offset in the text where the body begins
    body_line: int = 1  # 1-based line number of the body's first line
    error: str | None = None
    error_line: int | None = None


class Span(NamedTuple):
    """Where front matter sits in a note's text: its YAML is ``text[start:end]``."""

    start: int
    end: int
    body_start: int


def front_matter_span(text: str) -> Span | None:
    """Where the front matter of a note's text is, or None when it has none."""
    opening = _OPEN.match(text)
    if not opening:
        return None
    closing = _CLOSE.search(text, opening.end() - 1)
    if not closing or closing.start() < opening.end():
        return None
    end = closing.end()
    if text.startswith("\r\n", end):
        end += 2
    elif text.startswith(("\n", "\r"), end):
        end += 1
    return Span(opening.end(), closing.start(), end)


def split_front_matter(text: str) -> tuple[str | None, int, int]:
    """Return (yaml_text or None, body offset, body first line)."""
    span = front_matter_span(text)
    if span is None:
        return None, len(BOM) if text.startswith(BOM) else 0, 1
    head = text[: span.body_start]
    breaks = head.count("\n") + head.count("\r") - head.count("\r\n")
    return text[span.start : span.end], span.body_start, breaks + 1


def parse_front_matter(text: str) -> FrontMatter:
    """Parse the front matter of a note's text, never raising on bad YAML."""
    yaml_text, body_start, body_line = split_front_matter(text)
    fm = FrontMatter(body_start=body_start, body_line=body_line)
    if yaml_text is None or not yaml_text.strip():
        return fm
    simple = parse_simple(yaml_text)
    if simple is not None:
        fm.data = simple
        return fm
    try:
        data = yaml.load(yaml_text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        fm.error_line = 2 + mark.line if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        fm.error = f"invalid YAML: {problem}"
        return fm
    if data is None:
        return fm
    if not isinstance(data, dict):
        fm.error = f"front matter is a {_yaml_kind(data)}, not a mapping of keys to values"
        fm.error_line = 1
        return fm
    if ("&" in yaml_text or "*" in yaml_text) and not _small_enough(data):
        fm.error = "front matter aliases expand to too large a structure (or refer to themselves)"
        fm.error_line = 1
        return fm
    fm.data = {str(k): _plain(v) for k, v in data.items()}
    return fm


# Most front matter is a few `key: value` lines. Those whose every value is a
# plain word-like string, a whole number, a date or a list of plain strings
# are read here, giving exactly what YAML gives; anything else goes to YAML.
_PLAIN = r"[^\W\d_][\w ./-]*?"
_SIMPLE_LINE = re.compile(
    rf"(?P<key>{_PLAIN}):(?:[ \t]+(?:(?P<plain>{_PLAIN})|(?P<int>0|-?[1-9][0-9]{{0,17}})"
    rf"|(?P<date>[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})|\[(?P<flow>[^\]\[{{}}]*)\]))?[ \t]*"
)
_ITEM = re.compile(rf"[ \t]*- +(?P<item>{_PLAIN})[ \t]*")
_FLOW_ITEM = re.compile(rf"[ \t]*(?P<item>{_PLAIN})[ \t]*")
_NOT_PLAIN = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})


def parse_datetime(value: Any) -> dt.datetime | None:
    """A date or time as front matter and feeds write it (``2026-11-27``,
    ``2026-11-27T10:00:00Z``, with or without an offset) in UTC; None if it is not one."""
    if value is None:
        return None
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        text += "T00:00:00+00:00"
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def dump_front_matter(data: dict[str, Any]) -> str:
    """Front matter as YAML, keys in the order given, without the ``---`` fences."""
    text: str = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    return text.strip()


def parse_simple(yaml_text: str) -> dict[str, Any] | None:
    """Front matter in the simple shapes above, or None to let YAML read it."""
    data: dict[str, Any] = {}
    list_key = None  # a key with no value yet, which `- item` lines may follow
    for line in yaml_text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if list_key is not None and (item := _ITEM.fullmatch(line)):
            if not _plain_ok(item.group("item")):
                return None
            data[list_key] = [*(data[list_key] or []), item.group("item").rstrip()]
            continue
        m = _SIMPLE_LINE.fullmatch(line)
        if not m or not _plain_ok(m.group("key")):
            return None
        value = _simple_value(m)
        if value is _UNREADABLE:
            return None
        key = m.group("key").rstrip()
        data[key] = value
        list_key = key if value is None else None
    return data


_UNREADABLE = object()


def _simple_value(m: re.Match[str]) -> Any:
    if m.group("plain") is not None:
        plain = m.group("plain").rstrip()
        return plain if _plain_ok(plain) else _UNREADABLE
    if m.group("int") is not None:
        return int(m.group("int"))
    if m.group("date") is not None:
        try:
            return dt.date.fromisoformat(m.group("date")).isoformat()
        except ValueError:
            return _UNREADABLE
    if m.group("flow") is not None:
        flow = m.group("flow")
        if not flow.strip():
            return []
        parts = [_FLOW_ITEM.fullmatch(p) for p in flow.split(",")]
        if not all(parts) or not all(_plain_ok(p.group("item")) for p in parts if p):
            return _UNREADABLE
        return [p.group("item").rstrip() for p in parts if p]
    return None


def _plain_ok(text: str) -> bool:
    """A plain scalar YAML would read as this same string."""
    return text.strip().lower() not in _NOT_PLAIN and " #" not in text


def _yaml_kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    return "single value"


def _small_enough(value: object) -> bool:
    """Count nodes as if aliases were expanded; False if too many or cyclic."""
    budget = [MAX_EXPANDED_NODES]
    on_path: set[int] = set()

    def visit(node: object) -> bool:
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if isinstance(node, dict | list):
            if id(node) in on_path:
                return False
            on_path.add(id(node))
            items = list(node.keys()) + list(node.values()) if isinstance(node, dict) else node
            ok = all(visit(child) for child in items)
            on_path.discard(id(node))
            return ok
        return True

    return visit(value)


def _plain(value: Any) -> Any:
    """Make a YAML value JSON-friendly: dates become ISO strings, keys strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def string_list(value: Any, *, split: str | None = ",") -> list[str]:
    """Read a front-matter value that may be a list or a delimited string."""
    if value is None:
        return []
    if isinstance(value, list):
        items = [str(v) for v in value if v is not None and not isinstance(v, dict | list)]
    elif isinstance(value, dict):
        return []
    else:
        text = str(value)
        items = text.split(split) if split else [text]
    return [s.strip() for s in items if s.strip()]


def front_matter_tags(data: dict[str, Any]) -> list[str]:
    """Tags from ``tags`` (or the older ``tag``): a list, or a string split on commas or spaces."""
    raw = data.get("tags", data.get("tag"))
    parts = re.split(r"[,\s]+", raw) if isinstance(raw, str) else string_list(raw)
    return [p.lstrip("#") for p in parts if p.strip().lstrip("#")]


def front_matter_aliases(data: dict[str, Any]) -> list[str]:
    """Aliases from ``aliases`` (or ``alias``): a list, or a comma-separated string."""
    return string_list(data.get("aliases", data.get("alias")))
