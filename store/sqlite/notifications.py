"""Notifications (template messages, desk/notifications.py) on SQLite: the whole record as JSON,
with the columns the lists filter by (``openid``, ``kind``, ``created_by``), each indexed with
``created_at`` so that a customer's or a bank system's list is one index range, newest first."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..base import NOTIFICATION_FROZEN, DuplicateError, NotFound, check_update, notification_record
from ..records import NewNotification, NotificationFields, NotificationRecord
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class Notifications:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def add(self, data: NewNotification) -> NotificationRecord:
        rec = notification_record(data)

        def op(conn: sqlite3.Connection) -> NotificationRecord:
            try:
                conn.execute("INSERT INTO notifications (id, openid, kind, created_by, created_at, doc) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (rec["id"], rec["openid"], rec["kind"], rec["created_by"], rec["created_at"],
                              dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"notification {rec['id']!r} exists") from exc
            return rec

        return await self._writer.write(op)

    async def update(self, notification_id: str, fields: NotificationFields) -> NotificationRecord:
        fields = check_update("notification", fields, NOTIFICATION_FROZEN)

        def op(conn: sqlite3.Connection) -> NotificationRecord:
            row = conn.execute("SELECT doc FROM notifications WHERE id = ?", (notification_id,)).fetchone()
            if row is None:
                raise NotFound(f"no notification {notification_id!r}")
            rec: NotificationRecord = loads(row[0])
            rec.update(fields)
            conn.execute("UPDATE notifications SET kind = ?, doc = ? WHERE id = ?",
                         (rec["kind"], dumps(rec), notification_id))
            return rec

        return await self._writer.write(op)

    async def get(self, notification_id: str) -> NotificationRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM notifications WHERE id = ?", (notification_id,)).fetchone())
        return None if row is None else loads(row[0])

    async def list(self, openid: str | None, kind: str | None, created_by: str | None, limit: int,
                   offset: int) -> list[NotificationRecord]:
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("openid", openid), ("kind", kind), ("created_by", created_by)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = await self._reader.read(lambda c: c.execute(
            f"SELECT doc FROM notifications {clause} ORDER BY created_at DESC, n DESC LIMIT ? OFFSET ?",
            [*args, limit, offset]).fetchall())
        return [loads(r[0]) for r in rows]
