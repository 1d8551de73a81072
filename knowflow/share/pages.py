"""The published site's pages: plain HTML and one style sheet, readable on a phone
and without JavaScript; a small script adds search over a prebuilt index."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape

STYLE = """\
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fdfdfc; --muted: #5f6368;
  --accent: #0b57d0; --rule: #d8d8d8; --callout: #f1f4f9; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e8e8; --bg: #161618;
  --muted: #a8abb0; --accent: #8ab4f8; --rule: #3a3a3c; --callout: #22262d; } }
* { box-sizing: border-box; }
body { margin: 0; font: 1.05rem/1.6 system-ui, sans-serif; color: var(--fg);
  background: var(--bg); }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: var(--bg); padding: .5rem; }
header, main, footer { max-width: 46rem; margin: 0 auto; padding: 1rem; }
header nav { display: flex; flex-wrap: wrap; gap: 1rem; border-bottom: 1px solid var(--rule);
  padding-bottom: .5rem; }
header nav a:first-child { font-weight: 600; margin-right: auto; }
footer { color: var(--muted); font-size: .9rem; border-top: 1px solid var(--rule); }
img { max-width: 100%; height: auto; }
pre { overflow-x: auto; padding: .75rem; background: var(--callout); border-radius: 4px; }
code { font-size: .92em; }
table { border-collapse: collapse; display: block; overflow-x: auto; }
th, td { border: 1px solid var(--rule); padding: .3rem .6rem; }
blockquote { margin: 1rem 0; padding: .25rem 1rem; border-left: 4px solid var(--rule); }
blockquote.callout { background: var(--callout); border-left-color: var(--accent); }
.callout-title { font-weight: 600; }
.meta, .embed-source, .unresolved, .not-shared { color: var(--muted); }
.embed { border-left: 3px solid var(--accent); padding-left: 1rem; margin: 1rem 0; }
.tag { text-decoration: none; }
ul.notes { padding-left: 1.2rem; }
aside { border-top: 1px solid var(--rule); margin-top: 2rem; }
input[type=search] { width: 100%; font: inherit; padding: .5rem; }
"""

SEARCH_SCRIPT = """\
// Search over search-index.js (loaded before this script): no server, no build step.
(function () {
  var form = document.getElementById("search-form");
  var box = document.getElementById("q");
  var list = document.getElementById("results");
  var status = document.getElementById("search-status");
  var notes = window.KNOWFLOW_SEARCH || [];
  function words(text) { return text.toLowerCase().split(/[^\\p{L}\\p{N}]+/u).filter(Boolean); }
  function score(note, terms) {
    var total = 0;
    for (var i = 0; i < terms.length; i++) {
      var t = terms[i], hit = 0;
      if (note.title.toLowerCase().indexOf(t) >= 0) hit += 10;
      if (note.tags.join(" ").toLowerCase().indexOf(t) >= 0) hit += 5;
      if (note.headings.join(" ").toLowerCase().indexOf(t) >= 0) hit += 3;
      if (note.text.toLowerCase().indexOf(t) >= 0) hit += 1;
      if (!hit) return 0;
      total += hit;
    }
    return total;
  }
  function run() {
    var terms = words(box.value);
    list.textContent = "";
    if (!terms.length) { status.textContent = ""; return; }
    var found = notes.map(function (n) { return [score(n, terms), n]; })
      .filter(function (p) { return p[0] > 0; })
      .sort(function (a, b) { return b[0] - a[0] || a[1].title.localeCompare(b[1].title); });
    status.textContent = found.length + (found.length === 1 ? " note" : " notes");
    found.slice(0, 50).forEach(function (p) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = p[1].url; a.textContent = p[1].title; li.appendChild(a);
      list.appendChild(li);
    });
  }
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  box.addEventListener("input", run);
  var q = new URLSearchParams(location.search).get("q");
  if (q) { box.value = q; run(); }
})();
"""


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
) -> str:
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
    return page(chrome, title, f"<article>\n{heading}{meta}\n{body}</article>\n{aside}")


def search_page(chrome: Chrome) -> str:
    main = """<h1>Search</h1>
<form id="search-form" role="search" action="search.html">
<label for="q">Search the notes</label>
<input type="search" id="q" name="q" autocomplete="off">
</form>
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
