"""Every note knowflow writes from outside text (keep, capture, every importer,
highlights) holds no link to a scheme other than http, https or mailto, and no raw
HTML; a title with markup is plain text in the heading and the front matter; file
names fit 255 bytes.

The notes are read back here as a careful reader would: markdown-it-py (CommonMark)
with its own link check turned off, so that it reports every link as written, and
YAML for the front matter. Inputs are hostile text that hypothesis puts together
from the pieces attacks are made of.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.clean import HTML_ELEMENTS
from knowflow.seek.feeds import Entry
from knowflow.seek.highlights import add_highlight
from knowflow.seek.imports import Quote, import_bookmarks, import_quotes
from knowflow.seek.keep import keep, write_clipping
from knowflow.seek.stream import store_entries

PIECES = [
    "<script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&amp;lt;b&amp;gt;",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1) 'title')",
    "[x](&#106;avascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x]( data:text/html,hi )",
    "![i](data:image/svg+xml,x)",
    "[![i](vbscript:x)](javascript:y)",
    "<javascript:alert(1)>",
    "<file:///etc/passwd>",
    "<a href='javascript:alert(1)'>a</a>",
    '<img src="x" onerror="alert(1)">',
    "<!-- -->",
    "<!-->",
    "[r]",
    "\n\n[r]: javascript:alert(1)\n",
    "\n[s]: <data:x> 'x'\n",
    "[ok](https://ok.example/(a))",
    "<https://ok.example/>",
    "<a@b.example>",
    "mailto:a@b.example",
    "`",
    "``",
    "\n```\n",
    "\\",
    "[",
    "]",
    "(",
    ")",
    "<",
    ">",
    "&",
    "!",
    "\n",
    "\n\n",
    "# ",
    "> ",
    "---",
    "%%",
    "*",
    "|",
    "^id",
    "[[Note]]",
    "日本語",
    "👍",
    "\x00",
    "\x1b",
    "\r",
    "\ud800",
    " ",
]
hostile = st.lists(st.sampled_from(PIECES) | st.text(max_size=4), max_size=14).map("".join)
urls = (
    st.sampled_from(
        [
            "https://ok.example/a b",
            "http://ok.example/",
            "mailto:a@b.example",
            "javascript:alert(1)",
            " JaVa\tScRiPt:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "vbscript:x",
            "file:///etc/passwd",
            "/relative",
            "",
        ]
    )
    | hostile
)
SAFE = {"http", "https", "mailto"}
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark")
    md.validateLink = lambda url: True  # type: ignore[method-assign]  # see every link
    return md


READER = _parser()


def _scheme(url: str) -> str | None:
    # As a browser reads it: entities decoded, whitespace and controls ignored.
    url = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(url))
    m = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
    return m.group(1).lower() if m else None


def _links(tokens: list[Any]) -> list[tuple[str, str]]:
    found = []
    for token in tokens:
        if token.type in ("html_block", "html_inline"):
            found.append(("html", token.content))
        for attr in ("href", "src"):
            if token.attrs and attr in token.attrs:
                found.append((attr, str(token.attrs[attr])))
        found += _links(token.children or [])
    return found


def assert_safe(path: Path) -> dict[str, Any]:
    """The checks every written note must pass; its front matter."""
    assert len(path.name.encode()) <= 255 and not path.name.startswith(".")
    text = path.read_bytes().decode("utf-8")  # valid UTF-8, whatever came in
    assert text.startswith("---\n")
    end = text.index("\n---\n", 3)
    front_text, body = text[4:end], text[end + 5 :]
    front = yaml.safe_load(front_text)
    assert isinstance(front, dict) and front["share"] == "private"
    if "url" in front:
        assert _scheme(str(front["url"])) in SAFE, front["url"]
    for key in ("title", "author", "source"):
        if key in front:  # plain text: no markup survives (a bare <word> is text)
            assert not _markup(str(front[key])), front[key]
    tokens = READER.parse(body)
    for kind, value in _links(tokens):
        assert kind != "html", f"raw HTML in {path.name}: {value!r}"
        assert _scheme(value) in SAFE | {None}, f"{kind}={value!r} in {path.name}"
    heading = tokens[1] if tokens[0].type == "heading_open" else None
    assert heading is not None and tokens[0].tag == "h1", body[:80]
    kinds = {t.type for t in heading.children or []}
    assert kinds <= {"text", "em_open", "em_close", "softbreak"}, kinds
    return front


def _markup(text: str) -> bool:
    """A tag of an HTML element, a tag with attributes, a comment, an autolink."""
    for found in re.finditer(r"<(/?)([A-Za-z][^<>\s/]*)([^<>]*)>|<[!?]", text):
        if found.lastindex is None:
            return True
        name, rest = found[2], found[3]
        if name.lower() in HTML_ELEMENTS or "=" in rest or ":" in name:
            return True
    return False


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.init(tmp_path / "v")


@SETTINGS
@given(title=hostile, url=urls, author=hostile, markdown=hostile, note=hostile, tag=hostile)
def test_write_clipping(
    vault: Vault, title: str, url: str, author: str, markdown: str, note: str, tag: str
) -> None:
    path = write_clipping(
        vault,
        title=title,
        url=url,
        source=author,
        author=author,
        published=None,
        markdown=markdown,
        tags=[tag],
        note=note,
    )
    assert_safe(path)


@SETTINGS
@given(title=hostile, link=urls, body=hostile)
@example(title="<!", link="https://ok.example/a b", body="")  # "<!" opens a bogus comment
def test_keep(vault: Vault, title: str, link: str, body: str) -> None:
    conn = _conn(vault)
    # The entry as an older knowflow may have stored it: nothing cleaned.
    entry_id = conn.execute(
        "INSERT INTO entries (source_id, guid, link, title, author, html, content_hash,"
        " first_seen, changed_at) VALUES (1, hex(randomblob(8)), ?, ?, ?, ?, '', '', '')",
        [_storable(t) for t in (link, title, title, f"<p>{body}</p>{body}")],
    ).lastrowid
    assert entry_id is not None
    path = keep(vault, conn, entry_id, note=body)
    front = assert_safe(path)
    if link.strip() and _scheme(link) not in SAFE:
        assert "url" not in front and "link was left out" in path.read_text()


def _storable(text: str) -> str:
    return text.encode("utf-8", "replace").decode()  # SQLite holds no lone surrogate


_conns: dict[Path, sqlite3.Connection] = {}


def _conn(vault: Vault) -> sqlite3.Connection:
    if vault.root not in _conns:
        conn = open_state(vault)
        Sources(conn).add("https://feed.example/", name="Feed")
        _conns[vault.root] = conn
    return _conns[vault.root]


@SETTINGS
@given(title=hostile, url=urls, description=hostile, folder=hostile)
def test_import_bookmarks(
    vault: Vault, tmp_path: Path, title: str, url: str, description: str, folder: str
) -> None:
    marks = tmp_path / "marks.html"
    href = html.escape(f"https://e.example/{len(list(tmp_path.iterdir()))}/{url}")
    marks.write_text(
        f"<DL><p>\n<DT><H3>{folder}</H3>\n<DL><p>\n"
        f'<DT><A HREF="{href}">{title}</A>\n<DD>{description}\n'
        f'<DT><A HREF="https://e.example/x">{html.escape(title)}</A>\n'
        f"<DD>{html.escape(description)}\n</DL>\n</DL>\n",
        encoding="utf-8",
        errors="replace",
    )
    conn = open_state(vault)
    import_bookmarks(vault, conn, marks)
    for (rel,) in conn.execute("SELECT note_path FROM imported WHERE importer = 'bookmarks'"):
        assert_safe(vault.root / rel)


@SETTINGS
@given(title=hostile, url=urls, quote=hostile, comment=hostile, prefix=hostile)
def test_import_quotes_and_highlight(
    vault: Vault, title: str, url: str, quote: str, comment: str, prefix: str
) -> None:
    conn = open_state(vault)
    q = Quote(f"d:{title}{url}", title, title, url, quote.strip() or "q", comment, "", quote)
    q.prefix, q.suffix, q.created = prefix, prefix, prefix
    import_quotes(vault, conn, "hypothesis", [q])
    (rel,) = conn.execute(
        "SELECT note_path FROM imported WHERE key = ?", (f"doc:{_digest(q.doc)}",)
    ).fetchone()
    note = vault.root / rel
    assert_safe(note)
    words = [w for w in note.read_text().split("\n# ", 1)[1].split() if w.isalnum()]
    if words:
        add_highlight(note, words[0], comment=comment)
        assert_safe(note)


def _digest(doc: str) -> str:
    import hashlib

    return hashlib.blake2b(doc.encode("utf-8", "replace"), digest_size=16).hexdigest()


def test_an_entry_linking_to_javascript_is_kept_without_its_link(vault: Vault) -> None:
    from .conftest import cli_in

    conn = _conn(vault)
    source_id = conn.execute("SELECT id FROM sources").fetchone()[0]
    evil = Entry(
        "e1",
        "&lt;script&gt;alert(1)&lt;/script&gt;Escaped <b>markup</b>",
        "javascript:alert(document.cookie)",
        None,
        None,
        None,
        '<p><a href="javascript:alert(1)">click</a> <img src="data:image/png;base64,AA"></p>',
        "h1",
    )
    store_entries(conn, source_id, [evil])
    assert cli_in(vault.root)("keep", "1") == "clippings/Escaped markup.md\n"
    note = vault.root / "clippings" / "Escaped markup.md"
    text = note.read_text()
    assert "\n*Its link was left out: a javascript: address is not a web address.*\n" in text
    assert "\n# Escaped markup\n" in text and "javascript" not in text.replace(
        "a javascript: address", ""
    )
    assert "data:" not in text and "<" not in text.split("---", 2)[2]
    assert "click" in text  # the link's words stay
    assert json.dumps(assert_safe(note))  # and it passes every check above


def test_a_link_left_out_when_the_feed_was_read_is_said_in_the_note(vault: Vault) -> None:
    conn = _conn(vault)
    why = "link left out (a javascript: address; knowflow keeps only http, https and mailto)"
    entry = Entry("w1", "Warned", None, None, None, None, "<p>Text.</p>", "w", warning=why)
    store_entries(conn, 1, [entry])
    entry_id = conn.execute("SELECT id FROM entries WHERE guid = 'w1'").fetchone()[0]
    text = keep(vault, conn, entry_id).read_text()
    assert f"\n*L{why[1:]}.*\n" in text and "url:" not in text


def test_a_title_adds_no_tag_hides_nothing_and_emphasizes_nothing(tmp_path: Path) -> None:
    from knowflow import Index

    vault = Vault.init(tmp_path / "v")
    conn = open_state(vault)
    source = Sources(conn).add("https://feed.example/", name="Feed")
    title = "#hashtag %%hidden%% *em* ==hi== snake_case ^blk"
    deep = "<div>" * 3000 + "core words" + "</div>" * 3000
    entry = Entry("t", title, None, None, None, None, deep, "h")
    store_entries(conn, source.id, [entry])
    (entry_id,) = conn.execute("SELECT id FROM entries").fetchone()
    path = keep(vault, conn, entry_id)  # nested HTML is no RecursionError
    text = path.read_text("utf-8")
    assert "core words" in text
    heading = MarkdownIt("commonmark").parseInline(text.split("\n# ", 1)[1].split("\n")[0])
    assert [t.type for t in heading[0].children] == ["text"]  # no <em>, no link, no code
    assert heading[0].children[0].content == title
    with Index(vault) as index:
        index.scan()
        assert index.conn.execute("SELECT count(*) FROM tags").fetchone()[0] == 0
