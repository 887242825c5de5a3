"""The embedded SQLite store: one file, WAL, a group-committing writer thread and a reader thread.

Durability. The file runs in WAL mode with ``synchronous=FULL``: every COMMIT fsyncs the WAL, so
a write whose awaitable has completed survives a process crash *and* a power loss. WAL with
``synchronous=NORMAL`` would only fsync at checkpoints: it survives ``kill -9`` but a power cut
can lose the last commits, and the webhook promises WeChat that an acknowledged message is
stored ("acknowledged means stored"), so NORMAL is not enough. FULL costs one fsync per commit;
the writer makes that one fsync per *batch* instead of per write (group commit), so throughput
under load is bounded by the number of batches, not the number of callers.

Threads. SQLite calls never run on the event loop.

* One writer thread owns the only write connection. Callers put a closure on a queue and await a
  future. The writer takes everything queued (up to `MAX_BATCH`), runs it inside ONE
  transaction (``BEGIN IMMEDIATE`` … ``COMMIT``), commits once, and only then resolves each
  caller's future (one ``loop.call_soon_threadsafe`` per batch). When a closure fails (say a
  duplicate username) the batch is rolled back and run again with each closure in its own
  SAVEPOINT, so the failure is that closure's alone; savepoints are not paid for otherwise.
  `commits` counts the commits.
  Because one thread does every write, read-modify-write operations (de-dup, per-session seq,
  merges) are atomic without extra locking.
* One reader thread owns a read-only connection. WAL lets it read while the writer writes, and
  since a caller's write future resolves after COMMIT, a later read sees it (read-your-writes).

Schema. Each table keeps the whole record as a JSON ``doc`` plus the columns it is queried by,
each with an index; ``meta.schema_version`` drives `MIGRATIONS`. Text search uses an FTS5
``trigram`` index over message texts (substring match, case-insensitive, and works for Chinese
which has no spaces for a word tokenizer to split on) for queries of three characters or more;
shorter queries (two-character Chinese words are common) fall back to ``LIKE`` over the
session's messages. One process per file: several Kefu processes share a MongoDB store instead.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import queue
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

from .base import (
    OPEN_SESSION_STATES,
    SESSION_STATES,
    DuplicateError,
    NotFound,
    Store,
    StoreError,
    audit_record,
    check_update,
    customer_record,
    inbound_record,
    message_record,
    session_record,
    user_record,
    username_key,
)

# Upper bound on the closures one transaction takes, so a flood of writers cannot make one
# commit (and the latency of the first caller in it) arbitrarily long.
MAX_BATCH = 1000
# Records kept in each write-through cache (customers, sessions, open session per customer).
CACHE_RECORDS = 20000
# How long a connection waits for a lock held by someone else (only an external sqlite3 shell
# or backup can hold one: this process has a single writer).
BUSY_TIMEOUT_MS = 5000

_STOP = object()


_UNKNOWN = "?"  # in the open-session cache: look it up
_NONE = "-"  # in the open-session cache: the customer has no open session


class _DocCache:
    """A bounded, least-recently-used map of key -> committed JSON text."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: str, value: str) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._limit:
            self._items.popitem(last=False)

    def fill(self, key: str, value: str) -> None:
        """Put what a read found, unless a write completed meanwhile (it is newer)."""
        if key not in self._items:
            self.put(key, value)


def _dumps(value: Any) -> str:
    # orjson: the store encodes and decodes a record several times per message, and the
    # standard library's json was a tenth of the webhook path's time.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


_INSERT_MESSAGE = (
    "INSERT INTO messages (id, session_id, seq, openid, ts, text, doc) "
    "SELECT ?1, ?2, next.seq, ?3, ?4, ?5, json_set(?6, '$.seq', next.seq) "
    "FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM messages WHERE session_id = ?2) AS next "
    "RETURNING seq")


def _fts_query(text: str) -> str:
    """A FTS5 phrase matching ``text`` literally."""
    return '"' + text.replace('"', '""') + '"'


def _like_pattern(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _run_script(conn: sqlite3.Connection, script: str) -> None:
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
    _run_script(conn,
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
        _run_script(conn,
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
    _run_script(conn,
        """
        ALTER TABLE session_agents ADD COLUMN openid TEXT;
        UPDATE session_agents SET openid = (
            SELECT openid FROM sessions WHERE sessions.id = session_agents.session_id);
        CREATE INDEX session_agents_served ON session_agents(agent_id, openid);
        """
    )


# Migration n brings the schema from version n-1 to n. Append, never edit.
MIGRATIONS: list[Callable[[sqlite3.Connection, bool], None]] = [_migration_1, _migration_2]


def _fts5_trigram_available() -> bool:
    try:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        finally:
            conn.close()
        return True
    except sqlite3.Error:
        return False


class _Op:
    __slots__ = ("fn", "loop", "future", "inbound")

    def __init__(self, fn: Any, loop: asyncio.AbstractEventLoop, future: asyncio.Future,
                 inbound: tuple[str, float, str, dict] | None = None) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future
        self.inbound = inbound  # (key, received_at, doc, record) of a put_inbound


def _put_inbound_marker(conn: sqlite3.Connection) -> None:  # pragma: no cover - never called
    raise AssertionError("put_inbound writes are run in bulk by the writer")


# Rows per multi-row INSERT of inbound messages (3 parameters each, far below SQLite's limit).
_INBOUND_CHUNK = 250


def _insert_inbound_sql(rows: int) -> str:
    """INSERT of ``rows`` new inbound messages ``(key, received_at, doc)``; stored keys are skipped."""
    return ("INSERT INTO inbound (key, received_at, processed, doc) VALUES "
            + ",".join(["(?, ?, 0, ?)"] * rows) + " ON CONFLICT (key) DO NOTHING")


def _resolve(future: asyncio.Future, ok: bool, value: Any) -> None:
    if future.done():  # the caller was cancelled; the write happened anyway
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _resolve_all(outcomes: list[tuple[asyncio.Future, bool, Any]]) -> None:
    for future, ok, value in outcomes:
        _resolve(future, ok, value)


class SQLiteStore(Store):
    """`Store` on one SQLite file. ``path`` is created (with its parent directories) on open."""

    def __init__(self, path: str) -> None:
        if path in ("", ":memory:") or path.startswith("file:"):
            raise ValueError("SQLiteStore needs a file path (use a temporary file for tests)")
        self.path = path
        self.commits = 0  # transactions committed by the writer (one fsync each)
        self.writes = 0  # write operations those transactions carried
        self.fts = False  # FTS5 trigram index in use (else LIKE scans)
        self._queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._read_conn: sqlite3.Connection | None = None
        self._open = False
        # Write-through caches of hot records, as committed JSON text (one process owns the file,
        # so every write passes through here): a customer's next message needs no thread hop.
        self._customer_docs = _DocCache(CACHE_RECORDS)
        self._session_docs = _DocCache(CACHE_RECORDS)
        self._open_session_of = _DocCache(CACHE_RECORDS)  # openid -> open session id, or ""
        # openid -> id of the customer's latest session (what ``customer_sessions(limit=1)``
        # answers), or a unique "?n" token: look it up, and fill only if the token is unchanged.
        self._latest_session_of = _DocCache(CACHE_RECORDS)
        self._lookups = itertools.count()

    # -- plumbing ------------------------------------------------------------------------------

    def _connect(self, readonly: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if readonly:
            conn.execute("PRAGMA query_only = ON")
        else:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")  # see the module docstring
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise StoreError(f"{self.path} has schema version {version}, newer than this Kefu "
                                 f"({len(MIGRATIONS)})")
            if version == 0:
                fts = _fts5_trigram_available()
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
        self.fts = fts

    def _writer_main(self, ready: Callable[[BaseException | None], None]) -> None:
        try:
            conn = self._connect(readonly=False)
            self._migrate(conn)
        except BaseException as exc:  # report to open() instead of dying silently
            ready(exc)
            return
        ready(None)
        stop: _Op | None = None
        while stop is None:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ops = []
            for op in batch:
                if op.fn is _STOP:
                    stop = op
                else:
                    ops.append(op)
            if ops:
                self._run_batch(conn, ops)
        conn.close()
        stop.loop.call_soon_threadsafe(_resolve, stop.future, True, None)

    def _run_batch(self, conn: sqlite3.Connection, ops: list[_Op]) -> None:
        results: list[tuple[bool, Any]]
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Optimistic: almost every operation succeeds, and a savepoint around each one
                # costs two more statements (each a GIL release and re-acquire on this thread).
                results = self._run_ops(conn, ops, isolated=False)
            except Exception:
                # One failed: undo the batch and run it again with each operation isolated, so
                # the failure is that operation's alone. Operations only touch the connection
                # and their own locals, so running one again is safe.
                conn.execute("ROLLBACK")
                conn.execute("BEGIN IMMEDIATE")
                results = self._run_ops(conn, ops, isolated=True)
            conn.execute("COMMIT")
            self.commits += 1
            self.writes += len(ops)
        except Exception as exc:  # the transaction as a whole failed (disk full, I/O error…)
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            results = [(False, StoreError(f"write failed: {exc}"))] * len(ops)
        # One wake-up of each waiting loop per batch, not one per write: under load a batch holds
        # dozens of writes, and every call_soon_threadsafe costs the loop a self-pipe round trip.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future, bool, Any]]] = {}
        for op, (ok, value) in zip(ops, results, strict=True):
            by_loop.setdefault(op.loop, []).append((op.future, ok, value))
        for loop, outcomes in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, outcomes)
            except RuntimeError:  # that caller's loop is closed; nobody is waiting any more
                pass

    def _run_ops(self, conn: sqlite3.Connection, ops: list[_Op], isolated: bool) -> list[tuple[bool, Any]]:
        """Run a batch's operations in order, except that its new inbound messages go first,
        together (`_insert_inbound`). They cannot depend on anything else in the batch: every
        other write about a message is made after its insert has committed."""
        inbound = [op for op in ops if op.inbound is not None]
        done: dict[int, tuple[bool, Any]] = {}
        for start in range(0, len(inbound), _INBOUND_CHUNK):
            chunk = inbound[start:start + _INBOUND_CHUNK]
            for op, outcome in zip(chunk, self._insert_inbound(conn, chunk), strict=True):
                done[id(op)] = outcome
        if isolated:
            return [done.get(id(op)) or self._run_isolated(conn, op) for op in ops]
        return [done.get(id(op)) or (True, op.fn(conn)) for op in ops]

    @staticmethod
    def _insert_inbound(conn: sqlite3.Connection, ops: list[_Op]) -> list[tuple[bool, Any]]:
        """Insert new inbound messages with one statement; for each, the operation's outcome
        ``(True, (created, record))``.

        A burst of webhooks is a batch of inserts, and each statement costs the writer thread
        a GIL release and re-acquire against the busy event loop: one statement for the lot
        keeps that to one per batch. When some key is already stored (a retry of WeChat's),
        the statement is undone and each row is inserted on its own to tell which.
        """
        rows = [op.inbound for op in ops if op.inbound is not None]
        conn.execute("SAVEPOINT inbound")
        try:
            cur = conn.execute(_insert_inbound_sql(len(rows)),
                               [value for key, received_at, doc, _ in rows for value in (key, received_at, doc)])
            if cur.rowcount == len(rows):
                return [(True, (True, rec)) for _, _, _, rec in rows]
            conn.execute("ROLLBACK TO inbound")
            out: list[tuple[bool, Any]] = []
            for key, received_at, doc, rec in rows:
                cur = conn.execute(_insert_inbound_sql(1), (key, received_at, doc))
                if cur.rowcount == 1:
                    out.append((True, (True, rec)))
                else:
                    row = conn.execute("SELECT doc FROM inbound WHERE key = ?", (key,)).fetchone()
                    out.append((True, (False, _loads(row[0]))))
            return out
        finally:
            conn.execute("RELEASE inbound")

    @staticmethod
    def _run_isolated(conn: sqlite3.Connection, op: _Op) -> tuple[bool, Any]:
        conn.execute("SAVEPOINT op")
        try:
            value = op.fn(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            if isinstance(exc, sqlite3.IntegrityError):
                exc = DuplicateError(str(exc))
            return False, exc
        conn.execute("RELEASE op")
        return True, value

    async def _write(self, fn: Any, *, closing: bool = False,
                     inbound: tuple[str, float, str, dict] | None = None) -> Any:
        """Queue ``fn(conn)`` (or `_STOP`, or a new ``inbound`` row for `_insert_inbound`) for
        the writer; its result once committed."""
        if not self._open and not closing:
            raise StoreError("store is not open")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put(_Op(fn, loop, future, inbound))
        return await future

    async def _read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        if not self._open or self._reader is None:
            raise StoreError("store is not open")
        conn = self._read_conn
        assert conn is not None
        return await asyncio.get_running_loop().run_in_executor(self._reader, fn, conn)

    # -- lifecycle -----------------------------------------------------------------------------

    async def open(self) -> None:
        if self._open:
            return
        parent = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(parent, exist_ok=True)
        loop = asyncio.get_running_loop()
        started = loop.create_future()

        def ready(exc: BaseException | None) -> None:
            loop.call_soon_threadsafe(_resolve, started, exc is None, exc)

        self._writer = threading.Thread(target=self._writer_main, args=(ready,),
                                        name="kefu-sqlite-writer", daemon=True)
        self._writer.start()
        await started
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kefu-sqlite-reader")
        self._read_conn = await loop.run_in_executor(self._reader, self._connect, True)
        self._open = True

    async def close(self) -> None:
        if not self._open:
            return
        self._open = False
        await self._write(_STOP, closing=True)  # FIFO: everything queued before is committed
        if self._writer is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        reader, conn = self._reader, self._read_conn
        self._reader = self._read_conn = None
        if reader is not None and conn is not None:
            await asyncio.get_running_loop().run_in_executor(reader, conn.close)
            reader.shutdown(wait=True)

    async def ping(self) -> bool:
        try:
            return await self._read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except Exception:
            return False

    async def flush(self) -> None:
        await self._write(lambda conn: None)

    # -- inbound -------------------------------------------------------------------------------

    async def put_inbound(self, key: str, openid: str, message: dict,
                          received_at: float) -> tuple[bool, dict]:
        rec = inbound_record(key, openid, message, received_at)
        return await self._write(_put_inbound_marker, inbound=(key, rec["received_at"], _dumps(rec), rec))

    def _update_inbound(self, key: str, changes: dict) -> Callable[[sqlite3.Connection], dict]:
        def op(conn: sqlite3.Connection) -> dict:
            row = conn.execute("SELECT doc FROM inbound WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"no inbound message {key!r}")
            rec = _loads(row[0])
            rec.update(changes)
            conn.execute("UPDATE inbound SET processed = ?, doc = ? WHERE key = ?",
                         (int(bool(rec["processed"])), _dumps(rec), key))
            return rec
        return op

    async def set_inbound_result(self, key: str, reply: str | None,
                                 session_id: str | None) -> dict:
        return await self._write(self._update_inbound(key, {"reply": reply, "session_id": session_id}))

    async def get_inbound(self, key: str) -> dict | None:
        row = await self._read(lambda c: c.execute(
            "SELECT doc FROM inbound WHERE key = ?", (key,)).fetchone())
        return None if row is None else _loads(row[0])

    async def mark_inbound_processed(self, key: str, session_id: str | None = None,
                                     processed_at: float | None = None) -> dict:
        mark = self._mark_inbound_op(key, session_id, processed_at, returning=True)
        return await self._write(mark)

    @staticmethod
    def _mark_inbound_op(key: str, session_id: str | None, processed_at: float | None,
                         returning: bool = False) -> Callable[[sqlite3.Connection], dict | None]:
        """One UPDATE, the JSON edited by SQLite: marking is once per message. Values go in as
        JSON text (``json(?)``), which SQLite keeps verbatim, so a float keeps every digit."""
        stamp = _dumps(time.time() if processed_at is None else processed_at)
        edits = "'$.processed', json('true'), '$.processed_at', json(?)"
        args: list[Any] = [stamp]
        if session_id is not None:
            edits += ", '$.session_id', ?"
            args.append(session_id)
        sql = (f"UPDATE inbound SET processed = 1, doc = json_set(doc, {edits}) WHERE key = ?"
               + (" RETURNING doc" if returning else ""))
        args.append(key)

        def op(conn: sqlite3.Connection) -> dict | None:
            cur = conn.execute(sql, args)
            row = cur.fetchone() if returning else None
            if (row is None) if returning else (cur.rowcount == 0):
                raise NotFound(f"no inbound message {key!r}")
            return _loads(row[0]) if row is not None else None

        return op

    async def unprocessed_inbound(self, limit: int = 1000) -> list[dict]:
        rows = await self._read(lambda c: c.execute(
            "SELECT doc FROM inbound WHERE processed = 0 ORDER BY received_at, n LIMIT ?",
            (limit,)).fetchall())
        return [_loads(r[0]) for r in rows]

    # -- customers -----------------------------------------------------------------------------

    async def upsert_customer(self, openid: str, /, seen_at: float | None = None,
                              **fields: Any) -> dict:
        rec, doc = await self._write(self._upsert_customer_op(openid, seen_at, fields))
        self._customer_docs.put(openid, doc)
        return rec

    @staticmethod
    def _upsert_customer_op(openid: str, seen_at: float | None, fields: dict) -> Callable[[sqlite3.Connection], Any]:
        seen = time.time() if seen_at is None else float(seen_at)
        fields = check_update("customer", fields, ("openid",))

        def op(conn: sqlite3.Connection) -> tuple[dict, str]:
            row = conn.execute("SELECT doc FROM customers WHERE openid = ?", (openid,)).fetchone()
            if row is None:
                rec = customer_record(openid, seen, fields)
                doc = _dumps(rec)
                conn.execute("INSERT INTO customers VALUES (?, ?)", (openid, doc))
            else:
                rec = _loads(row[0])
                rec.update(fields)
                rec["last_seen"] = max(rec["last_seen"] or seen, seen)
                doc = _dumps(rec)
                conn.execute("UPDATE customers SET doc = ? WHERE openid = ?", (doc, openid))
            return rec, doc

        return op

    async def file_customer_message(self, openid: str, seen_at: float, customer_fields: dict,
                                    session_id: str, session_fields: dict | None,
                                    message: dict, *, inbound_key: str | None = None,
                                    ) -> tuple[dict, dict, dict | None]:
        # One writer operation instead of four: a customer's message is the hot path.
        customer_op = self._upsert_customer_op(openid, seen_at, customer_fields)
        session_op = None if session_fields is None else self._update_session_op(session_id, session_fields)
        message_op = self._add_message_op(message_record(message))
        mark_op = None if inbound_key is None else self._mark_inbound_op(inbound_key, session_id, None)

        def op(conn: sqlite3.Connection) -> tuple[tuple[dict, str], dict, dict | None]:
            customer = customer_op(conn)
            if session_op is not None:
                session = session_op(conn)
            else:
                row = conn.execute("SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone()
                if row is None:
                    raise NotFound(f"no session {session_id!r}")
                session = _loads(row[0])
            try:
                # One statement: when it fails, SQLite undoes it alone (no savepoint needed).
                stored = message_op(conn)
            except sqlite3.IntegrityError:  # already filed (processed again after a crash)
                stored = None
            if mark_op is not None:
                mark_op(conn)
            return customer, session, stored

        (customer, doc), session, stored = await self._write(op)
        self._customer_docs.put(openid, doc)
        if session_op is not None:
            self._session_written(session)
        return customer, session, stored

    async def _cached_doc(self, cache: _DocCache, key: str, sql: str) -> dict | None:
        """The record under ``key``: from the cache, else read (one ``doc`` column) and cached."""
        cached = cache.get(key)
        if cached is not None:
            return _loads(cached)
        row = await self._read(lambda c: c.execute(sql, (key,)).fetchone())
        if row is None:
            return None
        cache.fill(key, row[0])
        return _loads(row[0])

    async def get_customer(self, openid: str) -> dict | None:
        return await self._cached_doc(self._customer_docs, openid, "SELECT doc FROM customers WHERE openid = ?")

    async def update_customer(self, openid: str, /, **fields: Any) -> dict:
        fields = check_update("customer", fields, ("openid",))

        def op(conn: sqlite3.Connection) -> tuple[dict, str]:
            row = conn.execute("SELECT doc FROM customers WHERE openid = ?", (openid,)).fetchone()
            if row is None:
                raise NotFound(f"no customer {openid!r}")
            rec = _loads(row[0])
            rec.update(fields)
            doc = _dumps(rec)
            conn.execute("UPDATE customers SET doc = ? WHERE openid = ?", (doc, openid))
            return rec, doc

        rec, doc = await self._write(op)
        self._customer_docs.put(openid, doc)
        return rec

    # -- sessions ------------------------------------------------------------------------------

    @staticmethod
    def _session_columns(rec: dict) -> tuple:
        return (rec["openid"], rec["agent_id"], rec["skill"], rec["state"], rec["created_at"],
                rec["queued_at"], _dumps(rec), rec["id"])

    @staticmethod
    def _sync_session_agents(conn: sqlite3.Connection, rec: dict) -> None:
        agents = set(rec.get("agents") or [])
        if rec.get("agent_id"):
            agents.add(rec["agent_id"])
        conn.executemany("INSERT OR IGNORE INTO session_agents (session_id, agent_id, openid) VALUES (?, ?, ?)",
                         [(rec["id"], a, rec["openid"]) for a in agents])

    async def create_session(self, data: dict) -> dict:
        rec = session_record(data)

        def op(conn: sqlite3.Connection) -> dict:
            conn.execute(
                "INSERT INTO sessions (openid, agent_id, skill, state, created_at, queued_at, doc, id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self._session_columns(rec))
            self._sync_session_agents(conn, rec)
            return rec

        stored = await self._write(op)
        self._session_written(stored)
        self._latest_session_created(stored)
        return stored

    def _latest_session_created(self, rec: dict) -> None:
        latest = self._latest_session_of.get(rec["openid"])
        previous = self._session_docs.get(latest) if latest and not latest.startswith(_UNKNOWN) else None
        if previous is not None and rec["created_at"] >= _loads(previous)["created_at"]:
            self._latest_session_of.put(rec["openid"], rec["id"])
        else:  # created with an older time (recovery), or not known: the next lookup reads
            self._latest_session_of.put(rec["openid"], f"{_UNKNOWN}{next(self._lookups)}")

    def _session_written(self, rec: dict) -> None:
        """Keep the session caches in step with a committed session record."""
        self._session_docs.put(rec["id"], _dumps(rec))
        if rec["state"] in OPEN_SESSION_STATES:
            self._open_session_of.put(rec["openid"], rec["id"])
        elif self._open_session_of.get(rec["openid"]) == rec["id"]:
            # Closed: forget, and let the next lookup read (another open session may exist).
            self._open_session_of.put(rec["openid"], _UNKNOWN)

    async def update_session(self, session_id: str, /, **fields: Any) -> dict:
        stored = await self._write(self._update_session_op(session_id, fields))
        self._session_written(stored)
        return stored

    def _update_session_op(self, session_id: str, fields: dict) -> Callable[[sqlite3.Connection], dict]:
        fields = check_update("session", fields, ("id",))

        def op(conn: sqlite3.Connection) -> dict:
            row = conn.execute("SELECT doc FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise NotFound(f"no session {session_id!r}")
            rec = _loads(row[0])
            rec.update(fields)
            conn.execute(
                "UPDATE sessions SET openid = ?, agent_id = ?, skill = ?, state = ?, created_at = ?, "
                "queued_at = ?, doc = ? WHERE id = ?", self._session_columns(rec))
            self._sync_session_agents(conn, rec)
            return rec

        return op

    async def get_session(self, session_id: str) -> dict | None:
        return await self._cached_doc(self._session_docs, session_id, "SELECT doc FROM sessions WHERE id = ?")

    async def open_session_for_customer(self, openid: str) -> dict | None:
        known = self._open_session_of.get(openid)
        if known is not None and known != _UNKNOWN:
            if known == _NONE:
                return None
            cached = self._session_docs.get(known)
            if cached is not None:
                rec = _loads(cached)
                if rec["state"] in OPEN_SESSION_STATES:
                    return rec
        marks = ",".join("?" * len(OPEN_SESSION_STATES))
        row = await self._read(lambda c: c.execute(
            f"SELECT id, doc FROM sessions WHERE openid = ? AND state IN ({marks}) "
            "ORDER BY created_at DESC, n DESC LIMIT 1", (openid, *OPEN_SESSION_STATES)).fetchone())
        if self._open_session_of.get(openid) in (None, _UNKNOWN, known):
            # Nothing was written for this customer meanwhile: remember what the read found.
            self._open_session_of.put(openid, _NONE if row is None else row[0])
        if row is None:
            return None
        self._session_docs.fill(row[0], row[1])
        return _loads(row[1])

    async def list_open_sessions(self) -> list[dict]:
        marks = ",".join("?" * len(OPEN_SESSION_STATES))
        rows = await self._read(lambda c: c.execute(
            f"SELECT doc FROM sessions WHERE state IN ({marks}) "
            "ORDER BY queued_at, created_at, n", OPEN_SESSION_STATES).fetchall())
        return [_loads(r[0]) for r in rows]

    async def customer_sessions(self, openid: str, limit: int = 20) -> list[dict]:
        token = self._latest_session_of.get(openid)
        if limit == 1 and token is not None and not token.startswith(_UNKNOWN):
            # The desk asks for a customer's latest session on every message with no open one.
            if token == _NONE:
                return []
            cached = self._session_docs.get(token)
            if cached is not None:
                return [_loads(cached)]
        if token is None or not token.startswith(_UNKNOWN):
            token = f"{_UNKNOWN}{next(self._lookups)}"
            self._latest_session_of.put(openid, token)
        rows = await self._read(lambda c: c.execute(
            "SELECT id, doc FROM sessions WHERE openid = ? ORDER BY created_at DESC, n DESC LIMIT ?",
            (openid, limit)).fetchall())
        if limit >= 1 and self._latest_session_of.get(openid) == token:  # no session created meanwhile
            self._latest_session_of.put(openid, rows[0][0] if rows else _NONE)
            if rows:
                self._session_docs.fill(rows[0][0], rows[0][1])
        return [_loads(r[1]) for r in rows]

    async def search_sessions(self, openid: str | None = None, agent_id: str | None = None,
                              skill: str | None = None, since: float | None = None,
                              until: float | None = None, text: str | None = None,
                              limit: int = 50, offset: int = 0) -> tuple[int, list[dict]]:
        where: list[str] = []
        args: list[Any] = []
        if openid is not None:
            where.append("openid = ?")
            args.append(openid)
        if agent_id is not None:
            where.append("id IN (SELECT session_id FROM session_agents WHERE agent_id = ?)")
            args.append(agent_id)
        if skill is not None:
            where.append("skill = ?")
            args.append(skill)
        if since is not None:
            where.append("created_at >= ?")
            args.append(since)
        if until is not None:
            where.append("created_at < ?")
            args.append(until)
        if text is not None and text.strip():
            if self.fts and len(text) >= 3:  # trigram index needs three characters
                where.append("id IN (SELECT m.session_id FROM messages_fts f "
                             "JOIN messages m ON m.n = f.rowid WHERE messages_fts MATCH ?)")
                args.append(_fts_query(text))
            else:
                where.append("id IN (SELECT session_id FROM messages WHERE text LIKE ? ESCAPE '\\')")
                args.append(_like_pattern(text))
        clause = ("WHERE " + " AND ".join(where)) if where else ""

        def query(conn: sqlite3.Connection) -> tuple[int, list[dict]]:
            conn.execute("BEGIN")  # count and page from one snapshot
            try:
                total = conn.execute(f"SELECT COUNT(*) FROM sessions {clause}", args).fetchone()[0]
                rows = conn.execute(
                    f"SELECT doc FROM sessions {clause} ORDER BY created_at DESC, n DESC "
                    "LIMIT ? OFFSET ?", [*args, max(0, limit), max(0, offset)]).fetchall()
            finally:
                conn.execute("COMMIT")
            return total, [_loads(r[0]) for r in rows]

        return await self._read(query)

    async def has_served(self, agent_id: str, openid: str) -> bool:
        row = await self._read(lambda c: c.execute(
            "SELECT 1 FROM session_agents WHERE agent_id = ? AND openid = ? LIMIT 1",
            (agent_id, openid)).fetchone())
        return row is not None

    async def count_sessions_by_state(self) -> dict[str, int]:
        rows = await self._read(lambda c: c.execute(
            "SELECT state, COUNT(*) FROM sessions GROUP BY state").fetchall())
        counts = dict.fromkeys(SESSION_STATES, 0)
        counts.update({state: n for state, n in rows})
        return counts

    # -- messages ------------------------------------------------------------------------------

    async def add_message(self, data: dict) -> dict:
        return await self._write(self._add_message_op(message_record(data)))

    @staticmethod
    def _add_message_op(rec: dict) -> Callable[[sqlite3.Connection], dict]:
        args = (rec["id"], rec["session_id"], rec["openid"], rec["ts"], rec["text"], _dumps(rec))

        def op(conn: sqlite3.Connection) -> dict:
            # The next seq and the insert in one statement (SQLite sets "seq" inside the JSON).
            seq = conn.execute(_INSERT_MESSAGE, args).fetchone()[0]
            return dict(rec, seq=seq)

        return op

    async def update_message(self, message_id: str, /, **fields: Any) -> dict:
        fields = check_update("message", fields, ("id", "session_id", "seq", "client_id"))

        def op(conn: sqlite3.Connection) -> dict:
            row = conn.execute("SELECT doc FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise NotFound(f"no message {message_id!r}")
            rec = _loads(row[0])
            rec.update(fields)
            conn.execute("UPDATE messages SET openid = ?, ts = ?, text = ?, doc = ? WHERE id = ?",
                         (rec["openid"], rec["ts"], rec["text"], _dumps(rec), message_id))
            return rec

        return await self._write(op)

    async def get_message(self, message_id: str) -> dict | None:
        row = await self._read(lambda c: c.execute(
            "SELECT doc FROM messages WHERE id = ?", (message_id,)).fetchone())
        return None if row is None else _loads(row[0])

    async def session_messages(self, session_id: str, after_seq: int = 0) -> list[dict]:
        rows = await self._read(lambda c: c.execute(
            "SELECT doc FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq",
            (session_id, after_seq)).fetchall())
        return [_loads(r[0]) for r in rows]

    async def customer_messages(self, openid: str, limit: int = 100) -> list[dict]:
        rows = await self._read(lambda c: c.execute(
            "SELECT doc FROM messages WHERE openid = ? ORDER BY ts DESC, n DESC LIMIT ?",
            (openid, limit)).fetchall())
        return [_loads(r[0]) for r in reversed(rows)]

    # -- users ---------------------------------------------------------------------------------

    async def create_user(self, data: dict) -> dict:
        rec = user_record(data)

        def op(conn: sqlite3.Connection) -> dict:
            try:
                conn.execute("INSERT INTO users (id, username_key, doc) VALUES (?, ?, ?)",
                             (rec["id"], username_key(rec["username"]), _dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"username {rec['username']!r} or id exists") from exc
            return rec

        return await self._write(op)

    async def get_user(self, user_id: str) -> dict | None:
        row = await self._read(lambda c: c.execute(
            "SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone())
        return None if row is None else _loads(row[0])

    async def get_user_by_username(self, username: str) -> dict | None:
        row = await self._read(lambda c: c.execute(
            "SELECT doc FROM users WHERE username_key = ?", (username_key(username),)).fetchone())
        return None if row is None else _loads(row[0])

    async def list_users(self) -> list[dict]:
        rows = await self._read(lambda c: c.execute(
            "SELECT doc FROM users ORDER BY username_key").fetchall())
        return [_loads(r[0]) for r in rows]

    async def update_user(self, user_id: str, /, **fields: Any) -> dict:
        fields = check_update("user", fields, ("id",))
        if "username" in fields and not fields["username"]:
            raise ValueError("a user needs a username")

        def op(conn: sqlite3.Connection) -> dict:
            row = conn.execute("SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None:
                raise NotFound(f"no user {user_id!r}")
            rec = _loads(row[0])
            rec.update(fields)
            try:
                conn.execute("UPDATE users SET username_key = ?, doc = ? WHERE id = ?",
                             (username_key(rec["username"]), _dumps(rec), user_id))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"username {rec['username']!r} exists") from exc
            return rec

        return await self._write(op)

    # -- revoked tokens ------------------------------------------------------------------------

    async def revoke_token(self, jti: str, expires_at: float) -> None:
        await self._write(lambda c: c.execute(
            "INSERT INTO revoked_tokens VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET "
            "expires_at = max(expires_at, excluded.expires_at)", (jti, float(expires_at))))

    async def is_token_revoked(self, jti: str) -> bool:
        row = await self._read(lambda c: c.execute(
            "SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)).fetchone())
        return row is not None

    async def purge_revoked_tokens(self, now: float | None = None) -> int:
        cutoff = time.time() if now is None else now
        return await self._write(lambda c: c.execute(
            "DELETE FROM revoked_tokens WHERE expires_at < ?", (cutoff,)).rowcount)

    # -- audit ---------------------------------------------------------------------------------

    async def add_audit(self, data: dict) -> dict:
        rec = audit_record(data)

        def op(conn: sqlite3.Connection) -> dict:
            conn.execute("INSERT INTO audit (ts, actor_id, session_id, doc) VALUES (?, ?, ?, ?)",
                         (rec["ts"], rec["actor_id"], rec["session_id"], _dumps(rec)))
            return rec

        return await self._write(op)

    async def list_audit(self, limit: int = 50, offset: int = 0, actor_id: str | None = None,
                         session_id: str | None = None) -> list[dict]:
        where, args = [], []
        if actor_id is not None:
            where.append("actor_id = ?")
            args.append(actor_id)
        if session_id is not None:
            where.append("session_id = ?")
            args.append(session_id)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = await self._read(lambda c: c.execute(
            f"SELECT doc FROM audit {clause} ORDER BY ts DESC, n DESC LIMIT ? OFFSET ?",
            [*args, limit, offset]).fetchall())
        return [_loads(r[0]) for r in rows]

    # -- routing event log -------------------------------------------------------------------

    async def append_routing_events(self, events: list[dict]) -> list[int]:
        docs = [_dumps({k: v for k, v in e.items() if k != "seq"}) for e in events]

        def op(conn: sqlite3.Connection) -> list[int]:
            seqs = []
            for d in docs:
                seq = conn.execute("INSERT INTO routing_events (doc) VALUES (?)", (d,)).lastrowid
                assert seq is not None  # always set after an INSERT into a rowid table
                seqs.append(seq)
            return seqs

        return await self._write(op) if docs else []

    async def routing_events(self, after_seq: int = 0) -> list[dict]:
        rows = await self._read(lambda c: c.execute(
            "SELECT seq, doc FROM routing_events WHERE seq > ? ORDER BY seq", (after_seq,)).fetchall())
        return [dict(_loads(doc), seq=seq) for seq, doc in rows]

    async def save_routing_snapshot(self, seq: int, snapshot: dict) -> None:
        doc = _dumps(snapshot)
        await self._write(lambda c: c.execute(
            "INSERT OR REPLACE INTO routing_snapshot VALUES (1, ?, ?)", (int(seq), doc)))

    async def load_routing_snapshot(self) -> tuple[int, dict] | None:
        row = await self._read(lambda c: c.execute(
            "SELECT seq, doc FROM routing_snapshot WHERE id = 1").fetchone())
        return None if row is None else (row[0], _loads(row[1]))

    async def prune_routing_events(self, upto_seq: int) -> int:
        return await self._write(lambda c: c.execute(
            "DELETE FROM routing_events WHERE seq <= ?", (upto_seq,)).rowcount)

    # -- settings ------------------------------------------------------------------------------

    async def get_setting(self, key: str, default: Any = None) -> Any:
        row = await self._read(lambda c: c.execute(
            "SELECT value FROM settings WHERE key = ?", (key,)).fetchone())
        return default if row is None else _loads(row[0])

    async def set_setting(self, key: str, value: Any) -> None:
        doc = _dumps(value)
        await self._write(lambda c: c.execute(
            "INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, doc)))
