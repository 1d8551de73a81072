"""The Journal page through the app and in Chromium: narrating appends a dated entry
to the week's narration note (the file's bytes), then comes back with a link to it;
opening an experiment writes its note (front matter) and goes to its page; the
experiments due for a look back are listed; a post without the CSRF token is
refused; empty text, an unknown audience, a bad date and a note that cannot be
written are said on the page with nothing written; axe at both widths, and no
console errors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from knowflow import Index
from knowflow.errors import ConflictError
from knowflow.seek.state import open_state
from knowflow.vault import Vault
from knowflow.web import journal as web_journal
from knowflow.web.security import csrf_token

from .conftest import fingerprint
from .websupport import (
    Watched,
    check_pages,
    indexed_vault,
    serving,
    signed_in,
)

NOW = dt.datetime(2026, 12, 1, 16, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
TODAY = NOW.date()
WEEK_NOTE = "Narration/Narration 2026-W49.md"
CONFIG = """
[audiences."team/platform"]
kind = "team"
title = "Platform team"

[audiences."community/km"]
kind = "community"
title = "KM practitioners"
"""


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    files: dict[str, str | bytes] = {
        "Alpha.md": "# Alpha\n\nA note.\n",
        "experiments/Old trial.md": (
            "---\ntype: experiment\ntitle: Old trial\ntried_with: team/platform\n"
            "look_back: '2020-01-02'\n---\n# Old trial\n\n## What was learned\n\n"
        ),
        "experiments/Learned.md": (
            "---\ntype: experiment\nlook_back: '2020-01-02'\n---\n# Learned\n\n"
            "## What was learned\n\nSomething.\n"
        ),
    }
    return indexed_vault(tmp_path / "vault", files, CONFIG)


@pytest.fixture
def client(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setattr(web_journal, "_now", lambda: NOW)
    monkeypatch.setattr(web_journal, "_today", lambda: TODAY)
    with signed_in(vault) as c:
        yield c


def _activity(vault: Vault) -> list[tuple[str, str]]:
    conn = open_state(vault)
    try:
        return conn.execute("SELECT action, subject FROM activity ORDER BY id").fetchall()
    finally:
        conn.close()


def test_the_page_says_private_and_offers_the_audiences(client: TestClient) -> None:
    html = client.get("/journal").text
    assert '<a href="/journal" aria-current="page">Journal</a>' in html
    assert "Both are private notes (<code>share: private</code>)" in html
    options = html.split('<select id="experiment-with" name="with" required>', 1)[1]
    options = options.split("</select>", 1)[0]
    assert '<option value="public">Everyone (public, network)</option>' in options
    assert '<option value="team/platform">Platform team (team/platform, team)</option>' in options
    assert '<option value="community/km">' in options
    assert f'value="{TODAY + dt.timedelta(days=14)}"' in html  # the look-back by default
    for label in ("narrate-text", "experiment-idea", "experiment-with", "experiment-look-back"):
        assert f'<label for="{label}">' in html
    # Due for a look back: the one with nothing learned, linked; not the other.
    due = html.split('<section class="journal-due"', 1)[1]
    assert '<a href="/note/experiments/Old%20trial.md">Old trial</a>' in due
    assert "look back since 2020-01-02, tried with team/platform" in due
    assert "Learned" not in due


def test_narrate_appends_a_dated_entry_and_comes_back(client: TestClient, vault: Vault) -> None:
    form = {"csrf": csrf_token("t"), "text": "Tried the # new outline.\r\n\r\n# A heading"}
    response = client.post("/journal/narrate", data=form)
    assert response.status_code == 303
    where = response.headers["location"]
    assert where == "/journal?narrated=Narration%2FNarration+2026-W49.md#narrate"
    note = vault.root / WEEK_NOTE
    assert note.read_bytes() == (
        b"---\ntype: narration\ntitle: Narration 2026-W49\nweek: 2026-W49\nshare: private\n"
        b"tags:\n- narration\n---\n# Narration 2026-W49\n\n"
        b"## 2026-12-01 16:12\n\nTried the # new outline.\n\n### A heading\n"
    )
    page = client.get(where).text
    assert (
        '<p class="flash ok" role="status">Entry added to'
        ' <a href="/note/Narration/Narration%202026-W49.md">Narration/Narration 2026-W49.md</a>.'
    ) in page
    # A second entry is appended to the same note, under its own heading.
    client.post("/journal/narrate", data=form | {"text": "And then a second thing."})
    assert note.read_bytes().endswith(
        b"### A heading\n\n## 2026-12-01 16:12\n\nAnd then a second thing.\n"
    )
    assert _activity(vault) == [("narration_added", WEEK_NOTE)] * 2
    # The index knows it at once: the note's page and search find it.
    assert client.get("/note/Narration/Narration%202026-W49.md").status_code == 200
    with Index(vault) as index:
        assert index.note("Narration 2026-W49").path == WEEK_NOTE


def test_open_an_experiment_and_go_to_its_note(client: TestClient, vault: Vault) -> None:
    look_back = TODAY + dt.timedelta(days=10)
    form = {
        "csrf": csrf_token("t"),
        "idea": "Pair on [[Alpha]] with #kanban",
        "with": "team/platform",
        "look_back": look_back.isoformat(),
    }
    response = client.post("/journal/experiment", data=form)
    assert response.status_code == 303
    rel = "experiments/Experiment 2026-12-01 Pair on Alpha with kanban.md"
    assert response.headers["location"] == (
        "/note/experiments/Experiment%202026-12-01%20Pair%20on%20Alpha%20with%20kanban.md"
    )
    text = (vault.root / rel).read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front == {
        "type": "experiment",
        "title": "Experiment 2026-12-01 Pair on Alpha with kanban",
        "created": "2026-12-01",
        "idea": "Pair on [[Alpha]] with #kanban",
        "tried_with": "team/platform",
        "look_back": look_back.isoformat(),
        "share": "private",
        "tags": ["experiment"],
    }
    assert "## Idea\n\nPair on [[Alpha]] with #kanban\n" in text
    assert client.get(response.headers["location"]).status_code == 200
    assert _activity(vault) == [("experiment_opened", rel)]


@pytest.mark.parametrize(
    ("action", "form", "status", "said"),
    [
        ("narrate", {"text": "  \n "}, 400, "Nothing was written: narrate needs some text"),
        ("narrate", {}, 400, "narrate needs some text"),
        ("experiment", {"idea": " ", "with": "public"}, 400, "an experiment needs an idea"),
        (
            "experiment",
            {"idea": "An idea", "with": "nobody"},
            400,
            "no audience &#39;nobody&#39; in config.toml; defined: community/km, public,"
            " team/platform",
        ),
        (
            "experiment",
            {"idea": "An idea", "with": "public", "look_back": "soon"},
            400,
            "a look-back date is a day, as 2026-12-15 (not &#39;soon&#39;)",
        ),
        (
            "experiment",
            {"idea": "An idea", "with": "public", "look_back": "2026-12-01"},
            400,
            "the look-back date is from tomorrow to 3650 days on (not 2026-12-01)",
        ),
    ],
)
def test_bad_input_is_said_and_nothing_written(
    client: TestClient,
    vault: Vault,
    action: str,
    form: dict[str, str],
    status: int,
    said: str,
) -> None:
    before = fingerprint(vault.root)
    typed = {"look_back": (TODAY + dt.timedelta(days=3)).isoformat()} | form
    response = client.post(f"/journal/{action}", data={"csrf": csrf_token("t"), **typed})
    assert response.status_code == status
    assert '<p class="flash error" role="alert">' in response.text and said in response.text
    assert "Traceback" not in response.text
    if form.get("idea", "").strip():
        assert f">{form['idea']}</textarea>" in response.text  # what was typed stays
    assert fingerprint(vault.root) == before
    assert _activity(vault) == []


def test_a_note_that_cannot_be_written(
    client: TestClient, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    (vault.root / WEEK_NOTE).mkdir(parents=True)  # where the week's note would be
    before = fingerprint(vault.root)
    form = {"csrf": csrf_token("t"), "text": "Lost? Not this."}
    response = client.post("/journal/narrate", data=form)
    assert response.status_code == 409
    assert (
        "Nothing was written: Narration/Narration 2026-W49.md could not be written"
        " (Is a directory)."
    ) in response.text
    assert ">Lost? Not this.</textarea>" in response.text
    assert "Traceback" not in response.text and str(vault.root) not in response.text
    assert fingerprint(vault.root) == before

    def changing(*args: object, **kwargs: object) -> None:
        raise ConflictError("Narration/x.md changed on disk")

    (vault.root / WEEK_NOTE).rmdir()
    monkeypatch.setattr("knowflow.sense.journal.atomic_write", changing)
    response = client.post("/journal/narrate", data=form)
    assert response.status_code == 409
    assert (
        "Nothing was written: Narration/Narration 2026-W49.md kept changing while the entry"
        " was appended; try again"
    ) in response.text
    assert not (vault.root / WEEK_NOTE).exists()
    assert _activity(vault) == []


def test_a_post_without_the_csrf_token_is_refused(client: TestClient, vault: Vault) -> None:
    before = fingerprint(vault.root)
    assert client.post("/journal/narrate", data={"text": "hello"}).status_code == 403
    idea = {"idea": "An idea", "with": "public", "look_back": "2026-12-20"}
    assert client.post("/journal/experiment", data=idea).status_code == 403
    wrong = {"csrf": "0" * 64, "text": "hello"}
    assert client.post("/journal/narrate", data=wrong).status_code == 403
    assert fingerprint(vault.root) == before
    assert _activity(vault) == []


def test_narrate_in_chromium_with_axe_at_both_widths(browser: Any, vault: Vault) -> None:
    with serving(vault) as served:
        context = served.signed_in(browser)
        page = context.new_page()
        watched = Watched(page)
        page.goto(served.base + "journal")
        assert page.locator("h1").inner_text() == "Journal"
        page.get_by_label("What are you working on").fill("Working out loud, from the app.")
        page.get_by_role("button", name="Add entry").click()
        page.wait_for_url("**/journal?narrated=*")
        notice = page.locator("#narrate .flash.ok")
        assert "Entry added to" in notice.inner_text()
        notice.get_by_role("link").click()
        page.wait_for_url("**/note/Narration/*")
        assert "Working out loud, from the app." in page.locator("article.note").inner_text()
        page.goto(served.base + "journal")
        page.get_by_label("The idea").fill("Demo on Fridays")
        page.get_by_label("Tried with").select_option("community/km")
        page.get_by_role("button", name="Open experiment").click()
        page.wait_for_url("**/note/experiments/Experiment*")
        assert "Demo on Fridays" in page.locator("article.note").inner_text()
        assert not watched.problems
        context.close()
    narrated = next((vault.root / "Narration").glob("Narration *.md"))
    assert narrated.read_text(encoding="utf-8").endswith("\n\nWorking out loud, from the app.\n")
    with serving(vault) as served:
        check_pages(browser, served, ("journal", "journal?narrated=Narration%2Fx.md"))
