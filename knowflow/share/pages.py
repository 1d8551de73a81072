"""The published site's pages: plain HTML and one style sheet, readable on a phone
and without JavaScript; a small script adds search over a prebuilt index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

STATIC = Path(__file__).with_name("static")
# The site's one style sheet: its own rules, then the callouts' (which the local app's
# note pages load on their own).
STYLE = (STATIC / "style.css").read_text("utf-8") + (STATIC / "callouts.css").read_text("utf-8")
SEARCH_SCRIPT = (STATIC / "search.js").read_text("utf-8")
# Mermaid, vendored from npm (static/mermaid: its LICENSE and what it bundles), is
# copied into a site only while a page of it has a diagram; only such pages load it.
MERMAID_FILES = {
    "mermaid/mermaid.min.js": STATIC / "mermaid" / "mermaid.min.js",
    "mermaid/LICENSE": STATIC / "mermaid" / "LICENSE",
    "mermaid/THIRD-PARTY.txt": STATIC / "mermaid" / "THIRD-PARTY.txt",
}
DIAGRAM_SCRIPT_NAME = "mermaid/diagrams.js"
# "strict": a diagram from a note cannot run script (no click handlers, labels
# sanitized), and a note's %%{init}%% directive cannot change that.
DIAGRAM_SCRIPT = """\
// Draws the page's <pre class="mermaid"> diagrams.
mermaid.initialize({
  startOnLoad: true,
  securityLevel: "strict",
  theme: window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "default",
});
"""
DIAGRAM_MARK = '<pre class="mermaid">'


@dataclass(frozen=True, slots=True)
class Chrome:
    """What every page shares: the site's title, its feeds, where the root is."""

    site_title: str
    author: str
    prefix: str  # the way back to the site's root from this page, e.g. "../"


def page(chrome: Chrome, title: str, main: str, *, head: str = "", scripts: str = "") -> str:
    p = escape(chrome.prefix)
    site = escape(chrome.site_title)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · {site}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{p}style.css">
<link rel="alternate" type="application/atom+xml" title="{site}" href="{p}atom.xml">
<link rel="alternate" type="application/feed+json" title="{site}" href="{p}feed.json">
{head}</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header><nav aria-label="Site">
<a href="{p}index.html">{site}</a>
<a href="{p}tags/index.html">Tags</a>
<a href="{p}search.html">Search</a>
</nav></header>
<main id="main">
{main}
</main>
<footer><p>By {escape(chrome.author)}. Follow along by
<a href="{p}atom.xml">Atom</a> or <a href="{p}feed.json">JSON Feed</a>.</p></footer>
{scripts}</body>
</html>
"""


@dataclass(frozen=True, slots=True)
class Item:
    """A note in a list: its title, its URL from the site's root, when it changed."""

    title: str
    url: str
    updated: str


def note_list(items: list[Item], prefix: str) -> str:
    if not items:
        return "<p>Nothing here yet.</p>"
    rows = "\n".join(
        f'<li><a href="{escape(prefix + i.url)}">{escape(i.title)}</a>'
        + (
            f' <time class="meta" datetime="{i.updated}">{i.updated[:10]}</time>'
            if i.updated
            else ""
        )
        + "</li>"
        for i in items
    )
    return f'<ul class="notes">\n{rows}\n</ul>'


def note_page(
    chrome: Chrome,
    *,
    title: str,
    body: str,
    updated: str,
    tags: list[tuple[str, str]],
    backlinks: list[Item],
    diagrams: bool = False,
) -> str:
    """A note's page; ``diagrams`` when its body has a Mermaid diagram to draw."""
    body = body.lstrip()
    heading = f"<h1>{escape(title)}</h1>\n"
    if body.startswith("<h1") and "</h1>" in body:  # the note's own title comes first
        end = body.index("</h1>") + len("</h1>")
        heading, body = body[:end] + "\n", body[end:]
    tag_links = " ".join(
        f'<a class="tag" href="{escape(chrome.prefix + url)}">#{escape(name)}</a>'
        for name, url in tags
    )
    meta = (
        f'<p class="meta">Updated <time datetime="{escape(updated)}">{escape(updated[:10])}</time>'
    )
    meta += f" · {tag_links}</p>" if tag_links else "</p>"
    aside = ""
    if backlinks:
        aside = (
            '<aside aria-labelledby="backlinks"><h2 id="backlinks">Links to this note</h2>\n'
            + note_list(backlinks, chrome.prefix)
            + "</aside>"
        )
    main = f"<article>\n{heading}{meta}\n{body}</article>\n{aside}"
    return page(chrome, title, main, scripts=diagram_scripts(chrome.prefix) if diagrams else "")


def diagram_scripts(prefix: str) -> str:
    """Mermaid and what starts it, for a page that has a diagram."""
    p = escape(prefix)
    return (
        f'<script src="{p}mermaid/mermaid.min.js"></script>\n'
        f'<script src="{p}{DIAGRAM_SCRIPT_NAME}"></script>\n'
    )


def search_page(chrome: Chrome) -> str:
    main = """<h1>Search</h1>
<form id="search-form" role="search" action="search.html">
<label for="q">Search the notes</label>
<input type="search" id="q" name="q" autocomplete="off" aria-describedby="search-help">
</form>
<p id="search-help" class="meta">All words must match (<code>notes</code> finds
<code>note</code>); <code>"a phrase"</code>, <code>prefix*</code>, <code>a OR b</code>,
<code>-word</code> to leave out, <code>tag:name</code>, <code>path:folder</code>.</p>
<p id="search-status" role="status" aria-live="polite"></p>
<ol id="results"></ol>
<noscript><p>Search needs JavaScript; the <a href="index.html">index</a> and the
<a href="tags/index.html">tags</a> list every note.</p></noscript>"""
    scripts = '<script src="search-index.js"></script>\n<script src="search.js"></script>\n'
    return page(chrome, "Search", main, scripts=scripts)


def search_record(record: dict[str, object]) -> str:
    """One note's entry in the search index, as JSON (kept as text between publishes)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def search_index(records: list[str]) -> str:
    """The search index as a script, so that search works from plain files (file:// too)."""
    return "window.KNOWFLOW_SEARCH = [" + ",\n".join(records) + "];\n"
