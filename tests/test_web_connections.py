"""The note page's connections through the app (a real vault on disk, the real index,
the app's guard): related notes with why, unlinked mentions both ways as suggested
links with their sentence, and Accept, which changes only that span of that line,
writes nothing to a file changed since the page was drawn, and needs the CSRF token."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from knowflow import Index, Vault
from knowflow.web.connections import marked
from knowflow.web.security import csrf_token

from .websupport import (
    Watched,
    check_pages,
    indexed_vault,
    serving,
    signed_in,
)

FILES: dict[str, str | bytes] = {
    "Bees.md": "---\naliases: [honeybee]\n---\n# Bees\n\n"
    "A honeybee visits the orchard pollination sites. They pollinate orchards.\n"
    "Later, orchard pollination again, and orchard pollination once more.\n",
    "Orchard pollination.md": "# Orchard pollination\n\n"
    "Orchards need bees for pollination, and pollinate well.\n",
    "Café crème.md": "# Café crème\n\nNothing about insects.\n",
    "Élan.md": "# Élan\n\nA morning café crème, then work.\n",
    "Windows.md": b"# Windows\r\n\r\nBees on a CRLF line.\r\nSecond line.\r\n",
}
CSRF = csrf_token("t")
FORM = re.compile(r'<form method="post" action="/link/accept".*?</form>', re.DOTALL)
FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return indexed_vault(tmp_path / "vault", FILES)


@pytest.fixture
def client(vault: Vault) -> Iterator[TestClient]:
    with signed_in(vault) as c:
        yield c


def forms(page: str) -> list[dict[str, str]]:
    """Each Accept form's fields, as the browser would post them."""
    return [
        {name: html.unescape(value) for name, value in FIELD.findall(form)}
        for form in FORM.findall(page)
    ]


def the_form(page: str, path: str, text: str) -> dict[str, str]:
    found = [f for f in forms(page) if f["path"] == path and f["text"] == text]
    assert found, (path, text, forms(page))
    return found[0]


def test_the_note_page_draws_a_frame_the_script_fills(client: TestClient) -> None:
    page = client.get("/note/Bees.md").text
    assert 'id="connections"' in page
    assert 'data-connections-url="/connections/Bees.md"' in page
    # Without script, the link draws the page with the lists in it.
    assert 'href="/note/Bees.md?connections=show#connections"' in page
    assert "Related notes" not in page
    shown = client.get("/note/Bees.md?connections=show").text
    assert "Related notes" in shown and "data-connections-url" not in shown


def test_the_section_lists_related_notes_mentions_and_suggestions(client: TestClient) -> None:
    part = client.get("/connections/Bees.md")
    assert part.status_code == 200
    text = part.text
    assert "<html" not in text  # a fragment, put into the page by note.js
    related = text.split('<ul class="related">', 1)[1].split("</ul>", 1)[0]
    assert '<a href="/note/Orchard%20pollination.md">Orchard pollination</a>' in related
    assert "shared words:" in related and "pollinate" in related
    # In this note: "orchard pollination" names a note and is not a link.
    assert (
        '<p class="sentence">A honeybee visits the <mark>orchard pollination</mark> sites.</p>'
        in text
    )
    assert 'names <a href="/note/Orchard%20pollination.md">Orchard pollination</a>' in text
    # One link made makes the others linked mentions: they are folded away.
    assert "<summary>2 more places in Bees.md</summary>" in text
    assert 'Unlinked mentions here <span class="count">(1)</span>' in text
    # Elsewhere: two notes name this one ("bees") without linking to it.
    mine = the_form(text, "Orchard pollination.md", "bees")
    assert mine | {"version": ""} == {
        "csrf": CSRF,
        "note": "Bees.md",
        "path": "Orchard pollination.md",
        "line": "3",
        "column": "14",
        "text": "bees",
        "target": "Bees.md",
        "version": "",
    }
    assert the_form(text, "Windows.md", "Bees")["line"] == "3"
    assert "<mark>bees</mark> for pollination" in text


def test_accept_changes_only_that_span_then_goes_back_to_the_note(
    client: TestClient, vault: Vault
) -> None:
    file = vault.root / "Bees.md"
    before = file.read_bytes()
    form = the_form(client.get("/connections/Bees.md").text, "Bees.md", "orchard pollination")
    done = client.post("/link/accept", data=form)
    assert done.status_code == 303
    address = urlsplit(done.headers["location"])
    assert address.path == "/note/Bees.md" and address.fragment == "connections"
    assert parse_qs(address.query)["connections"] == ["show"]
    link = b"[[Orchard pollination|orchard pollination]]"
    assert file.read_bytes() == before.replace(b"orchard pollination", link, 1)
    assert b"Later, orchard pollination again," in file.read_bytes()  # the other line kept
    page = client.get(done.headers["location"]).text
    assert "Linked: [[Orchard pollination|orchard pollination]] written in Bees.md, line 6." in page
    assert 'role="status"' in page
    # Now linked: no longer suggested (the other mention of it neither: it is linked).
    assert 'name="text" value="orchard pollination"' not in page
    assert 'href="/note/Orchard%20pollination.md">Orchard pollination</a>' in page


def test_accepting_a_mention_elsewhere_edits_that_note(client: TestClient, vault: Vault) -> None:
    own, other, crlf = (vault.root / n for n in ("Bees.md", "Orchard pollination.md", "Windows.md"))
    own_before, other_before, crlf_before = own.read_bytes(), other.read_bytes(), crlf.read_bytes()
    part = client.get("/connections/Bees.md").text
    done = client.post("/link/accept", data=the_form(part, "Orchard pollination.md", "bees"))
    assert done.status_code == 303 and done.headers["location"].startswith("/note/Bees.md?")
    assert own.read_bytes() == own_before
    assert other.read_bytes() == other_before.replace(b"need bees", b"need [[Bees|bees]]")
    done = client.post("/link/accept", data=the_form(part, "Windows.md", "Bees"))
    assert crlf.read_bytes() == crlf_before.replace(b"\r\nBees on", b"\r\n[[Bees]] on")
    backlinks = client.get("/note/Bees.md").text.split('<ul class="backlinks">', 1)[1]
    assert "Orchard pollination" in backlinks.split("</ul>", 1)[0]


def test_non_ascii_names_are_found_and_linked(client: TestClient, vault: Vault) -> None:
    part = client.get("/connections/%C3%89lan.md").text
    form = the_form(part, "Élan.md", "café crème")
    assert form["target"] == "Café crème.md"
    assert client.post("/link/accept", data=form).status_code == 303
    assert "A morning [[Café crème|café crème]], then work." in (vault.root / "Élan.md").read_text(
        "utf-8"
    )


def test_accept_links_the_mention_shown_when_a_line_holds_it_twice(
    client: TestClient, vault: Vault
) -> None:
    file = vault.root / "Bees.md"
    before = file.read_bytes()
    shown = [f for f in forms(client.get("/connections/Bees.md").text) if f["line"] == "7"]
    assert [f["column"] for f in shown] == ["7", "38"]
    assert client.post("/link/accept", data=shown[1]).status_code == 303
    line = b"Later, orchard pollination again, and orchard pollination once more."
    linked = line.replace(
        b"and orchard pollination", b"and [[Orchard pollination|orchard pollination]]"
    )
    assert file.read_bytes() == before.replace(line, linked)


def test_a_file_changed_since_the_page_was_drawn_is_not_written(
    client: TestClient, vault: Vault
) -> None:
    file = vault.root / "Orchard pollination.md"
    form = the_form(client.get("/connections/Bees.md").text, "Orchard pollination.md", "bees")
    changed = file.read_bytes() + b"\nA line added in another editor.\n"
    file.write_bytes(changed)
    done = client.post("/link/accept", data=form)
    assert done.status_code == 303
    assert file.read_bytes() == changed
    page = client.get(done.headers["location"]).text
    assert "Orchard pollination.md changed since this page was drawn: nothing was written." in page
    assert 'role="alert"' in page


def test_a_mention_gone_since_is_refused_and_nothing_written(
    client: TestClient, vault: Vault
) -> None:
    form = the_form(client.get("/connections/Bees.md").text, "Bees.md", "orchard pollination")
    before = (vault.root / "Bees.md").read_bytes()
    done = client.post("/link/accept", data=form | {"line": "1"})
    assert (vault.root / "Bees.md").read_bytes() == before
    assert "no longer holds that mention on line 1" in client.get(done.headers["location"]).text


def test_accept_needs_the_csrf_token_and_a_path_in_the_vault(
    client: TestClient, vault: Vault, tmp_path: Path
) -> None:
    before = {p: p.read_bytes() for p in vault.root.rglob("*.md")}
    form = the_form(client.get("/connections/Bees.md").text, "Bees.md", "orchard pollination")
    without = {k: v for k, v in form.items() if k != "csrf"}
    assert client.post("/link/accept", data=without).status_code == 403
    assert client.post("/link/accept", data=without | {"csrf": "wrong"}).status_code == 403
    (tmp_path / "outside.md").write_text("orchard pollination\n", "utf-8")
    for path in ("../outside.md", "/etc/passwd", ".knowflow/config.toml"):
        assert client.post("/link/accept", data=form | {"path": path}).status_code == 404
    assert {p: p.read_bytes() for p in vault.root.rglob("*.md")} == before
    assert (tmp_path / "outside.md").read_text("utf-8") == "orchard pollination\n"


def test_a_note_not_indexed_yet_says_so(client: TestClient, vault: Vault) -> None:
    (vault.root / "Fresh.md").write_text("# Fresh\n\nAbout bees.\n", "utf-8")
    assert "not in the index yet" in client.get("/connections/Fresh.md").text
    assert client.get("/connections/Nowhere.md").status_code == 404


def test_a_long_sentence_is_cut_around_the_mention() -> None:
    before, words, after = marked("x" * 500 + " Bees " + "y" * 500, "Bees")
    assert words == "Bees" and before.startswith("…") and after.endswith("…")
    assert len(before) < 130 and len(after) < 130
    assert marked("Nothing here.", "Bees") == ("", "Bees", "")
    assert marked("About bees.", "Bees") == ("About ", "bees", ".")


def test_a_sentence_shows_plain_words_with_the_mention_marked() -> None:
    assert marked("**Outline Panel:** drawn", "Outline Panel") == ("", "Outline Panel", ": drawn")
    assert marked("- See [[Serendipity|follow a hunch]] and *bees* `bees` bees.", "bees") == (
        "See follow a hunch and ",
        "bees",
        " bees bees.",
    )
    # The words within a mark: the plain sentence, cut where they stand in it.
    assert marked("Read `the bees` now.", "bees") == ("Read the ", "bees", " now.")


def test_a_suggestion_in_markdown_reads_plain_and_accept_writes_the_original(
    client: TestClient, vault: Vault
) -> None:
    (vault.root / "Panel.md").write_text(
        "# Panel\n\n**Outline Panel:** see [[Bees|the hive]] and `code`.\n", "utf-8"
    )
    (vault.root / "Outline Panel.md").write_text("# Outline Panel\n\nA panel.\n", "utf-8")
    with Index(vault) as index:
        index.scan()
    text = client.get("/connections/Panel.md").text
    assert '<p class="sentence"><mark>Outline Panel</mark>: see the hive and code.</p>' in text
    form = the_form(text, "Panel.md", "Outline Panel")
    assert (form["line"], form["column"], form["target"]) == ("3", "2", "Outline Panel.md")
    form["csrf"] = CSRF
    assert client.post("/link/accept", data=form).status_code == 303
    assert (vault.root / "Panel.md").read_text("utf-8") == (
        "# Panel\n\n**[[Outline Panel]]:** see [[Bees|the hive]] and `code`.\n"
    )


# In the browser -------------------------------------------------------------------


def test_accept_in_the_browser_makes_the_link(browser: Any, vault: Vault) -> None:
    from playwright.sync_api import expect

    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "note/Bees.md")
        section = page.locator("#connections")
        # The lists come after the page, fetched by note.js.
        expect(section.locator("ul.related")).to_contain_text("Orchard pollination")
        assert "shared words:" in section.locator("ul.related").inner_text()
        mark = section.locator(".suggestion mark").first
        assert mark.inner_text() == "orchard pollination"
        section.get_by_role(
            "button", name="Accept: link “orchard pollination” to Orchard pollination in Bees.md,"
        ).first.click()
        page.wait_for_url("**/note/Bees.md?*connections=show*")
        expect(section.get_by_role("status")).to_contain_text(
            "Linked: [[Orchard pollination|orchard pollination]] written in Bees.md, line 6."
        )
        made = page.locator(".note-body a.internal", has_text="orchard pollination")
        assert made.get_attribute("href") == "/note/Orchard%20pollination.md"
        text = (vault.root / "Bees.md").read_text("utf-8")
        assert "visits the [[Orchard pollination|orchard pollination]] sites" in text
        # The other way: a note that names this one, edited from this page.
        section.get_by_role("button", name=re.compile("in Orchard pollination.md, line 3")).click()
        page.wait_for_url("**/note/Bees.md?*")
        expect(section.get_by_role("status")).to_contain_text("in Orchard pollination.md")
        other = (vault.root / "Orchard pollination.md").read_text("utf-8")
        assert "Orchards need [[Bees|bees]] for pollination" in other
        expect(page.locator("ul.backlinks")).to_contain_text("Orchard pollination")
        assert not watched.problems, watched.problems
        context.close()


def test_without_script_the_link_draws_the_lists_and_accept_works(
    browser: Any, vault: Vault
) -> None:
    with serving(vault) as served:
        context = served.signed_in(browser, java_script_enabled=False)
        page = context.new_page()
        page.goto(served.base + "note/%C3%89lan.md")
        page.get_by_role("link", name="Show related notes and suggested links").click()
        page.get_by_role("button", name=re.compile("^Accept: link “café crème”")).click()
        page.wait_for_url("**/note/%C3%89lan.md?*")
        assert "Linked: [[Café crème|café crème]]" in page.locator("#connections").inner_text()
        context.close()
    text = (vault.root / "Élan.md").read_text("utf-8")
    assert "A morning [[Café crème|café crème]], then work." in text


def test_the_section_passes_axe_at_both_widths(browser: Any, vault: Vault) -> None:
    with serving(vault) as served:
        addresses = (
            "note/Bees.md",
            "note/Bees.md?connections=show&refused=changed&file=Bees.md&line=6",
            "note/Bees.md?connections=show&linked=%5B%5BBees%5D%5D&file=Windows.md&line=3",
        )
        check_pages(
            browser, served, addresses, lambda p: p.locator("#connections h3").first.wait_for()
        )
