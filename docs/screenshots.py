"""Regenerate docs/screenshots/: every page of the local app, at desktop and phone
widths, on a copy of the sample vault with the sample feeds followed.

    python docs/screenshots.py

Needs the test extra (Playwright) and Debian's Chromium (/usr/bin/chromium); it
contacts nothing but 127.0.0.1.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from knowflow import Vault
from knowflow.web.server import running_in_thread

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# (file name, address within the app): the pages a new user meets, in order.
PAGES = [
    ("read", "/"),
    ("entry", "/entry/1"),
    ("note", "/note/Welcome.md"),
    ("edit", "/edit/Welcome.md"),
    ("search", "/search?q=sense"),
    ("tags", "/tags"),
    ("graph-note", "/graph?note=Welcome.md"),
    ("graph", "/graph"),
    ("sources", "/sources"),
    (
        "capture",
        "/capture?url=https%3A%2F%2Fblog.example.net%2Fpkm-year"
        "&title=Seek%2C+sense%2C+share&selection=Collecting+is+not+knowing.",
    ),
    ("share", "/share"),
    ("view-public", "/view/public/"),
    ("review", "/review"),
    ("practice", "/practice"),
    ("wander", "/wander?from=Welcome.md&seed=7&steps=5"),
    ("journal", "/journal"),
]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _knowflow(vault: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "knowflow", "--vault", str(vault), *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def sample_vault(work: Path) -> Path:
    """The sample vault, following the sample feeds (served here on 127.0.0.1)."""
    vault = work / "vault"
    shutil.copytree(ROOT / "examples" / "vault", vault, ignore=shutil.ignore_patterns("*.db*"))
    feeds = ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_Quiet, directory=str(ROOT / "examples" / "feeds"))
    )
    threading.Thread(target=feeds.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{feeds.server_address[1]}"
    try:
        _knowflow(
            vault,
            "source",
            "add",
            f"{base}/team.xml",
            "--no-discover",
            "--kind",
            "team",
            "--name",
            "Platform team",
        )
        _knowflow(
            vault,
            "source",
            "add",
            f"{base}/network.xml",
            "--no-discover",
            "--kind",
            "network",
            "--name",
            "Sensemaking",
        )
        _knowflow(vault, "update")
    finally:
        feeds.shutdown()
        feeds.server_close()
    return vault


def shoot(browser: Any, address: str, token: str) -> list[str]:
    made = []
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport, color_scheme="light")
        page = context.new_page()
        page.goto(f"{address}?token={token}")
        for name, path in PAGES:
            response = page.goto(address.rstrip("/") + path)
            page.wait_for_load_state("networkidle")
            if name.startswith("graph"):  # the layout settles before it is shown
                page.wait_for_function(
                    "document.querySelector('#graph')?.dataset.layout !== 'computing'",
                    timeout=120_000,
                )
            if response is None or not response.ok:
                print(f"skipped {path}: {response.status if response else 'no response'}")
                continue
            target = OUT / f"{name}-{width}.png"
            page.screenshot(path=str(target), full_page=False)
            made.append(target.name)
        context.close()
    return made


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        vault = sample_vault(Path(work))
        with running_in_thread(Vault(vault)) as app, sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--no-sandbox",
                    "--disable-background-networking",
                    "--disable-component-update",
                ],
            )
            made = shoot(browser, app.state.address, app.state.token)
            browser.close()
    print(f"{len(made)} screenshots in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
