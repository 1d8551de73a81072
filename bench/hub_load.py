"""What bench/hub.py does to a running hub: start ``knowflow hub serve`` in a process
of its own, push as ``knowflow push`` does, and search from many clients at once.

The hub runs in a separate process, and the searching clients in processes of their
own (threads within each), so that neither the clients' Python nor the benchmark's
shares a GIL with the server: what is measured is the hub, seen from outside.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from knowflow.hub.bundle import fingerprint
from knowflow.hub.client import HubClient


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    address: str
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time the hub's process has used (user + system), from /proc."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def hub_process(db: str, log: Path, env: dict[str, str] | None = None) -> Iterator[Served]:
    """``knowflow hub serve --db db`` in a subprocess until the block ends (with ``env``
    added to its environment); yields its address and process id once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "knowflow", "hub", "serve", "--db", db, "--port", str(port)]
    with log.open("a") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {})})  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    try:
        _wait_for(address, server, log)
        yield Served(address, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for(address: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the hub exited ({server.returncode}): {log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(address + "/api/health", timeout=2, trust_env=False).is_success:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the hub did not answer at {address} within 60 s")


# -- pushing -----------------------------------------------------------------------------


@dataclass
class Pushed:
    """One member's push of every audience they share to (what ``knowflow push`` sends)."""

    seconds: float = 0.0
    requests: list[float] = field(default_factory=list)  # per audience: hashes + push
    counts: dict[str, int] = field(default_factory=dict)  # added, updated, unchanged, removed


def _slim(note: dict[str, Any], held: dict[str, str] | None) -> dict[str, Any]:
    # As knowflow.hub.client sends it: a note the hub holds unchanged goes as its hash.
    if held is not None and held.get("fingerprint") == fingerprint(note):
        return {"id": note["id"], "content_hash": note["content_hash"]}
    return note


async def _push(address: str, token: str, bundles: list[dict[str, Any]]) -> Pushed:
    done = Pushed()
    started = time.perf_counter()
    async with HubClient(address, token) as client:
        for doc in bundles:
            begun = time.perf_counter()
            audience = doc["audience"]["name"]
            reply = await client.call("GET", "/api/hashes", params={"audience": audience})
            held = reply["hashes"]
            slim = [_slim(note, held.get(note["id"])) for note in doc["notes"]]
            result = await client.call("POST", "/api/push", json={**doc, "notes": slim})
            done.requests.append(time.perf_counter() - begun)
            for key in ("added", "updated", "unchanged", "removed"):
                done.counts[key] = done.counts.get(key, 0) + int(result[key])
    done.seconds = time.perf_counter() - started
    return done


def push(address: str, token: str, bundles: list[dict[str, Any]]) -> Pushed:
    """Push each bundle through the real client (knowflow.hub.client.HubClient), asking
    the hub first what it holds, so unchanged notes travel as hashes, as knowflow push does."""
    return asyncio.run(_push(address, token, bundles))


def search(address: str, token: str, words: str, limit: int = 20) -> list[dict[str, Any]]:
    with httpx.Client(base_url=address, trust_env=False, timeout=30) as client:
        reply = client.get(
            "/api/search", params={"q": words, "limit": limit},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        reply.raise_for_status()
        found: list[dict[str, Any]] = reply.json()["results"]
        return found


def get(address: str, token: str, path: str) -> tuple[int, float, int]:
    """Status, seconds and body size of one GET."""
    with httpx.Client(base_url=address, trust_env=False, timeout=600) as client:
        started = time.perf_counter()
        reply = client.get(path, headers={"Authorization": f"Bearer {token}"})
        return reply.status_code, time.perf_counter() - started, len(reply.content)


# -- searching under load ------------------------------------------------------------------


@dataclass
class Load:
    """What the searching clients saw: each request's latency, errors, and hits."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)  # by status; 0: no answer
    hits: int = 0
    seconds: float = 0.0


def _client(address: str, tokens: list[str], queries: list[str], until: float, seed: int,
            out: Load, lock: threading.Lock) -> None:  # fmt: skip
    rng = random.Random(seed)
    latencies: list[float] = []
    errors: dict[int, int] = {}
    hits = 0
    with httpx.Client(base_url=address, trust_env=False, timeout=60) as client:
        while time.time() < until:
            headers = {"Authorization": f"Bearer {rng.choice(tokens)}"}
            params = {"q": rng.choice(queries), "limit": "20"}
            started = time.perf_counter()
            try:
                reply = client.get("/api/search", params=params, headers=headers)
                elapsed = time.perf_counter() - started
                if reply.status_code == 200:
                    latencies.append(elapsed)
                    hits += len(reply.json()["results"])
                else:
                    errors[reply.status_code] = errors.get(reply.status_code, 0) + 1
            except httpx.HTTPError:
                errors[0] = errors.get(0, 0) + 1
    with lock:
        _add(out, Load(latencies, errors, hits))


def _add(total: Load, part: Load) -> None:
    total.latencies += part.latencies
    total.hits += part.hits
    for status, count in part.errors.items():
        total.errors[status] = total.errors.get(status, 0) + count


def _worker(args: tuple[str, list[str], list[str], float, float, int, int]) -> Load:
    """One load process: ``threads`` clients from ``start`` until ``until`` (wall clock,
    so every process starts and stops together)."""
    address, tokens, queries, start, until, threads, seed = args
    time.sleep(max(0.0, start - time.time()))
    out, lock = Load(), threading.Lock()
    clients = [
        threading.Thread(target=_client,
                         args=(address, tokens, queries, until, seed * 1000 + i, out, lock))
        for i in range(threads)
    ]  # fmt: skip
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return out


def search_load(address: str, tokens: list[str], queries: list[str], *, clients: int,
                seconds: float, processes: int, seed: int) -> Load:  # fmt: skip
    """``clients`` concurrent searchers (spread over ``processes``) for ``seconds``,
    each request as a random member with a random query."""
    processes = max(1, min(processes, clients))
    start = time.time() + 2  # time for every process to be up
    shares = [clients // processes + (i < clients % processes) for i in range(processes)]
    jobs = [(address, tokens, queries, start, start + seconds, n, seed + i)
            for i, n in enumerate(shares)]  # fmt: skip
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        parts = pool.map(_worker, jobs)
    total = Load(seconds=seconds)
    for part in parts:
        _add(total, part)
    return total


# -- searching under load with wrk (a load generator in C) ---------------------------------

WRK_SCRIPT = Path(__file__).resolve().parent / "hub_wrk.lua"


@dataclass
class Summary:
    """A load run's figures, from either load generator (seconds)."""

    requests: int
    errors: dict[str, int]  # by status, or "non-2xx" (wrk), "no answer"
    hits: int
    p50: float
    p95: float
    p99: float
    max: float


def summarize(load: Load) -> Summary:
    lat = sorted(load.latencies)

    def pct(p: float) -> float:
        if not lat:
            return 0.0
        return lat[min(len(lat) - 1, max(0, round(p / 100 * len(lat)) - 1))]

    errors = {str(status or "no answer"): n for status, n in load.errors.items()}
    return Summary(len(lat), errors, load.hits, pct(50), pct(95), pct(99),
                   max(lat, default=0.0))  # fmt: skip


def wrk_load(address: str, tokens: list[str], queries: list[str], *, clients: int,
             seconds: float, seed: int, workdir: Path) -> Summary:  # fmt: skip
    """``clients`` connections (each a client waiting for its answer before asking
    again) from wrk's two threads for ``seconds``; each request as a random member
    with a random query (bench/hub_wrk.lua)."""
    tokens_file, queries_file = workdir / "wrk-tokens.txt", workdir / "wrk-queries.txt"
    tokens_file.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    tokens_file.chmod(0o600)
    queries_file.write_text("\n".join(queries) + "\n", encoding="utf-8")
    threads = min(2, clients)
    command = ["wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "60s",
               "-s", str(WRK_SCRIPT), address, "--", str(tokens_file), str(queries_file),
               str(seed)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("{"))
    got = json.loads(line)
    errors: dict[str, int] = {}
    if got["status"]:
        errors["non-2xx"] = got["status"]
    failed = got["connect"] + got["read"] + got["write"] + got["timeout"]
    if failed:
        errors["no answer"] = failed
    us = 1e-6
    return Summary(got["answered"], errors, got["hits"], got["p50_us"] * us, got["p95_us"] * us,
                   got["p99_us"] * us, got["max_us"] * us)  # fmt: skip


# -- where the CPU went --------------------------------------------------------------------


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
    return found


def _machine_busy() -> float:
    """Seconds of CPU the whole machine has been busy (all CPUs, not idle or iowait)."""
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(x) for x in cpu]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


@dataclass
class CpuMeter:
    """CPU seconds over a load run: the hub's process, this process's children (the load
    generator: wrk, or the Python client processes), PostgreSQL's processes alive at
    the end (a backend that exits meanwhile is missed, and counts as the rest of the
    machine), and the whole machine."""

    hub_pid: int
    start: dict[str, Any] = field(default_factory=dict)

    def __enter__(self) -> CpuMeter:
        self.start = self._now()
        return self

    def __exit__(self, *exc: object) -> None:
        self.end = self._now()

    def _now(self) -> dict[str, Any]:
        children = os.times()
        return {"hub": _ticks(self.hub_pid), "pg": {p: _ticks(p) for p in _postgres_pids()},
                "loader": children.children_user + children.children_system,
                "machine": _machine_busy(), "wall": time.monotonic()}  # fmt: skip

    def used(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        a, b = self.start, self.end
        # A backend born meanwhile (the hub's pool opens them as it needs them) spent
        # all its CPU in the run; one that ended meanwhile is missed.
        pg = sum(b["pg"][p] - a["pg"].get(p, 0) for p in b["pg"]) / tick
        hub = (b["hub"] - a["hub"]) / tick
        loader = b["loader"] - a["loader"]
        machine = b["machine"] - a["machine"]
        return {"hub": hub, "postgres": pg, "loader": loader, "machine": machine,
                "other": max(0.0, machine - hub - pg - loader),
                "wall": b["wall"] - a["wall"]}  # fmt: skip
