"""Revoked token ids (JWT ``jti``) on SQLite, each kept until its token would have expired."""

from __future__ import annotations

import time

from .reader import Reader
from .writer import Writer


class RevokedTokens:
    def __init__(self, writer: Writer, reader: Reader) -> None:
        self._writer = writer
        self._reader = reader

    async def revoke(self, jti: str, expires_at: float) -> None:
        await self._writer.write(lambda c: c.execute(
            "INSERT INTO revoked_tokens VALUES (?, ?) ON CONFLICT (jti) DO UPDATE SET "
            "expires_at = max(expires_at, excluded.expires_at)", (jti, float(expires_at))))

    async def is_revoked(self, jti: str) -> bool:
        row = await self._reader.read(lambda c: c.execute(
            "SELECT 1 FROM revoked_tokens WHERE jti = ?", (jti,)).fetchone())
        return row is not None

    async def purge(self, now: float | None = None) -> int:
        cutoff = time.time() if now is None else now
        return await self._writer.write(lambda c: c.execute(
            "DELETE FROM revoked_tokens WHERE expires_at < ?", (cutoff,)).rowcount)
