"""Seek indicators, from the activity log: entries read and kept, pages captured,
imports, sources by network kind, how diverse the kept items' sources and domains
are, and sources read often but rarely kept from."""

from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict

from knowflow.practice.series import KINDS, Bins, Indicator, domain_of, evenness, indicator

READ_OFTEN = 5  # entries read from a source before its rarely kept items say something
# Seek events by bucket ({bucket}: a CASE naming each bucket's start), action and
# source; then kept items by bucket and the host of their address (a kept entry's
# link, a captured page's url): what it holds between :// and a /. An import (of
# bookmarks, of highlights) counts the items it added, under the importer's name.
_SEEK_SQL = """
WITH a AS MATERIALIZED (
    SELECT {bucket} AS b, action,
        CASE WHEN action LIKE '%\\_imported' ESCAPE '\\' THEN subject
            ELSE json_extract(detail, '$.source') END AS source,
        CASE WHEN action = 'entries_seen' THEN json_extract(detail, '$.count')
            WHEN action LIKE '%\\_imported' ESCAPE '\\' THEN json_extract(detail, '$.added')
        END AS n,
        CASE action
            WHEN 'entry_kept' THEN (SELECT link FROM entries
                WHERE id = json_extract(detail, '$.entry'))
            WHEN 'page_captured' THEN json_extract(detail, '$.url')
        END AS address
    FROM activity
    WHERE at >= ? AND at < ? AND (action IN
        ('entry_seen', 'entries_seen', 'entry_kept', 'page_captured', 'source_added')
        OR (action LIKE '%\\_imported' ESCAPE '\\' AND action != 'opml_imported'))
), h AS (
    SELECT b, CASE WHEN instr(address, '://') THEN substr(address, instr(address, '://') + 3)
        END AS rest
    FROM a WHERE address IS NOT NULL
)
SELECT 0, b, action, source, sum(n), count(*), NULL FROM a GROUP BY b, action, source
UNION ALL
SELECT 1, b, NULL, NULL, NULL, count(*),
    CASE WHEN instr(rest, '/') THEN substr(rest, 1, instr(rest, '/') - 1) ELSE rest END AS host
FROM h WHERE rest IS NOT NULL GROUP BY b, host
"""


def seek_indicators(
    conn: sqlite3.Connection, bins: Bins, kinds: dict[str, str]
) -> tuple[list[Indicator], dict[str, list[float]], list[float]]:
    read, kept, new = bins.counter(), bins.counter(), bins.counter()
    by_source: list[Counter[str]] = [Counter() for _ in range(bins.n)]
    by_domain: list[Counter[str]] = [Counter() for _ in range(bins.n)]
    all_sources: Counter[str] = Counter()
    all_domains: Counter[str] = Counter()
    reads_of: Counter[str] = Counter()
    kept_of: Counter[str] = Counter()
    kept_kind: dict[str, list[float]] = defaultdict(bins.counter)
    # Grouped by bucket in SQLite: a year of events comes to Python as a few
    # thousand rows.
    bucket = " ".join(f"WHEN at >= ? THEN {b}" for b in range(bins.n - 1, 0, -1))
    sql = _SEEK_SQL.format(bucket=f"CASE {bucket} ELSE 0 END" if bucket else "0")
    rows = conn.execute(sql, (*reversed(bins.keys[1:]), bins.keys[0], bins.end))
    for part, b, action, source, count, items, host in rows:
        if part == 1:
            if domain := domain_of(host):
                by_domain[b][domain] += items
                all_domains[domain] += items
        elif action == "entry_seen" or action == "entries_seen":
            n = int(count or items)
            read[b] += n
            if source:
                reads_of[str(source)] += n
        elif action == "source_added":
            new[b] += items
        else:
            imported = str(action).endswith("_imported")
            n = int(count or 0) if imported else items
            if not n:
                continue
            kept[b] += n
            if imported:
                name = f"(imported: {source})"
            else:
                name = str(source) if source else "(captured pages)"
            by_source[b][name] += n
            all_sources[name] += n
            if source and not imported:
                kept_of[name] += n
            kind = kinds.get(name.casefold(), "captured") if source else "captured"
            kept_kind[kind][b] += n
    followed = {k: bins.counter() for k in KINDS}
    for added, kind in conn.execute("SELECT added_at, kind FROM sources"):
        for b in range(bins.n):
            if added < (bins.keys[b + 1] if b + 1 < bins.n else bins.end):
                followed[kind][b] += 1
    quiet = sorted(
        (n for n, r in reads_of.items() if r >= READ_OFTEN and kept_of[n] * 10 <= r),
        key=lambda n: (-reads_of[n], n.casefold()),
    )
    indicators = [
        *(
            indicator(
                f"sources_{k}",
                f"{k} sources followed",
                list(followed[k]),
                followed[k][-1],
                measure="now",
                about="how many were followed at the end of each bucket",
            )
            for k in KINDS
        ),
        indicator("new_sources", "new sources", list(new), sum(new)),
        indicator("entries_read", "entries read", list(read), sum(read)),
        indicator(
            "entries_kept",
            "entries kept, pages captured or imported",
            list(kept),
            sum(kept),
            about="from the stream, captured from the web, or brought in by an import",
        ),
        indicator(
            "source_evenness",
            "how evenly kept items come from their sources",
            [evenness(c) for c in by_source],
            evenness(all_sources),
            about="Shannon evenness, 0 to 1: 1 when each source gives as many;"
            " — when nothing was kept",
            measure="whole",
        ),
        indicator(
            "domain_evenness",
            "how evenly kept items come from their sites",
            [evenness(c) for c in by_domain],
            evenness(all_domains),
            about="Shannon evenness of the kept items' web domains, 0 to 1;"
            " — when nothing kept has an address",
            measure="whole",
        ),
        Indicator(
            "read_not_kept",
            "sources read often, rarely kept from",
            [],
            len(quiet),
            "none",
            quiet[:10],
            "perhaps a view unlike your usual ones: read at least"
            f" {READ_OFTEN} times, kept from once in ten or less",
            "now",
        ),
    ]
    return indicators, dict(kept_kind), kept
