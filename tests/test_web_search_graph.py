"""Search, the graph and the tag tree in the local app: the network and the kept layout
without a browser (exact nodes and edges of a small vault, a layout computed once and
reused), then in Chromium against a real server: results as you type, filters, both
graphs drawn with the expected number of notes, a click on a note opening it, the tag
tree's links, axe at both widths, no console error or failed request."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from starlette.testclient import TestClient

from knowflow import Index, Vault
from knowflow.sense.network import layout_path, neighbourhood, vault_network
from knowflow.web import create_app

from .conftest import EXAMPLES, write_files
from .websupport import WIDTHS, Served, Watched, serious_violations, serving

FILES: dict[str, str | bytes] = {
    "A.md": "---\ntags: [pkm/seek]\nshare: public\n---\n# A\n\n"
    "To [[B]] and [[C]], itself [[A]], [[Missing]] and ![[pic.png]].\n",
    "B.md": "# B\n\nBack to [[A]], twice: [[A|again]]. #pkm\n",
    "C.md": "---\ntype: clipping\n---\n# C\n\nOn to [[sub/D]].\n",
    "sub/D.md": "# D\n\nDeeper: [[E]].\n",
    "sub/E.md": "# E\n\nThe end of the line.\n",
    "Lonely.md": "# Lonely\n\nNo link here. #solo\n",
    "pic.png": b"\x89PNG\r\n\x1a\n",
}
NODES = ["A.md", "B.md", "C.md", "Lonely.md", "sub/D.md", "sub/E.md"]
EDGES = [("A.md", "B.md"), ("A.md", "C.md"), ("B.md", "A.md"), ("C.md", "sub/D.md"),
         ("sub/D.md", "sub/E.md")]  # fmt: skip
# SwiftShader (Chromium's WebGL without a GPU) warns when sigma reads back the pixel
# under the mouse; that is the only console message filtered here.
GL_STALL = re.compile(
    r"^console warning: \[\.WebGL-0x[0-9a-f]+\]GL Driver Message \(OpenGL, Performance, "
    r"GL_CLOSE_PATH_NV, High\): GPU stall due to ReadPixels( \(this message will no longer"
    r" repeat\))?$"
)


def make_vault(root: Path, files: dict[str, str | bytes]) -> Vault:
    write_files(root, files)
    vault = Vault.init(root)
    with Index(vault) as index:
        index.scan()
    return vault


def rescan(vault: Vault) -> None:
    with Index(vault) as index:
        index.scan()


@pytest.fixture
def small(tmp_path: Path) -> Vault:
    return make_vault(tmp_path / "vault", FILES)


@pytest.fixture
def client(small: Vault) -> Iterator[TestClient]:
    app = create_app(small, token="t", host="testserver", port=80, background=False)
    with TestClient(app) as client:
        client.get("/?token=t", follow_redirects=False)  # the cookie
        yield client


def csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/search").text)
    assert found
    return found.group(1)


def paths_of(data: dict[str, Any]) -> list[str]:
    return [row[0] for row in data["nodes"]]


def edges_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    names, flat = paths_of(data), data["edges"]
    return [(names[flat[k]], names[flat[k + 1]]) for k in range(0, len(flat), 2)]


# -- The network, without a browser -----------------------------------------------------


def test_the_vaults_network_is_its_notes_and_the_links_between_them(small: Vault) -> None:
    """Self-links, unresolved links and attachments are not edges; a note linking
    twice to another is one edge; direction is kept."""
    with Index(small) as index:
        network = vault_network(index)
    assert [n.path for n in network.nodes] == NODES
    assert [(NODES[s], NODES[t]) for s, t in network.edges] == EDGES
    assert [(n.folder, n.tag) for n in network.nodes][:2] == [("", "pkm"), ("", "pkm")]
    assert network.nodes[4].folder == "sub"
    assert network.unlinked() == 1


def test_the_network_is_read_again_once_the_index_changed(small: Vault) -> None:
    with Index(small) as index:
        first = vault_network(index)
        assert vault_network(index) is first  # the page and its data read it once
    write_files(small.root, {"sub/F.md": "# F\n\nTo [[A]].\n"})
    rescan(small)
    with Index(small) as index:
        again = vault_network(index)
    assert [n.path for n in again.nodes] == [*NODES, "sub/F.md"]
    assert ("sub/F.md", "A.md") in [
        (again.nodes[s].path, again.nodes[t].path) for s, t in again.edges
    ]


def test_a_neighbourhood_is_two_steps_of_links_and_backlinks(small: Vault) -> None:
    with Index(small) as index:
        around_a = neighbourhood(index, index.note("A"))
        around_e = neighbourhood(index, index.note("E"))
        around_b = neighbourhood(index, index.note("B"), limit=2)
    assert [(n.path, n.step) for n in around_a.nodes] == [
        ("A.md", 0), ("B.md", 1), ("C.md", 1), ("sub/D.md", 2)]  # fmt: skip
    names = [n.path for n in around_a.nodes]
    assert [(names[s], names[t]) for s, t in around_a.edges] == EDGES[:4]
    assert [(n.path, n.step) for n in around_e.nodes] == [
        ("C.md", 2), ("sub/D.md", 1), ("sub/E.md", 0)]  # fmt: skip
    # Beyond the limit the nearer notes are kept and the rest counted.
    assert [n.path for n in around_b.nodes] == ["A.md", "B.md"]
    assert around_b.left_out == 1


def test_the_graph_json_of_a_small_vault(client: TestClient) -> None:
    data = client.get("/graph/data.json").json()
    assert paths_of(data) == NODES
    assert edges_of(data) == EDGES
    assert data["focus"] is None and data["layout"] == "seeded"
    assert [row[1] for row in data["nodes"]] == ["A", "B", "C", "Lonely", "D", "E"]
    assert data["folders"][data["nodes"][4][2]] == "sub"
    around = client.get("/graph/data.json", params={"note": "sub/E.md"}).json()
    assert around["focus"] == "sub/E.md"
    assert [(row[0], row[6]) for row in around["nodes"]] == [
        ("C.md", 2), ("sub/D.md", 1), ("sub/E.md", 0)]  # fmt: skip
    assert client.get("/graph/data.json", params={"note": "Nowhere"}).status_code == 404
    assert client.get("/graph", params={"note": "../etc/passwd"}).status_code == 404


def test_the_layout_is_computed_once_and_reused(client: TestClient, small: Vault) -> None:
    first = client.get("/graph/data.json").json()
    assert first["layout"] == "seeded"
    positions = [float(v) for n in range(len(NODES)) for v in (n * 10, -n * 5.5)]
    token = csrf(client)
    refused = client.post(
        "/graph/layout", json={"signature": first["signature"], "positions": positions}
    )
    assert refused.status_code == 403  # no CSRF token
    kept = client.post(
        "/graph/layout",
        json={"signature": first["signature"], "positions": positions},
        headers={"X-CSRF-Token": token},
    )
    assert kept.json() == {"stored": True, "notes": len(NODES)}
    stamp = layout_path(small).stat().st_mtime_ns
    again = client.get("/graph/data.json").json()
    assert again["layout"] == "saved"  # the page draws it as it is: no worker, no layout
    assert [row[4:6] for row in again["nodes"]] == [[n * 10, -n * 5.5] for n in range(len(NODES))]
    assert layout_path(small).stat().st_mtime_ns == stamp  # read, not written again

    # A new note: the others keep their place, the new one is placed beside its link.
    write_files(small.root, {"F.md": "# F\n\nSee [[Lonely]].\n"})
    rescan(small)
    changed = client.get("/graph/data.json").json()
    assert changed["layout"] == "partly saved"
    rows = {row[0]: row[4:6] for row in changed["nodes"]}
    assert rows["Lonely.md"] == [30, -16.5]
    assert abs(rows["F.md"][0] - 30) <= 10.01 and abs(rows["F.md"][1] + 16.5) <= 10.01
    # A layout made for the network before the change is not kept.
    stale = client.post(
        "/graph/layout",
        json={"signature": first["signature"], "positions": positions},
        headers={"X-CSRF-Token": token},
    )
    assert stale.status_code == 200 and stale.json()["stored"] is False
    wrong = client.post(
        "/graph/layout",
        json={"signature": changed["signature"], "positions": ["x", 1]},
        headers={"X-CSRF-Token": token},
    )
    assert wrong.status_code == 400


def test_a_damaged_layout_file_is_computed_again(client: TestClient, small: Vault) -> None:
    layout_path(small).write_text("{not json", "utf-8")
    assert client.get("/graph/data.json").json()["layout"] == "seeded"


# -- Search and tags, without a browser --------------------------------------------------


def test_the_query_is_escaped_in_the_page(client: TestClient) -> None:
    page = client.get("/search", params={"q": '<script>alert("x")</script> "A'})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text
    assert page.headers["vary"] == "HX-Request"


def test_results_alone_for_htmx_and_filters_in_the_query(client: TestClient) -> None:
    whole = client.get("/search", params={"q": "back"})
    assert "<h1>Search</h1>" in whole.text and 'href="/note/B.md"' in whole.text
    results = client.get("/search", params={"q": "back"}, headers={"HX-Request": "true"})
    assert "<h1>" not in results.text and "<mark>Back</mark>" in results.text
    # Going back to a search htmx no longer holds asks for the whole page.
    restored = client.get(
        "/search",
        params={"q": "back"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<h1>Search</h1>" in restored.text
    tagged = client.get("/search", params={"q": "", "tag": "pkm"}, headers={"HX-Request": "true"})
    assert re.findall(r'class="hit-title" href="([^"]+)"', tagged.text) == [
        "/note/A.md",
        "/note/B.md",
    ]
    typed = client.get("/search", params={"q": "", "type": "clipping"})
    assert re.findall(r'class="hit-title" href="([^"]+)"', typed.text) == ["/note/C.md"]
    shared = client.get("/search", params={"q": "", "audience": "public"})
    assert re.findall(r'class="hit-title" href="([^"]+)"', shared.text) == ["/note/A.md"]
    # The selects come from the vault: its tags, types and audiences.
    assert '<option value="pkm/seek">' in whole.text
    assert '<option value="clipping">' in whole.text
    assert '<option value="public">' in whole.text and '<option value="private">' in whole.text


def test_no_note_holds_every_word_the_closest_are_shown(client: TestClient) -> None:
    page = client.get("/search", params={"q": "deeper nonexistentword"})
    assert "No note holds all of the words" in page.text
    assert 'href="/note/sub/D.md"' in page.text and "without: nonexistentword" in page.text
    nothing = client.get("/search", params={"q": "zzzzqqq"})
    assert "No note matches" in nothing.text
    broken = client.get("/search", params={"q": "has:nonsense"})
    assert broken.status_code == 200 and "cannot be read" in broken.text


def test_paging_keeps_the_query_and_filters(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        f"n{i:02d}.md": f"# N{i}\n\ncommon word #t\n" for i in range(25)
    }
    vault = make_vault(tmp_path / "many", files)
    app = create_app(vault, token="t", host="testserver", port=80, background=False)
    with TestClient(app) as client:
        client.get("/?token=t", follow_redirects=False)
        first = client.get("/search", params={"q": "common", "tag": "t"})
        assert first.text.count('class="hit"') == 20
        nexts = re.findall(r'href="(/search\?[^"]+)"[^>]*rel="next"', first.text)
        assert nexts and parse_qs(urlsplit(nexts[0].replace("&amp;", "&")).query) == {
            "q": ["common"], "tag": ["t"], "page": ["2"]}  # fmt: skip
        second = client.get(nexts[0].replace("&amp;", "&"))
        assert second.text.count('class="hit"') == 5 and 'rel="prev"' in second.text
        assert 'start="21"' in second.text


def test_the_tag_tree_links_each_tag_to_its_search(client: TestClient) -> None:
    page = client.get("/tags")
    links = re.findall(r'<a href="(/search\?q=[^"]+)">#([^<]+)</a>', page.text)
    assert [name for _, name in links] == ["pkm", "pkm/seek", "solo"]
    assert links[0][0] == "/search?q=tag%3Apkm"
    assert "2 notes" in page.text  # pkm counts A (pkm/seek) and B (pkm)


# -- In the browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Vault]]:
    root = tmp_path_factory.mktemp("sample") / "vault"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns("index.db*", "graph-layout.json"))
    vault = Vault(root)
    rescan(vault)
    with serving(vault) as served:
        yield served, vault


def problems(watched: Watched) -> list[str]:
    return [p for p in watched.problems if not GL_STALL.match(p)]


def open_page(served: Served, browser: Any, path: str, **options: Any) -> tuple[Any, Watched]:
    context = served.signed_in(browser, **options)
    page = context.new_page()
    watched = Watched(page)
    # The note page belongs to another module; here only where a click leads matters.
    page.route(
        re.compile(r".*/note/.*"),
        lambda route: route.fulfill(body="<!doctype html><title>note</title><h1>note</h1>",
                                    content_type="text/html"),
    )  # fmt: skip
    page.goto(served.base.rstrip("/") + path)
    return page, watched


def test_results_come_as_you_type(sample: tuple[Served, Vault], browser: Any) -> None:
    served, _ = sample
    page, watched = open_page(served, browser, "/search")
    page.locator("#q").press_sequentially("serendip", delay=20)
    page.wait_for_selector(".hit-title")
    assert "q=serendip" in page.url  # the address holds the query
    titles = page.locator(".hit-title").all_inner_texts()
    assert "Serendipity" in titles
    assert page.locator(".snippet mark").count() >= 1
    page.locator("#q").fill("notes")
    page.locator("#q").dispatch_event("input")
    page.wait_for_function(
        "() => document.querySelector('.search-status').textContent.includes('notes')"
    )
    page.select_option("select[name=type]", "clipping")
    page.wait_for_function("() => location.search.includes('type=clipping')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.hit .hit-path')].length > 0 && [...document"
        ".querySelectorAll('.hit')].every(h => h.querySelector('.hit-type')?.textContent"
        " === 'clipping')"
    )
    assert page.locator(".hit").count() >= 1
    assert page.get_attribute("#search-announce", "aria-live") == "polite"
    page.wait_for_function(
        "() => document.getElementById('search-announce').textContent.includes('Notes 1')"
    )
    page.context.close()
    assert not problems(watched)


def test_search_works_without_javascript(sample: tuple[Served, Vault], browser: Any) -> None:
    served, _ = sample
    page, watched = open_page(served, browser, "/search", java_script_enabled=False)
    page.fill("#q", "tag:pkm")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*q=tag%3Apkm.*"))
    assert page.locator(".hit").count() >= 1
    page.context.close()
    assert not problems(watched)


def expected_count(vault: Vault, note: str | None = None) -> int:
    with Index(vault) as index:
        network = neighbourhood(index, index.note(note)) if note else vault_network(index)
    return len(network.nodes)


def test_the_whole_graph_is_drawn_then_kept(sample: tuple[Served, Vault], browser: Any) -> None:
    served, vault = sample
    layout_path(vault).unlink(missing_ok=True)
    page, watched = open_page(served, browser, "/graph")
    page.wait_for_selector("#graph[data-state=drawn]")
    assert int(page.get_attribute("#graph", "data-nodes")) == expected_count(vault)
    assert page.locator("#graph canvas").count() >= 2  # sigma's WebGL layers and labels
    page.wait_for_selector("#graph[data-layout=kept]", timeout=30_000)
    assert layout_path(vault).exists()
    page.reload()
    page.wait_for_selector("#graph[data-state=drawn]")
    assert page.get_attribute("#graph", "data-layout") == "saved"  # no worker started
    # Colour by tag, and find a note by its title.
    page.select_option("#graph-colour", "tag")
    assert "no tag" in page.inner_text("#graph-legend") or page.locator("#graph-legend li").count()
    page.fill("#graph-find-q", "serendip")
    page.press("#graph-find-q", "Enter")
    page.wait_for_selector("#graph-matches button")
    assert "Serendipity" in page.inner_text("#graph-matches")
    page.context.close()
    assert not problems(watched)


def test_a_click_on_a_note_opens_it(sample: tuple[Served, Vault], browser: Any) -> None:
    served, vault = sample
    kept = layout_path(vault).read_bytes() if layout_path(vault).exists() else None
    page, watched = open_page(served, browser, "/graph?note=" + quote("Welcome.md"))
    page.wait_for_selector("#graph[data-state=drawn]")
    assert int(page.get_attribute("#graph", "data-nodes")) == expected_count(vault, "Welcome.md")
    page.wait_for_selector("#graph[data-layout=computed]", timeout=30_000)
    # A neighbourhood is small: laid out each time, and never kept as the vault's.
    assert (layout_path(vault).read_bytes() if layout_path(vault).exists() else None) == kept
    # The text alternative lists the same notes as links.
    listed = page.locator(".graph-notes li > a:first-child").count()
    assert listed == expected_count(vault, "Welcome.md") - 1
    target = "concepts/Seek Sense Share.md"
    page.wait_for_timeout(300)  # the camera settles after the last round of the layout
    point = page.evaluate("(node) => window.knowflowGraph.at(node)", target)
    page.mouse.move(point["x"], point["y"])
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/note/" + quote(target))
    page.context.close()
    assert not problems(watched)


def test_the_tag_tree_leads_to_a_search(sample: tuple[Served, Vault], browser: Any) -> None:
    served, _ = sample
    page, watched = open_page(served, browser, "/tags")
    page.click("a[href='/search?q=tag%3Apkm']")
    page.wait_for_selector(".hit")
    assert page.input_value("#q") == "tag:pkm"
    page.context.close()
    assert not problems(watched)


@pytest.mark.parametrize("size", WIDTHS, ids=["desktop", "phone"])
def test_no_serious_accessibility_issue(
    sample: tuple[Served, Vault], browser: Any, size: dict[str, int]
) -> None:
    served, _ = sample
    context = served.signed_in(browser, viewport=size, bypass_csp=True)
    page = context.new_page()
    watched = Watched(page)
    found = {}
    for path in ("/search?q=knowledge", "/tags", "/graph", "/graph?note=Welcome.md"):
        page.goto(served.base.rstrip("/") + path)
        if path.startswith("/graph"):
            page.wait_for_selector("#graph[data-state=drawn]")
        found[path] = serious_violations(page)
    context.close()
    assert found == {path: [] for path in found}
    assert not problems(watched)


def test_graph_data_is_json_for_the_sample_vault(sample: tuple[Served, Vault]) -> None:
    import httpx

    served, vault = sample
    with httpx.Client(base_url=served.base, cookies={"knowflow_token": served.token}) as http:
        data = http.get("/graph/data.json").json()
    assert len(data["nodes"]) == expected_count(vault)
    assert json.dumps(data)  # plain JSON, nothing the page must evaluate


def test_a_word_being_typed_finds_what_it_begins(client: TestClient) -> None:
    # "Deep" is no word of any note; "Deeper" is: as in Obsidian, typing finds it.
    typed = client.get("/search", params={"q": "Deep"}, headers={"HX-Request": "true"})
    assert "sub/D.md" in typed.text and "Deep*" in typed.text
    whole = client.get("/search", params={"q": "Deeper"}, headers={"HX-Request": "true"})
    assert "sub/D.md" in whole.text and "Deeper*" not in whole.text
    ended = client.get("/search", params={"q": "Deep "}, headers={"HX-Request": "true"})
    assert "sub/D.md" not in ended.text  # a space ends the word: no prefix
