"""Canned replies (快捷回复) on SQLite: the whole reply as JSON, with its owner key and its
case-folded shortcut as columns; ``UNIQUE (owner, shortcut_key)`` makes a duplicate shortcut
within one owner's replies fail atomically, whoever writes at the same time."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from ..base import DuplicateError, NotFound, canned_owner, canned_record, canned_shortcut_key, check_update
from ..records import CannedFields, CannedReplyRecord, NewCannedReply
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class CannedReplies:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def create(self, data: NewCannedReply) -> CannedReplyRecord:
        rec = canned_record(data)
        owner, key = canned_owner(rec), canned_shortcut_key(rec["shortcut"])

        def op(conn: sqlite3.Connection) -> CannedReplyRecord:
            try:
                conn.execute("INSERT INTO canned (id, owner, shortcut_key, doc) VALUES (?, ?, ?, ?)",
                             (rec["id"], owner, key, dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"shortcut {rec['shortcut']!r} exists for {owner} (or the id exists)") from exc
            return rec

        return await self._writer.write(op)

    async def get(self, reply_id: str) -> CannedReplyRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM canned WHERE id = ?", (reply_id,)).fetchone())
        return None if row is None else loads(row[0])

    async def list(self, owners: Iterable[str] | None) -> list[CannedReplyRecord]:
        if owners is None:
            sql, args = "SELECT doc FROM canned ORDER BY shortcut_key, owner", []
        else:
            args = list(dict.fromkeys(owners))
            if not args:
                return []
            marks = ", ".join("?" * len(args))
            sql = f"SELECT doc FROM canned WHERE owner IN ({marks}) ORDER BY shortcut_key, owner"
        rows = await self._reader.read(lambda c: c.execute(sql, args).fetchall())
        return [loads(r[0]) for r in rows]

    async def update(self, reply_id: str, fields: CannedFields) -> CannedReplyRecord:
        fields = check_update("canned reply", fields, ("id",))

        def op(conn: sqlite3.Connection) -> CannedReplyRecord:
            row = conn.execute("SELECT doc FROM canned WHERE id = ?", (reply_id,)).fetchone()
            if row is None:
                raise NotFound(f"no canned reply {reply_id!r}")
            rec: CannedReplyRecord = loads(row[0])
            rec.update(fields)
            owner = canned_owner(rec)
            try:
                conn.execute("UPDATE canned SET owner = ?, shortcut_key = ?, doc = ? WHERE id = ?",
                             (owner, canned_shortcut_key(rec["shortcut"]), dumps(rec), reply_id))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"shortcut {rec['shortcut']!r} exists for {owner}") from exc
            return rec

        return await self._writer.write(op)

    async def delete(self, reply_id: str) -> CannedReplyRecord:
        def op(conn: sqlite3.Connection) -> CannedReplyRecord:
            row = conn.execute("DELETE FROM canned WHERE id = ? RETURNING doc", (reply_id,)).fetchone()
            if row is None:
                raise NotFound(f"no canned reply {reply_id!r}")
            rec: CannedReplyRecord = loads(row[0])
            return rec

        return await self._writer.write(op)
