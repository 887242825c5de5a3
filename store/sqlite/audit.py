"""The audit log on SQLite: append, and list newest first with optional filters."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..base import audit_record
from ..records import AuditEntry, NewAuditEntry
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class AuditLog:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def add(self, data: NewAuditEntry) -> AuditEntry:
        rec = audit_record(data)
        target = rec["target"] if isinstance(rec["target"], str) else None

        def op(conn: sqlite3.Connection) -> AuditEntry:
            conn.execute("INSERT INTO audit (ts, actor_id, session_id, action, target, doc) "
                         "VALUES (?, ?, ?, ?, ?, ?)",
                         (rec["ts"], rec["actor_id"], rec["session_id"], rec["action"], target, dumps(rec)))
            return rec

        return await self._writer.write(op)

    async def list(self, limit: int = 50, offset: int = 0, actor_id: str | None = None,
                   session_id: str | None = None, action: str | None = None, target: str | None = None,
                   since: float | None = None, until: float | None = None) -> list[AuditEntry]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("actor_id", actor_id), ("session_id", session_id), ("action", action),
                              ("target", target)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if since is not None:
            where.append("ts >= ?")
            args.append(since)
        if until is not None:
            where.append("ts < ?")
            args.append(until)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = await self._reader.read(lambda c: c.execute(
            f"SELECT doc FROM audit {clause} ORDER BY ts DESC, n DESC LIMIT ? OFFSET ?",
            [*args, limit, offset]).fetchall())
        return [loads(r[0]) for r in rows]
