"""Work the desk does on its own every few seconds: close idle sessions, forget expired revocations."""

from __future__ import annotations

import asyncio
import logging

from desk.parts import DeskParts

log = logging.getLogger("kefu.desk")

IDLE_CHECK_SECS = 15.0
# Revocations of expired tokens are forgotten about once an hour (240 rounds of 15 s).
PURGE_EVERY_ROUNDS = 240


class Housekeeping:
    def __init__(self, parts: DeskParts) -> None:
        self.parts = parts
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(IDLE_CHECK_SECS)
            rounds += 1
            try:
                await self.close_idle_sessions()
                if rounds % PURGE_EVERY_ROUNDS == 0:
                    await self.parts.store.purge_revoked_tokens(self.parts.clock())
            except Exception:
                log.exception("housekeeping failed")

    async def close_idle_sessions(self) -> int:
        """Close assigned sessions whose customer has been silent longer than the idle timeout."""
        p = self.parts
        limit = p.clock() - p.config.idle_timeout
        closed = 0
        for session in await p.store.list_open_sessions():
            last = session.get("last_customer_at") or session.get("accepted_at") or session["created_at"]
            if session["state"] == "assigned" and last < limit:
                await p.texts.tell(session, "idle_closed")
                await p.lifecycle.close(session, wrapup="no_response", note=None, reason="idle")
                closed += 1
        return closed
