"""The bundle for a hub (checked against its schema) and the digest draft."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from knowflow import Index, NoteExists
from knowflow.share.bundle import write_bundle
from knowflow.share.digest import draft_digest

from .conftest import ROOT, cli_in

CONFIG = """\
[share]
author = "Ada"
digest_cadence = "weekly"

[audiences."team/ops"]
kind = "team"
"""
SCHEMA = json.loads((ROOT / "docs" / "bundle.schema.json").read_text())
FILES: dict[str, str | bytes] = {
    ".knowflow/config.toml": CONFIG,
    "Runbook.md": "---\nid: rb-1\nshare: team/ops\ntags: [ops]\nupdated: 2026-11-25\n---\n"
    "# Runbook\nSee [[Incident log]] and [[Secret salaries|the budget]].\n",
    "Incident log.md": "---\nshare: public\ntags: [ops, learning]\nupdated: 2026-11-24\n---\n"
    "Back to [[Runbook]].\n",
    "Secret salaries.md": "---\ntags: [ops]\nupdated: 2026-11-26\n---\nnumbers\n",
    "clippings/Blameless postmortems.md": "---\ntype: clipping\nurl: https://e.org/pm\n"
    "captured: 2026-11-23T09:00:00+00:00\ncomment: Worth copying for our reviews.\n"
    "share: team/ops\ntags: [clipping, learning]\n---\n# Blameless postmortems\ntext\n",
    "Old.md": "---\nshare: team/ops\nupdated: 2026-01-01\n---\nold news\n",
}


@pytest.fixture
def index(indexed: Callable[[dict[str, str | bytes]], Index]) -> Index:
    return indexed(FILES)


def test_bundle_matches_its_schema_and_keeps_private_notes_out(
    index: Index, tmp_path: Path
) -> None:
    out = tmp_path / "ops.json"
    write_bundle(index, "team/ops", out)
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    notes = {n["title"]: n for n in doc["notes"]}
    assert set(notes) == {"Runbook", "Incident log", "Blameless postmortems", "Old"}
    runbook = notes["Runbook"]
    assert runbook["id"] == "rb-1" and doc["author"] == {"name": "Ada"}
    assert runbook["links"] == [notes["Incident log"]["id"]]
    assert "[[Incident log]]" in runbook["markdown"]
    assert "Secret" not in out.read_text() and "the budget" in runbook["markdown"]
    again = tmp_path / "again.json"
    write_bundle(index, "team/ops", again)
    ids = [n["id"] for n in json.loads(again.read_text())["notes"]]
    assert ids == [n["id"] for n in doc["notes"]]  # stable from one bundle to the next
    public = write_bundle(index, "public", tmp_path / "public.json")
    assert [n["title"] for n in public["notes"]] == ["Incident log"]  # type: ignore[index]


def test_digest_drafts_a_private_note_grouped_by_tag(index: Index) -> None:
    now = dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC)
    digest = draft_digest(index, audience="team/ops", now=now)
    text = digest.path.read_text()
    assert digest.path.name == "Finds 2026-11-27 for team-ops.md" and digest.items == 3
    assert text.startswith("---\ntype: digest\n") and "share:" not in text  # a private draft
    assert "## learning" in text and "## ops" in text
    assert "[[clippings/Blameless postmortems|Blameless postmortems]] ([original]" in text
    assert "Worth copying for our reviews." in text
    assert "Old" not in text and "Secret" not in text
    with pytest.raises(NoteExists):
        draft_digest(index, audience="team/ops", now=now)
    index.scan()
    row = index.conn.execute(
        "SELECT type FROM files WHERE path = ?",
        (digest.path.relative_to(index.vault.root).as_posix(),),
    ).fetchone()
    assert row == ("digest",)


def test_digest_and_bundle_commands(index: Index, tmp_path: Path) -> None:
    run = cli_in(index.vault.root)
    out = json.loads(run("digest", "--since", "30d", "--json"))
    assert out["items"] == 3  # every note shared in the last 30 days, with any audience
    assert "Wrote 4 notes for team/ops" in run(
        "bundle", "--audience", "team/ops", "--out", str(tmp_path / "b.json")
    )
    run("digest", "--since", "soon", code=2)


def test_each_audience_has_its_own_digest_of_the_day(index: Index) -> None:
    run = cli_in(index.vault.root)
    folder = index.vault.root / "digests"
    day = dt.datetime.now(dt.UTC).date().isoformat()
    since = ("--since", "2026-11-01")
    everyone = json.loads(run("digest", *since, "--json"))
    assert Path(everyone["path"]).name == f"Finds {day}.md"
    ops = json.loads(run("digest", *since, "--audience", "team/ops", "--json"))
    public = json.loads(run("digest", *since, "--audience", "public", "--json"))
    assert Path(ops["path"]).name == f"Finds {day} for team-ops.md"
    assert Path(public["path"]).name == f"Finds {day} for public.md"
    assert (ops["items"], public["items"]) == (3, 1)  # Old is from January, so not in it
    drafted = {p.name: p.read_text() for p in folder.iterdir()}
    shown = json.loads(run("show", f"Finds {day} for team/ops", "--json"))
    assert shown["path"] == f"digests/Finds {day} for team-ops.md"
    # the same audience twice on one day: refused, nothing overwritten
    (folder / f"Finds {day} for team-ops.md").write_text("my edits\n")
    out = run("digest", *since, "--audience", "team/ops", code=4)
    assert f"Finds {day} for team-ops.md is already drafted" in out
    assert (folder / f"Finds {day} for team-ops.md").read_text() == "my edits\n"
    run("digest", code=4)
    assert len(list(folder.iterdir())) == 3
    # the title keeps the audience's "/", and names the note
    assert f"title: Finds {day} for team/ops" in drafted[f"Finds {day} for team-ops.md"]
    assert f"# Finds {day} for team/ops" in drafted[f"Finds {day} for team-ops.md"]


def test_audiences_that_meet_in_a_file_name_each_get_a_digest(
    indexed: Callable[[dict[str, str | bytes]], Index],
) -> None:
    config = '[audiences."team/ops"]\nkind = "team"\n[audiences."team-ops"]\nkind = "team"\n'
    index = indexed({".knowflow/config.toml": config, "a.md": "---\nshare: public\n---\n"})
    now = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    first = draft_digest(index, audience="team-ops", now=now)
    second = draft_digest(index, audience="team/ops", now=now)
    assert first.path.name == "Finds 2026-11-30 for team-ops.md"
    assert second.path.name == "Finds 2026-11-30 for team-ops (2).md"
    for audience in ("team-ops", "team/ops"):
        with pytest.raises(NoteExists):
            draft_digest(index, audience=audience, now=now)
