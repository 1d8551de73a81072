"""The stream: listing with filters, search, triage, and keeping entries as clipping notes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from knowflow import Index, Vault
from knowflow.cli import cli
from knowflow.errors import KnowflowError
from knowflow.seek import Sources, open_state
from knowflow.seek.feeds import Entry
from knowflow.seek.keep import keep
from knowflow.seek.stream import Stream, store_entries
from knowflow.sense import search

from .conftest import cli_in, fingerprint


def entry(guid: str, title: str, html: str, published: str | None = None) -> Entry:
    return Entry(guid, title, f"https://e.org/{guid}", "Ada", published, None, html, guid + "h")


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.init(tmp_path / "v")


@pytest.fixture
def conn(vault: Vault) -> sqlite3.Connection:
    conn = open_state(vault)
    sources = Sources(conn)
    team = sources.add("https://team.example.org/feed", name="Team", kind="team", tags=["work/ops"])
    net = sources.add("https://net.example.org/feed", name="Net")
    store_entries(
        conn,
        team.id,
        [
            entry(
                "t1",
                "Deploy notes",
                "<p>How we <b>deploy</b> on Fridays</p>",
                "2026-11-20T10:00:00+00:00",
            ),
            entry("t2", "Retro", "<p>What went well</p>", "2026-11-01T10:00:00+00:00"),
        ],
    )
    store_entries(
        conn,
        net.id,
        [
            entry(
                "n1",
                "Gardens of knowledge",
                "<h2>Digital gardens</h2><ul><li>grow</li></ul>"
                '<p>See <a href="https://x.org/">this</a>.</p>',
                "2026-11-25T10:00:00+00:00",
            ),
        ],
    )
    return conn


def titles(found: list[object]) -> list[str]:
    return [e.title for e in found]  # type: ignore[attr-defined]


def test_filters_and_search(conn: sqlite3.Connection) -> None:
    stream = Stream(conn)
    assert titles(stream.entries()) == ["Gardens of knowledge", "Deploy notes", "Retro"]
    assert titles(stream.entries(kind="team")) == ["Deploy notes", "Retro"]
    assert titles(stream.entries(source="Net")) == ["Gardens of knowledge"]
    assert titles(stream.entries(tag="work")) == ["Deploy notes", "Retro"]
    assert titles(stream.entries(since="2026-11-15")) == ["Gardens of knowledge", "Deploy notes"]
    assert titles(stream.entries(search="deploying")) == ["Deploy notes"]  # stemmed
    with pytest.raises(KnowflowError):
        stream.entries(since="last week")


def test_triage_states_and_activity(conn: sqlite3.Connection) -> None:
    stream = Stream(conn)
    ids = [e.id for e in stream.entries()]
    assert stream.mark(ids[:2], "seen") == 2
    stream.mark([ids[2]], "dismissed")
    assert titles(stream.entries(state="new")) == []
    assert titles(stream.entries(state="dismissed")) == ["Retro"]
    with pytest.raises(KnowflowError):
        stream.mark([9999], "seen")
    actions = [
        a
        for (a,) in conn.execute(
            "SELECT action FROM activity WHERE action LIKE 'entry_%' ORDER BY id"
        )
    ]
    assert actions == ["entry_seen", "entry_seen", "entry_dismissed"]


def test_keep_writes_one_private_clipping_note(vault: Vault, conn: sqlite3.Connection) -> None:
    gardens = Stream(conn).entries(source="Net")[0]
    before = fingerprint(vault.root)
    path = keep(vault, conn, gardens.id, tags=["pkm"], note="Worth a look for our wiki.")
    assert path == vault.root / "clippings" / "Gardens of knowledge.md"
    text = path.read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert front["type"] == "clipping" and front["share"] == "private"
    assert (front["url"], front["source"], front["author"]) == ("https://e.org/n1", "Net", "Ada")
    assert front["tags"] == ["pkm"] and front["captured"]
    body = text.split("---", 2)[2]
    assert body.index("Worth a look") < body.index("## Digital gardens")
    assert "- grow" in body and "[this](https://x.org/)" in body
    assert keep(vault, conn, gardens.id) == path  # kept twice: the same note
    assert sorted(set(fingerprint(vault.root)) - set(before)) == [
        "clippings/Gardens of knowledge.md"
    ]
    assert Stream(conn).get(gardens.id).state == "kept"
    with Index(vault) as index:
        index.scan()
        assert [h.path for h in search(index, "type:clipping gardens")] == [
            "clippings/Gardens of knowledge.md"
        ]


def test_stream_commands(vault: Vault, conn: sqlite3.Connection) -> None:

    run = cli_in(vault.root)

    import json

    listed = json.loads(run("stream", "--kind", "team", "--json"))
    assert [i["title"] for i in listed] == ["Deploy notes", "Retro"]
    first = listed[0]["id"]
    run("seen", str(first))
    run("dismiss", str(listed[1]["id"]))
    assert run("keep", str(first), "--tag", "ops").strip() == "clippings/Deploy notes.md"
    states = {i["title"]: i["state"] for i in json.loads(run("stream", "--state", "all", "--json"))}
    assert states == {"Gardens of knowledge": "new", "Deploy notes": "kept", "Retro": "dismissed"}


def test_discover_ranks_unfollowed_sites_and_marks_diversity(conn: sqlite3.Connection) -> None:
    from knowflow.seek.suggest import suggest

    sources = Sources(conn)
    com = sources.add("https://com.example.org/feed", name="Com", kind="community")
    sources.add("https://com2.example.org/feed", name="Com2", kind="community")
    team = sources.get("Team")
    link = '<a href="https://{0}/post">x</a>'
    store_entries(
        conn,
        team.id,
        [entry("t9", "Links", link.format("www.shared.io") + link.format("net.example.org"))],
    )
    store_entries(
        conn, com.id, [entry("c1", "More", link.format("shared.io") * 2 + link.format("solo.dev"))]
    )
    found = {s.site: s for s in suggest(conn)}
    assert "net.example.org" not in found  # already followed
    assert list(found) == ["shared.io", "solo.dev", "x.org"]
    assert (found["shared.io"].sources, found["shared.io"].links) == (2, 3)
    # two community sources already; one network source: x.org would widen that
    assert found["solo.dev"].kind == "community" and not found["solo.dev"].widens
    assert found["x.org"].kind == "network" and found["x.org"].widens


def test_entries_match_by_id_then_link_then_content(conn: sqlite3.Connection) -> None:
    source = Sources(conn).add("https://dedupe.example.org/feed", name="Dedupe")
    first = Entry("a", "Alpha", "https://d.org/a", None, None, None, "<p>firstdraft</p>", "h-a")
    same_link = Entry(
        "a2", "Alpha v2", "https://d.org/a", None, None, None, "<p>seconddraft</p>", "h-a2"
    )
    same_text = Entry("b2", "Beta", "https://d.org/b2", None, None, None, "<p>b</p>", "h-b")
    beta = Entry("b", "Beta", "https://d.org/b", None, None, None, "<p>b</p>", "h-b")
    assert store_entries(conn, source.id, [first, beta]) == (2, 0)
    stored = Stream(conn).entries(source="Dedupe")
    Stream(conn).mark([e.id for e in stored if e.title == "Alpha"], "seen")

    # A changed entry found by its link is updated in place; its state stays "seen".
    # An entry with another id and link but the same content is the same entry.
    assert store_entries(conn, source.id, [same_link, same_text]) == (0, 1)
    after = {e.title: e for e in Stream(conn).entries(source="Dedupe", state=None)}
    assert set(after) == {"Alpha v2", "Beta"} and after["Alpha v2"].state == "seen"
    assert titles(Stream(conn).entries(search="seconddraft", state=None)) == ["Alpha v2"]
    assert Stream(conn).entries(search="firstdraft", state=None) == []

    # A feed that repeats an entry in one document stores it once, as its last version.
    again = Entry("c", "Gamma", "https://d.org/c", None, None, None, "<p>oldversion</p>", "h-c")
    newer = Entry("c", "Gamma", "https://d.org/c", None, None, None, "<p>newversion</p>", "h-c2")
    assert store_entries(conn, source.id, [again, newer]) == (1, 1)
    assert titles(Stream(conn).entries(search="newversion", state=None)) == ["Gamma"]
    assert Stream(conn).entries(search="oldversion", state=None) == []


def test_keep_and_capture_leave_out_keys_without_a_value(
    vault: Vault, conn: sqlite3.Connection
) -> None:
    from .feedserver import run_server

    source = Sources(conn).add("https://bare.example.org/feed", name="Bare")
    bare = Entry("b1", "Bare entry", None, None, None, None, "<p>Only text.</p>", "b1h")
    store_entries(conn, source.id, [bare])
    (found,) = Stream(conn).entries(source="Bare")
    text = keep(vault, conn, found.id).read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert "null" not in text and not {"author", "published", "url"} & set(front)
    assert front["source"] == "Bare" and front["share"] == "private"

    page = (
        "<html><head><title>Plain page</title></head><body><article>"
        + ("<p>A paragraph about tending a garden of notes, long enough to be main text.</p>" * 8)
        + "</article></body></html>"
    )
    server = run_server()
    http = next(server)
    try:
        http.serve("/page", body=page.encode(), Content_Type="text/html; charset=utf-8")
        run = cli_in(vault.root)
        rel = run("capture", http.url("/page")).strip()
    finally:
        server.close()
    text = (vault.root / rel).read_text()
    front = yaml.safe_load(text.split("---")[1])
    assert "null" not in text.split("---")[1] and "author" not in front
    assert front["url"] == http.url("/page") and "tending a garden" in text


def test_seen_and_dismiss_report_what_changed_and_what_was_left(
    vault: Vault, conn: sqlite3.Connection
) -> None:
    import json

    ids = {e.title: e.id for e in Stream(conn).entries()}
    deploy, retro, gardens = ids["Deploy notes"], ids["Retro"], ids["Gardens of knowledge"]
    keep(vault, conn, deploy)
    conn.commit()
    run = cli_in(vault.root)
    out = run("seen", str(deploy), str(retro), str(retro))
    assert out.splitlines() == [
        "1 marked seen, 1 left as it was",
        f"  {deploy}\tleft kept: kept as clippings/Deploy notes.md\tDeploy notes",
        f"  {retro}\tnew -> seen\tRetro",
    ]
    report = json.loads(run("dismiss", str(retro), str(deploy), str(gardens), "--json"))
    assert [(r["id"], r["before"], r["after"], r["changed"]) for r in report] == [
        (retro, "seen", "dismissed", True),
        (deploy, "kept", "kept", False),
        (gardens, "new", "dismissed", True),
    ]
    assert report[1]["unchanged_because"] == "kept as clippings/Deploy notes.md"
    again = run("dismiss", str(gardens))
    assert again.splitlines() == [
        "0 marked dismissed, 1 left as it was",
        f"  {gardens}\tleft dismissed: already dismissed\tGardens of knowledge",
    ]
    assert f"{retro}\tdismissed -> seen" in run("seen", str(retro))  # seen takes it back
    states = {e.title: e.state for e in Stream(conn).entries()}
    assert states == {"Deploy notes": "kept", "Retro": "seen", "Gardens of knowledge": "dismissed"}
    logged = conn.execute(
        "SELECT action, json_extract(detail, '$.entry') FROM activity"
        " WHERE action IN ('entry_seen', 'entry_dismissed') ORDER BY id"
    ).fetchall()
    assert logged == [
        ("entry_seen", retro),
        ("entry_dismissed", retro),
        ("entry_dismissed", gardens),
        ("entry_seen", retro),
    ]
    assert "no entry 999" in run("seen", str(retro), "999", code=2)


def test_stream_lists_unread_with_date_and_source(vault: Vault, conn: sqlite3.Connection) -> None:
    import json

    run = cli_in(vault.root)
    ids = {e.title: e.id for e in Stream(conn).entries()}
    run("seen", str(ids["Retro"]))
    lines = run("stream").splitlines()
    assert lines == [
        f"{ids['Gardens of knowledge']}\t2026-11-25\tNet\tGardens of knowledge",
        f"{ids['Deploy notes']}\t2026-11-20\tTeam\tDeploy notes",
    ]
    every = run("stream", "--state", "all").splitlines()
    assert every[2] == f"{ids['Retro']}\t2026-11-01\tseen\tTeam\tRetro"
    assert [i["title"] for i in json.loads(run("stream", "--state", "seen", "--json"))] == ["Retro"]
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "stream", "-n", "1"])
    assert result.output.splitlines()[0].endswith("Gardens of knowledge")
    assert "... and 1 more (-n 2 lists them all)" in result.stderr


def test_read_prints_the_text_and_marks_it_seen(vault: Vault, conn: sqlite3.Connection) -> None:
    import json

    run = cli_in(vault.root)
    ids = {e.title: e.id for e in Stream(conn).entries()}
    out = run("read", str(ids["Gardens of knowledge"]))
    assert out.splitlines()[:3] == [
        "Gardens of knowledge",
        "Net · 2026-11-25 · Ada",
        "https://e.org/n1",
    ]
    assert "## Digital gardens" in out and "- grow" in out and "[this](https://x.org/)" in out
    assert Stream(conn).get(ids["Gardens of knowledge"]).state == "seen"
    keep(vault, conn, ids["Retro"])
    read = json.loads(run("read", str(ids["Retro"]), "--json"))
    assert (read["state"], read["before"], read["full"]) == ("kept", "kept", False)
    assert read["text"] == "What went well"
    run("dismiss", str(ids["Deploy notes"]))
    run("read", str(ids["Deploy notes"]))
    assert Stream(conn).get(ids["Deploy notes"]).state == "dismissed"
    assert "no entry 999" in run("read", "999", code=2)


def test_read_full_fetches_the_page_and_says_why_not(tmp_path: Path) -> None:
    from .feedserver import run_server

    vault = Vault.init(tmp_path / "v")
    conn = open_state(vault)
    server = run_server()
    http = next(server)
    try:
        page = "<html><body><article>" + "<p>Main text of the linked page, long enough.</p>" * 8
        http.serve("/page", body=(page + "</article></body></html>").encode())
        source = Sources(conn).add(http.url("/feed"), name="Local")
        store_entries(
            conn,
            source.id,
            [
                Entry("a", "Linked", http.url("/page"), None, None, None, "<p>Teaser</p>", "a"),
                Entry("b", "Gone", http.url("/gone"), None, None, None, "<p>Teaser</p>", "b"),
                Entry("c", "Unlinked", None, None, None, None, "<p>Teaser</p>", "c"),
            ],
        )
        ids = {e.title: e.id for e in Stream(conn).entries()}
        run = cli_in(vault.root)
        out = run("read", str(ids["Linked"]), "--full")
        assert "Main text of the linked page" in out and "Teaser" not in out
        gone = run("read", str(ids["Gone"]), "--full", code=2)
        assert f"could not fetch {http.url('/gone')}: HTTP 404" in gone
        assert Stream(conn).get(ids["Gone"]).state == "new"  # not read: nothing was shown
        assert "links to no web page" in run("read", str(ids["Unlinked"]), "--full", code=2)
    finally:
        server.close()


def test_seen_all_by_source_and_date(vault: Vault, conn: sqlite3.Connection) -> None:
    import json

    run = cli_in(vault.root)
    assert run("seen", "--all", "--source", "Team", "--before", "2026-11-10").strip() == (
        "1 marked seen"
    )
    assert {e.title for e in Stream(conn).entries(state="seen")} == {"Retro"}
    done = json.loads(run("seen", "--all", "--source", "Net", "--json"))
    assert done == {"marked": 1, "source": "Net", "before": None}
    assert run("seen", "--all").strip() == "1 marked seen"
    assert Stream(conn).entries(state="new") == []
    logged = conn.execute("SELECT subject FROM activity WHERE action = 'entries_seen'").fetchall()
    assert logged == [("1 entry",), ("1 entry",), ("1 entry",)]
    assert "no source named 'Nope'" in run("seen", "--all", "--source", "Nope", code=3)
    assert "--before takes 30m, 12h, 7d" in run("seen", "--all", "--before", "soon", code=2)
    assert "name the ENTRIES" in run("seen", code=2)
    assert "name the ENTRIES" in run("seen", "1", "--all", code=2)
    assert "go with --all" in run("seen", "1", "--source", "Team", code=2)
