"""The routing event log and snapshot on SQLite: events numbered by an AUTOINCREMENT ``seq``
(a pruned seq is never handed out again), one snapshot row replaced in place."""

from __future__ import annotations

import sqlite3

from ..records import RoutingEvent, RoutingSnapshot
from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class RoutingLog:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def append(self, events: list[RoutingEvent]) -> list[int]:
        docs = [dumps({k: v for k, v in e.items() if k != "seq"}) for e in events]

        def op(conn: sqlite3.Connection) -> list[int]:
            seqs = []
            for d in docs:
                seq = conn.execute("INSERT INTO routing_events (doc) VALUES (?)", (d,)).lastrowid
                assert seq is not None  # always set after an INSERT into a rowid table
                seqs.append(seq)
            return seqs

        return await self._writer.write(op) if docs else []

    async def events(self, after_seq: int = 0) -> list[RoutingEvent]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT seq, doc FROM routing_events WHERE seq > ? ORDER BY seq", (after_seq,)).fetchall())
        return [dict(loads(doc), seq=seq) for seq, doc in rows]

    async def save_snapshot(self, seq: int, snapshot: RoutingSnapshot) -> None:
        doc = dumps(snapshot)
        await self._writer.write(lambda c: c.execute(
            "INSERT OR REPLACE INTO routing_snapshot VALUES (1, ?, ?)", (int(seq), doc)))

    async def load_snapshot(self) -> tuple[int, RoutingSnapshot] | None:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT seq, doc FROM routing_snapshot WHERE id = 1").fetchone())
        return None if row is None else (row[0], loads(row[1]))

    async def prune(self, upto_seq: int) -> int:
        return await self._writer.write(lambda c: c.execute(
            "DELETE FROM routing_events WHERE seq <= ?", (upto_seq,)).rowcount)
