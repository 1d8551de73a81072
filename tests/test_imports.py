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
    (tmp_path / "deep.json").write_text("[" * 5000 + "]" * 5000)
    result = runner.invoke(
        cli, ["--vault", str(vault.root), "import", "hypothesis", str(tmp_path / "deep.json")]
    )
    assert result.exit_code == 2 and "deep.json: not an export (arrays" in result.output


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


def _index_tags(vault: Vault) -> dict[str, set[str]]:
    from knowflow import Index

    with Index(vault) as index:
        index.scan()
        rows = index.conn.execute(
            "SELECT f.path, t.tag FROM tags t JOIN files f ON f.id = t.file_id"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for path, tag in rows:
        found.setdefault(path, set()).add(tag)
    return found


def test_bookmark_descriptions_keep_links_lines_and_lists(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "marks.html"
    path.write_text(
        "<DL><p>\n"
        "<DT><H3>Personal toolbar</H3>\n<DL><p>\n<DT><H3>Work, misc &amp; more</H3>\n<DL><p>\n"
        '<DT><A HREF="https://e.org/a" TAGS="read later,km">A page</A>\n'
        "<DD>First line of the description\n"
        'second line, with <A HREF="https://e.org/ref">a reference</A>\n'
        '- one point, <A HREF="javascript:alert(1)">not a link</A>\n'
        "- another point\n\n"
        "A second paragraph.\n"
        '<DT><A HREF="https://e.org/b">B page</A>\n'
        "</DL><p>\n</DL><p>\n</DL>\n"
    )
    marks = read_bookmarks(path)
    assert [m.url for m in marks] == ["https://e.org/a", "https://e.org/b"]  # no link of the DD
    assert marks[0].description == (
        "First line of the description\n"
        "second line, with [a reference](https://e.org/ref)\n"
        "- one point, not a link\n"
        "- another point\n\n"
        "A second paragraph."
    )
    assert marks[0].tags == ["Personal-toolbar/Work-misc-more", "read", "later", "km"]
    import_bookmarks(vault, open_state(vault), path)
    note = vault.root / "clippings" / "A page.md"
    front = _front(note)
    assert front["tags"] == ["Personal-toolbar/Work-misc-more", "read", "later", "km"]
    tags = _index_tags(vault)  # the index reads every one of them, as written
    assert tags["clippings/A page.md"] == set(front["tags"])
    assert tags["clippings/B page.md"] == {"Personal-toolbar/Work-misc-more"}


def test_a_legacy_export_without_lists_is_read(vault: Vault, tmp_path: Path) -> None:
    path = tmp_path / "old.html"
    path.write_text(
        "<TITLE>Bookmarks</TITLE>\n"
        '<DT><A HREF="https://e.org/1">One</A>\n<DD>About one\n'
        '<DT><A HREF="https://e.org/2" ADD_DATE="1700000000">Two</A>\n'
    )
    result = import_bookmarks(vault, open_state(vault), path)
    assert (result.added, result.failed) == (2, [])
    assert "About one" in (vault.root / "clippings" / "One.md").read_text()
    (tmp_path / "none.html").write_text("<DL><p><DT>no links here</DL>")
    with pytest.raises(KnowflowError, match=r"none\.html: not a bookmark file"):
        read_bookmarks(tmp_path / "none.html")


def test_titles_too_long_for_a_file_name_fit_in_bytes(vault: Vault, tmp_path: Path) -> None:
    """120 CJK characters are 360 bytes: the name is cut to fit, the title kept whole."""
    cjk = "知識の流れ" * 24
    path = tmp_path / "marks.html"
    path.write_text(
        "<DL><p>\n"
        f'<DT><A HREF="https://e.org/cjk">{cjk}</A>\n'
        f'<DT><A HREF="https://e.org/cjk2">{cjk}</A>\n'
        f'<DT><A HREF="https://e.org/long">{"word " * 80}</A>\n'
        "</DL>\n",
        encoding="utf-8",
    )
    conn = open_state(vault)
    assert import_bookmarks(vault, conn, path).added == 3
    names = sorted(p.name for p in (vault.root / "clippings").iterdir())
    assert len(names) == 3 and all(len(n.encode()) <= 255 for n in names)
    cut = [n for n in names if n.startswith("知識")]
    assert cut[0].endswith(" (2).md") or cut[1].endswith(" (2).md")
    assert {_front(vault.root / "clippings" / n)["title"] for n in cut} == {cjk}
    kindle = tmp_path / "My Clippings.txt"
    kindle.write_text(
        f"{cjk} (Someone)\n- Your Highlight on page 1 | Location 1-2 | Added on Monday\n\n"
        "A quote.\n==========\n",
        encoding="utf-8",
    )
    run = CliRunner().invoke
    args = ["--vault", str(vault.root), "import", "kindle", str(kindle), "--json"]
    first = run(cli, args, catch_exceptions=False)
    assert first.exit_code == 0 and json.loads(first.output)["added"] == 1, first.output
    assert json.loads(run(cli, args).output)["skipped"] == 1
    assert len(list((vault.root / "clippings").iterdir())) == 4  # the rerun added nothing


def test_an_import_that_fails_midway_then_runs_again_gives_one_clean_run(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after some notes were written (state.db rolled back) leaves notes the
    rerun finds under the names it gives them: no "(2)", nothing twice."""
    from knowflow.seek import imports
    from knowflow.seek.imports import import_quotes
    from knowflow.seek.readers import read_kindle

    books = "".join(
        f"Plain Book (Author {i % 3})\n- Your Highlight on page 1 | Location {i}-{i + 1}"
        f" | Added on Monday\n\nQuote {i}.\n==========\n"
        for i in range(9)
    )
    clean_vault = Vault.init(tmp_path / "clean")
    (tmp_path / "My Clippings.txt").write_text(books)
    quotes = read_kindle(tmp_path / "My Clippings.txt").quotes
    import_quotes(clean_vault, open_state(clean_vault), "kindle", quotes)
    expected = _contents(clean_vault)

    real, calls = imports.atomic_write, [0]

    def crashing(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] == 3:
            raise KeyboardInterrupt  # as a crash would, after two notes were written
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imports, "atomic_write", crashing)
    conn = open_state(vault)
    with pytest.raises(KeyboardInterrupt):
        import_quotes(vault, conn, "kindle", quotes)
    assert conn.execute("SELECT count(*) FROM imported").fetchone()[0] == 0  # rolled back
    assert len(list((vault.root / "clippings").iterdir())) == 2
    monkeypatch.setattr(imports, "atomic_write", real)
    for _ in range(2):
        again = import_quotes(vault, conn, "kindle", quotes)
        assert _contents(vault) == expected
    assert (again.added, again.skipped) == (0, 9)


def _contents(vault: Vault) -> dict[str, str]:
    """Every clipping's text but the time it was captured."""
    import re

    return {
        p.name: re.sub(r"(?m)^captured: .*\n", "", p.read_text())
        for p in sorted((vault.root / "clippings").iterdir())
    }


def test_readwise_rows_the_csv_reader_cannot_read_are_reported(
    vault: Vault, tmp_path: Path
) -> None:
    head = "Highlight,Book Title,Book Author,Amazon Book ID,Note,Color,Tags,Location Type,Location,Highlighted at,Document tags\n"
    rows = [
        '"First, fine.",Book A,Ann,,,,,,,2023-01-01 10:00:00+00:00,\n',
        f'"{"x" * 131_073}",Book B,Bob,,,,,,,,\n',
        '"Never closed,Book C,Cy,,,,,,,,\n',
        '"Fine again,\nover two lines.",Book D,Di,,,,,,,,\n',
        "Last one,Book E,Ed,,,,,,,,\n",
    ]
    path = tmp_path / "readwise.csv"
    path.write_text(head + "".join(rows))
    from knowflow.seek.readers import read_readwise

    found = read_readwise(path)
    assert [q.title for q in found.quotes] == ["Book A", "Book D", "Book E"]
    assert found.quotes[1].quote == "Fine again,\nover two lines."
    assert found.quotes[0].created == "2023-01-01T10:00:00+00:00"
    assert found.failures == [
        ("readwise.csv:3", "a field of 131,073 characters, over the 131,072 allowed"),
        (
            "readwise.csv:4",
            "not readable as CSV: a quote closes a field in the middle of it"
            " (is a quote before it unclosed?)",
        ),
    ]
    path.write_text(head + rows[0] + '"Unclosed at the end,Book F,Fy,,,,,,,,\n')
    assert read_readwise(path).failures == [
        ("readwise.csv:3", "not readable as CSV: a quoted field never closes")
    ]
    path.write_text(head + "".join(rows))
    report = CliRunner().invoke(
        cli, ["--vault", str(vault.root), "import", "readwise", str(path), "--json"]
    )
    assert report.exit_code == 0, report.output
    data = json.loads(report.output)
    assert data["added"] == 3 and [f["item"] for f in data["failed"]] == [
        "readwise.csv:3",
        "readwise.csv:4",
    ]


def test_hypothesis_records_of_unexpected_shapes(vault: Vault, tmp_path: Path) -> None:
    from knowflow.seek.readers import read_hypothesis

    good = HYPOTHESIS["rows"][0]
    rows = [
        {**good, "document": ["a list"]},
        {**good, "text": 42},
        {**good, "target": [{"source": "x", "selector": "TextQuoteSelector"}]},
        ["not", "an", "annotation"],
        {**good, "id": "obj", "target": good["target"][0]},  # one target, as an object: fine
        {**good, "uri": {"an": "object"}},
        {**good, "target": [{"selector": [{"type": "TextQuoteSelector", "exact": 3}]}]},
    ]
    path = tmp_path / "annotations.json"
    path.write_text(json.dumps({"annotations": rows}))
    found = read_hypothesis(path)
    assert [q.where for q in found.quotes] == ["annotations.json: annotation 5 (id obj)"]
    assert found.failures == [
        ("annotations.json: annotation 1", "its 'document' is a list, not an object"),
        ("annotations.json: annotation 2", "its 'text' is a number, not text"),
        ("annotations.json: annotation 3", "a selector is text, not an object"),
        ("annotations.json: annotation 4", "an annotation is an object, not a list"),
        ("annotations.json: annotation 6", "an annotation needs a 'uri' (text)"),
        ("annotations.json: annotation 7", "its selector's 'exact' is a number, not text"),
    ]
    path.write_text(json.dumps({"total": 0}))
    with pytest.raises(KnowflowError, match="expected a list of annotations"):
        read_hypothesis(path)
    path.write_text(json.dumps({"annotations": rows}))
    result = CliRunner().invoke(
        cli, ["--vault", str(vault.root), "import", "hypothesis", str(path), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["added"] == 1 and len(data["failed"]) == 6


KINDLE_TAIL = """Book One (A Writer)
- Your Highlight on page 1 | Location 10-11 | Added on Monday, March 6, 2023 9:15:32 AM

First quote.
=========
Book One (A Writer)
- Your Highlight on page 2 | Location 20-21 | Added on Monday, March 6, 2023 9:16:00 AM

Second quote, after a separator one '=' short.
==========
Book Two (B Writer)
- Your Highlight on page 3 | Location 30-31 | Added on Tuesday

Last quote, with no separator after it.
"""


def test_kindle_last_record_and_odd_separators_are_reported(tmp_path: Path) -> None:
    from knowflow.seek.readers import read_kindle

    path = tmp_path / "My Clippings.txt"
    path.write_text(KINDLE_TAIL)
    found = read_kindle(path)
    assert [q.quote for q in found.quotes] == [
        "First quote.",
        "Second quote, after a separator one '=' short.",
        "Last quote, with no separator after it.",
    ]
    assert found.quotes[0].created == "2023-03-06T09:15:32"
    assert found.failures == []
    assert found.warnings == [
        (
            "My Clippings.txt:5",
            "a separator of 9 '=' (Kindle writes 10), read as the end of a clipping",
        ),
        ("My Clippings.txt:11", "the last clipping has no '==========' after it: read as it is"),
    ]
    path.write_text(KINDLE_TAIL.rstrip("\n")[:-10])  # cut short mid-line, as mid-write
    found = read_kindle(path)
    assert len(found.quotes) == 2
    assert found.warnings[-1] == (
        "My Clippings.txt:11",
        "the last clipping is cut short mid-line (no '==========' after it): not read",
    )
    text = "Book (W)\n- Your Highlight | Location 1\n\nA line of === in a quote:\n=====\nmore\n"
    path.write_text(text + "==========\n")
    (quote,) = read_kindle(path).quotes  # a row of '=' that opens no clipping is text
    assert quote.quote == "A line of === in a quote: ===== more"


def test_a_full_disk_midway_keeps_what_was_written_and_the_rerun_finishes(
    vault: Vault, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from knowflow.errors import DiskFull
    from knowflow.seek import clippings

    lines = [f'<DT><A HREF="https://e.org/{i}">Page {i % 4}</A>' for i in range(12)]
    path = tmp_path / "marks.html"
    path.write_text("<DL><p>\n" + "\n".join(lines) + "\n</DL>\n")
    clean = Vault.init(tmp_path / "clean")
    import_bookmarks(clean, open_state(clean), path)
    real, calls = clippings.atomic_write, [0]

    def filling(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        if calls[0] > 5:
            raise DiskFull("the disk is full: a note was not written")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(clippings, "atomic_write", filling)
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "import", "bookmarks", str(path)])
    assert result.exit_code != 0 and "5 items were imported before it" in result.output
    conn = open_state(vault)
    assert conn.execute("SELECT count(*) FROM imported").fetchone()[0] == 5  # kept, with notes
    monkeypatch.setattr(clippings, "atomic_write", real)
    again = import_bookmarks(vault, conn, path)
    assert (again.added, again.skipped) == (7, 5)
    assert _contents(vault) == _contents(clean)
