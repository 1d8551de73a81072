"""The Wander page through the app and in Chromium: the walk as an ordered list of
links to notes, each with why it was taken; a walk with no seed redirects to the
address that names its seed, and that address replays the same page; bad input is
said on the page; axe at both widths, and no console errors."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from knowflow import Index
from knowflow.seek.state import open_state
from knowflow.sense.wander import wander
from knowflow.vault import Vault

from .conftest import fingerprint
from .websupport import (
    Watched,
    check_pages,
    indexed_vault,
    serving,
    signed_in,
)

FILES: dict[str, str | bytes] = {
    "Alpha.md": "# Alpha\n\nAbout [[Beta]] and [[Gamma]]. #garden\n",
    "Beta.md": "# Beta\n\nThe second note, on [[Delta]].\n",
    "Gamma.md": "# Gamma\n\nLinks to [[Alpha]]. #garden\n",
    "Delta.md": "# Delta\n\nA fourth note, & more.\n",
    "deep/Epsilon & co.md": "# Epsilon & co\n\nNear [[Delta]]. #garden\n",
}


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return indexed_vault(tmp_path / "vault", FILES)


@pytest.fixture
def client(vault: Vault) -> Iterator[TestClient]:
    with signed_in(vault) as c:
        yield c


def _steps(html: str) -> list[tuple[str, str, str]]:
    """The walk on a page: (link, title, why) of each step, in order."""
    walk = html.split('<ol class="wander-steps">', 1)[1].split("</ol>", 1)[0]
    found = re.findall(
        r'<li><a class="title" href="([^"]+)">([^<]+)</a>\s*<span class="why">([^<]+)</span>',
        walk,
    )
    return [(link, markup.unescape(title), markup.unescape(why)) for link, title, why in found]


def _walks(vault: Vault) -> list[tuple[int, str, int]]:
    conn = open_state(vault)
    try:
        return conn.execute("SELECT seed, start, steps FROM wander_walks ORDER BY seed").fetchall()
    finally:
        conn.close()


def test_the_form_alone_walks_nowhere(client: TestClient, vault: Vault) -> None:
    html = client.get("/wander").text
    assert '<a href="/wander" aria-current="page">Wander</a>' in html
    assert '<label for="wander-from">' in html and '<label for="wander-seed">' in html
    assert 'name="steps" type="number" min="1" max="100" value="7"' in html
    assert '<ol class="wander-steps">' not in html
    assert _walks(vault) == []


def test_a_walk_redirects_to_its_seed_and_that_address_replays_it(
    client: TestClient, vault: Vault
) -> None:
    before = fingerprint(vault.root)
    first = client.get("/wander?from=Alpha&seed=&steps=3")
    assert first.status_code == 303
    where = first.headers["location"]
    seed = int(re.fullmatch(r"/wander\?from=Alpha\.md&seed=(\d+)&steps=3", where)[1])  # type: ignore[index]
    page = client.get(where)
    assert page.status_code == 200
    steps = _steps(page.text)
    assert len(steps) == 4
    assert steps[0] == ("/note/Alpha.md", "Alpha", "the start")
    assert {s[0] for s in steps} <= {
        "/note/Alpha.md",
        "/note/Beta.md",
        "/note/Gamma.md",
        "/note/Delta.md",
        "/note/deep/Epsilon%20%26%20co.md",
    }
    assert len({s[0] for s in steps}) == 4  # no note twice
    # The same walk as the command line's, with the same seed: it was kept.
    with Index(vault) as index:
        conn = open_state(vault)
        walk = wander(index, conn, "Alpha.md", seed=seed, steps=3)
        conn.close()
    assert walk.replayed
    assert [(f"/note/{s.path}", s.title) for s in walk.steps] == [
        (link.replace("%20", " ").replace("%26", "&"), title) for link, title, _ in steps
    ]
    assert [s[2] for s in steps][1:] == [s.says() for s in walk.steps][1:]
    # Replayed: the same page, whatever was walked since.
    client.get("/wander?from=&steps=5")
    again = client.get(where)
    assert _steps(again.text) == steps
    assert f'<a class="button" href="/wander?from=Alpha.md&amp;seed={seed}&amp;steps=3">' in (
        again.text
    )
    assert '<a class="button primary" href="/wander?from=Alpha.md&amp;seed=&amp;steps=3">' in (
        again.text
    )
    assert f"<code>knowflow wander Alpha.md --seed {seed} --steps 3</code>" in again.text
    # "Another walk" takes a new seed from the same start.
    other = client.get("/wander?from=Alpha.md&seed=&steps=3").headers["location"]
    assert other != where and other.startswith("/wander?from=Alpha.md&seed=")
    # A shorter walk with the seed is the start of the longer one.
    shorter = _steps(client.get(f"/wander?from=Alpha.md&seed={seed}&steps=1").text)
    assert shorter == steps[:2]
    assert fingerprint(vault.root) == before  # no note written


def test_a_random_start_and_a_given_seed(client: TestClient, vault: Vault) -> None:
    page = client.get("/wander?from=&seed=42&steps=2")
    assert page.status_code == 200  # already the walk's own address
    steps = _steps(page.text)
    assert steps[0][2] == "a random start" and len(steps) == 3
    assert "Seed 42, from a random note" in page.text
    assert "<code>knowflow wander --seed 42 --steps 2</code>" in page.text
    assert _steps(client.get("/wander?from=&seed=42&steps=2").text) == steps
    # A start named with a space and an ampersand is quoted in the address.
    where = client.get("/wander?from=Epsilon+%26+co&seed=7&steps=2").headers["location"]
    assert where == "/wander?from=deep%2FEpsilon+%26+co.md&seed=7&steps=2"
    assert _steps(client.get(where).text)[0][0] == "/note/deep/Epsilon%20%26%20co.md"


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("from=Nowhere&seed=&steps=3", "Nowhere"),
        ("from=&seed=abc&steps=3", "A seed is a whole number from 0 to 9223372036854775807"),
        ("from=&seed=-1&steps=3", "A seed is a whole number"),
        ("from=&seed=99999999999999999999&steps=3", "A seed is a whole number"),
        ("from=&seed=&steps=0", "Steps is a whole number from 1 to 100"),
        ("from=&seed=&steps=many", "Steps is a whole number from 1 to 100"),
        ("from=&seed=&steps=101", "Steps is a whole number from 1 to 100"),
    ],
)
def test_bad_input_is_said_on_the_page(
    client: TestClient, vault: Vault, query: str, said: str
) -> None:
    page = client.get(f"/wander?{query}")
    assert page.status_code == 400
    assert '<p class="flash error" role="alert">' in page.text and said in page.text
    assert "Traceback" not in page.text and '<ol class="wander-steps">' not in page.text
    assert '<form method="get" action="/wander"' in page.text
    assert _walks(vault) == []


def test_the_note_page_links_to_a_walk_from_it(client: TestClient) -> None:
    html = client.get("/note/deep/Epsilon%20%26%20co.md").text
    assert '<a class="button" href="/wander?from=deep/Epsilon%20%26%20co.md">Wander</a>' in html
    where = client.get("/wander?from=deep/Epsilon%20%26%20co.md").headers["location"]
    assert where.startswith("/wander?from=deep%2FEpsilon+%26+co.md&seed=")


def test_walk_in_chromium_with_axe_at_both_widths(browser: Any, vault: Vault) -> None:
    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "wander")
        assert page.locator("h1").inner_text() == "Wander"
        page.get_by_label("Start note").fill("Alpha")
        page.get_by_label("Steps").fill("3")
        page.get_by_role("button", name="Walk", exact=True).click()
        page.wait_for_url("**/wander?from=Alpha.md&seed=*&steps=3")
        steps = page.locator("ol.wander-steps > li")
        assert steps.count() == 4
        assert steps.first.locator("a").inner_text() == "Alpha"
        walked = page.locator("ol.wander-steps").inner_text()
        seed = page.url.split("seed=", 1)[1].split("&", 1)[0]
        assert f"Seed {seed}" in page.locator("#walk-heading").inner_text()
        with page.expect_navigation():
            page.get_by_role("link", name="Walk again").click()
        assert page.locator("ol.wander-steps").inner_text() == walked
        page.get_by_role("link", name="Another walk").click()
        page.wait_for_url(re.compile(r".*/wander\?from=Alpha\.md&seed=\d+&steps=3"))
        assert f"seed={seed}&" not in page.url
        page.locator("ol.wander-steps > li").nth(1).locator("a").click()
        page.wait_for_url("**/note/**")
        assert not watched.problems
        context.close()
        check_pages(browser, served, ("wander", f"wander?from=Alpha.md&seed={seed}&steps=3"))
