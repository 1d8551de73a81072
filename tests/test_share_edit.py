"""share / unshare: only the share: front matter changes, atomically and safely."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowflow import ConflictError, KnowflowError
from knowflow.errors import AudienceNotFound
from knowflow.share.edit import share_note, unshare_note
from knowflow.vault import Vault

from .conftest import MakeVault, cli_in

CONFIG = """\
[audiences."team/platform"]
kind = "team"

[audiences."community/km"]
kind = "community"
"""


@pytest.fixture
def vault(make_vault: MakeVault) -> Vault:
    return make_vault({".knowflow/config.toml": CONFIG})


def write(vault: Vault, name: str, text: str, newline: str = "\n") -> Path:
    path = vault.root / name
    path.write_bytes(text.replace("\n", newline).encode())
    return path


def test_sharing_adds_one_line_and_unsharing_restores_the_file(vault: Vault) -> None:
    original = "---\n# my comment stays\ntitle: 'Quoted: yes'\ntags: [a, b]\n---\nBody [[x]]\n"
    path = write(vault, "n.md", original)
    change = share_note(vault, path, ["team/platform"])
    assert change.before == [] and change.after == ["team/platform"]
    text = path.read_text()
    assert text == original.replace("tags: [a, b]\n", "tags: [a, b]\nshare: team/platform\n")
    share_note(vault, path, ["public"])
    assert "share: [team/platform, public]\n" in path.read_text()
    assert unshare_note(vault, path, ["team/platform"]).after == ["public"]
    assert "share: public\n" in path.read_text()
    unshare_note(vault, path)
    assert path.read_text() == original


def test_block_lists_crlf_and_notes_without_front_matter(vault: Vault) -> None:
    block = write(vault, "b.md", "---\nshare:\n  - community/km\ntype: note\n---\nText\n", "\r\n")
    share_note(vault, block, ["public"])
    assert block.read_bytes() == (
        b"---\r\nshare:\r\n  - community/km\r\n  - public\r\ntype: note\r\n---\r\nText\r\n"
    )
    bare = write(vault, "bare.md", "# Just text\n\nshare: this is body text\n")
    share_note(vault, bare, ["public"])
    assert bare.read_text() == "---\nshare: public\n---\n# Just text\n\nshare: this is body text\n"
    unshare_note(vault, bare)
    assert bare.read_text() == "# Just text\n\nshare: this is body text\n"


def test_refusals_leave_the_file_alone(vault: Vault) -> None:
    path = write(vault, "n.md", "---\ntags: [a]\n---\nBody\n")
    with pytest.raises(AudienceNotFound, match="team/platform"):
        share_note(vault, path, ["team/unknown"])
    broken = write(vault, "broken.md", "---\ntags: [a\n---\nBody\n")
    with pytest.raises(KnowflowError, match="front matter"):
        share_note(vault, broken, ["public"])
    assert broken.read_text() == "---\ntags: [a\n---\nBody\n"
    assert path.read_text() == "---\ntags: [a]\n---\nBody\n"


def test_a_file_changed_meanwhile_is_not_overwritten(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(vault, "n.md", "---\ntags: [a]\n---\nBody\n")
    import knowflow.share.edit as edit

    real = edit._with_share

    def edited_meanwhile(text: str, names: list[str], **kw: bool) -> str:
        path.write_text("---\ntags: [a]\n---\nBody edited in Obsidian\n")
        return real(text, names, **kw)

    monkeypatch.setattr(edit, "_with_share", edited_meanwhile)
    with pytest.raises(ConflictError):
        share_note(vault, path, ["public"])
    assert path.read_text() == "---\ntags: [a]\n---\nBody edited in Obsidian\n"


def test_cli_share_unshare_and_shared(vault: Vault) -> None:
    write(vault, "Plan.md", "---\ntags: [a]\n---\nBody\n")
    run = cli_in(vault.root)
    assert "shared with team/platform" in run("share", "Plan", "team/platform")
    shared = run("shared", "--audience", "team/platform", "--json")
    assert '"path": "Plan.md"' in shared
    assert run("shared", "--audience", "public", "--json").strip() == "[]"
    run("share", "Plan", "nobody/here", code=3)
    assert "private" in run("unshare", "Plan")
    assert run("audiences").split("\n")[0].startswith("public\tnetwork")


def test_unshare_refuses_an_audience_config_does_not_define(vault: Vault) -> None:
    text = "---\nshare: [team/platform, team/gone]\n---\nBody\n"
    path = write(vault, "Plan.md", text)
    run = cli_in(vault.root)
    out = run("unshare", "Plan", "nobody", code=3)
    assert "no audience 'nobody' in config.toml" in out
    assert "defined: community/km, public, team/platform" in out
    run("unshare", "Plan", "team/platform", "nobody", code=3)  # all or nothing
    assert path.read_text() == text
    with pytest.raises(AudienceNotFound):
        unshare_note(vault, path, ["team/platfrom"])
    # an audience the note names but config.toml no longer defines can still be taken off
    assert "shared with team/platform" in run("unshare", "Plan", "team/gone")
    # private (nothing to take off) and public (always defined) are fine
    assert "unchanged (team/platform)" in run("unshare", "Plan", "private", "public")
    assert path.read_text() == "---\nshare: team/platform\n---\nBody\n"
