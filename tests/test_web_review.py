"""The Review page through the app and in Chromium: the day's items as plain words,
each answer by its button (connect goes straight to the note's related notes and
suggested links, with when it comes back and the way back to the review), the week's
clippings with nothing of one's own, axe at both widths, and no console errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from knowflow import Index
from knowflow.seek.highlights import callout
from knowflow.seek.state import open_state
from knowflow.vault import Vault
from knowflow.web import create_app
from knowflow.web.security import csrf_token

from .conftest import write_files
from .websupport import Watched, check_pages, serving


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    root = tmp_path / "vault"
    root.mkdir()
    captured = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat(timespec="seconds")
    write_files(
        root,
        {
            "Alpha.md": "# Alpha\n\nAbout [[Beta]]. #garden\n",
            "Beta.md": "# Beta\n\nThe second note.\n",
            "Gamma.md": "# Gamma\n\nLinks to [[Alpha]].\n",
            "Clip.md": (
                f"---\ntype: clipping\nurl: https://example.org/c\nsource: Blog\n"
                f"captured: {captured}\n---\n# Clip\n\nSome words kept.\n\n"
                + callout("Some words")
                + "\n"
            ),
        },
    )
    vault = Vault.init(root)
    with Index(vault) as index:
        index.scan()
    return vault


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as wait_until

    return wait_until(locator)


def _answer(page: Any, item: str, words: str) -> None:
    form = page.locator(f'form.answers:has(input[name=item][value="{item}"])')
    form.get_by_role("button", name=words).click()


def _answers(vault: Vault) -> dict[str, str]:
    conn = open_state(vault)
    try:
        return dict(conn.execute("SELECT item, last_answer FROM review_items").fetchall())
    finally:
        conn.close()


@pytest.fixture
def client(vault: Vault) -> Iterator[TestClient]:
    app = create_app(vault, token="t", host="testserver", port=80, background=False)
    with TestClient(app, follow_redirects=False) as c:
        assert c.get("/?token=t").status_code == 303  # the token becomes a cookie
        yield c


def test_connect_goes_straight_to_the_notes_connections(client: TestClient, vault: Vault) -> None:
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    answer = {"csrf": csrf_token("t"), "item": "Alpha.md", "answer": "connect"}
    response = client.post("/review/mark", data=answer)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/note/Alpha.md?reviewed=Alpha.md&due={tomorrow}&connections=show#connections"
    )
    page = client.get(response.headers["location"]).text
    assert f"Review: Alpha.md comes back on {tomorrow}." in page
    assert '<p class="review-back"><a href="/review">Back to the Review</a>' in page
    related = page.split('<ul class="related">', 1)[1].split("</ul>", 1)[0]
    assert "Gamma" in related  # the lists are drawn in: no second click
    assert _answers(vault) == {"Alpha.md": "connect"}
    # The other answers stay on the Review page; the note page alone has no way back.
    answer |= {"item": "Beta.md", "answer": "still_useful"}
    assert client.post("/review/mark", data=answer).headers["location"].startswith("/review?")
    assert "review-back" not in client.get("/note/Alpha.md?connections=show").text


def test_a_card_shows_plain_words(client: TestClient, vault: Vault) -> None:
    (vault.root / "Beta.md").write_text(
        "# Beta\n\n**Outline Panel:** the [loop note](concepts/Seek%20Sense%20Share.md),"
        " [[Serendipity|follow a hunch]]. ![[Alpha]]\n",
        encoding="utf-8",
    )
    with Index(vault) as index:
        index.scan()
    page = client.get("/review").text
    assert '<p class="text">Outline Panel: the loop note, follow a hunch.</p>' in page


def test_mark_each_way_from_the_page(browser: Any, vault: Vault) -> None:
    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "review")
        assert page.locator("h1").inner_text() == "Review"
        assert page.locator("nav a[href='/review']").count() == 1
        items = page.locator("form.answers input[name=item]")
        shown = [items.nth(i).get_attribute("value") for i in range(items.count())]
        highlight = next(str(s) for s in shown if str(s).startswith("Clip.md#^hl-"))
        assert sorted(map(str, shown)) == [
            "Alpha.md",
            "Beta.md",
            "Clip.md",
            highlight,
            "Gamma.md",
        ]
        assert page.locator("blockquote").inner_text() == "Some words"
        # The clipping holds nothing of the person's own: the weekly list has it.
        assert "Clip" in page.locator(".review-weekly").inner_text()

        _answer(page, "Alpha.md", "Connect")
        # Connect goes straight to the note page's Connections, the lists drawn in.
        page.wait_for_url("**/note/Alpha.md?*connections=show#connections")
        expect(page.locator(".connect-notice")).to_contain_text("Alpha.md comes back on")
        expect(page.locator("#connections ul.related")).to_contain_text("Gamma")
        page.locator("#connections").get_by_role("link", name="Back to the Review").click()
        page.wait_for_url("**/review")
        assert page.locator("input[name=item][value='Alpha.md']").count() == 0

        _answer(page, "Beta.md", "Still useful")
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        expect(page.locator(".flash")).to_contain_text(f"Beta.md comes back on {tomorrow}")

        _answer(page, "Gamma.md", "Let go")
        expect(page.locator(".flash")).to_contain_text("Let go of Gamma.md")
        assert page.locator("form.answers").count() == 2
        assert _answers(vault) == {
            "Alpha.md": "connect",
            "Beta.md": "still_useful",
            "Gamma.md": "let_go",
        }
        assert not watched.problems
        context.close()


def test_a_post_without_the_csrf_token_is_refused(browser: Any, vault: Vault) -> None:
    with serving(vault) as served:
        context = served.signed_in(browser)
        response = context.request.post(
            served.base + "review/mark", form={"item": "Alpha.md", "answer": "let_go"}
        )
        assert response.status == 403
        context.close()
    assert _answers(vault) == {}


def test_axe_at_both_widths_and_no_console_errors(browser: Any, vault: Vault) -> None:
    with serving(vault) as served:
        addresses = (
            "review",
            "review?done=Alpha.md%20comes%20back",
            "note/Alpha.md?reviewed=Alpha.md&due=2026-01-02&connections=show",
        )
        check_pages(browser, served, addresses)
