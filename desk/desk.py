"""The service desk: the session lifecycle from a customer's message to a closed transcript.

``Desk`` is the one object handlers and console connections talk to. It joins the inbound log
(durable, de-duplicated WeChat messages), the routing engine (through ``RoutingDriver``), the
store (transcripts), the bus (events to consoles) and the WeChat client (replies). Every public
coroutine takes the acting user (the dict ``Accounts.authenticate`` returns) and raises
``DeskError`` with a stable code when the action is not allowed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from desk import handover as ho
from desk.access import AccessPolicy
from desk.audience import Audience
from desk.errors import DeskError
from desk.inbound import InboundLog, Processed
from desk.lifecycle import Lifecycle
from desk.profiles import CustomerProfiles
from desk.routing_driver import RoutingDriver, skills_of
from desk.transcripts import inbound_to_message, public_message
from desk.views import SessionViews, customer_brief
from desk.watchers import Watchers
from store.base import DuplicateError
from wechat.budget import ReplyBudget
from wechat.errors import WeChatAPIError
from wechat.messages import InboundMessage

log = logging.getLogger("kefu.desk")

# A monitor result carries at most this many of the latest messages (the rest: GET /api/sessions/{id}):
# what one command makes the server produce is bounded however long the session grew.
MONITOR_MAX_MESSAGES = 200
IDLE_CHECK_SECS = 15.0
# A reply window that moved by less than this is not worth a session_updated event.
BUDGET_NOTICE_SECS = 60.0
# Revocations of expired tokens are forgotten about once an hour (240 rounds of 15 s).
PURGE_EVERY_ROUNDS = 240
DEFAULT_SKILLS = (("general", "综合咨询"), ("loans", "贷款业务"), ("cards", "信用卡"))
WRAPUP_CODES = ("resolved", "follow_up", "transferred", "no_response", "complaint", "other")
STAFF_ROLES = frozenset({"admin", "supervisor"})
IDLE_NOTICE = "您好，由于长时间未收到您的回复，本次会话已结束。如需帮助，请随时再发消息给我们。"


def _roles(user: dict[str, Any]) -> set[str]:
    return set(user.get("roles") or ())


class Desk:
    def __init__(self, store: Any, bus: Any, accounts: Any, wechat: Any, config: Any,
                 clock: Any = time.time, metrics: Any = None) -> None:
        self.store = store
        self.bus = bus
        self.accounts = accounts
        self.wechat = wechat
        self.config = config
        self.clock = clock
        self.metrics = metrics
        self.access = AccessPolicy(store, clock)  # who reads which customers: every read asks it
        self.inbound = InboundLog(store, self._process_inbound, clock)
        self.audience = Audience(bus)
        self.watchers = Watchers(self.audience.publish, self.wall_snapshot)
        self.audience.watchers = self.watchers
        self.views = SessionViews(store, self._now)
        self.profiles = CustomerProfiles(store, wechat, self._profile_arrived, clock)
        self.routing = RoutingDriver(store, clock, offer_timeout=config.offer_timeout,
                                     disconnect_grace=config.disconnect_grace,
                                     observe=metrics.observe_routing if metrics is not None else None)
        self.lifecycle = Lifecycle(store, self.routing, self.audience, self.views, self.watchers, self._now,
                                   self._system_reply)
        self._sends: set[asyncio.Task[None]] = set()
        self._client_sends: dict[tuple[str, str, str], asyncio.Future[dict[str, Any]]] = {}
        self._idle_task: asyncio.Task[None] | None = None
        self._stopping = False

    def _now(self) -> float:
        return self.clock()  # read at each call: tests move the desk's clock

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.lifecycle.start(await self.skills_catalogue_names())
        self.bus.on_user_gone(self._user_gone)
        self.bus.on_user_back(self._user_back)
        self.accounts.on_user_disabled(self.agent_disabled)
        await self.inbound.recover()
        self._idle_task = asyncio.ensure_future(self._housekeeping_loop())

    async def drain(self) -> None:
        """Finish in-flight webhooks' processing and replies (graceful shutdown)."""
        await self.inbound.drain()
        while self._sends:
            await asyncio.wait(list(self._sends))

    async def stop(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        if self._idle_task is not None:
            self._idle_task.cancel()
        self.profiles.stop()
        self.watchers.close()
        await self.lifecycle.stop()

    # -- inbound -------------------------------------------------------------------------------
    async def ingest(self, message: InboundMessage) -> str:
        """Store a WeChat message durably (once) and return WeChat's answer."""
        return await self.inbound.ingest(message)

    async def _process_inbound(self, key: str, message: InboundMessage, received_at: float) -> Processed:
        # The time WeChat's message was stored, not now: after a crash, recovery processes it again
        # and the customer keeps their place and waiting time.
        now = received_at
        openid = message.openid
        # Both are usually answered from the store's write-through cache: awaited one after the
        # other, they cost no task each (gather would create two per message).
        known = await self.store.get_customer(openid)
        session = await self.store.open_session_for_customer(openid)
        budget = ReplyBudget.from_dict(known.get("budget") if known else None)
        before = budget.to_public(now)
        changes: dict[str, Any] = {}
        if message.is_event:
            budget.on_customer_event(message.event or "", now)
            if message.skill_from_menu:
                changes["last_skill"] = message.skill_from_menu
        else:
            budget.on_customer_message(now)
        changes["budget"] = budget.to_dict()
        if self.metrics is not None:
            self.metrics.message_in()

        if session is not None and not message.is_event and self.routing.knows(session["id"]):
            # The common case: another message in a session that is waiting or being served. The
            # message itself is already durable (the inbound log): the agent sees it while its
            # transcript records are being written, and the next message of this customer waits
            # for those writes.
            filed = inbound_to_message(key, message, session["id"], now)
            # Started (and tracked) before the relay: an accept that crosses this message reads
            # the transcript only once this write is in (`Lifecycle.writes`).
            writes = self.lifecycle.writes.start(session["id"], self.store.file_customer_message(
                openid, now, changes, session["id"], {"last_customer_at": now}, filed, inbound_key=key))
            customer = {**(known or {"openid": openid}), **changes}
            self.profiles.notice(customer)  # a fetch that failed earlier is tried again
            session = {**session, "last_customer_at": now}
            await self._relay_inbound(session, customer, filed, before, now)
            await writes
            return Processed(session["id"], marked=True)

        if session is None and not message.is_event:
            # Right after a diversion, further messages are part of the same left message.
            latest = await self.store.customer_sessions(openid, limit=1)
            if latest and latest[0]["state"] == "diverted" and now - latest[0]["created_at"] < self.config.idle_timeout:
                await self.store.file_customer_message(
                    openid, now, changes, latest[0]["id"], None,
                    inbound_to_message(key, message, latest[0]["id"], now), inbound_key=key)
                return Processed(latest[0]["id"], marked=True)

        customer = await self.store.upsert_customer(openid, seen_at=now, **changes)
        # Stored now, so the fetch (in the background, never awaited here) has a record to fill.
        self.profiles.notice(customer)
        if message.is_event:
            if session is None:
                return Processed(None)
            if message.event == "unsubscribe" and session["state"] in ("queued", "offered"):
                await self.lifecycle.customer_left(session["id"])
            elif message.skill_from_menu and session["state"] in ("queued", "offered"):
                session = await self.lifecycle.change_skill(session["id"], message.skill_from_menu)
        if session is None:
            skill = customer.get("last_skill") or await self._skill_by_keyword(message) or self.config.default_skill
            priority = 10 if "vip" in (customer.get("tags") or ()) else 0
            session = await self.lifecycle.create_queued(openid, skill, priority, now)
            await self._record(message, key, session, now)
            await self.lifecycle.request(session, customer)
            return Processed(session["id"])
        if session["state"] == "queued" and not self.routing.knows(session["id"]):
            # Stored, then the process died before the routing engine heard of it.
            await self.lifecycle.request(session, customer)
        if not message.is_event:
            session = await self.store.update_session(session["id"], last_customer_at=now)
        stored = await self._record(message, key, session, now)
        await self._relay_inbound(session, customer, stored, before, now)
        return Processed(session["id"])

    async def _relay_inbound(self, session: dict[str, Any], customer: dict[str, Any], stored: dict | None,
                             budget_before: dict[str, Any], now: float) -> None:
        """Show a customer's message to the agent and monitors; update the agent's reply budget
        only when it changed in a way a person would notice."""
        if stored is None:
            return
        # To the agent the engine says holds it: the cached session may still say "offered".
        await self.lifecycle.to_session(session["id"], "message",
                                        {"session_id": session["id"], "message": public_message(stored)})
        if self.routing.assigned_agent(session["id"]) is None:
            return
        after = ReplyBudget.from_dict(customer.get("budget")).to_public(now)
        if (after["replies_left"] != budget_before["replies_left"] or after["can_reply"] != budget_before["can_reply"]
                or abs((after["window_ends_at"] or 0) - (budget_before["window_ends_at"] or 0)) >= BUDGET_NOTICE_SECS):
            await self.lifecycle.to_session(session["id"], "session_updated",
                                            {"session": await self._public_session(session, customer)},
                                            monitors=False)

    async def _skill_by_keyword(self, message: InboundMessage) -> str | None:
        """The admin's keyword rules (setting ``keyword_rules``: ``[{"keyword", "skill"}]``, first match wins)."""
        text = (message.content or message.recognition or "").casefold()
        if not text:
            return None
        for rule in await self.store.get_setting("keyword_rules", []) or []:
            keyword = str(rule.get("keyword") or "").casefold()
            if keyword and keyword in text and rule.get("skill"):
                return str(rule["skill"])
        return None

    async def _record(self, message: InboundMessage, key: str, session: dict[str, Any], now: float) -> dict | None:
        try:
            return await self.store.add_message(inbound_to_message(key, message, session["id"], now))
        except DuplicateError:
            return None  # reprocessing after a crash: already in the transcript

    async def _profile_arrived(self, customer: dict[str, Any]) -> None:
        """WeChat told us who a customer is: every console showing them refreshes (the offer may
        have gone out before the name came)."""
        openid = customer["openid"]
        data: dict[str, Any] = {"customer": customer_brief(customer, openid)}
        targets = set(self.watchers.queue_subscribers())
        session = await self.store.open_session_for_customer(openid)
        if session is not None:
            data["session_id"] = session["id"]
            targets.update(self.watchers.monitors_of(session["id"]))
            if session.get("agent_id") and session["state"] == "assigned":
                targets.add(session["agent_id"])
            if session.get("offered_to"):
                targets.add(session["offered_to"])
        await self._publish(sorted(targets), "customer_updated", data)

    # -- events out ------------------------------------------------------------------------------
    async def _publish(self, user_ids: list[str], event: str, data: dict[str, Any]) -> None:
        await self.audience.publish(user_ids, event, data)

    async def _session_event(self, session: dict[str, Any], event: str, data: dict[str, Any],
                             agent: bool = True) -> None:
        await self.audience.session_event(session, event, data, agent=agent)

    async def _public_session(self, session: dict[str, Any], customer: dict[str, Any] | None = None) -> dict:
        return await self.views.public_session(session, customer)

    async def _session_bundle(self, session: dict[str, Any], with_history: bool = False,
                              max_messages: int | None = None) -> dict[str, Any]:
        return await self.views.bundle(session, with_history=with_history, max_messages=max_messages)

    # -- agent commands --------------------------------------------------------------------------
    async def welcome(self, user: dict[str, Any]) -> dict[str, Any]:
        sessions = []
        if "agent" in _roles(user):
            await self.lifecycle.agent_known(user)
            # The engine knows the agent's sessions: no scan of every open session per connection.
            agent = self.routing.agent(user["id"])
            for session_id in agent["sessions"] if agent else ():
                session = await self.store.get_session(session_id)
                if session is not None and session.get("agent_id") == user["id"] and session["state"] == "assigned":
                    sessions.append(await self._session_bundle(session))
        offers = []
        for session_id, expires_in in self.routing.pending_offers(user["id"]):
            session = await self.store.get_session(session_id)
            if session is not None:
                transfer_from = session.get("agent_id") if session["state"] == "assigned" else None
                offers.append(await self.views.offer(session, user["id"], session["skill"], expires_in,
                                                     transfer_from))
        status, since = self.routing.presence_of(user["id"])
        return {"sessions": sessions, "presence": {"status": status, "since": since}, "offers": offers}

    async def set_presence(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        self._require_agent(user)
        if status not in ("available", "away"):
            raise DeskError("bad_request", "status must be available or away")
        await self.lifecycle.agent_known(user)
        await self.lifecycle.set_presence(user["id"], status)
        current, since = self.routing.presence_of(user["id"])
        # Every tab of the agent follows, not only the one that asked.
        await self._publish([user["id"]], "presence", {"agent_id": user["id"], "status": current, "since": since})
        return {"status": current, "since": since}

    async def accept(self, user: dict[str, Any], session_id: str) -> dict[str, Any]:
        self._require_agent(user)
        if not self.routing.is_offered_to(session_id, user["id"]):
            raise DeskError("invalid_state", "this session is not offered to you (the offer may have expired)")
        return await self.lifecycle.accept(session_id, user["id"])

    async def reject(self, user: dict[str, Any], session_id: str) -> dict[str, Any]:
        self._require_agent(user)
        if not self.routing.is_offered_to(session_id, user["id"]):
            raise DeskError("invalid_state", "this session is not offered to you")
        await self.lifecycle.reject(session_id, user["id"])
        return {}

    async def send(self, user: dict[str, Any], session_id: str, text: str,
                   client_id: str | None = None) -> dict[str, Any]:
        """An agent's reply. With ``client_id`` a repeat (a retry after a lost socket or a
        restart) answers the message stored the first time, with ``duplicate: true``, and
        sends nothing: the lookup comes before the ownership check, because the session may
        have moved on since the first send and the message is still the agent's."""
        if client_id is None:
            return await self._reply(await self._own_session(user, session_id), text, author="agent", user=user)
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

    async def _send_once(self, user: dict[str, Any], session_id: str, text: str, client_id: str) -> dict[str, Any]:
        existing = await self.store.get_client_message(session_id, user["id"], client_id)
        if existing is not None:
            return {"message": public_message(existing), "duplicate": True}
        session = await self._own_session(user, session_id)
        return await self._reply(session, text, author="agent", user=user, client_id=client_id)

    async def transfer(self, user: dict[str, Any], session_id: str, to_agent: str | None = None,
                       to_skill: str | None = None, note: str | None = None) -> dict[str, Any]:
        session = await self._own_session(user, session_id)
        if bool(to_agent) == bool(to_skill):
            raise DeskError("bad_request", "give exactly one of to_agent or to_skill")
        name = None
        if to_agent:
            target = await self._resolve_agent(to_agent)
            if target["id"] == user["id"]:
                raise DeskError("bad_request", "you cannot transfer a session to yourself")
            to_agent, name = target["id"], target.get("name") or target.get("username")
            await self.lifecycle.agent_known(target)
        elif to_skill not in await self.skills_catalogue_names():
            raise DeskError("bad_request", f"unknown skill {to_skill!r}")
        if ho.is_pending(session.get("handover")):
            raise DeskError("invalid_state", "a transfer of this session is already waiting for an answer")
        # Recorded before routing hears of it: the offer it causes carries the context. It joins
        # ``transfers`` only once it has happened.
        handover = ho.new_handover("transfer", user["id"], to_agent, to_skill, user["id"], note, self.clock(),
                                   to_name=name)
        await self.lifecycle.transfer(session_id, handover, user["id"], to_agent, to_skill, name)
        if to_agent:  # it stays with this agent until the other accepts: show that it waits
            current = await self.store.get_session(session_id)
            if current is not None and current.get("agent_id") == user["id"] and current["state"] == "assigned":
                await self._publish([user["id"]], "session_updated", {"session": await self._public_session(current)})
            return {"status": "offered", "to_agent": to_agent, "to_name": name}
        return {"status": "transferred", "to_skill": to_skill}

    async def close(self, user: dict[str, Any], session_id: str, wrapup: str, note: str | None = None,
                    reason: str = "closed") -> dict[str, Any]:
        session = await self._own_session(user, session_id)
        await self._close(session, wrapup=wrapup, note=note, reason=reason)
        return {}

    async def _close(self, session: dict[str, Any], wrapup: str | None, note: str | None, reason: str) -> None:
        await self.lifecycle.close(session, wrapup=wrapup, note=note, reason=reason)

    # -- replies ---------------------------------------------------------------------------------
    async def _reply(self, session: dict[str, Any], text: str, author: str, user: dict[str, Any] | None,
                     client_id: str | None = None) -> dict:
        text = (text or "").strip()
        if not text:
            raise DeskError("bad_request", "text is empty")
        if len(text) > 2000:
            raise DeskError("bad_request", "text is longer than WeChat's 2,000 characters")
        customer = await self.store.get_customer(session["openid"]) or {}
        budget = ReplyBudget.from_dict(customer.get("budget"))
        now = self.clock()
        ok, reason = budget.check(now)
        if not ok:
            raise DeskError(
                "reply_window_closed" if reason == "window_closed" else "reply_quota_used",
                "The customer's 48-hour reply window has closed: WeChat accepts no more messages until the "
                "customer writes again." if reason == "window_closed" else
                "All 5 replies WeChat allows since the customer's last message are used: wait for the customer "
                "to write again.")
        budget.record_send(now)
        customer = await self.store.update_customer(session["openid"], budget=budget.to_dict())
        message = await self.store.add_message({
            "session_id": session["id"], "openid": session["openid"], "direction": "out", "author": author,
            "author_id": user["id"] if user else None, "author_name": user.get("name") if user else None,
            "type": "text", "text": text, "ts": now, "status": "pending", "client_id": client_id,
        })
        public = public_message(message)
        await self._session_event(session, "message", {"session_id": session["id"], "message": public})
        if session.get("agent_id"):
            await self._publish([session["agent_id"]], "session_updated",
                                {"session": await self._public_session(session, customer)})
        task = asyncio.ensure_future(self._deliver(session, message))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)
        return {"message": public}

    async def _deliver(self, session: dict[str, Any], message: dict[str, Any]) -> None:
        error = None
        try:
            await self.wechat.send_text(session["openid"], message["text"])
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
        await self._session_event(current, "message_status", data)

    async def _system_reply(self, session: dict[str, Any], text: str) -> None:
        """Tell the customer something (idle close, leave-message) when WeChat still allows it."""
        customer = await self.store.get_customer(session["openid"]) or {}
        budget = ReplyBudget.from_dict(customer.get("budget"))
        if not budget.check(self.clock())[0]:
            return
        try:
            await self._reply(session, text, author="system", user=None)
        except DeskError:
            pass

    # -- supervisors -----------------------------------------------------------------------------
    async def subscribe_queues(self, user: dict[str, Any], conn_key: str) -> dict[str, Any]:
        self._require_staff(user)
        # Snapshot and subscribe with no await in between: no change can fall in a gap.
        snapshot = self.routing.wall_now()
        self.watchers.subscribe_queues(user["id"], conn_key)
        return await self._decorate_wall(snapshot)

    async def unsubscribe_queues(self, user: dict[str, Any], conn_key: str) -> dict[str, Any]:
        self.watchers.unsubscribe_queues(user["id"], conn_key)
        return {}

    async def monitor(self, user: dict[str, Any], session_id: str, conn_key: str) -> dict[str, Any]:
        self._require_staff(user)
        session = await self.access.check_session(user, session_id, "monitor")
        if not self.watchers.monitor(session_id, user["id"], conn_key):
            # This socket watches it already and was sent its transcript; live events carry the
            # rest. Sending the transcript again on every repeat is how one socket grew to 768 MiB.
            return {"session": await self._public_session(session), "messages": [], "already_monitoring": True}
        await self._audit(user, "monitor", session_id)
        return await self._session_bundle(session, max_messages=MONITOR_MAX_MESSAGES)

    async def unmonitor(self, user: dict[str, Any], session_id: str, conn_key: str) -> dict[str, Any]:
        self.watchers.unmonitor(session_id, user["id"], conn_key)
        return {}

    async def whisper(self, user: dict[str, Any], session_id: str, text: str) -> dict[str, Any]:
        self._require_staff(user)
        session = await self._session_or_404(session_id)
        if session["state"] != "assigned":
            raise DeskError("invalid_state", "whispers go to the agent of an assigned session")
        text = (text or "").strip()
        if not text:
            raise DeskError("bad_request", "text is empty")
        message = await self.store.add_message({
            "session_id": session_id, "openid": session["openid"], "direction": "internal", "author": "supervisor",
            "author_id": user["id"], "author_name": user.get("name"), "type": "whisper", "text": text,
            "ts": self.clock(), "status": "sent",
        })
        public = public_message(message)
        await self._session_event(session, "whisper", {"session_id": session_id, "message": public})
        await self._audit(user, "whisper", session_id)
        return {"message": public}

    async def barge(self, user: dict[str, Any], session_id: str, text: str) -> dict[str, Any]:
        self._require_staff(user)
        session = await self._session_or_404(session_id)
        if session["state"] in ("closed", "diverted"):
            raise DeskError("invalid_state", "the session is closed")
        result = await self._reply(session, text, author="supervisor", user=user)
        await self._audit(user, "barge", session_id)
        return result

    async def reassign(self, user: dict[str, Any], session_id: str, to_agent: str) -> dict[str, Any]:
        self._require_staff(user)
        session = await self._session_or_404(session_id)
        if session["state"] in ("closed", "diverted"):
            raise DeskError("invalid_state", "the session is closed")
        target = await self._resolve_agent(to_agent)
        await self.lifecycle.agent_known(target)
        if ho.is_pending(session.get("handover")):
            raise DeskError("invalid_state", "a transfer or reassignment of this session is already waiting for an answer")
        kind = "reassign" if session["state"] == "assigned" else "assign"
        handover = ho.new_handover(kind, user["id"], target["id"], None,
                                   session.get("agent_id") if kind == "reassign" else None, None, self.clock(),
                                   to_name=target.get("name") or target.get("username"))
        await self.lifecycle.reassign(session_id, handover, target["id"], target.get("name") or target.get("username"))
        await self._audit(user, "reassign", session_id, target=target["id"])
        # The outcome follows as a reassign_result event when the agent answers.
        return {"status": "offered", "to_agent": target["id"], "kind": kind}

    async def set_agent_presence(self, user: dict[str, Any], agent_id: str, status: str) -> dict[str, Any]:
        self._require_staff(user)
        if status not in ("available", "away", "offline"):
            raise DeskError("bad_request", "status must be available, away or offline")
        target = await self._resolve_agent(agent_id)
        await self.lifecycle.agent_known(target)
        await self.lifecycle.set_presence(target["id"], status)
        current, since = self.routing.presence_of(target["id"])
        await self._publish([target["id"]], "presence", {"agent_id": target["id"], "status": current, "since": since,
                                                         "reason": "supervisor", "by": user["id"]})
        await self._audit(user, "set_presence", None, target=target["id"], details={"status": status})
        return {}

    async def explain(self, user: dict[str, Any], session_id: str) -> dict[str, Any]:
        self._require_staff(user)
        await self.access.check_session(user, session_id, "explain")
        text, explanation = self.routing.explain(session_id)
        await self._audit(user, "explain", session_id)
        return {"text": text, "explanation": explanation}

    async def connection_closed(self, user: dict[str, Any], conn_key: str) -> None:
        self.watchers.connection_closed(user["id"], conn_key)

    async def _audit(self, user: dict[str, Any], action: str, session_id: str | None, target: str | None = None,
                     details: dict[str, Any] | None = None) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user["id"], "action": action,
                                    "session_id": session_id, "target": target, "details": details or {}})

    # -- wall, reads -----------------------------------------------------------------------------
    async def wall_snapshot(self) -> dict[str, Any]:
        return await self._decorate_wall(self.routing.wall_now())

    async def _decorate_wall(self, wall: dict[str, Any]) -> dict[str, Any]:
        users = {u["id"]: u for u in await self.store.list_users()}
        for agent in wall["agents"]:
            user = users.get(agent["id"]) or {}
            agent["name"] = user.get("name") or agent["id"]
            agent["username"] = user.get("username")
        # The engine knows the agents who logged in since it started; the wall lists every agent,
        # the others as offline, so "offline 0" never hides a team that has not come in.
        listed = {a["id"] for a in wall["agents"]}
        for user in users.values():
            if user["id"] not in listed and "agent" in (user.get("roles") or ()) and not user.get("disabled"):
                wall["agents"].append({
                    "id": user["id"], "name": user.get("name") or user["id"], "username": user.get("username"),
                    "status": "offline", "presence": "offline", "connected": False, "since": None,
                    "time_in_status_s": None, "load": 0, "capacity": int(user.get("max_sessions") or 1),
                    "sessions": [], "offers": [], "skills": skills_of(user), "occupancy": 0.0})
        for queue in wall["queues"]:
            queue["agents"]["offline"] = sum(1 for a in wall["agents"]
                                             if a["status"] == "offline" and queue["skill"] in (a.get("skills") or {}))
        sessions = await self.store.list_open_sessions()
        customers = await self.store.get_customers(s["openid"] for s in sessions)
        wall["sessions"] = [
            {**{k: s.get(k) for k in ("id", "openid", "skill", "state", "agent_id", "queued_at", "accepted_at",
                                      "priority", "last_customer_at")},
             "customer": customer_brief(customers.get(s["openid"]), s["openid"])}
            for s in sessions
        ]
        wall["ts"] = self.clock()
        wall["refresh_secs"] = self.watchers.refresh_secs
        return wall

    async def queues_snapshot(self) -> dict[str, Any]:
        return {"queues": (await self.wall_snapshot())["queues"]}

    async def agents_snapshot(self) -> dict[str, Any]:
        wall = await self.wall_snapshot()
        return {"agents": wall["agents"]}

    async def get_session(self, user: dict[str, Any], session_id: str) -> dict[str, Any]:
        session = await self.access.check_session(user, session_id, "session")
        return await self._session_bundle(session)

    async def search_sessions(self, user: dict[str, Any], **filters: Any) -> dict[str, Any]:
        total, sessions = await self.store.search_sessions(**self.access.search_filters(user, filters))
        return {"total": total, "sessions": sessions}

    async def get_customer(self, user: dict[str, Any], openid: str) -> dict[str, Any]:
        await self.access.check_customer(user, openid, "customer")
        customer = await self.store.get_customer(openid)
        if customer is None:
            raise DeskError("not_found", "no such customer")
        out = dict(customer)
        out["budget"] = ReplyBudget.from_dict(customer.get("budget")).to_public(self.clock())
        return out

    async def customer_sessions(self, user: dict[str, Any], openid: str) -> dict[str, Any]:
        await self.access.check_customer(user, openid, "customer_sessions")
        return {"sessions": await self.store.customer_sessions(openid, limit=50)}

    async def canned_replies(self) -> dict[str, Any]:
        return {"replies": await self.store.get_setting("canned_replies", [])}

    async def skills_catalogue(self) -> dict[str, Any]:
        skills = await self.store.get_setting("skills", None)
        if not skills:
            skills = [{"name": name, "label": label} for name, label in DEFAULT_SKILLS]
            if self.config.default_skill not in {s["name"] for s in skills}:
                skills.insert(0, {"name": self.config.default_skill, "label": self.config.default_skill})
        return {"skills": skills, "wrapup_codes": list(WRAPUP_CODES)}

    async def skills_catalogue_names(self) -> list[str]:
        return [s["name"] for s in (await self.skills_catalogue())["skills"]]

    # -- agents coming and going ---------------------------------------------------------------
    async def _user_gone(self, user_id: str) -> None:
        if not self._stopping:
            await self.lifecycle.agent_disconnected(user_id)

    async def _user_back(self, user_id: str) -> None:
        await self.lifecycle.agent_reconnected(user_id)

    async def agent_disabled(self, user_id: str) -> None:
        await self.lifecycle.set_presence(user_id, "offline")

    async def _housekeeping_loop(self) -> None:
        """Close idle sessions every few seconds; forget expired token revocations now and then."""
        rounds = 0
        while True:
            await asyncio.sleep(IDLE_CHECK_SECS)
            rounds += 1
            try:
                await self.close_idle_sessions()
                if rounds % PURGE_EVERY_ROUNDS == 0:
                    await self.store.purge_revoked_tokens(self.clock())
            except Exception:
                log.exception("housekeeping failed")

    async def close_idle_sessions(self) -> int:
        """Close assigned sessions whose customer has been silent longer than the idle timeout."""
        limit = self.clock() - self.config.idle_timeout
        closed = 0
        for session in await self.store.list_open_sessions():
            last = session.get("last_customer_at") or session.get("accepted_at") or session["created_at"]
            if session["state"] == "assigned" and last < limit:
                await self._system_reply(session, IDLE_NOTICE)
                await self._close(session, wrapup="no_response", note=None, reason="idle")
                closed += 1
        return closed

    # -- checks ----------------------------------------------------------------------------------
    def _require_agent(self, user: dict[str, Any]) -> None:
        if "agent" not in _roles(user):
            raise DeskError("forbidden", "only agents take sessions")

    def _require_staff(self, user: dict[str, Any]) -> None:
        if not _roles(user) & STAFF_ROLES:
            raise DeskError("forbidden", "only supervisors and admins may do this")

    async def _session_or_404(self, session_id: str) -> dict[str, Any]:
        session = await self.store.get_session(session_id) if isinstance(session_id, str) else None
        if session is None:
            raise DeskError("not_found", "no such session")
        return session

    async def _own_session(self, user: dict[str, Any], session_id: str) -> dict[str, Any]:
        session = await self._session_or_404(session_id)
        if session.get("agent_id") != user["id"] or session["state"] != "assigned":
            raise DeskError("not_your_session", "this session is not assigned to you")
        return session

    async def _resolve_agent(self, ref: str) -> dict[str, Any]:
        user = await self.store.get_user(ref) or await self.store.get_user_by_username(ref)
        if user is None or "agent" not in (user.get("roles") or ()) or user.get("disabled"):
            raise DeskError("not_found", f"no active agent {ref!r}")
        return user
