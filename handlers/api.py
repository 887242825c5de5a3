"""The console's read API: sessions, customers, queues, agents, audit, skills.

Thin: parse the query, call the desk (whose `desk.access.AccessPolicy` decides who reads which
customers, sessions and transcripts), serialise. A desk error
becomes its HTTP status in `handlers.base`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk.roles import SEARCH_ROLES
from handlers.base import AUTHENTICATED, STAFF, APIError, APIHandler, roles
from handlers.openapi import ANY_OBJ, BOOL, INT, Op, Query, array, obj, ref

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.desk import Desk
    from server import Services
    from store import Store

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


class _DeskHandler(_QueryMixin):
    """A read the desk answers (and whose access it decides)."""

    def initialize(self, accounts: Accounts, desk: Desk) -> None:
        super().initialize(accounts)
        self.desk = desk


class SessionHandler(_DeskHandler):
    access = AUTHENTICATED
    api_path_params = ("session_id",)
    api_doc = {"get": Op("A session and its messages in order (who may read it: docs/protocol.md)",
                         response=obj(("session", "messages"), session=ref("Session"),
                                      messages=array(ref("Message"))), tags=("sessions",))}

    async def get(self, session_id: str) -> None:
        self.write_json(await self.desk.get_session(self.current_user, session_id))


class SessionSearchHandler(_DeskHandler):
    """Query ``openid, agent, skill, since, until, q, limit, offset, csat_min, csat_max, wrapup``; the desk receives them under
    the store's names (``agent`` → ``agent_id``, ``q`` → ``text``)."""

    access = roles(*SEARCH_ROLES)  # the desk's access policy owns the rule; this is its role gate
    api_doc = {"get": Op("Search sessions", query=(
        Query("openid"), Query("agent"), Query("skill"), Query("since", "number", "epoch seconds"),
        Query("until", "number", "epoch seconds"), Query("q", description="text in the messages"),
        Query("limit", "integer"), Query("offset", "integer"),
        Query("csat_min", "integer", "survey score at least (1–5)"),
        Query("csat_max", "integer", "survey score at most (1–5)"), Query("wrapup", description="wrap-up code")),
        response=obj(("sessions",), sessions=array(ref("Session"))), tags=("sessions",))}

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
        # The QA and complaint filters (issue 14): left out when not asked, so the store's
        # signature is all they need.
        for name in ("csat_min", "csat_max"):
            if self.get_query_argument(name, ""):
                filters[name] = self.int_arg(name, 0, 1, 5)
        if self.str_arg("wrapup"):
            filters["wrapup"] = self.str_arg("wrapup")
        self.write_json(await self.desk.search_sessions(self.current_user, **filters))


class CustomerHandler(_DeskHandler):
    access = AUTHENTICATED
    api_path_params = ("openid",)
    api_doc = {"get": Op("A customer's profile", response=ANY_OBJ, tags=("customers",)),
               "patch": Op("Change a customer's tags and note (agents: customers they hold or served)",
                           request=obj(tags=array({"type": "string"}), note={"type": "string"}),
                           response=ANY_OBJ, errors=(400, 403), tags=("customers",))}

    async def get(self, openid: str) -> None:
        self.write_json(await self.desk.get_customer(self.current_user, openid))

    async def patch(self, openid: str) -> None:
        """Tags and note (`desk.customer_records`): who may and what is valid, the desk decides."""
        await self.desk.update_customer(self.current_user, openid, self.json_body())
        self.write_json(await self.desk.get_customer(self.current_user, openid))


class CustomerSessionsHandler(_DeskHandler):
    access = AUTHENTICATED
    api_path_params = ("openid",)
    api_doc = {"get": Op("A customer's past sessions, newest first",
                         response=obj(("sessions",), sessions=array(ref("Session"))), tags=("customers",))}

    async def get(self, openid: str) -> None:
        self.write_json(await self.desk.customer_sessions(self.current_user, openid))


class QueuesHandler(_DeskHandler):
    access = STAFF
    api_doc = {"get": Op("Per skill: waiting, longest_wait_s, agents by status", response=ANY_OBJ, tags=("wall",))}

    async def get(self) -> None:
        self.write_json(await self.desk.queues_snapshot(self.current_user))


class AgentsHandler(_DeskHandler):
    access = STAFF
    api_doc = {"get": Op("The agents and their presence and load", response=ANY_OBJ, tags=("wall",))}

    async def get(self) -> None:
        self.write_json(await self.desk.agents_snapshot(self.current_user))


class AuditHandler(_QueryMixin):
    access = roles("admin")
    api_doc = {"get": Op("The audit log, newest first, filtered and paged", query=(
        Query("actor_id"), Query("action"), Query("target", description="a setting's key, a user's id…"),
        Query("session_id"), Query("since", "number", "epoch seconds, inclusive"),
        Query("until", "number", "epoch seconds, exclusive"), Query("limit", "integer", "1–200, default 50"),
        Query("offset", "integer")),
        response=obj(("entries", "limit", "offset", "more"), entries=array(ref("AuditEntry")), limit=INT,
                     offset=INT, more=BOOL),
        tags=("audit",))}

    def initialize(self, accounts: Accounts, store: Store) -> None:
        super().initialize(accounts)
        self.store = store

    async def get(self) -> None:
        limit = self.int_arg("limit", 50, 1, MAX_PAGE)
        offset = self.int_arg("offset", 0, 0, 10**9)
        # One entry more than the page tells the page whether there is a next one.
        entries = await self.store.list_audit(
            limit=limit + 1, offset=offset,
            actor_id=self.str_arg("actor_id"), session_id=self.str_arg("session_id"),
            action=self.str_arg("action"), target=self.str_arg("target"),
            since=self.float_arg("since"), until=self.float_arg("until"))
        self.write_json({"entries": entries[:limit], "limit": limit, "offset": offset,
                         "more": len(entries) > limit})


class SkillsHandler(_DeskHandler):
    access = AUTHENTICATED
    api_doc = {"get": Op("The skills (queues) and the wrap-up codes",
                         response=obj(("skills",), skills=array(ANY_OBJ), wrapup_codes=array(ANY_OBJ)),
                         tags=("skills",))}

    async def get(self) -> None:
        self.write_json(await self.desk.skills_catalogue())


class SkillHandler(_DeskHandler):
    """``PUT /api/skills/{name}``: create or update one skill (the ``skills`` setting's rules)."""

    access = roles("admin")
    api_path_params = ("name",)
    api_doc = {"get": Op("One skill (queue) with its configuration", response=ANY_OBJ, errors=(404,),
                         tags=("skills",)),
               "put": Op("Create or update a skill; fields left out keep their value", request=ANY_OBJ,
                         response=ANY_OBJ, errors=(400,), tags=("skills",))}

    async def get(self, name: str) -> None:
        self.write_json(await self.desk.skills.get(name))

    async def put(self, name: str) -> None:
        self.write_json(await self.desk.skills.put(self.current_user, name, self.json_body()))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    reads = {"accounts": services.accounts, "desk": services.desk}
    return [
        (r"/api/sessions", SessionSearchHandler, reads),
        (r"/api/sessions/([^/]+)", SessionHandler, reads),
        (r"/api/customers/([^/]+)/sessions", CustomerSessionsHandler, reads),
        (r"/api/customers/([^/]+)", CustomerHandler, reads),
        (r"/api/queues", QueuesHandler, reads),
        (r"/api/agents", AgentsHandler, reads),
        (r"/api/audit", AuditHandler, {"accounts": services.accounts, "store": services.store}),
        (r"/api/skills", SkillsHandler, reads),
        (r"/api/skills/([^/]+)", SkillHandler, reads),
    ]
