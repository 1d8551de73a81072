"""Sources in three networks, kept in state.db, and OPML in and out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowflow import Vault
from knowflow.errors import OpmlError, SourceExists, SourceNotFound
from knowflow.seek import Sources, import_opml, open_state, read_opml, write_opml

from .conftest import cli_in

OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Exported from a feed reader</title></head>
  <body>
    <outline text="Team">
      <outline type="rss" text="Platform blog" xmlUrl="https://team.example.org/feed.xml"/>
    </outline>
    <outline text="KM" title="KM">
      <outline text="Practice" kind="community">
        <outline type="rss" text="KM Practitioners" xmlUrl="https://km.example.org/atom"
                 htmlUrl="https://km.example.org/" category="pkm,sense"/>
      </outline>
      <outline type="rss" text="Loose feed" xmlUrl="https://loose.example.net/rss"/>
    </outline>
    <outline type="rss" text="Not a web feed" xmlUrl="ftp://old.example.com/feed"/>
    <outline type="rss" text="Top level" xmlUrl="https://top.example.com/index.xml"
             knowflow:kind="team" xmlns:knowflow="https://knowflow.org/opml"/>
  </body>
</opml>
"""


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    return Sources(open_state(Vault.init(tmp_path / "v")))


def test_add_list_rename_pause_remove(sources: Sources) -> None:
    added = sources.add("https://a.example.org/feed", kind="community", tags=["#pkm", "pkm", "x/y"])
    assert (added.name, added.kind, added.tags) == ("a.example.org", "community", ["pkm", "x/y"])
    sources.add("https://b.example.org/feed", name="Bee")
    assert [s.name for s in sources.list()] == ["a.example.org", "Bee"]
    assert [s.name for s in sources.list(kind="network")] == ["Bee"]
    assert [s.name for s in sources.list(tag="x")] == ["a.example.org"]
    sources.rename("Bee", "Bees")
    assert sources.set_paused("Bees", True).paused
    assert not sources.set_paused("https://b.example.org/feed", False).paused
    assert sources.remove("Bees").url == "https://b.example.org/feed"
    with pytest.raises(SourceNotFound):
        sources.get("Bees")
    with pytest.raises(SourceExists):
        sources.add("https://a.example.org/feed", name="Other")
    with pytest.raises(ValueError):
        sources.add("https://c.example.org/feed", kind="tribe")
    with pytest.raises(ValueError):
        sources.add("file:///etc/passwd")
    actions = [a for (a,) in sources.conn.execute("SELECT action FROM activity ORDER BY id")]
    assert actions == [
        "source_added",
        "source_added",
        "source_renamed",
        "source_paused",
        "source_resumed",
        "source_removed",
    ]


def test_state_is_kept_in_its_own_migrated_file(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    Sources(open_state(vault)).add("https://a.example.org/feed")
    assert (vault.state_dir / "state.db").exists()
    conn = open_state(vault)
    from knowflow.seek.state import STATE

    names = [n for (n,) in conn.execute("SELECT name FROM _migrations")]
    assert names == [name for name, _ in STATE.steps]
    assert names[0] == "m001_sources_and_activity"
    assert Sources(conn).get("a.example.org").url == "https://a.example.org/feed"


def test_read_opml_folders_kinds_and_categories() -> None:
    outlines = {o.name: o for o in read_opml(OPML.encode())}
    assert outlines["Platform blog"].kind == "team"
    assert outlines["Platform blog"].tags == []  # a kind folder is not a tag
    km = outlines["KM Practitioners"]
    assert (km.kind, km.tags, km.site_url) == (
        "community",
        ["KM/Practice", "pkm", "sense"],
        "https://km.example.org/",
    )
    assert (outlines["Loose feed"].kind, outlines["Loose feed"].tags) == ("network", ["KM"])
    assert outlines["Top level"].kind == "team"


def test_import_reports_counts_and_is_idempotent(sources: Sources, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(OPML)
    first = import_opml(sources, path)
    assert (len(first.added), len(first.skipped)) == (4, 0)
    assert first.failed == [
        ("Not a web feed", "'ftp://old.example.com/feed' is not an http(s) address")
    ]
    second = import_opml(sources, path)
    assert (len(second.added), len(second.skipped), len(second.failed)) == (0, 4, 1)
    assert len(sources.list()) == 4


def test_export_then_import_round_trips(sources: Sources, tmp_path: Path) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(OPML)
    import_opml(sources, path)
    exported = tmp_path / "out.opml"
    exported.write_text(write_opml(sources.list()))
    other = Sources(open_state(Vault.init(tmp_path / "other")))
    import_opml(other, exported)

    def shape(s: Sources) -> list[tuple[object, ...]]:
        return [(x.name, x.url, x.kind, x.tags, x.site_url) for x in s.list()]

    assert shape(other) == shape(sources)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<opml><body><outline text='a'>", "feeds.opml:1: not well-formed"),
        ("<html><body>not opml</body></html>", "not an OPML document"),
        (
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><opml><body>&lol2;</body></opml>',
            "refused",
        ),
    ],
)
def test_bad_opml_is_a_clear_error_and_adds_nothing(
    sources: Sources, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "feeds.opml"
    path.write_text(text)
    with pytest.raises(OpmlError, match=message):
        import_opml(sources, path)
    assert sources.list() == []


def test_source_commands(tmp_path: Path) -> None:
    root = tmp_path / "v"
    Vault.init(root)

    run = cli_in(root)

    assert "Following Team blog (team)" in run(
        "source",
        "add",
        "https://t.example.org/feed",
        "--name",
        "Team blog",
        "--kind",
        "team",
        "--tag",
        "work",
        "--no-discover",
    )
    run("source", "add", "https://t.example.org/feed", "--no-discover", code=4)
    (tmp_path / "in.opml").write_text(OPML)
    report = json.loads(run("source", "import-opml", str(tmp_path / "in.opml"), "--json"))
    assert report[0]["added"] == 4 and report[0]["failed"][0]["source"] == "Not a web feed"
    listed = json.loads(run("source", "list", "--kind", "team", "--json"))
    assert [s["name"] for s in listed] == ["Platform blog", "Team blog", "Top level"]
    run("source", "rename", "Team blog", "Our blog")
    run("source", "pause", "Our blog")
    assert "paused" in run("source", "list")
    run("source", "resume", "Our blog")
    run("source", "remove", "Our blog")
    run("source", "remove", "Our blog", code=3)
    out = tmp_path / "out.opml"
    run("source", "export-opml", str(out))
    assert [o.name for o in read_opml(out.read_bytes())] == [
        "Platform blog",
        "Top level",
        "KM Practitioners",
        "Loose feed",
    ]
    assert run("source", "export-opml").startswith("<?xml")


def test_import_opml_from_an_address(tmp_path: Path) -> None:
    from .feedserver import run_server

    root = tmp_path / "v"
    Vault.init(root)
    run = cli_in(root)
    serving = run_server()
    server = next(serving)
    try:
        server.serve("/subs.opml?format=opml", body=OPML.encode(), Content_Type="text/x-opml")
        server.serve("/moved", status=301, Location="/subs.opml?format=opml")
        server.serve("/broken.opml", body=b"<opml><body><outline")
        server.serve("/gone.opml", status=404)
        url = server.url("/subs.opml?format=opml")
        report = json.loads(run("source", "import-opml", url, "--json"))
        assert report[0]["added"] == 4  # the address reached the server whole
        assert server.requests[-1].path == "/subs.opml?format=opml"
        moved = json.loads(run("source", "import-opml", server.url("/moved"), "--json"))
        assert (moved[0]["added"], moved[0]["skipped"]) == (0, 4)  # redirects are followed
        for path, message in (
            ("/gone.opml", "/gone.opml: HTTP 404"),
            ("/broken.opml", "/broken.opml:1: not well-formed XML"),
        ):
            assert f"Error: {server.url(path)}{message[len(path) :]}" in run(
                "source", "import-opml", server.url(path), code=2
            )
    finally:
        serving.close()
    assert "Error: http://127.0.0.1:1/x.opml: could not connect" in run(
        "source", "import-opml", "http://127.0.0.1:1/x.opml", code=2
    )
    assert len(json.loads(run("source", "list", "--json"))) == 4
    activity = open_state(Vault(root)).execute(
        "SELECT subject FROM activity WHERE action = 'opml_imported'"
    )
    assert [s for (s,) in activity] == [url, server.url("/moved")]


def test_import_opml_from_an_address_keeps_to_the_client_limits(sources: Sources) -> None:
    from knowflow.seek.http import Client

    from .feedserver import run_server

    serving = run_server()
    server = next(serving)
    try:
        server.serve("/big.opml", body=OPML.encode())
        with pytest.raises(OpmlError, match=r"big\.opml: response of \d+ bytes is over"):
            import_opml(sources, server.url("/big.opml"), client=Client(max_bytes=100))
    finally:
        serving.close()
    assert sources.list() == []
