"""The look-ups every feature makes before it acts: a session, one's own session, an agent; the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desk.errors import NotFoundError, NotYourSession
from store.base import Store
from store.records import PublicUser, SessionRecord, UserRecord


class Lookups:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    async def session(self, session_id: str) -> SessionRecord:
        session = await self.store.get_session(session_id) if isinstance(session_id, str) else None
        if session is None:
            raise NotFoundError("no such session")
        return session

    async def own_session(self, user: PublicUser, session_id: str) -> SessionRecord:
        session = await self.session(session_id)
        if session.get("agent_id") != user["id"] or session["state"] != "assigned":
            raise NotYourSession("this session is not assigned to you")
        return session

    async def agent(self, ref: str) -> UserRecord:
        """An active agent by id or username."""
        user = await self.store.get_user(ref) or await self.store.get_user_by_username(ref)
        if user is None or "agent" not in (user.get("roles") or ()) or user.get("disabled"):
            raise NotFoundError(f"no active agent {ref!r}")
        return user

    async def audit(self, user: PublicUser, action: str, session_id: str | None, target: str | None = None,
                    details: dict[str, Any] | None = None) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user["id"], "action": action,
                                    "session_id": session_id, "target": target, "details": details or {}})
