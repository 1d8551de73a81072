"""The Share page and "view as", served for real: each audience's site as it would see
it, links that stay inside /view/<audience>/, publishing and the digest from the page,
and the gate: what is private, or shared with one team, never reaches another view."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from knowflow import Index, Vault
from knowflow.errors import ConflictError, NoteExists
from knowflow.share.digest import compose_digest, share_digest
from knowflow.share.history import last_publish, publish_folder
from knowflow.share.preview import site_file, view_folder, view_site
from knowflow.vault.files import content_hash
from knowflow.vault.frontmatter import parse_front_matter

from .conftest import EXAMPLES, cli_in, write_files
from .websupport import WIDTHS, Served, Watched, serious_violations, serving

PRIVATE_MARK = "Pvtmarkq7x"  # in private notes: never in any view but the person's own
TEAM_MARK = "Teammarkz9k"  # in a note shared with team/platform only
PLANTED = {
    # Private by having no share:, by share: private, and by an audience config lacks.
    f"secret/Plans {PRIVATE_MARK}.md": f"# Plans\n\nThe {PRIVATE_MARK} merger. #strategy\n",
    "secret/Salaries.md": f"---\nshare: private\n---\nNumbers {PRIVATE_MARK}.\n",
    "secret/Typo.md": f"---\nshare: team/platfrom\n---\nTypo {PRIVATE_MARK}.\n",
    "Team roadmap.md": (
        f"---\nshare: team/platform\ntags: [roadmap]\n---\nThe {TEAM_MARK} milestone.\n"
    ),
    # A public note that names both: its links lose their words, not the page.
    "Open letter.md": (
        "---\nshare: public\ntags: [letters]\n---\n# Open letter\n\n"
        f"See [[Plans {PRIVATE_MARK}]] and [[Team roadmap]] and ![[Salaries]].\n"
    ),
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Vault:
    root = tmp_path_factory.mktemp("share") / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    write_files(root, dict(PLANTED))
    return Vault(root)


@pytest.fixture(scope="module")
def served(vault: Vault) -> Iterator[Served]:
    with serving(vault) as served:
        yield served


@contextmanager
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.base) as c:
        c.get(served.entry)
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html)
    assert found
    return found.group(1)


# --- view as, without a browser ----------------------------------------------------


def crawl(c: httpx.Client, start: str) -> dict[str, str]:
    """Every address reachable from ``start`` by href and src, staying under it."""
    seen: dict[str, str] = {}
    queue = [start]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        response = c.get(url)
        assert response.status_code == 200, url
        seen[url] = response.text
        if not url.endswith((".html", "/")):
            continue
        for ref in re.findall(r'(?:href|src)="([^"]+)"', response.text):
            target = urljoin(url, ref.replace("&amp;", "&")).split("#")[0].split("?")[0]
            if urlsplit(target).scheme or not target.startswith("/"):
                continue  # another site (a feed's absolute address, data:)
            if target.startswith(start):
                seen_or_queued = target in seen or target in queue
                if not seen_or_queued:
                    queue.append(target)
            else:  # leaving the view: only the app's own pages and static files
                assert target.startswith(("/static/", "/share")), (url, ref)
    return seen


def test_view_as_public_never_shows_private_or_team_notes(served: Served) -> None:
    with client(served) as c:
        pages = crawl(c, "/view/public/")
        for extra in ("search-index.js", "atom.xml", "feed.json", "sitemap.xml", "search.js"):
            url = f"/view/public/{extra}"
            pages.setdefault(url, c.get(url).text)
    assert "/view/public/open-letter.html" in pages and len(pages) > 20
    for url, text in pages.items():
        assert PRIVATE_MARK not in text, url
        assert TEAM_MARK not in text and "Team roadmap" not in text, url
    records = json.loads(
        pages["/view/public/search-index.js"].split("=", 1)[1].rstrip().rstrip(";")
    )
    assert {r["title"] for r in records} >= {"Open letter", "Welcome"}
    assert json.loads(pages["/view/public/feed.json"])["items"]
    letter = pages["/view/public/open-letter.html"]
    assert 'class="knowflow-viewing"' in letter and "this is what they see" in letter


def test_view_as_team_shows_its_notes_and_public_ones_but_nothing_private(served: Served) -> None:
    with client(served) as c:
        pages = crawl(c, "/view/team/platform/")
    assert any(TEAM_MARK in text for text in pages.values())
    assert "/view/team/platform/open-letter.html" in pages  # public is seen by every audience
    assert not any(PRIVATE_MARK in text for text in pages.values())
    with client(served) as c:
        community = crawl(c, "/view/community/km-practitioners/")
    assert not any(TEAM_MARK in text or PRIVATE_MARK in text for text in community.values())


def test_a_note_shared_later_appears_in_the_view(served: Served, vault: Vault) -> None:
    cli = cli_in(vault.root)
    path = vault.root / "Later.md"
    path.write_text("# Later\n\nShared after the first view.\n", encoding="utf-8")
    try:
        with client(served) as c:
            assert c.get("/view/public/later.html").status_code == 404
            cli("share", "Later.md", "public")
            # At once: every page asked for is built from the files as they are now.
            assert "Shared after the first view." in c.get("/view/public/later.html").text
    finally:
        path.unlink()


def test_a_first_view_says_how_far_its_build_is(
    served: Served, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    def slow(index: Index, name: str, progress: Any = None) -> Path:
        time.sleep(0.5)  # as a site of thousands of notes takes seconds
        return view_site(index, name, progress)

    monkeypatch.setattr("knowflow.web.share.view_site", slow)
    monkeypatch.setattr("knowflow.web.share.FIRST_WAIT", 0.05)
    shutil.rmtree(view_folder(vault, "community/km-practitioners"), ignore_errors=True)
    with client(served) as c:
        first = c.get("/view/community/km-practitioners/")
        assert first.status_code == 200, first.text
        assert "Building what community/km-practitioners sees" in first.text
        assert '<meta http-equiv="refresh" content="2">' in first.text
        for _ in range(50):
            if "knowflow-viewing" in c.get("/view/community/km-practitioners/").text:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the first build never finished")


def test_an_undefined_audience_is_not_found(served: Served) -> None:
    with client(served) as c:
        for url in ("/view/nobody/", "/view/team/", "/view/private/", "/view/", "/view/x"):
            assert c.get(url).status_code == 404, url
        # An audience's address without its slash goes to its front page.
        moved = c.get("/view/team/platform")
        assert moved.status_code == 307 and moved.headers["location"] == "/view/team/platform/"
        assert c.get("/view/public/tags").headers["location"] == "/view/public/tags/"


def raw_get(served: Served, path: str) -> tuple[int, bytes]:
    """A GET sent exactly as written: no client tidies ``..`` away first."""
    netloc = urlsplit(served.base).netloc
    conn = http.client.HTTPConnection(netloc, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", netloc)
        conn.putheader("Cookie", f"knowflow_token={served.token}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_paths_never_leave_the_view_folder(served: Served, vault: Vault) -> None:
    assert raw_get(served, "/view/public/index.html")[0] == 200
    outside = [
        "/view/public/../../config.toml",
        "/view/public/../team+platform/index.html",
        "/view/public/%2e%2e/%2e%2e/config.toml",
        "/view/public/..%2f..%2fconfig.toml",
        "/view/public/%2e%2e%2f%2e%2e%2f%2e%2e%2fWelcome.md",
        "/view/public/.knowflow-site.json",
        "/view/public//etc/passwd",
        "/view/public/%2fetc%2fpasswd",
        "/view/public/tags/..%5c..%5cconfig.toml",
        "/view/public/index.html%00.png",
    ]
    for path in outside:
        status, body = raw_get(served, path)
        assert status in (400, 404), (path, status)
        assert b"[share]" not in body and b"audiences" not in body, path
    # A symlink planted in the cache to somewhere outside it is not followed.
    folder = view_folder(vault, "public")
    (folder / "escape.html").symlink_to(vault.root / "Welcome.md")
    try:
        assert site_file(folder, "escape.html") is None
    finally:
        (folder / "escape.html").unlink()


def test_changes_need_the_csrf_token(served: Served, tmp_path: Path) -> None:
    out = tmp_path / "site"
    with client(served) as c:
        for url, data in (
            ("/share/publish", {"audience": "public", "out": str(out)}),
            ("/share/digest", {"audience": "public", "text": "# Hijacked\n"}),
        ):
            assert c.post(url, data=data).status_code == 403
            assert c.post(url, data={**data, "csrf": "0" * 64}).status_code == 403
    assert not out.exists()
    assert not list((served.app.state.vault.root / "digests").glob("* for public.md"))


def test_publish_errors_are_shown_clearly(served: Served, tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("not a site")
    with client(served) as c:
        csrf = csrf_of(c.get("/share").text)
        refused = c.post(
            "/share/publish", data={"csrf": csrf, "audience": "public", "out": str(taken)}
        )
        assert refused.status_code == 409 and "Not published" in refused.text
        assert "holds files knowflow did not write" in refused.text
        missing = c.post("/share/publish", data={"csrf": csrf, "audience": "nobody", "out": "x"})
        assert missing.status_code == 404
    assert (taken / "mine.txt").read_text() == "not a site"


def test_the_digest_draft_comes_after_the_page_and_without_javascript(served: Served) -> None:
    with client(served) as c:
        first = c.get("/share").text
        assert 'hx-get="/share/draft?digest=public"' in first
        assert 'href="/share?digest=public#digest"' in first  # no JavaScript: a link
        assert "<textarea" not in first
        fragment = c.get("/share/draft", params={"digest": "team/platform"}).text
        assert (
            fragment.startswith("<div") and "<textarea" in fragment and "Team roadmap" in fragment
        )
        assert "<textarea" in c.get("/share", params={"digest": "public"}).text
        assert c.get("/share", params={"digest": "nobody"}).status_code == 404
        assert c.get("/share/draft", params={"digest": "private"}).status_code == 404


def test_a_digest_changed_on_disk_is_never_overwritten(served: Served, vault: Vault) -> None:
    with client(served) as c:
        page = c.get("/share", params={"digest": "community/km-practitioners"}).text
        form = {"csrf": csrf_of(page), "audience": "community/km-practitioners"}
        form["text"] = "# Mine\r\n\r\nFirst.\r\n"
        assert c.post("/share/digest", data=form).status_code == 303
        path = next((vault.root / "digests").glob("* for community-km-practitioners.md"))
        assert path.read_text().startswith("---\nshare: community/km-practitioners\n---\n# Mine\n")
        shown = c.get("/share", params={"digest": "community/km-practitioners"}).text
        base = re.search(r'name="shown" value="([0-9a-f]+)"', shown)
        assert base
        path.write_text(path.read_text() + "Edited elsewhere.\n")  # Obsidian, meanwhile
        refused = c.post("/share/digest", data={**form, "text": "Mine again", "shown": base[1]})
        assert refused.status_code == 409 and "changed on disk" in refused.text
        assert "Mine again</textarea>" in refused.text  # the person's words are not lost
    assert path.read_text().endswith("Edited elsewhere.\n")


# --- the API beneath the page ---------------------------------------------------------


def test_every_publish_is_recorded_cli_included(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    vault = Vault(root)
    assert last_publish(vault, "public") is None and publish_folder(vault, "public") is None
    cli_in(root)("publish", "--audience", "public", "--out", str(tmp_path / "site"))
    record = last_publish(vault, "public")
    assert record is not None and record.out == str(tmp_path / "site")
    assert record.notes == 5 and record.files == record.written > record.notes
    assert publish_folder(vault, "public") == tmp_path / "site"
    # A view-as build is not a publish.
    with Index(vault) as index:
        index.scan()
        view_site(index, "team/platform")
    assert last_publish(vault, "team/platform") is None
    # config.toml may name an audience's folder.
    config = (
        vault.config_path.read_text()
        + '\n[audiences."team/other"]\nkind = "team"\nout = "../sites/other"\n'
    )
    vault.config_path.write_text(config)
    assert publish_folder(Vault(root), "team/other") == root / "../sites/other"


def test_digest_draft_shared_keeps_the_persons_edits(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("*.db*"))
    with Index(Vault(root)) as index:
        index.scan()
        draft = compose_digest(index, audience="team/platform")
        assert not draft.existing and not draft.path.exists()
        saved = share_digest(index, "team/platform", draft.text + "\nMy own words.\n")
        assert saved.path == draft.path and saved.change.after == ["team/platform"]
        again = compose_digest(index, audience="team/platform")
        assert again.existing and "My own words." in again.text
        with pytest.raises(NoteExists):  # drafted meanwhile, and the page showed none
            share_digest(index, "team/platform", "# Other\n")
        with pytest.raises(ConflictError):  # changed since it was shown
            share_digest(index, "team/platform", "# Other\n", shown=content_hash(b"old"))
        shown = content_hash(again.text.encode())
        share_digest(index, "team/platform", again.text + "More.\n", shown=shown)
    assert draft.path.read_text().endswith("More.\n")


# --- in the browser -------------------------------------------------------------------


def open_share(page: Any, url: str) -> None:
    """The Share page, with its digest's draft in (leaving before it came would cancel
    that request, which Watched counts as a failure)."""
    page.goto(url)
    page.get_by_label("The digest, in Markdown").wait_for()


def test_share_page_and_view_as_in_the_browser(served: Served, browser: Any) -> None:
    for width in WIDTHS:
        context = served.signed_in(browser, viewport=width, bypass_csp=True)
        page = context.new_page()
        watched = Watched(page)
        open_share(page, served.base + "share")
        assert page.locator("h1").inner_text() == "Share"
        assert serious_violations(page) == []
        page.get_by_role("link", name="View as public").click()
        page.wait_for_url("**/view/public/")
        assert "Viewing as Everyone" in page.locator(".knowflow-viewing").inner_text()
        assert serious_violations(page) == []
        page.get_by_role("link", name="all notes").click()
        page.wait_for_url("**/view/public/notes.html")
        page.get_by_role("link", name="Open letter").first.click()
        page.wait_for_url("**/view/public/open-letter.html")
        page.locator("a.tag", has_text="#letters").click()
        page.wait_for_url("**/view/public/tags/letters.html")
        # The site's own search runs under the app's policy, from its own files.
        page.get_by_role("link", name="Search").click()
        page.wait_for_url("**/view/public/search.html")
        page.get_by_label("Search the notes").fill("letter")
        page.locator("#results li").first.wait_for()
        assert "Open letter" in page.locator("#results").inner_text()
        page.get_by_role("link", name="Back to Share").click()
        page.wait_for_url("**/share")
        page.get_by_role("link", name="View as team/platform").click()
        page.wait_for_url("**/view/team/platform/")
        page.get_by_role("link", name="Team roadmap").click()
        page.wait_for_url("**/view/team/platform/team-roadmap.html")
        assert TEAM_MARK in page.locator("main").inner_text()
        assert not watched.problems, watched.problems
        context.close()


def test_publish_from_the_page(served: Served, browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "public-site"
    context = served.signed_in(browser)
    page = context.new_page()
    watched = Watched(page)
    open_share(page, served.base + "share")
    card = page.locator("#audience-public")
    card.get_by_label("Folder to publish into").fill(str(out))
    card.get_by_role("button", name="Publish for public").click()
    page.wait_for_url("**/share?published=public")
    report = page.locator(".share-report").inner_text()
    assert f"Published 6 notes for public to {out}" in report
    assert str(out) in page.locator("#audience-public .last").inner_text()
    assert (out / "index.html").is_file() and (out / ".knowflow-site.json").is_file()
    assert (out / "open-letter.html").is_file()
    for file in out.rglob("*"):
        if file.is_file():
            data = file.read_bytes()
            assert PRIVATE_MARK.encode() not in data and TEAM_MARK.encode() not in data, file
    # The folder is remembered for the next publish.
    open_share(page, served.base + "share")
    assert card.get_by_label("Folder to publish into").input_value() == str(out)
    assert not watched.problems, watched.problems
    context.close()


def test_edit_the_digest_and_share_it(served: Served, browser: Any, vault: Vault) -> None:
    context = served.signed_in(browser)
    page = context.new_page()
    watched = Watched(page)
    open_share(page, served.base + "share")
    page.get_by_label("For", exact=True).select_option("team/platform")
    page.get_by_role("button", name="Draft").click()
    page.wait_for_url("**/share?digest=team%2Fplatform*")
    text = page.get_by_label("The digest, in Markdown")
    assert "# Finds" in text.input_value() and "Team roadmap" in text.input_value()
    text.fill(text.input_value() + "\nA word from me about the roadmap.\n")
    page.get_by_role("button", name="Share with team/platform").click()
    page.wait_for_url("**/share?digest=team%2Fplatform&shared=*")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    path = vault.root / "digests" / f"Finds {today} for team-platform.md"
    assert page.get_by_role("link", name=f"digests/Finds {today} for team-platform.md").count()
    written = path.read_text("utf-8")
    assert "A word from me about the roadmap." in written and "\r" not in written
    front = parse_front_matter(written).data
    assert front["share"] == "team/platform" and front["type"] == "digest"
    # Shared: the team now sees it; the public does not.
    with client(served) as c:
        assert "A word from me" in c.get("/view/team/platform/notes.html").text or any(
            "A word from me" in t for t in crawl(c, "/view/team/platform/").values()
        )
        assert not any("A word from me" in t for t in crawl(c, "/view/public/").values())
    assert not watched.problems, watched.problems
    context.close()
