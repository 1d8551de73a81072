"""A title a file name cannot hold (`/`, `:`) stays findable, through front-matter `title:`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from knowflow import Index, Vault
from knowflow.cli import cli
from knowflow.errors import AmbiguousNote, NoteNotFound

from .conftest import cli_in

TITLE = "What/Why: a note?"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return Vault.init(tmp_path / "v").root


def front(path: Path) -> dict[str, object]:
    data = yaml.safe_load(path.read_text().split("---")[1])
    assert isinstance(data, dict)
    return data


def test_new_keeps_the_title_and_every_command_finds_it(root: Path) -> None:
    run = cli_in(root, strip=True)
    assert run("new", TITLE) == "What Why  a note.md"
    note = root / "What Why  a note.md"
    assert front(note)["title"] == TITLE and f"# {TITLE}" in note.read_text()
    (root / "other.md").write_text("See [[What Why  a note]].\n")
    shown = json.loads(run("show", TITLE, "--json"))
    assert shown["path"] == "What Why  a note.md" and len(shown["backlinks"]) == 1
    assert json.loads(run("backlinks", "what/why: A NOTE?", "--json"))[0]["path"] == "other.md"
    assert json.loads(run("links", TITLE, "--json")) == []
    assert json.loads(run("share", TITLE, "public", "--json"))["after"] == ["public"]
    assert json.loads(run("unshare", TITLE, "--json"))["after"] == []


def test_a_plain_title_gets_no_title_key(root: Path) -> None:
    cli_in(root)("new", "Plain idea")
    assert "title" not in front(root / "Plain idea.md")


def test_title_comes_after_path_name_and_alias(root: Path) -> None:
    (root / "Plan.md").write_text("# Plan\n")
    (root / "a.md").write_text("---\ntitle: Plan\n---\nthe titled one\n")
    (root / "b.md").write_text("---\ntitle: 'Q3: goals'\n---\n")
    (root / "c.md").write_text("---\ntitle: 'q3: GOALS'\naliases: [Roadmap]\n---\n")
    (root / "d.md").write_text("---\ntitle: 42\n---\n")
    with Index(Vault(root)) as index:
        index.scan()
        assert index.note("Plan").path == "Plan.md"  # the file name wins
        assert index.note("Roadmap").path == "c.md"
        with pytest.raises(AmbiguousNote) as ambiguous:
            index.note("Q3: Goals")
        assert ambiguous.value.paths == ["b.md", "c.md"]
        with pytest.raises(NoteNotFound):
            index.note("42")  # a title that is not text is no title
        with pytest.raises(NoteNotFound):
            index.note("Nothing: at all")


def test_templates_with_their_own_title_or_without_front_matter(root: Path) -> None:
    templates = root / ".knowflow" / "templates"
    (templates / "note.md").write_text('---\ntitle: "{{title}}"\n---\n# {{title}}\n')
    run = cli_in(root, strip=True)
    run("new", "A/B")
    assert (root / "A B.md").read_text().count("title:") == 1
    assert front(root / "A B.md")["title"] == "A/B"
    (templates / "note.md").write_text("---\ntitle: {{title}}\n---\n")  # unquoted
    run("new", "E: F")  # makes YAML it cannot read; still no second title: key
    assert (root / "E  F.md").read_text() == "---\ntitle: E: F\n---\n"
    (templates / "note.md").write_text("# {{title}}\n")
    run("new", "C: D")
    assert front(root / "C  D.md") == {"title": "C: D"}
    assert (root / "C  D.md").read_text().endswith("---\n# C: D\n")
    result = CliRunner().invoke(cli, ["--vault", str(root), "show", "C: D"])
    assert result.exit_code == 0 and "# C: D" in result.output
