"""Small settings on SQLite: one JSON value per key."""

from __future__ import annotations

from typing import Any

from .codec import dumps, loads
from .reader import Reader
from .writer import Writer


class Settings:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def get(self, key: str, default: Any = None) -> Any:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT value FROM settings WHERE key = ?", (key,)).fetchone())
        return default if row is None else loads(row[0])

    async def set(self, key: str, value: Any) -> None:
        doc = dumps(value)
        await self._writer.write(lambda c: c.execute(
            "INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, doc)))
