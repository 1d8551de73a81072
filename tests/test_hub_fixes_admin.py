"""What a new user's trial of the hub found (issue 11): a mistyped --db never creates a
hub, the admin can list the hub and replace a lost token, and members can read a
shared note on its own page, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from knowflow.cli.main import cli
from knowflow.hub import admin
from knowflow.hub.db import NoHub, open_engine

from .hubsupport import BACKENDS, fresh_db


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_db(request.param, tmp_path)


def hub(db: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["hub", *args, "--db", db], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


ADMIN_COMMANDS = [
    ("add-member", "zed"),
    ("add-audience", "x", "--kind", "team"),
    ("add-to", "x", "zed"),
    ("remove-from", "x", "zed"),
    ("remove-member", "zed"),
    ("audit",),
    ("list",),
    ("new-token", "zed"),
    ("link", "zed"),
    ("serve", "--port", "1"),
]


@pytest.mark.parametrize("args", ADMIN_COMMANDS, ids=lambda a: a[0])
def test_no_command_but_init_creates_a_hub(tmp_path: Path, args: tuple[str, ...]) -> None:
    typo = tmp_path / "typo.db"
    out = hub(str(typo), *args, code=3)
    assert f"no hub at {typo}" in out and "knowflow hub init --db" in out
    assert list(tmp_path.iterdir()) == []  # nothing created, not even a -wal file


def test_the_default_db_is_not_created_in_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KNOWFLOW_HUB_DB", raising=False)
    result = CliRunner().invoke(cli, ["hub", "add-member", "zed"])
    assert result.exit_code == 3, result.output
    assert "no hub at knowflow-hub.db" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_database_without_a_hub_is_refused(db: str, tmp_path: Path) -> None:
    if "://" not in db:
        Path(db).write_bytes(b"")  # an empty file is no hub either
    assert "no hub at" in hub(db, "add-member", "zed", code=3)
    with pytest.raises(NoHub):
        open_engine(db, create=False)
    hub(db, "init")
    assert "Member zed added" in hub(db, "add-member", "zed")


def test_an_unreachable_postgresql_is_refused_not_created() -> None:
    url = "postgresql://postgres:secret@127.0.0.1:5432/kf_hub_no_such_database"
    out = hub(url, "audit", code=3)
    assert "no hub at" in out and "secret" not in out  # the password is not echoed


def test_a_sqlite_hub_is_private_to_its_owner(tmp_path: Path) -> None:
    db = tmp_path / "hub.db"
    old = os.umask(0o022)
    try:
        hub(str(db), "init")
    finally:
        os.umask(old)
    for path in tmp_path.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_list_shows_members_audiences_and_roles(db: str) -> None:
    hub(db, "init")
    for name in ("alice", "bob", "carol"):
        hub(db, "add-member", name)
    hub(db, "add-audience", "platform", "--kind", "team")
    hub(db, "add-audience", "readers", "--kind", "community")
    hub(db, "add-to", "platform", "alice", "--steward")
    hub(db, "add-to", "platform", "bob")
    hub(db, "add-to", "readers", "bob")
    hub(db, "remove-member", "carol")
    found = json.loads(hub(db, "list", "--json"))
    members = {m["name"]: m for m in found["members"]}
    assert members["alice"]["audiences"] == {"platform": "steward"}
    assert members["bob"]["audiences"] == {"platform": "member", "readers": "member"}
    assert members["carol"]["revoked"] and not members["alice"]["revoked"]
    assert members["admin"]["admin"]
    audiences = {a["name"]: a for a in found["audiences"]}
    assert audiences["platform"]["kind"] == "team"
    assert audiences["platform"]["stewards"] == ["alice"]
    assert audiences["platform"]["members"] == 2 and audiences["readers"]["members"] == 1
    text = hub(db, "list")
    assert "alice: platform (steward)" in text and "carol (revoked)" in text
    assert "platform (team): 2 members; stewards alice" in text


def test_new_token_replaces_a_lost_one_at_once(db: str) -> None:
    hub(db, "init")
    old = hub(db, "add-member", "alice").splitlines()[-1]
    new = hub(db, "new-token", "alice").splitlines()[-1]
    assert new != old
    engine = open_engine(db, create=False)
    try:
        assert admin.authenticate(engine, new).name == "alice"
        with pytest.raises(admin.Unauthorized):
            admin.authenticate(engine, old)
    finally:
        engine.dispose()
    log = hub(db, "audit")
    assert "token_reissued\talice" in log and new not in log and old not in log
    assert "no member named 'nobody'" in hub(db, "new-token", "nobody", code=2)
    hub(db, "remove-member", "alice")
    assert "was removed" in hub(db, "new-token", "alice", code=2)
