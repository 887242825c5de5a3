"""Teams on SQLite, unique by `team_name_key` of their name."""

from __future__ import annotations

import sqlite3

from ..base import DuplicateError, NotFound, check_update, team_name_key, team_record
from ..records import NewTeam, TeamFields, TeamRecord
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class Teams:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def create(self, data: NewTeam) -> TeamRecord:
        rec = team_record(data)

        def op(conn: sqlite3.Connection) -> TeamRecord:
            try:
                conn.execute("INSERT INTO teams (id, name_key, doc) VALUES (?, ?, ?)",
                             (rec["id"], team_name_key(rec["name"]), dumps(rec)))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"team {rec['name']!r} or id exists") from exc
            return rec

        return await self._writer.write(op)

    async def get(self, team_id: str) -> TeamRecord | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM teams WHERE id = ?", (team_id,)).fetchone())
        return None if row is None else loads(row[0])

    async def list(self) -> list[TeamRecord]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT doc FROM teams ORDER BY name_key").fetchall())
        return [loads(r[0]) for r in rows]

    async def update(self, team_id: str, fields: TeamFields) -> TeamRecord:
        fields = check_update("team", fields, ("id",))
        if "name" in fields and not fields["name"]:
            raise ValueError("a team needs a name")

        def op(conn: sqlite3.Connection) -> TeamRecord:
            row = conn.execute("SELECT doc FROM teams WHERE id = ?", (team_id,)).fetchone()
            if row is None:
                raise NotFound(f"no team {team_id!r}")
            rec: TeamRecord = loads(row[0])
            rec.update(fields)
            try:
                conn.execute("UPDATE teams SET name_key = ?, doc = ? WHERE id = ?",
                             (team_name_key(rec["name"]), dumps(rec), team_id))
            except sqlite3.IntegrityError as exc:
                raise DuplicateError(f"team {rec['name']!r} exists") from exc
            return rec

        return await self._writer.write(op)

    async def delete(self, team_id: str) -> None:
        def op(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM teams WHERE id = ?", (team_id,)).rowcount == 0:
                raise NotFound(f"no team {team_id!r}")

        await self._writer.write(op)
