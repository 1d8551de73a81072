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
