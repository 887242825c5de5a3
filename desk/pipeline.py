"""Inbound as a pipeline of stages: from a stored WeChat message to a filed, routed, relayed one.

`desk.inbound.InboundLog` de-duplicates and stores each message, then hands it here in order per
customer. The stages run in a fixed order; each may finish the message (returns what became of
it) or pass it on: identify the customer → bot (desk/bot.py) → choose the skill (menu,
keywords, default) → file into the open session → file into a fresh leave-message → route (a new
session, or a waiting one). A new capability (bot answers, satisfaction replies) is one more stage
in :attr:`InboundPipeline.stages`, not a branch in one function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from desk.audience import Audience
from desk.bot import Bot
from desk.inbound import Processed
from desk.lifecycle import Lifecycle
from desk.metrics import Metrics
from desk.profiles import CustomerProfiles
from desk.routing_driver import RoutingDriver
from desk.texts import SystemTexts, estimate_wait_min
from desk.transcripts import inbound_to_message, public_message
from desk.views import SessionViews, customer_brief
from kefu_config import Config
from routing import state as routing_state  # the engine's session states
from store.base import DuplicateError, Store
from store.records import WAITING_STATES, CustomerFields, CustomerRecord, MessageRecord, SessionRecord
from wechat.budget import ReplyBudget
from wechat.messages import InboundMessage

# A reply window that moved by less than this is not worth a session_updated event.
BUDGET_NOTICE_SECS = 60.0
# Earlier releases' one rule, for a pipeline built without the priority rules (unit tests).
VIP_PRIORITY = 10


async def _vip_priority(customer: CustomerRecord) -> int:
    return VIP_PRIORITY if "vip" in (customer.get("tags") or ()) else 0


@dataclass
class InboundWork:
    """One message on its way through the stages, and what the stages learnt about it."""

    key: str
    message: InboundMessage
    now: float  # when WeChat's message was stored: recovery after a crash keeps the customer's place
    known: CustomerRecord | None = None  # the customer as stored before this message
    session: SessionRecord | None = None  # their open session
    changes: CustomerFields = field(default_factory=lambda: CustomerFields())  # what this message changes of the customer
    budget_before: dict[str, Any] = field(default_factory=dict)
    skill: str | None = None  # for a new session
    _latest: list[SessionRecord] | None = field(default=None, repr=False)

    @property
    def openid(self) -> str:
        return self.message.openid

    async def latest_session(self, store: Store) -> SessionRecord | None:
        """The customer's most recent session, open or not, read once per message: the survey,
        the bot and the leave-message stages each ask, and none changes it before the next asks
        (a stage that writes finishes the message)."""
        if self._latest is None:
            self._latest = await store.customer_sessions(self.openid, limit=1)
        return self._latest[0] if self._latest else None


Stage = Callable[[InboundWork], Awaitable[Processed | None]]


class InboundPipeline:
    def __init__(self, store: Store, routing: RoutingDriver, lifecycle: Lifecycle, audience: Audience,
                 views: SessionViews, profiles: CustomerProfiles, config: Config, texts: SystemTexts,
                 metrics: Metrics | None = None,
                 priority: Callable[[CustomerRecord], Awaitable[int]] = _vip_priority, bot: Bot | None = None,
                 self_service: Stage | None = None) -> None:
        self.store = store
        self.routing = routing
        self.lifecycle = lifecycle
        self.audience = audience
        self.views = views
        self.profiles = profiles
        self.config = config
        self.texts = texts
        self.metrics = metrics
        self.priority = priority  # what the customer's tags earn a new session (desk.priority)
        self.answerer = bot  # desk.bot.Bot: answers in bot_first / bot_only skills
        # Leave-messages (desk/leave_messages.py): a customer wrote into their open leave-message.
        self.leave_message_joined: Callable[[SessionRecord], Awaitable[None]] | None = None
        self.stages: list[Stage] = [self.identify, self.bot, self.choose_skill, self.file_into_open_session,
                                    self.file_into_left_message, self.route]
        if self_service is not None:  # desk.self_service: bank queries and binding, before the bot
            self.stages.insert(1, self_service)

    async def process(self, key: str, message: InboundMessage, received_at: float) -> Processed:
        work = InboundWork(key, message, received_at)
        for stage in self.stages:
            done = await stage(work)
            if done is not None:
                return done
        raise AssertionError("the route stage answers every message")

    # -- stages ----------------------------------------------------------------------------------
    async def identify(self, work: InboundWork) -> Processed | None:
        """Who wrote, their open session, and what the message does to their reply budget."""
        message, now = work.message, work.now
        # Both are usually answered from the store's write-through cache: awaited one after the
        # other, they cost no task each (gather would create two per message).
        work.known = await self.store.get_customer(work.openid)
        work.session = await self.store.open_session_for_customer(work.openid)
        budget = ReplyBudget.from_dict(work.known.get("budget") if work.known else None)
        work.budget_before = budget.to_public(now)
        if message.is_event:
            budget.on_customer_event(message.event or "", now)
            if message.event in ("subscribe", "unsubscribe"):
                # Whether WeChat delivers template messages to them (desk/notifications.py).
                work.changes["subscribed"] = message.event == "subscribe"
                work.changes["subscribed_at"] = now
            if message.skill_from_menu:
                work.changes["last_skill"] = message.skill_from_menu
        else:
            budget.on_customer_message(now)
        work.changes["budget"] = budget.to_dict()
        if self.metrics is not None:
            self.metrics.message_in()
        return None

    async def bot(self, work: InboundWork) -> Processed | None:
        """The bot (desk.bot, 客服机器人): in a bot skill it answers and finishes the message, or
        hands over: the bot's own session then joins the skill's queue (its transcript goes along)."""
        if self.answerer is None or work.session is not None or work.message.is_event:
            return None
        await self.choose_skill(work)
        turn = await self.answerer.take(work)
        if turn is None:
            return None
        if not turn.hand_over:
            return Processed(turn.session["id"], marked=True)
        stored = await self.store.get_customer(work.openid)
        # The identify stage stored the customer; a bare record stands in only if it vanished.
        customer = stored if stored is not None else cast(CustomerRecord, {"openid": work.openid})
        session = await self.lifecycle.hand_to_queue(turn.session["id"], customer, work.now,
                                                     await self.priority(customer))
        await self._tell_queued(session)
        return Processed(session["id"], marked=True)

    async def choose_skill(self, work: InboundWork) -> Processed | None:
        """The skill a new session waits for: the menu's last choice, the keyword rules, the default."""
        if work.session is not None or work.message.is_event:
            return None
        # This message's menu choice, else the one stored with the customer.
        last_skill = work.changes["last_skill"] if "last_skill" in work.changes else \
            (work.known.get("last_skill") if work.known else None)
        work.skill = last_skill or await self._skill_by_keyword(work.message) or self.config.default_skill
        return None

    async def file_into_open_session(self, work: InboundWork) -> Processed | None:
        """The common case: another message in a session that is waiting or being served. The
        message itself is already durable (the inbound log): the agent sees it while its
        transcript records are being written, and the next message of this customer waits for
        those writes."""
        session, message, now = work.session, work.message, work.now
        if session is None or message.is_event or not self.routing.knows(session["id"]):
            return None
        filed = inbound_to_message(work.key, message, session["id"], now)
        # Started (and tracked) before the relay: an accept that crosses this message reads the
        # transcript only once this write is in (`Lifecycle.writes`).
        writes = self.lifecycle.writes.start(session["id"], self.store.file_customer_message(
            work.openid, now, work.changes, session["id"], {"last_customer_at": now}, filed, inbound_key=work.key))
        customer = {**(work.known or {"openid": work.openid}), **work.changes}
        self.profiles.notice(customer)  # a fetch that failed earlier is tried again
        await self._relay(session["id"], {**session, "last_customer_at": now}, customer, filed, work)
        await writes
        await self._bot_while_queued(work, session)
        return Processed(session["id"], marked=True)

    async def file_into_left_message(self, work: InboundWork) -> Processed | None:
        """Right after a diversion, and for as long as it is an open leave-message (留言,
        desk/leave_messages.py), further messages are part of the same left message; whoever
        monitors it sees them."""
        if work.session is not None or work.message.is_event:
            return None
        latest = await work.latest_session(self.store)
        if latest is not None and latest["state"] == "diverted" and (
                latest.get("leave_message") or work.now - latest["created_at"] < self.config.idle_timeout):
            session_id = latest["id"]
            filed = inbound_to_message(work.key, work.message, session_id, work.now)
            _, _, stored = await self.store.file_customer_message(
                work.openid, work.now, work.changes, session_id, {"last_customer_at": work.now}, filed,
                inbound_key=work.key)
            if stored is not None:
                await self.lifecycle.to_session(session_id, "message", {"session_id": session_id,
                                                                        "message": public_message(stored)})
            if self.leave_message_joined is not None and latest.get("leave_message"):
                await self.leave_message_joined(latest)
            return Processed(session_id, marked=True)
        return None

    async def route(self, work: InboundWork) -> Processed | None:
        """A new session into its skill's queue, or the message into a session the engine has yet to
        hear of (or a menu choice, or the customer leaving)."""
        message, now, session = work.message, work.now, work.session
        customer = await self.store.upsert_customer(work.openid, seen_at=now, **work.changes)
        # Stored now, so the fetch (in the background, never awaited here) has a record to fill.
        self.profiles.notice(customer)
        if message.is_event:
            if message.event == "subscribe":
                await self.texts.welcome(work.openid, session)
            if session is None:
                return Processed(None)
            if message.event == "unsubscribe" and session["state"] in WAITING_STATES:
                await self.lifecycle.customer_left(session["id"])
            elif message.skill_from_menu and session["state"] in WAITING_STATES:
                session = await self.lifecycle.change_skill(session["id"], message.skill_from_menu)
        if session is None:
            assert work.skill is not None
            priority = await self.priority(customer)
            session = await self.lifecycle.create_queued(work.openid, work.skill, priority, now)
            await self._record(work, session)
            await self.lifecycle.request(session, customer)
            await self._tell_queued(session)
            return Processed(session["id"])
        if session["state"] == "queued" and not self.routing.knows(session["id"]):
            # Stored, then the process died before the routing engine heard of it.
            await self.lifecycle.request(session, customer)
        if not message.is_event:
            session = await self.store.update_session(session["id"], last_customer_at=now)
        stored = await self._record(work, session)
        await self._relay(session["id"], session, customer, stored, work)
        return Processed(session["id"])

    # -- helpers ---------------------------------------------------------------------------------
    async def _bot_while_queued(self, work: InboundWork, session: SessionRecord) -> None:
        """A customer still waiting (the engine says queued, not yet offered) may get the bot's
        sure answer with their place in the queue (`desk.bot.Bot.while_queued`)."""
        engine = self.routing.engine
        state = engine.session(session["id"]) if engine is not None else None
        if self.answerer is None or work.message.is_event or not state or state.get("state") != "queued":
            return
        position = int(state["position"]) if state.get("position") else None
        await self.answerer.while_queued(work, session, position)

    async def _relay(self, session_id: str, session: SessionRecord, customer: Mapping[str, Any],
                     stored: Mapping[str, Any] | None, work: InboundWork) -> None:
        """Show a customer's message to the agent and monitors; update the agent's reply budget
        only when it changed in a way a person would notice."""
        if stored is None:
            return
        # To the agent the engine says holds it: the cached session may still say "offered".
        await self.lifecycle.to_session(session_id, "message", {"session_id": session_id,
                                                                "message": public_message(stored)})
        if self.routing.assigned_agent(session_id) is None:
            return
        before = work.budget_before
        after = ReplyBudget.from_dict(customer.get("budget")).to_public(work.now)
        if (after["replies_left"] != before["replies_left"] or after["can_reply"] != before["can_reply"]
                or abs((after["window_ends_at"] or 0) - (before["window_ends_at"] or 0)) >= BUDGET_NOTICE_SECS):
            await self.lifecycle.to_session(session_id, "session_updated",
                                            {"session": await self.views.public_session(session, customer)},
                                            monitors=False)

    async def _skill_by_keyword(self, message: InboundMessage) -> str | None:
        """The admin's keyword rules (setting ``keyword_rules``: ``[{"keyword", "skill"}]``, first match wins)."""
        text = message.content or message.recognition or ""
        return self.texts.skill_by_keyword(text) if text else None

    async def _tell_queued(self, session: SessionRecord) -> None:
        """A new session that waits (no agent was offered it at once) is told its place in the
        queue and a rough wait (`desk.texts.estimate_wait_min`, from the engine's queue figures)."""
        engine = self.routing.engine
        state = engine.session(session["id"]) if engine is not None else None
        if not state or state.get("state") != routing_state.QUEUED or not state.get("position"):
            return
        stats = engine.queue_stats().get(session["skill"]) or {}  # type: ignore[union-attr, arg-type]
        position = int(state["position"])
        await self.texts.tell(session, "queued", position=position,
                              wait_min=estimate_wait_min(position, stats.get("average_wait_s")))

    async def _record(self, work: InboundWork, session: SessionRecord) -> MessageRecord | None:
        try:
            return await self.store.add_message(inbound_to_message(work.key, work.message, session["id"], work.now))
        except DuplicateError:
            return None  # reprocessing after a crash: already in the transcript

    async def profile_arrived(self, customer: CustomerRecord) -> None:
        """WeChat told us who a customer is, or an agent changed their tags or note: every console
        showing them refreshes (the offer may have gone out before the name came)."""
        openid = customer["openid"]
        # Whether a bank customer is bound (self-service), not who: the profile is read over REST,
        # where the access policy checks who asks (queue subscribers get this event too).
        data: dict[str, Any] = {"customer": {**customer_brief(customer, openid), "note": customer.get("note"),
                                             "bank_bound": bool(customer.get("bank"))}}
        watchers = self.audience.watchers
        targets = set(watchers.queue_subscribers()) if watchers is not None else set()
        session = await self.store.open_session_for_customer(openid)
        if session is not None:
            data["session_id"] = session["id"]
            targets.update(self.audience.monitors_of(session["id"]))
            if (agent_id := session.get("agent_id")) and session["state"] == "assigned":
                targets.add(agent_id)
            if offered_to := session.get("offered_to"):
                targets.add(offered_to)
        await self.audience.publish(sorted(targets), "customer_updated", data)
