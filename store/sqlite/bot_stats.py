"""The bot's answer usage on SQLite (desk/bot_stats.py): one row of counters per answer, added to
with an UPSERT so that concurrent counts all land."""

from __future__ import annotations

from ..records import BotAnswerCounts
from .reader import Reader
from .writer import Writer


class BotAnswerStats:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def count(self, answer_id: str, used: int, handed_over: int, at: float | None) -> None:
        await self._writer.write(lambda c: c.execute(
            "INSERT INTO bot_answer_stats VALUES (?, ?, ?, ?) ON CONFLICT (answer_id) DO UPDATE SET "
            "used = used + excluded.used, handed_over = handed_over + excluded.handed_over, "
            "last_used_at = coalesce(excluded.last_used_at, last_used_at)",
            (answer_id, int(used), int(handed_over), at)))

    async def all(self) -> dict[str, BotAnswerCounts]:
        rows = await self._reader.read(lambda c: c.execute(
            "SELECT answer_id, used, handed_over, last_used_at FROM bot_answer_stats").fetchall())
        return {r[0]: {"used": int(r[1]), "handed_over": int(r[2]), "last_used_at": r[3]} for r in rows}
