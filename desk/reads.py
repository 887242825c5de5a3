"""Reads for the consoles' REST API: sessions, customers, search, the queue and agent figures.

Every read of a customer, a session or a transcript asks `desk.access.AccessPolicy` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desk.access import AccessPolicy
from desk.errors import NotFoundError
from desk.views import SessionViews
from store.base import Store
from store.records import PublicUser
from wechat.budget import ReplyBudget


class Reads:
    def __init__(self, store: Store, access: AccessPolicy, views: SessionViews,
                 wall_snapshot: Callable[[], Any], clock: Callable[[], float]) -> None:
        self.store = store
        self.access = access
        self.views = views
        self.wall_snapshot = wall_snapshot
        self.clock = clock

    async def get_session(self, user: PublicUser, session_id: str) -> dict[str, Any]:
        session = await self.access.check_session(user, session_id, "session")
        return await self.views.bundle(session)

    async def search_sessions(self, user: PublicUser, **filters: Any) -> dict[str, Any]:
        total, sessions = await self.store.search_sessions(**self.access.search_filters(user, filters))
        return {"total": total, "sessions": sessions}

    async def get_customer(self, user: PublicUser, openid: str) -> dict[str, Any]:
        await self.access.check_customer(user, openid, "customer")
        customer = await self.store.get_customer(openid)
        if customer is None:
            raise NotFoundError("no such customer")
        out = dict(customer)
        out.pop("self_service", None)  # the binding flow's state (desk.self_service) is the desk's own
        out["budget"] = ReplyBudget.from_dict(customer.get("budget")).to_public(self.clock())
        return out

    async def customer_sessions(self, user: PublicUser, openid: str) -> dict[str, Any]:
        await self.access.check_customer(user, openid, "customer_sessions")
        return {"sessions": await self.store.customer_sessions(openid, limit=50)}

    async def _wall(self, user: PublicUser | None) -> dict[str, Any]:
        from desk.supervision import Wall

        wall = await self.wall_snapshot()
        return wall if user is None else Wall.narrow(wall, self.access.scope(user))

    async def queues_snapshot(self, user: PublicUser | None = None) -> dict[str, Any]:
        """The queues as ``user`` sees them (a scoped supervisor: their agents counted); None:
        the whole picture (metrics)."""
        return {"queues": (await self._wall(user))["queues"]}

    async def agents_snapshot(self, user: PublicUser | None = None) -> dict[str, Any]:
        """The agents ``user`` may see (a scoped supervisor: their teams')."""
        return {"agents": (await self._wall(user))["agents"]}
