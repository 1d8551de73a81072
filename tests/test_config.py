"""config.toml: a setting of the wrong type is an error naming the file, line, key and what
was expected, for every command that reads it; a missing template is warned about."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from knowflow import Vault
from knowflow.cli import cli

from .conftest import fingerprint

BOOKMARKS = '<DL><p>\n<DT><A HREF="https://e.org/a">A</A>\n</DL>\n'

# (config.toml, command, the bad line, what the message must say)
CASES = [
    ("[vault]\nnew_note_folder = 42\n", ["new", "X"], 2, "[vault] new_note_folder must be"),
    ("[vault]\ntemplate = []\n", ["new", "X"], 2, "[vault] template must be a file"),
    ('[vault]\nnew_note_folder = "../out"\n', ["new", "X"], 2, "is outside the vault"),
    ('[share]\nauthor = ["a"]\n', ["publish", "--audience", "public", "--out", "SITE"], 2,
     "[share] author must be text, not ['a']"),
    ("[share]\nsite_title = 1\n", ["publish", "--audience", "public", "--out", "SITE"], 2,
     "[share] site_title must be text"),
    ("[share]\nbase_url = 3\n", ["bundle", "--audience", "public", "--out", "B"], 2,
     "[share] base_url must be an address"),
    ('[share]\ndigest_cadence = "daily"\n', ["digest"], 2,
     "digest_cadence must be one of weekly, fortnightly, monthly, not 'daily'"),
    ("[share]\ndigest_folder = false\n", ["digest"], 2, "[share] digest_folder must be"),
    ("[seek]\nclippings_folder = 42\n", ["import", "bookmarks", "MARKS"], 2,
     "[seek] clippings_folder must be"),
    ('author = "Sam"\n', ["highlights"], 1, "author must be a table"),
    ("audiences = 3\n", ["shared"], 1, "audiences must be a table"),
    ('[audiences."team/x"]\nkind = 3\n', ["audiences"], 2,
     "audience 'team/x': kind must be text, not 3"),
    ('[audiences."team/x"]\nkind = "team"\ntitle = 5\n', ["share", "a", "team/x"], 3,
     "audience 'team/x': title must be text"),
    ('[audiences]\n"team/y" = { kind = ["team"] }\n', ["unshare", "a", "team/q"], 2,
     "audience 'team/y': kind must be text"),
    ('[audiences."team/z"]\nkind = "tribe"\n', ["digest"], 2,
     "needs a kind: one of team, community, network, not 'tribe'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("config", "args", "line", "message"), CASES, ids=[c[3][:30] for c in CASES]
)
def test_a_setting_of_the_wrong_type_names_file_line_and_key(
    tmp_path: Path, config: str, args: list[str], line: int, message: str
) -> None:
    vault = Vault.init(tmp_path / "v")
    (vault.root / "a.md").write_text("---\nshare: public\n---\n# A\n")
    vault.config_path.write_text(config)
    (tmp_path / "marks.html").write_text(BOOKMARKS)
    places = {"SITE": str(tmp_path / "site"), "B": str(tmp_path / "b.json")}
    places["MARKS"] = str(tmp_path / "marks.html")
    before = fingerprint(vault.root)
    result = CliRunner().invoke(
        cli, ["--vault", str(vault.root), *[places.get(a, a) for a in args]]
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"Error: {vault.config_path}:{line}: " in result.output
    assert message in result.output
    assert fingerprint(vault.root) == before
    assert not (tmp_path / "site").exists() and not (tmp_path / "b.json").exists()


def test_check_reports_a_bad_audience_setting(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    vault.config_path.write_text('[audiences."team/x"]\nkind = 3\n')
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "check"])
    assert result.exit_code == 1
    assert f"{vault.config_path}:2: audience 'team/x': kind must be text" in result.output


def test_config_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    vault.config_path.write_bytes(b'[share]\nauthor = "\xff"\n')
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "audiences"])
    assert result.exit_code == 2 and f"{vault.config_path}: is not UTF-8" in result.output


def knowflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "knowflow", *args], capture_output=True, text=True, check=False
    )


def test_a_missing_template_is_warned_about_and_the_note_made(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    vault.config_path.write_text('[vault]\n# mine\ntemplate = "nope.md"\n')
    done = knowflow("--vault", str(vault.root), "new", "An idea")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "An idea.md"
    assert done.stderr == (
        f"Warning: {vault.config_path}:3: the template 'nope.md' does not exist"
        f" ({vault.root / 'nope.md'}); the note was made from knowflow's default template\n"
    )
    assert "# An idea" in (vault.root / "An idea.md").read_text()


def test_a_template_named_as_obsidian_names_it(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    (vault.root / "Templates").mkdir()
    (vault.root / "Templates" / "Idea.md").write_text("---\ntype: idea\n---\n# {{title}}!\n")
    vault.config_path.write_text('[vault]\ntemplate = "Templates/Idea"\n')
    done = knowflow("--vault", str(vault.root), "new", "Bold")
    assert done.returncode == 0 and done.stderr == ""
    assert (vault.root / "Bold.md").read_text() == "---\ntype: idea\n---\n# Bold!\n"


def test_the_default_template_missing_without_a_setting_is_no_warning(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    vault.config_path.write_text("")
    (vault.state_dir / "templates" / "note.md").unlink()
    done = knowflow("--vault", str(vault.root), "new", "Quiet")
    assert done.returncode == 0 and done.stderr == ""
    assert "# Quiet" in (vault.root / "Quiet.md").read_text()


def test_an_unreadable_template_is_an_error_naming_it(tmp_path: Path) -> None:
    vault = Vault.init(tmp_path / "v")
    (vault.state_dir / "templates" / "note.md").write_bytes(b"# {{title}} \xff\n")
    result = CliRunner().invoke(cli, ["--vault", str(vault.root), "new", "Broken"])
    assert result.exit_code == 2
    assert "templates/note.md: the template is not UTF-8 text" in result.output
    assert not (vault.root / "Broken.md").exists()
