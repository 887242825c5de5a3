"""Leave-messages (留言) over HTTP: ``GET /api/leave-messages?status=open|assigned|closed&skill`` and
``POST /api/leave-messages/{session_id}/assign`` ``{"to_agent"}`` (supervisor, admin; the socket's
``assign_leave_message`` for the list page, which has no socket). The list, its scope and its
checks are `desk.leave_messages.LeaveMessages`'."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import STAFF, APIError, APIHandler
from handlers.openapi import ANY_OBJ, Op, Query, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.leave_messages import LeaveMessages
    from server import Services


class LeaveMessagesHandler(APIHandler):
    access = STAFF
    api_doc = {"get": Op("Leave-messages (留言), oldest first: status, age, due, breach, the customer's messages",
                         query=(Query("status", description="open, assigned or closed"), Query("skill")),
                         response=obj(("items",), items=array(ANY_OBJ), now={"type": "number"}),
                         errors=(400,), tags=("leave-messages",))}

    def initialize(self, accounts: Accounts, leave_messages: LeaveMessages) -> None:
        super().initialize(accounts)
        self.leave_messages = leave_messages

    async def get(self) -> None:
        status = self.get_query_argument("status", None) or None
        skill = self.get_query_argument("skill", None) or None
        self.write_json(await self.leave_messages.list_items(self.current_user, status, skill))


class LeaveMessageAssignHandler(APIHandler):
    access = STAFF
    api_path_params = ("session_id",)
    api_doc = {"post": Op("Offer a leave-message to an agent now, at any hour (team scope applies)",
                          request=obj(("to_agent",), to_agent={"type": "string"}), response=ANY_OBJ,
                          errors=(400, 403, 404, 409), tags=("leave-messages",))}

    def initialize(self, accounts: Accounts, leave_messages: LeaveMessages) -> None:
        super().initialize(accounts)
        self.leave_messages = leave_messages

    async def post(self, session_id: str) -> None:
        body = self.json_body()
        to_agent = body.get("to_agent") if isinstance(body, dict) else None
        if not isinstance(to_agent, str) or not to_agent.strip():
            raise APIError(400, "bad_field", "to_agent: the agent to offer it to (id or username)",
                           extra={"field": "to_agent"})
        self.write_json(await self.leave_messages.assign_leave_message(self.current_user, session_id,
                                                                       to_agent.strip()))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "leave_messages": services.desk.leave_messages}
    return [(r"/api/leave-messages", LeaveMessagesHandler, args),
            (r"/api/leave-messages/([^/]+)/assign", LeaveMessageAssignHandler, args)]
