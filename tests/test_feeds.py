"""Feed parsing on hand-made documents: JSON Feed, hostile and broken input."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowflow.seek.clean import MAX_DEPTH, bounded_depth
from knowflow.seek.fastfeed import parse_for_store, parse_plain
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


def test_html_nested_beyond_a_browsers_depth_is_flattened_not_a_hang() -> None:
    # ammonia's parser takes time in the square of the depth: 200,000 nested <div>s
    # (2 MB escaped in a description) took over a minute before depth was bounded.
    depth = 200_000
    nested = "&lt;div&gt;" * depth + "deep words" + "&lt;/div&gt;" * depth
    doc = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        f"<title>i</title><link>http://127.0.0.1/x</link><description>{nested}</description>"
        "</item></channel></rss>"
    )
    started = time.perf_counter()
    (entry,) = parse_for_store(doc.encode()).entries
    assert time.perf_counter() - started < 20
    assert "deep words" in entry.html
    assert entry.html.count("<div>") == MAX_DEPTH


def test_bounded_depth_keeps_text_and_shallow_html() -> None:
    shallow = "<p>one<p>two" * 600 + "<div><b>bold</b><br><img src=x></div>"
    assert bounded_depth(shallow) == shallow  # self-closing and void tags never deepen
    deep = "<div>" * 600 + "<span>core</span>" + "</div>" * 600 + "<i>after</i>"
    flat = bounded_depth(deep, limit=100)
    assert flat.count("<div>") == flat.count("</div>") == 100
    assert "<span>" not in flat and "core" in flat and flat.endswith("<i>after</i>")


def test_broken_input_gives_an_error_not_an_exception() -> None:
    truncated = parse_feed(ATOM.encode()[:300])
    assert truncated.error
    page = parse_feed(b"<!doctype html><html><body><p>Not a feed</p></body></html>")
    assert page.entries == [] and page.error
    lying = ATOM.replace('encoding="utf-8"', 'encoding="iso-8859-1"').replace("First", "Caf\u00e9")
    feed = parse_feed(lying.encode("utf-8"), headers={"Content-Type": "application/atom+xml"})
    assert feed.entries and feed.entries[0].title in ("Caf\u00e9", "Caf\u00c3\u00a9")
    assert parse_feed(b"").entries == []


WORDPRESS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:atom="http://www.w3.org/2005/Atom" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"
  xmlns:slash="http://purl.org/rss/1.0/modules/slash/">
<channel>
  <title>Working Out Loud</title>
  <atom:link href="https://wol.example.org/feed/" rel="self" type="application/rss+xml" />
  <link>https://wol.example.org</link>
  <description>Notes on sharing</description>
  <lastBuildDate>Fri, 20 Nov 2026 09:12:44 +0000</lastBuildDate>
  <sy:updatePeriod>hourly</sy:updatePeriod>
  <item>
    <title>Seek, sense, share</title>
    <link>https://wol.example.org/2026/11/seek-sense-share/</link>
    <comments>https://wol.example.org/2026/11/seek-sense-share/#respond</comments>
    <dc:creator><![CDATA[Harold]]></dc:creator>
    <pubDate>Fri, 20 Nov 2026 09:12:44 +0000</pubDate>
    <category><![CDATA[PKM]]></category>
    <guid isPermaLink="false">https://wol.example.org/?p=4711</guid>
    <description><![CDATA[A short summary]]></description>
    <content:encoded><![CDATA[<p>The <em>loop</em> of <a href="https://pkm.example.org/">PKM</a>.</p>
<p><img alt="the loop" src="https://wol.example.org/loop.png" /></p>]]></content:encoded>
    <wfw:commentRss>https://wol.example.org/2026/11/seek-sense-share/feed/</wfw:commentRss>
    <slash:comments>3</slash:comments>
  </item>
</channel>
</rss>"""

JEKYLL = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <generator uri="https://jekyllrb.com/" version="4.3.2">Jekyll</generator>
  <link href="https://garden.example.org/feed.xml" rel="self" type="application/atom+xml" />
  <updated>2026-11-21T10:00:00+01:00</updated>
  <id>https://garden.example.org/feed.xml</id>
  <title type="html">Digital garden</title>
  <entry>
    <title type="html">Evergreen notes</title>
    <link href="https://garden.example.org/evergreen/" rel="alternate" type="text/html"
      title="Evergreen notes" />
    <published>2026-11-21T10:00:00+01:00</published>
    <updated>2026-11-21T10:30:00+01:00</updated>
    <id>https://garden.example.org/evergreen</id>
    <content type="html" xml:base="https://garden.example.org/evergreen/">&lt;p&gt;Notes
      that &lt;strong&gt;grow&lt;/strong&gt;.&lt;/p&gt;</content>
    <author><name>Maggie</name></author>
    <category term="notes" />
    <summary type="html">Notes that grow.</summary>
  </entry>
</feed>"""

HUGO = b"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Team platform</title>
    <link>https://platform.example.org/</link>
    <item>
      <title>Runbook review</title>
      <link>https://platform.example.org/posts/runbook/</link>
      <pubDate>Mon, 23 Nov 2026 00:00:00 +0000</pubDate>
      <guid>https://platform.example.org/posts/runbook/</guid>
      <description>&lt;p&gt;We reviewed the &lt;code&gt;deploy&lt;/code&gt; runbook.&lt;/p&gt;
      </description>
    </item>
  </channel>
</rss>"""


@pytest.mark.parametrize("document", [WORDPRESS, JEKYLL, HUGO], ids=["wordpress", "jekyll", "hugo"])
def test_common_feeds_take_the_fast_path_and_agree_with_feedparser(document: bytes) -> None:
    fast = parse_plain(document)
    assert fast is not None, "a plain feed should not need feedparser"
    slow = parse_feed(document)
    assert fast.entries and slow.error is None
    assert (fast.title, fast.entries) == (slow.title, slow.entries)


def test_anything_less_plain_goes_to_feedparser() -> None:
    relative = HUGO.replace(
        b"https://platform.example.org/posts/runbook/</link>", b"/runbook/</link>"
    )
    latin = WORDPRESS.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    scripted = HUGO.replace(b"runbook.", b"runbook.&lt;script&gt;x()&lt;/script&gt;")
    broken = HUGO[:-40]
    for document in (relative, latin, scripted, broken):
        assert parse_plain(document) is None
        assert parse_for_store(document).entries == parse_feed(document).entries
    assert "<script" not in parse_for_store(scripted).entries[0].html


_FRAGMENTS = [
    "text",
    " more words ",
    "<p>",
    "</p>",
    "<br>",
    "<br/>",
    "<em>",
    "</em>",
    "<ul><li>",
    "</li></ul>",
    "<table><tr><td>",
    '<a href="https://e.org/x">',
    '<a title="t" href="https://e.org/y">',
    '<a href="/relative">',
    "</a>",
    '<img alt="pic" src="https://e.org/p.png">',
    '<img src="https://e.org/p.png" alt="pic">',
    "<script>alert(1)</script>",
    '<span onclick="x()">',
    "</span>",
    "&amp;",
    "\u00e9t\u00e9 \u2014 \u201cquoted\u201d",
    "<!-- comment -->",
    "<![CDATA[x]]>",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12), st.booleans())
def test_fast_path_agrees_with_feedparser_on_any_content(pieces: list[str], atom: bool) -> None:
    html = "".join(pieces).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if atom:
        document = (
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>F</title><entry><id>urn:1</id>'
            '<title>E</title><link href="https://e.org/1"/><updated>2026-11-01T10:00:00Z'
            f'</updated><content type="html">{html}</content></entry></feed>'
        )
    else:
        document = (
            '<rss version="2.0"><channel><title>F</title><item><title>E</title>'
            "<link>https://e.org/1</link><pubDate>Sun, 01 Nov 2026 10:00:00 GMT</pubDate>"
            f"<description>{html}</description></item></channel></rss>"
        )
    data = document.encode()
    fast = parse_plain(data)
    if fast is not None:
        assert fast.entries == parse_feed(data).entries
