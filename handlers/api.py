"""The console's read API: sessions, customers, queues, agents, audit, canned replies, skills.

Thin: parse the query, call the desk (whose `desk.access.AccessPolicy` decides who reads which
customers, sessions and transcripts), serialise. A desk error
becomes its HTTP status in `handlers.base`.
"""

from __future__ import annotations

from typing import Any

from desk.roles import SEARCH_ROLES
from handlers.base import AUTHENTICATED, STAFF, APIError, APIHandler, roles

# A page bigger than this is a report, not a screen; reports have their own export.
MAX_PAGE = 200


class _QueryMixin(APIHandler):
    def int_arg(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise APIError(400, "bad_request", f"{name} must be a whole number") from None
        if not low <= value <= high:
            raise APIError(400, "bad_request", f"{name} must be between {low} and {high}")
        return value

    def float_arg(self, name: str) -> float | None:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return None
        try:
            return float(raw)
        except ValueError:
            raise APIError(400, "bad_request", f"{name} must be epoch seconds") from None

    def str_arg(self, name: str) -> str | None:
        raw = self.get_query_argument(name, None)
        return raw or None


class SessionHandler(_QueryMixin):
    access = AUTHENTICATED

    async def get(self, session_id: str) -> None:
        self.write_json(await self.services.desk.get_session(self.current_user, session_id))


class SessionSearchHandler(_QueryMixin):
    """Query ``openid, agent, skill, since, until, q, limit, offset``; the desk receives them under
    the store's names (``agent`` → ``agent_id``, ``q`` → ``text``)."""

    access = roles(*SEARCH_ROLES)  # the desk's access policy owns the rule; this is its role gate

    async def get(self) -> None:
        filters: dict[str, Any] = {
            "openid": self.str_arg("openid"),
            "agent_id": self.str_arg("agent"),
            "skill": self.str_arg("skill"),
            "since": self.float_arg("since"),
            "until": self.float_arg("until"),
            "text": self.str_arg("q"),
            "limit": self.int_arg("limit", 50, 1, MAX_PAGE),
            "offset": self.int_arg("offset", 0, 0, 10**9),
        }
        self.write_json(await self.services.desk.search_sessions(self.current_user, **filters))


class CustomerHandler(_QueryMixin):
    access = AUTHENTICATED

    async def get(self, openid: str) -> None:
        self.write_json(await self.services.desk.get_customer(self.current_user, openid))


class CustomerSessionsHandler(_QueryMixin):
    access = AUTHENTICATED

    async def get(self, openid: str) -> None:
        self.write_json(await self.services.desk.customer_sessions(self.current_user, openid))


class QueuesHandler(_QueryMixin):
    access = STAFF

    async def get(self) -> None:
        self.write_json(await self.services.desk.queues_snapshot())


class AgentsHandler(_QueryMixin):
    access = STAFF

    async def get(self) -> None:
        self.write_json(await self.services.desk.agents_snapshot())


class AuditHandler(_QueryMixin):
    access = roles("admin")

    async def get(self) -> None:
        entries = await self.services.store.list_audit(
            limit=self.int_arg("limit", 50, 1, MAX_PAGE), offset=self.int_arg("offset", 0, 0, 10**9),
            actor_id=self.str_arg("actor_id"), session_id=self.str_arg("session_id"))
        self.write_json({"entries": entries})


class CannedHandler(_QueryMixin):
    access = AUTHENTICATED

    async def get(self) -> None:
        self.write_json(await self.services.desk.canned_replies())


class SkillsHandler(_QueryMixin):
    access = AUTHENTICATED

    async def get(self) -> None:
        self.write_json(await self.services.desk.skills_catalogue())


def default_handlers(services: Any) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"services": services}
    return [
        (r"/api/sessions", SessionSearchHandler, args),
        (r"/api/sessions/([^/]+)", SessionHandler, args),
        (r"/api/customers/([^/]+)/sessions", CustomerSessionsHandler, args),
        (r"/api/customers/([^/]+)", CustomerHandler, args),
        (r"/api/queues", QueuesHandler, args),
        (r"/api/agents", AgentsHandler, args),
        (r"/api/audit", AuditHandler, args),
        (r"/api/canned", CannedHandler, args),
        (r"/api/skills", SkillsHandler, args),
    ]
