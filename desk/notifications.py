"""Notifications (信息推送): template messages to customers through WeChat's template-message API.

A bank system (``POST /api/notifications``, as a user with the role ``integration``) or a desk
feature (the leave-message answered after WeChat's 48-hour window: ``parts.notifications``, with
`Notifications.template_for` to find the template for a purpose) calls
:meth:`Notifications.send_template`. In order, and nothing is sent or kept when a step refuses:

1. the request is checked (`desk.notification_rules`): a configured template (setting
   ``templates``), every one of its fields with a value that fits, an http(s) ``url``, a
   ``kind`` (default: the template's ``purpose``) — 400 ``bad_field`` naming the field;
2. the caller's and the customer's token buckets (setting ``notification_limits``) — 429
   ``rate_limited`` with ``retry_after``;
3. a customer Kefu knows has unfollowed the account (``subscribed: false``, from WeChat's
   unsubscribe event) is refused at once — 409 ``customer_unsubscribed``, audited;
4. the notification is stored (``pending``), then sent; WeChat's answer decides its status:
   ``sent`` with WeChat's ``msgid``; ``refused`` (43004 → ``customer_unsubscribed`` and the
   customer is marked unsubscribed; 40003 → ``bad_field`` openid; 40037 → ``bad_field``
   template_id; 47003 → ``bad_field`` naming the value; 45009 → ``rate_limited`` until WeChat's
   day ends); ``failed`` when WeChat could not be reached or refused for another reason
   (502 ``wechat_error``).

Where it is visible: every notification is its own record (store ``notifications``), listed per
customer by ``GET /api/notifications?openid=`` and in the agent's customer panel. A sent one is
also filed into a transcript — the session given as ``session_id`` (a leave-message), else the
customer's open session — as a message of type ``template`` (author ``notification``), so the
agent serving the customer sees it arrive and the transcript keeps it. Every outcome is audited:
``notification_sent``, ``notification_refused``, ``notification_failed`` (target: the openid).

WeChat then posts TEMPLATESENDJOBFINISH to the webhook with the message's fate; the inbound stage
:meth:`Notifications.delivery_report` keeps it as the notification's ``delivery`` and stops the
event there (it is not something the customer did).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from desk.access import AccessPolicy
from desk.audience import Audience
from desk.errors import DeskError, Forbidden, ValidationError, WeChatRefused
from desk.inbound import Processed
from desk.metrics import Metrics
from desk.notification_rules import (
    DEFAULT_LIMITS,
    KIND_RE,
    LIMITS_KEY,
    TEMPLATES_KEY,
    SendLimited,
    SendLimits,
    check_data,
    check_kind,
    check_limits,
    check_openid,
    check_templates,
    check_url,
    find_template,
    summary,
)
from desk.pipeline import InboundWork
from desk.roles import roles_of
from desk.settings import Settings, SettingSpec
from desk.transcripts import public_message
from kefu_config import Config
from store.base import Store
from store.records import MessageRecord, NotificationRecord, NotificationStatus, PublicUser, SessionRecord
from wechat.client import WeChatClient
from wechat.errors import WeChatAPIError, WeChatUnreachableError

log = logging.getLogger("kefu.notifications")

# Who may list every customer's notifications (the others give an openid, or see their own).
LIST_ALL_ROLES = frozenset({"admin", "supervisor", "qa"})
INTEGRATION_ROLE = "integration"
MAX_LIST = 200
# WeChat's template quota (45009) is per day, reset at midnight in Beijing (UTC+8).
WECHAT_DAY_OFFSET_SECS = 8 * 3600
# WeChat's event after each template message, and how far back a report looks for its send.
TEMPLATE_REPORT_EVENT = "TEMPLATESENDJOBFINISH"
REPORT_LOOKBACK = 50
MAX_DELIVERY_CHARS = 64
MAX_EARLY_REPORTS = 1000
RECOVER_LOOKBACK = 200
_DATA_FIELD_RE = re.compile(r"data\.([A-Za-z_0-9]+)\.value")


class CustomerUnsubscribed(DeskError):
    """The customer unfollowed the Official Account: WeChat delivers them no template message."""

    code = "customer_unsubscribed"

    def __init__(self, errcode: int | None = None) -> None:
        super().__init__(None, "The customer has unfollowed the Official Account: WeChat delivers no template "
                               "message to them until they follow it again.")
        if errcode is not None:
            self.extra = {"errcode": errcode}


def _seconds_to_wechat_midnight(now: float) -> float:
    local = now + WECHAT_DAY_OFFSET_SECS
    return 86400 - (local % 86400)


class Notifications:
    def __init__(self, store: Store, settings: Settings, access: AccessPolicy, audience: Audience,
                 clock: Callable[[], float], config: Config, wechat: WeChatClient,
                 metrics: Metrics | None = None) -> None:
        self.store = store
        self.settings = settings
        self.access = access
        self.audience = audience
        self.clock = clock
        self.wechat = wechat
        self.metrics = metrics
        self.limits = SendLimits(clock)
        self._early_reports: OrderedDict[tuple[str, int], tuple[str, float]] = OrderedDict()
        self._turns: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        demo = bool(config.demo)
        self.settings.define(SettingSpec(TEMPLATES_KEY, default=lambda: _default_templates(demo),
                                         validate=check_templates))
        self.settings.define(SettingSpec(LIMITS_KEY, default=lambda: dict(DEFAULT_LIMITS), validate=check_limits))

    # -- sending -----------------------------------------------------------------------------------
    async def send_template(self, actor: PublicUser, openid: str, template_id: str,
                            data: Mapping[str, Any], url: str | None = None, kind: str | None = None,
                            session_id: str | None = None) -> NotificationRecord:
        """Send one template message to ``openid`` for ``actor`` (a user record: ``id``, ``name``).

        ``data``: ``{field key: "value" | {"value", "color"}}`` with every field of the template.
        ``session_id``: the transcript to file it into (default: the customer's open session).
        Returns the stored notification (``status: "sent"``, ``msgid``). Raises `ValidationError`
        (``bad_field``), `SendLimited` (``rate_limited``, ``retry_after``), `CustomerUnsubscribed`
        (``customer_unsubscribed``) or `WeChatRefused` (``wechat_error``). Who may send is the
        caller's to decide (the REST edge: roles integration and admin)."""
        openid = check_openid(openid)
        template = find_template(await self.settings.get(TEMPLATES_KEY), template_id)
        values = check_data(template, data)
        link = check_url(url)
        kind = check_kind(kind, template)
        session = await self._session(openid, session_id)
        actor_id = str(actor.get("id") or "")
        try:
            self.limits.take(await self.settings.get(LIMITS_KEY), actor_id, openid)
        except SendLimited:
            self._count("rate_limited")
            log.info("notification rate-limited", extra={"fields": {"by": actor_id}})
            raise
        # One send (or delivery report) of a customer at a time: a report that overtakes the
        # send's answer then finds the msgid or leaves its word for it (see `delivery_report`).
        async with self._customer_turn(openid):
            return await self._send(actor, openid, template, values, link, kind, session)

    async def _send(self, actor: PublicUser, openid: str, template: dict[str, Any], values: dict[str, dict[str, str]],
                    link: str | None, kind: str, session: SessionRecord | None) -> NotificationRecord:
        actor_id = str(actor.get("id") or "")
        details = {"template_id": template["id"], "kind": kind}
        customer = await self.store.get_customer(openid)
        if customer is not None and _unsubscribed(customer):
            await self._audit(actor_id, "notification_refused", openid, None,
                              {**details, "code": CustomerUnsubscribed.code})
            self._count("unsubscribed")
            raise CustomerUnsubscribed()
        record = await self.store.add_notification({
            "openid": openid, "template_id": template["id"], "title": template["title"], "kind": kind,
            "data": values, "url": link, "created_at": self.clock(), "created_by": actor_id or None})
        try:
            answer = await self.wechat.send_template(openid, template["id"], values, link)
        except WeChatAPIError as exc:
            raise await self._refused(record, actor_id, exc, details) from None
        msgid = answer.get("msgid") if isinstance(answer, dict) else None
        changes: dict[str, Any] = {"status": "sent", "msgid": msgid if isinstance(msgid, int) else None,
                                   "sent_at": self.clock()}
        message = None
        if session is not None:
            message = await self._file(session, record, template, values, actor, msgid)
            changes.update(session_id=session["id"], message_id=message["id"])
        changes.update(self._take_early_report(openid, changes["msgid"]))
        record = await self.store.update_notification(record["id"], **changes)
        if session is not None and message is not None:
            # Shown once the notification says sent (a console reading it on the event sees that),
            # to whoever holds the session now (WeChat's answer took a while).
            current = await self.store.get_session(session["id"]) or session
            await self.audience.session_event(current, "message", {"session_id": session["id"],
                                                                   "message": public_message(message)})
        await self._audit(actor_id, "notification_sent", openid, record.get("session_id"),
                          {**details, "notification_id": record["id"], "msgid": record["msgid"]})
        log.info("notification sent", extra={"fields": {"id": record["id"], "kind": kind, "by": actor_id}})
        self._count("sent")
        return record

    async def _session(self, openid: str, session_id: str | None) -> SessionRecord | None:
        if session_id is None:
            return await self.store.open_session_for_customer(openid)
        session = await self.store.get_session(session_id) if isinstance(session_id, str) and session_id else None
        if session is None or session["openid"] != openid:
            raise ValidationError("session_id", "is not a session of this customer")
        return session

    async def _refused(self, record: NotificationRecord, actor_id: str, exc: WeChatAPIError,
                       details: dict[str, Any]) -> DeskError:
        """Keep what WeChat answered and return the error the caller gets."""
        status: NotificationStatus = "refused"
        error: DeskError
        if exc.code == 43004:
            error = CustomerUnsubscribed(exc.code)
            if await self.store.get_customer(record["openid"]) is not None:
                await self.store.update_customer(record["openid"], subscribed=False, subscribed_at=self.clock())
        elif exc.code == 40003:
            error = ValidationError("openid", "WeChat knows no follower of the Official Account by this openid")
        elif exc.code == 40037:
            error = ValidationError("template_id", "WeChat does not know this template: add it to the Official "
                                    "Account (模板消息) or correct the templates setting")
        elif exc.code == 47003:
            match = _DATA_FIELD_RE.search(exc.errmsg)
            error = ValidationError(f"data.{match.group(1)}" if match else "data",
                                    "WeChat refused this value for the field's kind")
        elif exc.code == 40039:
            error = ValidationError("url", "WeChat refused this link")
        elif exc.code == 45009:
            error = SendLimited("the Official Account has used today's template messages",
                                _seconds_to_wechat_midnight(self.clock()))
        else:
            status = "failed"
            error = WeChatRefused(exc.code, exc.human)
        if isinstance(error, ValidationError):
            error.extra = {**error.extra, "errcode": exc.code}
        elif isinstance(error, SendLimited):
            error.extra = {"errcode": exc.code}
        wire = {"code": error.code, "message": error.message, "errcode": exc.code}
        await self.store.update_notification(record["id"], status=status, error=wire)
        action = "notification_refused" if status == "refused" else "notification_failed"
        self._count(status)
        if self.metrics is not None:
            self.metrics.wechat_api_error(exc.code)
        await self._audit(actor_id, action, record["openid"], None,
                          {**details, "notification_id": record["id"], "code": error.code, "errcode": exc.code})
        if isinstance(exc, WeChatUnreachableError):
            log.warning("notification not sent", extra={"fields": {"id": record["id"], "error": exc.errmsg}})
        return error

    def _count(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.notification(outcome)

    async def _file(self, session: SessionRecord, record: NotificationRecord, template: dict[str, Any],
                    values: dict[str, dict[str, str]], actor: PublicUser, msgid: Any) -> MessageRecord:
        """The sent template message as a message of the session's transcript (shown by the caller)."""
        fields = [{"key": f["key"], "label": f["label"], **values[f["key"]]} for f in template["fields"]]
        message = await self.store.add_message({
            "session_id": session["id"], "openid": record["openid"], "direction": "out", "author": "notification",
            "author_id": actor.get("id"), "author_name": actor.get("name"), "type": "template",
            "text": summary(template, values), "ts": self.clock(), "status": "sent",
            "media": {"notification_id": record["id"], "template_id": template["id"], "title": template["title"],
                      "kind": record["kind"], "fields": fields, "url": record["url"], "msgid": msgid}})
        return message

    async def _audit(self, actor_id: str, action: str, openid: str, session_id: str | None,
                     details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": actor_id or None, "action": action,
                                    "target": openid, "session_id": session_id, "details": details})

    async def recover(self) -> int:
        """At start: a notification still ``pending`` was being sent when Kefu stopped (nothing is
        in flight yet in this process). It becomes ``failed`` with the code ``interrupted`` —
        WeChat may or may not have delivered it, so it is not sent again. Only the latest
        `RECOVER_LOOKBACK` are looked at: the sends under way at a stop are among the newest."""
        stale = [n for n in await self.store.list_notifications(limit=RECOVER_LOOKBACK) if n["status"] == "pending"]
        for record in stale:
            await self.store.update_notification(record["id"], status="failed", error={
                "code": "interrupted", "errcode": None,
                "message": "Kefu stopped while sending this template message; WeChat may have delivered it."})
            await self._audit(record["created_by"] or "", "notification_failed", record["openid"], None,
                              {"notification_id": record["id"], "template_id": record["template_id"],
                               "kind": record["kind"], "code": "interrupted", "errcode": None})
        if stale:
            log.warning("interrupted notifications marked failed", extra={"fields": {"count": len(stale)}})
        return len(stale)

    # -- WeChat's delivery reports ------------------------------------------------------------------
    async def delivery_report(self, work: InboundWork) -> Processed | None:
        """Inbound stage: WeChat's TEMPLATESENDJOBFINISH (``Status`` ``success``, ``failed:user
        block`` — the customer refuses this account's template messages — or ``failed: system
        failed``) is kept on the notification with that ``msgid``; it is no customer action, so
        it stops here (no session, no transcript line, no reply window)."""
        message = work.message
        if not message.is_event or message.event != TEMPLATE_REPORT_EVENT:
            return None
        status = str(message.raw.get("Status") or "")[:MAX_DELIVERY_CHARS] or "unknown"
        msgid = int(message.msg_id) if message.msg_id and message.msg_id.isdigit() else None
        # The report follows its send within seconds: it is among the customer's latest ones.
        if msgid is None:
            return Processed(None)
        async with self._customer_turn(work.openid):
            for record in await self.store.list_notifications(openid=work.openid, limit=REPORT_LOOKBACK):
                if record["msgid"] == msgid:
                    await self.store.update_notification(record["id"], delivery=status, delivery_at=work.now)
                    return Processed(None)
            # WeChat reported before its answer to the send reached us (the send waits for its
            # turn): kept for it (`_take_early_report`). Bounded: one for a send we never made
            # is forgotten in time.
            self._early_reports[(work.openid, msgid)] = (status, work.now)
            while len(self._early_reports) > MAX_EARLY_REPORTS:
                self._early_reports.popitem(last=False)
        return Processed(None)

    @contextlib.asynccontextmanager
    async def _customer_turn(self, openid: str) -> AsyncIterator[None]:
        """A lock per customer, forgotten when nobody holds or awaits it."""
        entry = self._turns.setdefault(openid, (asyncio.Lock(), [0]))
        entry[1][0] += 1
        try:
            async with entry[0]:
                yield
        finally:
            entry[1][0] -= 1
            if not entry[1][0]:
                self._turns.pop(openid, None)

    def _take_early_report(self, openid: str, msgid: Any) -> dict[str, Any]:
        early = self._early_reports.pop((openid, msgid), None) if isinstance(msgid, int) else None
        return {"delivery": early[0], "delivery_at": early[1]} if early else {}

    # -- reading -----------------------------------------------------------------------------------
    async def list_notifications(self, user: PublicUser, openid: str | None = None, kind: str | None = None,
                   limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Notifications newest first. A bank system (integration) sees the ones it sent; with
        ``openid`` anyone who may read that customer (`desk.access`) sees theirs; without, an
        admin, QA or a supervisor of no team sees all."""
        roles = roles_of(user)
        created_by = None
        if openid is not None:
            check_openid(openid)
        if kind is not None and not KIND_RE.match(kind):
            raise ValidationError("kind", "must be a short lower-case name such as transaction")
        if roles == {INTEGRATION_ROLE}:
            created_by = user["id"]
        elif openid is not None:
            await self.access.check_customer(user, openid, "notifications")
        elif not (roles & LIST_ALL_ROLES and self.access.scope(user) is None):
            raise Forbidden("give the customer's openid: your role lists the notifications of your customers only")
        items = await self.store.list_notifications(openid=openid, kind=kind, created_by=created_by,
                                                    limit=max(1, min(limit, MAX_LIST)), offset=max(0, offset))
        return {"notifications": items}

    async def templates(self) -> list[dict[str, Any]]:
        """The configured templates (for the consoles: an agent's "send a template" choice)."""
        value: list[dict[str, Any]] = await self.settings.get(TEMPLATES_KEY)
        return value

    async def template_for(self, purpose: str) -> dict[str, Any] | None:
        """The first configured template for ``purpose`` (``leave_message``, ``transaction``…),
        or None when the admin configured none: ``{"id", "title", "purpose", "fields":
        [{"key", "label"}]}``. A feature fills ``data`` by these keys (`wechat.templates.fit`
        shortens a text to what a field's kind takes)."""
        return next((t for t in await self.templates() if t.get("purpose") == purpose), None)


def _unsubscribed(customer: Mapping[str, Any]) -> bool:
    """Kefu's last word on whether the customer follows the account: the (un)subscribe events,
    else the user-info fetch."""
    if "subscribed" in customer:
        return customer["subscribed"] is False
    return (customer.get("profile") or {}).get("subscribed") is False


def _default_templates(demo: bool) -> list[dict[str, Any]]:
    """None until an admin enters them; the demo starts with the simulated account's library."""
    if not demo:
        return []
    from wechat.sim.templates import demo_templates_setting

    return demo_templates_setting()
