"""Text from feeds and pages is hostile: what knowflow keeps of it is clean, on every path.

RSS and Atom go through the fast path (lxml) when plain and feedparser when
not, JSON Feed through knowflow's own reader; whichever answers, no field it
keeps can run script or carry a link to anything but http, https or mailto.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import nh3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.clean import HTML_ELEMENTS, clean_text
from knowflow.seek.fastfeed import parse_for_store, parse_plain
from knowflow.seek.feeds import Entry, parse_feed
from knowflow.seek.http import Client
from knowflow.seek.notetext import plain_text
from knowflow.seek.state import STATE
from knowflow.seek.stream import store_entries
from knowflow.seek.update import update

from .conftest import cli_in
from .feedserver import FeedServer, Request, Route, run_server

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    '<iframe src="javascript:alert(3)"></iframe>',
    "javascript:alert(4)",
    " JaVaScRiPt:alert(5)",
    "java\tscript:alert(6)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCg3KTwvc2NyaXB0Pg==",
    "vbscript:msgbox(8)",
    "file:///etc/passwd",
    '<a href="javascript:alert(9)">click</a>',
    '<a href="data:text/html,x">data</a>',
    "&lt;script&gt;alert(10)&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert(11)&amp;lt;/script&amp;gt;",
    "<svg onload=alert(12)>",
    '"><script>alert(13)</script>',
    "<!-- <script>alert(14)</script> -->",
    "<style>body{background:url(javascript:alert(15))}</style>",
    '<object data="javascript:alert(16)"></object>',
    '<blockquote cite="javascript:alert(17)">q</blockquote>',
    '<a href="//evil.example/x">protocol-relative</a>',
    '<a href="/relative">relative</a>',
    '<form action="javascript:alert(18)"><button>go</button></form>',
    '<math><mi xlink:href="javascript:alert(19)">m</mi></math>',
    "<b onmouseover=alert(20)>bold</b>",
    "https://ok.example/post?utm_source=feed&id=7",
    "mailto:someone@example.org",
    "M\u00fcller \u2014 caf\u00e9 \u65e5\u672c",
    "\x01\x08\x1b[31m",
    "\u202eevil",
    "AT&T <3",
]
# Markup: a tag with attributes, a comment or declaration, or a tag of a known element.
# A bare <word> that is no element (std::vector<int>) is text, and is kept.
_TAG = re.compile(r"<(?:[!?]|/?[A-Za-z][^<>\s]*\s[^<>]*=[^<>]*>)|<(/?)([A-Za-z][\w-]*)[^<>]*>")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_URL_ATTRIBUTES = {"href", "src", "cite", "action", "data", "xlink:href", "formaction", "poster"}

value = st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3).map("".join)
mode = st.sampled_from(["escaped", "cdata", "raw"])


def text_in_xml(text: str, how: str) -> str:
    """A value written into an element as text, as CDATA, or as it is (markup and all,
    which may leave the document broken: feedparser still reads what it can)."""
    if how == "escaped":
        return escape(text)
    if how == "cdata":
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return text.replace("\x00", "")


def rss(v: list[str], how: list[str]) -> bytes:
    t = [text_in_xml(x, h) for x, h in zip(v, how, strict=False)]
    item = (
        f"<item><title>{t[0]}</title><link>{t[1]}</link>"
        f"<guid isPermaLink={quoteattr('true' if len(v[2]) % 2 else 'false')}>{t[2]}</guid>"
        f"<description>{t[3]}</description><content:encoded>{t[4]}</content:encoded>"
        f"<author>{t[5]}</author><dc:creator>{t[6]}</dc:creator>"
        f"<category domain={quoteattr(v[7])}>{t[7]}</category><category>{t[8]}</category>"
        f"<enclosure url={quoteattr(v[9])} type='audio/mpeg' length='1'/>"
        f"<comments>{t[10]}</comments><pubDate>Sun, 01 Nov 2026 10:00:00 GMT</pubDate></item>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"'
        ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{t[11]}</title><link>{t[12]}</link>{item}{item}</channel></rss>"
    ).encode("utf-8", "surrogatepass")


def atom(v: list[str], how: list[str], kinds: list[str]) -> bytes:
    t = [text_in_xml(x, h) for x, h in zip(v, how, strict=False)]
    entry = (
        f"<entry><id>{t[0]}</id><title type='{kinds[0]}'>{t[1]}</title>"
        f"<link rel='alternate' href={quoteattr(v[2])}/>"
        f"<link rel='enclosure' href={quoteattr(v[3])}/>"
        f"<author><name>{t[4]}</name><uri>{t[5]}</uri></author>"
        f"<content type='{kinds[1]}'>{t[6]}</content>"
        f"<summary type='{kinds[2]}'>{t[7]}</summary>"
        f"<category term={quoteattr(v[8])} label={quoteattr(v[9])}/>"
        "<updated>2026-11-01T10:00:00Z</updated></entry>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title type='{kinds[3]}'>{t[10]}</title><link href={quoteattr(v[11])}/>"
        f"{entry}{entry}</feed>"
    ).encode("utf-8", "surrogatepass")


odd = st.sampled_from([None, 7, 1.5, True, [], {}, ["<script>x</script>"], {"a": "b"}])
json_value = st.one_of(value, value, value, odd)


@st.composite
def json_feed(draw: st.DrawFn) -> bytes:
    def item() -> dict[str, object]:
        return {
            key: draw(json_value)
            for key in (
                "id",
                "url",
                "external_url",
                "title",
                "content_html",
                "content_text",
                "summary",
                "image",
                "date_published",
            )
        } | {
            "authors": [{"name": draw(json_value), "url": draw(json_value)}],
            "author": {"name": draw(json_value)},
            "tags": [draw(json_value), draw(json_value)],
            "attachments": [{"url": draw(json_value), "mime_type": draw(json_value)}],
        }

    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": draw(json_value),
        "home_page_url": draw(json_value),
        "feed_url": draw(json_value),
        "description": draw(json_value),
        "items": [item(), item()],
    }
    # Lone surrogates and controls as JSON escapes, as a hostile server may send them.
    text = json.dumps(doc).replace("evil", "evil\\ud800")
    return text.encode()


def assert_text(text: str | None, what: str) -> None:
    if text is None:
        return
    for tag in _TAG.finditer(text):
        assert tag.lastindex is not None and tag[2].lower() not in HTML_ELEMENTS, (
            f"{what} holds markup: {text!r}"
        )
    assert not _CONTROL.search(text), f"{what} holds a control character: {text!r}"
    text.encode("utf-8")  # no lone surrogate: SQLite and every file can hold it


def assert_link(url: str | None, what: str, schemes: tuple[str, ...]) -> None:
    if url is None:
        return
    found = _SCHEME.match(url)
    assert found and found[1].lower() in schemes, f"{what} is not a web link: {url!r}"
    assert not re.search(r"[\s\"<>\x00-\x1f]", url), f"{what} has a raw character: {url!r}"


class _Tags(HTMLParser):
    """Every tag and attribute of a piece of HTML, as a browser's tokenizer finds them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.found.append(("!--", []))


def assert_html(html: str, what: str) -> None:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attributes in parser.found:
        assert tag in nh3.ALLOWED_TAGS, f"{what}: <{tag}> in {html!r}"
        for name, val in attributes:
            assert not name.startswith("on") and name != "style", f"{what}: {name}= in {html!r}"
            if name in _URL_ATTRIBUTES:
                assert name != "cite", f"{what}: cite= in {html!r}"
                assert_link(val, f"{what} <{tag} {name}>", ("http", "https", "mailto"))
    text_only = re.sub(r"<[^>]*>", "", html)
    assert "<" not in text_only.replace("&lt;", ""), f"{what}: a raw < in {html!r}"


def assert_entry(entry: Entry) -> None:
    for name in ("title", "author"):
        assert_text(getattr(entry, name), name)
    for category in entry.categories:
        assert_text(category, "category")
    assert_link(entry.link, "link", ("http", "https", "mailto"))
    for enclosure in entry.enclosures:
        assert_link(enclosure, "enclosure", ("http", "https"))
    assert_html(entry.html, "html")
    assert not _CONTROL.search(entry.id), f"id holds a control character: {entry.id!r}"
    found = _SCHEME.match(entry.id)
    if found:  # an id is no link, but never one to javascript:, data: or file:
        assert found[1].lower() in ("http", "https", "mailto", "tag", "urn"), entry.id
    assert_text(entry.warning, "warning")


def assert_clean(data: bytes) -> None:
    """Both parsers' results are clean in every field, and SQLite stores them."""
    full = parse_feed(data, url="https://feeds.example.org/feed")
    stored = parse_for_store(data, "https://feeds.example.org/feed")
    assert_text(full.title, "feed title")
    assert_link(full.link, "feed link", ("http", "https", "mailto"))
    assert_text(stored.title, "feed title")
    assert_link(stored.link, "feed link", ("http", "https", "mailto"))
    for entry in [*full.entries, *stored.entries]:
        assert_entry(entry)
    store_entries(_CONN, 1, stored.entries)


_CONN = sqlite3.connect(":memory:", isolation_level=None)
STATE.apply(_CONN)
_CONN.execute(
    "INSERT INTO sources (id, name, url, kind, added_at)"
    " VALUES (1, 'S', 'https://s', 'network', '')"
)
_PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_PROPERTY
@given(st.lists(value, min_size=13, max_size=13), st.lists(mode, min_size=13, max_size=13))
def test_rss_with_hostile_values_in_every_field(values: list[str], how: list[str]) -> None:
    assert_clean(rss(values, how))


@_PROPERTY
@given(
    st.lists(value, min_size=12, max_size=12),
    st.lists(mode, min_size=12, max_size=12),
    st.lists(st.sampled_from(["text", "html", "xhtml"]), min_size=4, max_size=4),
)
def test_atom_with_hostile_values_in_every_field(
    values: list[str], how: list[str], kinds: list[str]
) -> None:
    assert_clean(atom(values, how, kinds))


@_PROPERTY
@given(json_feed())
def test_json_feed_with_hostile_values_in_every_field(data: bytes) -> None:
    assert_clean(data)


def test_a_link_that_is_not_a_web_address_is_left_out_and_said() -> None:
    item = (
        "<item><title>Click me</title><link>javascript:alert(document.cookie)</link>"
        "<description>&lt;p&gt;text&lt;/p&gt;</description></item>"
    )
    data = f'<rss version="2.0"><channel><title>F</title>{item}</channel></rss>'.encode()
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [{"id": "1", "url": "data:text/html,<script>x</script>", "title": "Data"}],
    }
    (rss_entry,) = parse_for_store(data).entries
    (json_entry,) = parse_for_store(json.dumps(doc).encode()).entries
    for entry, scheme in ((rss_entry, "javascript:"), (json_entry, "data:")):
        assert entry.link is None and entry.warning and scheme in entry.warning
        assert "alert" not in entry.warning and "<script" not in entry.warning
    # Stored with the entry, for keep to say why the note has no link.
    store_entries(_CONN, 1, [rss_entry])
    (row,) = _CONN.execute(
        "SELECT link, warning FROM entries WHERE title = 'Click me' AND source_id = 1"
    ).fetchall()
    assert row == (None, rss_entry.warning)


def test_titles_are_text_however_their_markup_was_written() -> None:
    titles = {
        "&lt;script&gt;alert(1)&lt;/script&gt;Escaped": "Escaped",
        "&amp;lt;b&amp;gt;Twice&amp;lt;/b&amp;gt;": "Twice",
        "<![CDATA[<b>bold</b> &amp; <i>x</i>]]>": "bold & x",  # not "bold &amp; x"
        "<![CDATA[<img src=x onerror=alert(1)>Image]]>": "Image",
        "x &lt; y and 5 &lt;3": "x < y and 5 <3",
        "AT&amp;T": "AT&T",
    }
    for written, text in titles.items():
        data = (
            f'<rss version="2.0"><channel><title>{written}</title><item><title>{written}</title>'
            "<link>https://e.org/1</link></item></channel></rss>"
        ).encode()
        parsed = parse_for_store(data)
        assert (parsed.title, parsed.entries[0].title) == (text, text), written


def test_json_feed_summary_and_other_fields_are_text() -> None:
    doc: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1",
        "title": ["not", "a", "string"],
        "home_page_url": "javascript:alert(0)",
        "items": [
            {
                "id": 7,
                "url": "https://e.org/7?utm_source=feed&utm_medium=rss&page=2",
                "title": None,
                "summary": '<script>alert(1)</script><img src=x onerror="alert(2)">'
                '<iframe src="https://evil.example"></iframe>A <a href="javascript:alert(3)">'
                "summary</a> &amp; x &lt; y <3",
                "authors": [{"name": "<b>Ada</b>"}, "not an author"],
                "tags": ["<i>pkm</i>", 5, {"x": 1}],
                "attachments": [{"url": "javascript:alert(4)"}, {"url": "https://e.org/a.mp3"}],
            }
        ],
    }
    feed = parse_feed(json.dumps(doc).encode())
    assert (feed.title, feed.link, feed.error) == ("", None, None)
    (entry,) = feed.entries
    assert (entry.id, entry.link) == ("7", "https://e.org/7?page=2")
    assert (entry.title, entry.author, entry.categories) == ("", "Ada", ("pkm", "5"))
    assert entry.enclosures == ("https://e.org/a.mp3",)
    # The summary is plain text by the spec, but feeds put HTML there: it is read as
    # a title is (markup stripped), and kept as text.
    assert entry.html == "A summary &amp; x &lt; y &lt;3"
    assert_html(entry.html, "summary")
    body = {**doc["items"][0], "content_text": "Use <div> here, & <b> too"}
    (entry,) = parse_feed(json.dumps({**doc, "items": [body]}).encode()).entries
    assert entry.html == "Use &lt;div&gt; here, &amp; &lt;b&gt; too"  # a body's every character


def test_plain_feeds_with_hostile_values_take_the_fast_path_clean() -> None:
    data = (
        b'<rss version="2.0"><channel><title>javascript:alert(0)</title>'
        b"<link>https://e.org/</link><item><title>javascript:alert(1)</title>"
        b"<link>https://e.org/1?utm_campaign=x</link>"
        b"<guid isPermaLink='false'>javascript:alert(2)</guid>"
        b"<category>data:text/html,x</category>"
        b"<enclosure url='https://e.org/a.mp3?utm_source=x' length='1' type='audio/mpeg'/>"
        b'<description>&lt;p&gt;&lt;a href="https://e.org/x"&gt;x&lt;/a&gt;&lt;/p&gt;'
        b"</description></item></channel></rss>"
    )
    fast = parse_plain(data)
    assert fast is not None, "plain: no markup in text, every address absolute"
    assert fast.entries == parse_feed(data).entries
    (entry,) = fast.entries
    assert entry.id.startswith("urn:knowflow:id:")  # not a javascript: id, but stable
    assert entry.id == parse_for_store(data).entries[0].id
    assert (entry.link, entry.enclosures) == ("https://e.org/1", ("https://e.org/a.mp3",))
    assert entry.title == "javascript:alert(1)"  # a title is text: it links nowhere
    assert_entry(entry)


GERMAN = (
    '<?xml version="1.0" encoding="{enc}"?><rss version="2.0"><channel>'
    "<title>M\u00fcllers Notizen</title><item><title>Gr\u00fc\u00dfe aus K\u00f6ln</title>"
    "<link>https://e.org/1</link><description>Stra\u00dfe BAD Ende</description></item>"
    "</channel></rss>"
)


def test_one_bad_byte_is_replaced_and_the_rest_read_as_declared() -> None:
    bad = b"\xff"
    data = GERMAN.format(enc="utf-8").encode("utf-8").replace(b"BAD", bad)
    for parsed in (parse_for_store(data), parse_feed(data)):
        assert parsed.title == "M\u00fcllers Notizen"  # not "MÃ¼llers"
        (entry,) = parsed.entries
        assert entry.title == "Gr\u00fc\u00dfe aus K\u00f6ln"
        assert entry.html == "Stra\u00dfe \ufffd Ende"
        assert parsed.warning and "1 byte not valid utf-8" in parsed.warning
        assert f"at byte {data.index(bad)}" in parsed.warning
    # Declared by the HTTP header alone, in another encoding, the same.
    latin9 = GERMAN.format(enc="iso-8859-15").encode("iso-8859-15")
    sjis = latin9.replace(b"iso-8859-15", b"shift_jis")  # bytes that break Shift_JIS
    stated = parse_for_store(
        GERMAN.replace(' encoding="{enc}"', "").encode().replace(b"BAD", b"\xc3"),
        headers={"Content-Type": "application/rss+xml; charset=UTF-8"},
    )
    assert stated.entries[0].title == "Gr\u00fc\u00dfe aus K\u00f6ln" and stated.warning
    assert parse_for_store(latin9).warning is None  # fits its declaration: no warning
    assert parse_for_store(sjis).entries  # read somehow, never an exception
    # UTF-8 labelled ASCII (whose bytes Windows-1252 would misread) is read as UTF-8.
    ascii_label = parse_for_store(
        GERMAN.format(enc="utf-8").replace("BAD", "\u0110").encode(),
        headers={"Content-Type": "text/xml; charset=us-ascii"},
    )
    assert ascii_label.entries[0].html == "Stra\u00dfe \u0110 Ende"
    assert ascii_label.warning == (
        "not valid us-ascii (declared, or XML's default when nothing is): read as utf-8"
    )


def test_a_feed_wholly_in_latin1_labelled_utf8_is_still_read_right() -> None:
    data = GERMAN.format(enc="utf-8").encode("latin-1").replace(b"BAD", b"-")
    parsed = parse_for_store(data)
    assert parsed.entries[0].title == "Gr\u00fc\u00dfe aus K\u00f6ln"
    assert parsed.warning == (
        "not valid utf-8 (declared, or XML's default when nothing is): read as windows-1252"
    )


def test_json_feed_with_a_bad_byte() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "M\u00fcller",
        "items": [{"id": "1", "title": "K\u00f6ln BAD", "content_text": "x"}],
    }
    data = json.dumps(doc, ensure_ascii=False).encode().replace(b"BAD", b"\xfe")
    parsed = parse_for_store(data)
    assert (parsed.title, parsed.entries[0].title) == ("M\u00fcller", "K\u00f6ln \ufffd")
    assert parsed.warning and "1 byte not valid utf-8" in parsed.warning


def test_an_empty_feed_is_a_feed() -> None:
    empty = {
        "rss": b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
        "atom": b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>',
        "json": b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        "text/plain": b'<rss version="2.0"><channel/></rss>',
    }
    for name, data in empty.items():
        headers = {"Content-Type": "text/plain"} if name == "text/plain" else None
        parsed = parse_for_store(data, headers=headers)
        assert parsed.empty and parsed.is_feed and not parsed.entries, name
        assert parse_feed(data, headers=headers).is_feed, name
    not_feeds = {
        "html": b"<!doctype html><html><body><p>Hello</p></body></html>",
        "truncated": b'<?xml version="1.0"?><rss version="2.0"><channel><title>Fe',
        "json": b'{"items": []}',
        "nothing": b"",
    }
    for name, data in not_feeds.items():
        parsed = parse_for_store(data)
        assert not parsed.empty and not parsed.is_feed, name


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from run_server()


@pytest.fixture
def state(tmp_path: Path) -> sqlite3.Connection:
    return open_state(Vault.init(tmp_path / "v"))


def changing_feed(query: str) -> Route:
    """A feed without ids whose links carry a new query on every fetch."""
    fetches = iter(range(1, 1000))

    def reply(_request: Request) -> tuple[int, dict[str, str], bytes]:
        n = next(fetches)
        items = "".join(
            f"<item><title>Post {i}</title><link>https://blog.example/{i}?{query.format(n=n)}"
            f"</link><pubDate>Sun, 0{i} Nov 2026 10:00:00 GMT</pubDate>"
            f"<description>Post {i}, fetched {n} times</description></item>"
            for i in (1, 2, 3)
        )
        body = f'<rss version="2.0"><channel><title>Blog</title>{items}</channel></rss>'
        return 200, {"Content-Type": "application/rss+xml"}, body.encode()

    return reply


def test_links_with_changing_tracking_parameters_add_nothing_again(
    server: FeedServer, state: sqlite3.Connection
) -> None:
    server.routes["/utm"] = changing_feed("utm_source=rss&amp;utm_campaign=c{n}&amp;keep=1")
    server.routes["/session"] = changing_feed("session={n}")
    sources = Sources(state)
    sources.add(server.url("/utm"), name="utm")
    sources.add(server.url("/session"), name="session")
    first = update(state, sources.list(), client=Client())
    assert first.added == 6
    for _ in range(2):
        again = update(state, sources.list(), client=Client())
        assert again.added == 0 and not again.failed
    links = [row[0] for row in state.execute("SELECT link FROM entries ORDER BY link")]
    assert "https://blog.example/1?keep=1" in links and len(links) == 6
    assert not any("utm_" in link for link in links)


def test_entries_stored_before_with_tracking_links_are_found_again(
    server: FeedServer, state: sqlite3.Connection
) -> None:
    sources = Sources(state)
    source = sources.add(server.url("/utm"), name="utm")
    # As an older knowflow stored them: the tracking link as the id and the link.
    old = "https://blog.example/1?utm_source=rss&utm_campaign=c0&keep=1"
    stored = Entry(old, "Post 1", old, None, "2026-11-01T10:00:00+00:00", None, "<p>x</p>", "h")
    store_entries(state, source.id, [stored])
    server.routes["/utm"] = changing_feed("utm_source=rss&amp;utm_campaign=c{n}&amp;keep=1")
    (result,) = update(state, sources.list(), client=Client()).results
    assert (result.added, result.updated) == (2, 1)  # Post 1 is the one stored before


RUSSIAN = (
    "<html><head>{meta}<title>Почему вики не работают</title></head><body>"
    "<article><h1>Почему вики не работают</h1>"
    "<p>Центральные вики не работают, когда никто не отвечает за страницы и никого не просят"
    " их пополнять. Знание живёт в личной практике людей и течёт, когда они сами решают"
    " им поделиться.</p><p>Организации, которые добиваются успеха, начинают с личного"
    " управления знаниями: искать, осмыслять, делиться. Они собирают то, чем делятся"
    " участники, вместо того чтобы требовать документы, которые никто не читает.</p>"
    "</article></body></html>"
)
JAPANESE = (
    "<html><head>{meta}<title>知識の流れについて</title></head><body>"
    "<article><h1>知識の流れについて</h1>"
    "<p>個人の知識管理は、探す、意味づける、共有するという三つの営みから成り立っている。"
    "知識は文書の中ではなく、人々の日々の実践の中に生きており、自ら共有を選んだときに流れる。</p>"
    "<p>中央のウィキが失敗するのは、誰もページに責任を持たず、誰も更新を頼まれないからだ。"
    "成功する組織は、メンバーが共有したものを集め、誰も読まない文書を求めたりはしない。</p>"
    "</article></body></html>"
)


def test_capture_reads_the_charset_a_page_declares_only_in_meta(
    server: FeedServer, tmp_path: Path
) -> None:
    pages = {
        "/ru": RUSSIAN.format(meta='<meta charset="windows-1251">').encode("cp1251"),
        "/jp": JAPANESE.format(
            meta='<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS">'
        ).encode("cp932"),
        "/undeclared": RUSSIAN.format(meta="").encode("cp1251"),
    }
    for path, body in pages.items():
        server.serve(path, body=body, Content_Type="text/html")  # no charset in the header
    root = tmp_path / "captures"
    Vault.init(root)
    run = cli_in(root, strip=True)
    for path, title, words in (
        ("/ru", "Почему вики не работают", "Знание живёт в личной практике"),
        ("/jp", "知識の流れについて", "知識は文書の中ではなく"),
        ("/undeclared", "Почему вики не работают", "Знание живёт в личной практике"),
    ):
        note = run("capture", server.url(path))
        assert note.startswith(f"clippings/{title}"), note
        text = (root / note).read_text(encoding="utf-8")
        assert words in text and "\ufffd" not in text, path
        assert f"title: {title}" in text or f"# {title}" in text


def test_a_page_is_decoded_as_a_browser_decodes_it() -> None:
    from knowflow.seek.charset import decode_html

    word = "Привет"
    meta = f'<meta charset="koi8-r"><p>{word}</p>'
    assert decode_html(meta.encode("koi8-r")) == (f'<meta charset="koi8-r"><p>{word}</p>', "koi8-r")
    # The header beats <meta>, the byte order mark beats both.
    assert decode_html(meta.encode("cp1251"), "text/html; charset=windows-1251")[1] == "cp1251"
    bom = "\ufeff<meta charset='windows-1251'><p>é</p>".encode()
    assert decode_html(bom, "text/html; charset=iso-8859-1") == (
        "<meta charset='windows-1251'><p>é</p>",
        "utf-8",
    )
    # Latin-1 is read as Windows-1252, as browsers do; UTF-16 in <meta> means UTF-8.
    assert decode_html(b"<p>\x93q\x94</p>", "text/html; charset=ISO-8859-1")[0] == "<p>“q”</p>"
    said = '<meta charset="utf-16"><p>é</p>'
    assert decode_html(said.encode()) == (said, "utf-8")
    # An unknown label is no declaration: the bytes decide.
    unknown = '<meta charset="x-nonsense"><p>é</p>'
    assert decode_html(unknown.encode()) == (unknown, "utf-8")


def test_update_says_empty_feed_and_does_not_fail(server: FeedServer, tmp_path: Path) -> None:
    server.serve(
        "/empty.xml",
        body=b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
        Content_Type="application/rss+xml",
    )
    server.serve("/page", body=b"<html><body><p>Hello</p></body></html>", Content_Type="text/html")
    root = tmp_path / "v"
    Vault.init(root)
    run = cli_in(root)
    run("source", "add", server.url("/empty.xml"), "--name", "Quiet")  # discovered as a feed
    assert "empty feed" in run("update")
    (result,) = json.loads(run("update", "--json"))["results"]
    assert (result["status"], result["error"]) == ("empty", None)
    run("source", "add", server.url("/page"), "--name", "Page", "--no-discover")
    assert "Page: not a feed" in run("update", "Page", code=1)


def test_a_page_announcing_feeds_is_hostile_too(server: FeedServer, tmp_path: Path) -> None:
    page = (
        "<html><head>"
        '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)" title="x">'
        '<link rel="alternate" type="application/rss+xml" href="/feed.xml?utm_source=page"'
        ' title="&lt;script&gt;alert(2)&lt;/script&gt;Team \x1b[31mnotes">'
        "</head><body><p>Hello</p></body></html>"
    )
    server.serve("/", body=page.encode(), Content_Type="text/html")
    server.serve("/feed.xml", body=b'<rss version="2.0"><channel/></rss>')
    root = tmp_path / "v"
    Vault.init(root)
    said = cli_in(root, strip=True)("source", "add", server.url("/"))
    assert said == f"Following Team [31mnotes (network): {server.url('/feed.xml')}"


def test_hostile_json_feed_through_update_stream_and_keep(
    server: FeedServer, tmp_path: Path
) -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "<script>alert(0)</script>Hostile",
        "items": [
            {
                "id": "1",
                "url": "javascript:alert(document.cookie)",
                "title": "&lt;script&gt;alert(1)&lt;/script&gt;Click me",
                "summary": "<img src=x onerror=alert(2)><iframe src='https://evil.example'>"
                "</iframe><a href='javascript:alert(3)'>Read</a> this",
            }
        ],
    }
    server.serve("/feed.json", body=json.dumps(doc).encode(), Content_Type="application/json")
    root = tmp_path / "v"
    Vault.init(root)
    run = cli_in(root)
    run("source", "add", server.url("/feed.json"), "--name", "J")
    run("update")
    (listed,) = json.loads(run("stream", "--json"))
    assert (listed["title"], listed["link"]) == ("Click me", None)
    assert "javascript:" in listed["warning"] and "alert" not in listed["warning"]
    with sqlite3.connect(root / ".knowflow" / "state.db") as db:
        (html,) = db.execute("SELECT html FROM entries").fetchone()
    assert html == "Read this"
    note = (root / run("keep", str(listed["id"])).strip()).read_text(encoding="utf-8")
    assert "# Click me" in note and "Read this" in note
    # No link to it, no markup (a sentence may still say the link was left out).
    assert not re.search(r"\]\(\s*<?javascript:|<javascript:|<script|onerror|<iframe", note, re.I)


@pytest.mark.parametrize(
    ("title", "html", "kept"),
    [
        ("Using std::vector<int> efficiently", False, "Using std::vector<int> efficiently"),
        ("Using std::vector&lt;int&gt; efficiently", True, "Using std::vector<int> efficiently"),
        ("a&lt;b", True, "a<b"),
        ("Map<K, V> types", False, "Map<K, V> types"),
        ("&amp;lt;i&amp;gt;Twice&amp;lt;/i&amp;gt; escaped", True, "Twice escaped"),
        ("<foo onclick=alert(1)>x</foo>", False, "x</foo>"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;Title", False, "Title"),
    ],
)
def test_text_that_only_looks_like_a_tag_stays(title: str, html: bool, kept: str) -> None:
    assert clean_text(title, html=html) == kept
    assert plain_text(title if not html else clean_text(title, html=True)) == kept
