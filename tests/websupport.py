"""What the browser tests share: Debian's Chromium through Playwright, a page that
records every console error and failed request, axe-core, and the local web app
served for real by uvicorn on 127.0.0.1 in a thread."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from knowflow import Index, Vault

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = [{"width": 1280, "height": 800}, {"width": 390, "height": 844}]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",  # this machine's network is closed: no noise
    "--disable-component-update",
]


def require_chromium() -> Any:
    """Playwright's sync API, or the module skipped where Chromium is missing
    (CI installs it, and there its absence is an error)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api")


@contextmanager
def chromium() -> Iterator[Any]:
    sync_api = require_chromium()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Watched:
    """A page that remembers console errors, page errors and failed requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _failed(self, request: Any) -> None:
        # The browser's own PDF viewer (chrome-extension://) drops its requests when
        # a page is left; only the site's requests count.
        # A request the browser itself gave up because the page it belonged to was
        # left (net::ERR_ABORTED: a test moving on while a slow machine still loads a
        # style sheet, or the live notices' event stream, which never ends by itself)
        # is no failure of the server's. A refused, reset or timed-out one is.
        if "ERR_ABORTED" in (request.failure or ""):
            return
        if request.url.startswith("http"):
            self.problems.append(f"failed: {request.url} ({request.failure})")

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page: rule id and selectors.
    (A page under the app's CSP takes the script only in a context made with
    ``bypass_csp=True``.)"""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'])}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@dataclass
class Served:
    """The app serving a vault: its address, and the first address (with the token)."""

    base: str
    token: str
    app: Any

    @property
    def entry(self) -> str:
        return f"{self.base}?token={self.token}"

    def signed_in(self, browser: Any, **options: Any) -> Any:
        """A browser context holding the app's cookie."""
        context = browser.new_context(**options)
        page = context.new_page()
        page.goto(self.entry)
        page.close()
        return context


@contextmanager
def serving(vault: Any, *, background: bool = False) -> Iterator[Served]:
    """The local web app on ``vault``, served by uvicorn on a free port of 127.0.0.1."""
    from knowflow.web.server import running_in_thread

    with running_in_thread(vault, background=background) as app:
        yield Served(app.state.address, app.state.token, app)


def indexed_vault(root: Path, files: dict[str, str | bytes], config: str = "") -> Vault:
    """A vault at root holding files (config.toml gets ``config`` appended), indexed."""
    from .conftest import write_files

    root.mkdir()
    write_files(root, dict(files))
    vault = Vault.init(root)
    if config:
        with (root / ".knowflow" / "config.toml").open("a", encoding="utf-8") as out:
            out.write(config)
    with Index(vault) as index:
        index.scan()
    return vault


@contextmanager
def signed_in(vault: Vault) -> Iterator[TestClient]:
    """A test client of the app on vault, signed in (its token made a cookie), that
    does not follow redirects, so tests see where each answer sends the browser."""
    from knowflow.web import create_app

    app = create_app(vault, token="t", host="testserver", port=80, background=False)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/?token=t").status_code == 303  # the token becomes a cookie
        yield client


def check_pages(
    browser: Any,
    served: Served,
    addresses: Sequence[str],
    ready: Callable[[Any], None] | None = None,
) -> None:
    """Each address at each of WIDTHS, signed in: no serious axe finding, nothing wider
    than the window, no console error or failed request. ``ready`` waits for what
    the page draws after it loads."""
    for size in WIDTHS:
        context = served.signed_in(browser, viewport=size, bypass_csp=True)
        page = context.new_page()
        watched = Watched(page)
        for address in addresses:
            page.goto(served.base + address)
            if ready is not None:
                ready(page)
            assert not serious_violations(page), (address, size)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= size["width"], (address, size, width)
        assert not watched.problems, watched.problems
        context.close()
