"""--vault DIR and $KNOWFLOW_VAULT must name a vault: a plain folder is refused, untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from knowflow import Vault
from knowflow.cli import cli
from knowflow.errors import VaultNotFound

COMMANDS = [
    ["search", "x"],
    ["index"],
    ["new", "A note"],
    ["stream"],
    ["source", "add", "https://e.org/feed", "--no-discover"],
    ["audiences"],
    ["digest"],
]


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_folder_that_is_not_a_vault_is_refused_and_left_alone(
    tmp_path: Path, args: list[str]
) -> None:
    plain = tmp_path / "notes"
    plain.mkdir()
    (plain / "a.md").write_text("# A\n")
    code, out = invoke(["--vault", str(plain), *args])
    assert code == 3, out
    assert f"{plain} (--vault) is not a vault" in out and f"knowflow init {plain}" in out
    code, out = invoke(args, env={"KNOWFLOW_VAULT": str(plain)})
    assert code == 3 and "($KNOWFLOW_VAULT) is not a vault" in out, out
    assert sorted(p.name for p in plain.iterdir()) == ["a.md"]  # no index, no state


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    code, out = invoke(["--vault", str(tmp_path / "gone"), "search", "x"])
    assert code == 3 and "gone (--vault) does not exist" in out, out
    assert not (tmp_path / "gone").exists()


def test_init_still_makes_any_folder_a_vault(tmp_path: Path) -> None:
    plain, other = tmp_path / "plain", tmp_path / "other"
    plain.mkdir()
    (plain / "a.md").write_text("# A\nsome words\n")
    assert invoke(["init", str(plain)])[0] == 0
    assert invoke(["--vault", str(other), "init"])[0] == 0  # --vault names where to init
    assert (other / ".knowflow" / "config.toml").is_file()
    code, out = invoke(["--vault", str(plain), "search", "words"])
    assert code == 0 and "a.md" in out
    code, out = invoke(["search", "words"], env={"KNOWFLOW_VAULT": str(plain)})
    assert code == 0 and "a.md" in out


def test_the_python_api_stays_permissive(tmp_path: Path) -> None:
    """Vault(path) on any folder works (scripts index folders as they are)."""
    assert Vault(tmp_path).root == tmp_path.resolve()
    with pytest.raises(VaultNotFound, match="not a vault"):
        Vault.locate(tmp_path)
