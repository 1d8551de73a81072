"""The sources page and the bookmarklet's capture window, in Chromium against the real
app: follow a site by its address (discovery), update now, see entries counted and a
broken feed's error, pause, rename, remove; capture a page with a selection, tags and
a comment; axe at both widths; no console error or failed request anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from knowflow.vault import Vault
from knowflow.web.sources import bookmarklet

from .feedserver import FeedServer, run_server
from .websupport import WIDTHS, Watched, serious_violations, serving

SITE = b"""<!doctype html><html><head><title>Field notes</title>
<link rel="alternate" type="application/rss+xml" title="Field notes" href="/feed.xml">
</head><body><p>A site.</p></body></html>"""

ARTICLE = b"""<!doctype html><html><head><title>On gardens of knowledge</title>
<meta name="author" content="Ada Gardener"></head><body><article>
<h1>On gardens of knowledge</h1>
<p>Personal knowledge mastery is a set of processes to help each of us make sense of
our world and work more effectively. It keeps us afloat in a sea of information.</p>
<p>Seek, sense and share: finding things and keeping up to date, making sense of them
in our own notes, and sharing what we learned with the people we work with.</p>
<p>The practice matters more than the tools, which change every few years while the
habits of a curious mind stay with us for a working life.</p>
</article></body></html>"""


def rss(*titles: str, ttl: int | None = None) -> bytes:
    items = "".join(
        f'<item><guid isPermaLink="false">g{n}</guid><title>{t}</title>'
        f"<link>http://e.org/{n}</link><description>{t} body</description></item>"
        for n, t in enumerate(titles)
    )
    extra = f"<ttl>{ttl}</ttl>" if ttl else ""
    channel = f"<channel><title>Field notes</title>{extra}{items}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'.encode()


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    yield from run_server()


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    root = tmp_path / "vault"
    root.mkdir()
    (root / "Welcome.md").write_text("# Welcome\n", encoding="utf-8")
    return Vault.init(root)


def expect(locator: Any) -> Any:
    """Playwright's assertions, which wait for the page (a form's post reloads it)."""
    from playwright.sync_api import expect as wait_until

    return wait_until(locator)


def _item(page: Any, name: str) -> Any:
    return page.locator(f'li.source[data-source="{name}"]')


def test_follow_update_pause_rename_remove(browser: Any, server: FeedServer, vault: Vault) -> None:
    server.serve("/site", body=SITE, Content_Type="text/html; charset=utf-8")
    server.serve("/feed.xml", body=rss("One", "Two", "Three", ttl=30))
    server.serve("/broken.xml", status=500, body=b"oops")
    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "sources")
        assert page.locator("h1").inner_text() == "Sources"

        # Follow a site by its address: the feed it announces is found.
        page.fill("#add-address", server.url("/site"))
        page.select_option("#add-kind", "community")
        page.fill("#add-tags", "pkm, gardens")
        page.click(".add-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("Following Field notes (community)")
        field = _item(page, "Field notes")
        assert server.url("/feed.xml") in field.inner_text()
        assert "#pkm" in field.inner_text() and "never" in field.inner_text()

        # A broken feed, taken as the feed itself.
        page.fill("#add-address", server.url("/broken.xml"))
        page.fill("#add-name", "Broken")
        page.check("#add-no-discover")
        page.click(".add-form button[type=submit]")
        expect(_item(page, "Broken")).to_have_count(1)

        # Update now: progress, then the list refreshed with counts and the error.
        page.click(".sources-update button[type=submit]")
        page.wait_for_selector("#update-status:has-text('Last update')", timeout=20000)
        status = page.locator("#update-status").inner_text()
        assert "2 sources, 3 new entries, 1 failed" in status and "Broken: HTTP 500" in status
        page.wait_for_selector("li.source[data-source='Field notes'] .unread:text-is('3')")
        assert "Last error: HTTP 500 (1 in a row)" in _item(page, "Broken").inner_text()
        assert "3 unread" in page.locator("#kind-community").inner_text()

        # Pause, rename, remove (with its confirm step).
        _item(page, "Broken").get_by_role("button", name="Pause").click()
        expect(_item(page, "Broken").locator(".flag")).to_have_text("paused")
        _item(page, "Field notes").locator("summary").click()
        _item(page, "Field notes").get_by_label("New name").fill("Garden notes")
        _item(page, "Field notes").get_by_role("button", name="Save").click()
        expect(page.locator(".flash")).to_contain_text("Renamed Field notes to Garden notes")
        expect(_item(page, "Garden notes")).to_have_count(1)
        _item(page, "Broken").get_by_role("link", name="Remove").click()
        expect(page.locator("h1")).to_have_text("Remove Broken?")
        page.get_by_role("button", name="Remove Broken").click()
        expect(page.locator(".flash")).to_contain_text("Removed Broken")
        expect(_item(page, "Broken")).to_have_count(0)

        # Export as OPML: a download of what is followed.
        with page.expect_download() as download:
            page.click("text=Export every source as OPML")
        opml = Path(download.value.path()).read_text("utf-8")
        assert "Garden notes" in opml and server.url("/feed.xml") in opml
        assert not watched.problems
        context.close()


def test_import_opml_and_update_one(
    browser: Any, server: FeedServer, vault: Vault, tmp_path: Path
) -> None:
    server.serve("/a.xml", body=rss("Alpha"))
    opml = tmp_path / "list.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
        f'<outline text="team"><outline type="rss" text="A" xmlUrl="{server.url("/a.xml")}"/>'
        "</outline></body></opml>",
        encoding="utf-8",
    )
    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "sources")
        page.set_input_files("#opml-file", str(opml))
        page.click(".opml-form button[type=submit]")
        expect(page.locator(".flash")).to_contain_text("1 added, 0 already followed, 0 failed")
        garbage = tmp_path / "not.opml"
        garbage.write_bytes(b"<html><body>not a list</body>")
        page.set_input_files("#opml-file", str(garbage))
        page.click(".opml-form button[type=submit]")
        expect(page.locator(".flash.error")).to_be_visible()
        assert "team" in page.locator("#kind-team").inner_text().lower()
        _item(page, "A").get_by_role("button", name="Update").click()
        page.wait_for_selector("li.source[data-source='A'] .unread:text-is('1')", timeout=20000)
        assert not watched.problems
        context.close()


SELECT = """(words) => {
  const p = [...document.querySelectorAll("p")].find((p) => p.textContent.includes(words));
  const at = p.firstChild.textContent.indexOf(words);
  const range = document.createRange();
  range.setStart(p.firstChild, at);
  range.setEnd(p.firstChild, at + words.length);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
}"""


def test_capture_through_the_bookmarklet_window(
    browser: Any, server: FeedServer, vault: Vault
) -> None:
    server.serve("/article", body=ARTICLE, Content_Type="text/html; charset=utf-8")
    selection = "It keeps us afloat in a sea of information."
    with serving(vault) as served:
        link = bookmarklet(served.app.state.address)
        assert link.startswith("javascript:") and f"{served.base}capture" in link
        context = served.signed_in(browser)
        # The person reads a page on another site, selects words, clicks the bookmarklet.
        article = context.new_page()
        article.goto(server.url("/article"))
        article.evaluate(SELECT, selection)
        with context.expect_page() as opened:
            article.evaluate(unquote(link.removeprefix("javascript:")))
        window = opened.value
        watched = Watched(window)
        window.wait_for_load_state()
        assert window.url.startswith(f"{served.base}capture?url=")
        expect(window.locator("h1")).to_have_text("Capture to knowflow")
        assert window.locator(".page-title").inner_text() == "On gardens of knowledge"
        assert window.locator(".selection mark").inner_text() == selection
        window.fill("#capture-tags", "pkm reading")
        window.fill("#capture-comment", "The definition I keep coming back to.")
        window.click("text=Save clipping")
        saved = window.locator(".saved a").inner_text()
        assert saved.startswith("clippings/") and saved.endswith(".md")
        assert not watched.problems
        with window.expect_event("close", timeout=5000):
            window.click(".close-window")
        text = (vault.root / saved).read_text("utf-8")
        assert "The definition I keep coming back to." in text
        assert re.search(r"tags:.*pkm", text, re.S) and "reading" in text
        assert "> [!quote] Highlight ^hl-" in text and selection in text
        assert "share: private" in text

        # The same page again: no second note, the new selection added to the first.
        again = context.new_page()
        watched = Watched(again)
        more = "Seek, sense and share"
        again.goto(f"{served.base}capture?url={server.url('/article')}&selection={more}")
        assert "kept this page before" in again.locator(".capture-kept").inner_text()
        assert again.locator(".capture-kept a").inner_text() == saved
        again.fill("#capture-tags", "other")
        again.click("text=Save clipping")
        assert again.locator(".saved a").inner_text() == saved
        assert "kept before" in again.locator(".error").inner_text()
        assert not watched.problems
        text = (vault.root / saved).read_text("utf-8")
        assert text.count("> [!quote] Highlight") == 2 and "other" not in text

        # A page that is not http(s) is refused, saying why.
        other = context.new_page()
        response = other.goto(f"{served.base}capture?url=javascript:alert(1)")
        assert response is not None and response.status == 400
        assert "Only web pages (http or https)" in other.locator("[role=alert]").inner_text()
        assert len(list((vault.root / "clippings").glob("*.md"))) == 1
        context.close()


def test_the_pages_pass_axe_at_both_widths(browser: Any, server: FeedServer, vault: Vault) -> None:
    server.serve("/feed.xml", body=rss("One"))
    from knowflow.seek.sources import Sources
    from knowflow.seek.state import open_state

    conn = open_state(vault)
    Sources(conn).add(server.url("/feed.xml"), "Feed", "team", ["pkm"])
    broken = Sources(conn).add(server.url("/nothing.xml"), "Gone")
    conn.execute(
        "UPDATE sources SET last_error = 'HTTP 404', failures = 2 WHERE id = ?", (broken.id,)
    )
    conn.close()
    with serving(vault) as served:
        for size in WIDTHS:
            context = served.signed_in(browser, viewport=size, bypass_csp=True)
            page = context.new_page()
            watched = Watched(page)
            for address in (
                "sources",
                f"sources/{broken.id}/remove",
                f"capture?url={server.url('/a')}&title=T&selection=some%20words",
            ):
                page.goto(served.base + address)
                assert not serious_violations(page), (address, size)
            assert not watched.problems
            context.close()


def test_the_read_page_hears_of_new_entries(browser: Any, server: FeedServer, vault: Vault) -> None:
    server.serve("/news.xml", body=rss("Fresh", "Fresher"))
    from knowflow.seek.sources import Sources
    from knowflow.seek.state import open_state
    from knowflow.web.security import csrf_token

    conn = open_state(vault)
    Sources(conn).add(server.url("/news.xml"), "News")
    conn.close()
    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base)
        page.wait_for_timeout(300)  # its event stream is open
        csrf = {"X-CSRF-Token": csrf_token(served.token)}
        assert page.request.post(served.base + "sources/update", headers=csrf).ok
        notice = page.locator(".live-notice[role=status]")
        expect(notice).to_contain_text("2 new entries.", timeout=20000)
        with page.expect_navigation():
            notice.get_by_role("button", name="Show").click()
        expect(page.locator("body")).to_contain_text("Fresher")
        assert not watched.problems
        context.close()


def test_a_capture_that_fails_says_why_and_keeps_the_form(server: FeedServer, vault: Vault) -> None:
    import httpx

    from knowflow.web.security import csrf_token

    server.serve("/gone", status=404)
    with serving(vault) as served:
        http = httpx.Client(base_url=served.base, follow_redirects=True, timeout=30)
        http.get(f"/?token={served.token}")
        form = {"url": server.url("/gone"), "selection": "words", "comment": "mine"}
        refused = http.post("/capture", data=form)  # no CSRF token: refused
        assert refused.status_code == 403
        failed = http.post("/capture", data={**form, "csrf": csrf_token(served.token)})
        assert failed.status_code == 502
        assert f"Could not capture {server.url('/gone')}: HTTP 404" in failed.text
        assert ">mine</textarea>" in failed.text
        hostile = {**form, "url": "data:text/html,<script>alert(1)</script>"}
        odd = http.post("/capture", data={**hostile, "csrf": csrf_token(served.token)})
        assert odd.status_code == 400 and "<script>alert" not in odd.text
    assert not (vault.root / "clippings").exists()
