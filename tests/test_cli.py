"""The CLI: vault discovery, every command with --json, exit codes, help and docs."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from knowflow.cli import cli

from .conftest import ROOT, write_files

FILES: dict[str, str | bytes] = {
    "Hub.md": "---\naliases: [Centre]\ntags: [pkm/hub]\n---\n# Hub\nThe hub note.",
    "a.md": "Links to [[Hub]] and [[Missing]] #pkm",
    "lonely.md": "nobody links here",
    "bad.md": "---\nx: @bad\n---\nbody",
}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "v"
    root.mkdir()
    write_files(root, FILES)
    result = CliRunner().invoke(cli, ["init", str(root)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "4 added" in result.output
    return root


def run(*args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    assert result.exit_code == code, result.output
    return result.output


def run_json(vault: Path, *args: str, code: int = 0) -> object:
    return json.loads(run("--vault", str(vault), *args, "--json", code=code))


def test_vault_from_flag_env_or_upward(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Hub.md" in run("--vault", str(vault), "search", "hub")
    assert "Hub.md" in run("search", "hub", env={"KNOWFLOW_VAULT": str(vault)})
    sub = vault / "deep" / "er"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    monkeypatch.delenv("KNOWFLOW_VAULT", raising=False)
    assert "Hub.md" in run("search", "hub")
    monkeypatch.chdir(vault.parent)
    assert "no vault" in run("search", "hub", code=3)


def test_listing_commands_print_json_with_path_and_line(vault: Path) -> None:
    hits = run_json(vault, "search", "hub")
    assert isinstance(hits, list) and hits[0]["path"] == "Hub.md"
    start, end = hits[0]["matches"][0]
    assert hits[0]["snippet"][start:end].lower() == "hub"
    backs = run_json(vault, "backlinks", "Centre")
    assert backs == [
        {
            "path": "a.md",
            "line": 1,
            "kind": "wikilink",
            "target": "Hub",
            "subpath": "",
            "status": "resolved",
            "resolved": "Hub.md",
            "text": "Links to [[Hub]] and [[Missing]] #pkm",
        }
    ]
    links = run_json(vault, "links", "a.md")
    assert [(x["path"], x["line"], x["target"], x["resolved"]) for x in links] == [
        ("a.md", 1, "Hub", "Hub.md"),
        ("a.md", 1, "Missing", None),
    ]
    tags = run_json(vault, "tags")
    assert [(t["path"], t["count"]) for t in tags] == [("pkm", 2), ("pkm/hub", 1)]
    assert run_json(vault, "orphans") == [
        {"path": "bad.md", "title": "bad"},
        {"path": "lonely.md", "title": "lonely"},
    ]
    shown = run_json(vault, "show", "hub")
    assert shown["path"] == "Hub.md" and shown["backlinks"][0]["path"] == "a.md"


def test_check_json_and_exit_code(vault: Path) -> None:
    found = run_json(vault, "check", code=1)
    assert [(f["kind"], f["path"], f["line"], f.get("target")) for f in found] == [
        ("unresolved-link", "a.md", 1, "Missing"),
        ("malformed-front-matter", "bad.md", 2, None),
    ]
    (vault / "bad.md").write_text("fixed")
    (vault / "Missing.md").write_text("now exists")
    assert run_json(vault, "check") == []


def test_index_and_rebuild(vault: Path) -> None:
    report = run_json(vault, "index")
    assert report["unchanged"] == 4 and report["notes"] == 4
    report = run_json(vault, "index", "--rebuild")
    assert report["added"] == 4
    assert "4 notes indexed" in run("--vault", str(vault), "index")


def test_search_without_results_exits_1(vault: Path) -> None:
    assert run_json(vault, "search", "zebra", code=1) == []


def test_unknown_note_exits_3_and_ambiguous_lists_paths(vault: Path) -> None:
    out = run("--vault", str(vault), "show", "Nope", code=3)
    assert "no note named 'Nope'" in out
    for folder in ("x", "y"):
        (vault / folder).mkdir()
        (vault / folder / "Twin.md").write_text("twin")
    out = run("--vault", str(vault), "backlinks", "Twin", code=3)
    assert "x/Twin.md" in out and "y/Twin.md" in out
    # a vault path always names one note
    assert run_json(vault, "backlinks", "x/Twin") == []


def test_new_note_is_created_once(vault: Path) -> None:
    assert run("--vault", str(vault), "new", "Fresh idea").strip() == "Fresh idea.md"
    assert (vault / "Fresh idea.md").read_text().count("# Fresh idea") == 1
    assert "already exists" in run("--vault", str(vault), "new", "Fresh idea", code=4)
    assert run_json(vault, "search", "title:x OR fresh")[0]["path"] == "Fresh idea.md"


def test_no_scan_uses_index_as_is(vault: Path) -> None:
    (vault / "later.md").write_text("unseen words")
    run("--vault", str(vault), "--no-scan", "search", "unseen", code=1)
    assert "later.md" in run("--vault", str(vault), "search", "unseen")


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        assert command is not None, name
        out.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            out.extend(_commands(command, f"{prefix}{name} "))
    return out


@pytest.mark.parametrize("name", [n for n, _ in _commands(cli)])
def test_every_command_has_help_and_docs(name: str) -> None:
    out = run(*name.split(), "--help")
    assert "Usage:" in out and len(out.splitlines()) > 3
    readme = (ROOT / "README.md").read_text()
    assert f"knowflow {name}" in readme, f"README does not document `knowflow {name}`"


# What a command that only looks something up must not load: each costs tens of
# milliseconds at start, and one search as a command should take well under 0.1 s.
HEAVY = ("httpx", "feedparser", "lxml", "markdown_it", "nh3", "trafilatura", "yaml")


@pytest.mark.parametrize(
    "args", [["--no-scan", "search", "hub"], ["search", "hub"], ["links", "a"]]
)
def test_lookups_load_no_network_parsing_or_rendering_library(vault: Path, args: list[str]) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from knowflow.cli import cli\n"
        "try:\n"
        "    cli(sys.argv[1:])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--vault", str(vault), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(done.stdout.split("\n")[-2].split())
    assert not [m for m in HEAVY if m in loaded], sorted(m for m in HEAVY if m in loaded)
    assert "knowflow.cli.seek" not in loaded and "knowflow.share" not in loaded


def test_search_takes_the_query_as_typed(vault: Path) -> None:
    (vault / "sync.md").write_text("Callout about syncing notes")
    (vault / "plain.md").write_text("Callout alone")
    shown = run("--vault", str(vault), "search", "callout", "-sync")
    assert shown.splitlines()[0] == "plain.md" and "sync" not in shown
    found = run_json(vault, "search", "callout", "-sync", "-n", "5")
    assert [h["path"] for h in found] == ["plain.md"]
    assert [h["path"] for h in run_json(vault, "search", "--limit=1", "callout")] != []
    assert "x>=1" in run("--vault", str(vault), "search", "hub", "-n", "-1", code=2)


def test_search_shows_the_closest_notes_with_what_they_lack(vault: Path) -> None:
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", "hub", "zebra"])
    assert result.exit_code == 0
    assert "No note holds all of the words" in result.stderr
    assert "Hub.md  (without: zebra)" in result.stdout
    found = run_json(vault, "search", "hub", "zebra")
    assert found[0]["path"] == "Hub.md" and found[0]["missing"] == ["zebra"]
    snippet = found[0]["snippet"]
    assert all(snippet[a:b].lower() == "hub" for a, b in found[0]["matches"])
    assert "**" not in snippet
    run("--vault", str(vault), "search", "zebra", code=1)


def test_search_says_when_more_match_and_when_none_does(vault: Path) -> None:
    for n in range(4):
        (vault / f"more{n}.md").write_text("plenty of words")
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", "plenty", "-n", "2"])
    assert result.stdout.count(".md") == 2 and "More notes match; -n 10" in result.stderr
    result = CliRunner().invoke(cli, ["--vault", str(vault), "search", "nowhere"])
    assert result.exit_code == 1 and "No note matches 'nowhere'" in result.stderr
