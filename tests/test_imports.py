"""Importers: files other tools export, brought in as private clipping notes, once."""
# ruff: noqa: E501 - the sample files keep their real, long lines

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from knowflow import KnowflowError, Vault
from knowflow.cli import cli
from knowflow.seek import open_state
from knowflow.seek.imports import import_bookmarks, read_bookmarks

NETSCAPE = """<!DOCTYPE NETSCAPE-Bookmark-file-1>
<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">
<TITLE>Bookmarks</TITLE>
<H1>Bookmarks</H1>
<DL><p>
    <DT><H3 ADD_DATE="1700000000">Reading</H3>
    <DL><p>
        <DT><H3>KM &amp; PKM</H3>
        <DL><p>
            <DT><A HREF="https://example.org/seek-sense-share" ADD_DATE="1700000001">Seek &gt; Sense &gt; Share</A>
            <DD>The loop, explained.
        </DL><p>
        <DT><A HREF="https://example.org/wol" ADD_DATE="1700000002" PRIVATE="1" TAGS="work,wol">Working out loud</A>
    </DL><p>
    <DT><A HREF="https://example.org/cop" PRIVATE="0" TAGS="community">Communities of practice</A>
    <DT><A HREF="javascript:alert(1)">A bookmarklet</A>
</DL><p>
"""


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault.init(tmp_path / "v")


def test_read_netscape_folders_tags_and_descriptions(tmp_path: Path) -> None:
    path = tmp_path / "bookmarks.html"
    path.write_text(NETSCAPE)
    marks = {m.title: m for m in read_bookmarks(path)}
    assert marks["Seek > Sense > Share"].tags == ["Reading/KM & PKM"]
    assert marks["Seek > Sense > Share"].description == "The loop, explained."
    assert marks["Seek > Sense > Share"].added == "2023-11-14T22:13:21+00:00"
    assert marks["Working out loud"].tags == ["Reading", "work", "wol"]
    assert marks["Working out loud"].private
    assert marks["Communities of practice"].tags == ["community"]


def test_import_is_idempotent_and_private(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "bookmarks.html"
    path.write_text(NETSCAPE)
    conn = open_state(vault)
    first = import_bookmarks(vault, conn, path)
    assert (first.added, first.skipped) == (3, 0)
    assert first.failed == [("bookmarks.html:16", "not a web address: javascript:alert(1)")]
    second = import_bookmarks(vault, conn, path)
    assert (second.added, second.skipped, len(second.failed)) == (0, 3, 1)
    notes = sorted((vault.root / "clippings").iterdir())
    assert len(notes) == 3
    for note in notes:
        front = yaml.safe_load(note.read_text().split("---")[1])
        assert front["type"] == "clipping" and front["share"] == "private"
    text = (vault.root / "clippings" / "Seek   Sense   Share.md").read_text()
    assert "The loop, explained." in text and "url: https://example.org/seek-sense-share" in text


def test_malformed_file_is_a_clear_error(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some text, no bookmarks")
    with pytest.raises(KnowflowError, match="not a bookmark file"):
        import_bookmarks(vault, open_state(vault), path)
    assert not (vault.root / "clippings").exists()


def test_import_command_on_a_large_file(vault: Vault, tmp_path: Path) -> None:
    lines = [
        f'<DT><A HREF="https://e.org/{i}" ADD_DATE="1700000000" TAGS="t{i % 7}">Page {i}</A>'
        for i in range(2_000)
    ]
    path = tmp_path / "big.html"
    path.write_text("<!DOCTYPE NETSCAPE-Bookmark-file-1>\n<DL><p>\n" + "\n".join(lines) + "\n</DL>")
    result = CliRunner().invoke(
        cli,
        ["--vault", str(vault.root), "import", "bookmarks", str(path), "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["added"] == 2_000
    assert len(list((vault.root / "clippings").iterdir())) == 2_000
