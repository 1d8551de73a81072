"""Highlights appended to clipping notes, and exported as W3C Web Annotations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowflow import ConflictError, KnowflowError, Vault
from knowflow.seek.highlights import add_highlight, highlights
from knowflow.vault.files import FileStamp

from .conftest import cli_in

CLIP = """---
type: clipping
url: https://example.org/why-wikis-fail
share: private
---
# Why wikis fail

Central wikis fail when nobody owns the pages.
Contributions come from people's own practice, not from mandates.
"""


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    vault = Vault.init(tmp_path / "v")
    path = vault.root / "clippings" / "Why wikis fail.md"
    path.parent.mkdir()
    path.write_text(CLIP)
    return path


def test_highlight_appends_a_callout_once(clip: Path) -> None:
    first = add_highlight(clip, "nobody owns  the pages", comment="Matches our meetup.")
    again = add_highlight(clip, "nobody owns the pages")
    assert again.id == first.id
    text = clip.read_text()
    assert text.startswith(CLIP.rstrip("\n"))  # nothing before it changed
    assert text.count("[!quote] Highlight") == 1
    assert (
        f"> [!quote] Highlight ^{first.id}\n> nobody owns the pages\n>\n> Matches our meetup.\n"
        in text
    )
    add_highlight(clip, "not from mandates")
    assert [(h.quote, h.comment) for h in highlights(clip.read_text())] == [
        ("nobody owns the pages", "Matches our meetup."),
        ("not from mandates", None),
    ]
    with pytest.raises(KnowflowError, match="does not contain"):
        add_highlight(clip, "words that are not there")


def test_highlight_refuses_a_note_changed_meanwhile(
    clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = FileStamp.of

    def stale(path: Path) -> FileStamp:
        stamp = real(path)
        path.write_text(path.read_text() + "\nEdited in another app.\n")
        return stamp

    monkeypatch.setattr(FileStamp, "of", staticmethod(stale))
    with pytest.raises(ConflictError):
        add_highlight(clip, "not from mandates")
    assert clip.read_text().endswith("Edited in another app.\n")


def test_export_as_web_annotations(clip: Path) -> None:
    root = clip.parent.parent

    run = cli_in(root)

    assert run(
        "highlight", "Why wikis fail", "nobody owns the pages", "--comment", "Yes."
    ).startswith("clippings/Why wikis fail.md#^hl-")
    doc = json.loads(run("highlights"))
    assert doc["@context"] == "http://www.w3.org/ns/anno.jsonld"
    assert doc["type"] == "AnnotationCollection" and doc["total"] == 1
    (item,) = doc["first"]["items"]
    assert item["type"] == "Annotation" and item["motivation"] == "commenting"
    assert item["target"] == {
        "source": "https://example.org/why-wikis-fail",
        "selector": {
            "type": "TextQuoteSelector",
            "exact": "nobody owns the pages",
            "prefix": "s fail\n\nCentral wikis fail when ",  # 32 characters each side
            "suffix": ".\nContributions come from people",
        },
    }
    assert item["body"]["value"] == "Yes." and item["body"]["type"] == "TextualBody"


SCHEMA_PATH = Path(__file__).parent.parent / "docs" / "web-annotation.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text())


def validate(doc: object) -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft202012Validator)


HYPOTHESIS_ROW = {
    "id": "abc",
    "created": "2024-03-01T12:30:00.123456+00:00",
    "uri": "https://example.org/a page",
    "text": "My *comment*.",
    "document": {"title": ["A page"]},
    "target": [
        {
            "source": "https://example.org/a page",
            "selector": [
                {
                    "type": "TextQuoteSelector",
                    "exact": " learn how\n  to do it better ",
                    "prefix": "where people ",
                    "suffix": ", together.",
                }
            ],
        }
    ],
}


def test_highlights_validate_as_a_web_annotation_collection(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    config = vault.root / ".knowflow" / "config.toml"
    config.write_text(config.read_text() + '\n[share]\nauthor = "Sam Example"\n')
    folder = vault.root / "my clippings"
    folder.mkdir()
    (folder / "Why wikis fail.md").write_text(
        CLIP.replace("why-wikis-fail", "why wikis fail").replace("owns the", "owns\nthe")
    )
    run = cli_in(vault.root)
    doc = json.loads(run("highlights"))
    assert doc["total"] == 0 and "first" not in doc  # no page when there is nothing
    validate(doc)
    run("highlight", "Why wikis fail", "NOBODY owns  the pages", "--comment", "Yes.")
    (tmp_path / "h.json").write_text(json.dumps([HYPOTHESIS_ROW]))
    run("import", "hypothesis", str(tmp_path / "h.json"))
    doc = json.loads(run("highlights"))
    validate(doc)
    assert doc["id"] and doc["total"] == 2
    page = doc["first"]
    assert page["type"] == "AnnotationPage" and page["partOf"] == doc["id"]
    imported, added = page["items"]  # clippings/ before "my clippings/"
    assert added["id"].startswith("urn:knowflow:my%20clippings/Why%20wikis%20fail.md#hl-")
    assert added["target"]["source"] == "https://example.org/why%20wikis%20fail"
    assert added["target"]["selector"] == {
        "type": "TextQuoteSelector",
        "exact": "nobody owns\nthe pages",  # as the note writes it
        "prefix": "s fail\n\nCentral wikis fail when ",
        "suffix": ".\nContributions come from people",
    }
    assert added["creator"] == {"type": "Person", "name": "Sam Example"}
    assert added["created"] >= "2024"
    assert imported["target"] == {
        "source": "https://example.org/a%20page",
        "selector": {
            "type": "TextQuoteSelector",
            "exact": " learn how\n  to do it better ",
            "prefix": "where people ",
            "suffix": ", together.",
        },
    }
    assert imported["created"] == "2024-03-01T12:30:00+00:00"
    assert imported["body"]["value"] == "My *comment*."
    note = (vault.root / "clippings" / "A page.md").read_text()
    assert "> learn how to do it better\n" in note  # shown on one line


def test_the_schema_is_not_a_formality() -> None:
    import jsonschema

    good = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "id": "urn:x:c",
        "type": "AnnotationCollection",
        "total": 1,
        "first": {
            "type": "AnnotationPage",
            "items": [
                {
                    "id": "urn:x:a",
                    "type": "Annotation",
                    "target": {
                        "source": "https://e.org/a",
                        "selector": {"type": "TextQuoteSelector", "exact": "x"},
                    },
                }
            ],
        },
    }
    validate(good)
    bad = [
        {k: v for k, v in good.items() if k != "first"},  # total 1, and no page
        {**good, "id": "urn:knowflow:a note.md"},
        {**good, "id": "urn:knowflow:100%.md"},
        {**good, "first": {**good["first"], "items": [{"id": "urn:x:a", "type": "Annotation"}]}},
    ]
    for doc in bad:
        with pytest.raises(jsonschema.ValidationError):
            validate(doc)


def test_a_highlight_of_a_hostile_quote_and_comment_reads_back(clip: Path) -> None:
    clip.write_text(clip.read_text() + "\nSee [the <b>page</b>](javascript:alert(1)) now.\n")
    h = add_highlight(clip, "See [the <b>page</b>](javascript:alert(1))", "%%{}%% <i>x</i>")
    text = clip.read_text()
    callout = text.split("[!quote]")[1]
    assert "> See \\[the &lt;b>page&lt;/b>\\](javascript:alert(1))\n" in callout
    assert "<i>" not in text and "\n> \\%%{}%%" in callout  # no false hidden line
    (back,) = highlights(text)
    assert back.quote == "See [the <b>page</b>](javascript:alert(1))"  # the words, as text
    assert back.comment == "%%{}%% &lt;i>x&lt;/i>" and back.id == h.id
