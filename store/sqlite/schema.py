"""The SQLite file itself: how connections are opened, the schema and its migrations.

Each table keeps the whole record as a JSON ``doc`` plus the columns it is queried by, each with
an index; ``meta.schema_version`` drives `MIGRATIONS`. Text search uses an FTS5 ``trigram``
index over message texts when the SQLite build has it (``meta.fts`` records whether the file
was made with one).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..base import StoreError

# How long a connection waits for a lock held by someone else (only an external sqlite3 shell
# or backup can hold one: this process has a single writer).
BUSY_TIMEOUT_MS = 5000


def connect(path: str, readonly: bool) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit); the writer's runs in WAL
    with ``synchronous=FULL`` (see the package docstring), the reader's is query-only."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # see the package docstring
    return conn


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run SQL statements one by one inside the caller's transaction (``executescript`` would
    COMMIT first, and a migration must be all or nothing)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement!r}")


def _migration_1(conn: sqlite3.Connection, fts: bool) -> None:
    run_script(conn,
        """
        CREATE TABLE inbound (
            n INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, received_at REAL NOT NULL,
            processed INTEGER NOT NULL DEFAULT 0, doc TEXT NOT NULL);
        CREATE INDEX inbound_unprocessed ON inbound(received_at, n) WHERE processed = 0;

        CREATE TABLE customers (openid TEXT PRIMARY KEY, doc TEXT NOT NULL);

        CREATE TABLE sessions (
            n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, openid TEXT NOT NULL, agent_id TEXT,
            skill TEXT, state TEXT NOT NULL, created_at REAL NOT NULL, queued_at REAL,
            doc TEXT NOT NULL);
        CREATE INDEX sessions_openid ON sessions(openid, created_at);
        CREATE INDEX sessions_agent ON sessions(agent_id, created_at);
        CREATE INDEX sessions_skill ON sessions(skill, created_at);
        CREATE INDEX sessions_created ON sessions(created_at);
        CREATE INDEX sessions_state ON sessions(state, queued_at);
        -- every agent who held a session (agent_id and agents), for search by agent
        CREATE TABLE session_agents (
            session_id TEXT NOT NULL, agent_id TEXT NOT NULL, PRIMARY KEY (session_id, agent_id));
        CREATE INDEX session_agents_agent ON session_agents(agent_id);

        CREATE TABLE messages (
            n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, session_id TEXT NOT NULL,
            seq INTEGER NOT NULL, openid TEXT, ts REAL NOT NULL, text TEXT, doc TEXT NOT NULL,
            UNIQUE (session_id, seq));
        CREATE INDEX messages_openid ON messages(openid, ts);

        CREATE TABLE users (
            n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, username_key TEXT NOT NULL UNIQUE,
            doc TEXT NOT NULL);

        CREATE TABLE revoked_tokens (jti TEXT PRIMARY KEY, expires_at REAL NOT NULL);
        CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);

        CREATE TABLE audit (
            n INTEGER PRIMARY KEY, ts REAL NOT NULL, actor_id TEXT, session_id TEXT,
            doc TEXT NOT NULL);
        CREATE INDEX audit_ts ON audit(ts, n);
        CREATE INDEX audit_actor ON audit(actor_id, ts, n);
        CREATE INDEX audit_session ON audit(session_id, ts, n);

        -- AUTOINCREMENT: a pruned seq is never handed out again
        CREATE TABLE routing_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, doc TEXT NOT NULL);
        CREATE TABLE routing_snapshot (
            id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, doc TEXT NOT NULL);

        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )
    if fts:
        run_script(conn,
            """
            CREATE VIRTUAL TABLE messages_fts USING fts5(
                text, content='messages', content_rowid='n', tokenize='trigram');
            CREATE TRIGGER messages_fts_ai AFTER INSERT ON messages BEGIN
                INSERT INTO messages_fts(rowid, text) VALUES (new.n, new.text);
            END;
            CREATE TRIGGER messages_fts_ad AFTER DELETE ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.n, old.text);
            END;
            CREATE TRIGGER messages_fts_au AFTER UPDATE OF text ON messages BEGIN
                INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.n, old.text);
                INSERT INTO messages_fts(rowid, text) VALUES (new.n, new.text);
            END;
            """
        )


def _migration_2(conn: sqlite3.Connection, fts: bool) -> None:
    # "Has this agent served this customer?" is asked on every read an agent makes of a customer
    # (desk/access.py): one index lookup on (agent_id, openid) instead of joining every session
    # the agent ever held with the customer's sessions.
    run_script(conn,
        """
        ALTER TABLE session_agents ADD COLUMN openid TEXT;
        UPDATE session_agents SET openid = (
            SELECT openid FROM sessions WHERE sessions.id = session_agents.session_id);
        CREATE INDEX session_agents_served ON session_agents(agent_id, openid);
        """
    )


def _migration_3(conn: sqlite3.Connection, fts: bool) -> None:
    # Canned replies (快捷回复): a shortcut is unique within its owner's replies ("public",
    # "team:<id>", "user:<id>"); the unique index is also the index ``list_canned`` reads by.
    run_script(conn,
        """
        CREATE TABLE canned (
            n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,
            shortcut_key TEXT NOT NULL, doc TEXT NOT NULL, UNIQUE (owner, shortcut_key));
        """
    )


def _migration_4(conn: sqlite3.Connection, fts: bool) -> None:
    # Teams (desk/teams.py): few rows, read whole at start; the name is unique case-insensitively.
    run_script(conn,
        """
        CREATE TABLE teams (
            n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name_key TEXT NOT NULL UNIQUE,
            doc TEXT NOT NULL);
        """
    )


def _migration_5(conn: sqlite3.Connection, fts: bool) -> None:
    # The audit page filters by action and by target (a setting's key, a user's id) over a date
    # range: columns of their own, filled from the entries already written, each indexed with ts.
    run_script(conn,
        """
        ALTER TABLE audit ADD COLUMN action TEXT;
        ALTER TABLE audit ADD COLUMN target TEXT;
        UPDATE audit SET action = json_extract(doc, '$.action'), target = json_extract(doc, '$.target');
        CREATE INDEX audit_action ON audit(action, ts, n);
        CREATE INDEX audit_target ON audit(target, ts, n);
        """
    )


def _migration_6(conn: sqlite3.Connection, fts: bool) -> None:
    # Notifications (template messages, desk/notifications.py): a customer's list, a kind's and a
    # bank system's, each newest first.
    run_script(conn,
        """
        CREATE TABLE notifications (
            n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, openid TEXT NOT NULL, kind TEXT,
            created_by TEXT, created_at REAL NOT NULL, doc TEXT NOT NULL);
        CREATE INDEX notifications_openid ON notifications(openid, created_at, n);
        CREATE INDEX notifications_kind ON notifications(kind, created_at, n);
        CREATE INDEX notifications_created_by ON notifications(created_by, created_at, n);
        CREATE INDEX notifications_created_at ON notifications(created_at, n);
        """
    )


def _migration_7(conn: sqlite3.Connection, fts: bool) -> None:
    # The bot's answer usage (desk/bot_stats.py): one row of counters per knowledge-base answer,
    # added to in place (an UPSERT), so concurrent counts all land and a restart keeps them.
    # IF NOT EXISTS: kept from its first numbering.
    run_script(conn,
        """
        CREATE TABLE IF NOT EXISTS bot_answer_stats (
            answer_id TEXT PRIMARY KEY, used INTEGER NOT NULL DEFAULT 0,
            handed_over INTEGER NOT NULL DEFAULT 0, last_used_at REAL);
        """
    )


def _migration_8(conn: sqlite3.Connection, fts: bool) -> None:
    # Reports (运营报表, store/sqlite/reports.py): sessions by queued_at, each answered session's
    # first agent message through a partial index, and the durable agent-state log.
    from .reports import migration_sql

    run_script(conn, migration_sql())


def _migration_9(conn: sqlite3.Connection, fts: bool) -> None:
    # Leave-messages (留言, store/sqlite/leave_messages.py; numbered 8 in its branch, hence IF NOT
    # EXISTS): sessions with a leave_message, oldest first; a partial expression index over the
    # few sessions that are one.
    run_script(conn,
        """
        CREATE INDEX IF NOT EXISTS sessions_leave_message ON sessions(json_extract(doc, '$.leave_message.created_at'), id)
            WHERE json_extract(doc, '$.leave_message.created_at') IS NOT NULL;
        """
    )


# Migration n brings the schema from version n-1 to n. Append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection, bool], None]] = [_migration_1, _migration_2, _migration_3,
                                                                 _migration_4, _migration_5, _migration_6,
                                                                 _migration_7, _migration_8, _migration_9]


def fts5_trigram_available() -> bool:
    try:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        finally:
            conn.close()
        return True
    except sqlite3.Error:
        return False


def migrate(conn: sqlite3.Connection, path: str) -> bool:
    """Bring the file to the newest schema in one transaction; whether it has the FTS5 index.
    StoreError when the file is newer than this Kefu."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise StoreError(f"{path} has schema version {version}, newer than this Kefu "
                             f"({len(MIGRATIONS)})")
        if version == 0:
            fts = fts5_trigram_available()
            conn.execute("INSERT INTO meta VALUES ('fts', ?)", ("trigram" if fts else "none",))
        else:
            fts = conn.execute("SELECT value FROM meta WHERE key = 'fts'").fetchone()[0] != "none"
        for step in MIGRATIONS[version:]:
            step(conn, fts)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                     (str(len(MIGRATIONS)),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return fts
