"""Named schema migrations for knowflow's SQLite files, recorded with the time they ran.

Each database has its own ``Migrations`` set; a migration is a function
registered in order, run once inside a transaction, its name then written to
``_migrations``. Changing a schema means adding a migration, never editing one
that has shipped (as sqlite-utils' migrations do)::

    STATE = Migrations()

    @STATE.migration
    def m001_sources(conn): ...

    STATE.apply(conn)
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Generic, TypeVar

C = TypeVar("C")
Migration = Callable[[sqlite3.Connection], None]


class Registry(Generic[C]):
    """Named migrations in the order they were registered, each a function of a
    connection of type C (sqlite3's here, SQLAlchemy's for the hub)."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[C], None]]] = []

    def migration(self, fn: Callable[[C], None]) -> Callable[[C], None]:
        """Register fn as the next migration, named after the function."""
        self.steps.append((fn.__name__, fn))
        return fn


class Migrations(Registry[sqlite3.Connection]):
    """An ordered set of named migrations for one kind of SQLite database."""

    def apply(self, conn: sqlite3.Connection) -> list[str]:
        """Apply every migration not yet applied; return the names applied now."""
        done = set(applied(conn))
        ran = []
        for name, fn in self.steps:
            if name in done:
                continue
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Another process may have migrated while we waited for the lock.
                if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                    conn.execute("COMMIT")
                    continue
                fn(conn)
                conn.execute(
                    "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                    (name, dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
                )
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back itself (a full disk does): a second
                # ROLLBACK would fail and hide the error that matters.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            ran.append(name)
        return ran


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations this database has had, in order."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run statements separated by ';' at line ends, inside the caller's transaction."""
    for statement in sql.split(";\n"):
        if statement.strip():
            conn.execute(statement)
