"""The skills-based routing engine: events in, decisions out, deterministic given the clock.

Owns :class:`RoutingEngine` and its rules: what each event and each deadline does. All state
changes go through :meth:`RoutingEngine.apply`; the same event sequence always produces the same
state and decisions (ordered dicts only, ties broken by ids and sequence numbers, no randomness),
so the state can be snapshotted to a JSON-able dict, restored, or rebuilt by replaying the event
log.

The engine is built in layers, each module owning one thing:

* :mod:`routing.engine_state` -- the state and the bookkeeping of its derived structures: each
  skill's waiting sessions in a :class:`~routing.indexes.SkillQueue` (plus one of the overflowed
  ones), the available agents of a skill in one :class:`~routing.indexes.AgentIndex` heap per
  strategy in use (invalidated lazily by a global version stamp), every deadline (offer timeouts,
  wrap-up end, overflow, maximum wait, grace, sticky wait, cool-down) in one
  :class:`~routing.indexes.TimerHeap`, each entry checked against the state when it fires;
* :mod:`routing.matching` -- matching sessions and agents without scanning everyone: after every
  event the engine *settles* (each agent that may have become free takes the best waiting session
  it may serve, then each session that started waiting is offered to the best free agent, so
  there is never a free agent and a waiting session that could be matched); offers and how they
  fail, requeues and diversions;
* this module -- the rule for each event and each deadline, and the public API;
* :mod:`routing.explaining` (the explanation of every decision), :mod:`routing.views` (the read
  views) and :mod:`routing.snapshots` (snapshot and restore) beside them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any

from routing import explaining as ex
from routing import snapshots, views
from routing.config import STRATEGIES, EngineSettings
from routing.decisions import (
    AgentPresence,
    Decision,
    EventIgnored,
    Explanation,
    OfferTimedOut,
    Requeued,
    RevokeOffer,
    SessionAssigned,
    TransferReturned,
    fast_maker,
)
from routing.decisions import deferred_explanation as _deferred
from routing.engine_state import T_GRACE, T_STICKY, T_WRAPUP
from routing.events import (
    AgentDisconnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReconnected,
    AssignRequested,
    ConfigureQueue,
    CustomerLeft,
    Event,
    LeaveMessageRequested,
    OfferAccepted,
    OfferRejected,
    PresenceChanged,
    SessionClosed,
    SessionRequested,
    SkillChanged,
    Tick,
    TransferRequested,
)
from routing.explaining import BUILD_ACCEPTED, BUILD_IGNORED, BUILD_LEFT
from routing.indexes import SkillQueue
from routing.matching import Matcher
from routing.metrics import ABANDONED, ANSWERED
from routing.state import ABANDONED as SESSION_ABANDONED
from routing.state import (
    ASSIGNED,
    AVAILABLE,
    AWAY,
    CLOSED,
    OFFERED,
    OFFLINE,
    QUEUED,
    WRAPUP,
    AgentState,
    SessionState,
)
from routing.wording import Phrase as P

# Constructor for the decision made on every accept (see ``fast_maker``; all fields required).
_make_session_assigned = fast_maker(SessionAssigned)


class RoutingEngine(Matcher):
    """Skills-based routing for customer sessions. Construct, configure queues, apply events.

    >>> engine = RoutingEngine(EngineSettings(sticky_wait_secs=20))
    >>> engine.apply(ConfigureQueue(skill="billing", strategy="longest_idle", sla_secs=30))
    []
    """

    def __init__(self, settings: EngineSettings | None = None) -> None:
        super().__init__(settings)
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            ConfigureQueue: self._on_configure_queue,
            AgentLoggedIn: self._on_logged_in,
            AgentLoggedOut: self._on_logged_out,
            PresenceChanged: self._on_presence,
            AgentDisconnected: self._on_disconnected,
            AgentReconnected: self._on_reconnected,
            SessionRequested: self._on_requested,
            SkillChanged: self._on_skill_changed,
            OfferAccepted: self._on_accepted,
            OfferRejected: self._on_rejected,
            SessionClosed: self._on_closed,
            CustomerLeft: self._on_customer_left,
            TransferRequested: self._on_transfer,
            AssignRequested: self._on_assign,
            LeaveMessageRequested: self._on_leave_message,
            Tick: lambda event: None,
        }
        self._timer_handlers: tuple[Callable[[str, float], None], ...] = (
            self._fire_grace,
            self._fire_wrapup,
            self._fire_offer,
            self._fire_sticky,
            self._fire_overflow,
            self._fire_max_wait,
            self._fire_cooldown,
        )

    # ------------------------------------------------------------------ public API

    def apply(self, event: Event) -> list[Decision]:
        """Apply one event and return the decisions it caused, in order.

        Deadlines up to ``event.now`` are handled first, as if a Tick had come just before.
        The clock never goes back: an event older than the engine's clock is applied at the
        engine's clock.
        """
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"not a routing event: {event!r}")
        if event.now > self._now:
            self._now = event.now
        self._events_applied += 1
        out = self._out = []
        heap = self._timers.heap
        if heap and heap[0][0] <= self._now:
            self._run_timers()
        handler(event)
        if self._dirty_agents or self._dirty_sessions:
            self._settle()
        if heap and heap[0][0] <= self._now:
            self._run_timers()
        self._out = []
        return out

    def next_deadline(self) -> float | None:
        """The earliest time at which a Tick would do something, or None.

        The desk keeps one timer for it and sends ``Tick(now=...)`` when it fires (and asks
        again after every apply). Stale deadlines are discarded here, which changes no state.
        """
        heap = self._timers.heap
        while heap:
            when, kind, subject = heap[0]
            if self._timer_live(kind, subject, when):
                return when
            heapq.heappop(heap)
        return None

    # ------------------------------------------------------------------ reads (routing.views)

    def explain(self, session_id: str) -> str:
        """The last explanation recorded for a session, in plain English."""
        return views.explain(self, session_id)

    def explanation(self, session_id: str) -> Explanation | None:
        """The last structured explanation recorded for a session."""
        return views.explanation(self, session_id)

    def session(self, session_id: str) -> dict[str, Any] | None:
        """A session's routing state (state, skill, agent, queued_at, priority, ...) or None."""
        return views.session(self, session_id)

    def queue_config(self, skill: str) -> ConfigureQueue:
        """The configuration in force for ``skill`` (defaults if never configured)."""
        return self._cfg(skill)

    def waiting_sessions(self, skill: str) -> list[dict[str, Any]]:
        """Sessions waiting for ``skill`` (queued or offered) in service order with positions."""
        return views.waiting_sessions(self, skill)

    def queue_stats(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        """Per skill: waiting, longest wait, service level, average wait, counters, agents."""
        return views.queue_stats(self, now)

    def agent_stats(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        """Per logged-in agent: status, time in status, load, capacity, sessions, occupancy."""
        return views.agent_stats(self, now)

    def agent(self, agent_id: str, now: float | None = None) -> dict[str, Any] | None:
        """One logged-in agent as ``agent_stats`` shows it, or None (without visiting the others)."""
        return views.agent(self, agent_id, now)

    def offer_refusal(self, agent_id: str) -> tuple[str, str] | None:
        """Why the agent cannot be offered a session now, as ``(code, words)``, or None if it can.

        Codes: ``logged_out``, ``offline``, ``disconnected``, ``away``, ``wrapup``, ``at_capacity``.
        """
        return views.offer_refusal(self, agent_id)

    def admission_refusal(self, skill: str) -> tuple[str, str] | None:
        """Why a session cannot wait in ``skill``'s queue now (``outside_hours``, ``no_agents``)."""
        return self._admission_refusal(skill)

    # ------------------------------------------------------------------ snapshots (routing.snapshots)

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a plain JSON-able dict; ``restore`` continues exactly from it."""
        return snapshots.snapshot(self)

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> RoutingEngine:
        """Rebuild an engine from ``snapshot()`` output (also after a JSON round trip)."""
        return snapshots.restore(cls, snapshot)

    # ------------------------------------------------------------------ helpers of the event rules

    def _admission_refusal(self, skill: str) -> tuple[str, str] | None:
        """(reason, words) if a session for ``skill`` cannot wait now, else None."""
        cfg = self._cfg(skill)
        if cfg.business_hours is not None and not cfg.business_hours.is_open(self._now):
            return "outside_hours", P("why_outside_hours", skill=skill)
        if not self._present.get(skill) and not (
            cfg.overflow_skills and any(self._present.get(o) for o in cfg.overflow_skills)
        ):
            return "no_agents", P("why_no_agents", skill=skill)
        return None

    def _ignore(self, event: Event, subject: str, reason: str) -> None:
        self._out.append(
            EventIgnored(
                event_kind=event.kind,
                subject_id=subject,
                reason=reason,
                explanation=_deferred((BUILD_IGNORED, event.kind, subject, reason)),
            )
        )

    def _check_grace(self, agent: AgentState) -> None:
        """Start the grace period when the agent went offline or lost its connection."""
        if agent.connected and agent.status != OFFLINE:
            agent.grace_until = None
        elif agent.grace_until is None and agent.sessions:
            agent.grace_until = self._now + self.settings.disconnect_grace_secs
            self._timers.push(agent.grace_until, T_GRACE, agent.agent_id)

    def _withdraw_offer(self, session: SessionState, reason: str, summary: str) -> None:
        """The session's side ended its outstanding offer (closed, moved, customer left): tell the
        agent and free the offer's place in the agent's load. Not a miss for the agent."""
        agent = self._agents[session.offer_agent or ""]
        self._out.append(
            RevokeOffer(session_id=session.session_id, agent_id=agent.agent_id, reason=reason,
                        explanation=Explanation(summary=summary))
        )
        agent.offers.pop(session.session_id, None)
        session.offer_agent = None
        session.offer_expires = None
        self._touch(agent)

    def _release_reserved(self, agent: AgentState, why: str) -> None:
        """Sessions waiting for this agent (sticky) stop waiting for it and join the queue."""
        for session_id in list(agent.reserved):
            session = self._sessions[session_id]
            self._unstick(session, note=P("sticky_released", agent=agent.agent_id, why=P("why_other", word=why)))

    def _unstick(self, session: SessionState, note: str) -> None:
        agent = self._agents.get(session.sticky_agent or "")
        if agent is not None:
            agent.reserved.pop(session.session_id, None)
        session.sticky_agent = None
        session.sticky_until = None
        if session.state == QUEUED:
            self._queue_in(session)
            self._dirty_sessions.setdefault(session.session_id, False)
        if session.explanation is not None:
            session.explanation = ex.with_note(session.explanation, note)

    def _release_sessions(self, agent: AgentState, reason: str) -> None:
        """The agent is gone: every assigned session is requeued (a pending transfer goes on)."""
        for session_id in list(agent.sessions):
            session = self._sessions[session_id]
            del agent.sessions[session_id]
            if session.offer_agent is not None:
                # A direct transfer is out: it continues; if declined the session is requeued.
                session.agent = None
                session.state = OFFERED
                self._waiting.setdefault(session.skill, {})[session_id] = None
                continue
            self._requeue_front(session, reason, notes=(P("agent_was_lost", agent=agent.agent_id),))

    # ------------------------------------------------------------------ deadlines

    def _run_timers(self) -> None:
        heap = self._timers.heap
        while heap and heap[0][0] <= self._now:
            when, kind, subject = heapq.heappop(heap)
            if self._timer_live(kind, subject, when):
                self._timer_handlers[kind](subject, when)
                self._settle()

    def _fire_grace(self, agent_id: str, when: float) -> None:
        agent = self._agents[agent_id]
        agent.grace_until = None
        why = "disconnected" if not agent.connected else "offline"
        self._revoke_offers(agent, "agent_lost")
        self._release_sessions(agent, "agent_lost")
        self._set_status(agent, OFFLINE)
        self._out.append(
            AgentPresence(
                agent_id=agent_id,
                status=OFFLINE,
                explanation=ex.grace_ended(agent_id, why, self.settings.disconnect_grace_secs),
            )
        )
        self._touch(agent)

    def _fire_wrapup(self, agent_id: str, when: float) -> None:
        agent = self._agents[agent_id]
        self._set_status(agent, AVAILABLE)
        self._out.append(
            AgentPresence(
                agent_id=agent_id,
                status=AVAILABLE,
                explanation=ex.wrapup_ended(agent_id),
            )
        )
        self._touch(agent)

    def _fire_offer(self, session_id: str, when: float) -> None:
        session = self._sessions[session_id]
        agent = self._agents[session.offer_agent or ""]
        self._stats(session.skill).counts["timed_out"] += 1
        self._out.append(
            OfferTimedOut(
                session_id=session_id,
                agent_id=agent.agent_id,
                explanation=ex.offer_timed_out(session, agent.agent_id),
            )
        )
        self._offer_failed(session, agent, "timed_out", missed=True, exclude=True)

    def _fire_sticky(self, session_id: str, when: float) -> None:
        session = self._sessions[session_id]
        self._unstick(
            session,
            note=P("sticky_expired", agent=session.sticky_agent, wait_s=self.settings.sticky_wait_secs),
        )

    def _fire_overflow(self, session_id: str, when: float) -> None:
        session = self._sessions[session_id]
        session.overflowed = True
        if session.state == QUEUED and session.sticky_agent is None:
            overflowed = self._overflowed.get(session.skill)
            if overflowed is None:
                overflowed = self._overflowed[session.skill] = SkillQueue()
            overflowed.add(session.priority, session.arrived_at, session.seq, session.session_id)
            self._dirty_sessions.setdefault(session_id, False)

    def _fire_max_wait(self, session_id: str, when: float) -> None:
        session = self._sessions[session_id]
        if session.state != QUEUED:
            return  # being offered: _offer_failed diverts it if the offer fails
        self._divert(
            session,
            "max_wait",
            P("diverted", session=session_id,
              why=P("why_max_wait_queue", waited_s=self._now - session.waiting_since, skill=session.skill)),
        )

    def _fire_cooldown(self, session_id: str, when: float) -> None:
        # An excluded agent may now be offered the session again if nobody else can take it.
        self._dirty_sessions.setdefault(session_id, False)

    # ------------------------------------------------------------------ event rules

    def _on_configure_queue(self, event: ConfigureQueue) -> None:
        if event.strategy not in STRATEGIES:
            self._ignore(event, event.skill, f"unknown strategy {event.strategy!r}")
            return
        self._configs[event.skill] = event
        self._rebuild_overflow_sources()
        # Waiting sessions of this skill get deadlines under the new rules and a fresh look.
        for session_id in list(self._waiting.get(event.skill, {})):
            session = self._sessions[session_id]
            if session.state != QUEUED:
                continue
            self._leave_waiting_keep_sticky(session)
            self._enqueue(session, announce=False)

    def _on_logged_in(self, event: AgentLoggedIn) -> None:
        if event.capacity < 1 or event.status not in (AVAILABLE, AWAY, OFFLINE):
            self._ignore(event, event.agent_id, "capacity must be at least 1 and status available/away/offline")
            return
        if any(not 1 <= level <= 5 for level in event.skills.values()):
            self._ignore(event, event.agent_id, "skill levels must be 1 to 5")
            return
        agent = self._agents.get(event.agent_id)
        if agent is None:
            agent = AgentState(event.agent_id, event.skills, event.capacity, event.status, self._now)
            self._agents[agent.agent_id] = agent
            self._add_membership(agent)
        else:
            self._drop_membership(agent)
            agent.skills = dict(event.skills)
            agent.capacity = event.capacity
            self._add_membership(agent)
            agent.connected = True
            self._set_status(agent, event.status)
            self._check_grace(agent)
        self._touch(agent)

    def _on_logged_out(self, event: AgentLoggedOut) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            self._ignore(event, event.agent_id, "agent is not logged in")
            return
        self._revoke_offers(agent, "agent_logged_out")
        self._release_reserved(agent, "logged out")
        self._release_sessions(agent, "agent_logged_out")
        self._drop_membership(agent)
        del self._agents[agent.agent_id]
        self._dirty_agents.pop(agent.agent_id, None)

    def _on_presence(self, event: PresenceChanged) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None or event.status not in (AVAILABLE, AWAY, OFFLINE):
            self._ignore(event, event.agent_id, "unknown agent or status")
            return
        self._set_status(agent, event.status)
        if event.status != AVAILABLE:
            self._revoke_offers(agent, "agent_away" if event.status == AWAY else "agent_offline")
        if event.status == OFFLINE:
            self._release_reserved(agent, "went offline")
        self._check_grace(agent)
        self._touch(agent)

    def _on_disconnected(self, event: AgentDisconnected) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            self._ignore(event, event.agent_id, "agent is not logged in")
            return
        agent.connected = False
        self._revoke_offers(agent, "agent_disconnected")
        self._release_reserved(agent, "disconnected")
        self._check_grace(agent)
        self._touch(agent)

    def _on_reconnected(self, event: AgentReconnected) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            self._ignore(event, event.agent_id, "agent is not logged in")
            return
        agent.connected = True
        self._check_grace(agent)
        self._touch(agent)

    def _on_requested(self, event: SessionRequested) -> None:
        if event.session_id in self._sessions or event.session_id in self._finished:
            self._ignore(event, event.session_id, "session already known")
            return
        priority = event.priority + (self.settings.vip_priority_boost if event.vip else 0)
        self._seq += 1
        arrived = self._now if event.arrived_at is None else min(event.arrived_at, self._now)
        session = SessionState(
            event.session_id, event.customer_id, event.skill, event.priority, event.vip, priority, arrived, self._seq
        )
        self._sessions[session.session_id] = session
        self._stats(event.skill).counts["requested"] += 1
        refusal = self._admission_refusal(event.skill)
        if refusal is not None:
            self._divert(session, refusal[0], P("diverted", session=session.session_id, why=refusal[1]))
            return
        last = self._customers.get(event.customer_id)
        if last is not None and self._now - last[1] <= self.settings.sticky_window_secs:
            agent = self._agents.get(last[0])
            if agent is not None and event.skill in agent.skills and agent.connected and agent.status != OFFLINE:
                session.sticky_agent = agent.agent_id
                session.sticky_until = self._now + self.settings.sticky_wait_secs
                agent.reserved[session.session_id] = None
                self._timers.push(session.sticky_until, T_STICKY, session.session_id)
        self._enqueue(session, announce=True)

    def _on_skill_changed(self, event: SkillChanged) -> None:
        session = self._sessions.get(event.session_id)
        if session is None or session.state not in (QUEUED, OFFERED) or session.transfer_from is not None:
            self._ignore(event, event.session_id, "session is not waiting")
            return
        if session.skill == event.skill:
            return
        if session.state == OFFERED:
            self._withdraw_offer(session, "skill_changed", f"{session.session_id} moved to the {event.skill} queue")
            session.state = QUEUED
            self._waiting.get(session.skill, {}).pop(session.session_id, None)
            if session.sticky_agent is not None:
                self._leave_waiting(session)
        else:
            self._leave_waiting(session)
        session.skill = event.skill
        refusal = self._admission_refusal(event.skill)
        if refusal is not None:
            self._divert(session, refusal[0], P("diverted", session=session.session_id, why=refusal[1]))
            return
        self._enqueue(session, announce=True)

    def _on_accepted(self, event: OfferAccepted) -> None:
        session = self._sessions.get(event.session_id)
        if session is None or session.offer_agent != event.agent_id:
            self._ignore(event, event.session_id, f"no outstanding offer to {event.agent_id} (expired or withdrawn)")
            return
        agent = self._agents[event.agent_id]
        del agent.offers[session.session_id]
        agent.sessions[session.session_id] = None
        agent.missed = 0
        previous = None
        if session.transfer_from is not None:
            previous = session.agent
            if previous is not None and previous in self._agents:
                old = self._agents[previous]
                old.sessions.pop(session.session_id, None)
                self._check_grace(old)
                self._touch(old)
            session.transfer_from = None
            self._waiting.get(session.skill, {}).pop(session.session_id, None)
            explanation = ex.accepted_transfer(session, agent.agent_id)
            wait = 0.0
        else:
            wait = self._now - session.waiting_since
            metrics = self._stats(session.skill)
            metrics.counts["accepted"] += 1
            metrics.record(self._now, ANSWERED, wait, self.settings.metrics_window_secs)
            self._waiting.get(session.skill, {}).pop(session.session_id, None)
            explanation = _deferred((BUILD_ACCEPTED, agent.agent_id, session.session_id, wait, session.skill))
        session.state = ASSIGNED
        session.agent = agent.agent_id
        session.offer_agent = None
        session.offer_expires = None
        session.excluded = {}
        session.cooldown = {}
        session.explanation = explanation
        self._touch(agent)
        self._out.append(
            _make_session_assigned(
                session_id=session.session_id,
                agent_id=agent.agent_id,
                skill=session.skill,
                wait_secs=wait,
                previous_agent=previous,
                explanation=explanation,
            )
        )

    def _on_rejected(self, event: OfferRejected) -> None:
        session = self._sessions.get(event.session_id)
        if session is None or session.offer_agent != event.agent_id:
            self._ignore(event, event.session_id, f"no outstanding offer to {event.agent_id} (expired or withdrawn)")
            return
        if session.transfer_from is None:
            self._stats(session.skill).counts["rejected"] += 1
        self._offer_failed(session, self._agents[event.agent_id], "rejected", missed=True, exclude=True)

    def _on_closed(self, event: SessionClosed) -> None:
        session = self._sessions.get(event.session_id)
        if session is None:
            self._ignore(event, event.session_id, "session is not open")
            return
        if session.offer_agent is not None:
            self._withdraw_offer(session, "session_closed", f"{session.session_id} was closed")
        if session.state in (QUEUED, OFFERED):
            if session.state == OFFERED:
                session.state = QUEUED if session.transfer_from is None else OFFERED
            if session.state == QUEUED:
                self._leave_waiting(session)
            else:
                self._waiting.get(session.skill, {}).pop(session.session_id, None)
        agent = self._agents.get(session.agent or "")
        if agent is not None:
            agent.sessions.pop(session.session_id, None)
            self._remember_customer(session.customer_id, agent.agent_id)
            wrapup = self._cfg(session.skill).wrapup_secs
            if wrapup > 0 and agent.status in (AVAILABLE, WRAPUP):
                until = self._now + wrapup
                if agent.status == AVAILABLE:
                    self._set_status(agent, WRAPUP)
                    self._out.append(
                        AgentPresence(
                            agent_id=agent.agent_id,
                            status=WRAPUP,
                            explanation=ex.wrapup_started(agent.agent_id, wrapup, session.session_id),
                        )
                    )
                if agent.wrapup_until is None or until > agent.wrapup_until:
                    agent.wrapup_until = until
                    self._timers.push(until, T_WRAPUP, agent.agent_id)
            self._check_grace(agent)
            self._touch(agent)
        session.transfer_from = None
        self._finish(session, CLOSED)

    def _on_customer_left(self, event: CustomerLeft) -> None:
        session = self._sessions.get(event.session_id)
        if session is None or session.state not in (QUEUED, OFFERED) or session.transfer_from is not None:
            self._ignore(event, event.session_id, "session is not waiting (close it with SessionClosed)")
            return
        if session.state == OFFERED:
            self._withdraw_offer(session, "customer_left", f"The customer of {session.session_id} left")
            session.state = QUEUED
            self._waiting.get(session.skill, {}).pop(session.session_id, None)
        else:
            self._leave_waiting(session)
        metrics = self._stats(session.skill)
        metrics.counts["abandoned"] += 1
        metrics.record(self._now, ABANDONED, self._now - session.waiting_since, self.settings.metrics_window_secs)
        session.explanation = _deferred((
            BUILD_LEFT, session.session_id, self._now - session.waiting_since, session.skill,
        ))
        self._finish(session, SESSION_ABANDONED)

    def _on_assign(self, event: AssignRequested) -> None:
        session = self._sessions.get(event.session_id)
        if session is None or session.state not in (QUEUED, OFFERED) or session.transfer_from is not None:
            self._ignore(event, event.session_id, "session is not waiting")
            return
        target = self._agents.get(event.agent_id)
        if session.offer_agent == event.agent_id:
            return  # already offered to that agent
        if target is None or not target.can_take():
            reason = "logged out" if target is None else target.unavailable_reason()
            self._ignore(event, event.session_id, f"{event.agent_id} cannot take it: {reason}")
            return
        if session.state == OFFERED:
            self._withdraw_offer(session, "reassigned", f"A supervisor gave {session.session_id} to {target.agent_id}")
            session.state = QUEUED
            self._queue_in(session)  # an offered session is in no queue; _offer takes it out again
        self._offer(session, target, session.skill, ex.offered_by_supervisor(session, target))

    def _on_leave_message(self, event: LeaveMessageRequested) -> None:
        """A leave-message asks for an agent again (see ``LeaveMessageRequested``)."""
        if event.session_id in self._sessions:
            self._ignore(event, event.session_id, "session is waiting or assigned already")
            return
        target = self._agents.get(event.to_agent) if event.to_agent is not None else None
        if event.to_agent is not None:
            if target is None or not target.can_take():
                reason = "logged out" if target is None else target.unavailable_reason()
                self._ignore(event, event.session_id, f"{event.to_agent} cannot take it: {reason}")
                return
        else:
            refusal = self._admission_refusal(event.skill)
            if refusal is not None:
                self._ignore(event, event.session_id, refusal[1])
                return
        self._finished.pop(event.session_id, None)
        self._seq += 1
        arrived = self._now if event.arrived_at is None else min(event.arrived_at, self._now)
        session = SessionState(event.session_id, event.customer_id, event.skill, event.priority, False,
                               event.priority, arrived, self._seq)
        # It waits from now: its age as a leave-message is the desk's, not the queue's wait.
        session.waiting_since = self._now
        self._sessions[session.session_id] = session
        self._enqueue(session, announce=False)
        if target is not None:
            self._offer(session, target, session.skill, ex.offered_by_supervisor(session, target))

    def _on_transfer(self, event: TransferRequested) -> None:
        session = self._sessions.get(event.session_id)
        if session is None or session.state != ASSIGNED or session.agent != event.from_agent:
            self._ignore(event, event.session_id, f"session is not assigned to {event.from_agent}")
            return
        if session.offer_agent is not None:
            self._ignore(event, event.session_id, "a transfer of this session is already pending")
            return
        if (event.to_agent is None) == (event.to_skill is None):
            self._ignore(event, event.session_id, "give exactly one of to_agent and to_skill")
            return
        source = self._agents[event.from_agent]
        if event.to_agent is not None:
            target = self._agents.get(event.to_agent)
            if target is None or target is source or not target.can_take():
                reason = P("logged_out") if target is None else (
                    P("same_agent") if target is source else ex.unavailable(target))
                explanation = ex.transfer_refused(session, event.to_agent, reason, source.agent_id)
                session.explanation = explanation
                self._out.append(
                    TransferReturned(
                        session_id=session.session_id,
                        agent_id=source.agent_id,
                        declined_by=event.to_agent,
                        reason="unavailable",
                        explanation=explanation,
                    )
                )
                return
            explanation = ex.offered_transfer(session, target, source.agent_id)
            self._offer(session, target, session.skill, explanation, transfer_from=source.agent_id)
            return
        skill = event.to_skill or ""
        refusal = self._admission_refusal(skill)
        if refusal is not None:
            explanation = ex.transfer_queue_refused(session, skill, refusal[1], source.agent_id)
            session.explanation = explanation
            self._out.append(
                TransferReturned(
                    session_id=session.session_id,
                    agent_id=source.agent_id,
                    declined_by=skill,
                    reason=refusal[0],
                    explanation=explanation,
                )
            )
            return
        del source.sessions[session.session_id]
        self._check_grace(source)
        self._touch(source)
        session.agent = None
        session.excluded = {}
        session.cooldown = {}
        self._exclude(session, source.agent_id, "transferred this session away")
        session.skill = skill
        session.priority = session.base_priority + self.settings.transfer_priority_boost
        if session.vip:
            session.priority += self.settings.vip_priority_boost
        session.waiting_since = self._now
        self._enqueue(session, announce=False)
        position = self._position(session)
        explanation = ex.transferred_to_queue(session, source.agent_id, skill, position)
        session.explanation = explanation
        self._out.append(
            Requeued(
                session_id=session.session_id,
                skill=skill,
                reason="transferred",
                position=position,
                explanation=explanation,
            )
        )
