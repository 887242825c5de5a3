"""The features that follow the lifecycle: who is told of a close, a diversion, an applied batch.

`desk.lifecycle` calls these after it has written and published; a follower never changes what
the lifecycle did. A close follower's failure is logged and swallowed (the close stands); the
others run inside the lifecycle's batch, as they did when the lists lived there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from store.records import SessionRecord

log = logging.getLogger("kefu.desk.lifecycle")

# (session as stored, reason): after a close (the satisfaction survey) or a first diversion.
SessionListener = Callable[[SessionRecord, str], Awaitable[None]]


class Followers:
    def __init__(self) -> None:
        # Leave-messages (desk/leave_messages.py): told of each first diversion (to stamp its SLA)
        # and, after every applied batch, that routing may have freed an agent (to offer the backlog).
        self.on_diverted: list[SessionListener] = []
        self.on_applied: list[Callable[[], None]] = []
        # Told the agents each batch of applied events touched (desk/agent_states.py, reports).
        self.on_agents: Callable[[set[str]], Awaitable[None]] | None = None
        self.on_closed: list[SessionListener] = []

    async def closed(self, session: SessionRecord, reason: str) -> None:
        """After each close (an agent's or the idle timeout's)."""
        for listener in self.on_closed:
            try:
                await listener(session, reason)
            except Exception:  # a follower's failure must not undo or fail the close
                log.exception("close listener failed")

    async def diverted(self, session: SessionRecord, reason: str) -> None:
        for listener in self.on_diverted:
            await listener(session, reason)

    async def agents(self, touched: set[str]) -> None:
        if touched and self.on_agents is not None:
            await self.on_agents(touched)

    def applied(self) -> None:
        for listener in self.on_applied:
            listener()
