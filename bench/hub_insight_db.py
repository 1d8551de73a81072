"""The directory and the flow map over what a benchmarked hub holds, computed in this
process by knowflow.hub.insight and knowflow.hub.flow: what bench/hub.py times when the
hub does not serve them yet. Reading the artifacts out of the database is timed too,
since a server would have to do it (or keep them)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import text

from knowflow.hub.db import open_engine
from knowflow.hub.flow import flow_json, flow_map, flow_svg
from knowflow.hub.insight import Artifact, Visible, directory, visible_to, who_knows

T = TypeVar("T")
_ALL = (
    "SELECT m.name AS author, au.name AS audience, au.kind, f.title, f.markdown, f.tags,"
    " f.shared_at FROM artifacts f JOIN members m ON m.id = f.author_id"
    " JOIN audiences au ON au.id = f.audience_id"
)


def _timed(rows: list[tuple[str, str]], label: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = work()
    rows.append((label, f"{time.perf_counter() - started:.3f} s"))
    return result


def _artifacts(db: str) -> list[Artifact]:
    engine = open_engine(db)
    try:
        with engine.connect() as conn:
            return [
                Artifact(row.author, row.audience, row.kind, row.title, row.markdown,
                         tuple(json.loads(row.tags)), dt.datetime.fromisoformat(row.shared_at))
                for row in conn.execute(text(_ALL))
            ]  # fmt: skip
    finally:
        engine.dispose()


def insight_in_process(db: str, org: Any, readers: list[Any]) -> list[tuple[str, str]]:
    """Timings, as (label, value) rows, for each reader's view of the hub."""
    rows: list[tuple[str, str]] = []
    every = _timed(rows, "  read every artifact from the database", lambda: _artifacts(db))
    public = [name for name, kind in org.kinds.items() if kind == "public"]
    for reader in readers:
        view = visible_to(every, [*reader.audiences, *public])
        rows.append((f"  as {reader.name} ({len(view.audiences)} audiences, "
                     f"{len(view.artifacts):,} artifacts)", ""))  # fmt: skip
        rows += _one_view(view, reader.tags[0])
    return rows


def _one_view(view: Visible, topic: str) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    people = _timed(rows, "    directory (builds the TF-IDF analysis)", lambda: directory(view))
    _timed(rows, "    directory again (analysis kept)", lambda: directory(view))
    _timed(rows, f"    who_knows {topic!r}", lambda: who_knows(view, topic))
    flow = _timed(rows, "    flow map (betweenness, travelled topics)", lambda: flow_map(view))
    _timed(rows, "    flow JSON", lambda: json.dumps(flow_json(flow)))
    _timed(rows, "    flow SVG", lambda: flow_svg(flow))
    rows.append((f"    = {len(people)} people, {len(flow.bridgers())} bridgers,"
                 f" {len(flow.travelled)} travelled topics", ""))  # fmt: skip
    return rows


def search_in_process(db: str, tokens: list[str], queries: list[str], count: int = 300
                      ) -> list[float]:  # fmt: skip
    """Seconds of each of ``count`` searches through knowflow.hub.read.search, one after
    another in this process, as random members: the database's share of a search,
    without HTTP, the server or other clients."""
    import random

    from knowflow.hub import admin, read

    engine = open_engine(db)
    try:
        members = [admin.authenticate(engine, token) for token in tokens]
        rng = random.Random(0)
        took = []
        for _ in range(count):
            reader, words = rng.choice(members), rng.choice(queries)
            started = time.perf_counter()
            read.search(engine, reader, words)
            took.append(time.perf_counter() - started)
        return took
    finally:
        engine.dispose()
