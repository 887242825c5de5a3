"""The one writer of session state: routing decisions carried out, and every change of a session's state.

The routing engine decides (`desk.routing_driver.RoutingDriver` returns its decisions as values);
:class:`Lifecycle` applies each decision type through one table (:attr:`Lifecycle.handlers`) and is
the only code that writes a session's ``state`` to the store (:meth:`Lifecycle._write_state`) and
publishes the events that follow. Features ask it: create a queued session, close, transfer,
accept, reject, presence. Every use of the engine is serialised by one lock, so decisions are
carried out in the order they were made; the lifecycle also owns the timer that feeds the engine
its ``Tick`` at the next deadline.

A customer's message and an accept may cross: the relay's target is the engine's (assigned) agent,
and `desk.crossing` keeps that agent's view whole (:attr:`Lifecycle.writes` tracks transcript
writes, :attr:`Lifecycle.held` holds the agent's events while its ``session_assigned`` is built).
What a decision does to a session's hand-over is decided by the rules in `desk.handover` and
carried out by `desk.handover_effects`; `desk.recovery` computes the start-up check's writes,
and `desk.followers` are told after closes, diversions and batches (none of them writes a state).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from desk import handover as ho
from desk import recovery
from desk.agent_states import agents_named_by
from desk.audience import Audience
from desk.crossing import HeldEvents, SessionRelay, WriteBarrier
from desk.deadlines import DeadlineTimer
from desk.errors import InvalidState, NotFoundError
from desk.followers import Followers
from desk.handover_effects import HandOverEffects
from desk.routing_driver import RoutingDriver, raise_if_ignored
from desk.texts import DIVERT_MESSAGES
from desk.views import SessionViews
from desk.watchers import Watchers
from routing import decisions as dec
from routing import events as ev
from store.base import Store
from store.records import CustomerRecord, SessionRecord, SessionState

# notify_customer(session, message key, **placeholders): the admin's text for that moment
# (`desk.texts.SystemTexts.tell`), sent if it is not empty and WeChat still allows a message.
CustomerNotice = Callable[..., Awaitable[None]]


@dataclass
class Outcome:
    """What applying events did: the decisions, and the bundle each assigned session was sent with."""

    decisions: list[dec.Decision] = field(default_factory=list)
    bundles: dict[str, dict[str, Any]] = field(default_factory=dict)


Handler = Callable[[Any, Outcome], Awaitable[None]]


class Lifecycle:
    def __init__(self, store: Store, routing: RoutingDriver, audience: Audience, views: SessionViews,
                 watchers: Watchers, clock: Callable[[], float], notify_customer: CustomerNotice) -> None:
        self.store = store
        self.routing = routing
        self.audience = audience
        self.views = views
        self.watchers = watchers
        self.clock = clock
        self.notify_customer = notify_customer
        self.writes = WriteBarrier()
        self.held = HeldEvents(audience.publish)
        # to_session(session id, event, data, monitors=True): to its monitors and the engine's agent.
        self.to_session = SessionRelay(self.held, audience.monitors_of, routing.assigned_agent, audience.publish).send
        self.hand_overs = HandOverEffects(store, audience, views)
        self._lock = asyncio.Lock()
        self.ticks = DeadlineTimer(clock, lambda: self._route(lambda: [self.routing.tick_event()]))
        self._stopped = False
        self.followers = Followers()  # features told of closes, diversions, applied batches
        # The one table: decision type -> what carrying it out means.
        self.handlers: dict[type, Handler] = {
            dec.OfferSession: self._offer,
            dec.RevokeOffer: self._revoke,
            dec.OfferTimedOut: self._timed_out,
            dec.SessionAssigned: self._assigned,
            dec.Requeued: self._requeued,
            dec.Divert: self._diverted,
            dec.TransferReturned: self._transfer_returned,
            dec.SetAgentAway: lambda d, o: self.audience.presence(d.agent_id, "away", self.clock(), reason=d.reason),
            dec.AgentPresence: lambda d, o: self.audience.presence(d.agent_id, d.status, self.clock()),
            dec.SessionQueued: self._nothing,  # the wall repaints after every event anyway
            dec.EventIgnored: self._nothing,  # the caller reads it from the outcome
        }

    # -- start / stop ----------------------------------------------------------------------------
    async def start(self, skills: list[str]) -> None:
        async with self._lock:
            await self._apply(await self.routing.load(skills))
            await self._check_store()

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.ticks.cancel()
        async with self._lock:  # let an event being applied finish its decisions first
            await self.routing.save()

    async def _check_store(self) -> None:
        """Start-up check: the engine's log is written before decisions are carried out, so a
        crash in between leaves stored sessions behind the engine; bring them level (`desk.recovery`)."""
        assert self.routing.engine is not None
        for session in await self.store.list_open_sessions():
            if write := recovery.level(session, self.routing.engine.session(session["id"]), self.clock()):
                await self._write_state(session["id"], write[0], **write[1])

    # -- the one writer ------------------------------------------------------------------------------
    async def _write_state(self, session_id: str, state: SessionState, **fields: Any) -> SessionRecord:
        return await self.store.update_session(session_id, state=state, **fields)

    async def create_queued(self, openid: str, skill: str, priority: int, now: float) -> SessionRecord:
        """A new session for a customer's first message, waiting in ``skill``'s queue."""
        return await self.store.create_session({
            "openid": openid, "skill": skill, "state": "queued", "priority": priority,
            "created_at": now, "queued_at": now, "last_customer_at": now,
        })

    async def create_bot_session(self, openid: str, skill: str, now: float) -> SessionRecord:
        """A new session the bot answers (state ``bot``: in no queue until it hands over)."""
        return await self.store.create_session({"openid": openid, "skill": skill, "state": "bot",
                                                "priority": 0, "created_at": now, "last_customer_at": now})

    async def hand_to_queue(self, session_id: str, customer: CustomerRecord, now: float,
                            priority: int) -> SessionRecord:
        """The bot hands its session over: the same session (its transcript goes along) waits in
        its skill's queue and is routed."""
        session = await self._write_state(session_id, "queued", queued_at=now, priority=priority)
        await self.request(session, customer)
        return session

    # -- applying events -----------------------------------------------------------------------------
    async def _route(self, build: Callable[[], list[ev.Event]]) -> Outcome:
        """Build the events under the lock (refusals see the state they would change) and apply them."""
        return await self._route_in_turn(build)

    async def _route_in_turn(self, *builds: Callable[[], list[ev.Event]]) -> Outcome:
        """Batches under one hold of the lock, each built after the one before was applied; the last's outcome."""
        outcome = Outcome()
        async with self._lock:
            if self._stopped:  # shutting down: the final snapshot is (being) written
                return outcome
            for build in builds:
                outcome = await self._apply(build())
        return outcome

    async def _apply(self, events: list[ev.Event]) -> Outcome:
        """Apply events in order (lock held): decide, log durably, carry out each decision."""
        outcome = Outcome()
        touched: set[str] = set()
        try:
            for event in events:
                touched.update(agents_named_by(event, self.routing))  # before deciding: who holds it now
                decisions = self.routing.decide(event)
                for d in decisions:  # before any await: the engine already says assigned
                    if isinstance(d, dec.SessionAssigned):
                        self.held.begin(d.session_id, d.agent_id)
                await self.routing.record(event)
                for d in decisions:
                    outcome.decisions.append(d)
                    if agent_id := getattr(d, "agent_id", None):
                        touched.add(agent_id)
                    handler = self.handlers.get(type(d))
                    if handler is not None:
                        await handler(d, outcome)
            await self.followers.agents(touched)
        finally:
            await self.held.release_all()  # a decision failed: never hold events for ever
            self.ticks.arm(None if self._stopped else self.routing.next_deadline())
            self.watchers.queues_changed()
            self.followers.applied()
        return outcome

    async def apply_events(self, events: list[ev.Event]) -> Outcome:
        """Apply ready-made events (serialised like every other use of the engine)."""
        return await self._route(lambda: events)

    # -- requests --------------------------------------------------------------------------------------
    async def agent_known(self, user: Mapping[str, Any]) -> None:
        """Log the agent into the engine or bring their skills and capacity up to date. Taken
        from the stored user, not the caller's copy: a console's user is the one its socket said
        hello with, and an admin may have changed the skills since."""
        stored = await self.store.get_user(user["id"])
        current = stored if stored is not None else user
        await self._route(lambda: self.routing.agent_events(current))

    async def agent_changed(self, user: Mapping[str, Any]) -> None:
        """An admin changed a user: an agent the engine knows routes with the new skills and
        capacity from now on (one it does not know learns them when they come in)."""
        if "agent" in (user.get("roles") or ()) and not user.get("disabled") and self.routing.agent(user["id"]):
            await self.agent_known(user)

    async def set_presence(self, agent_id: str, status: str) -> None:
        await self._route(lambda: [self.routing.presence_event(agent_id, status)])

    async def request(self, session: SessionRecord, customer: CustomerRecord) -> None:
        await self._route(lambda: self.routing.request_events(session, customer))

    async def configure_queues(self, queues: dict[str, dict[str, Any]], catalogue: list[str]) -> None:
        """The skills setting changed: each queue's configuration, applied live (ConfigureQueue)."""
        await self._route(lambda: self.routing.configure_queues(queues, catalogue))

    async def change_skill(self, session_id: str, skill: str) -> SessionRecord:
        session = await self.store.update_session(session_id, skill=skill)
        await self._route(lambda: self.routing.skill_events(session_id, skill))
        return session

    async def move_session(self, session_id: str, skill: str) -> SessionRecord:
        """A supervisor moves a waiting session to another skill's queue (SkillChanged); refused
        up front when it cannot happen, so nothing changes then."""
        async with self._lock:
            if self._stopped:
                raise InvalidState("the desk is stopping")
            events = self.routing.move_events(session_id, skill)
            # Written first: an offer in the new queue, made by the same event, shows the new skill.
            session = await self.store.update_session(session_id, skill=skill)
            raise_if_ignored((await self._apply(events)).decisions)
        return session

    async def customer_left(self, session_id: str) -> None:
        await self._route(lambda: [self.routing.customer_left_event(session_id)])
        await self._write_abandoned(session_id)

    async def _write_abandoned(self, session_id: str) -> None:
        """The engine counted the customer leaving a waiting session as abandoned (no decision
        says so): the stored session is closed now, ``close_reason: "abandoned"`` (reports)."""
        state = self.routing.engine.session(session_id) if self.routing.engine is not None else None
        if write := recovery.abandoned(state, self.clock()):
            await self._write_state(session_id, write[0], **write[1])
            self.watchers.session_ended(session_id)

    async def agent_disconnected(self, agent_id: str) -> None:
        await self._route(lambda: self.routing.disconnect_events(agent_id))

    async def agent_reconnected(self, agent_id: str) -> None:
        await self._route(lambda: self.routing.reconnect_events(agent_id))

    async def accept(self, session_id: str, agent_id: str) -> dict[str, Any]:
        """The agent takes the offer; returns the bundle its ``session_assigned`` carried."""
        outcome = await self._route(lambda: [self.routing.accept_event(session_id, agent_id)])
        bundle = outcome.bundles.get(session_id)
        if bundle is None:
            raise InvalidState("the offer is no longer open")
        return bundle

    async def reject(self, session_id: str, agent_id: str) -> None:
        await self._route(lambda: [self.routing.reject_event(session_id, agent_id)])
        await self.hand_overs.assign_ended(await self.store.get_session(session_id), agent_id, "rejected")

    async def close(self, session: SessionRecord, wrapup: str | None, note: str | None, reason: str) -> None:
        session = await self._write_state(session["id"], "closed", closed_at=self.clock(), wrapup=wrapup,
                                          note=note, close_reason=reason)
        await self._route(lambda: [self.routing.close_event(session["id"])])
        await self.audience.session_event(session, "session_closed", {"session_id": session["id"],
                                                                       "reason": reason}, agent=False)
        if agent_id := session.get("agent_id"):
            await self.audience.publish([agent_id], "session_closed",
                                        {"session_id": session["id"], "reason": reason})
        self.watchers.session_ended(session["id"])
        await self.followers.closed(session, reason)

    async def transfer(self, session_id: str, handover: dict[str, Any], from_agent: str, to_agent: str | None,
                       to_skill: str | None, to_name: str | None) -> None:
        """An agent hands a session on (``handover`` recorded first: the offer it causes carries it)."""
        await self.hand_overs.recorded(session_id, handover, lambda: self._route_in_turn(
            lambda: self.routing.queue_events(to_skill) if to_skill else [],
            lambda: [self.routing.transfer_event(session_id, from_agent, to_agent, to_skill, to_name)]))

    async def reassign(self, session_id: str, handover: dict[str, Any], to_agent: str, to_name: str | None) -> None:
        """A supervisor hands a session to an agent (an assigned one moves, a waiting one is offered)."""
        await self.hand_overs.recorded(session_id, handover, lambda: self._route(
            lambda: [self.routing.reassign_event(session_id, to_agent, to_name)]))

    # -- the decision handlers ---------------------------------------------------------------------
    async def _nothing(self, decision: Any, outcome: Outcome) -> None:
        return None

    async def _offer(self, d: dec.OfferSession, outcome: Outcome) -> None:
        if d.transfer_from:  # the session stays with its agent until the new one accepts
            session = await self.store.update_session(d.session_id, offered_to=d.agent_id)
        else:
            session = await self._write_state(d.session_id, "offered", offered_at=self.clock(),
                                              offered_to=d.agent_id)
        expires_in = max(0.0, d.expires_at - self.clock())
        await self.audience.publish([d.agent_id], "offer",
                                    await self.views.offer(session, d.agent_id, d.skill, expires_in, d.transfer_from))

    async def _revoke(self, d: dec.RevokeOffer, outcome: Outcome) -> None:
        await self._offer_ended(d.session_id, d.agent_id, d.reason)

    async def _timed_out(self, d: dec.OfferTimedOut, outcome: Outcome) -> None:
        await self._offer_ended(d.session_id, d.agent_id, "timeout")

    async def _offer_ended(self, session_id: str, agent_id: str, reason: str) -> None:
        await self.audience.publish([agent_id], "offer_revoked", {"session_id": session_id, "reason": reason})
        session = await self.hand_overs.assign_ended(await self.store.get_session(session_id), agent_id, reason)
        if session is not None and session["state"] == "offered":
            await self._write_state(session_id, "queued", offered_to=None)
        elif session is not None and session.get("offered_to") == agent_id:
            await self.store.update_session(session_id, offered_to=None)

    async def _assigned(self, d: dec.SessionAssigned, outcome: Outcome) -> None:
        outcome.bundles[d.session_id] = await self._assign(d.session_id, d.agent_id)

    async def _assign(self, session_id: str, agent_id: str) -> dict[str, Any]:
        session = await self.store.get_session(session_id)
        if session is None:
            raise NotFoundError("no such session")
        previous = session.get("agent_id")
        agents = list(session.get("agents") or [])
        if agent_id not in agents:
            agents.append(agent_id)
        moved = bool(previous and previous != agent_id and session["state"] == "assigned")
        first_answer = not moved and session["state"] != "assigned"  # not a hand-back to the same agent
        handover, changes = ho.on_assigned(session, agent_id, moved, self.clock())
        session = await self._write_state(session_id, "assigned", agent_id=agent_id, agents=agents,
                                          accepted_at=session.get("accepted_at") or self.clock(),
                                          offered_to=None, **changes)
        if moved and previous:  # moved implies previous; the test tells mypy
            reason = "reassigned" if handover and handover.get("kind") == "reassign" else "transferred"
            await self.audience.publish([previous], "session_closed", {"session_id": session_id, "reason": reason})
        bundle: dict[str, Any] | None = None
        try:
            # The transcript as of every write already started (a message filed while it was
            # offered included); later messages are held by `to_session` and follow the bundle.
            await self.writes.settled(session_id)
            bundle = await self.views.bundle(session, with_history=True)
            await self.audience.publish([agent_id], "session_assigned", bundle)
        finally:
            await self.held.release(session_id, bundle)
        await self.hand_overs.accepted(handover, session_id, agent_id)
        if moved and handover:
            await self.notify_customer(session, "transferred")
        elif first_answer:
            await self.notify_customer(session, "assigned", agent=(await self.views.names(agent_id)).get(agent_id))
        else:
            return bundle
        # The accept's answer reaches the console after the text's events: it carries the reply
        # budget as it is now (the text used one), not as the bundle sent before it had.
        current = await self.store.get_session(session_id)
        return {**bundle, "session": await self.views.public_session(current)} if current is not None else bundle

    async def _requeued(self, d: dec.Requeued, outcome: Outcome) -> None:
        session = await self.store.get_session(d.session_id)
        if session is None:
            return
        previous = session.get("agent_id") if session["state"] == "assigned" else None
        changes = ho.on_requeued(session, d.reason, self.clock())
        session = await self._write_state(d.session_id, "queued", skill=d.skill, agent_id=None,
                                          offered_to=None, **changes)
        if previous:
            await self.audience.publish([previous], "session_closed", {"session_id": d.session_id, "reason": d.reason})
        if d.reason == "transferred" and "transfers" in changes:
            await self.notify_customer(session, "transferred")

    async def _diverted(self, d: dec.Divert, outcome: Outcome) -> None:
        current = await self.store.get_session(d.session_id)
        if current is not None and current.get("leave_message"):
            # A leave-message offered again and not taken in time: a leave-message again, quietly
            # (the customer was told once), its age and SLA unchanged.
            await self._write_state(d.session_id, "diverted", offered_to=None)
            self.watchers.session_ended(d.session_id)
            return
        session = await self._write_state(d.session_id, "diverted", closed_at=self.clock(), close_reason=d.reason)
        await self.notify_customer(session, DIVERT_MESSAGES.get(d.reason, "no_agent"))
        self.watchers.session_ended(d.session_id)
        await self.followers.diverted(session, d.reason)

    async def request_leave_message(self, session: SessionRecord, priority: int, to_agent: str | None = None,
                                    arrived_at: float | None = None) -> list[dec.Decision]:
        """A diverted session (a leave-message) asks for an agent again: the routing engine offers
        it like a waiting session (to ``to_agent`` at once: a supervisor's assignment, refused
        with ``InvalidState`` when that agent cannot take it), in its place by ``arrived_at``
        (default: when it was left). The decisions made."""
        decisions = (await self._route(
            lambda: self.routing.leave_message_events(session, priority, to_agent, arrived_at))).decisions
        if to_agent is not None:
            raise_if_ignored(decisions)
        return decisions

    async def _transfer_returned(self, d: dec.TransferReturned, outcome: Outcome) -> None:
        if await self.hand_overs.returned(d):  # back to its agent, who no longer holds it: assigned again
            self.held.begin(d.session_id, d.agent_id)
            await self._assign(d.session_id, d.agent_id)
