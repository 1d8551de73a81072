"""knowflow's vault and index benchmark: one command, figures printed.

    python bench/run.py [--sizes 10000,100000] [--peer-size 2000] [--workdir bench/out]
                        [--before GIT_REF]

For each size: cold index (notes/s), no-change rescan, one-changed-note
rescan, search p50/p95 over 200 mixed queries (in one process, as a running
app would search, after one warm-up pass), one search as a whole command (the
median of 7, with and without the rescan that precedes it, beside ripgrep
finding the same word), and peak memory (proportional set size of knowflow and
its workers together, sampled every 20 ms). With ``--before REF``, the cold
index of the knowflow at that git commit runs on the same vault in the same
run, alternating with this one, and the ratio is printed. Then, on a smaller
vault, the same link graph built by obsidiantools and a one-word search by
ripgrep, with the ratios. Vaults are generated once and reused. Every note is
read once first, so every tool finds the files in the page cache, and every
knowflow measured runs from compiled bytecode, as an installed package does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import TOPICS, generate, vocabulary

from knowflow import Index, Vault, search

ROOT = Path(__file__).resolve().parent.parent


def tree_memory(pid: int) -> int:
    """Memory of a process and all its descendants, in bytes.

    Proportional set size: a page shared by forked workers counts once in all,
    not once per process as resident set sizes summed would.
    """
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def run_measured(
    cmd: list[str],
    *,
    memory: bool = False,
    env: dict[str, str] | None = None,
    every: float = 0.05,
) -> tuple[float, int, str]:
    """Run a command; return (wall seconds, peak memory of its process tree, stdout).

    Sampling memory walks the processes' page tables and slows them, so runs
    that are timed are not sampled, and the peak (0 unless ``memory``) comes
    from a run of its own.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or RUN_ENV,
        cwd=RUN_DIR,  # not the checkout: `python -m` puts the current folder first on sys.path
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while memory and not done.is_set():
            peak = max(peak, tree_memory(proc.pid))
            time.sleep(every)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    return wall, peak, out


def warm_cache(vault: Path) -> None:
    """Read every note once, so each tool measured finds the files in the page cache."""
    for path in vault.rglob("*.md"):
        path.read_bytes()


def knowflow(vault: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "knowflow", "--vault", str(vault), *args]


# The knowflow each command runs: this checkout, or an earlier commit's (--before).
RUN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
RUN_DIR = Path(tempfile.gettempdir())


def compiled(package_parent: Path) -> None:
    """Compile a knowflow's modules once, as pip does when it installs a package, so
    that no timed command pays for compiling them."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(package_parent / "knowflow")], check=True
    )


def checkout(ref: str, workdir: Path) -> Path:
    """The knowflow package of a git commit, extracted beside the vaults."""
    sha = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", ref],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    target = workdir / f"knowflow-{sha}"
    if not (target / "knowflow").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", sha, "knowflow"], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    compiled(target)
    return target


def package_env(package_parent: Path | None) -> dict[str, str]:
    """The environment in which ``python -m knowflow`` runs the package found there."""
    env = dict(RUN_ENV)
    if package_parent is not None:
        env["PYTHONPATH"] = str(package_parent)
        where = subprocess.run(
            [sys.executable, "-c", "import knowflow; print(knowflow.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=RUN_DIR,
        ).stdout
        assert where.startswith(str(package_parent)), where
    return env


def make_queries(n_notes: int, count: int = 200, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    vocab = vocabulary(random.Random(42))
    # "common" words are in roughly 5% to 50% of notes, "rare" ones in a few.
    common, rare = vocab[50:500], vocab[5000:]
    shapes = [
        lambda: rng.choice(common),
        lambda: rng.choice(rare),
        lambda: f"{rng.choice(common)} {rng.choice(rare)}",
        lambda: f'"{rng.choice(common)} {rng.choice(common)}"',
        lambda: f"{rng.choice(rare)[:4]}*",
        lambda: f"{rng.choice(rare)} OR {rng.choice(rare)}",
        lambda: f"{rng.choice(common)} -{rng.choice(common)}",
        lambda: f"tag:{rng.choice(TOPICS)} {rng.choice(rare)}",
        lambda: f"tag:{rng.choice(TOPICS)}/{rng.choice(TOPICS)} {rng.choice(common)}",
        lambda: f"path:area{rng.randrange(10)}/ {rng.choice(rare)}",
        lambda: f"type:clipping {rng.choice(common)}",
        lambda: f'links-to:"Note {rng.randrange(n_notes):06d}"',
        lambda: f"has:unresolved {rng.choice(rare)}",
        lambda: f"share:public {rng.choice(rare)} {rng.choice(common)}",
    ]
    return [rng.choice(shapes)() for _ in range(count)]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[k]


def bench_size(n: int, workdir: Path, before: Path | None = None) -> dict[str, float]:
    vault = workdir / f"vault-{n}"
    print(f"\n== {n:,} notes ({vault}) ==", flush=True)
    t = time.perf_counter()
    generate(vault, n)
    print(f"  vault ready in {time.perf_counter() - t:.1f}s", flush=True)
    Vault.init(vault)
    warm_cache(vault)
    cold, _, _ = run_measured(knowflow(vault, "index", "--rebuild", "--json"))
    print(f"  cold index            {cold:8.2f} s   {n / cold:8.0f} notes/s", flush=True)
    if before is not None:
        cold_before(vault, n, before)
    nochange, _, _ = run_measured(knowflow(vault, "index", "--json"))
    print(f"  no-change rescan      {nochange:8.2f} s   (whole command)", flush=True)
    victim = next(vault.glob("area3/topic7/*.md"))
    victim.write_text(victim.read_text() + f"\nEdited at {time.time()} [[Note 000001]]\n")
    onechange, _, out = run_measured(knowflow(vault, "index", "--json"))
    assert json.loads(out)["updated"] == 1
    print(f"  one-change rescan     {onechange:8.2f} s   (whole command)", flush=True)
    queries = make_queries(n)
    with Index(Vault(vault)) as index:
        for q in queries:
            search(index, q)  # warm-up pass: a running app has its pages cached
        times = []
        hits = 0
        for q in queries:
            t = time.perf_counter()
            hits += len(search(index, q))
            times.append((time.perf_counter() - t) * 1000)
    p50, p95 = statistics.median(times), percentile(times, 95)
    print(
        f"  search p50 / p95      {p50:8.2f} / {p95:.2f} ms over {len(times)} queries "
        f"({hits / len(times):.1f} hits each, max {max(times):.1f} ms)",
        flush=True,
    )
    search_commands(vault)
    _, peak, _ = run_measured(knowflow(vault, "index", "--rebuild", "--json"), memory=True)
    mb = peak / 2**20
    print(f"  peak memory           {mb:8.0f} MB  (a second cold index, all processes)", flush=True)
    return {
        "n": n,
        "cold_s": cold,
        "notes_per_s": n / cold,
        "nochange_s": nochange,
        "onechange_s": onechange,
        "p50_ms": p50,
        "p95_ms": p95,
        "peak_mb": peak / 2**20,
    }


def cold_before(vault: Path, n: int, before: Path, rounds: int = 3) -> None:
    """Cold index by this knowflow and by the one at --before, alternating, medians."""
    times: dict[str, list[float]] = {"before": [], "now": []}
    for _ in range(rounds):
        for side, package in (("before", before), ("now", None)):
            cmd = knowflow(vault, "index", "--rebuild", "--json")
            wall, _, _ = run_measured(cmd, env=package_env(package))
            times[side].append(wall)
    was, now = statistics.median(times["before"]), statistics.median(times["now"])
    print(
        f"  cold index, {before.name[len('knowflow-') :]} vs now  {was:6.2f} s vs {now:.2f} s"
        f" (medians of {rounds}, alternating): now/before {now / was:.3f}",
        flush=True,
    )


def search_commands(vault: Path, word: str | None = None, repeats: int = 15) -> None:
    """One search as a person runs it: a whole command, process start included, beside
    ripgrep finding the same word and the bare interpreter's start on this machine.
    The commands take turns, so that a busy moment of a shared machine falls on all."""
    word = word or vocabulary(random.Random(42))[3000]
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "knowflow --version": knowflow(vault, "--version"),
        "search, index as is": knowflow(vault, "--no-scan", "search", word, "--json"),
        "search (rescan first)": knowflow(vault, "search", word, "--json"),
    }
    rg = shutil.which("rg")
    if rg:
        commands[f"rg -l -i -w {word}"] = [rg, "-l", "-i", "-w", word, str(vault)]
    walls: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeats):
        for label, cmd in commands.items():
            walls[label].append(run_measured(cmd)[0])
    for label, times in walls.items():
        print(
            f"  {label:<24}{statistics.median(times) * 1000:6.0f} ms  (median of {repeats},"
            f" whole command; best {min(times) * 1000:.0f} ms)",
            flush=True,
        )
    if not rg:
        print("  rg: not installed (apt-get install ripgrep)", flush=True)


def bench_peers(n: int, workdir: Path) -> None:
    vault = workdir / f"vault-{n}"
    print(f"\n== peers on {n:,} notes ==", flush=True)
    generate(vault, n)
    Vault.init(vault)
    warm_cache(vault)
    ours, _, _ = run_measured(knowflow(vault, "index", "--rebuild", "--json"))
    print(f"  knowflow index (whole graph, FTS, tags)    {ours:7.2f} s", flush=True)
    code = (
        "import sys, time, pathlib, obsidiantools.api as o\n"
        "t = time.perf_counter()\n"
        "v = o.Vault(pathlib.Path(sys.argv[1])).connect()\n"
        "print(time.perf_counter() - t, len(v.graph.nodes), len(v.graph.edges))\n"
    )
    try:
        wall, _, out = run_measured([sys.executable, "-c", code, str(vault)])
        inner, nodes, edges = out.split()
        print(
            f"  obsidiantools connect() (link graph)      {wall:7.2f} s   "
            f"({float(inner):.2f} s inside; {nodes} nodes, {edges} edges)",
            flush=True,
        )
        print(f"  ratio obsidiantools / knowflow            {wall / ours:7.1f} x", flush=True)
    except (RuntimeError, ValueError) as exc:
        print(f"  obsidiantools: not run ({exc}); pip install -e '.[bench]'", flush=True)
    word = vocabulary(random.Random(42))[3000]  # in about 1% of notes
    rg = shutil.which("rg")
    with Index(Vault(vault)) as index:
        search(index, word)
        t = time.perf_counter()
        hits = search(index, word, limit=10_000)
        api = time.perf_counter() - t
    cli, _, _ = run_measured(knowflow(vault, "--no-scan", "search", word, "-n", "10000", "--json"))
    print(
        f"  knowflow search {word!r}: {len(hits)} notes, {api * 1000:.1f} ms in process, "
        f"{cli * 1000:.0f} ms as a command",
        flush=True,
    )
    if rg:
        wall, _, out = run_measured([rg, "-l", "-i", "-w", word, str(vault)])
        found = len(out.splitlines())
        print(f"  rg -l -i -w {word}: {found} files, {wall * 1000:.0f} ms", flush=True)
        print(
            f"  ratio rg / knowflow search                 {wall / api:7.1f} x (in process), "
            f"{wall / cli:.2f} x (as a command)",
            flush=True,
        )
    else:
        print("  rg: not installed (apt-get install ripgrep)", flush=True)


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--peer-size", type=int, default=2000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--before", help="a git commit whose cold index to run alongside")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    compiled(ROOT)
    before = checkout(args.before, args.workdir) if args.before else None
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {mem:.0f} GiB,"
        f" {_cpu_model()}; Python {platform.python_version()},"
        f" SQLite {__import__('sqlite3').sqlite_version}; files in page cache"
    )
    for n in (int(s) for s in args.sizes.split(",") if s):
        bench_size(n, args.workdir, before)
    bench_peers(args.peer_size, args.workdir)


if __name__ == "__main__":
    main()
