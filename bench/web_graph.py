"""The local app's whole-vault graph at 10,000 notes: time to first draw in headless
Chromium, the first time (no layout kept: drawn from the seed, then ForceAtlas2 in a
worker, then the layout sent back and kept) and the second time (the kept layout,
drawn as it is), and the time of the JSON endpoint the page reads.

    python bench/web_graph.py [--notes 10000] [--rounds 3]

The vault is bench/generate.py's (about ten links a note, to random notes: a denser
graph than most vaults), generated once into bench/out/ and indexed. Times in the
browser are from the start of navigation (``performance.now()`` as the page reads it
when sigma has drawn), medians of ``--rounds`` openings.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate

from knowflow import Index, Vault
from knowflow.sense.network import layout_path

OUT = Path(__file__).resolve().parent / "out"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update"]


def prepared(n: int) -> Vault:
    root = generate(OUT / f"web-graph-{n}", n)
    vault = Vault.init(root) if not (root / ".knowflow").exists() else Vault(root)
    started = time.perf_counter()
    with Index(vault) as index:
        index.scan()
    print(f"vault: {n} notes in {root} (index up to date in {time.perf_counter() - started:.1f} s)")
    return vault


@contextmanager
def served(vault: Vault) -> Iterator[tuple[str, str]]:
    """The app on a free port of 127.0.0.1 (uvicorn in a thread, as tests do)."""
    import uvicorn

    from knowflow.web import create_app
    from knowflow.web.server import bind

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = create_app(vault, host="127.0.0.1", port=port, background=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app.state.token
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def json_endpoint(base: str, token: str, rounds: int) -> tuple[float, int]:
    """Median time of GET /graph/data.json (ms) and its size (bytes)."""
    times, size = [], 0
    with httpx.Client(base_url=base, cookies={"knowflow_token": token}, timeout=120) as http:
        for _ in range(rounds + 1):
            started = time.perf_counter()
            response = http.get("/graph/data.json")
            times.append((time.perf_counter() - started) * 1000)
            size = len(response.content)
    return statistics.median(times[1:]), size


def open_graph(context: Any, base: str, *, wait_for: str) -> dict[str, float]:
    """Open /graph, wait until ``data-layout`` says ``wait_for``; the page's times."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/graph")
    page.wait_for_selector("#graph[data-state=drawn]", timeout=120_000)
    page.wait_for_selector(f"#graph[data-layout={wait_for}]", timeout=600_000)
    data = page.evaluate("() => ({...document.getElementById('graph').dataset})")
    # The JSON endpoint as the page met it (a separate process from the server's).
    data["request"] = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => e.name.includes('/graph/data.json'))[0].duration"
    )
    page.close()
    if errors:
        raise RuntimeError(f"the page failed: {errors}")
    wanted = ("request", "fetchedAt", "builtAt", "drawnAt", "laidOutAt", "nodes", "edges")
    return {k: float(v) for k, v in data.items() if k in wanted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notes", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    vault = prepared(args.notes)
    with served(vault) as (base, token), sync_playwright() as p:
        ms, size = json_endpoint(base, token, args.rounds)
        print(
            f"GET /graph/data.json from the bench's process: {ms:.0f} ms median of {args.rounds},"
            f" {size / 1e6:.2f} MB"
        )
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.new_page().goto(f"{base}/?token={token}")  # the cookie
        first, second = [], []
        for _ in range(args.rounds):
            layout_path(vault).unlink(missing_ok=True)
            first.append(open_graph(context, base, wait_for="kept"))
            second.append(open_graph(context, base, wait_for="saved"))
        browser.close()
    shown = first[0]
    print(f"graph: {shown['nodes']:.0f} notes, {shown['edges']:.0f} links")
    median = statistics.median
    drawn, laid_out = median(r["drawnAt"] for r in first), median(r["laidOutAt"] for r in first)
    print(
        f"first open (no layout kept): first draw {drawn:.0f} ms,"
        f" layout computed (ForceAtlas2 in a worker) by {laid_out:.0f} ms"
    )
    print(f"second open (layout kept): first draw {median(r['drawnAt'] for r in second):.0f} ms")
    for name, runs in (("first", first), ("second", second)):
        fetched, built = median(r["fetchedAt"] for r in runs), median(r["builtAt"] for r in runs)
        request = median(r["request"] for r in runs)
        print(
            f"  {name} open: GET /graph/data.json {request:.0f} ms, data read by {fetched:.0f} ms,"
            f" graph built by {built:.0f} ms"
        )


if __name__ == "__main__":
    main()
