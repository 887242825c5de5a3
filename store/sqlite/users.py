"""Users on SQLite, unique by case-folded username."""

from __future__ import annotations

import sqlite3

from ..base import DuplicateError, NotFound, check_update, user_record, username_key
from ..records import NewUser, UserFields, UserRecord
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class Users:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def create(self, data: NewUser) -> UserRecord:
        rec = user_record(data)

        def op(conn: sqlite3.Connection) -> UserRecord:
            try:
                conn.execute("INSERT INTO users (id, username_key, doc) VALUES (?, ?, ?)",
                             (rec["id"], username_key(rec["username"]), dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"username {rec['username']!r} or id exists") from exc
            return rec

        return await self._writer.write(op)

    async def get(self, user_id: str) -> UserRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone())
        return None if row is None else loads(row[0])

    async def by_username(self, username: str) -> UserRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM users WHERE username_key = ?", (username_key(username),)).fetchone())
        return None if row is None else loads(row[0])

    async def list(self) -> list[UserRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM users ORDER BY username_key").fetchall())
        return [loads(r[0]) for r in rows]

    async def update(self, user_id: str, fields: UserFields) -> UserRecord:
        fields = check_update("user", fields, ("id",))
        if "username" in fields and not fields["username"]:
            raise ValueError("a user needs a username")

        def op(conn: sqlite3.Connection) -> UserRecord:
            row = conn.execute("SELECT doc FROM users WHERE id = ?", (user_id,)).fetchone()
            if row is None:
                raise NotFound(f"no user {user_id!r}")
            rec: UserRecord = loads(row[0])
            rec.update(fields)
            try:
                conn.execute("UPDATE users SET username_key = ?, doc = ? WHERE id = ?",
                             (username_key(rec["username"]), dumps(rec), user_id))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"username {rec['username']!r} exists") from exc
            return rec

        return await self._writer.write(op)
