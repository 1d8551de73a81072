"""The published sample vault in a real headless Chromium (Debian's, driven by
Playwright): pages render, links work, search finds a note, no console errors,
readable on a phone and without JavaScript."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from knowflow import Index, Vault
from knowflow.share import publish

from .conftest import EXAMPLES

CHROMIUM = "/usr/bin/chromium"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("browser")
    shutil.copytree(EXAMPLES, work / "vault", ignore=shutil.ignore_patterns("*.db*"))
    with Index(Vault(work / "vault")) as index:
        index.scan()
        publish(index, "public", work / "site")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(work / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Watched:
    """A page that remembers console errors, page errors and failed requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def test_every_page_renders_and_every_link_works(site: str, browser: Any) -> None:
    context = browser.new_context()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "index.html")
    to_visit, seen, checked = [site + "index.html"], set(), set()
    while to_visit:
        url = to_visit.pop()
        if url in seen:
            continue
        seen.add(url)
        page.goto(url)
        assert page.locator("main h1").count() == 1, url
        assert page.evaluate("document.documentElement.lang") == "en"
        for img in page.locator("main img").all():
            assert img.get_attribute("alt") is not None, url
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = urljoin(url, href).split("#")[0]
            if not target.startswith(site) or target in checked:
                continue
            checked.add(target)
            assert page.request.get(target).status == 200, f"{url} links to {target}"
            if target.endswith(".html"):
                to_visit.append(target)
    assert len(seen) >= 10  # index, notes, tags, search
    assert not watched.problems, watched.problems
    context.close()


def test_clicking_through_and_searching(site: str, browser: Any) -> None:
    context = browser.new_context()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(site + "index.html")
    page.get_by_role("link", name="Welcome").first.click()
    assert urlsplit(page.url).path.endswith("/welcome.html")
    page.get_by_role("link", name="Seek Sense Share").first.click()
    assert page.locator("main h1").inner_text() == "Seek Sense Share"
    assert page.locator("aside").get_by_role("link", name="Welcome").count() == 1
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search the notes").fill("loop")
    results = page.locator("#results li a")
    results.first.wait_for()
    assert "Seek Sense Share" in results.all_inner_texts()
    results.filter(has_text="Seek Sense Share").first.click()
    assert urlsplit(page.url).path.endswith("seek-sense-share.html")
    page.goto(site + "search.html?q=glossary")
    page.locator("#results li a").first.wait_for()
    assert page.locator("#results li a").first.inner_text() == "Glossary"
    assert not watched.problems, watched.problems
    context.close()


def test_readable_on_a_phone_and_without_javascript(site: str, browser: Any) -> None:
    phone = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    page = phone.new_page()
    for name in ("index.html", "concepts/seek-sense-share.html", "glossary.html"):
        page.goto(site + name)
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        assert not overflow, f"{name} scrolls sideways on a phone"
    phone.close()
    plain = browser.new_context(java_script_enabled=False)
    page = plain.new_page()
    page.goto(site + "concepts/seek-sense-share.html")
    assert "loop of three processes" in page.locator("main").inner_text()
    page.goto(site + "search.html")
    assert "Search needs JavaScript" in page.locator("main").inner_text()
    plain.close()
