"""Notifications (信息推送) over HTTP: ``POST /api/notifications`` (a bank system, or an admin)
sends a template message; ``GET /api/notifications?openid&kind`` lists them.

Thin: `desk.notifications.Notifications` checks every field (400 ``bad_field`` naming it), the
rate limits (429 with ``Retry-After``), the customer's subscription (409
``customer_unsubscribed``), calls WeChat, stores and audits; it also decides who reads which
list. A bank system authenticates as a user with the role ``integration`` (docs/operations.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk.errors import Forbidden, ValidationError
from desk.roles import NOTIFY_ROLES
from handlers.base import AUTHENTICATED, APIHandler
from handlers.openapi import ANY_OBJ, INT, NUM, STR, Op, Query, array, nullable, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.notifications import Notifications
    from server import Services

# The fields a POST may carry; anything else is refused by name (a typo must not pass silently).
POST_FIELDS = ("openid", "template_id", "data", "url", "kind")
MAX_PAGE = 200

NOTIFICATION = obj(("id", "openid", "template_id", "status"), id=STR, openid=STR, template_id=STR, title=STR,
                   kind=STR, data=ANY_OBJ, url=nullable(STR), status={"enum": ["pending", "sent", "refused", "failed"]},
                   msgid=nullable(INT), error=nullable(ANY_OBJ), created_at=NUM, created_by=nullable(STR),
                   sent_at=nullable(NUM), session_id=nullable(STR), message_id=nullable(STR))


class NotificationsHandler(APIHandler):
    # Any signed-in role reaches it: the POST is for NOTIFY_ROLES, the list is the desk's to decide.
    access = AUTHENTICATED
    api_doc = {
        "post": Op("Send a template message to a customer (信息推送)", roles=tuple(sorted(NOTIFY_ROLES)),
                   description="data: every field of the configured template, {key: \"value\"} or "
                               "{key: {\"value\", \"color\"}}; kind defaults to the template's purpose. "
                               "409 customer_unsubscribed (WeChat 43004); 429 rate_limited with Retry-After.",
                   request=obj(("openid", "template_id", "data"), openid=STR, template_id=STR, data=ANY_OBJ,
                               url=STR, kind=STR),
                   response=NOTIFICATION, status=201, errors=(400, 403, 409, 429, 502), tags=("notifications",)),
        "get": Op("Notifications, newest first: a customer's (who may read them: docs/protocol.md), or all "
                  "(admin, QA, a supervisor of no team), or the caller's own (integration)",
                  query=(Query("openid"), Query("kind"), Query("limit", "integer"), Query("offset", "integer")),
                  response=obj(("notifications",), notifications=array(NOTIFICATION)), errors=(400, 403),
                  tags=("notifications",)),
    }

    def initialize(self, accounts: Accounts, notifications: Notifications) -> None:
        super().initialize(accounts)
        self.notifications = notifications

    async def post(self) -> None:
        if not self.has_role(*NOTIFY_ROLES):
            raise Forbidden("sending notifications needs the role integration or admin")
        body = self.json_body()
        for name in body:
            if name not in POST_FIELDS:
                raise ValidationError(name, f"unknown field (the fields are {', '.join(POST_FIELDS)})")
        for name in ("openid", "template_id", "url", "kind"):
            if name in body and body[name] is not None and not isinstance(body[name], str):
                raise ValidationError(name, "must be a text")
        if "openid" not in body:
            raise ValidationError("openid", "is required")
        if "data" not in body:
            raise ValidationError("data", "is required")
        record = await self.notifications.send_template(
            self.current_user, body["openid"], body.get("template_id"), body["data"], url=body.get("url"),
            kind=body.get("kind"))
        self.set_header("Location", f"/api/notifications?openid={record['openid']}")
        self.write_json(record, status=201)

    async def get(self) -> None:
        openid = self.get_query_argument("openid", None) or None
        kind = self.get_query_argument("kind", None) or None
        self.write_json(await self.notifications.list_notifications(
            self.current_user, openid=openid, kind=kind, limit=self._int("limit", 50, 1, MAX_PAGE),
            offset=self._int("offset", 0, 0, 1_000_000)))

    def _int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ValidationError(name, "must be a whole number") from None
        if not low <= value <= high:
            raise ValidationError(name, f"must be between {low} and {high}")
        return value


class NotificationTemplatesHandler(APIHandler):
    """The configured templates for any console (an agent answering a leave-message after the
    window picks one); changing them is the setting ``templates`` (admin)."""

    access = AUTHENTICATED
    api_doc = {"get": Op("The configured template messages (setting templates), for the consoles",
                         response=obj(("templates",), templates=array(obj(
                             ("id", "title", "purpose", "fields"), id=STR, title=STR, purpose=STR,
                             fields=array(obj(("key", "label"), key=STR, label=STR))))),
                         tags=("notifications",))}

    def initialize(self, accounts: Accounts, notifications: Notifications) -> None:
        super().initialize(accounts)
        self.notifications = notifications

    async def get(self) -> None:
        self.write_json({"templates": await self.notifications.templates()})


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "notifications": services.desk.notifications}
    return [(r"/api/notifications", NotificationsHandler, args),
            (r"/api/notifications/templates", NotificationTemplatesHandler, args)]
