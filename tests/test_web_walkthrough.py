"""The local app as one person uses it, across pages, on the sample vault in Chromium:
a note shared from its page appears in "view as" that audience and in no other."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from knowflow import Vault

from .conftest import EXAMPLES
from .websupport import Served, Watched, chromium, serving


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    with serving(Vault(root)) as served:
        yield served


def _site_pages(page: Any, served: Served, audience: str) -> dict[str, str]:
    """Every page of the audience's viewed site (address: its main heading), found by
    following links from its front page."""
    start = f"{served.base}view/{audience}/"
    queue, seen, pages = [start], set(), {}
    while queue:
        address = queue.pop()
        if address in seen:
            continue
        seen.add(address)
        page.goto(address)
        pages[address] = page.locator("main h1").first.inner_text()
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            target = href.split("#")[0]
            if target.startswith(start) and target.endswith(".html"):
                queue.append(target)
    return pages


def test_a_note_shared_from_its_page_is_seen_by_that_audience_only(served: Served) -> None:
    with chromium() as browser:
        context = served.signed_in(browser)
        watched = Watched(context.new_page())
        page = watched.page
        before = _site_pages(page, served, "team/platform")
        assert "Serendipity" not in before.values()
        page.goto(served.base + "note/concepts/Serendipity.md")
        page.get_by_label("Platform team").check()
        page.get_by_role("button", name="Save audiences").click()
        page.wait_for_url("**/note/concepts/Serendipity.md?done=audiences*")
        team = _site_pages(page, served, "team/platform")
        assert "Serendipity" in team.values(), sorted(team.values())
        assert "Serendipity" not in _site_pages(page, served, "public").values()
        assert not watched.problems, watched.problems
        context.close()


def test_remote_media_wait_until_asked_for(tmp_path: Path) -> None:
    # A note (or an entry) that shows a picture from another server would tell that
    # server when it is read: the app holds it back, as a mail reader does.
    root = tmp_path / "v"
    root.mkdir()
    (root / "Pics.md").write_text(
        "# Pics\n\n![far](https://images.example/pixel.png) ![[local.png]]\n", "utf-8"
    )
    (root / "local.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with serving(Vault.init(root)) as served, chromium() as browser:
        context = served.signed_in(browser)
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url))
        page.goto(served.base + "note/Pics.md")
        assert not [a for a in asked if "images.example" in a]
        assert page.locator("img[data-held-src='https://images.example/pixel.png']").count() == 1
        assert page.locator("img[src$='local.png']").count() == 1  # the vault's own: shown
        page.get_by_role("link", name="Load them").click()
        page.wait_for_url("**/note/Pics.md?media=show")
        assert page.locator("img[src='https://images.example/pixel.png']").count() == 1
        context.close()


def _every_page(served: Served, feed: str) -> list[str]:
    """One address of every kind of page the app has, on the sample vault."""
    return [
        "",
        "entry/1",
        "entry/1/full",
        "note/Welcome.md",
        "note/attachments/diagram.png",
        "edit/Welcome.md",
        "new",
        "rename/Welcome.md",
        "move/Welcome.md",
        "search?q=sense",
        "search?q=zzzznothing",
        "tags",
        "graph",
        "graph?note=Welcome.md",
        "sources",
        "sources/1/remove",
        f"capture?url={feed}&title=T&selection=S",
        "share",
        "view/public/",
        "no-such-page",
    ]


def test_every_page_passes_axe_at_both_widths(tmp_path: Path) -> None:
    from .feedserver import run_server
    from .websupport import WIDTHS, serious_violations

    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    feeds = run_server()
    server = next(feeds)
    feed = (EXAMPLES.parent / "feeds" / "network.xml").read_bytes()
    server.serve("/feed.xml", body=feed, Content_Type="application/atom+xml")
    server.serve(
        "/page",
        body=b"<html><head><title>P</title></head><body><article>"
        + b"<p>Words of a page. " * 40
        + b"</article></body></html>",
        Content_Type="text/html",
    )
    from click.testing import CliRunner

    from knowflow.cli import cli

    runner = CliRunner()
    for args in (["source", "add", server.url("/feed.xml"), "--no-discover"], ["update"]):
        assert runner.invoke(cli, ["--vault", str(root), *args]).exit_code == 0
    try:
        with serving(Vault(root)) as served, chromium() as browser:
            found: dict[str, list[str]] = {}
            for viewport in WIDTHS:
                context = served.signed_in(browser, viewport=viewport, bypass_csp=True)
                page = context.new_page()
                for path in _every_page(served, server.url("/page")):
                    response = page.goto(served.base + path)
                    assert response is not None
                    assert response.status == (404 if path == "no-such-page" else 200), path
                    assert page.locator("h1").count() >= 1, path
                    page.wait_for_load_state("networkidle")
                    problems = serious_violations(page)
                    if problems:
                        found[f"{viewport['width']}px /{path}"] = problems
                context.close()
            assert not found, found
    finally:
        feeds.close()
