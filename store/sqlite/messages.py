"""Messages on SQLite, numbered 1, 2, … per session by the statement that inserts them."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from ..base import NotFound, check_update, message_record
from ..records import MessageFields, MessageRecord, NewMessage
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer

# The next seq and the insert in one statement (SQLite sets "seq" inside the JSON): a message is
# stored once per webhook, and a separate SELECT would be one more statement on the writer.
_INSERT_MESSAGE = (
    "INSERT INTO messages (id, session_id, seq, openid, ts, text, doc) "
    "SELECT ?1, ?2, next.seq, ?3, ?4, ?5, json_set(?6, '$.seq', next.seq) "
    "FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM messages WHERE session_id = ?2) AS next "
    "RETURNING seq")


def add_op(rec: MessageRecord) -> Callable[[sqlite3.Connection], MessageRecord]:
    """Insert a message shaped by `message_record`; the stored record with its ``seq``.
    IntegrityError when its id is taken."""
    args = (rec["id"], rec["session_id"], rec["openid"], rec["ts"], rec["text"], dumps(rec))

    def op(conn: sqlite3.Connection) -> MessageRecord:
        seq = conn.execute(_INSERT_MESSAGE, args).fetchone()[0]
        stored = rec.copy()
        stored["seq"] = seq
        return stored

    return op


class Messages:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def add(self, data: NewMessage) -> MessageRecord:
        return await self._writer.write(add_op(message_record(data)))

    async def update(self, message_id: str, fields: MessageFields) -> MessageRecord:
        fields = check_update("message", fields, ("id", "session_id", "seq", "client_id"))

        def op(conn: sqlite3.Connection) -> MessageRecord:
            row = conn.execute("SELECT doc FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise NotFound(f"no message {message_id!r}")
            rec: MessageRecord = loads(row[0])
            rec.update(fields)
            conn.execute("UPDATE messages SET openid = ?, ts = ?, text = ?, doc = ? WHERE id = ?",
                         (rec["openid"], rec["ts"], rec["text"], dumps(rec), message_id))
            return rec

        return await self._writer.write(op)

    async def get(self, message_id: str) -> MessageRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM messages WHERE id = ?", (message_id,)).fetchone())
        return None if row is None else loads(row[0])

    async def of_session(self, session_id: str, after_seq: int = 0) -> list[MessageRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM messages WHERE session_id = ? AND seq > ? ORDER BY seq",
            (session_id, after_seq)).fetchall())
        return [loads(r[0]) for r in rows]

    async def of_customer(self, openid: str, limit: int = 100) -> list[MessageRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM messages WHERE openid = ? ORDER BY ts DESC, n DESC LIMIT ?",
            (openid, limit)).fetchall())
        return [loads(r[0]) for r in reversed(rows)]
