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
    assert marks["Seek > Sense > Share"].tags == ["Reading/KM-PKM"]  # a tag holds no spaces
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


KINDLE = """\ufeffThe Knowledge Gardener (Ada Lovelace)
- Your Highlight on page 12 | Location 150-152 | Added on Monday, March 6, 2023 9:15:32 AM

Knowledge grows where it is tended.
==========
The Knowledge Gardener (Ada Lovelace)
- Your Note on page 12 | Location 152 | Added on Monday, March 6, 2023 9:16:00 AM

Use this in the onboarding talk.
==========
The Knowledge Gardener (Ada Lovelace)
- Your Bookmark on page 20 | Location 300 | Added on Monday, March 6, 2023 9:20:00 AM


==========
Das Wissensnetz (Grete Muster)
- Ihre Markierung bei Position 88-90 | Hinzugefügt am Montag, 6. März 2023 09:15:32

Wissen fließt entlang von Vertrauen.
==========
Broken record without details
==========
"""


def test_kindle_english_and_german_with_a_broken_record(vault: Vault, tmp_path: Path) -> None:
    from knowflow.seek.imports import import_quotes
    from knowflow.seek.readers import read_kindle

    path = tmp_path / "My Clippings.txt"
    path.write_text(KINDLE)
    quotes, failures, warnings = read_kindle(path)
    assert [(q.title, q.author, q.quote, q.comment) for q in quotes] == [
        (
            "The Knowledge Gardener",
            "Ada Lovelace",
            "Knowledge grows where it is tended.",
            "Use this in the onboarding talk.",
        ),
        ("Das Wissensnetz", "Grete Muster", "Wissen fließt entlang von Vertrauen.", None),
    ]
    assert failures == [
        ("My Clippings.txt:21", "a clipping needs a title line and a '- ...' details line")
    ]
    assert warnings == []
    conn = open_state(vault)
    result = import_quotes(vault, conn, "kindle", quotes)
    assert (result.added, result.skipped) == (2, 0)
    note = (vault.root / "clippings" / "The Knowledge Gardener.md").read_text()
    assert "author: Ada Lovelace" in note and "> Knowledge grows where it is tended." in note
    assert "> Use this in the onboarding talk." in note
    path.write_text(
        KINDLE.replace(
            "==========\nBroken",
            "==========\nThe Knowledge Gardener (Ada Lovelace)\n"
            "- Your Highlight on page 30 | Location 400-401 | Added on Tuesday\n\n"
            "A second highlight.\n==========\nBroken",
        )
    )
    again = import_quotes(vault, conn, "kindle", read_kindle(path)[0])
    assert (again.added, again.skipped) == (1, 2)
    note = (vault.root / "clippings" / "The Knowledge Gardener.md").read_text()
    assert note.count("[!quote] Highlight") == 2  # added to the same book's note
    assert len(list((vault.root / "clippings").iterdir())) == 2


READWISE = """Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location,Highlighted at,Document tags
"Share to inspire, not to report.",Working Out Loud,John Stepper,,My favourite line,yellow,,location,10,2023-01-01 10:00:00+00:00,
,Missing Text,Someone,,,,,,,,
"""

HYPOTHESIS = {
    "rows": [
        {
            "uri": "https://example.org/cop",
            "text": "Ties to our meetup.",
            "document": {"title": ["Communities of practice"]},
            "target": [
                {
                    "source": "https://example.org/cop",
                    "selector": [
                        {"type": "TextPositionSelector", "start": 1, "end": 5},
                        {"type": "TextQuoteSelector", "exact": "learn how to do it better"},
                    ],
                }
            ],
        },
        {"uri": "https://example.org/cop", "text": "A page note.", "target": [{"source": "x"}]},
        {"text": "no uri"},
    ]
}


def test_readwise_and_hypothesis(vault: Vault, tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "readwise.csv").write_text(READWISE)
    (tmp_path / "hypothesis.json").write_text(json.dumps(HYPOTHESIS))
    (tmp_path / "bad.json").write_text("{not json")

    def run(*args: str, code: int = 0) -> dict[str, object]:
        result = runner.invoke(
            cli, ["--vault", str(vault.root), *args, "--json"], catch_exceptions=False
        )
        assert result.exit_code == code, result.output
        return json.loads(result.output) if code == 0 else {}

    report = run("import", "readwise", str(tmp_path / "readwise.csv"))
    assert report["added"] == 1 and report["failed"][0]["item"] == "readwise.csv:3"  # type: ignore[index]
    note = (vault.root / "clippings" / "Working Out Loud.md").read_text()
    assert "> Share to inspire, not to report." in note and "> My favourite line" in note
    report = run("import", "hypothesis", str(tmp_path / "hypothesis.json"))
    assert report["added"] == 2 and len(report["failed"]) == 1  # type: ignore[arg-type]
    note = (vault.root / "clippings" / "Communities of practice.md").read_text()
    assert "url: https://example.org/cop" in note and "> learn how to do it better" in note
    assert run("import", "hypothesis", str(tmp_path / "hypothesis.json"))["skipped"] == 2
    result = runner.invoke(
        cli, ["--vault", str(vault.root), "import", "hypothesis", str(tmp_path / "bad.json")]
    )
    assert result.exit_code == 2 and "bad.json:1: not JSON" in result.output


def _front(note: Path) -> dict[str, object]:
    front = yaml.safe_load(note.read_text().split("---")[1])
    assert isinstance(front, dict)
    return front


def test_clippings_leave_out_keys_without_a_value(vault: Vault, tmp_path: Path) -> None:
    """No `author: null` or `published: null`: a key without a value is not written."""
    marks = tmp_path / "marks.html"
    marks.write_text('<DL><p>\n<DT><A HREF="https://e.org/undated">Undated</A>\n</DL>')
    (tmp_path / "hypothesis.json").write_text(json.dumps(HYPOTHESIS))
    run = CliRunner().invoke
    for args in (["bookmarks", str(marks)], ["hypothesis", str(tmp_path / "hypothesis.json")]):
        result = run(cli, ["--vault", str(vault.root), "import", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    for name in ("Undated.md", "Communities of practice.md"):
        text = (vault.root / "clippings" / name).read_text()
        assert "null" not in text, text
        front = _front(vault.root / "clippings" / name)
        assert "author" not in front and "published" not in front
        assert front["type"] == "clipping" and front["url"]


def test_an_existing_clipping_with_nulls_is_not_rewritten(vault: Vault, tmp_path: Path) -> None:
    from knowflow.seek.imports import import_quotes
    from knowflow.seek.readers import read_kindle

    path = tmp_path / "My Clippings.txt"
    path.write_text(KINDLE)
    conn = open_state(vault)
    import_quotes(vault, conn, "kindle", read_kindle(path)[0])
    note = vault.root / "clippings" / "The Knowledge Gardener.md"
    # as an older knowflow wrote it
    old = note.read_text().replace("type: clipping\n", "type: clipping\npublished: null\n", 1)
    note.write_text(old)
    later = (
        "The Knowledge Gardener (Ada Lovelace)\n- Your Highlight on page 40 | Location 500-501"
        " | Added on Tuesday\n\nA later highlight.\n==========\n"
    )
    path.write_text(KINDLE + later)
    again = import_quotes(vault, conn, "kindle", read_kindle(path)[0])
    assert again.added == 1
    text = note.read_text()
    assert text.startswith(old.rstrip("\n")) and "A later highlight." in text
