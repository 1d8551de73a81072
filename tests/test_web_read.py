"""The Read page: the stream as a reader, through a real server and a real browser.

Entries are stored through the API (``store_entries``) in a vault's state.db; the
pages that entries link to (for "full text" and "open original") are served by a
local HTTP server on 127.0.0.1, the same origin as the source's feed, so that the
fetch guard lets the app reach it as it would reach an intranet source's pages.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.feeds import Entry
from knowflow.seek.stream import Stream, store_entries
from knowflow.web import create_app
from knowflow.web.security import csrf_token

from .feedserver import FeedServer, run_server
from .websupport import WIDTHS, Watched, serious_violations, serving

PAGE = (
    "<html><head><title>Tending a garden</title></head><body><nav>menu</nav><article>"
    + "<p>Tending a garden of notes takes a little time every day, and it pays back.</p>" * 8
    + "</article></body></html>"
)
TITLES = re.compile(r'class="read-title" href="[^"]*">([^<]*)<')


def entry(guid: str, title: str, day: int, link: str | None = None, html: str = "") -> Entry:
    return Entry(
        guid,
        title,
        link or f"https://e.org/{guid}",
        "Ada",
        f"2026-11-{day:02d}T10:00:00+00:00",
        None,
        html or f"<p>The text of {title}.</p>",
        guid + "h",
    )


@pytest.fixture(scope="module")
def pages() -> Iterator[FeedServer]:
    server = run_server()
    http = next(server)
    http.serve("/page", body=PAGE.encode(), Content_Type="text/html; charset=utf-8")
    yield http
    server.close()


def make_vault(root: Path, pages: FeedServer) -> Vault:
    """Five entries from a team source (newest first: One ... Five) and two from a
    network source; the source's feed and its pages share the local server."""
    vault = Vault.init(root)
    conn = open_state(vault)
    sources = Sources(conn)
    team = sources.add(pages.url("/feed"), name="Team", kind="team", tags=["work/ops"])
    net = sources.add("https://net.example.org/feed", name="Net", kind="network")
    names = ["One", "Two", "Three", "Four", "Five"]
    store_entries(
        conn,
        team.id,
        [
            entry(f"t{i}", name, 28 - i, link=pages.url("/page") if i == 0 else None)
            for i, name in enumerate(names)
        ],
    )
    store_entries(conn, net.id, [entry("n1", "Gardens", 10), entry("n2", "Streams", 9)])
    conn.close()
    return vault


def states(vault: Vault) -> dict[str, str]:
    conn = open_state(vault)
    try:
        return {e.title: e.state for e in Stream(conn).entries(limit=1000)}
    finally:
        conn.close()


def ids(vault: Vault) -> dict[str, int]:
    conn = open_state(vault)
    try:
        return {e.title: e.id for e in Stream(conn).entries(limit=1000)}
    finally:
        conn.close()


@pytest.fixture
def vault(tmp_path: Path, pages: FeedServer) -> Vault:
    return make_vault(tmp_path / "v", pages)


@pytest.fixture
def client(vault: Vault) -> Iterator[TestClient]:
    app = create_app(vault, token="t", host="testserver", port=80, background=False)
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/?token=t").status_code == 303  # the token becomes a cookie
        yield c


def listed(html: str) -> list[str]:
    return TITLES.findall(html)


CSRF = csrf_token("t")


# --- without a browser ------------------------------------------------------------


def test_unread_by_default_and_every_filter(client: TestClient, vault: Vault) -> None:
    page = client.get("/").text
    assert listed(page) == ["One", "Two", "Three", "Four", "Five", "Gardens", "Streams"]
    assert 'data-unread-kind="team">5<' in page and 'data-unread-source="Net">2<' in page
    assert listed(client.get("/?kind=network").text) == ["Gardens", "Streams"]
    assert listed(client.get("/?source=Net").text) == ["Gardens", "Streams"]
    assert listed(client.get("/?tag=work").text)[:1] == ["One"]
    assert listed(client.get("/?q=gardens").text) == ["Gardens"]
    for words in ('"unclosed', "NEAR(a b) OR *", "-x ^y:z", "{title}:"):  # words, not syntax
        assert client.get("/", params={"q": words}).status_code == 200
    conn = open_state(vault)
    Stream(conn).triage([ids(vault)["Two"]], "dismissed")
    conn.close()
    assert "Two" not in listed(client.get("/").text)
    assert listed(client.get("/?state=dismissed").text) == ["Two"]
    assert len(listed(client.get("/?state=all").text)) == 7
    assert listed(client.get("/?kind=bogus&state=bogus").text)[0] == "One"  # left out


def test_opening_an_entry_marks_it_read_unless_kept_or_dismissed(
    client: TestClient, vault: Vault
) -> None:
    one = ids(vault)["One"]
    page = client.get(f"/entry/{one}")
    assert page.status_code == 200 and "The text of One." in page.text
    assert 'href="' + "http://127.0.0.1" in page.text and 'rel="noopener noreferrer"' in page.text
    assert states(vault)["One"] == "seen"
    assert client.get("/entry/999999").status_code == 404
    two = ids(vault)["Two"]
    client.post(f"/entry/{two}/dismiss", data={"csrf": CSRF})
    client.get(f"/entry/{two}")
    assert states(vault)["Two"] == "dismissed"
    # The page shown after marking unread does not mark it read again.
    moved = client.post(f"/entry/{one}/toggle", data={"csrf": CSRF, "source": "Team"})
    assert moved.status_code == 303 and moved.headers["location"].startswith(f"/entry/{one}?")
    assert "source=Team" in moved.headers["location"]
    assert "Marked unread." in client.get(moved.headers["location"]).text
    assert states(vault)["One"] == "new"


def test_changes_need_the_csrf_token(client: TestClient, vault: Vault) -> None:
    one = ids(vault)["One"]
    for path in (f"/entry/{one}/keep", f"/entry/{one}/dismiss", "/read/mark-all"):
        assert client.post(path, data={"comment": "x"}).status_code == 403
        assert client.post(path, data={"csrf": "wrong"}).status_code == 403
    assert set(states(vault).values()) == {"new"}
    assert not (vault.root / "clippings").exists()


def test_keeping_writes_the_note_at_once_and_links_to_it(client: TestClient, vault: Vault) -> None:
    three = ids(vault)["Three"]
    done = client.post(
        f"/entry/{three}/keep", data={"csrf": CSRF, "comment": "Worth <b>trying</b>."}
    )
    assert done.status_code == 303
    note = vault.root / "clippings" / "Three.md"
    text = note.read_text()
    assert "Worth <b>trying</b>." not in text and "Worth" in text and "The text of Three." in text
    page = client.get(done.headers["location"]).text
    assert 'href="/note/clippings/Three.md"' in page and "Kept: its clipping note" in page
    assert states(vault)["Three"] == "kept"
    # Scripted, the answer is the pane itself.
    pane = client.post(
        f"/entry/{three}/keep", data={"csrf": CSRF}, headers={"X-Knowflow-Read": "1"}
    )
    assert pane.status_code == 200 and pane.text.lstrip().startswith('<article class="read-entry"')
    assert len(list((vault.root / "clippings").iterdir())) == 1


def test_mark_all_read_by_source_date_and_above(client: TestClient, vault: Vault) -> None:
    marked = client.post("/read/mark-all", data={"csrf": CSRF, "source": "Net"})
    assert marked.status_code == 303 and "marked=2" in marked.headers["location"]
    assert "2 entries marked read." in client.get(marked.headers["location"]).text
    assert {t for t, s in states(vault).items() if s == "seen"} == {"Gardens", "Streams"}
    older = client.post(
        "/read/mark-all",
        data={"csrf": CSRF, "before": "2026-11-26"},
        headers={"X-Knowflow-Read": "1"},
    )
    assert older.json() == {"marked": 2}  # Four (25th) and Five (24th)
    assert client.post("/read/mark-all", data={"csrf": CSRF, "before": "soon"}).status_code == 400
    # Everything above Three, but not an entry that arrived after the list was shown.
    listed_at = client.get("/").text.split('data-listed-at="')[1].split('"')[0]
    time.sleep(1.1)
    conn = open_state(vault)
    store_entries(conn, Sources(conn).get("Team").id, [entry("t9", "Late", 29)])
    conn.close()
    three = ids(vault)["Three"]
    above = client.post(f"/entry/{three}/above", data={"csrf": CSRF, "listed_at": listed_at})
    assert above.status_code == 303
    now = states(vault)
    assert (now["One"], now["Two"], now["Three"], now["Late"]) == ("seen", "seen", "new", "new")


def test_hostile_entry_html_never_reaches_the_page(client: TestClient, vault: Vault) -> None:
    conn = open_state(vault)
    hostile = (
        "<h1>Big</h1><script>alert('x')</script><img src=x onerror=alert(1)>"
        '<a href="javascript:alert(2)">click</a><p style="color:red" onclick="alert(3)">ok</p>'
        '<iframe src="https://evil.example/"></iframe><form action="/read/mark-all"></form>'
    )
    bad = entry(
        "x1", "<script>alert('t')</script>Evil", 29, link="javascript:alert(4)", html=hostile
    )
    store_entries(conn, Sources(conn).get("Net").id, [bad])  # stored as it came, unsanitized
    (found,) = Stream(conn).entries(search="Evil")
    conn.close()
    for path in (f"/entry/{found.id}", "/"):
        page = client.get(path).text
        assert "<script>alert" not in page
        for needle in ("onerror", "onclick", "javascript:", "<iframe", 'style="', "<h1>Big"):
            assert needle not in page, (path, needle)
    pane = client.get(f"/entry/{found.id}").text
    assert "&lt;script&gt;" in pane and "<h3>Big</h3>" in pane and "No web address" in pane


def test_full_text_and_its_failures(client: TestClient, vault: Vault, pages: FeedServer) -> None:
    one = ids(vault)["One"]
    full = client.get(f"/entry/{one}/full").text
    assert "Tending a garden of notes takes a little time" in full and "menu" not in full
    assert 'name="full" value="1"' in full  # keeping it now keeps the page's text
    client.post(f"/entry/{one}/keep", data={"csrf": CSRF, "full": "1"})
    assert "takes a little time" in (vault.root / "clippings" / "One.md").read_text()
    # A page that is not there, and an entry whose page is not the source's own host.
    conn = open_state(vault)
    team = Sources(conn).get("Team").id
    store_entries(conn, team, [entry("g", "Gone", 2, link=pages.url("/gone"))])
    other = Sources(conn).get("Net").id
    store_entries(conn, other, [entry("p", "Private", 2, link=pages.url("/page"))])
    conn.close()
    gone = client.get(f"/entry/{ids(vault)['Gone']}/full")
    assert gone.status_code == 200 and "Full text unavailable" in gone.text
    assert "HTTP 404" in gone.text and "The text of Gone." in gone.text
    refused = client.get(f"/entry/{ids(vault)['Private']}/full").text
    assert "Full text unavailable" in refused and "loopback" in refused


def test_ten_thousand_entries_come_a_page_at_a_time(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "big")
    conn = open_state(vault)
    source = Sources(conn).add("https://big.example.org/feed", name="Big")
    many = [
        Entry(f"b{i}", f"Entry {i:05d}", f"https://big.example.org/{i}", None,
              f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00+00:00",
              None, "<p>x</p>", f"h{i}")
        for i in range(10_000)
    ]  # fmt: skip
    store_entries(conn, source.id, many)
    conn.close()
    app = create_app(vault, token="t", host="testserver", port=80, background=False)
    with TestClient(app) as c:
        c.get("/?token=t")
        started = time.perf_counter()
        first = c.get("/").text
        assert time.perf_counter() - started < 2  # the benchmark measures it properly
        assert "data-unread-total>10000<" in first and len(listed(first)) == 50
        seen = listed(first)
        more = re.search(r'data-rows="([^"]+)"', first)
        assert more
        rows_page = c.get(more.group(1).replace("&amp;", "&")).text
        assert len(listed(rows_page)) == 50 and not set(listed(rows_page)) & set(seen)
        # Without script, "More entries" is the page from there on.
        plain = re.search(r'<li class="read-more"><a href="([^"]+)"', first)
        assert plain and listed(c.get(plain.group(1).replace("&amp;", "&")).text) == listed(
            rows_page
        )


# --- in a browser -----------------------------------------------------------------


def wait_pane(page: Any, entry_id: int, state: str | None = None) -> None:
    where = f'#read-entry[data-id="{entry_id}"]' + (f'[data-state="{state}"]' if state else "")
    page.wait_for_selector(where)


def test_keyboard_triage_in_the_browser(browser: Any, vault: Vault, pages: FeedServer) -> None:
    by = ids(vault)
    with serving(vault) as served:
        context = served.signed_in(browser, viewport=WIDTHS[0])
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base)
        assert page.locator("#read-pane .read-hint").is_visible()

        page.keyboard.press("j")  # One: opened beside the list, and read
        wait_pane(page, by["One"], "seen")
        assert page.locator(f"#entry-{by['One']}.is-selected").count() == 1
        assert page.evaluate("document.activeElement.closest('.read-row').dataset.id") == str(
            by["One"]
        )
        with context.expect_page() as popup:
            page.keyboard.press("o")  # the original, in a new tab
        assert popup.value.url == pages.url("/page")
        popup.value.close()
        page.keyboard.press("e")  # kept: the note is written now, and linked
        wait_pane(page, by["One"], "kept")
        link = page.locator(".read-kept a")
        assert link.get_attribute("href") == "/note/clippings/One.md"
        assert (vault.root / "clippings" / "One.md").exists()

        page.keyboard.press("j")  # Two: dismissed
        wait_pane(page, by["Two"], "seen")
        page.keyboard.press("d")
        wait_pane(page, by["Two"], "dismissed")

        page.keyboard.press("j")  # Three: read, then unread again
        wait_pane(page, by["Three"], "seen")
        page.keyboard.press("m")
        wait_pane(page, by["Three"], "new")
        assert page.locator(f"#entry-{by['Three']}").get_attribute("data-state") == "new"

        page.keyboard.press("j")  # Four: kept with a note, typed in the box
        wait_pane(page, by["Four"], "seen")
        page.keyboard.press("n")
        page.keyboard.type("jot this down")  # keys typed in the box are text, not commands
        page.keyboard.press("Control+Enter")
        wait_pane(page, by["Four"], "kept")
        assert "jot this down" in (vault.root / "clippings" / "Four.md").read_text()

        page.keyboard.press("j")
        wait_pane(page, by["Five"], "seen")
        page.keyboard.press("A")  # everything above: Three, marked unread, is read again
        page.wait_for_selector(f'#entry-{by["Three"]}[data-state="seen"]')
        assert page.locator("#read-status").inner_text() == "1 entry marked read."
        assert states(vault) == {
            "One": "kept",
            "Two": "dismissed",
            "Three": "seen",
            "Four": "kept",
            "Five": "seen",
            "Gardens": "new",
            "Streams": "new",
        }
        assert page.locator('[data-unread-kind="team"]').inner_text().startswith("0")

        page.keyboard.press("?")
        assert page.locator("#read-keys").get_attribute("open") is not None
        page.keyboard.press("k")  # back up the list: Four, as it was left
        wait_pane(page, by["Four"], "kept")
        page.locator("#read-keys-on").uncheck()  # single-key shortcuts can be turned off
        page.locator(".read-title").first.focus()
        page.keyboard.press("j")
        page.wait_for_timeout(300)
        assert page.locator("#read-entry").get_attribute("data-id") == str(by["Four"])
        page.locator("#read-keys-on").check()
        page.click(".read-kept a")  # the note, in the app; and search finds it at once
        page.wait_for_url("**/note/clippings/Four.md")
        page.goto(f"{served.base}search?q=type:clipping+jot")
        assert page.locator(".hit-title").all_inner_texts() == ["Four"]
        assert not watched.problems, watched.problems
        context.close()


def test_mark_a_source_read_and_full_text(browser: Any, vault: Vault) -> None:
    by = ids(vault)
    with serving(vault) as served:
        context = served.signed_in(browser, viewport=WIDTHS[0])
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base)
        page.get_by_role("link", name="Net", exact=True).click()
        page.get_by_role("button", name="Mark all read in Net").click()
        page.wait_for_selector("#read-status:has-text('2 entries marked read.')")
        assert {t for t, s in states(vault).items() if s == "seen"} == {"Gardens", "Streams"}
        assert page.locator('[data-unread-source="Net"]').inner_text().startswith("0")

        page.goto(f"{served.base}entry/{by['One']}")
        page.get_by_role("link", name="Full text").click()
        page.wait_for_selector("text=takes a little time every day")
        page.get_by_role("button", name="Keep full text").click()
        page.wait_for_selector(".read-kept")
        assert "takes a little time" in (vault.root / "clippings" / "One.md").read_text()
        assert not watched.problems, watched.problems
        context.close()


def test_phone_list_then_entry_on_its_own_page(browser: Any, vault: Vault) -> None:
    by = ids(vault)
    with serving(vault) as served:
        context = served.signed_in(browser, viewport=WIDTHS[1])
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base)
        assert not page.locator("#read-pane").is_visible()
        page.keyboard.press("j")  # selects; the entry opens on its own page
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/entry/{by['One']}")
        assert page.locator("#read-pane").is_visible()
        assert not page.locator(".read-list").is_visible()
        page.keyboard.press("j")  # next: the entry's own "Older" link
        page.wait_for_url(f"**/entry/{by['Two']}")
        page.get_by_role("link", name="← All entries").click()
        page.wait_for_url(served.base)
        assert not watched.problems, watched.problems
        context.close()


@pytest.mark.parametrize("width", WIDTHS, ids=["desktop", "phone"])
def test_no_serious_accessibility_issue(browser: Any, vault: Vault, width: dict[str, int]) -> None:
    by = ids(vault)
    with serving(vault) as served:
        context = served.signed_in(browser, viewport=width, bypass_csp=True)
        page = context.new_page()
        for path in ("", f"entry/{by['One']}", f"entry/{by['One']}/full"):
            page.goto(served.base + path)
            assert serious_violations(page) == [], path
        page.goto(served.base)
        page.keyboard.press("?")
        assert serious_violations(page) == []
        context.close()


def test_more_entries_load_in_place(browser: Any, tmp_path: Path, pages: FeedServer) -> None:
    vault = make_vault(tmp_path / "many", pages)
    conn = open_state(vault)
    net = Sources(conn).get("Net").id
    store_entries(conn, net, [entry(f"m{i}", f"Old {i:02d}", 1 + i % 8) for i in range(50)])
    conn.close()
    with serving(vault) as served:
        context = served.signed_in(browser, viewport=WIDTHS[0])
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base)
        rows = page.locator(".read-row")
        assert rows.count() == 50
        rows.nth(49).locator(".read-title").click()  # the last one listed
        page.wait_for_selector(".read-row.is-selected")
        page.keyboard.press("j")  # past the end: the next page comes, and its first opens
        page.wait_for_selector(".read-row:nth-child(51).is-selected")
        assert rows.count() == 57
        assert page.locator(".read-more").count() == 0
        assert not watched.problems, watched.problems
        context.close()


def test_without_javascript_every_action_is_a_form(browser: Any, vault: Vault) -> None:
    by = ids(vault)
    with serving(vault) as served:
        context = served.signed_in(browser, viewport=WIDTHS[0], java_script_enabled=False)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base)
        page.get_by_role("link", name="Two", exact=True).click()
        page.wait_for_url(f"**/entry/{by['Two']}")
        page.get_by_label("Your note (optional)").fill("no script needed")
        page.get_by_role("button", name="Keep", exact=False).first.click()
        page.wait_for_selector(".read-kept")
        assert "no script needed" in (vault.root / "clippings" / "Two.md").read_text()
        page.get_by_role("link", name="Older").click()  # Three, read on opening
        page.get_by_role("button", name="Mark everything above as read").click()
        page.wait_for_selector("text=1 entry marked read.")  # One
        assert states(vault)["One"] == "seen" and states(vault)["Three"] == "seen"
        assert not watched.problems, watched.problems
        context.close()
