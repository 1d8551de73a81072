"""Publishing a site: pages, links, embeds, tags, search, feeds, sitemap, increments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import feedparser
import pytest

from knowflow import Index
from knowflow.errors import AudienceNotFound, PublishError
from knowflow.share import publish
from knowflow.share.bundle import write_bundle

from .conftest import cli_in, run_unprivileged

CONFIG = """\
[share]
site_title = "Test garden"
author = "Ada"
base_url = "https://garden.example.org/notes"

[audiences."team/platform"]
kind = "team"
"""
ATOM = "{http://www.w3.org/2005/Atom}"

NOTES: dict[str, str | bytes] = {
    ".knowflow/config.toml": CONFIG,
    "Home.md": """---
share: public
tags: [meta]
updated: 2026-11-20
---
# Home

Start at [[Ideas#Second part|the second part]] or [[Ideas]]; see [[Hidden plan]] and
[[Nowhere yet]]. A [markdown link](Ideas.md) and a [private one](<Hidden plan.md>).

> [!tip] Worth knowing
> Callouts keep their *title*.

| a | b |
|---|---|
| 1 | 2 |

Footnote here.[^1] #topic/sub

```python
print("[[not a link]]")
```

%% a private aside: never published %%

![[pic.png]]
![[Ideas#^quote]]

[^1]: The footnote text.
""",
    "Ideas.md": """---
share: [team/platform, public]
tags: [topic]
---
First part. ![[Ideas]]

> A quote worth keeping ^quote

## Second part
Links back to [[Home]].
""",
    "Hidden plan.md": "---\nshare: team/platform\n---\nTeam only. ![[secret.png]]\n",
    "Loop A.md": "---\nshare: public\n---\nA embeds ![[Loop B]]\n",
    "Loop B.md": "---\nshare: public\n---\nB embeds ![[Loop A]]\n",
    "Hostile.md": (
        "---\nshare: public\n---\n<script>alert(1)</script><img src=x onerror=alert(2)>\n"
        '<a href="javascript:alert(3)">x</a> <div onclick="alert(4)">d</div>\n'
    ),
    "pic.png": b"\x89PNG\r\n\x1a\n",
    "secret.png": b"\x89PNG\r\n\x1a\n",
}


@pytest.fixture
def index(indexed: Callable[[dict[str, str | bytes]], Index]) -> Index:
    return indexed(NOTES)


def test_a_site_of_what_the_audience_may_see(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    report = publish(index, "public", out)
    assert report.notes == 5 and not report.warnings
    home = (out / "home.html").read_text()
    assert '<a class="internal" href="ideas.html#second-part">the second part</a>' in home
    assert '<a href="ideas.html">markdown link</a>' in home
    assert "Hidden plan" not in home and "hidden-plan" not in home
    assert '<span class="not-shared">(not shared)</span>' in home
    assert "private one" in home  # the words of a Markdown link stay, not where it led
    assert '<span class="unresolved">Nowhere yet</span>' in home
    assert '<div class="callout callout-tip">' in home and "Worth knowing" in home
    assert '<table tabindex="0">' in home and 'class="footnote' in home
    assert '<a class="tag" href="tags/topic/sub.html">#topic/sub</a>' in home
    assert "[[not a link]]" in home and "private aside" not in home
    assert '<img src="files/pic.png"' in home and (out / "files/pic.png").exists()
    assert "A quote worth keeping" in home  # the embedded block
    assert not list(out.rglob("secret*")) and not list(out.rglob("hidden*"))
    ideas = (out / "ideas.html").read_text()
    assert 'id="second-part"' in ideas and 'id="^quote"' in ideas
    assert "embed-cycle" in ideas  # a note embedding itself is shown once
    assert "Links to this note" in ideas and 'href="home.html"' in ideas
    loop = (out / "loop-a.html").read_text()
    assert "B embeds" in loop and "embed-cycle" in loop
    tags = (out / "tags/topic.html").read_text()
    assert "home.html" in tags and "ideas.html" in tags  # topic/sub counts under topic
    search = (out / "search-index.js").read_text()
    assert "Second part" in search and "Hidden" not in search


def test_hostile_html_in_notes_cannot_run(index: Index, tmp_path: Path) -> None:
    publish(index, "public", tmp_path / "site")
    page = (tmp_path / "site" / "hostile.html").read_text()
    body = page[page.index("<main") :]
    for bad in ("<script", "onerror", "onclick", "javascript:"):
        assert bad not in body


def test_feeds_are_valid_atom_and_json_feed(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(index, "public", out)
    feed = ET.parse(out / "atom.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 5
    for entry in entries:
        for required in ("id", "title", "updated", "link", "content"):
            assert entry.find(f"{ATOM}{required}") is not None, required
        assert entry.find(f"{ATOM}id").text.startswith("urn:uuid:")  # type: ignore[union-attr]
    newest = entries[0]
    assert (
        newest.find(f"{ATOM}link")
        .get("href", "")
        .startswith(  # type: ignore[union-attr]
            "https://garden.example.org/notes/"
        )
    )
    parsed = feedparser.parse((out / "atom.xml").read_bytes())
    assert not parsed.bozo and parsed.version == "atom10" and len(parsed.entries) == 5

    doc = json.loads((out / "feed.json").read_text())
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["title"] == "Test garden" and doc["authors"] == [{"name": "Ada"}]
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item and item["url"].startswith("https://")
    assert {i["title"] for i in doc["items"]} == {"Home", "Ideas", "Loop A", "Loop B", "Hostile"}
    sitemap = ET.parse(out / "sitemap.xml").getroot()
    locs = [e.text for e in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://garden.example.org/notes/home.html" in locs and len(locs) == 6


def test_republishing_rewrites_only_what_changed(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = publish(index, "public", out)
    inode = (out / "loop-a.html").stat().st_ino
    second = publish(index, "public", out)
    assert second.written == [] and second.unchanged == len(first.written)
    assert (out / "loop-a.html").stat().st_ino == inode  # carried over, not rewritten

    ideas = index.vault.root / "Ideas.md"
    later = ideas.stat().st_mtime + 60  # a minute later, whatever the clock does
    ideas.write_text(ideas.read_text().replace("Links back", "Now links back"))
    os.utime(ideas, (later, later))
    index.scan()
    third = publish(index, "public", out)
    # Ideas changed, but not the block Home embeds: Home's page stays as it was.
    # Its new time shows on the front page and in the sitemap.
    assert set(third.written) == {
        "ideas.html",
        "search-index.js",
        "atom.xml",
        "feed.json",
        "index.html",
        "sitemap.xml",
    }
    assert "Now links back" in (out / "ideas.html").read_text()
    ideas.write_text(ideas.read_text().replace("A quote worth", "A quote still worth"))
    index.scan()
    fourth = publish(index, "public", out)
    assert {"ideas.html", "home.html"} <= set(fourth.written)
    assert "loop-a.html" not in fourth.written and "tags/meta.html" not in fourth.written
    assert "A quote still worth keeping" in (out / "home.html").read_text()


def test_unsharing_removes_a_note_from_every_output(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(index, "public", out)
    assert "Ideas" in (out / "feed.json").read_text()
    before = write_bundle(index, "public", tmp_path / "before.json")
    assert "Ideas" in [n["title"] for n in before["notes"]]  # type: ignore[attr-defined]
    cli_in(index.vault.root)("unshare", "Ideas", "public")
    index.scan()
    report = publish(index, "public", out)
    assert "ideas.html" in report.removed and not (out / "ideas.html").exists()
    everything = "\n".join(
        p.read_text() for p in out.rglob("*") if p.is_file() and p.suffix != ".png"
    )
    assert "ideas.html" not in everything and "Second part" not in everything
    assert "A quote worth keeping" not in everything  # the embedded block went too
    assert not (out / "tags/topic.html").read_text().count("ideas")
    after = write_bundle(index, "public", tmp_path / "after.json")
    assert "Ideas" not in [n["title"] for n in after["notes"]]  # type: ignore[attr-defined]
    assert "Second part" not in (tmp_path / "after.json").read_text()
    team = publish(index, "team/platform", tmp_path / "team")
    assert (tmp_path / "team" / "ideas.html").exists() and team.notes == 2 + 5 - 1


def test_refuses_places_it_did_not_make(index: Index, tmp_path: Path) -> None:
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("precious")
    with pytest.raises(PublishError, match="did not write"):
        publish(index, "public", foreign)
    assert (foreign / "thesis.docx").read_text() == "precious"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(PublishError, match="is a file"):
        publish(index, "public", a_file)
    with pytest.raises(AudienceNotFound):
        publish(index, "team/nobody", tmp_path / "x")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        args = ["--vault", str(index.vault.root), "--no-scan", "publish", "--audience", "public"]
        result = run_unprivileged([*args, "--out", str(locked / "site")])
    finally:
        locked.chmod(0o755)
    assert result.returncode == 2 and "cannot write beside" in result.stderr, result.stderr
    assert not list(locked.iterdir())
    assert not list(tmp_path.glob(".*knowflow-*"))  # no half-built site left behind


def test_publish_command(index: Index, tmp_path: Path) -> None:
    run = cli_in(index.vault.root)
    inside = run("publish", "--audience", "public", "--out", str(index.vault.root / "site"))
    assert "inside the vault" in inside
    hidden = run("publish", "--audience", "public", "--out", str(index.vault.root / ".site"))
    assert "inside the vault" not in hidden
    output = run("publish", "--audience", "public", "--out", str(tmp_path / "s"))
    assert "Published 5 notes for public" in output
    report = json.loads(
        run("publish", "--audience", "public", "--out", str(tmp_path / "s"), "--json")
    )
    assert report["written"] == [] and report["notes"] == 5
    run("publish", "--audience", "public", "--out", str(index.vault.root / "Home.md"), code=2)


CORPUS = Path(__file__).resolve().parent.parent.parent / "shared/corpus/feeds/feedparser"


class _Unsafe(HTMLParser):
    """Collects anything in HTML that could run: script-like tags, event handlers,
    script addresses."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "frame", "applet", "base", "meta"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            address = "".join((value or "").split()).lower()
            if name.startswith("on") or address.startswith(("javascript:", "vbscript:")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name == "style" and ("expression" in address or "url(" in address):
                self.found.append(f"<{tag} style={value!r}>")


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")
def test_the_corpus_of_hostile_html_leaves_nothing_that_runs(
    indexed: Callable[[dict[str, str | bytes]], Index], tmp_path: Path
) -> None:
    files: dict[str, str | bytes] = {".knowflow/config.toml": CONFIG}
    for n, path in enumerate(sorted((CORPUS / "wellformed/sanitize").glob("*.xml"))):
        parsed = feedparser.parse(path.read_bytes(), sanitize_html=False)
        raw = [parsed.feed.get(key, "") for key in ("title", "subtitle", "info", "rights")]
        for entry in parsed.entries:
            raw += [c.get("value", "") for c in entry.get("content", [])]
            raw += [entry.get(key, "") for key in ("title", "summary")]
        if any(raw):
            files[f"case{n:03}.md"] = "---\nshare: public\n---\n" + "\n\n".join(raw) + "\n"
    assert len(files) > 700
    index = indexed(files)
    out = tmp_path / "site"
    publish(index, "public", out)
    unsafe = []
    for page in sorted(out.rglob("*.html")):
        text = page.read_text()
        checker = _Unsafe()
        checker.feed(text[text.index("<main") : text.index("</main>")])  # the rest is ours
        unsafe += [f"{page.name}: {what}" for what in checker.found]
    assert not unsafe, "\n".join(unsafe[:20])
    for name in ("atom.xml", "feed.json"):
        text = (out / name).read_text()
        content = json.loads(text)["items"] if name.endswith("json") else None
        html = (
            [i["content_html"] for i in content]
            if content
            else [e.text or "" for e in ET.parse(out / name).getroot().iter(f"{ATOM}content")]
        )
        for fragment in html:
            checker = _Unsafe()
            checker.feed(fragment)
            assert not checker.found, (name, checker.found)


def test_a_note_gone_while_publishing_is_a_clear_error(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(index, "public", out)
    (index.vault.root / "Ideas.md").unlink()  # after the scan, before the publish
    (index.vault.root / "Home.md").write_text("---\nshare: public\n---\nChanged\n")
    index.conn.execute("UPDATE files SET hash = 'stale' WHERE path = 'Ideas.md'")
    with pytest.raises(PublishError, match=r"Ideas\.md could not be read"):
        publish(index, "public", out)
    assert (out / "ideas.html").exists()  # the site as it was, whole
    assert not list(tmp_path.glob(".site.knowflow-*"))


def test_every_heading_anchor_a_note_links_to_is_on_the_page(
    indexed: Callable[[dict[str, str | bytes]], Index], tmp_path: Path
) -> None:
    """Links written for GitHub or a static site (#dd-wotc, a table of contents of
    #slugs) land on the heading the site gives an id, as Obsidian-style ones do."""
    import re

    index = indexed(
        {
            "Guide.md": (
                "---\nshare: public\n---\n"
                "- [What's in a guide](#whats-in-a-guide)\n- [Links](#links-graphs-backlinks)\n"
                "## What's in a guide\n## Links, graphs & backlinks\n## D&D WOTC\n"
                "## See [[Other]]\n"
            ),
            "Other.md": (
                "---\nshare: public\n---\n"
                "[a](Guide.md#dd-wotc) [b](Guide.md#d-d-wotc) [c](Guide.md#D%26D%20WOTC)"
                " [[Guide#D D WOTC]] [d](Guide.md#see) [e](Guide.md#no-such-heading)"
            ),
        }
    )
    publish(index, "public", tmp_path / "site")
    guide = (tmp_path / "site" / "guide.html").read_text()
    ids = set(re.findall(r'id="([^"]+)"', guide))
    toc = re.findall(r'<a href="#([^"]+)"', guide)
    assert toc[:2] and set(toc[:2]) <= ids
    other = (tmp_path / "site" / "other.html").read_text()
    anchors = re.findall(r'href="guide\.html#([^"]+)"', other)
    assert anchors[:5] == ["d-d-wotc"] * 4 + ["see"] and "see" in ids and "d-d-wotc" in ids
    assert anchors[5] == "no-such-heading"  # a heading that is not there stays as written


def test_attachments_whose_names_meet_keep_their_own_files(
    indexed: Callable[[dict[str, str | bytes]], Index], tmp_path: Path
) -> None:
    index = indexed(
        {
            "media/my_pic.png": b"\x89PNG green",
            "media/my-pic.png": b"\x89PNG blue",
            "Page.md": "---\nshare: public\n---\n![[media/my_pic.png]] ![[media/my-pic.png]]",
        }
    )
    publish(index, "public", tmp_path / "site")
    files = tmp_path / "site" / "files" / "media"
    assert sorted(p.read_bytes() for p in files.iterdir()) == [b"\x89PNG blue", b"\x89PNG green"]
    page = (tmp_path / "site" / "page.html").read_text()
    assert "files/media/my-pic.png" in page and "files/media/my-pic-2.png" in page


def test_obsidian_publish_flags_are_pointed_out(
    indexed: Callable[[dict[str, str | bytes]], Index], tmp_path: Path
) -> None:
    index = indexed(
        {
            "a.md": "---\npublish: true\n---\nfrom Obsidian",
            "b.md": "---\npublish: true\nshare: public\n---\nshared too",
            "c.md": "---\npublish: false\n---\nnot meant for it",
        }
    )
    report = publish(index, "public", tmp_path / "site")
    assert report.notes == 1
    (warning,) = [w for w in report.warnings if "publish: true" in w]
    assert warning.startswith("1 notes say `publish: true`")


def test_a_new_site_title_reaches_every_page(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(index, "public", out)
    config = index.vault.root / ".knowflow" / "config.toml"
    config.write_text(
        config.read_text()
        .replace("Test garden", "Renamed garden")
        .replace('author = "Ada"', 'author = "Ada L."')
        .replace("garden.example.org", "notes.example.net")
    )
    report = publish(index, "public", out)
    pages = list(out.rglob("*.html"))
    assert pages and all("Renamed garden" in p.read_text() for p in pages)
    assert all("Test garden" not in p.read_text() for p in pages)
    assert "ideas.html" in report.written and report.unchanged < len(report.written)
    feed = (out / "feed.json").read_text()
    assert "garden.example.org" not in feed and "notes.example.net" in feed


def test_the_site_folder_stays_a_folder_swapped_whole(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()  # a folder a web server already serves
    out.chmod(0o751)
    publish(index, "public", out)
    (index.vault.root / "Loop A.md").write_text("---\nshare: public\n---\nA anew\n")
    index.scan()
    publish(index, "public", out)
    assert out.is_dir() and not out.is_symlink()
    assert (out.stat().st_mode & 0o777) == 0o751  # the folder keeps its permissions
    assert "A anew" in (out / "loop-a.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "vault"]


def test_leftovers_of_killed_publishes_are_cleared(index: Index, tmp_path: Path) -> None:
    out = tmp_path / "site"
    publish(index, "public", out)
    dead = _dead_pid()
    (tmp_path / f".site.knowflow-{dead}" / "big").mkdir(parents=True)
    (tmp_path / f".site.old-{dead}").mkdir()
    (tmp_path / ".other.knowflow-1").mkdir()  # another site's: none of this publish's business
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".site.knowflow-{running.pid}"  # a publish still running: kept
        busy.mkdir()
        publish(index, "public", out)
        assert busy.is_dir()
    finally:
        running.kill()
        running.wait()
    busy.rmdir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.knowflow-1", "site", "vault"]
    # killed between the two renames (where the file system cannot exchange): no site
    # at DIR; the next publish puts the old one back, then replaces it as usual
    out.rename(tmp_path / f".site.old-{dead}")
    report = publish(index, "public", out)
    assert report.unchanged > 0 and (out / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.knowflow-1", "site", "vault"]


def test_without_an_exchange_the_swap_takes_two_renames(
    index: Index, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from knowflow.share import swap

    def cannot(a: Path, b: Path) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(swap, "_exchange", cannot)
    out = tmp_path / "site"
    publish(index, "public", out)
    (index.vault.root / "Loop A.md").write_text("---\nshare: public\n---\nA anew\n")
    index.scan()
    publish(index, "public", out)
    assert "A anew" in (out / "loop-a.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site", "vault"]


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
