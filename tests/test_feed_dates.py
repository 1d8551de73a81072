"""An entry dated only by when it was updated is dated by that, on every parse path."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowflow import Vault
from knowflow.seek import Sources, open_state
from knowflow.seek.fastfeed import parse_for_store, parse_plain
from knowflow.seek.feeds import Entry, parse_feed
from knowflow.seek.stream import Stream, store_entries

from .conftest import cli_in
from .feedserver import FeedServer, run_server


def ago(days: int) -> str:
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=days)
    return moment.isoformat().replace("+00:00", "Z")


def atom(*entries: tuple[str, str], doctype: bool = False) -> bytes:
    """Atom entries with <updated> (required by Atom) and no <published>."""
    items = "".join(
        f"<entry><id>urn:{name}</id><title>{name}</title>"
        f'<link href="https://e.org/{name}"/><updated>{when}</updated>'
        f'<content type="html">{name} text</content></entry>'
        for name, when in entries
    )
    head = '<?xml version="1.0" encoding="utf-8"?>'
    if doctype:  # a DOCTYPE sends the feed down feedparser's path
        head += "<!DOCTYPE feed>"
    return (
        f'{head}<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom</title>'
        f"<updated>{ago(0)}</updated>{items}</feed>"
    ).encode()


def json_feed(*items: tuple[str, str]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON",
            "items": [
                {"id": n, "url": f"https://j.org/{n}", "title": n, "date_modified": when}
                for n, when in items
            ],
        }
    ).encode()


def iso(text: str) -> str:
    return text.replace("Z", "+00:00")


def test_both_atom_paths_date_an_entry_by_updated_and_agree() -> None:
    when = ago(3)
    document = atom(("only-updated", when))
    fast = parse_plain(document)
    assert fast is not None, "a plain Atom feed takes the fast path"
    slow = parse_feed(document)
    assert fast.entries == slow.entries
    assert fast.entries[0].published == fast.entries[0].updated == iso(when)
    # the same feed down feedparser's path (a DOCTYPE) gives the same date
    other = parse_for_store(atom(("only-updated", when), doctype=True))
    assert parse_plain(atom(("x", when), doctype=True)) is None
    assert other.entries[0].published == iso(when)


def test_json_feed_dates_an_item_by_date_modified() -> None:
    when = ago(2)
    (entry,) = parse_feed(json_feed(("a", when))).entries
    assert entry.published == entry.updated == iso(when)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    yield from run_server()


def test_stream_sorts_and_filters_updated_only_entries(server: FeedServer, tmp_path: Path) -> None:
    root = tmp_path / "v"
    Vault.init(root)
    server.serve("/atom", body=atom(("recent", ago(1)), ("old", ago(40))))
    server.serve("/json", body=json_feed(("middle", ago(5))), Content_Type="application/json")
    run = cli_in(root)
    run("source", "add", server.url("/atom"), "--name", "A", "--no-discover")
    run("source", "add", server.url("/json"), "--name", "J", "--no-discover")
    run("update")
    listed = json.loads(run("stream", "--json"))
    assert [e["title"] for e in listed] == ["recent", "middle", "old"]
    assert all(e["published"] for e in listed)
    recent = json.loads(run("stream", "--since", "10d", "--json"))
    assert [e["title"] for e in recent] == ["recent", "middle"]


def test_entries_stored_with_only_updated_sort_by_it(tmp_path: Path) -> None:
    """Entries stored before the parsers fell back (published empty) sort by updated too."""
    conn = open_state(Vault.init(tmp_path / "v"))
    source = Sources(conn).add("https://e.org/feed", name="E")
    later = iso(ago(2))
    stored = [
        Entry(g, g, f"https://e.org/{g}", None, None, when, "", g)
        for g, when in (("later", later), ("earlier", iso(ago(20))))
    ]
    store_entries(conn, source.id, stored)
    stream = Stream(conn)
    assert [e.title for e in stream.entries()] == ["later", "earlier"]
    assert [e.title for e in stream.entries(since="7d")] == ["later"]
    assert stream.entries()[0].published == later
