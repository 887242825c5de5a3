"""Replies to the customer: an agent's ``send`` (once per client id), delivery through WeChat, system texts.

A reply is checked against WeChat's budget (48-hour window, 5 replies per customer message),
stored, shown to the agent and monitors, then delivered in the background; its delivery status
follows as ``message_status``. ``system_reply`` tells the customer something (idle close,
leave-message, transfer) only when WeChat still allows it. The bot's replies may go out as the
webhook's passive reply instead (``passive_key``, `desk.passive`): stored as sent at once, no API
call, nothing of the budget used.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from typing import Any

from desk.audience import Audience
from desk.commands import Str, command
from desk.errors import DeskError, ReplyQuotaUsed, ReplyWindowClosed
from desk.frames import CLIENT_ID_MAX_CHARS
from desk.lookups import Lookups
from desk.metrics import Metrics
from desk.passive import PassiveReplies
from desk.transcripts import public_message
from desk.views import SessionViews
from store.base import Store
from store.records import MessageRecord, MessageStatus, PublicUser, SessionRecord
from wechat.budget import ReplyBudget
from wechat.client import WeChatClient
from wechat.errors import WeChatAPIError

log = logging.getLogger("kefu.desk")

# WeChat's longest customer-service text; every reply (agent's or supervisor's) is checked once, here.
REPLY_TEXT = Str(strip=True, max_chars=2000, too_long="text is longer than WeChat's 2,000 characters")
CLIENT_ID = Str(required=False, max_chars=CLIENT_ID_MAX_CHARS, printable=True,
                too_long=f"client_id must be 1-{CLIENT_ID_MAX_CHARS} printable characters")


class Replies:
    def __init__(self, store: Store, audience: Audience, views: SessionViews, lookups: Lookups, wechat: WeChatClient,
                 clock: Callable[[], float], metrics: Metrics | None = None,
                 passive: PassiveReplies | None = None) -> None:
        self.store = store
        self.passive = passive
        self.audience = audience
        self.views = views
        self.lookups = lookups
        self.wechat = wechat
        self.clock = clock
        self.metrics = metrics
        self._sends: set[asyncio.Task[None]] = set()
        self._client_sends: dict[tuple[str, str, str], asyncio.Future[dict[str, Any]]] = {}
        # More fields of a ``reply_window_closed`` refusal for a session (the leave-messages
        # feature names the alternatives: a template message, a callback).
        self.window_closed_details: Callable[[SessionRecord], dict[str, object]] = lambda session: {}

    async def drain(self) -> None:
        """Wait for the deliveries under way (graceful shutdown)."""
        while self._sends:
            await asyncio.wait(list(self._sends))

    @command("send", roles=None, session_id=Str(), text=REPLY_TEXT, client_id=CLIENT_ID)
    async def send(self, user: PublicUser, session_id: str, text: str,
                   client_id: str | None = None) -> dict[str, Any]:
        """An agent's reply. With ``client_id`` a repeat (a retry after a lost socket or a
        restart) answers the message stored the first time, with ``duplicate: true``, and
        sends nothing: the lookup comes before the ownership check, because the session may
        have moved on since the first send and the message is still the agent's."""
        if client_id is None:
            return await self.reply(await self.lookups.own_session(user, session_id), text, author="agent", user=user)
        key = (session_id, user["id"], client_id)
        first = self._client_sends.get(key)
        if first is not None:  # the same send is under way (a resend raced the first): its answer
            return {**await asyncio.shield(first), "duplicate": True}
        # A task of its own, shielded: a socket that closes mid-send cancels the command, and a
        # half-done send (budget counted, message not stored) must not be the result.
        task = asyncio.ensure_future(self._send_once(user, session_id, text, client_id))
        self._client_sends[key] = task
        task.add_done_callback(lambda t: self._send_done(key, t))
        return await asyncio.shield(task)

    def _send_done(self, key: tuple[str, str, str], task: asyncio.Future[dict[str, Any]]) -> None:
        self._client_sends.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved: the command whose socket closed may not be there to read it

    async def _send_once(self, user: PublicUser, session_id: str, text: str, client_id: str) -> dict[str, Any]:
        existing = await self.store.get_client_message(session_id, user["id"], client_id)
        if existing is not None:
            return {"message": public_message(existing), "duplicate": True}
        session = await self.lookups.own_session(user, session_id)
        return await self.reply(session, text, author="agent", user=user, client_id=client_id)

    async def reply(self, session: SessionRecord, text: str, author: str, user: PublicUser | None,
                    client_id: str | None = None, passive_key: str | None = None) -> dict:
        """Store and deliver ``text`` (checked by `REPLY_TEXT`, or the desk's own words). With
        ``passive_key`` (the inbound message it answers) it goes as the webhook's passive reply
        when that webhook call is still open."""
        if self.passive is not None and self.passive.offer(passive_key, text, session["id"]):
            return await self._passive_sent(session, text, author)
        customer: Mapping[str, Any] = await self.store.get_customer(session["openid"]) or {}
        budget = ReplyBudget.from_dict(customer.get("budget"))
        now = self.clock()
        ok, reason = budget.check(now)
        if not ok:
            if reason == "window_closed":
                closed = ReplyWindowClosed(
                    "The customer's 48-hour reply window has closed: WeChat accepts no more messages until the "
                    "customer writes again.")
                closed.extra = self.window_closed_details(session)
                raise closed
            raise ReplyQuotaUsed("All 5 replies WeChat allows since the customer's last message are used: wait "
                                 "for the customer to write again.")
        budget.record_send(now)
        customer = await self.store.update_customer(session["openid"], budget=budget.to_dict())
        message = await self.store.add_message({
            "session_id": session["id"], "openid": session["openid"], "direction": "out", "author": author,
            "author_id": user["id"] if user else None, "author_name": user.get("name") if user else None,
            "type": "text", "text": text, "ts": now, "status": "pending", "client_id": client_id,
        })
        public = public_message(message)
        await self.audience.session_event(session, "message", {"session_id": session["id"], "message": public})
        if agent_id := session.get("agent_id"):
            await self.audience.publish([agent_id], "session_updated",
                                        {"session": await self.views.public_session(session, customer)})
        task = asyncio.ensure_future(self._deliver(session, message))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)
        return {"message": public}

    async def _passive_sent(self, session: SessionRecord, text: str, author: str) -> dict:
        """A text WeChat has in the webhook's answer: in the transcript as sent, shown as usual."""
        message = await self.store.add_message({
            "session_id": session["id"], "openid": session["openid"], "direction": "out", "author": author,
            "author_id": None, "author_name": None, "type": "text", "text": text, "ts": self.clock(),
            "status": "sent"})
        if self.metrics is not None:
            self.metrics.message_out()
        public = public_message(message)
        await self.audience.session_event(session, "message", {"session_id": session["id"], "message": public})
        return {"message": public, "passive": True}

    async def _deliver(self, session: SessionRecord, message: MessageRecord) -> None:
        status: MessageStatus
        error: dict[str, str] | None = None
        text = message["text"]
        assert text is not None  # a reply is stored as a text message, with its text
        try:
            await self.wechat.send_text(session["openid"], text)
            status = "sent"
            if self.metrics is not None:
                self.metrics.message_out()
        except WeChatAPIError as exc:
            status, error = "failed", {"code": f"wechat_{exc.code}", "message": exc.human}
            if self.metrics is not None:
                self.metrics.wechat_api_error(exc.code)
        except Exception as exc:  # network down, timeouts: the agent must still learn it failed
            log.warning("reply delivery failed", extra={"fields": {"session_id": session["id"], "error": repr(exc)}})
            status, error = "failed", {"code": "delivery_failed", "message": "WeChat could not be reached."}
        await self.store.update_message(message["id"], status=status, error=error)
        data: dict[str, Any] = {"session_id": session["id"], "message_id": message["id"], "status": status}
        if error:
            data["error"] = error
        current = await self.store.get_session(session["id"]) or session
        await self.audience.session_event(current, "message_status", data)

    async def system_notice(self, openid: str, text: str) -> None:
        """Tell a customer with no session something (the welcome after a follow) when WeChat
        allows it: charged to their budget like any reply, delivered in the background, and kept
        in no transcript (there is none)."""
        customer = await self.store.get_customer(openid)
        if customer is None:
            return
        budget = ReplyBudget.from_dict(customer.get("budget"))
        now = self.clock()
        if not budget.check(now)[0]:
            return
        budget.record_send(now)
        await self.store.update_customer(openid, budget=budget.to_dict())
        task = asyncio.ensure_future(self._deliver_notice(openid, text))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)

    async def _deliver_notice(self, openid: str, text: str) -> None:
        try:
            await self.wechat.send_text(openid, text)
            if self.metrics is not None:
                self.metrics.message_out()
        except Exception as exc:  # nobody waits for it: logged, never raised into a task nobody reads
            log.warning("system notice not delivered", extra={"fields": {"openid": openid, "error": repr(exc)}})

    async def system_reply(self, session: SessionRecord, text: str) -> None:
        """Tell the customer something (idle close, leave-message) when WeChat still allows it."""
        customer: Mapping[str, Any] = await self.store.get_customer(session["openid"]) or {}
        budget = ReplyBudget.from_dict(customer.get("budget"))
        if not budget.check(self.clock())[0]:
            return
        try:
            await self.reply(session, text, author="system", user=None)
        except DeskError:
            pass

