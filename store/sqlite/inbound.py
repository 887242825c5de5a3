"""The inbound log on SQLite: WeChat messages once per key (de-duplication, crash recovery).

This is the webhook's hot path: ``put_inbound`` rows are inserted in bulk by the writer (one
statement for a batch's new messages, `insert_new`), and marking a message processed is one
UPDATE whose JSON SQLite edits in place (`mark_op`).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from ..base import NotFound, inbound_record
from ..records import InboundRecord, JSONObject
from .codec import dumps, loads
from .reader import Reader
from .writer import Outcome, Writer

# (key, received_at, doc, record) of a new inbound message, for the bulk insert.
InboundRow = tuple[str, float, str, InboundRecord]

# Rows per multi-row INSERT of inbound messages (3 parameters each, far below SQLite's limit).
INBOUND_CHUNK = 250


def _insert_sql(rows: int) -> str:
    """INSERT of ``rows`` new inbound messages ``(key, received_at, doc)``; stored keys are skipped."""
    return ("INSERT INTO inbound (key, received_at, processed, doc) VALUES "
            + ",".join(["(?, ?, 0, ?)"] * rows) + " ON CONFLICT (key) DO NOTHING")


def insert_new(conn: sqlite3.Connection, rows: list[InboundRow]) -> list[Outcome]:
    """The writer's bulk insert: new inbound messages, `INBOUND_CHUNK` to a statement; for each,
    the outcome of its ``put_inbound``, ``(True, (created, record))``."""
    out: list[Outcome] = []
    for start in range(0, len(rows), INBOUND_CHUNK):
        out += _insert_chunk(conn, rows[start:start + INBOUND_CHUNK])
    return out


def _insert_chunk(conn: sqlite3.Connection, rows: list[InboundRow]) -> list[Outcome]:
    """Insert new inbound messages with one statement.

    A burst of webhooks is a batch of inserts, and each statement costs the writer thread
    a GIL release and re-acquire against the busy event loop: one statement for the lot
    keeps that to one per batch. When some key is already stored (a retry of WeChat's),
    the statement is undone and each row is inserted on its own to tell which.
    """
    conn.execute("SAVEPOINT inbound")
    try:
        cur = conn.execute(_insert_sql(len(rows)),
                           [value for key, received_at, doc, _ in rows for value in (key, received_at, doc)])
        if cur.rowcount == len(rows):
            return [(True, (True, rec)) for _, _, _, rec in rows]
        conn.execute("ROLLBACK TO inbound")
        out: list[Outcome] = []
        for key, received_at, doc, rec in rows:
            cur = conn.execute(_insert_sql(1), (key, received_at, doc))
            if cur.rowcount == 1:
                out.append((True, (True, rec)))
            else:
                row = conn.execute("SELECT doc FROM inbound WHERE key = ?", (key,)).fetchone()
                out.append((True, (False, loads(row[0]))))
        return out
    finally:
        conn.execute("RELEASE inbound")


def mark_op(key: str, session_id: str | None, processed_at: float | None,
            returning: bool = False) -> Callable[[sqlite3.Connection], InboundRecord | None]:
    """One UPDATE, the JSON edited by SQLite: marking is once per message. Values go in as
    JSON text (``json(?)``), which SQLite keeps verbatim, so a float keeps every digit."""
    stamp = dumps(time.time() if processed_at is None else processed_at)
    edits = "'$.processed', json('true'), '$.processed_at', json(?)"
    args: list[Any] = [stamp]
    if session_id is not None:
        edits += ", '$.session_id', ?"
        args.append(session_id)
    sql = (f"UPDATE inbound SET processed = 1, doc = json_set(doc, {edits}) WHERE key = ?"
           + (" RETURNING doc" if returning else ""))
    args.append(key)

    def op(conn: sqlite3.Connection) -> InboundRecord | None:
        cur = conn.execute(sql, args)
        row = cur.fetchone() if returning else None
        if (row is None) if returning else (cur.rowcount == 0):
            raise NotFound(f"no inbound message {key!r}")
        return loads(row[0]) if row is not None else None

    return op


class InboundLog:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def put(self, key: str, openid: str, message: JSONObject,
                  received_at: float) -> tuple[bool, InboundRecord]:
        rec = inbound_record(key, openid, message, received_at)
        row: InboundRow = (key, rec["received_at"], dumps(rec), rec)
        outcome: tuple[bool, InboundRecord] = await self._writer.write_row(row)
        return outcome

    def _result_op(self, key: str, reply: str | None,
                   session_id: str | None) -> Callable[[sqlite3.Connection], InboundRecord]:
        def op(conn: sqlite3.Connection) -> InboundRecord:
            row = conn.execute("SELECT doc FROM inbound WHERE key = ?", (key,)).fetchone()
            if row is None:
                raise NotFound(f"no inbound message {key!r}")
            rec: InboundRecord = loads(row[0])
            rec["reply"] = reply
            rec["session_id"] = session_id
            conn.execute("UPDATE inbound SET processed = ?, doc = ? WHERE key = ?",
                         (int(bool(rec["processed"])), dumps(rec), key))
            return rec
        return op

    async def set_result(self, key: str, reply: str | None, session_id: str | None) -> InboundRecord:
        return await self._writer.write(self._result_op(key, reply, session_id))

    async def get(self, key: str) -> InboundRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM inbound WHERE key = ?", (key,)).fetchone())
        return None if row is None else loads(row[0])

    async def mark_processed(self, key: str, session_id: str | None = None,
                             processed_at: float | None = None) -> InboundRecord:
        marked = await self._writer.write(mark_op(key, session_id, processed_at, returning=True))
        assert marked is not None  # returning=True: the record, or NotFound
        return marked

    async def unprocessed(self, limit: int = 1000) -> list[InboundRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM inbound WHERE processed = 0 ORDER BY received_at, n LIMIT ?",
            (limit,)).fetchall())
        return [loads(r[0]) for r in rows]
