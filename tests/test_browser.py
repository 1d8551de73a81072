"""The published sample vault in a real headless Chromium (Debian's, driven by
Playwright): pages render, links work, search finds a note, no console errors,
readable on a phone and without JavaScript, and axe-core (vendored from npm in
tests/vendor) finds nothing serious on any page, at desktop and phone widths.
The fidelity vault (tests/fidelity.py) shows callouts, media and diagrams as
Obsidian Publish does, in light and dark, and the search's query language."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from knowflow import Index, Vault
from knowflow.share import publish

from . import fidelity
from .conftest import EXAMPLES, write_files
from .websupport import (
    CHROMIUM,
    CHROMIUM_ARGS,
    WIDTHS,
    Watched,
    require_chromium,
    serious_violations,
)

sync_api = require_chromium()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _serve(folder: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("browser")
    shutil.copytree(EXAMPLES, work / "vault", ignore=shutil.ignore_patterns("*.db*"))
    with Index(Vault(work / "vault")) as index:
        index.scan()
        publish(index, "public", work / "site")
    yield from _serve(work / "site")


@pytest.fixture(scope="module")
def fidelity_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("fidelity")
    (work / "vault").mkdir()
    write_files(work / "vault", fidelity.FILES)
    with Index(Vault.init(work / "vault")) as index:
        index.scan()
        publish(index, "public", work / "site")
    yield from _serve(work / "site")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


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
    page.wait_for_url("**/welcome.html")  # a click starts the navigation; wait for it
    page.get_by_role("link", name="Seek Sense Share").first.click()
    page.wait_for_url("**/seek-sense-share.html")
    assert page.locator("main h1").inner_text() == "Seek Sense Share"
    assert page.locator("aside").get_by_role("link", name="Welcome").count() == 1
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Search the notes").fill("loop")
    results = page.locator("#results li a")
    results.filter(has_text="Seek Sense Share").first.wait_for()  # results come as typed
    results.filter(has_text="Seek Sense Share").first.click()
    page.wait_for_url("**/seek-sense-share.html")
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


def site_pages(base: str, context: Any) -> list[str]:
    """Every page of a site, found by following its links from the front page."""
    page = context.new_page()
    found, queue = set(), [base + "index.html"]
    while queue:
        url = queue.pop()
        if url in found:
            continue
        found.add(url)
        page.goto(url)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = href.split("#")[0]
            if target.startswith(base) and target.endswith(".html"):
                queue.append(target)
    page.close()
    return sorted(found)


@pytest.mark.parametrize("viewport", WIDTHS, ids=lambda v: f"{v['width']}px")
def test_axe_finds_nothing_serious_on_any_page(
    site: str, browser: Any, viewport: dict[str, int]
) -> None:
    context = browser.new_context(viewport=viewport)
    urls = site_pages(site, context)
    assert len(urls) >= 19  # every note, tag and list page of the sample vault
    page = context.new_page()
    problems = []
    for url in urls:
        page.goto(url)
        problems += [f"{url}: {v}" for v in serious_violations(page)]
    context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_callouts_media_and_diagrams_pass_axe_in_light_and_dark(
    fidelity_site: str, browser: Any, scheme: str
) -> None:
    for viewport in WIDTHS:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        watched = Watched(context.new_page())
        page = watched.page
        problems = []
        for name in ("callouts.html", "media.html", "diagram.html", "embeds.html"):
            # Every frame and diagram drawn first: leaving a PDF half-loaded aborts it.
            page.goto(fidelity_site + name, wait_until="networkidle")
            if name == "diagram.html":
                page.locator("pre.mermaid svg").wait_for()
            problems += [f"{name}: {v}" for v in serious_violations(page)]
        dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark == (scheme == "dark")
        context.close()
        assert not problems, "\n".join(problems)
        assert not watched.problems, watched.problems


def test_foldable_callouts_open_without_javascript(fidelity_site: str, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(fidelity_site + "callouts.html")
    answer = page.get_by_text("The hidden answer.")
    assert not answer.is_visible()
    page.get_by_text("Closed until opened").click()
    assert answer.is_visible()
    assert page.get_by_text("Shown at once.").is_visible()  # [!example]+ starts open
    inner = page.locator(".callout-note .callout-bug .callout-title")
    assert inner.inner_text().strip().endswith("Inner")
    colours = page.eval_on_selector_all(
        ".callout > .callout-title",
        "els => els.map(e => getComputedStyle(e).color)",
    )
    assert len(set(colours)) >= 7  # each type has its colour
    context.close()


def test_diagrams_are_drawn_and_cannot_run_script(fidelity_site: str, browser: Any) -> None:
    context = browser.new_context()
    watched = Watched(context.new_page())
    page = watched.page
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(fidelity_site + "diagram.html")
    drawn = page.locator("pre.mermaid svg")
    drawn.wait_for()
    labels = drawn.evaluate("svg => svg.textContent")
    assert all(word in labels for word in ("Seek", "Sense", "Share")), labels
    assert not watched.problems, watched.problems

    page.goto(fidelity_site + "hostile-diagram.html")
    page.locator("pre.mermaid svg").wait_for()
    for node in page.locator("pre.mermaid svg .node").all():
        node.click()
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None and not dialogs
    hrefs = page.eval_on_selector_all("svg a", "els => els.map(e => e.getAttribute('href'))")
    assert not [h for h in hrefs if h and "javascript" in h.lower()]
    handlers = page.evaluate(
        "[...document.querySelectorAll('svg *')].flatMap(e => [...e.attributes])"
        ".map(a => a.name).filter(n => n.startsWith('on'))"
    )
    assert handlers == []
    context.close()


def test_media_play_from_the_site(fidelity_site: str, browser: Any) -> None:
    context = browser.new_context()
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(fidelity_site + "media.html", wait_until="networkidle")
    audio = page.locator("audio").first
    duration = audio.evaluate(
        "a => new Promise(done => a.readyState >= 1 ? done(a.duration)"
        " : a.addEventListener('loadedmetadata', () => done(a.duration)))"
    )
    assert duration == pytest.approx(0.1, abs=0.01)  # the sound file itself was read
    for selector, attr in (("video", "src"), ("iframe", "src"), ("img", "src")):
        for url in page.eval_on_selector_all(selector, f"els => els.map(e => e.{attr})"):
            assert page.request.get(url).status == 200, url
    frame = page.locator("iframe").first
    assert frame.get_attribute("title") == "doc.pdf"
    sizes = page.eval_on_selector_all(
        "img", "els => els.map(e => [e.getAttribute('alt'), e.width, e.height])"
    )
    assert ["Alt words", 120, 80] in sizes and ["Sized both", 250, 100] in sizes
    assert not watched.problems, watched.problems
    context.close()


def search(page: Any, base: str, query: str) -> tuple[list[str], str]:
    """The titles the site's search lists for a query, and what its status says."""
    page.goto(base + "search.html")
    page.get_by_label("Search the notes").fill(query)
    status = page.locator("#search-status")
    status.filter(has_text=re.compile(r"\S")).wait_for()
    return page.locator("#results li > a").all_inner_texts(), status.inner_text()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"sense making"', ["Sense making"]),
        ("sense making", ["Order", "Sense making"]),
        ("tag:pkm", ["Order", "Sense making"]),
        ("tag:PKM/seek", ["Sense making"]),
        ("tag:pk", []),
        ("path:areas/", ["Gardening", "Hostile search"]),
        ("soil -tag:old", ["Hostile search"]),
        ('soil -"exact phrase"', ["Hostile search"]),
        ("soil -compost", ["Hostile search"]),
        ("sensem*", ["Sense making"]),
        ("sensem", []),
        ("composts", ["Gardening"]),  # "composts" finds "compost", as on the command line
        ("gardens OR loop", ["Gardening", "Sense making"]),
        ("tag:pkm -tag:draft", ["Order"]),
        ("type:clipping", ["Clip", "Gardening"]),
        ("-type:clipping path:areas", ["Hostile search"]),
    ],
)
def test_search_understands_the_query_language(
    fidelity_site: str, browser: Any, query: str, expected: list[str]
) -> None:
    context = browser.new_context()
    watched = Watched(context.new_page())
    titles, status = search(watched.page, fidelity_site, query)
    assert sorted(titles) == expected, (query, status)
    assert status.startswith(f"{len(expected)} note")
    assert not watched.problems, watched.problems
    context.close()


def test_search_marks_matches_in_a_snippet_built_as_text(fidelity_site: str, browser: Any) -> None:
    context = browser.new_context()
    watched = Watched(context.new_page())
    page = watched.page
    search(page, fidelity_site, "loop")
    snippet = page.locator("#results li .snippet").first
    assert "middle of the loop" in snippet.inner_text()
    assert snippet.locator("mark").all_inner_texts() == ["loop"]
    search(page, fidelity_site, '"making sense"')
    assert "Making sense" in page.locator("#results mark").all_inner_texts()
    titles, _ = search(page, fidelity_site, "soil")
    # The private note about soil is not in the index.
    assert sorted(titles) == ["Gardening", "Hostile search"]
    result = page.locator("#results li").filter(has_text="Hostile search")
    # Text that looks like markup is shown as the page shows it: as text.
    assert "<script>window.__pwned=4</script>" in result.inner_text()
    assert result.locator("img, script").count() == 0
    assert page.evaluate("window.__pwned") is None
    _, status = search(page, fidelity_site, "share:public soil")
    assert "only the command line" in status
    assert not watched.problems, watched.problems
    context.close()
