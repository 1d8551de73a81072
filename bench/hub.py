"""The hub at an organization's size (issue 11, "Performance"), on SQLite and PostgreSQL.

    python bench/hub.py [--backend sqlite|postgresql|both] [--members 100] [--notes 1000]
                        [--seconds 30] [--clients 32] [--loader wrk|python]
                        [--cache both|on|off] [--reuse] [--search-only]

On each backend (an SQLite file in bench/out/, or a fresh PostgreSQL database on
127.0.0.1:5432, user postgres, created here and dropped after; with ``--reuse``, one
kept between runs and built by the first), with the hub served by
``knowflow hub serve`` in a process of its own:

1. members, audiences (teams, communities, a public one) and memberships, generated
   (bench/hub_data.py: seeded; titles, a few paragraphs, tags);
2. each member pushes their notes, one member after another, through the real client
   (``knowflow.hub.client.HubClient``, asking for held hashes first as ``knowflow push``
   does): the total time, and p50/p95 of one member's push;
3. a second push per member with 1% of the notes changed (target: <= 1 s for 1,000);
4. concurrent clients searching, each request as a random member (their own token, so
   their own audiences) for random words: requests/s and p50/p95/p99 (target p95 <=
   50 ms on PostgreSQL at 100,000); one client alone; the commonest words. The clients
   are wrk (bench/hub_wrk.lua: C, one connection per client) when it is installed, else
   (or with ``--loader python``) Python processes of threads; the table says which.
   Each phase runs with the hub's search cache off, then on (``--cache``), each on a
   hub process of its own, and says the cache's hit rate and the CPU each request cost
   the hub, PostgreSQL, the load generator and the rest of the machine;
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
from hub_load import (
    CpuMeter,
    get,
    hub_process,
    push,
    search,
    search_load,
    summarize,
    wrk_load,
)

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
    name = f"kf_hub_bench_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        if not keep:
            _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def kept(backend: str, args: argparse.Namespace) -> tuple[str, Path]:
    """With --reuse: the database kept between runs for these arguments (built by the
    first such run, steps 1-3), and the file of its members' tokens, written once it
    was built whole."""
    label = f"{args.members}x{args.notes}-s{args.seed}"
    tokens = OUT / f"hub-bench-kept-{backend}-{label}.json"
    if backend == "sqlite":
        return str(OUT / f"hub-bench-kept-{label}.db"), tokens
    return f"{PG_SERVER}/kf_hub_bench_kept_{label.replace('-', '_')}", tokens


def fresh_kept(backend: str, db: str, tokens: Path) -> None:
    """An empty database where the kept one will be built (any half-built one gone)."""
    tokens.unlink(missing_ok=True)
    if backend == "sqlite":
        for old in OUT.glob(Path(db).name + "*"):
            old.unlink()
        return
    name = db.rsplit("/", 1)[1]
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')


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


def unshare(address: str, org: Org, count: int, restore: bool = False) -> dict[str, Any]:
    """Members push without their planted note; a search right after must miss it.
    With ``restore`` (a kept database), each then pushes it back."""
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
        if restore:
            notes = notes_of(org, member, count)
            changed(org, member, notes)
            push(address, member.token, bundles_of(org, member, notes))
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
    if args.reuse:
        db, tokens = kept(backend, args)
        if tokens.is_file():
            built = json.loads(tokens.read_text(encoding="utf-8"))
            for member in org.members:
                member.token = built["tokens"][member.name]
            report |= {k: built[k] for k in ("setup_s", "version", "first", "second")}
            report["reused"] = built["built_at"]
            step(f"reusing the database built at {built['built_at']}: {db}", backend)
        else:
            fresh_kept(backend, db, tokens)
            report |= build(backend, db, org, args)
            saved = {k: report[k] for k in ("setup_s", "version", "first", "second")}
            saved |= {"built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
                      "tokens": {m.name: m.token for m in org.members}}  # fmt: skip
            tokens.write_text(json.dumps(saved) + "\n", encoding="utf-8")
            tokens.chmod(0o600)
        report |= served_phases(backend, db, org, args)
    else:
        with database(backend, args.keep) as db:
            report |= build(backend, db, org, args)
            report |= served_phases(backend, db, org, args)
    report["load_end"] = load_average()
    return report


def build(backend: str, db: str, org: Org, args: argparse.Namespace) -> dict[str, Any]:
    """Steps 1-3: members and audiences, the first push, the second (1% changed)."""
    report: dict[str, Any] = {}
    report["setup_s"], report["version"] = set_up(db, org)
    with hub_process(db, OUT / f"hub-{backend}.log") as served:
        step("first push", backend)
        report["first"] = push_all(served.address, org, args.notes, second=False)
        step("second push (1% changed)", backend)
        report["second"] = push_all(served.address, org, args.notes, second=True)
    analyze(db)  # as autovacuum would have by now on a running hub (it is off here)
    return report


def served_phases(backend: str, db: str, org: Org, args: argparse.Namespace) -> dict[str, Any]:
    """Steps 4-6 against a built hub: search (with the hub's search cache off, and then
    on, unless --cache says one), un-share, directory and flow map."""
    report: dict[str, Any] = {"loader": loader_name(args)}
    for cached in {"on": [True], "off": [False], "both": [False, True]}[args.cache]:
        label = "cache on" if cached else "cache off"
        report["cache on" if cached else "cache off"] = search_phases(
            db, org, args, backend, cached
        )
        step(f"{label}: done", backend)
    step("search: in this process, no HTTP", backend)
    rng = random.Random(args.seed)
    words = [query(org, rng) for _ in range(5000)]
    common = [query(org, rng, common=True) for _ in range(200)]
    tokens = [m.token for m in org.members]
    report["direct"] = search_in_process(db, tokens, words)
    report["direct_common"] = search_in_process(db, tokens, common, 100)
    if not args.search_only:
        with hub_process(db, OUT / f"hub-{backend}.log") as served:
            step("un-share", backend)
            report["unshare"] = unshare(served.address, org, args.notes, args.reuse)
            step("directory and flow map", backend)
            report["insight"] = insight(served.address, db, org)
    return report


def search_phases(db: str, org: Org, args: argparse.Namespace, backend: str, cached: bool
                  ) -> dict[str, Any]:  # fmt: skip
    """Many clients, random words; one client alone (what a search costs without
    queueing); many clients, the commonest words. Each phase against a hub process of
    its own (its search cache starts empty)."""
    rng = random.Random(args.seed)
    tokens = [m.token for m in org.members]
    words = [query(org, rng) for _ in range(5000)]
    common = [query(org, rng, common=True) for _ in range(200)]
    label = f"{backend}, cache {'on' if cached else 'off'}"
    found: dict[str, Any] = {}
    phases = [("search", words, args.clients, args.seconds),
              ("alone", words, 1, args.seconds / 3),
              ("common", common, args.clients, args.seconds / 3)]  # fmt: skip
    for key, queries, clients, seconds in phases:
        step(f"search ({label}): {key}, {clients} clients for {max(3.0, seconds):g} s", backend)
        found[key] = searched(db, backend, tokens, queries, clients, args, seconds, cached)
        if key == "search":
            found["load_search"] = load_average()
    return found


def loader_name(args: argparse.Namespace) -> str:
    if args.loader == "wrk":
        return "wrk 4 (C, 2 threads, one connection per client)"
    return f"Python (httpx; {args.processes} processes of threads)"


def searched(db: str, backend: str, tokens: list[str], words: list[str], clients: int,
             args: argparse.Namespace, seconds: float, cached: bool) -> dict[str, Any]:  # fmt: skip
    """Latencies as the clients saw them, where the CPU went (per request), and the
    search cache's hits, from a hub process of its own."""
    seconds = max(3.0, seconds)
    log = OUT / f"hub-{backend}-search.log"
    log.unlink(missing_ok=True)
    env = {"KNOWFLOW_HUB_SEARCH_CACHE": "1" if cached else "0"}
    with hub_process(db, log, env) as served, CpuMeter(served.pid) as meter:
        if args.loader == "wrk":
            got = wrk_load(served.address, tokens, words, clients=clients, seconds=seconds,
                           seed=args.seed, workdir=OUT)  # fmt: skip
        else:
            got = summarize(search_load(served.address, tokens, words, clients=clients,
                                        seconds=seconds, processes=args.processes,
                                        seed=args.seed))  # fmt: skip
    used = meter.used()
    n = max(1, got.requests)
    return {"requests": got.requests, "rps": got.requests / seconds, "errors": got.errors,
            "hits_per_request": got.hits / n, "p50": got.p50, "p95": got.p95, "p99": got.p99,
            "max": got.max, "cpu": used, "cpu_per_request": {k: v / n for k, v in used.items()},
            "cache": cache_counts(log)}  # fmt: skip


def cache_counts(log: Path) -> dict[str, int]:
    """The search cache's hits and misses, from the line each hub process logs as it
    stops ("search cache: H hits, M misses, …")."""
    found = {"hits": 0, "misses": 0}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("search cache:"):
            words = line.replace(",", "").split()
            found["hits"] += int(words[2])
            found["misses"] += int(words[4])
    return found


def step(what: str, backend: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {backend}: {what}…", file=sys.stderr, flush=True)


def table(report: dict[str, Any], args: argparse.Namespace) -> str:
    first, second = report["first"], report["second"]
    artifacts = first["counts"].get("added", 0)
    rows: list[tuple[str, str]] = []
    if "reused" in report:
        rows.append(("database", f"reused (--reuse), built at {report['reused']}; "
                     "its pushes were timed then:"))  # fmt: skip
    rows += [
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
        (f"search load generator: {report['loader']}", ""),
    ]  # fmt: skip
    for mode in ("cache off", "cache on"):
        if mode in report:
            rows += search_rows(report, mode, args)
    rows += [
        ("search in-process (read.search, no HTTP, no cache), random words",
         f"p50 {ms(pct(report['direct'], 50))}  p95 {ms(pct(report['direct'], 95))}  "
         f"p99 {ms(pct(report['direct'], 99))}  ({len(report['direct'])} one after another)"),
        ("  the 20 commonest words",
         f"p50 {ms(pct(report['direct_common'], 50))}  p95 {ms(pct(report['direct_common'], 95))}"),
    ]  # fmt: skip
    if "unshare" in report:
        trials = report["unshare"]["trials"]
        gone = sum(1 for t in trials if not t["found_after_return"])
        rows += [
            (f"un-share -> gone from search ({len(trials)} members)",
             f"gone when the push returned: {gone} of {len(trials)}"
             + (" (0 s)" if gone == len(trials)
                else f"; after {[t['gone_after_s'] for t in trials]}")),
            ("  un-share push per member", f"p50 {pct([t['push_s'] for t in trials], 50):.3f} s"),
            ("  before: found by a teammate / by outsiders",
             f"{sum(t['found_before'] for t in trials)} of {len(trials)} / "
             f"{sum(t['outsider_hits'] for t in trials)} hits (must be 0)"),
            (f"directory and flow map, {report['insight']['how']}", ""),
            *report["insight"]["rows"],
        ]  # fmt: skip
    width = max(len(label) for label, _ in rows) + 2
    searched_at = [report[m]["load_search"] for m in ("cache off", "cache on") if m in report]
    head = (
        f"== {report['backend']} {report['version']}: {args.members} members, "
        f"{artifacts:,} artifacts; served by {report['server']} ==\n"
        f"load average: at start {report['load_start']}\n"
        + "".join(f"              after search {x}\n" for x in searched_at)
        + f"              at end {report['load_end']}\n"
    )
    return head + "\n".join(f"{label:<{width}}{value}" for label, value in rows) + "\n"


def search_rows(report: dict[str, Any], mode: str, args: argparse.Namespace
                ) -> list[tuple[str, str]]:  # fmt: skip
    found = report[mode]
    search_, alone, common = found["search"], found["alone"], found["common"]
    pg = report["backend"] == "postgresql"
    p95_ok = search_["p95"] <= 0.050
    return [
        (f"search, {mode} ({hit_rate(search_)}): {args.clients} clients x "
         f"{args.seconds:g} s, random words",
         f"{search_['rps']:,.0f} req/s ({refused(search_)}, "
         f"{search_['hits_per_request']:.1f} hits/req)"),
        ("  latency", f"p50 {ms(search_['p50'])}  p95 {ms(search_['p95'])}  "
                      f"p99 {ms(search_['p99'])}  max {ms(search_['max'])}"
         + (f"   target p95 <= 50 ms: {'met' if p95_ok else 'MISSED'}" if pg else "")),
        ("  CPU per request", cpu_split(search_)),
        (f"  1 client alone ({hit_rate(alone)})",
         f"{alone['rps']:,.0f} req/s  p50 {ms(alone['p50'])}  p95 {ms(alone['p95'])}  "
         f"p99 {ms(alone['p99'])}"),
        ("    CPU per request", cpu_split(alone)),
        (f"  {args.clients} clients, the 20 commonest words ({hit_rate(common)})",
         f"{common['rps']:,.0f} req/s  p50 {ms(common['p50'])}  p95 {ms(common['p95'])}  "
         f"p99 {ms(common['p99'])}  ({refused(common)})"),
    ]  # fmt: skip


def hit_rate(phase: dict[str, Any]) -> str:
    cache = phase["cache"]
    asked = cache["hits"] + cache["misses"]
    if not asked:
        return "no cache"
    return f"cache hits {cache['hits'] / asked:.0%} of {asked:,}"


def cpu_split(phase: dict[str, Any]) -> str:
    """Milliseconds of CPU per answered request, by who spent it."""
    per = phase["cpu_per_request"]
    used = phase["cpu"]
    return (
        f"hub {per['hub'] * 1000:.2f}, PostgreSQL {per['postgres'] * 1000:.2f}, load "
        f"generator {per['loader'] * 1000:.2f}, rest of machine {per['other'] * 1000:.2f} ms"
        f" (machine busy {used['machine'] / used['wall']:.2f} of {os.cpu_count()} CPUs)"
    )


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
    parser.add_argument("--reuse", action="store_true",
                        help="build the database once (steps 1-3) and keep it for later runs "
                        "with the same --members, --notes and --seed")  # fmt: skip
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="skip the un-share step and the directory and flow map",
    )
    parser.add_argument(
        "--loader",
        choices=("wrk", "python"),
        default="wrk" if shutil.which("wrk") else "python",
        help="the searching clients: wrk (default when installed) or Python",
    )
    parser.add_argument(
        "--cache",
        choices=("both", "on", "off"),
        default="both",
        help="search with the hub's search cache off and on (both), or one",
    )
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
