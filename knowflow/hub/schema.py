"""The hub's schema as named migrations, recorded in ``_migrations`` with the time
they ran, as ``knowflow.migrations`` does for the vault's SQLite files; here over
SQLAlchemy, for SQLite and PostgreSQL alike. Changing the schema means adding a
migration, never editing one that has shipped.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, text

from knowflow.migrations import Registry

# Any number: every hub process migrating the same PostgreSQL database takes it, so
# two processes starting at once do not both run a migration.
_PG_LOCK = 0x6B6E6F77


class Migrations(Registry[Connection]):
    """An ordered set of named migrations for the hub's database."""

    def apply(self, engine: Engine) -> list[str]:
        """Apply every migration not yet applied, each in its own transaction; return
        the names applied now."""
        with engine.connect().execution_options(hub_write=True) as conn, conn.begin():
            done = set(applied(conn))  # creating _migrations the first time is a write
        ran = []
        # A hub up to date (every start, every command) reads the list once; only a
        # migration missing then is taken under the lock, and looked for again there.
        for name, fn in ((n, f) for n, f in self.steps if n not in done):
            with engine.connect().execution_options(hub_write=True) as conn, conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
                if name in applied(conn):
                    continue  # another process may have migrated while we waited
                fn(conn)
                conn.execute(
                    text("INSERT INTO _migrations (name, applied_at) VALUES (:name, :at)"),
                    {"name": name, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")},
                )
            ran.append(name)
        return ran


def applied(conn: Connection) -> list[str]:
    """Names of the migrations this database has had, in order."""
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS _migrations"
            " (name VARCHAR(200) PRIMARY KEY, applied_at VARCHAR(40) NOT NULL)"
        )
    )
    rows = conn.execute(text("SELECT name FROM _migrations ORDER BY applied_at, name"))
    return [row[0] for row in rows]


def run_script(conn: Connection, sql: str) -> None:
    """Run statements separated by ';' at line ends, inside the caller's transaction.
    ``{id}`` stands for the dialect's auto-numbered primary key."""
    key = (
        "INTEGER PRIMARY KEY"
        if conn.dialect.name == "sqlite"
        else "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
    )
    for statement in sql.replace("{id}", key).split(";\n"):
        if statement.strip():
            conn.exec_driver_sql(statement)


HUB = Migrations()


@HUB.migration
def m001_initial(conn: Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE members (
            id {id},
            name VARCHAR(200) NOT NULL UNIQUE,
            -- sha256 of the token, hex: a stolen database holds no usable token
            token_hash CHAR(64) NOT NULL UNIQUE,
            is_admin SMALLINT NOT NULL DEFAULT 0,
            revoked SMALLINT NOT NULL DEFAULT 0,
            created_at VARCHAR(40) NOT NULL
        );
        CREATE TABLE audiences (
            id {id},
            name VARCHAR(200) NOT NULL UNIQUE,
            kind VARCHAR(20) NOT NULL CHECK (kind IN ('team', 'community', 'public')),
            title TEXT NOT NULL,
            created_at VARCHAR(40) NOT NULL
        );
        -- who belongs to an audience; a community's stewards admit its members
        CREATE TABLE memberships (
            audience_id BIGINT NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
            member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            role VARCHAR(20) NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'steward')),
            joined_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (audience_id, member_id)
        );
        CREATE INDEX memberships_member ON memberships (member_id, audience_id);
        CREATE TABLE artifacts (
            id {id},
            author_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            audience_id BIGINT NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
            note_id VARCHAR(400) NOT NULL,
            path TEXT NOT NULL,
            url TEXT NOT NULL,
            title TEXT NOT NULL,
            type VARCHAR(100) NOT NULL,
            -- JSON arrays of strings
            tags TEXT NOT NULL,
            aliases TEXT NOT NULL,
            links TEXT NOT NULL,
            markdown TEXT NOT NULL,
            html TEXT NOT NULL,
            created VARCHAR(40) NOT NULL,
            updated VARCHAR(40) NOT NULL,
            content_hash VARCHAR(200) NOT NULL,
            -- sha256 of every field as pushed (see knowflow.hub.bundle.fingerprint): a
            -- client sends whole only the notes whose fingerprint the hub lacks
            fingerprint CHAR(64) NOT NULL,
            -- when this version reached the hub
            shared_at VARCHAR(40) NOT NULL,
            UNIQUE (author_id, audience_id, note_id)
        );
        CREATE INDEX artifacts_audience ON artifacts (audience_id, shared_at);
        CREATE TABLE audit (
            id {id},
            at VARCHAR(40) NOT NULL,
            actor VARCHAR(200) NOT NULL,
            action VARCHAR(100) NOT NULL,
            subject TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX audit_at ON audit (at)
        """,
    )


@HUB.migration
def m002_search(conn: Connection) -> None:
    # Full text over title, tags and body. SQLite: an FTS5 table kept by triggers,
    # so every way a row changes (a push, a member removed) keeps it in step.
    # PostgreSQL: a generated tsvector column under a GIN index. (A trigger's own
    # statements end in '; END', never at a line end, so run_script keeps it whole.)
    if conn.dialect.name == "sqlite":
        run_script(
            conn,
            """
            CREATE VIRTUAL TABLE artifacts_fts USING fts5 (
                title, tags, body, tokenize = 'porter unicode61 remove_diacritics 2'
            );
            CREATE TRIGGER artifacts_fts_insert AFTER INSERT ON artifacts BEGIN
                INSERT INTO artifacts_fts (rowid, title, tags, body)
                    VALUES (new.id, new.title, new.tags, new.markdown); END;
            CREATE TRIGGER artifacts_fts_delete AFTER DELETE ON artifacts BEGIN
                DELETE FROM artifacts_fts WHERE rowid = old.id; END;
            CREATE TRIGGER artifacts_fts_update AFTER UPDATE ON artifacts BEGIN
                UPDATE artifacts_fts SET title = new.title, tags = new.tags, body = new.markdown
                    WHERE rowid = new.id; END
            """,
        )
    else:
        run_script(
            conn,
            """
            ALTER TABLE artifacts ADD COLUMN search tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', title), 'A')
                || setweight(to_tsvector('english', tags), 'B')
                || to_tsvector('english', markdown)
            ) STORED;
            CREATE INDEX artifacts_search ON artifacts USING GIN (search)
            """,
        )


@HUB.migration
def m003_communities_and_feeds(conn: Connection) -> None:
    # A member's request to join a community, until a steward admits or declines it;
    # and each member's feed token (a feed reader sends no headers, so the Atom feed
    # takes a token in its address: a separate one, revocable, stored as its sha256).
    run_script(
        conn,
        """
        CREATE TABLE join_requests (
            audience_id BIGINT NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
            member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            asked_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (audience_id, member_id)
        );
        CREATE TABLE feed_tokens (
            member_id BIGINT NOT NULL PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
            token_hash CHAR(64) NOT NULL UNIQUE,
            created_at VARCHAR(40) NOT NULL
        )
        """,
    )


@HUB.migration
def m004_page_sessions(conn: Connection) -> None:
    # The pages' sign-in: a session per browser, and one-time sign-in links an admin
    # issues. Only the sha256 of a session id or a link's code is kept, so a copy of the
    # database signs nobody in.
    run_script(
        conn,
        """
        CREATE TABLE page_sessions (
            id_hash CHAR(64) PRIMARY KEY,
            member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            created_at VARCHAR(40) NOT NULL,
            expires_at VARCHAR(40) NOT NULL
        );
        CREATE INDEX page_sessions_member ON page_sessions (member_id);
        CREATE TABLE signin_links (
            code_hash CHAR(64) PRIMARY KEY,
            member_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            created_at VARCHAR(40) NOT NULL,
            expires_at VARCHAR(40) NOT NULL,
            used_at VARCHAR(40)
        )
        """,
    )


@HUB.migration
def m005_push_state_and_folded_names(conn: Connection) -> None:
    # When the last accepted push for (author, audience) was generated, so an older
    # bundle arriving late (a retry, a second machine behind the first) cannot put back
    # what a newer push took away.
    run_script(
        conn,
        """
        CREATE TABLE push_state (
            author_id BIGINT NOT NULL REFERENCES members (id) ON DELETE CASCADE,
            audience_id BIGINT NOT NULL REFERENCES audiences (id) ON DELETE CASCADE,
            generated VARCHAR(40) NOT NULL,
            PRIMARY KEY (author_id, audience_id)
        )
        """,
    )
    # Names differing only by case are one name to people; the admin commands refuse
    # a second one, and these indexes make the database refuse it too (two admins
    # racing). A hub that already holds such a pair keeps working without the index:
    # the commands' own check still refuses any new pair.
    for table in ("members", "audiences"):
        pairs = conn.execute(
            text(f"SELECT lower(name) FROM {table} GROUP BY lower(name) HAVING count(*) > 1")
        ).first()
        if pairs is None:
            conn.exec_driver_sql(
                f"CREATE UNIQUE INDEX {table}_name_folded ON {table} (lower(name))"
            )
