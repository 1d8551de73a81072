"""The audience gate and the check of share: values."""

from __future__ import annotations

from collections.abc import Callable

from knowflow import Index
from knowflow.share import Gate, audience, may_see
from knowflow.share.audiences import Audience
from knowflow.share.check import check_shares

from .conftest import cli_in

CONFIG = """\
[audiences."team/platform"]
kind = "team"

[audiences.friends]
kind = "community"
title = "Friends"
"""
TEAM = Audience("team/platform", "team", "team/platform")
DEFINED = {"public", "team/platform", "friends"}


def test_may_see() -> None:
    assert may_see(TEAM, ["team/platform"], DEFINED)
    assert may_see(TEAM, ["public"], DEFINED)  # public is everyone
    assert not may_see(TEAM, ["friends"], DEFINED)
    assert not may_see(TEAM, [], DEFINED)  # no share: is private
    assert not may_see(TEAM, ["private"], DEFINED | {"private"})
    assert not may_see(TEAM, ["team/platform"], {"public"})  # undefined: private


def test_gate_sees_shared_notes_and_the_attachments_they_use(
    indexed: Callable[[dict[str, str | bytes]], Index],
) -> None:
    index = indexed(
        {
            ".knowflow/config.toml": CONFIG,
            "a.md": "---\nshare: team/platform\n---\n![[pic.png]] [[b]]\n",
            "b.md": "---\nshare: [friends, team/typo]\n---\n![[secret.png]]\n",
            "c.md": "---\nshare: public\n---\nopen\n",
            "d.md": "---\nshare: private\n---\nmine\n",
            "pic.png": b"\x89PNG",
            "secret.png": b"\x89PNG",
        }
    )
    gate = Gate.build(index, audience(index.vault, "team/platform"))
    assert gate.notes == {"a.md", "c.md"}
    assert gate.attachment("pic.png") and not gate.attachment("secret.png")
    friends = Gate.build(index, audience(index.vault, "friends"))
    assert friends.notes == {"b.md", "c.md"} and friends.attachment("secret.png")


def test_check_reports_unknown_audiences_and_malformed_values(
    indexed: Callable[[dict[str, str | bytes]], Index],
) -> None:
    index = indexed(
        {
            ".knowflow/config.toml": CONFIG,
            "typo.md": "---\nshare: team/platfrom\n---\n",
            "odd.md": "---\nshare: [public, 3, {a: b}]\n---\n",
            "fine.md": "---\nshare: friends\n---\n",
        }
    )
    found = {(p.kind, p.path) for p in check_shares(index)}
    assert found == {
        ("unknown-audience", "typo.md"),
        ("malformed-share", "odd.md"),
    }
    output = cli_in(index.vault.root)("check", code=1)
    assert "typo.md: unknown-audience: shared with 'team/platfrom'" in output
    gate = Gate.build(index, audience(index.vault, "team/platform"))
    assert "typo.md" not in gate.notes and "odd.md" in gate.notes


def test_a_bad_config_is_a_clear_error(
    indexed: Callable[[dict[str, str | bytes]], Index],
) -> None:
    index = indexed({".knowflow/config.toml": CONFIG, "a.md": "---\nshare: public\n---\n"})
    config = index.vault.state_dir / "config.toml"
    config.write_text('[audiences."team/x"]\nkind = "tribe"\n')
    assert [p.kind for p in check_shares(index)] == ["bad-config"]
    run = cli_in(index.vault.root)
    assert "needs a kind" in run(
        "publish", "--audience", "public", "--out", "/nonexistent/x", code=2
    )
    config.write_text("[share\nauthor = 1\n")
    output = run("shared", code=2)
    assert "config.toml" in output and "Error" in output
