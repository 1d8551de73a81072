"""Feed parsing on hand-made documents: JSON Feed, hostile and broken input."""

from __future__ import annotations

import json
import time

from knowflow.seek.feeds import parse_feed

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://example.org/blog/">
  <title type="html">Team &lt;b&gt;notes&lt;/b&gt;</title>
  <entry>
    <id>tag:example.org,2026:1</id>
    <title>First</title>
    <link rel="alternate" href="posts/first"/>
    <author><name>Ada</name></author>
    <published>2026-11-20T10:00:00+01:00</published>
    <content type="html">&lt;p onclick="evil()"&gt;Hi &lt;script&gt;alert(1)&lt;/script&gt;
      &lt;a href="javascript:alert(2)"&gt;x&lt;/a&gt;
      &lt;a href="rel/link"&gt;y&lt;/a&gt;&lt;/p&gt;</content>
  </entry>
</feed>
"""


def test_atom_entry_is_normalised_and_sanitized() -> None:
    feed = parse_feed(ATOM.encode())
    assert feed.error is None and feed.title == "Team notes"
    entry = feed.entries[0]
    assert entry.id == "tag:example.org,2026:1"
    assert entry.link == "https://example.org/blog/posts/first"
    assert (entry.author, entry.published) == ("Ada", "2026-11-20T09:00:00+00:00")
    assert "<script" not in entry.html and "onclick" not in entry.html
    assert "javascript:" not in entry.html and "alert(1)" not in entry.html
    assert 'href="https://example.org/blog/rel/link"' in entry.html


def test_json_feed_1_1() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON notes",
        "home_page_url": "https://example.org/",
        "items": [
            {
                "id": "1",
                "url": "https://example.org/1",
                "title": "One",
                "content_html": "<p>Hi<script>x()</script></p>",
                "authors": [{"name": "Bo"}],
                "date_published": "2026-11-01T08:00:00Z",
            },
            {"id": "2", "content_text": "a <b> is not a tag here"},
        ],
    }
    feed = parse_feed(json.dumps(doc).encode())
    assert (feed.title, feed.version, feed.error) == ("JSON notes", "json11", None)
    one, two = feed.entries
    assert (one.author, one.published, one.html) == ("Bo", "2026-11-01T08:00:00+00:00", "<p>Hi</p>")
    assert two.html == "a &lt;b&gt; is not a tag here"
    assert parse_feed(b'{"version": "nope"}').error


def test_billion_laughs_is_refused_quickly() -> None:
    lol = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    body = "<rss><channel><title>&lol9;</title></channel></rss>"
    doc = f'<?xml version="1.0"?><!DOCTYPE rss [{lol}]>{body}'
    started = time.perf_counter()
    feed = parse_feed(doc.encode())
    assert time.perf_counter() - started < 5
    assert len(feed.title) < 10_000


def test_broken_input_gives_an_error_not_an_exception() -> None:
    truncated = parse_feed(ATOM.encode()[:300])
    assert truncated.error
    page = parse_feed(b"<!doctype html><html><body><p>Not a feed</p></body></html>")
    assert page.entries == [] and page.error
    lying = ATOM.replace('encoding="utf-8"', 'encoding="iso-8859-1"').replace("First", "Caf\u00e9")
    feed = parse_feed(lying.encode("utf-8"), headers={"Content-Type": "application/atom+xml"})
    assert feed.entries and feed.entries[0].title in ("Caf\u00e9", "Caf\u00c3\u00a9")
    assert parse_feed(b"").entries == []
