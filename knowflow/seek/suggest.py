"""Suggesting new sources: sites your sources link to that you do not follow yet.

Sites are ranked by how many of your sources point to them. Each suggestion
carries the network kind of the sources that point there, and is marked when
following it would strengthen a kind you have few sources of: diversity is
part of seeking well, not only more of the same.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from knowflow.seek.sources import KINDS

_HREF = re.compile(r"""href\s*=\s*["'](https?://[^"'#]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Suggestion:
    site: str  # host name
    sources: int  # distinct sources linking there
    links: int
    example: str
    kind: str  # the kind most of the linking sources have
    widens: bool  # following it would add to a kind you have few sources of

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def host(url: str) -> str:
    name = urlsplit(url).netloc.lower().rsplit("@", 1)[-1].split(":")[0]
    return name.removeprefix("www.")


def suggest(conn: sqlite3.Connection, limit: int = 20) -> list[Suggestion]:
    """Sites linked from the stream, not followed, most widely linked first."""
    followed = set()
    kinds: Counter[str] = Counter()
    for url, site, kind in conn.execute("SELECT url, site_url, kind FROM sources"):
        followed.add(host(url))
        if site:
            followed.add(host(site))
        kinds[kind] += 1
    linkers: dict[str, set[int]] = defaultdict(set)
    linker_kinds: dict[str, Counter[str]] = defaultdict(Counter)
    counts: Counter[str] = Counter()
    examples: dict[str, str] = {}
    rows = conn.execute(
        "SELECT e.source_id, s.kind, e.html FROM entries e JOIN sources s ON s.id = e.source_id"
    )
    for source_id, kind, html in rows:
        for url in _HREF.findall(html or ""):
            name = host(url)
            if not name or name in followed:
                continue
            counts[name] += 1
            examples.setdefault(name, url)
            if source_id not in linkers[name]:
                linkers[name].add(source_id)
                linker_kinds[name][kind] += 1
    fewest = min(kinds[k] for k in KINDS) if kinds else 0
    ranked = sorted(counts, key=lambda n: (-len(linkers[n]), -counts[n], n))[:limit]
    found = []
    for name in ranked:
        kind = linker_kinds[name].most_common(1)[0][0]
        found.append(
            Suggestion(
                name,
                len(linkers[name]),
                counts[name],
                examples[name],
                kind,
                widens=kinds[kind] <= fewest,
            )
        )
    return found
