"""The practice page of the local app: charts drawn on the server as SVG with a table
beside each, no inline style, the focus set through a form with its CSRF token, and in
Chromium: no CSP or console error, axe finds nothing serious at both widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from knowflow import Index, Vault
from knowflow.seek.state import open_state, record
from knowflow.web import create_app

from .conftest import write_files
from .websupport import WIDTHS, Served, Watched, serious_violations, serving

FILES: dict[str, str | bytes] = {
    "Idea.md": "# Idea\n\nSee [[Other]].\n",
    "Other.md": "# Other\n",
    "clippings/Clip.md": "---\ntype: clipping\ncomment: mine\n---\n# Clip\n",
    "experiments/Trial.md": "---\ntype: experiment\nlook_back: '2020-01-01'\n---\n# Trial\n\n"
    "## What happened\n\nIt went.\n\n## What was learned\n\n",
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    root = tmp_path_factory.mktemp("practice") / "vault"
    root.mkdir()
    write_files(root, FILES)
    vault = Vault.init(root)
    with Index(vault) as index:
        index.scan()
    conn = open_state(vault)
    for n in range(3):
        record(conn, "entry_kept", f"Entry {n}", entry=n, source="Somewhere")
    record(conn, "entries_seen", "9 entries", count=9)
    conn.close()
    return vault


@pytest.fixture
def client(vault: Vault) -> Iterator[TestClient]:
    app = create_app(vault, token="t", host="testserver", port=80, background=False)
    with TestClient(app) as client:
        client.get("/?token=t", follow_redirects=False)  # the cookie
        yield client


def test_page_draws_charts_with_tables_and_no_inline_style(client: TestClient) -> None:
    html = client.get("/practice?period=week").text
    assert '<a href="/practice" aria-current="page">Practice</a>' in html
    charts = re.findall(r'<svg class="practice-chart"[^>]*role="img"', html)
    tables = re.findall(r'<table class="practice-table">', html)
    assert len(charts) >= 20 and len(charts) == len(tables)
    assert not re.search(r"\sstyle=", html) and "<style" not in html
    assert "<script>" not in html  # no inline script
    assert "entries kept, pages captured or imported" in html
    assert "the last 7 days, by day" in html  # the window, said
    look = re.search(r'id="practice-look-backs".*?</section>', html, re.S)
    assert (
        look
        and 'href="/note/experiments/Trial.md"' in look.group()
        and "2020-01-01" in look.group()
    )
    per_made = re.search(r'id="ind-kept_per_made".*?</table>', html, re.S)
    assert per_made and '<span class="practice-total">—</span>' in per_made.group()
    assert "<td>—</td>" in per_made.group()  # nothing made sense of: undefined, not 0
    row = re.search(r'id="ind-entries_read".*?<tbody><tr>(.*?)</tr>', html, re.S)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group(1))[-1] == "9"
    assert client.get("/practice?period=century").status_code == 200  # a month, then


def test_focus_is_set_through_the_form_with_its_csrf_token(client: TestClient) -> None:
    html = client.get("/practice").text
    token = re.search(r'name="csrf" value="([^"]+)"', html)
    assert token
    refused = client.post("/practice/focus", data={"focus": "sense-making"})
    assert refused.status_code == 403
    bad = client.post(
        "/practice/focus", data={"csrf": token.group(1), "focus": "fame"}, follow_redirects=False
    )
    assert bad.status_code == 303 and "error=" in bad.headers["location"]
    done = client.post(
        "/practice/focus",
        data={"csrf": token.group(1), "focus": "sense-making", "period": "year"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/practice?period=year")
    html = client.get(done.headers["location"]).text
    assert "Your focus: sense-making" in html and "Focus: sense-making" in html
    assert '<option value="sense-making" selected>' in html
    cleared = client.post(
        "/practice/focus", data={"csrf": token.group(1), "focus": "none"}, follow_redirects=False
    )
    html = client.get(cleared.headers["location"]).text
    assert "Your focus" not in html and '<option value="none" selected>' in html


# -- In the browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(vault: Vault) -> Iterator[Served]:
    with serving(vault) as served:
        yield served


def test_no_console_or_csp_error(served: Served, browser: Any) -> None:
    context = served.signed_in(browser)
    page = context.new_page()
    watched = Watched(page)
    page.goto(served.base.rstrip("/") + "/practice?period=year")
    assert page.locator("svg.practice-chart").count() >= 20
    page.select_option("#practice-focus", "cognitive-load-management")
    page.click("button:has-text('Set focus')")
    page.wait_for_selector("#practice-focus")
    assert "Your focus: cognitive load management" in page.content()
    context.close()
    assert watched.problems == []


@pytest.mark.parametrize("size", WIDTHS, ids=["desktop", "phone"])
def test_no_serious_accessibility_issue(served: Served, browser: Any, size: dict[str, int]) -> None:
    context = served.signed_in(browser, viewport=size, bypass_csp=True)
    page = context.new_page()
    watched = Watched(page)
    found = {}
    for path in ("/practice", "/practice?period=week"):
        page.goto(served.base.rstrip("/") + path)
        found[path] = serious_violations(page)
    context.close()
    assert found == {path: [] for path in found}
    assert watched.problems == []
