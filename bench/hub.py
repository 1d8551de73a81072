"""The hub at an organization's size (issue 11, "Performance"), on SQLite and PostgreSQL.

    python bench/hub.py [--backend sqlite|postgresql|both] [--members 100] [--notes 1000]
                        [--seconds 30] [--clients 32]

On each backend (an SQLite file in bench/out/, or a fresh PostgreSQL database on
127.0.0.1:5432, user postgres, created here and dropped after), with the hub served by
``knowflow hub serve`` in a process of its own:

1. members, audiences (teams, communities, a public one) and memberships, generated
   (bench/hub_data.py: seeded; titles, a few paragraphs, tags);
2. each member pushes their notes, one member after another, through the real client
   (``knowflow.hub.client.HubClient``, asking for held hashes first as ``knowflow push``
   does): the total time, and p50/p95 of one member's push;
3. a second push per member with 1% of the notes changed (target: <= 1 s for 1,000);
4. concurrent clients (processes of threads) searching as random members for random
   words: requests/s and p50/p95/p99 (target p95 <= 50 ms on PostgreSQL at 100,000);
   then a shorter run of the commonest words, the most ranking a query can ask for;
5. un-share: a member pushes without one note; a search right after the push returns
   must not find it (and before, a member outside its audience must not have found it);
6. the directory and the flow map: through ``GET /api/directory`` and ``GET /api/flow``
   when the hub has them, else knowflow.hub.insight and flow run here on the artifacts
   the hub holds (the output says which).

The machine's load average is printed with each table: other work on it is noise.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hub_data import Org, bundle, changed, marker, notes_of, organization, query
from hub_insight_db import insight_in_process, search_in_process
from hub_load import Served, get, hub_process, push, search, search_load

from knowflow.hub import admin
from knowflow.hub.db import open_engine

OUT = Path(__file__).resolve().parent / "out"
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
UNSHARES = 5  # members who each un-share one note in step 5


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min; {os.cpu_count()} CPUs)"


@contextlib.contextmanager
def database(backend: str, keep: bool) -> Iterator[str]:
    """A fresh, empty database on backend; dropped (PostgreSQL) or removed after."""
    if backend == "sqlite":
        path = OUT / "hub-bench.db"
        for old in OUT.glob("hub-bench.db*"):
            old.unlink()
        yield str(path)
        if not keep:
            for old in OUT.glob("hub-bench.db*"):
                old.unlink()
        return
    import psycopg

    name = f"kf_hub_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        if not keep:
            with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def set_up(db: str, org: Org) -> tuple[float, str]:
    """Members with their tokens, audiences and memberships; seconds, and the server's
    version."""
    started = time.perf_counter()
    engine = open_engine(db)
    try:
        admin.init(engine)
        for name, kind in org.kinds.items():
            admin.add_audience(engine, name, kind, name.replace("-", " ").title())
        for member in org.members:
            member.token = admin.add_member(engine, member.name)
            for audience in member.audiences:
                # the first member of each community stewards it
                first = org.readers_of(audience)[0] is member
                admin.add_to(engine, audience, member.name, steward=first and "comm" in audience)
        with engine.connect() as conn:
            sqlite = engine.dialect.name == "sqlite"
            asked = "SELECT sqlite_version()" if sqlite else "SHOW server_version"
            version = str(conn.exec_driver_sql(asked).scalar())
    finally:
        engine.dispose()
    return time.perf_counter() - started, version


def bundles_of(org: Org, member: Any, notes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [bundle(org, member, audience, group) for audience, group in sorted(notes.items())]


def analyze(db: str) -> None:
    """Fresh planner statistics: an organization's PostgreSQL keeps them with
    autovacuum, which this machine's cluster has off; SQLite's search needs none."""
    if not db.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(db.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE artifacts"))
    engine.dispose()


def push_all(address: str, org: Org, count: int, second: bool) -> dict[str, Any]:
    """Every member's push, one after another; the second with 1% of notes changed."""
    per_member: list[float] = []
    per_request: list[float] = []
    counts: dict[str, int] = {}
    started = time.perf_counter()
    for member in org.members:
        notes = notes_of(org, member, count)
        if second:
            changed(org, member, notes)
        done = push(address, member.token, bundles_of(org, member, notes))
        per_member.append(done.seconds)
        per_request += done.requests
        for key, value in done.counts.items():
            counts[key] = counts.get(key, 0) + value
    total = time.perf_counter() - started
    return {"total_s": total, "per_member": per_member, "per_request": per_request,
            "counts": counts}  # fmt: skip


def unshare(address: str, org: Org, count: int) -> dict[str, Any]:
    """Members push without their planted note; a search right after must miss it."""
    trials = []
    for member in org.members[:UNSHARES]:
        team = member.audiences[0]
        readers = [m for m in org.readers_of(team) if m is not member] or [member]
        outsiders = [m for m in org.members if m not in org.readers_of(team)]
        word, note_id = marker(member.index), f"{member.name}-00000"
        before = [h["id"] for h in search(address, readers[0].token, word)]
        leaked = sum(len(search(address, o.token, word)) for o in outsiders[:3])
        notes = notes_of(org, member, count)
        changed(org, member, notes)  # the state the hub holds after the second push
        notes[team] = [n for n in notes[team] if n["id"] != note_id]
        done = push(address, member.token, bundles_of(org, member, notes))
        returned = time.perf_counter()
        after = [search(address, m.token, word) for m in (readers[0], member)]
        still = sum(len(hits) for hits in after)
        gone_after = 0.0
        while still and time.perf_counter() - returned < 30:
            still = len(search(address, readers[0].token, word))
            gone_after = time.perf_counter() - returned
        trials.append({"found_before": before == [note_id], "outsider_hits": leaked,
                       "push_s": done.seconds, "removed": done.counts.get("removed", 0),
                       "found_after_return": bool(sum(len(h) for h in after)),
                       "gone_after_s": gone_after if still == 0 else None})  # fmt: skip
    return {"trials": trials}


def readers(org: Org) -> list[Any]:
    """The member in the most audiences (the largest view), and one in the fewest."""
    ranked = sorted(org.members, key=lambda m: (len(m.audiences), m.index))
    return [ranked[-1], ranked[0]] if len(ranked) > 1 else ranked


INSIGHT = ("/api/directory", "/api/flow", "/api/flow.svg")


def insight(address: str, db: str, org: Org) -> dict[str, Any]:
    """Directory, who-knows and the flow map through the API when the hub has them
    (each twice: a hub may keep what the first call computed); else in-process."""
    rows: list[tuple[str, str]] = []
    for member in readers(org):
        label = f"as {member.name} ({len(member.audiences) + 1} audiences)"
        rows.append((label, ""))
        topic = member.tags[0]
        for path in (*INSIGHT, f"/api/who-knows?q={topic}"):
            for attempt in ("first", "again"):
                got, seconds, size = get(address, member.token, path)
                if got == 404 and path == "/api/directory":
                    return {"how": "in-process (the hub has no /api/directory)",
                            "rows": insight_in_process(db, org, readers(org))}  # fmt: skip
                rows.append((f"  GET {path}, {attempt}",
                             f"{seconds:.3f} s ({got}, {size // 1024:,} KiB)"))  # fmt: skip
    return {"how": "through the API", "rows": rows}


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    org = organization(args.members, args.seed)
    report: dict[str, Any] = {"backend": backend, "members": args.members, "notes": args.notes,
                              "load_start": load_average(),
                              "server": "knowflow hub serve"}  # fmt: skip
    with database(backend, args.keep) as db:
        report["setup_s"], report["version"] = set_up(db, org)
        with hub_process(db, OUT / f"hub-{backend}.log") as served:
            address = served.address
            step("first push", backend)
            report["first"] = push_all(address, org, args.notes, second=False)
            step("second push (1% changed)", backend)
            report["second"] = push_all(address, org, args.notes, second=True)
            analyze(db)  # as autovacuum would have by now on a running hub (it is off here)
            report |= search_phases(served, db, org, args, backend)
            step("un-share", backend)
            report["unshare"] = unshare(address, org, args.notes)
            step("directory and flow map", backend)
            report["insight"] = insight(address, db, org)
    report["load_end"] = load_average()
    return report


def search_phases(served: Served, db: str, org: Org, args: argparse.Namespace, backend: str
                  ) -> dict[str, Any]:  # fmt: skip
    """Many clients, random words; one client alone (what a search costs without
    queueing); many clients, the commonest words."""
    rng = random.Random(args.seed)
    tokens = [m.token for m in org.members]
    words = [query(org, rng) for _ in range(5000)]
    common = [query(org, rng, common=True) for _ in range(200)]
    found: dict[str, Any] = {}
    step(f"search: {args.clients} clients for {args.seconds:g} s", backend)
    found["search"] = searched(served, tokens, words, args.clients, args)
    found["load_search"] = load_average()
    step("search: one client alone", backend)
    found["alone"] = searched(served, tokens, words, 1, args, args.seconds / 3)
    step("search: the commonest words", backend)
    found["common"] = searched(served, tokens, common, args.clients, args, args.seconds / 3)
    step("search: in this process, no HTTP", backend)
    found["direct"] = search_in_process(db, tokens, words)
    found["direct_common"] = search_in_process(db, tokens, common, 100)
    return found


def searched(served: Served, tokens: list[str], words: list[str], clients: int,
             args: argparse.Namespace, seconds: float = 0) -> dict[str, Any]:  # fmt: skip
    """Latencies as the clients saw them, and the hub process's CPU time per request
    (what bounds requests/s on a machine this small)."""
    seconds = max(3.0, seconds or args.seconds)
    cpu = served.cpu_seconds()
    load = search_load(served.address, tokens, words, clients=clients, seconds=seconds,
                       processes=args.processes, seed=args.seed)  # fmt: skip
    lat, cpu = load.latencies, served.cpu_seconds() - cpu
    return {"requests": len(lat), "rps": len(lat) / seconds, "errors": load.errors,
            "hits_per_request": load.hits / max(1, len(lat)), "p50": pct(lat, 50),
            "p95": pct(lat, 95), "p99": pct(lat, 99), "max": max(lat, default=0.0),
            "hub_cpu_per_request": cpu / max(1, len(lat)),
            "hub_cpu_busy": cpu / seconds}  # fmt: skip


def step(what: str, backend: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {backend}: {what}…", file=sys.stderr, flush=True)


def table(report: dict[str, Any], args: argparse.Namespace) -> str:
    first, second, search_, common, alone = (
        report[k] for k in ("first", "second", "search", "common", "alone")
    )
    artifacts = first["counts"].get("added", 0)
    pg = report["backend"] == "postgresql"
    p95_ok = search_["p95"] <= 0.050
    trials = report["unshare"]["trials"]
    gone = sum(1 for t in trials if not t["found_after_return"])
    rows = [
        ("setup: members, audiences, memberships", f"{report['setup_s']:.2f} s"),
        (f"first push, total ({args.members} members one after another)",
         f"{first['total_s']:.1f} s ({artifacts / first['total_s']:,.0f} artifacts/s)"),
        (f"first push per member ({args.notes:,} notes, "
         f"{len(first['per_request']) / len(first['per_member']):.1f} audiences)",
         f"p50 {first_p(first, 50)}  p95 {first_p(first, 95)}"),
        ("  per request (hashes + push of one audience)",
         f"p50 {ms(pct(first['per_request'], 50))}  p95 {ms(pct(first['per_request'], 95))}"),
        (f"second push, 1% changed, per member ({second['counts'].get('updated', 0):,} updated"
         " in all)",
         f"p50 {first_p(second, 50)}  p95 {first_p(second, 95)}  max "
         f"{max(second['per_member']):.3f} s   target <= 1 s: "
         + ("met" if max(second["per_member"]) <= 1 else "MISSED")),
        (f"search: {args.clients} clients x {args.seconds:g} s, random words",
         f"{search_['rps']:,.0f} req/s ({refused(search_)}, "
         f"{search_['hits_per_request']:.1f} hits/req)"),
        ("  latency", f"p50 {ms(search_['p50'])}  p95 {ms(search_['p95'])}  "
                      f"p99 {ms(search_['p99'])}  max {ms(search_['max'])}"
         + (f"   target p95 <= 50 ms: {'met' if p95_ok else 'MISSED'}" if pg else "")),
        ("  the hub process's CPU per request (1 process)",
         f"{ms(search_['hub_cpu_per_request'])} ({search_['hub_cpu_busy']:.2f} CPUs busy)"),
        ("search: 1 client alone, random words (no queueing)",
         f"{alone['rps']:,.0f} req/s  p50 {ms(alone['p50'])}  p95 {ms(alone['p95'])}  "
         f"p99 {ms(alone['p99'])}  (hub CPU {ms(alone['hub_cpu_per_request'])}/req)"),
        (f"search: {args.clients} clients, the 20 commonest words (most ranking)",
         f"{common['rps']:,.0f} req/s  p50 {ms(common['p50'])}  p95 {ms(common['p95'])}  "
         f"p99 {ms(common['p99'])}  ({refused(common)})"),
        ("search in-process (read.search, no HTTP), random words",
         f"p50 {ms(pct(report['direct'], 50))}  p95 {ms(pct(report['direct'], 95))}  "
         f"p99 {ms(pct(report['direct'], 99))}  ({len(report['direct'])} one after another)"),
        ("  the 20 commonest words",
         f"p50 {ms(pct(report['direct_common'], 50))}  p95 {ms(pct(report['direct_common'], 95))}"),
        (f"un-share -> gone from search ({len(trials)} members)",
         f"gone when the push returned: {gone} of {len(trials)}"
         + (" (0 s)" if gone == len(trials) else f"; after {[t['gone_after_s'] for t in trials]}")),
        ("  un-share push per member", f"p50 {pct([t['push_s'] for t in trials], 50):.3f} s"),
        ("  before: found by a teammate / by outsiders",
         f"{sum(t['found_before'] for t in trials)} of {len(trials)} / "
         f"{sum(t['outsider_hits'] for t in trials)} hits (must be 0)"),
        (f"directory and flow map, {report['insight']['how']}", ""),
        *report["insight"]["rows"],
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows) + 2
    head = (
        f"== {report['backend']} {report['version']}: {args.members} members, "
        f"{artifacts:,} artifacts; served by {report['server']} ==\n"
        f"load average: at start {report['load_start']}\n"
        f"              after search {report['load_search']}\n"
    )
    return head + "\n".join(f"{label:<{width}}{value}" for label, value in rows) + "\n"


def refused(phase: dict[str, Any]) -> str:
    """Failed requests by status (429: the hub's rate per token; 0: no answer)."""
    errors = phase["errors"]
    if not errors:
        return "no errors"
    return "errors " + ", ".join(f"{n} x {status}" for status, n in sorted(errors.items()))


def first_p(phase: dict[str, Any], p: float) -> str:
    return f"{pct(phase['per_member'], p):.3f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--notes", type=int, default=1000, help="per member")
    parser.add_argument("--seconds", type=float, default=30, help="of searching")
    parser.add_argument("--clients", type=int, default=32, help="concurrent searchers")
    parser.add_argument("--processes", type=int, default=4, help="that run the searchers")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    if shutil.which("pg_isready") is None and args.backend != "sqlite":
        print("note: pg_isready not found; trying PostgreSQL anyway", file=sys.stderr)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        report = run_backend(backend, args)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = OUT / f"hub-{backend}-{args.members}x{args.notes}-{stamp}.json"
        path.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
        print(table(report, args), flush=True)


if __name__ == "__main__":
    main()
