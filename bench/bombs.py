"""Peak memory of one update of gzip-bomb sources: one command, figures printed.

    python bench/bombs.py [--sources 60] [--gigabytes 5] [--before GIT_REF]

Local servers on 127.0.0.1 (one port per source, standing in for as many sites,
so the update fans out to its worker processes) each answer with the same gzip
body of about 5 MB that inflates to 5 GB of zeros. ``knowflow update`` runs as a
command on a fresh vault following them all; printed are its time, how its
sources ended, and the peak memory of its whole process tree (proportional set
size of the update and its workers together, so a page shared by forked workers
counts once; sampled every 10 ms by bench/run.py's tree_memory). With
``--before REF``, the knowflow of that git commit runs the same update in the
same run (extracted with ``git archive``, as bench/run.py does). The bomb is
made once and kept in bench/out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import RUN_DIR, checkout, compiled, package_env, run_measured

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def make_bomb(gigabytes: int) -> Path:
    """A gzip file of ``gigabytes`` GB of zeros (about a thousandth of that on disk)."""
    path = OUT / f"bomb-{gigabytes}g.gz"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        block = bytes(1 << 20)
        part = path.with_suffix(".part")
        with part.open("wb") as out:
            for _ in range(gigabytes << 10):
                out.write(packer.compress(block))
            out.write(packer.flush())
        part.rename(path)
    return path


def start_servers(count: int, bomb: Path) -> list[str]:
    """Serve the bomb on ``count`` ports from a process of its own; their feed addresses."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    ctx.Process(target=_serve, args=(count, bomb, child), daemon=True).start()
    ports: list[int] = parent.recv()
    return [f"http://127.0.0.1:{port}/feed.xml" for port in ports]


def _serve(count: int, bomb: Path, pipe: Any) -> None:
    body = bomb.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client had enough
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Quiet(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client hanging up on a bomb is the point

    ports = []
    for _ in range(count):
        server = Quiet(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        ports.append(server.server_address[1])
    pipe.send(ports)
    threading.Event().wait()


def vault_following(urls: list[str], work: Path, env: dict[str, str]) -> Path:
    """A fresh vault following every address, made by the knowflow measured."""
    vault = work / "vault"
    outlines = "".join(
        f'<outline type="rss" text="Bomb {n}" xmlUrl="{u}"/>' for n, u in enumerate(urls)
    )
    opml = work / "bombs.opml"
    opml.write_text(f'<opml version="2.0"><head/><body>{outlines}</body></opml>')
    for args in (["init", str(vault)], ["--vault", str(vault), "source", "import-opml", str(opml)]):
        subprocess.run(
            [sys.executable, "-m", "knowflow", *args],
            env=env,
            cwd=RUN_DIR,
            check=True,
            capture_output=True,
        )
    return vault


def measure(vault: Path, env: dict[str, str]) -> tuple[float, int, dict[str, Any]]:
    """Run one update; (wall s, peak bytes of its process tree, its JSON report)."""
    cmd = [sys.executable, "-m", "knowflow", "--vault", str(vault), "update", "--json"]
    wall, peak, out = run_measured(cmd, memory=True, env=env, every=0.01)
    return wall, peak, json.loads(out)


def side(name: str, urls: list[str], package: Path | None, work: Path) -> None:
    env = package_env(package)
    folder = work / name
    folder.mkdir()
    vault = vault_following(urls, folder, env)
    wall, peak, report = measure(vault, env)
    errors: dict[str, int] = {}
    for result in report["results"]:
        key = result["error"] or result["status"]
        errors[key] = errors.get(key, 0) + 1
    print(f"  {name:<16} peak {peak / 2**20:7.1f} MB  in {wall:5.1f} s", flush=True)
    for error, count in sorted(errors.items()):
        print(f"      {count} sources: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=60)
    parser.add_argument("--gigabytes", type=int, default=5, help="what each body inflates to")
    parser.add_argument("--before", help="a git commit whose update to run alongside")
    args = parser.parse_args()
    compiled(ROOT)
    before = checkout(args.before, OUT) if args.before else None
    bomb = make_bomb(args.gigabytes)
    urls = start_servers(args.sources, bomb)
    print(
        f"{args.sources} sources on as many local sites, each a {bomb.stat().st_size / 1e6:.1f} MB"
        f" gzip body inflating to {args.gigabytes} GB; peak memory of the update's process tree"
    )
    with tempfile.TemporaryDirectory() as tmp:
        if before is not None:
            side(f"before {before.name[len('knowflow-') :]}", urls, before, Path(tmp))
        side("now", urls, None, Path(tmp))


if __name__ == "__main__":
    main()
