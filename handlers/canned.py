"""Canned replies (快捷回复) over HTTP: ``GET``/``POST /api/canned``, ``PATCH``/``DELETE
/api/canned/{id}``.

Thin: `desk.canned.CannedReplies` owns who may use and write which replies, the validation and
the audit. ``GET /api/canned`` lists what the caller may use; ``?manage=1`` adds what the caller
may change (an admin: every team's replies), for the admin page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import AUTHENTICATED, APIHandler
from handlers.openapi import ANY_OBJ, Op, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.canned import CannedReplies
    from server import Services


class _CannedHandler(APIHandler):
    # Any signed-in role reaches it; the desk decides per scope who may write (403 otherwise).
    access = AUTHENTICATED

    def initialize(self, accounts: Accounts, canned: CannedReplies) -> None:
        super().initialize(accounts)
        self.canned = canned


class CannedListHandler(_CannedHandler):
    api_doc = {"get": Op("The canned replies the caller may use (?manage=1: also those they may change)",
                         response=obj(("replies",), replies=array(ANY_OBJ)), tags=("texts",)),
               "post": Op("Create a canned reply (public: admin; team: its supervisors; personal: anyone)",
                          request=obj(("shortcut", "text", "scope"), shortcut={"type": "string"},
                                      title={"type": "string"}, text={"type": "string"},
                                      category={"type": "string"}, scope={"type": "string"},
                                      team_id={"type": "string"}),
                          response=ANY_OBJ, status=201, errors=(400, 403, 409), tags=("texts",))}

    async def get(self) -> None:
        if self.get_query_argument("manage", "") in ("1", "true"):
            self.write_json(await self.canned.manageable(self.current_user))
        else:
            self.write_json(await self.canned.usable(self.current_user))

    async def post(self) -> None:
        reply = await self.canned.create(self.current_user, self.json_body())
        self.set_header("Location", f"/api/canned/{reply['id']}")
        self.write_json(reply, status=201)


class CannedReplyHandler(_CannedHandler):
    api_path_params = ("reply_id",)
    api_doc = {"patch": Op("Change a canned reply", request=ANY_OBJ, response=ANY_OBJ, errors=(400, 403, 404, 409),
                           tags=("texts",)),
               "delete": Op("Delete a canned reply", response=ANY_OBJ, errors=(403, 404), tags=("texts",))}

    async def patch(self, reply_id: str) -> None:
        self.write_json(await self.canned.update(self.current_user, reply_id, self.json_body()))

    async def delete(self, reply_id: str) -> None:
        self.write_json(await self.canned.delete(self.current_user, reply_id))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "canned": services.desk.canned}
    return [
        (r"/api/canned", CannedListHandler, args),
        (r"/api/canned/([^/]+)", CannedReplyHandler, args),
    ]
