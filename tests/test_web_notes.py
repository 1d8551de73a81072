"""The note page, editing, new notes, rename and move, and audiences in the local app:
in Chromium against a real server (each page at both widths under axe, no console error
or failed request), and the guard's promises about paths and HTML without a browser."""

from __future__ import annotations

import base64
import http.client
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from knowflow import Index, Vault
from knowflow.errors import ConflictError
from knowflow.sense import search
from knowflow.sense.graph import note_at, note_tags
from knowflow.share.owner import Addresses, owner_renderer
from knowflow.vault.editing import NotText, editable, encoded, read_for_editing, save_edit
from knowflow.vault.files import content_hash

from .conftest import write_files
from .websupport import WIDTHS, Served, Watched, serious_violations, serving

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
CONFIG = """\
[audiences."team/platform"]
kind = "team"
title = "Platform team"
"""
FILES: dict[str, str | bytes] = {
    "Hub.md": "---\ntags: [topic]\n---\n# Hub\n\nThe hub note, with a picture:\n\n"
    "![[p.png]]\n\nIt points to [[notes/A|the first note]] and [[Missing note]].\n",
    "notes/A.md": "# A\n\nLinks to [[Hub]] from here.\n",
    "notes/B.md": "# B\n\nfirst line\nAlso [[Hub|the hub]] here.\n",
    "pics/p.png": PNG,
    "Evil.md": "# Evil\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
    '<a href="javascript:alert(3)">click</a>\n',
    "clippings/Clip.md": "---\ntype: clipping\nurl: https://example.org/a\n---\n# Clip\n\n"
    "Some words worth keeping here.\n\n> [!quote] Highlight ^hl-1a2b3c\n> words worth keeping\n",
    "page.html": "<script>alert(4)</script>",
}


def make_vault(root: Path) -> Vault:
    write_files(root, FILES)
    vault = Vault.init(root)
    (vault.state_dir / "config.toml").write_text(CONFIG, "utf-8")
    with Index(vault) as index:
        index.scan()
    return vault


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return make_vault(tmp_path / "vault")


@pytest.fixture
def served(vault: Vault) -> Iterator[Served]:
    with serving(vault) as served:
        yield served


def open_page(served: Served, browser: Any, path: str, **options: Any) -> tuple[Any, Watched]:
    context = served.signed_in(browser, **options)
    page = context.new_page()
    watched = Watched(page)
    page.goto(served.base.rstrip("/") + path)
    return page, watched


def url(served: Served, path: str) -> str:
    return served.base.rstrip("/") + path


# In the browser -------------------------------------------------------------------


def test_a_note_shows_its_backlinks_with_their_lines_and_its_links_lead_in_the_app(
    served: Served, browser: Any
) -> None:
    page, watched = open_page(served, browser, "/note/Hub.md")
    assert page.locator("h1").inner_text() == "Hub"
    assert page.locator("article[data-note-path='Hub.md']").count() == 1
    backlinks = page.locator("ul.backlinks li")
    assert backlinks.count() == 2
    assert "Links to [[Hub]] from here." in backlinks.nth(0).inner_text()
    assert "line 3" in backlinks.nth(0).inner_text()
    assert "line 4" in backlinks.nth(1).inner_text()
    assert page.locator(".note-body img").get_attribute("src") == "/file/pics/p.png"
    assert page.locator(".note-body img").evaluate("i => i.naturalWidth") == 1
    missing = page.locator(".note-body a.unresolved")
    assert missing.inner_text() == "Missing note"
    assert missing.get_attribute("href") == "/new?title=Missing+note"
    assert page.locator(".tags a.tag").inner_text() == "#topic"
    assert page.locator(".tags a.tag").get_attribute("href") == "/search?q=tag%3Atopic"
    page.locator(".note-body a.internal", has_text="the first note").click()
    page.wait_for_url("**/note/notes/A.md")
    assert page.locator("h1").inner_text() == "A"
    assert not watched.problems
    page.context.close()


def test_a_clipping_lists_its_highlights(served: Served, browser: Any) -> None:
    page, watched = open_page(served, browser, "/note/clippings/Clip.md")
    assert "words worth keeping" in page.locator("ul.highlights").inner_text()
    assert page.locator("ul.highlights a").get_attribute("href") == "#^hl-1a2b3c"
    assert not watched.problems
    page.context.close()


def test_edit_and_save_writes_atomically_and_updates_the_index(
    served: Served, browser: Any, vault: Vault
) -> None:
    file = vault.root / "notes" / "A.md"
    inode = file.stat().st_ino
    page, watched = open_page(served, browser, "/edit/notes/A.md")
    textarea = page.locator("textarea[name=text]")
    textarea.fill("# A\n\nLinks to [[Hub]] from here, and a zebracorn.\n")
    # The preview follows the text (htmx, debounced), rendered by the site's renderer.
    page.locator("#preview", has_text="zebracorn").wait_for()
    assert page.locator("#preview a.internal").get_attribute("href") == "/note/Hub.md"
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url("**/note/notes/A.md?done=saved")
    assert "Saved." in page.locator("[role=status]").inner_text()
    assert file.read_text("utf-8") == "# A\n\nLinks to [[Hub]] from here, and a zebracorn.\n"
    assert file.stat().st_ino != inode  # a new file renamed over the old: atomic
    assert not [p for p in file.parent.iterdir() if p.name.endswith(".tmp")]
    with Index(vault) as index:
        assert [hit.path for hit in search(index, "zebracorn")] == ["notes/A.md"]
    assert not watched.problems
    page.context.close()


def test_a_note_changed_on_disk_while_edited_is_never_overwritten(
    served: Served, browser: Any, vault: Vault
) -> None:
    file = vault.root / "notes" / "B.md"
    page, watched = open_page(served, browser, "/edit/notes/B.md")
    file.write_text("# B\n\nfirst line changed elsewhere\nAlso [[Hub|the hub]] here.\n", "utf-8")
    page.locator("textarea[name=text]").fill("# B\n\nfirst line\nmine, typed in the app\n")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("heading", name="notes/B.md changed on disk").wait_for()
    assert file.read_text("utf-8").startswith("# B\n\nfirst line changed elsewhere")
    assert "first line changed elsewhere" in page.locator("pre.version").inner_text()
    assert "mine, typed in the app" in page.locator("textarea[name=text]").input_value()
    diff = page.locator("pre.diff")
    assert diff.locator(".removed", has_text="first line changed elsewhere").count() == 1
    assert diff.locator(".added", has_text="mine, typed in the app").count() == 1
    # Edit further: the next save goes through (it carries the hash of the file now).
    page.locator("textarea[name=text]").fill("# B\n\nboth: changed elsewhere, and mine\n")
    page.get_by_role("button", name="Save this").click()
    page.wait_for_url("**/note/notes/B.md?done=saved")
    assert file.read_text("utf-8") == "# B\n\nboth: changed elsewhere, and mine\n"
    assert not watched.problems
    page.context.close()


@pytest.mark.parametrize("choice", ["Keep mine", "Take theirs"])
def test_a_conflict_is_settled_by_the_choice_made(
    served: Served, browser: Any, vault: Vault, choice: str
) -> None:
    file = vault.root / "notes" / "A.md"
    page, watched = open_page(served, browser, "/edit/notes/A.md")
    theirs = "# A\n\ntheirs\n"
    file.write_text(theirs, "utf-8")
    page.locator("textarea[name=text]").fill("# A\n\nmine\n")
    page.get_by_role("button", name="Save", exact=True).click()
    page.get_by_role("button", name=re.compile(choice)).click()
    page.wait_for_url("**/note/notes/A.md**")
    assert file.read_text("utf-8") == ("# A\n\nmine\n" if choice == "Keep mine" else theirs)
    assert page.locator("h1").inner_text() == "A"
    assert not watched.problems
    page.context.close()


def test_audiences_change_from_the_note_page(served: Served, browser: Any, vault: Vault) -> None:
    page, watched = open_page(served, browser, "/note/notes/A.md")
    assert "Private" in page.locator("#audiences legend").inner_text()
    page.get_by_label("Platform team").check()
    page.get_by_role("button", name="Save audiences").click()
    page.wait_for_url("**/note/notes/A.md?done=audiences*")
    text = (vault.root / "notes" / "A.md").read_text("utf-8")
    assert text == "---\nshare: team/platform\n---\n# A\n\nLinks to [[Hub]] from here.\n"
    assert page.get_by_label("Platform team").is_checked()
    page.get_by_label("Everyone").check()
    page.get_by_label("Platform team").uncheck()
    page.get_by_role("button", name="Save audiences").click()
    page.wait_for_url("**/note/notes/A.md?done=audiences*")
    assert (vault.root / "notes" / "A.md").read_text("utf-8").startswith("---\nshare: public\n")
    page.get_by_label("Everyone").uncheck()
    page.get_by_role("button", name="Save audiences").click()
    page.wait_for_url("**/note/notes/A.md?done=audiences*")
    assert (vault.root / "notes" / "A.md").read_text("utf-8") == FILES["notes/A.md"]
    assert not watched.problems
    page.context.close()


def test_rename_from_the_note_page_shows_the_links_then_rewrites_them(
    served: Served, browser: Any, vault: Vault
) -> None:
    page, watched = open_page(served, browser, "/note/Hub.md")
    page.get_by_label("New name").fill("Centre")
    page.get_by_role("button", name="Rename…").click()
    rows = page.locator("table.edits tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).inner_text().split("\t") == ["notes/A.md", "3", "[[Hub]]", "[[Centre]]"]
    assert (vault.root / "Hub.md").exists()  # a dry run: nothing changed yet
    page.get_by_role("button", name="Rename and rewrite the links").click()
    page.wait_for_url("**/note/Centre.md?done=renamed")
    assert not (vault.root / "Hub.md").exists()
    assert "[[Centre]]" in (vault.root / "notes" / "A.md").read_text("utf-8")
    assert "[[Centre|the hub]]" in (vault.root / "notes" / "B.md").read_text("utf-8")
    assert page.locator("ul.backlinks li").count() == 2
    # A name that is taken is refused, clearly, and nothing changes.
    page.get_by_label("New name").fill("Evil")
    page.get_by_role("button", name="Rename…").click()
    assert "already exists" in page.locator("[role=alert]").inner_text()
    assert page.locator("table.edits").count() == 0
    assert not watched.problems
    page.context.close()


def test_move_from_the_note_page(served: Served, browser: Any, vault: Vault) -> None:
    page, watched = open_page(served, browser, "/note/notes/A.md")
    page.get_by_label("Folder").fill("archive")
    page.get_by_role("button", name="Move…").click()
    page.get_by_role("button", name="Move and rewrite the links").click()
    page.wait_for_url("**/note/archive/A.md?done=moved")
    assert (vault.root / "archive" / "A.md").exists()
    # The shortest link that names only it, as Obsidian writes it.
    assert "[[A|the first note]]" in (vault.root / "Hub.md").read_text("utf-8")
    assert not watched.problems
    page.context.close()


def test_a_new_note_from_a_title_opens_in_the_editor(
    served: Served, browser: Any, vault: Vault
) -> None:
    page, watched = open_page(served, browser, "/note/Hub.md")
    page.locator(".note-body a.unresolved").click()
    assert page.get_by_label("Title").input_value() == "Missing note"
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/edit/Missing%20note.md")
    assert (vault.root / "Missing note.md").exists()
    assert "Missing note" in page.locator("textarea[name=text]").input_value()
    # The same title again: refused, with a way to the note that has it.
    page.goto(url(served, "/new"))
    page.get_by_label("Title").fill("Missing note")
    page.get_by_role("button", name="Create").click()
    assert "already exists" in page.locator("[role=alert]").inner_text()
    assert not watched.problems
    page.context.close()


def test_the_pages_pass_axe_at_both_widths(served: Served, browser: Any, vault: Vault) -> None:
    for size in WIDTHS:
        context = served.signed_in(browser, viewport=size, bypass_csp=True)
        page = context.new_page()
        watched = Watched(page)
        for path in (
            "/note/Hub.md",
            "/note/pics/p.png",
            "/edit/Hub.md",
            "/new",
            "/rename/Hub.md?to=Centre",
            "/note/clippings/Clip.md",
        ):
            page.goto(url(served, path))
            assert not serious_violations(page), (path, size)
        page.goto(url(served, "/edit/notes/A.md"))
        (vault.root / "notes" / "A.md").write_text(f"changed {size['width']}\n", "utf-8")
        page.get_by_role("button", name="Save", exact=True).click()
        page.get_by_role("heading", name="notes/A.md changed on disk").wait_for()
        assert not serious_violations(page), ("conflict", size)
        if size["width"] < 500:  # a phone: Write and Preview are tabs
            page.goto(url(served, "/edit/Hub.md"))
            assert not page.locator("#preview").is_visible()
            page.get_by_role("button", name="Preview").click()
            assert page.locator("#preview").is_visible()
            assert not page.locator("textarea[name=text]").is_visible()
        assert not watched.problems
        context.close()


# Without a browser ------------------------------------------------------------------


def raw_get(served: Served, path: str) -> tuple[int, bytes]:
    """A request for exactly this path (no client tidying its dots away)."""
    parts = urlsplit(served.base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    conn.putrequest("GET", path, skip_host=True)
    conn.putheader("Host", parts.netloc)
    conn.putheader("Cookie", f"knowflow_token={served.token}")
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def test_a_path_never_leaves_the_vault(served: Served, vault: Vault, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("TOP SECRET outside the vault\n", "utf-8")
    (vault.root / "link.md").symlink_to(secret)
    (vault.root / "linked").symlink_to(tmp_path)
    paths = [
        "/note/../../etc/passwd",
        "/note/%2e%2e/%2e%2e/etc/passwd",
        "/note/..%2f..%2fetc%2fpasswd",
        "/note//etc/passwd",
        "/note/%2fetc%2fpasswd",
        "/note/link.md",
        "/note/linked/secret.md",
        "/note/.knowflow/state.db",
        "/note/.knowflow/config.toml",
        "/note/notes/../.knowflow/config.toml",
    ]
    for prefix in ("/note/", "/file/", "/edit/"):
        for path in paths:
            status, body = raw_get(served, prefix + path.removeprefix("/note/"))
            assert status in (400, 404), (prefix, path, status)
            assert b"root:" not in body and b"TOP SECRET" not in body, path
            assert b"[audiences" not in body and b"SQLite" not in body, path


def test_nothing_moves_out_of_the_vault(served: Served, vault: Vault, tmp_path: Path) -> None:
    from knowflow.web.security import csrf_token

    outside = tmp_path / "outside"
    outside.mkdir()
    (vault.root / "exit").symlink_to(outside)
    csrf = csrf_token(served.token)
    with httpx.Client(base_url=served.base, cookies={"knowflow_token": served.token}) as client:
        for to in ("exit", "exit/deeper", "../x", ".knowflow"):
            assert client.get("/move/Hub.md", params={"to": to}).status_code == 200
            moved = client.post("/move/Hub.md", data={"csrf": csrf, "to": to})
            assert moved.status_code == 200 and 'role="alert"' in moved.text, to
        made = client.post("/new", data={"csrf": csrf, "title": "Out", "folder": "exit"})
        assert 'role="alert"' in made.text
    assert (vault.root / "Hub.md").exists() and not list(outside.iterdir())


def test_note_html_is_sanitized(served: Served) -> None:
    status, body = raw_get(served, "/note/Evil.md")
    assert status == 200
    article = body.split(b'<div class="note-body">', 1)[1].split(b"</article>", 1)[0]
    assert b"<script" not in article
    assert b"onerror" not in article
    assert b"javascript:" not in article


def test_files_are_served_so_that_none_runs_as_a_page(served: Served) -> None:
    with httpx.Client(base_url=served.base, cookies={"knowflow_token": served.token}) as client:
        image = client.get("/file/pics/p.png")
        assert image.status_code == 200 and image.content == PNG
        assert image.headers["content-type"] == "image/png"
        html = client.get("/file/page.html")
        assert html.headers["content-type"] == "application/octet-stream"
        assert html.headers["content-disposition"].startswith("attachment")
        policy = html.headers["content-security-policy"]
        assert policy.endswith("; sandbox") and "script-src 'self'" in policy
        assert "sandbox" in client.get("/file/pics/p.png").headers["content-security-policy"]
        note = client.get("/note/pics/p.png")
        assert note.status_code == 200 and 'src="/file/pics/p.png"' in note.text


def test_changes_without_the_csrf_token_are_refused(served: Served, vault: Vault) -> None:
    before = {p: p.read_bytes() for p in vault.root.rglob("*.md")}
    with httpx.Client(base_url=served.base, cookies={"knowflow_token": served.token}) as client:
        for path, form in (
            ("/edit/notes/A.md", {"text": "gone", "base": ""}),
            ("/audiences/notes/A.md", {"audience": "public"}),
            ("/rename/Hub.md", {"to": "Other"}),
            ("/move/Hub.md", {"to": "elsewhere"}),
            ("/new", {"title": "Planted"}),
            ("/preview/Hub.md", {"text": "x"}),
        ):
            assert client.post(path, data=form).status_code == 403, path
            assert client.post(path, data=form | {"csrf": "wrong"}).status_code == 403, path
    assert {p: p.read_bytes() for p in vault.root.rglob("*.md")} == before


def test_forms_work_without_javascript(served: Served, vault: Vault) -> None:
    """Every form posts and redirects: a save, a new note, a rename."""
    from knowflow.web.security import csrf_token

    csrf = csrf_token(served.token)
    with httpx.Client(base_url=served.base, cookies={"knowflow_token": served.token}) as client:
        base = content_hash((vault.root / "notes" / "A.md").read_bytes())
        saved = client.post(
            "/edit/notes/A.md", data={"csrf": csrf, "base": base, "text": "# A\r\n\r\nnew\r\n"}
        )
        assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
        assert (vault.root / "notes" / "A.md").read_bytes() == b"# A\n\nnew\n"
        stale = client.post("/edit/notes/A.md", data={"csrf": csrf, "base": base, "text": "stale"})
        assert stale.status_code == 200 and "changed on disk" in stale.text
        assert (vault.root / "notes" / "A.md").read_bytes() == b"# A\n\nnew\n"
        made = client.post("/new", data={"csrf": csrf, "title": "What/Why", "folder": "ideas"})
        assert made.status_code == 303
        assert made.headers["location"] == "/edit/" + quote("ideas/What Why.md")
        hidden = client.post("/new", data={"csrf": csrf, "title": "x", "folder": ".knowflow"})
        assert "not a folder for notes" in hidden.text
        assert not (vault.root / ".knowflow" / "x.md").exists()
        preview = client.post("/preview/Hub.md", data={"csrf": csrf, "text": "[[notes/B]] *hi*"})
        assert '<a class="internal" href="/note/notes/B.md">' in preview.text
        assert "<em>hi</em>" in preview.text


def test_a_note_deleted_while_edited_can_be_written_again(served: Served, vault: Vault) -> None:
    from knowflow.web.security import csrf_token

    csrf = csrf_token(served.token)
    note = vault.root / "notes" / "B.md"
    base = content_hash(note.read_bytes())
    note.unlink()
    with httpx.Client(base_url=served.base, cookies={"knowflow_token": served.token}) as client:
        asked = client.post("/edit/notes/B.md", data={"csrf": csrf, "base": base, "text": "mine"})
        assert asked.status_code == 200 and "deleted on disk" in asked.text
        assert not note.exists()
        kept = re.search(r'name="base" value="([^"]*)"', asked.text)
        assert kept is not None and kept.group(1) == ""
        again = client.post("/edit/notes/B.md", data={"csrf": csrf, "base": "", "text": "mine\n"})
        assert again.status_code == 303
    assert note.read_text("utf-8") == "mine\n"


# The API the pages stand on -----------------------------------------------------------


def test_save_edit_keeps_line_breaks_and_byte_order_mark(tmp_path: Path) -> None:
    note = tmp_path / "n.md"
    note.write_bytes(b"\xef\xbb\xbfone\r\ntwo\r\n")
    opened = read_for_editing(note)
    assert (opened.text, opened.newline, opened.bom) == ("one\ntwo\n", "crlf", True)
    save_edit(note, "one\nthree\n", opened.hash, newline=opened.newline, bom=opened.bom)
    assert note.read_bytes() == b"\xef\xbb\xbfone\r\nthree\r\n"
    with pytest.raises(ConflictError):
        save_edit(note, "lost?\n", opened.hash)
    assert note.read_bytes() == b"\xef\xbb\xbfone\r\nthree\r\n"
    assert (
        save_edit(note, "one\nthree\n", content_hash(note.read_bytes()), newline="crlf", bom=True)
        is None
    )
    note.unlink()
    with pytest.raises(ConflictError):
        save_edit(note, "x", opened.hash)
    assert not note.exists()
    save_edit(note, "back\n", "")
    assert note.read_bytes() == b"back\n"
    with pytest.raises(NotText):
        editable(b"caf\xe9\n")
    assert encoded("a\r\nb\rc\n", "lf") == b"a\nb\nc\n"


def test_owner_renderer_and_graph_lookups(vault: Vault) -> None:
    with Index(vault) as index:
        ref = note_at(index, "Hub.md")
        assert ref is not None and note_at(index, "Hub") is None
        assert note_tags(index, ref) == ["topic"]
        addresses = Addresses(
            note=lambda p: "/n/" + p,
            file=lambda p: "/f/" + p,
            tag=lambda t: "/t/" + t,
            new_note=lambda t: "/new/" + t,
        )
        html = owner_renderer(index, addresses).note("Hub.md")
        assert '<a class="unresolved" href="/new/Missing note">Missing note</a>' in html
        assert 'src="/f/pics/p.png"' in html and 'href="/n/notes/A.md"' in html
        draft = owner_renderer(index, addresses, drafts={"Hub.md": "[[Evil]]"}).note("Hub.md")
        assert 'href="/n/Evil.md"' in draft


def test_owner_renderer_leaves_out_what_lives_outside_the_vault(
    vault: Vault, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "Private.md").write_text("SECRET from outside\n", "utf-8")
    (vault.root / "out").symlink_to(outside)
    (vault.root / "Embeds.md").write_text("![[Private]]\n", "utf-8")
    with Index(vault) as index:
        index.scan()
        html = owner_renderer(index, Addresses(str, str, str)).note("Embeds.md")
    assert "SECRET" not in html


def test_a_note_that_is_not_utf8_is_not_edited(served: Served, vault: Vault) -> None:
    (vault.root / "Latin.md").write_bytes(b"caf\xe9\n")
    status, body = raw_get(served, "/edit/Latin.md")
    assert status == 200 and b"is not UTF-8" in body and b"<textarea" not in body
