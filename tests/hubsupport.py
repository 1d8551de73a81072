"""What the hub's tests share: a fresh database on each backend (an SQLite file, and a
PostgreSQL database made for the test and dropped after it), a hub with members and
audiences, and personal vaults linked to it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from knowflow.hub import admin
from knowflow.hub.db import open_engine
from knowflow.vault import Vault

from .conftest import write_files

PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)


def fresh_db(backend: str, tmp_path: Path) -> Iterator[str]:
    """The address of an empty database on backend, removed after the test. Without a
    reachable PostgreSQL the test is skipped, or fails under CI (where .ci/run starts it)."""
    if backend == "sqlite":
        yield str(tmp_path / "hub.db")
        return
    import psycopg

    name = f"kf_hub_test_{uuid.uuid4().hex[:12]}"
    try:
        with _pg_admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL at {PG_SERVER} is not reachable: {exc}") from exc
        pytest.skip(f"PostgreSQL at {PG_SERVER} is not reachable")
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with _pg_admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Hub:
    """A hub's engine, with the tokens of the members the test made."""

    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    def member(self, name: str, *audiences: str) -> str:
        self.tokens[name] = admin.add_member(self.engine, name)
        for audience in audiences:
            admin.add_to(self.engine, audience, name)
        return self.tokens[name]

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row that a refused request must leave as it was (the audit log aside)."""
        tables = {
            "members": "SELECT name, token_hash, revoked FROM members ORDER BY name",
            "audiences": "SELECT name, kind FROM audiences ORDER BY name",
            "memberships": "SELECT audience_id, member_id, role FROM memberships"
            " ORDER BY audience_id, member_id",
            "artifacts": "SELECT author_id, audience_id, note_id, fingerprint, shared_at"
            " FROM artifacts ORDER BY author_id, audience_id, note_id",
        }
        with self.engine.connect() as conn:
            return {k: [tuple(r) for r in conn.execute(text(sql))] for k, sql in tables.items()}


def make_hub(db: str) -> Hub:
    """A hub with three audiences: platform and design (teams) and everyone (public)."""
    engine = open_engine(db)
    admin.init(engine)
    admin.add_audience(engine, "platform", "team", "Platform team")
    admin.add_audience(engine, "design", "team")
    admin.add_audience(engine, "everyone", "public")
    return Hub(engine)


def personal_vault(root: Path, member: str, url: str, files: dict[str, str]) -> Vault:
    """A personal vault linking its three audiences to the hub at url."""
    config = f"""\
[share]
author = "{member}"

[audiences."team/platform"]
kind = "team"

[audiences."team/design"]
kind = "team"

[hub]
url = "{url}"

[hub.audiences]
"team/platform" = "platform"
"team/design" = "design"
public = "everyone"
"""
    root.mkdir(parents=True)
    write_files(root, {".knowflow/config.toml": config, **files})
    return Vault.init(root)


def note(share: str | None, body: str, note_id: str | None = None) -> str:
    front = [f"share: {share}"] if share else []
    if note_id:
        front.append(f"id: {note_id}")
    head = "---\n" + "\n".join(front) + "\n---\n" if front else ""
    return head + body + "\n"


def api(address: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=address, headers=headers, timeout=60, trust_env=False)


def a_note(note_id: str, body: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": note_id, "path": f"{note_id}.md", "url": f"{note_id}.html", "title": note_id,
        "type": "note", "tags": [], "aliases": [], "markdown": body, "html": f"<p>{body}</p>",
        "links": [], "created": "2026-01-01T00:00:00+00:00",
        "updated": "2026-01-01T00:00:00+00:00", "content_hash": format(abs(hash(body)), "x"),
        **fields,
    }  # fmt: skip


def a_bundle(author: str, audience: str, *notes: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": "knowflow-bundle", "version": 1, "generated": "2026-11-30T00:00:00+00:00",
        "audience": {"name": audience, "kind": "team", "title": audience},
        "author": {"name": author}, "notes": list(notes),
    }  # fmt: skip
