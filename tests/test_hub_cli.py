"""`knowflow hub …`: administering a hub from the command line, and serving it, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from knowflow.cli.main import cli
from knowflow.hub import admin
from knowflow.hub.db import open_engine

from .hubsupport import note, personal_vault


def hub(db: str, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, ["hub", *args, "--db", db], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_administration_from_the_command_line(db: str) -> None:
    admin_token = hub(db, "init").splitlines()[-1]
    assert "already set up" in hub(db, "init", code=2)
    member_token = hub(db, "add-member", "alice").splitlines()[-1]
    assert "exists already" in hub(db, "add-member", "alice", code=2)
    hub(db, "add-audience", "platform", "--kind", "team", "--title", "Platform team")
    assert "is now in platform" in hub(db, "add-to", "platform", "alice")
    assert "was already in platform" in hub(db, "add-to", "platform", "alice")
    assert "no audience named 'nope'" in hub(db, "add-to", "nope", "alice", code=2)
    engine = open_engine(db)
    try:
        assert admin.authenticate(engine, admin_token).is_admin
        assert admin.authenticate(engine, member_token).name == "alice"
        assert "token revoked, 0 artifacts deleted" in hub(db, "remove-member", "alice")
        with pytest.raises(admin.Unauthorized):
            admin.authenticate(engine, member_token)
    finally:
        engine.dispose()
    log = hub(db, "audit")
    for action in ("hub_initialized", "member_added", "audience_added", "membership_added",
                   "member_removed"):  # fmt: skip
        assert action in log
    assert admin_token not in log and member_token not in log


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_hub_serve_answers_json(db: str) -> None:
    hub(db, "init")
    token = hub(db, "add-member", "alice").splitlines()[-1]
    port = _free_port()
    command = [sys.executable, "-m", "knowflow", "hub", "serve", "--db", db, "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/api/health", timeout=2, trust_env=False)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()
                assert time.monotonic() < deadline, "the hub did not start"
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{base}/api/me", headers=headers, trust_env=False)
        assert me.json() == {"name": "alice", "admin": False}
        refused = httpx.get(f"{base}/api/me", trust_env=False)
        assert refused.status_code == 401 and "token" in refused.json()["error"]
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_push_says_plainly_what_is_missing_or_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KNOWFLOW_HUB_TOKEN", raising=False)
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    root = personal_vault(tmp_path / "v", "alice", url, {"A.md": note("public", "x")}).root

    def push(*args: str) -> str:
        result = CliRunner().invoke(cli, ["--vault", str(root), "push", "--yes", *args])
        assert result.exit_code == 2, result.output
        return result.output

    assert "no hub token" in push()
    monkeypatch.setenv("KNOWFLOW_HUB_TOKEN", "t")
    assert "could not reach the hub" in push()
    assert "not linked to the hub" in push("--audience", "elsewhere")
    (root / ".knowflow" / "config.toml").write_text('[share]\nauthor = "alice"\n')
    assert "set [hub] url" in push()
