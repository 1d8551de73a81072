"""The site renders what Obsidian Publish renders: callouts of every kind, media,
diagrams, headings as Obsidian links them; its search records carry what the
site's search needs and nothing private. Real vaults, the real renderer, a real
published folder (the browser tests look at the same site in Chromium)."""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from knowflow import Index
from knowflow.share import publish
from knowflow.share.audiences import audience
from knowflow.share.callouts import CALLOUT_TYPES
from knowflow.share.catalog import Catalog
from knowflow.share.media import alt_and_size, kind_of, size
from knowflow.share.pages import STATIC

from . import fidelity
from .conftest import ROOT

Build = Callable[[dict[str, str | bytes]], Index]


@pytest.fixture
def site(indexed: Build, tmp_path: Path) -> Path:
    publish(indexed(fidelity.FILES), "public", tmp_path / "site")
    return tmp_path / "site"


def main_of(page: Path) -> str:
    text = page.read_text()
    return text[text.index("<main") : text.index("</main>")]


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text outside code."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._code = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._code += tag in ("code", "pre")

    def handle_endtag(self, tag: str) -> None:
        self._code -= tag in ("code", "pre") and self._code > 0

    def handle_data(self, data: str) -> None:
        if not self._code:
            self.text.append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


# Callouts


def test_every_callout_renders_as_a_callout(site: Path) -> None:
    html = main_of(site / "callouts.html")
    page = Elements(html)
    assert "[!" not in "".join(page.text)  # no callout marker left outside code
    assert "[!tip] In code, as written" in html  # inside code it stays as written
    boxes = [a["class"] for t, a in page.tags if "callout " in (a.get("class") or "")]
    # 11 written one by one (two of them nested), then one per type and alias.
    assert len(boxes) == 11 + len(CALLOUT_TYPES)
    assert "callout callout-warning" in boxes  # the second callout of the page
    for alias, canonical in CALLOUT_TYPES.items():
        pattern = rf'<div class="callout callout-{canonical}">\s*<div class="callout-title">'
        assert re.search(pattern + rf"The {alias} callout</div>", html), alias
    assert '<div class="callout callout-note">\n<div class="callout-title">An unknown type' in html
    assert '<div class="callout-title">Info</div>' in html  # no title: the type's name


def test_foldable_nested_and_titled_callouts(site: Path) -> None:
    html = main_of(site / "callouts.html")
    closed = re.search(r'<details class="callout callout-question">\s*<summary[^>]*>', html)
    assert closed and "open" not in closed.group(0)
    assert "Closed until opened</summary>" in html and "The hidden answer." in html
    assert re.search(r'<details class="callout callout-example" open(="")?>', html)
    outer = html.index('callout-note">\n<div class="callout-title">Outer')
    inner = html.index('class="callout callout-bug"')
    assert outer < inner < html.index("Outer body") + 200  # the bug callout is inside
    assert html.count("</div>", outer, inner) == 1  # only the title has closed between
    title = re.search(r'<div class="callout-title">Use (.*?)</div>', html)
    assert title, html
    assert "<strong>bold</strong>" in title.group(1)
    assert '<a class="internal" href="media.html">Media</a>' in title.group(1)
    assert "Private plan" not in html and "(not shared)" in title.group(1)
    folded = re.search(
        r'<details class="callout callout-todo">\s*<summary[^>]*>(.*?)</summary>', html
    )
    assert folded and "<a" not in folded.group(1)  # a summary is a control: no links in it
    assert '<span class="internal">Media</span>' in folded.group(1)
    assert "the web" in folded.group(1) and '<span class="tag">#folded</span>' in folded.group(1)
    only_title = html.index("Only a title</div>")
    assert html[only_title:].split("</div>", 2)[1].strip() == ""  # no empty body


def test_callouts_meet_contrast_in_light_and_dark() -> None:
    """Each type's title colour on its tint, and the page's text, muted text and link
    colours on that tint, at least 4.5:1 (WCAG AA) in both colour schemes."""
    from knowflow.share.pages import STYLE as css  # style.css, then callouts.css

    roots = re.findall(r":root \{([^}]*)\}", css)  # the light, then the dark variables
    light_css, _, dark_css = css.partition("@media (prefers-color-scheme: dark) {\n")
    for scheme, root, text in (("light", roots[0], light_css), ("dark", roots[1], dark_css)):
        base = dict(re.findall(r"--(fg|muted|accent): (#[0-9a-f]{6})", root))
        pattern = r"\.callout-(\w+) \{ --c: (#[0-9a-f]{6}); --c-bg: (#[0-9a-f]{6});"
        found = re.findall(pattern, text)
        assert {name for name, _, _ in found} == set(CALLOUT_TYPES.values()), scheme
        for name, colour, tint in found:
            for what, fore in (("title", colour), *base.items()):
                assert contrast(fore, tint) >= 4.5, (scheme, name, what, contrast(fore, tint))


def contrast(a: str, b: str) -> float:
    def luminance(colour: str) -> float:
        def channel(v: int) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# Media


def test_sized_images_sound_video_and_pdfs(site: Path) -> None:
    page = Elements(main_of(site / "media.html"))
    images = page.all("img")
    assert {"src": "files/pic.png", "alt": "pic.png", "width": "100"} in images
    assert {"src": "files/pic.png", "alt": "Alt words", "width": "120", "height": "80"} in images
    assert {"src": "files/pic.png", "alt": "A picture", "width": "250"} in images
    sized = {"src": "files/pic.png", "alt": "Sized both", "width": "250", "height": "100"}
    assert sized in images
    audio = page.all("audio")  # ![[talk.wav]], and ![A talk](talk.wav) as Obsidian plays it
    assert [a["src"] for a in audio] == ["files/talk.wav"] * 2
    assert all("controls" in a for a in audio)
    assert '<a class="attachment" href="files/talk.wav">A talk</a></audio>' in main_of(
        site / "media.html"
    )
    (video,) = page.all("video")
    assert video["src"] == "files/clip.mp4" and "controls" in video
    frames = page.all("iframe")
    assert [f["src"] for f in frames] == ["files/doc.pdf", "files/doc.pdf#page=3"]
    assert all(f["title"] == "doc.pdf" for f in frames)
    links = [a["href"] for a in page.all("a")]
    assert links.count("files/doc.pdf") == 2  # the plain link beside each frame
    assert "files/notes.txt" in links  # any other file: a link
    for name in ("pic.png", "talk.wav", "clip.mp4", "doc.pdf", "notes.txt"):
        assert (site / "files" / name).is_file(), name


def test_media_only_private_notes_use_never_leave(site: Path) -> None:
    everything = [p for p in site.rglob("*") if p.is_file()]
    assert not [p for p in everything if "qzprivate" in p.name]
    for path in everything:
        text = path.read_bytes()
        for mark in (b"qzprivate", b"qzsecretfolder", b"qzprivatetag"):
            assert mark not in text, (path, mark)


def test_feeds_show_a_pdf_as_a_link_not_a_frame(site: Path) -> None:
    items = json.loads((site / "feed.json").read_text())["items"]
    media = next(i for i in items if i["title"] == "Media")
    assert "<iframe" not in media["content_html"]
    assert 'href="https://example.org/files/doc.pdf"' in media["content_html"]


def test_media_syntax_helpers() -> None:
    assert size("100") == ("100", "") and size("100x200") == ("100", "200")
    assert size("big") == ("", "") and size("100x") == ("", "")
    assert alt_and_size("alt|250") == ("alt", "250", "")
    assert alt_and_size("a|b|250x100") == ("a|b", "250", "100")
    assert alt_and_size("just words") == ("just words", "", "")
    audio = [".mp3", ".wav", ".m4a", ".ogg", ".flac", ".3gp"]
    assert [kind_of("x" + s.upper()) for s in audio] == ["audio"] * len(audio)
    assert {kind_of("x" + s) for s in (".mp4", ".webm", ".ogv", ".mov", ".mkv")} == {"video"}
    assert kind_of("a.pdf") == "pdf" and kind_of("a.png") == "image" and kind_of("a.txt") == ""


def test_hostile_html_for_the_new_elements_is_cleaned(indexed: Build, tmp_path: Path) -> None:
    hostile = """---
share: public
---
<details open ontoggle="alert(1)"><summary onclick="alert(2)">s</summary>x</details>
<iframe src="https://evil.example/"></iframe><iframe srcdoc="<script>alert(3)</script>"></iframe>
<audio autoplay src="javascript:alert(4)" onplay="alert(5)"></audio>
<video poster="javascript:alert(6)" src="x.mp4" autoplay></video>
<pre class="mermaid" onclick="alert(7)">graph TD; A-->B</pre>

kf0123456789abcdefh0e stays text.
"""
    publish(indexed({**fidelity.FILES, "Hostile.md": hostile}), "public", tmp_path / "s")
    html = main_of(tmp_path / "s" / "hostile.html")
    for bad in ("<iframe", "ontoggle", "onclick", "onplay", "javascript:", "autoplay", "srcdoc"):
        assert bad not in html, bad
    assert "<details open" in html and "<audio" in html and '<pre class="mermaid">' in html
    assert "kf0123456789abcdefh0e stays text." in html


# Diagrams


def test_a_diagram_is_left_for_mermaid_in_the_browser(site: Path) -> None:
    page = (site / "diagram.html").read_text()
    assert '<pre class="mermaid">graph TD\n  A[Seek] --&gt; B[Sense]' in page
    assert '<script src="mermaid/mermaid.min.js"></script>' in page
    assert '<script src="mermaid/diagrams.js"></script>' in page
    start = (site / "mermaid/diagrams.js").read_text()
    assert 'securityLevel: "strict"' in start and "startOnLoad: true" in start
    vendored = STATIC / "mermaid" / "mermaid.min.js"
    assert (site / "mermaid/mermaid.min.js").read_bytes() == vendored.read_bytes()
    assert (site / "mermaid/LICENSE").is_file() and (site / "mermaid/THIRD-PARTY.txt").is_file()
    assert "mermaid" not in (site / "media.html").read_text()  # no diagram: no script
    hostile = (site / "hostile-diagram.html").read_text()
    assert "&lt;img src=x onerror=window.__pwned=1&gt;" in hostile


def scripts_resolve(site: Path) -> list[str]:
    """Every page's script addresses that lead to no file."""
    broken = []
    for page in site.rglob("*.html"):
        for src in re.findall(r'<script src="([^"]+)"', page.read_text()):
            if not (page.parent / src).resolve().is_file():
                broken.append(f"{page.relative_to(site)} -> {src}")
    return broken


def test_mermaid_comes_with_the_first_diagram_and_goes_with_the_last(
    indexed: Build, tmp_path: Path
) -> None:
    plain = "---\nshare: public\n---\n# {}\n\nNo diagram.\n"
    index = indexed(
        {
            ".knowflow/config.toml": fidelity.CONFIG,
            "One.md": plain.format("One"),
            "sub/Two.md": plain.format("Two"),
        }
    )
    root, out = index.vault.root, tmp_path / "site"
    publish(index, "public", out)
    assert not (out / "mermaid").exists() and not scripts_resolve(out)

    (root / "sub/Two.md").write_text(fidelity.DIAGRAM.replace("# Diagram", "# Two"))
    index.scan()
    report = publish(index, "public", out)
    assert "mermaid/mermaid.min.js" in report.written
    assert '<script src="../mermaid/mermaid.min.js">' in (out / "sub/two.html").read_text()
    assert "mermaid" not in (out / "one.html").read_text() and not scripts_resolve(out)

    (root / "One.md").write_text(fidelity.DIAGRAM.replace("# Diagram", "# One"))
    index.scan()
    report = publish(index, "public", out)
    assert "mermaid/mermaid.min.js" not in report.written  # carried over, not copied again
    assert "one.html" in report.written and "sub/two.html" not in report.written
    assert not scripts_resolve(out)

    (root / "sub/Two.md").write_text(plain.format("Two"))
    index.scan()
    publish(index, "public", out)
    assert (out / "mermaid/mermaid.min.js").is_file() and not scripts_resolve(out)

    (root / "One.md").write_text("---\nshare: private\n---\n" + fidelity.DIAGRAM)
    index.scan()
    report = publish(index, "public", out)
    assert {"mermaid/mermaid.min.js", "mermaid/diagrams.js"} <= set(report.removed)
    assert not (out / "mermaid").exists() and not scripts_resolve(out)
    assert "mermaid" not in (out / "sub/two.html").read_text()


def test_the_vendored_files_ship_in_the_wheel() -> None:
    """pyproject's package data covers every file the site copies from the package."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = project["tool"]["setuptools"]["package-data"]["knowflow"]
    package = ROOT / "knowflow"
    files = [p.relative_to(package).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    assert "share/static/mermaid/mermaid.min.js" in files
    for rel in files:
        assert any(fnmatch.fnmatch(rel, g) for g in globs), rel


# Headings


def test_headings_are_found_as_obsidian_finds_them(site: Path) -> None:
    headings = (site / "headings.html").read_text()
    assert '<h2 id="d-d-wotc">D&amp;D WOTC</h2>' in headings
    assert '<h2 id="hastag"><code>hasTag()</code></h2>' in headings
    embeds = main_of(site / "embeds.html")
    assert "Rules of the game." in embeds  # the section, not the comment in code
    assert "Tells whether a note has a tag." in embeds
    assert "comment in code" not in embeds and "After" not in embeds.split("open the note")[1]
    assert 'href="headings.html#d-d-wotc"' in embeds and 'href="headings.html#hastag"' in embeds
    # A highlight's id stands on its callout's first line: the embed is the whole callout.
    assert '<div class="callout callout-quote">' in embeds
    assert "Knowledge is a flow, not a stock." in embeds and "My comment on it." in embeds


# Search records


def test_search_records_carry_path_and_tags_and_nothing_private(site: Path) -> None:
    text = (site / "search-index.js").read_text()
    records = json.loads(text[text.index("[") : text.rindex("]") + 1])
    by_title = {r["title"]: r for r in records}
    sense = by_title["Sense making"]
    assert sense["path"] == "projects/Sense making.md"
    assert sense["tags"] == ["pkm/seek", "Draft"] and sense["url"] == "projects/sense-making.html"
    assert "Making sense of notes" in sense["text"]
    assert "aliases" not in sense and "type" not in sense  # empty fields are left out
    assert "Private plan" not in by_title
    for mark in ("qzprivate", "qzsecretfolder", "qzprivatetag", "Private plan"):
        assert mark not in text, mark


def test_search_records_for_another_audience(indexed: Build, tmp_path: Path) -> None:
    """A note shared with a team is in the team's search index and not the public's."""
    config = fidelity.CONFIG + '\n[audiences."team/x"]\nkind = "team"\n'
    team_note = "---\nshare: team/x\ntags: [qzteamtag]\n---\n# Team qzteamnote\n"
    index = indexed({**fidelity.FILES, ".knowflow/config.toml": config, "T.md": team_note})
    publish(index, "public", tmp_path / "public")
    publish(index, "team/x", tmp_path / "team")
    assert "qzteam" not in (tmp_path / "public/search-index.js").read_text()
    assert "qzteamtag" in (tmp_path / "team/search-index.js").read_text()
    catalog = Catalog.build(index, audience(index.vault, "public"))
    assert "T.md" not in catalog.notes
