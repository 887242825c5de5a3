"""The skills-based routing engine: events in, decisions out, deterministic given the clock.

Owns :class:`RoutingEngine`. All state changes go through :meth:`RoutingEngine.apply`; the same
event sequence always produces the same state and decisions (ordered dicts only, ties broken by
ids and sequence numbers, no randomness), so the state can be snapshotted to a JSON-able dict,
restored, or rebuilt by replaying the event log.

How a decision is reached without scanning everyone:

* each skill's waiting sessions live in a :class:`~routing.indexes.SkillQueue` (priority buckets,
  arrival order inside), plus a second one holding only the sessions that have overflowed;
* available agents of a skill live in one :class:`~routing.indexes.AgentIndex` heap per strategy
  in use, invalidated lazily by a global version stamp;
* deadlines (offer timeouts, wrap-up end, overflow, maximum wait, grace, sticky wait) live in one
  :class:`~routing.indexes.TimerHeap`, each entry checked against the state when it fires.

After every event the engine *settles*: each agent that may have become free takes the best
waiting session it may serve, then each session that started waiting is offered to the best
free agent. So there is never a free agent and a waiting session that could be matched.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from routing.config import STRATEGIES, EngineSettings
from routing.decisions import (
    AgentPresence,
    Candidate,
    Decision,
    Divert,
    EventIgnored,
    Explanation,
    OfferSession,
    OfferTimedOut,
    Requeued,
    RevokeOffer,
    SessionAssigned,
    SessionQueued,
    SetAgentAway,
    TransferReturned,
    explanation_builder,
    fast_maker,
)
from routing.decisions import deferred_explanation as _deferred
from routing.events import (
    AgentDisconnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReconnected,
    AssignRequested,
    ConfigureQueue,
    CustomerLeft,
    Event,
    OfferAccepted,
    OfferRejected,
    PresenceChanged,
    SessionClosed,
    SessionRequested,
    SkillChanged,
    Tick,
    TransferRequested,
)
from routing.indexes import AgentIndex, SkillQueue, TimerHeap
from routing.metrics import ABANDONED, ANSWERED, TIMED_OUT_DIVERT, QueueMetrics
from routing.state import ABANDONED as SESSION_ABANDONED
from routing.state import (
    ASSIGNED,
    AVAILABLE,
    AWAY,
    CLOSED,
    DIVERTED,
    OFFERED,
    OFFLINE,
    QUEUED,
    WRAPUP,
    AgentState,
    SessionState,
)
from routing.wording import Phrase as P

SNAPSHOT_VERSION = 1
# Timer kinds, in the order they fire when deadlines are equal.
T_GRACE, T_WRAPUP, T_OFFER, T_STICKY, T_OVERFLOW, T_MAX_WAIT, T_COOLDOWN = range(7)
# How many excluded agents an explanation lists before summarising the rest.
EXPLAIN_MAX_EXCLUDED = 10
EXPLAIN_MAX_UNAVAILABLE = 3


# Constructors for the decisions made on every event (see ``fast_maker``; all fields required).
_make_offer_session = fast_maker(OfferSession)
_make_session_assigned = fast_maker(SessionAssigned)
_make_session_queued = fast_maker(SessionQueued)
_make_candidate = fast_maker(Candidate)


def _secs(value: float) -> str:
    return f"{value:.0f} s"


# --- explanations, built only when read ------------------------------------------------------
# The engine records an explanation with every decision, but its text is rarely read. On the
# common paths it captures the plain values the text needs (at decision time: the state moves on)
# and ``deferred_explanation`` builds the record from them on first use, identical to building it
# at once. Each builder returns ``(summary, strategy, skill, candidates, notes)``.


def _describe_values(strategy: str, agent: AgentState, skill: str, now: float) -> tuple[Any, ...]:
    """What :func:`_describe_text` needs about an agent, read now."""
    if strategy == "least_occupied":
        return (len(agent.sessions) + len(agent.offers), agent.capacity, now - agent.idle_since)
    if strategy == "best_proficiency":
        return (agent.skills.get(skill, 0), skill, now - agent.idle_since)
    if strategy == "round_robin":
        return (agent.rr_last.get(skill),)
    return (now - agent.idle_since,)


def _describe_text(strategy: str, values: tuple[Any, ...]) -> str:
    """The deciding value of an agent under ``strategy``, in words."""
    if strategy == "least_occupied":
        load, capacity, idle = values
        return P("occupancy", load=load, capacity=capacity, idle_s=idle)
    if strategy == "best_proficiency":
        level, skill, idle = values
        return P("proficiency", level=level, skill=skill, idle_s=idle)
    if strategy == "round_robin":
        turn = values[0]
        return P("rr_turn", turn=turn) if turn else P("rr_never")
    return P("idle", idle_s=values[0])


# The words the engine keeps in ``session.excluded`` -> their phrase codes.
_EXCLUDED_CODES = {"rejected this session": "excl_rejected", "let the offer time out": "excl_timed_out",
                   "transferred this session away": "excl_transferred"}


def _excluded_why(words: str) -> str:
    code = _EXCLUDED_CODES.get(words)
    return P(code) if code else P("why_other", word=words)


def _why(reason: str) -> str:
    """A reason code of a decision (``agent_lost``, ``rejected``, ...) as a phrase."""
    code = "why_" + reason
    return P(code) if code in _WHY_CODES else P("why_other", word=reason.replace("_", " "))


_WHY_CODES = frozenset({"why_rejected", "why_timed_out", "why_agent_lost", "why_agent_logged_out",
                        "why_transfer_returned"})


def _unavailable(agent: AgentState, skill: str | None = None) -> str:
    """Why an agent cannot take an offer now (``unavailable_reason``) as a phrase."""
    if skill is not None and skill not in agent.skills:
        return P("lacks_skill")
    if not agent.connected:
        return P("disconnected")
    if agent.status == WRAPUP:
        return P("wrapup")
    if agent.status in (AWAY, OFFLINE):
        return P(agent.status)
    if agent.load >= agent.capacity:
        return P("at_capacity", load=agent.load, capacity=agent.capacity)
    return P("disconnected")  # in its disconnect grace


def _build_freed(
    session_id: str,
    agent_id: str,
    how: str,
    session_skill: str,
    via: str,
    waited: float,
    priority: int,
    strategy: str,
    described: tuple[Any, ...],
) -> tuple[Any, ...]:
    notes = [P("had_waited", session=session_id, waited_s=waited, priority=priority)]
    if how == "sticky":
        summary = P("offered_freed_sticky", session=session_id, agent=agent_id)
    else:
        summary = P("offered_freed", session=session_id, agent=agent_id, skill=session_skill)
        if how == "overflow":
            notes.append(P("via_overflow", agent=agent_id, from_skill=session_skill, to_skill=via))
    candidate = _make_candidate(
        agent_id=agent_id, verdict="chosen", reason=P("chosen", detail=_describe_text(strategy, described))
    )
    return (summary, "sticky" if how == "sticky" else "agent_freed", session_skill, (candidate,), tuple(notes))


def _build_offered(
    session_id: str,
    agent_id: str,
    waited: float,
    strategy: str,
    skill: str,
    candidates: tuple[Candidate, ...],
    notes: tuple[str, ...],
) -> tuple[Any, ...]:
    return (P("offered", session=session_id, agent=agent_id, waited_s=waited), strategy, skill, candidates, notes)


def _build_waiting(
    session_id: str,
    position: int,
    skill: str,
    strategy: str,
    candidates: tuple[Candidate, ...],
    notes: tuple[str, ...],
    present: int | None,
) -> tuple[Any, ...]:
    if present is not None:
        notes = (*notes, P("none_free_one" if present == 1 else "none_free_many", n=present, skill=skill))
    return (P("waits", session=session_id, position=position, skill=skill), strategy, skill, candidates, notes)


def _build_accepted(agent_id: str, session_id: str, wait: float, skill: str) -> tuple[Any, ...]:
    return (P("accepted", agent=agent_id, session=session_id, wait_s=wait), None, skill, (), ())


def _build_left(session_id: str, waited: float, skill: str) -> tuple[Any, ...]:
    return (P("left", session=session_id, waited_s=waited), None, skill, (), ())


def _build_ignored(kind: str, subject: str, reason: str) -> tuple[Any, ...]:
    return (P("ignored", kind=kind, subject=subject, reason=reason), None, None, (), ())


_B_FREED = explanation_builder(_build_freed)
_B_OFFERED = explanation_builder(_build_offered)
_B_WAITING = explanation_builder(_build_waiting)
_B_ACCEPTED = explanation_builder(_build_accepted)
_B_LEFT = explanation_builder(_build_left)
_B_IGNORED = explanation_builder(_build_ignored)


class RoutingEngine:
    """Skills-based routing for customer sessions. Construct, configure queues, apply events.

    >>> engine = RoutingEngine(EngineSettings(sticky_wait_secs=20))
    >>> engine.apply(ConfigureQueue(skill="billing", strategy="longest_idle", sla_secs=30))
    []
    """

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self._now = 0.0
        self._seq = 0  # session arrival sequence: the last tie-breaker of queue order
        self._stamp = 0  # agent version clock, global so a re-login never reuses a version
        self._events_applied = 0
        self._configs: dict[str, ConfigureQueue] = {}
        self._agents: dict[str, AgentState] = {}
        self._sessions: dict[str, SessionState] = {}  # not finished
        # OrderedDict, not dict: both drop their oldest entry often, and next(iter(dict)) slows
        # down as deleted slots pile up at the front of a plain dict.
        self._finished: OrderedDict[str, SessionState] = OrderedDict()  # finished, oldest first, bounded
        self._customers: OrderedDict[str, tuple[str, float]] = OrderedDict()  # customer -> (last agent, when)
        self._rr_clock: dict[str, int] = {}
        self._metrics: dict[str, QueueMetrics] = {}
        self._indexes: dict[str, dict[str, AgentIndex]] = {}  # skill -> strategy -> index
        self._timers = TimerHeap()
        # Derived from the above; rebuilt by restore().
        self._queues: dict[str, SkillQueue] = {}
        self._overflowed: dict[str, SkillQueue] = {}
        self._waiting: dict[str, dict[str, None]] = {}  # skill -> queued or offered session ids
        self._members: dict[str, dict[str, None]] = {}  # skill -> logged-in agents with it
        self._present: dict[str, int] = {}  # skill -> agents logged in and not offline
        self._overflow_sources: dict[str, tuple[str, ...]] = {}
        self._default_configs: dict[str, ConfigureQueue] = {}
        # Work for the current apply().
        self._dirty_agents: dict[str, None] = {}
        self._dirty_sessions: dict[str, bool] = {}  # session id -> announce SessionQueued if it waits
        self._out: list[Decision] = []
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

    @property
    def now(self) -> float:
        """The engine's clock: the latest ``now`` it has seen."""
        return self._now

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

    def explain(self, session_id: str) -> str:
        """The last explanation recorded for a session, in plain English."""
        session = self._sessions.get(session_id) or self._finished.get(session_id)
        if session is None:
            return f"No session {session_id} is known to the routing engine."
        if session.explanation is None:
            return f"Session {session_id} has no routing decision yet."
        return session.explanation.explain_text()

    def explanation(self, session_id: str) -> Explanation | None:
        """The last structured explanation recorded for a session."""
        session = self._sessions.get(session_id) or self._finished.get(session_id)
        return session.explanation if session else None

    def session(self, session_id: str) -> dict[str, Any] | None:
        """A session's routing state (state, skill, agent, queued_at, priority, ...) or None."""
        session = self._sessions.get(session_id) or self._finished.get(session_id)
        if session is None:
            return None
        view = session.public()
        if session.state == QUEUED and session.sticky_agent is None:
            queue = self._queues[session.skill]
            view["position"] = queue.rank(session.priority, session.arrived_at, session.seq) + 1
        return view

    def queue_config(self, skill: str) -> ConfigureQueue:
        """The configuration in force for ``skill`` (defaults if never configured)."""
        return self._cfg(skill)

    def waiting_sessions(self, skill: str) -> list[dict[str, Any]]:
        """Sessions waiting for ``skill`` (queued or offered) in service order with positions."""
        sessions = [self._sessions[sid] for sid in self._waiting.get(skill, {})]
        sessions.sort(key=lambda s: s.key)
        return [
            {
                "position": i,
                "session_id": s.session_id,
                "state": s.state,
                "priority": s.priority,
                "arrived_at": s.arrived_at,
                "queued_at": s.waiting_since,
                "wait_s": self._now - s.waiting_since,
                "offered_to": s.offer_agent,
                "sticky_agent": s.sticky_agent,
                "overflowed": s.overflowed,
            }
            for i, s in enumerate(sessions, start=1)
        ]

    def queue_stats(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        """Per skill: waiting, longest wait, service level, average wait, counters, agents."""
        now = self._now if now is None else now
        skills = list(dict.fromkeys([*self._configs, *self._waiting, *self._members, *self._metrics]))
        out: dict[str, dict[str, Any]] = {}
        for skill in sorted(skills):
            cfg = self._cfg(skill)
            waiting = [self._sessions[sid] for sid in self._waiting.get(skill, {})]
            metrics = self._metrics.get(skill) or QueueMetrics()
            past_sla = sum(1 for s in waiting if now - s.waiting_since > cfg.sla_secs)
            stats = metrics.summary(now, cfg.sla_secs, self.settings.metrics_window_secs, waiting_past_sla=past_sla)
            available = busy = away = 0
            for agent_id in self._members.get(skill, {}):
                agent = self._agents[agent_id]
                if agent.status == AVAILABLE and agent.connected and agent.load < agent.capacity:
                    available += 1
                elif agent.status in (AVAILABLE, WRAPUP):
                    busy += 1
                elif agent.status == AWAY:
                    away += 1
            out[skill] = {
                "skill": skill,
                "strategy": cfg.strategy,
                "sla_secs": cfg.sla_secs,
                "waiting": len(waiting),
                "longest_wait_s": max((now - s.waiting_since for s in waiting), default=0.0),
                "agents_available": available,
                "agents_busy": busy,
                "agents_away": away,
                **stats,
            }
        return out

    def agent_stats(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        """Per logged-in agent: status, time in status, load, capacity, sessions, occupancy."""
        now = self._now if now is None else now
        return {agent.agent_id: self._agent_view(agent, now) for agent in self._agents.values()}

    def agent(self, agent_id: str, now: float | None = None) -> dict[str, Any] | None:
        """One logged-in agent as ``agent_stats`` shows it, or None (without visiting the others)."""
        agent = self._agents.get(agent_id)
        return None if agent is None else self._agent_view(agent, self._now if now is None else now)

    def offer_refusal(self, agent_id: str) -> tuple[str, str] | None:
        """Why the agent cannot be offered a session now, as ``(code, words)``, or None if it can.

        Codes: ``logged_out``, ``offline``, ``disconnected``, ``away``, ``wrapup``, ``at_capacity``.
        """
        agent = self._agents.get(agent_id)
        if agent is None:
            return ("logged_out", "logged out")
        if agent.can_take():
            return None
        if not agent.connected or agent.grace_until is not None:
            return ("offline" if agent.status == OFFLINE else "disconnected", agent.unavailable_reason() or "disconnected")
        if agent.status == WRAPUP:
            return ("wrapup", "in wrap-up")
        if agent.status != AVAILABLE:
            return (agent.status, agent.status)
        return ("at_capacity", agent.unavailable_reason())

    def admission_refusal(self, skill: str) -> tuple[str, str] | None:
        """Why a session cannot wait in ``skill``'s queue now (``outside_hours``, ``no_agents``)."""
        return self._admission_refusal(skill)

    @staticmethod
    def _agent_view(agent: AgentState, now: float) -> dict[str, Any]:
        return {
            "agent_id": agent.agent_id,
            "status": agent.status,
            "connected": agent.connected,
            "time_in_status_s": now - agent.status_since,
            "skills": dict(agent.skills),
            "load": agent.load,
            "capacity": agent.capacity,
            "sessions": list(agent.sessions),
            "offers": list(agent.offers),
            "occupancy": len(agent.sessions) / agent.capacity,
            "missed_offers": agent.missed,
            "wrapup_until": agent.wrapup_until,
            "grace_until": agent.grace_until,
        }

    # ------------------------------------------------------------------ snapshot / restore

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a plain JSON-able dict; ``restore`` continues exactly from it."""
        return {
            "version": SNAPSHOT_VERSION,
            "settings": self.settings.to_dict(),
            "now": self._now,
            "seq": self._seq,
            "stamp": self._stamp,
            "events_applied": self._events_applied,
            "configs": [cfg.to_dict() for cfg in self._configs.values()],
            "agents": [agent.to_dict() for agent in self._agents.values()],
            "sessions": [s.to_dict() for s in self._sessions.values()],
            "finished": [s.to_dict() for s in self._finished.values()],
            "customers": [[c, a, t] for c, (a, t) in self._customers.items()],
            "rr_clock": dict(self._rr_clock),
            "metrics": {skill: m.to_dict() for skill, m in self._metrics.items()},
            # The heaps are kept as they are (stale entries included) so that explanations
            # after a restore mention exactly the agents they would have mentioned before.
            "indexes": [
                [skill, strategy, index.to_list()]
                for skill, by_strategy in self._indexes.items()
                for strategy, index in by_strategy.items()
            ],
            # Only live deadlines, sorted (a sorted list is a valid heap): next_deadline() may
            # have dropped stale ones already, which must not make two equal states differ.
            "timers": [
                [when, kind, subject]
                for when, kind, subject in sorted(set(self._timers.heap))
                if self._timer_live(kind, subject, when)
            ],
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> RoutingEngine:
        """Rebuild an engine from ``snapshot()`` output (also after a JSON round trip)."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported routing snapshot version {snapshot.get('version')!r}")
        engine = cls(EngineSettings.from_dict(snapshot["settings"]))
        engine._now = snapshot["now"]
        engine._seq = snapshot["seq"]
        engine._stamp = snapshot["stamp"]
        engine._events_applied = snapshot["events_applied"]
        for data in snapshot["configs"]:
            cfg = ConfigureQueue.from_dict(data)
            engine._configs[cfg.skill] = cfg
        engine._rebuild_overflow_sources()
        for data in snapshot["agents"]:
            agent = AgentState.from_dict(data)
            engine._agents[agent.agent_id] = agent
            engine._add_membership(agent)
        for data in snapshot["sessions"]:
            session = SessionState.from_dict(data)
            engine._sessions[session.session_id] = session
        for data in snapshot["finished"]:
            session = SessionState.from_dict(data)
            engine._finished[session.session_id] = session
        # Queues are rebuilt from the sessions in arrival order; their order is the key order.
        for session in sorted(engine._sessions.values(), key=lambda s: s.seq):
            if session.state in (QUEUED, OFFERED):
                engine._waiting.setdefault(session.skill, {})[session.session_id] = None
            if session.state == QUEUED and session.sticky_agent is None:
                engine._queue_in(session)
        engine._customers = OrderedDict((c, (a, t)) for c, a, t in snapshot["customers"])
        engine._rr_clock = dict(snapshot["rr_clock"])
        engine._metrics = {skill: QueueMetrics.from_dict(m) for skill, m in snapshot["metrics"].items()}
        for skill, strategy, entries in snapshot["indexes"]:
            engine._indexes.setdefault(skill, {})[strategy] = AgentIndex.from_list(skill, strategy, entries)
        engine._timers.heap = [(when, kind, subject) for when, kind, subject in snapshot["timers"]]
        return engine

    # ------------------------------------------------------------------ helpers: config, output

    def _cfg(self, skill: str) -> ConfigureQueue:
        cfg = self._configs.get(skill)
        if cfg is None:
            cfg = self._default_configs.get(skill)
            if cfg is None:
                cfg = ConfigureQueue(
                    skill=skill, offer_timeout_secs=self.settings.default_offer_timeout_secs
                )
                self._default_configs[skill] = cfg
        return cfg

    def _stats(self, skill: str) -> QueueMetrics:
        metrics = self._metrics.get(skill)
        if metrics is None:
            metrics = self._metrics[skill] = QueueMetrics()
        return metrics

    def _ignore(self, event: Event, subject: str, reason: str) -> None:
        self._out.append(
            EventIgnored(
                event_kind=event.kind,
                subject_id=subject,
                reason=reason,
                explanation=_deferred((_B_IGNORED, event.kind, subject, reason)),
            )
        )

    def _rebuild_overflow_sources(self) -> None:
        sources: dict[str, list[str]] = {}
        for skill, cfg in self._configs.items():
            if cfg.overflow_after_secs is None:
                continue
            for other in cfg.overflow_skills:
                if other != skill:
                    sources.setdefault(other, []).append(skill)
        self._overflow_sources = {k: tuple(v) for k, v in sources.items()}

    # ------------------------------------------------------------------ helpers: agents

    def _add_membership(self, agent: AgentState) -> None:
        counted = agent.status != OFFLINE
        for skill in agent.skills:
            self._members.setdefault(skill, {})[agent.agent_id] = None
            if counted:
                self._present[skill] = self._present.get(skill, 0) + 1

    def _drop_membership(self, agent: AgentState) -> None:
        counted = agent.status != OFFLINE
        for skill in agent.skills:
            self._members[skill].pop(agent.agent_id, None)
            if counted:
                self._present[skill] -= 1

    def _set_status(self, agent: AgentState, status: str) -> None:
        if agent.status == status:
            return
        self._drop_membership(agent)
        if status == AVAILABLE:
            agent.idle_since = self._now
            agent.missed = 0
        if status != WRAPUP:
            agent.wrapup_until = None
        agent.status = status
        agent.status_since = self._now
        self._add_membership(agent)

    def _touch(self, agent: AgentState) -> None:
        """Record that the agent changed: new version (its index entries go stale); settle it.

        Fresh index entries are pushed by ``_settle`` once the agent has taken what it can,
        so an agent freed and at once given a waiting session costs no index traffic.
        """
        self._stamp += 1
        agent.version = self._stamp
        self._dirty_agents[agent.agent_id] = None

    def _reindex(self, agent: AgentState) -> None:
        """Push the agent's current entry into each index of its skills, if it can take offers."""
        if not agent.can_take():
            return
        for skill in agent.skills:
            indexes = self._indexes.get(skill)
            if not indexes:
                continue
            for index in indexes.values():
                index.push(agent)
                if len(index.heap) > 2 * len(self._members.get(skill, ())) + 32:
                    index.rebuild(self._agents[a] for a in self._members.get(skill, {}))

    def _index(self, skill: str, strategy: str) -> AgentIndex:
        by_strategy = self._indexes.get(skill)
        if by_strategy is None:
            by_strategy = self._indexes[skill] = {}
        index = by_strategy.get(strategy)
        if index is None:
            index = by_strategy[strategy] = AgentIndex(skill, strategy)
            index.rebuild(self._agents[a] for a in self._members.get(skill, {}))
        return index

    def _check_grace(self, agent: AgentState) -> None:
        """Start the grace period when the agent went offline or lost its connection."""
        if agent.connected and agent.status != OFFLINE:
            agent.grace_until = None
        elif agent.grace_until is None and agent.sessions:
            agent.grace_until = self._now + self.settings.disconnect_grace_secs
            self._timers.push(agent.grace_until, T_GRACE, agent.agent_id)

    def _revoke_offers(self, agent: AgentState, reason: str) -> None:
        for session_id in list(agent.offers):
            session = self._sessions[session_id]
            self._out.append(
                RevokeOffer(
                    session_id=session_id,
                    agent_id=agent.agent_id,
                    reason=reason,
                    explanation=Explanation(
                        summary=f"Withdrew the offer of {session_id} from {agent.agent_id}: "
                        f"{reason.replace('_', ' ')}",
                        skill=session.skill,
                    ),
                )
            )
            self._offer_failed(session, agent, reason, missed=False, exclude=False)

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
            session.explanation = Explanation(
                summary=session.explanation.summary,
                strategy=session.explanation.strategy,
                skill=session.explanation.skill,
                candidates=session.explanation.candidates,
                notes=(*session.explanation.notes, note),
            )

    # ------------------------------------------------------------------ helpers: sessions

    def _queue_in(self, session: SessionState) -> None:
        key = (session.priority, session.arrived_at, session.seq, session.session_id)
        queue = self._queues.get(session.skill)
        if queue is None:
            queue = self._queues[session.skill] = SkillQueue()
        queue.add(*key)
        if session.overflowed:
            overflowed = self._overflowed.get(session.skill)
            if overflowed is None:
                overflowed = self._overflowed[session.skill] = SkillQueue()
            overflowed.add(*key)

    def _queue_out(self, session: SessionState) -> None:
        key = (session.priority, session.arrived_at, session.seq, session.session_id)
        queue = self._queues.get(session.skill)
        if queue is not None:
            queue.remove(*key)
        if session.overflowed:
            overflowed = self._overflowed.get(session.skill)
            if overflowed is not None:
                overflowed.remove(*key)

    def _position(self, session: SessionState) -> int:
        queue = self._queues.get(session.skill)
        if queue is None:
            return 1
        return queue.rank(session.priority, session.arrived_at, session.seq) + 1

    def _enqueue(self, session: SessionState, announce: bool) -> None:
        """Put a session that starts waiting (new, moved or requeued) into its skill's queue."""
        cfg = self._cfg(session.skill)
        session.state = QUEUED
        session.overflowed = False
        self._waiting.setdefault(session.skill, {})[session.session_id] = None
        session.overflow_at = None
        if cfg.overflow_after_secs is not None and cfg.overflow_skills:
            session.overflow_at = session.waiting_since + cfg.overflow_after_secs
            if session.overflow_at <= self._now:
                session.overflowed = True
            else:
                self._timers.push(session.overflow_at, T_OVERFLOW, session.session_id)
        session.max_wait_at = None
        if cfg.max_wait_secs is not None:
            session.max_wait_at = session.waiting_since + cfg.max_wait_secs
            self._timers.push(session.max_wait_at, T_MAX_WAIT, session.session_id)
        if session.sticky_agent is None:
            self._queue_in(session)
        self._dirty_sessions[session.session_id] = announce

    def _leave_waiting(self, session: SessionState) -> None:
        """Take a queued or offered session out of every waiting structure."""
        if session.state == QUEUED and session.sticky_agent is None:
            self._queue_out(session)
        self._waiting.get(session.skill, {}).pop(session.session_id, None)
        if session.sticky_agent is not None:
            agent = self._agents.get(session.sticky_agent)
            if agent is not None:
                agent.reserved.pop(session.session_id, None)
            session.sticky_agent = None
            session.sticky_until = None

    def _finish(self, session: SessionState, state: str) -> None:
        session.state = state
        session.ended_at = self._now
        session.offer_agent = None
        session.offer_expires = None
        del self._sessions[session.session_id]
        self._finished[session.session_id] = session
        while len(self._finished) > self.settings.retain_finished_sessions:
            self._finished.popitem(last=False)

    def _divert(self, session: SessionState, reason: str, summary: str, notes: tuple[str, ...] = ()) -> None:
        if session.state in (QUEUED, OFFERED):
            self._leave_waiting(session)
        self._stats(session.skill).counts["diverted"] += 1
        if reason == "max_wait":
            self._stats(session.skill).record(
                self._now, TIMED_OUT_DIVERT, self._now - session.waiting_since, self.settings.metrics_window_secs
            )
        explanation = Explanation(summary=summary, skill=session.skill, notes=notes)
        session.explanation = explanation
        self._out.append(
            Divert(session_id=session.session_id, skill=session.skill, reason=reason, explanation=explanation)
        )
        self._finish(session, DIVERTED)

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

    def _remember_customer(self, customer_id: str, agent_id: str) -> None:
        customers = self._customers
        customers[customer_id] = (agent_id, self._now)
        customers.move_to_end(customer_id)
        horizon = self._now - self.settings.sticky_window_secs
        while customers:
            first = next(iter(customers))
            if customers[first][1] >= horizon:
                break
            customers.popitem(last=False)

    def _requeue_front(self, session: SessionState, reason: str, notes: tuple[str, ...] = ()) -> None:
        """An assigned session lost its agent: back to the front of its skill's queue."""
        session.agent = None
        session.priority = session.base_priority + self.settings.requeue_priority_boost
        if session.vip:
            session.priority += self.settings.vip_priority_boost
        session.waiting_since = self._now
        self._enqueue(session, announce=False)
        position = self._position(session)
        explanation = Explanation(
            summary=P("requeued", session=session.session_id, position=position, skill=session.skill, why=_why(reason)),
            skill=session.skill,
            notes=notes,
        )
        session.explanation = explanation
        self._out.append(
            Requeued(
                session_id=session.session_id,
                skill=session.skill,
                reason=reason,
                position=position,
                explanation=explanation,
            )
        )

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

    # ------------------------------------------------------------------ offers

    def _offer(
        self,
        session: SessionState,
        agent: AgentState,
        index_skill: str,
        explanation: Explanation,
        transfer_from: str | None = None,
    ) -> None:
        cfg = self._cfg(session.skill)
        if session.state == QUEUED:
            if session.sticky_agent is None:
                self._queue_out(session)
            else:
                sticky = self._agents.get(session.sticky_agent)
                if sticky is not None:
                    sticky.reserved.pop(session.session_id, None)
                session.sticky_agent = None
                session.sticky_until = None
            session.state = OFFERED
        session.offer_agent = agent.agent_id
        session.offer_expires = self._now + cfg.offer_timeout_secs
        session.transfer_from = transfer_from
        session.explanation = explanation
        agent.offers[session.session_id] = None
        agent.idle_since = self._now
        clock = self._rr_clock.get(index_skill, 0) + 1
        self._rr_clock[index_skill] = clock
        agent.rr_last[index_skill] = clock
        self._timers.push(session.offer_expires, T_OFFER, session.session_id)
        self._stats(session.skill).counts["offered"] += 1
        self._touch(agent)
        self._out.append(
            _make_offer_session(
                session_id=session.session_id,
                agent_id=agent.agent_id,
                skill=session.skill,
                expires_at=session.offer_expires,
                transfer_from=transfer_from,
                explanation=explanation,
            )
        )

    def _cooldown_secs(self, skill: str) -> float:
        cooldown = self.settings.offer_cooldown_secs
        return self._cfg(skill).offer_timeout_secs if cooldown is None else cooldown

    def _exclude(self, session: SessionState, agent_id: str, why: str) -> None:
        """Others are tried first; after the cool-down the agent may have it again as a last resort."""
        session.excluded[agent_id] = why
        until = self._now + self._cooldown_secs(session.skill)
        session.cooldown[agent_id] = until
        self._timers.push(until, T_COOLDOWN, session.session_id)

    def _offer_failed(self, session: SessionState, agent: AgentState, why: str, missed: bool, exclude: bool) -> None:
        """The outstanding offer to ``agent`` ended without acceptance; route the session on."""
        agent.offers.pop(session.session_id, None)
        session.offer_agent = None
        session.offer_expires = None
        if session.transfer_from is not None:
            original = session.agent
            session.transfer_from = None
            if original is not None and original in self._agents:
                explanation = Explanation(
                    summary=P("transfer_failed", session=session.session_id, agent=agent.agent_id, why=_why(why),
                              original=original),
                    strategy="direct_transfer",
                    skill=session.skill,
                )
                session.explanation = explanation
                self._out.append(
                    TransferReturned(
                        session_id=session.session_id,
                        agent_id=original,
                        declined_by=agent.agent_id,
                        reason=why,
                        explanation=explanation,
                    )
                )
            else:
                self._waiting.get(session.skill, {}).pop(session.session_id, None)
                self._requeue_front(
                    session, "transfer_returned", notes=(P("transfer_was", agent=agent.agent_id, why=_why(why)),)
                )
        else:
            if exclude:
                words = {"rejected": "rejected this session", "timed_out": "let the offer time out"}
                self._exclude(session, agent.agent_id, words.get(why, why))
            if session.sticky_agent == agent.agent_id:
                agent.reserved.pop(session.session_id, None)
                session.sticky_agent = None
                session.sticky_until = None
            session.state = QUEUED
            if session.max_wait_at is not None and self._now >= session.max_wait_at:
                self._divert(
                    session,
                    "max_wait",
                    P("diverted", session=session.session_id,
                      why=P("why_max_wait", waited_s=self._now - session.waiting_since)),
                )
            else:
                self._queue_in(session)
                self._dirty_sessions.setdefault(session.session_id, False)
        if missed:
            agent.missed += 1
            if agent.missed >= self.settings.missed_offers_before_away and agent.status in (AVAILABLE, WRAPUP):
                count = agent.missed
                self._set_status(agent, AWAY)
                self._out.append(
                    SetAgentAway(
                        agent_id=agent.agent_id,
                        reason="missed_offers",
                        explanation=Explanation(
                            summary=f"Set {agent.agent_id} away after {count} missed offers in a row"
                        ),
                    )
                )
                agent.missed = count
                self._revoke_offers(agent, "agent_away")
        self._touch(agent)

    def _describe(self, strategy: str, agent: AgentState, skill: str) -> str:
        return _describe_text(strategy, _describe_values(strategy, agent, skill, self._now))

    def _pick(
        self, skill: str, strategy: str, session: SessionState, candidates: list[Candidate]
    ) -> tuple[AgentState, tuple[Any, ...], bool] | None:
        """The best agent in ``skill``'s index for this session, noting who was looked at:
        ``(agent, rank, fallback)``. ``fallback`` is True when every agent who could take it
        had excluded itself and the chosen one's cool-down has ended (a last resort)."""
        heap = self._index(skill, strategy).heap
        if not heap:
            return None
        agents = self._agents
        excluded = session.excluded
        cooldown = session.cooldown
        now = self._now
        held: list[Any] = []
        chosen: tuple[AgentState, tuple[Any, ...]] | None = None
        fallback: tuple[AgentState, tuple[Any, ...]] | None = None
        fallback_at = -1  # its place in candidates
        runners = self.settings.explain_runners_up
        listed_excluded = listed_unavailable = 0
        seen: set[str] = set()
        while heap:
            entry = heap[0]
            key, agent_id, version = entry
            agent = agents.get(agent_id)
            if agent is None or agent.version != version or not agent.can_take():
                heapq.heappop(heap)
                if (
                    agent is not None
                    and agent_id not in seen
                    and listed_unavailable < EXPLAIN_MAX_UNAVAILABLE
                    and not agent.can_take()
                ):
                    seen.add(agent_id)
                    listed_unavailable += 1
                    candidates.append(
                        _make_candidate(agent_id=agent_id, verdict="unavailable", reason=_unavailable(agent, skill))
                    )
                continue
            if agent_id in excluded:
                held.append(heapq.heappop(heap))
                if fallback is None and cooldown.get(agent_id, now) <= now:
                    fallback = (agent, key)
                    fallback_at = len(candidates)
                    candidates.append(
                        _make_candidate(agent_id=agent_id, verdict="excluded",
                                        reason=P("excluded", why=_excluded_why(excluded[agent_id])))
                    )
                    continue
                if listed_excluded < EXPLAIN_MAX_EXCLUDED:
                    candidates.append(
                        _make_candidate(agent_id=agent_id, verdict="excluded",
                                        reason=P("excluded", why=_excluded_why(excluded[agent_id])))
                    )
                listed_excluded += 1
                continue
            if chosen is None:
                held.append(heapq.heappop(heap))
                chosen = (agent, key)
                candidates.append(
                    _make_candidate(
                        agent_id=agent_id,
                        verdict="chosen",
                        reason=P("chosen", detail=self._describe(strategy, agent, skill)),
                    )
                )
                continue
            if runners > 0:
                runners -= 1
                held.append(heapq.heappop(heap))
                candidates.append(
                    _make_candidate(agent_id=agent_id, verdict="passed", reason=self._describe(strategy, agent, skill))
                )
                continue
            break
        for entry in held:
            heapq.heappush(heap, entry)
        if listed_excluded > EXPLAIN_MAX_EXCLUDED:
            candidates.append(
                _make_candidate(
                    agent_id="...",
                    verdict="excluded",
                    reason=P("more_excluded", n=listed_excluded - EXPLAIN_MAX_EXCLUDED),
                )
            )
        if chosen is not None:
            return (chosen[0], chosen[1], False)
        if fallback is not None:
            agent_id = fallback[0].agent_id
            candidates[fallback_at] = _make_candidate(
                agent_id=agent_id,
                verdict="chosen",
                reason=P("chosen", detail=P("offered_again", why=_excluded_why(excluded[agent_id]))),
            )
            return (fallback[0], fallback[1], True)
        return None

    def _route(self, session: SessionState, announce: bool) -> None:
        """Offer a waiting session to the best free agent, or record why it waits."""
        if session.state != QUEUED:
            return
        cfg = self._cfg(session.skill)
        notes: list[str] = []
        candidates: list[Candidate] = []
        present: int | None = None  # agents with the skill, for the note on why it waits
        if session.sticky_agent is not None:
            agent = self._agents.get(session.sticky_agent)
            if agent is not None and agent.can_take():
                explanation = Explanation(
                    summary=P("offered_sticky", session=session.session_id, agent=agent.agent_id),
                    strategy="sticky",
                    skill=session.skill,
                    candidates=(Candidate(agent_id=agent.agent_id, verdict="chosen",
                                          reason=P("chosen", detail=P("last_agent"))),),
                )
                self._offer(session, agent, session.skill, explanation)
                return
            reason = _unavailable(agent) if agent is not None else P("logged_out")
            candidates.append(Candidate(agent_id=session.sticky_agent, verdict="unavailable", reason=reason))
            notes.append(P("sticky_waiting", left_s=(session.sticky_until or self._now) - self._now,
                           agent=session.sticky_agent))
        else:
            chosen = self._pick(session.skill, cfg.strategy, session, candidates)
            via = session.skill
            if (chosen is None or chosen[2]) and session.overflowed:
                # An agent who has not excluded the session, through overflow, comes before one who has.
                primary = chosen
                for other in cfg.overflow_skills:
                    found = self._pick(other, cfg.strategy, session, candidates)
                    if found is not None and (
                        chosen is None
                        or (found[2], found[1], found[0].agent_id) < (chosen[2], chosen[1], chosen[0].agent_id)
                    ):
                        chosen, via = found, other
                if chosen is not None and chosen is not primary:
                    notes.append(P("overflowed", skill=session.skill, waited_s=self._now - session.waiting_since, via=via))
            if chosen is not None and chosen[2] and self._last_resort_waits(session, chosen[0]):
                # Looked at again later in this settle pass (its explanation is made then).
                self._dirty_sessions[session.session_id] = announce or self._dirty_sessions.get(session.session_id, False)
                return
            if chosen is not None:
                agent = chosen[0]
                if via != session.skill or len([c for c in candidates if c.verdict == "chosen"]) > 1:
                    candidates = [
                        c if c.verdict != "chosen" or c.agent_id == agent.agent_id
                        else self._demoted(session, c)
                        for c in candidates
                    ]
                explanation = _deferred((
                    _B_OFFERED,
                    session.session_id,
                    agent.agent_id,
                    self._now - session.waiting_since,
                    cfg.strategy,
                    session.skill,
                    tuple(candidates),
                    tuple(notes),
                ))
                self._offer(session, agent, via, explanation)
                return
            present = self._present.get(session.skill, 0)
        position = self._position(session)
        session.explanation = _deferred((
            _B_WAITING,
            session.session_id,
            position,
            session.skill,
            cfg.strategy if session.sticky_agent is None else "sticky",
            tuple(candidates),
            tuple(notes),
            present,
        ))
        if announce:
            self._out.append(
                _make_session_queued(
                    session_id=session.session_id,
                    skill=session.skill,
                    position=position,
                    explanation=session.explanation,
                )
            )

    def _last_resort_waits(self, session: SessionState, agent: AgentState) -> bool:
        """Whether offering ``session`` to ``agent``, who excluded it and whose cool-down has
        ended, must wait until the rest of this settle pass is done.

        A last resort is only right once it is known that nobody else can take the session: an
        agent changed in this pass (e.g. given another session a moment ago, with seats left) is
        not back in the indexes yet, so _pick cannot have seen it. And queue order holds for last
        resorts too: if the agent may take a session ahead of this one (one it excluded whose
        cool-down has also ended, or one it never refused), that one is routed first.
        """
        if self._dirty_agents:
            return True
        agent_id = agent.agent_id
        sessions = self._sessions
        now = self._now

        def may_take(session_id: str) -> bool:
            return not sessions[session_id].cooling(agent_id, now)

        first: tuple[int, float, int] = session.key
        ahead: str | None = None
        for skill in agent.skills:
            queues = [self._queues.get(skill)]
            queues += [self._overflowed.get(source) for source in self._overflow_sources.get(skill, ())]
            for queue in queues:
                hit = queue.first(may_take) if queue is not None and queue.size else None
                if hit is not None and (-hit[0], hit[1], hit[2]) < first:
                    first, ahead = (-hit[0], hit[1], hit[2]), hit[3]
        if ahead is None:
            return False
        self._dirty_sessions.setdefault(ahead, False)
        return True

    @staticmethod
    def _demoted(session: SessionState, candidate: Candidate) -> Candidate:
        """A candidate chosen in one index but beaten by one from another (overflow)."""
        if candidate.agent_id in session.excluded:
            why = _excluded_why(session.excluded[candidate.agent_id])
            return Candidate(agent_id=candidate.agent_id, verdict="excluded", reason=P("excluded", why=why))
        reason = candidate.reason
        detail: str = reason.params["detail"] if isinstance(reason, P) else reason[len("chosen: "):]
        return Candidate(agent_id=candidate.agent_id, verdict="passed", reason=detail)

    def _best_for(self, agent: AgentState) -> tuple[SessionState, str, str] | None:
        """The waiting session this agent should take next: (session, index skill, how)."""
        best: tuple[Any, ...] | None = None
        best_found: tuple[SessionState, str, str] | None = None
        for session_id in agent.reserved:
            session = self._sessions[session_id]
            if session.state == QUEUED and (best is None or session.key < best):
                best, best_found = session.key, (session, session.skill, "sticky")
        if best_found is not None:
            return best_found
        agent_id = agent.agent_id
        sessions = self._sessions
        queues = self._queues
        overflow_sources = self._overflow_sources
        now = self._now
        fallback: str | None = None  # a session whose cool-down for this agent has ended
        for skill in agent.skills:
            queue = queues.get(skill)
            if queue is not None and queue.size:
                hit, spare = queue.first_for(agent_id, sessions, now)
                if hit is not None and (best is None or (-hit[0], hit[1], hit[2]) < best):
                    best, best_found = (-hit[0], hit[1], hit[2]), (sessions[hit[3]], skill, "queue")
                elif spare is not None and fallback is None:
                    fallback = spare[3]
            if skill not in overflow_sources:
                continue
            for source in overflow_sources[skill]:
                overflowed = self._overflowed.get(source)
                if overflowed is not None and overflowed.size:
                    hit, spare = overflowed.first_for(agent_id, sessions, now)
                    if hit is not None and (best is None or (-hit[0], hit[1], hit[2]) < best):
                        best, best_found = (-hit[0], hit[1], hit[2]), (sessions[hit[3]], skill, "overflow")
                    elif spare is not None and fallback is None:
                        fallback = spare[3]
        if best_found is None and fallback is not None:
            # This agent excluded itself from that session and its cool-down is over. Whether it
            # gets it again is for _route to decide, after every agent freed by this event is
            # back in the indexes: an agent who has not excluded the session comes first.
            self._dirty_sessions.setdefault(fallback, False)
        return best_found

    def _fill(self, agent: AgentState) -> None:
        """A free agent takes the best waiting sessions it may serve, up to its capacity."""
        while agent.can_take():
            found = self._best_for(agent)
            if found is None:
                return
            session, via, how = found
            strategy = self._cfg(session.skill).strategy
            explanation = _deferred((
                _B_FREED,
                session.session_id,
                agent.agent_id,
                how,
                session.skill,
                via,
                self._now - session.waiting_since,
                session.priority,
                strategy,
                _describe_values(strategy, agent, via, self._now),
            ))
            self._offer(session, agent, via, explanation)

    def _settle(self) -> None:
        dirty_agents = self._dirty_agents  # never rebound
        agents = self._agents
        while dirty_agents or self._dirty_sessions:
            while dirty_agents:
                agent_id = next(iter(dirty_agents))
                del dirty_agents[agent_id]
                agent = agents.get(agent_id)
                if agent is not None:
                    if agent.can_take():
                        self._fill(agent)
                        # Offers made by _fill marked it dirty again; it has taken all it can.
                        dirty_agents.pop(agent_id, None)
                    self._reindex(agent)
            if self._dirty_sessions:
                dirty = self._dirty_sessions
                self._dirty_sessions = {}
                if len(dirty) == 1:
                    session_id, announce = next(iter(dirty.items()))
                    session = self._sessions.get(session_id)
                    if session is not None:
                        self._route(session, announce)
                    continue
                live = [self._sessions[sid] for sid in dirty if sid in self._sessions]
                live.sort(key=lambda s: s.key)
                for session in live:
                    self._route(session, dirty[session.session_id])

    # ------------------------------------------------------------------ timers

    def _timer_live(self, kind: int, subject: str, when: float) -> bool:
        if kind in (T_GRACE, T_WRAPUP):
            agent = self._agents.get(subject)
            if agent is None:
                return False
            if kind == T_GRACE:
                return agent.grace_until == when
            return agent.status == WRAPUP and agent.wrapup_until == when
        session = self._sessions.get(subject)
        if session is None:
            return False
        if kind == T_OFFER:
            return session.offer_agent is not None and session.offer_expires == when
        if kind == T_STICKY:
            return session.sticky_agent is not None and session.sticky_until == when and session.state == QUEUED
        if kind == T_OVERFLOW:
            return session.state in (QUEUED, OFFERED) and not session.overflowed and session.overflow_at == when
        if kind == T_COOLDOWN:
            # Still live while offered to someone else (firing then does nothing): if that offer
            # fails the session waits again and the excluded agent's cool-down must still end.
            # A timer found dead is dropped for good (next_deadline, snapshots), so liveness must
            # not come back when the state does.
            return session.state in (QUEUED, OFFERED) and when in session.cooldown.values()
        # Still live while offered: if the offer fails the session is diverted at once.
        return session.state in (QUEUED, OFFERED) and session.max_wait_at == when

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
                explanation=Explanation(
                    summary=f"{agent_id} stayed {why} past the {_secs(self.settings.disconnect_grace_secs)} "
                    "grace period; their sessions were requeued"
                ),
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
                explanation=Explanation(summary=f"{agent_id} finished wrap-up and is available again"),
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
                explanation=Explanation(
                    summary=P("timed_out", agent=agent.agent_id, session=session_id),
                    skill=session.skill,
                ),
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

    # ------------------------------------------------------------------ event handlers

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

    def _leave_waiting_keep_sticky(self, session: SessionState) -> None:
        if session.sticky_agent is None:
            self._queue_out(session)
        self._waiting.get(session.skill, {}).pop(session.session_id, None)

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
            summary = P("accepted_transfer", agent=agent.agent_id, session=session.session_id)
            wait = 0.0
        else:
            wait = self._now - session.waiting_since
            metrics = self._stats(session.skill)
            metrics.counts["accepted"] += 1
            metrics.record(self._now, ANSWERED, wait, self.settings.metrics_window_secs)
            self._waiting.get(session.skill, {}).pop(session.session_id, None)
            summary = None
        session.state = ASSIGNED
        session.agent = agent.agent_id
        session.offer_agent = None
        session.offer_expires = None
        session.excluded = {}
        session.cooldown = {}
        if summary is None:
            explanation = _deferred((_B_ACCEPTED, agent.agent_id, session.session_id, wait, session.skill))
        else:
            explanation = Explanation(summary=summary, skill=session.skill)
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
                            explanation=Explanation(
                                summary=f"{agent.agent_id} is in wrap-up for {_secs(wrapup)} after closing "
                                f"{session.session_id}"
                            ),
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
            _B_LEFT, session.session_id, self._now - session.waiting_since, session.skill,
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
        notes = () if session.skill in target.skills else (P("agent_lacks_skill", agent=target.agent_id,
                                                                skill=session.skill),)
        explanation = Explanation(
            summary=P("offered_by_supervisor", session=session.session_id, agent=target.agent_id),
            strategy="supervisor_assign",
            skill=session.skill,
            candidates=(Candidate(agent_id=target.agent_id, verdict="chosen",
                                  reason=P("chosen", detail=P("named_by_supervisor"))),),
            notes=notes,
        )
        self._offer(session, target, session.skill, explanation)

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
                    P("same_agent") if target is source else _unavailable(target))
                explanation = Explanation(
                    summary=P("transfer_refused", session=session.session_id, agent=event.to_agent, why=reason,
                              original=source.agent_id),
                    strategy="direct_transfer",
                    skill=session.skill,
                    candidates=(Candidate(agent_id=event.to_agent, verdict="unavailable", reason=reason),),
                )
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
            notes = () if session.skill in target.skills else (P("agent_lacks_skill", agent=target.agent_id,
                                                                    skill=session.skill),)
            explanation = Explanation(
                summary=P("offered_transfer", session=session.session_id, agent=target.agent_id,
                          from_agent=source.agent_id),
                strategy="direct_transfer",
                skill=session.skill,
                candidates=(Candidate(agent_id=target.agent_id, verdict="chosen",
                                      reason=P("chosen", detail=P("named_by_agent"))),),
                notes=notes,
            )
            self._offer(session, target, session.skill, explanation, transfer_from=source.agent_id)
            return
        skill = event.to_skill or ""
        refusal = self._admission_refusal(skill)
        if refusal is not None:
            explanation = Explanation(
                summary=P("transfer_queue_refused", session=session.session_id, skill=skill, why=refusal[1],
                          original=source.agent_id),
                skill=skill,
            )
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
        explanation = Explanation(
            summary=P("transferred_to_queue", agent=source.agent_id, session=session.session_id, skill=skill,
                      position=position),
            skill=skill,
        )
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
