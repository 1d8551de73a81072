"""The hub's storage: one SQLAlchemy Core layer over SQLite (a file, the default) or
PostgreSQL (``postgresql://…``), its schema moved forward by named migrations.

Queries are plain SQL through ``text()`` with bound parameters; where the two
dialects differ (identity columns, full-text search, locking) the difference is
spelled out here or in ``schema``, never spread through the callers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from knowflow.hub.errors import NotFound

DEFAULT_DB = "knowflow-hub.db"
# PostgreSQL connections kept open: as many as requests run at once (the server's
# thread pool, anyio's default: 40), so that no request opens a backend of its own.
POOL_SIZE = 40


class NoHub(NotFound):
    """A database that does not exist or holds no hub (a mistyped --db)."""


def database_url(db: str) -> str:
    """An SQLAlchemy address from what a person types: a path is an SQLite file,
    ``postgresql://`` uses psycopg 3."""
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser().resolve()}"
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return db


def open_engine(db: str, *, create: bool = True) -> Engine:
    """An engine for the hub's database, migrated to the current schema. With
    ``create=False`` (every command but ``hub init``) a database that does not exist,
    or holds no hub, is refused with NoHub and nothing is created: a mistyped --db
    must not quietly start a second, empty hub."""
    from knowflow.hub.schema import HUB

    url = make_url(database_url(db))
    if url.get_backend_name() == "sqlite":
        if url.database and not create and not Path(url.database).is_file():
            raise NoHub(_no_hub(db))
        if url.database and create:
            _create_private(Path(url.database))
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_setup(engine)
    elif url.get_backend_name() == "postgresql":
        engine = create_engine(
            url,
            pool_pre_ping=True,
            # Past the pool's size each connection given back was closed, and a later
            # request paid for a new backend (a fork, and its caches filled again):
            # with 5, then 20 kept, 32 clients opened one every 3.6 searches (measured).
            pool_size=POOL_SIZE,
            max_overflow=10,
            # Each statement planned for its values (psycopg prepares a statement run
            # five times; a plan made once for any words was 10 times slower for a
            # common one, measured).
            connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
        )
    else:
        raise ValueError(f"the hub runs on SQLite or PostgreSQL, not {url.get_backend_name()}")
    if not create:
        _require_hub(engine, db)
    HUB.apply(engine)
    return engine


def _no_hub(db: str) -> str:
    where = db if "://" not in db else make_url(db).render_as_string(hide_password=True)
    return f"no hub at {where}: run `knowflow hub init --db {where}` to create one"


def _create_private(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds token hashes and
    everything members shared); SQLite gives its -wal and -shm files the same mode."""
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _require_hub(engine: Engine, db: str) -> None:
    """Refuse a database that is unreachable or has no hub tables in it."""
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except OperationalError as exc:
        engine.dispose()
        raise NoHub(_no_hub(db)) from exc
    if not {"_migrations", "members"} <= tables:
        engine.dispose()
        raise NoHub(_no_hub(db))


def _sqlite_setup(engine: Engine) -> None:
    """SQLite as the hub needs it: foreign keys on, WAL, and transactions begun by
    us, so that a writer can take the write lock first (``BEGIN IMMEDIATE``) rather
    than fail half-way when another writer got there (the pysqlite recipe in
    SQLAlchemy's documentation)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")  # what members pushed is not derivable
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("hub_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def is_sqlite(conn: Connection | Engine) -> bool:
    return conn.dialect.name == "sqlite"


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction on SQLite (its statements see one snapshot). On
    PostgreSQL each statement commits by itself: under READ COMMITTED, its default,
    each statement of a transaction sees a snapshot of its own anyway, and BEGIN and
    ROLLBACK were two round trips more for every read (a search makes two)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            yield conn
        return
    with engine.connect() as conn, conn.begin():
        yield conn


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction: on SQLite it holds the write lock from its first
    statement, so two writers queue instead of one failing with "database is locked"."""
    with engine.connect().execution_options(hub_write=True) as conn, conn.begin():
        yield conn


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def audit(conn: Connection, actor: str, action: str, subject: str, **detail: object) -> None:
    """Append to the audit log, in the caller's transaction (so a change and its record
    land together or not at all)."""
    conn.execute(
        text(
            "INSERT INTO audit (at, actor, action, subject, detail)"
            " VALUES (:at, :actor, :action, :subject, :detail)"
        ),
        {
            "at": now(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
        },
    )


def audit_log(engine: Engine, limit: int = 1000) -> list[dict[str, Any]]:
    """The newest entries of the audit log, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(
            text(
                "SELECT id, at, actor, action, subject, detail FROM audit"
                " ORDER BY id DESC LIMIT :limit"
            ),
            {"limit": limit},
        ).mappings()
        found = [dict(row) for row in rows]
    for row in found:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return found[::-1]
