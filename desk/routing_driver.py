"""Drives the pure routing engine for the desk: desk requests in as engine events, decisions out as values.

Owns the one ``RoutingEngine`` of this process and its durable event log (every applied event is
appended to the store before its decisions are acted on, so a restart can rebuild the engine by
snapshot + replay). It carries nothing out: :meth:`RoutingDriver.decide` applies one event and
returns the engine's decisions, :meth:`RoutingDriver.record` makes the event durable, and
`desk.lifecycle.Lifecycle` (the caller, which serialises every use with one lock and owns the
timer that delivers ``Tick``) applies the decisions. The ``*_events`` methods translate a desk
request into the events to apply, refusing up front (``DeskError``) what cannot happen.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from desk.errors import DeskError, InvalidState
from routing import decisions as dec
from routing import events as ev
from routing.engine import RoutingEngine
from routing.state import ASSIGNED, OFFERED, WAITING_STATES  # the engine's session states
from store.base import Store
from store.records import CustomerRecord, SessionRecord

log = logging.getLogger("kefu.desk.routing")

# A snapshot every this many events keeps replay at start-up short.
SNAPSHOT_EVERY_EVENTS = 500
# How many waiting sessions of each queue the supervisor wall lists by id.
WALL_QUEUE_HEAD = 50
# The engine's reasons an agent cannot be offered a session -> the error code a console gets.
REFUSAL_CODES = {"away": "agent_away", "offline": "agent_offline", "logged_out": "agent_offline",
                 "disconnected": "agent_offline", "wrapup": "agent_busy", "at_capacity": "agent_busy"}
QUEUE_REFUSAL_CODES = {"outside_hours": "queue_closed", "no_agents": "no_agents"}


def skills_of(user: Mapping[str, Any]) -> dict[str, int]:
    """A user's skills as the engine takes them: name -> level (1-5, default 3)."""
    out: dict[str, int] = {}
    for skill in user.get("skills") or ():
        if isinstance(skill, str):
            out[skill] = 3
        else:
            out[str(skill["name"])] = int(skill.get("level", 3))
    return out


def raise_if_ignored(decisions: list[Any]) -> None:
    """The engine ignored the event (an ``EventIgnored`` decision): refuse the request."""
    ignored = next((d for d in decisions if isinstance(d, dec.EventIgnored)), None)
    if ignored is not None:
        raise InvalidState(ignored.reason)


class RoutingDriver:
    def __init__(self, store: Store, clock: Callable[[], float], offer_timeout: float = 20,
                 disconnect_grace: float = 60, observe: Callable[[float], None] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.offer_timeout = float(offer_timeout)
        self.disconnect_grace = float(disconnect_grace)
        self._observe = observe  # seconds one engine step took (metrics), or None
        self.engine: RoutingEngine | None = None
        self._events_since_snapshot = 0
        self._last_seq = 0
        self._agents: dict[str, tuple[tuple[tuple[str, int], ...], int]] = {}
        self._catalogue: list[str] = []
        # Each configured skill's ConfigureQueue fields (desk.skills): what its queue must have.
        # A skill not listed gets the desk's defaults (its offer timeout, nothing else set).
        self._queues: dict[str, dict[str, Any]] = {}

    # -- start / stop ----------------------------------------------------------------------------
    async def load(self, skills: list[str]) -> list[ev.Event]:
        """Rebuild the engine (snapshot + replay); returns the events start-up must still apply
        (queue settings, and the grace of every agent who was connected to the last process)."""
        self._catalogue = list(skills)
        settings = {"disconnect_grace_secs": self.disconnect_grace,
                    "default_offer_timeout_secs": self.offer_timeout}
        loaded = await self.store.load_routing_snapshot()
        if loaded is not None:
            self._last_seq, snapshot = loaded
            self.engine = RoutingEngine.restore(snapshot)
        else:
            self.engine = RoutingEngine(settings=self._settings(settings))
        replayed = 0
        for record in await self.store.routing_events(after_seq=self._last_seq):
            self._last_seq = record["seq"]
            event = ev.Event.from_dict({k: v for k, v in record.items() if k != "seq"})
            self.engine.apply(event)
            replayed += 1
        log.info("routing engine rebuilt", extra={"fields": {"snapshot_seq": loaded[0] if loaded else 0,
                                                             "replayed": replayed}})
        agents = self.engine.agent_stats(self.clock())
        for agent_id in agents:
            self._agents[agent_id] = ((), -1)  # known to the engine; skills refreshed on login
        events: list[ev.Event] = []
        for skill in skills:
            events.extend(self.queue_events(skill))
        # Nobody is connected to a process that just started: every agent's grace begins now.
        for agent_id, agent in agents.items():
            if agent["status"] != "offline" and agent["connected"]:
                events.append(ev.AgentDisconnected(agent_id=agent_id, now=self.clock()))
        return events

    def queue_events(self, skill: str) -> list[ev.Event]:
        """Configure a skill's queue as the skills setting says (or with the desk's defaults)
        unless it already is: the configured values win over the defaults, and a queue that has
        them is not configured again."""
        assert self.engine is not None
        fields = self._queues.get(skill) or {"offer_timeout_secs": self.offer_timeout}
        wanted = ev.ConfigureQueue(skill=skill, **fields, now=self.clock())
        if dataclasses.replace(self.engine.queue_config(skill), now=0.0) != dataclasses.replace(wanted, now=0.0):
            return [wanted]
        return []

    def configure_queues(self, queues: dict[str, dict[str, Any]], catalogue: list[str]) -> list[ev.Event]:
        """The skills setting changed (or is read at start-up): remember what every queue must
        have and return the events that bring the engine's queues level (none before the engine
        is loaded: `load` configures them then). A skill no longer listed gets the defaults."""
        before = set(self._queues)
        self._queues = {skill: dict(fields) for skill, fields in queues.items()}
        self._catalogue = list(catalogue)
        if self.engine is None:
            return []
        events: list[ev.Event] = []
        for skill in sorted(before | set(self._queues) | set(catalogue)):
            events.extend(self.queue_events(skill))
        return events

    def catalogue(self) -> list[str]:
        return list(self._catalogue)

    def _settings(self, overrides: dict[str, Any]) -> Any:
        from routing.config import EngineSettings

        return EngineSettings(**overrides)

    async def save(self) -> None:
        """The final snapshot (shutdown; the caller holds the lock)."""
        if self.engine is not None and self._events_since_snapshot:
            await self.store.save_routing_snapshot(self._last_seq, self.engine.snapshot())

    # -- applying (the caller serialises) -------------------------------------------------------
    def decide(self, event: ev.Event) -> list[dec.Decision]:
        """Apply one event to the engine; its decisions, in the order made."""
        assert self.engine is not None
        started = time.perf_counter()
        decisions = self.engine.apply(event)
        if self._observe is not None:
            self._observe(time.perf_counter() - started)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("routing applied", extra={"fields": {"event": event.kind,
                                                            "decisions": [d.kind for d in decisions]}})
        return decisions

    async def record(self, event: ev.Event) -> None:
        """Append the applied event to the durable log (before its decisions are carried out)."""
        assert self.engine is not None
        seqs = await self.store.append_routing_events([event.to_dict()])
        self._last_seq = seqs[-1]
        self._events_since_snapshot += 1
        if self._events_since_snapshot >= SNAPSHOT_EVERY_EVENTS:
            await self.store.save_routing_snapshot(self._last_seq, self.engine.snapshot())
            await self.store.prune_routing_events(self._last_seq)
            self._events_since_snapshot = 0

    def next_deadline(self) -> float | None:
        return self.engine.next_deadline() if self.engine is not None else None

    # -- requests as events ------------------------------------------------------------------------
    def agent_events(self, user: Mapping[str, Any]) -> list[ev.Event]:
        """Log the agent into the engine, or refresh their skills and capacity (nothing if unchanged)."""
        skills = skills_of(user)
        signature = (tuple(sorted(skills.items())), int(user.get("max_sessions") or 1))
        assert self.engine is not None
        if self._agents.get(user["id"]) == signature:
            return []
        current = self.agent(user["id"])
        status = current["status"] if current else "away"
        self._agents[user["id"]] = signature
        return [ev.AgentLoggedIn(agent_id=user["id"], skills=skills, capacity=signature[1],
                                 status=status if status != "offline" else "away", now=self.clock())]

    def presence_event(self, agent_id: str, status: str) -> ev.Event:
        return ev.PresenceChanged(agent_id=agent_id, status=status, now=self.clock())

    def request_events(self, session: SessionRecord, customer: CustomerRecord) -> list[ev.Event]:
        assert self.engine is not None
        if self.engine.session(session["id"]) is not None:
            return []
        # A session reaches routing only once it has a skill (create_queued, change_skill); the
        # record type allows None for sessions before that, so mypy cannot know it here.
        return [*self.queue_events(session["skill"]), ev.SessionRequested(  # type: ignore[arg-type]
            session_id=session["id"], customer_id=session["openid"], skill=session["skill"],  # type: ignore[arg-type]
            # The session's priority already holds what the customer's tags earn (the priority
            # rules, desk.priority): the engine's own VIP boost would count the tag twice.
            priority=int(session.get("priority") or 0), vip=False,
            arrived_at=session["queued_at"], now=self.clock())]

    def leave_message_events(self, session: SessionRecord, priority: int, to_agent: str | None,
                             arrived_at: float | None) -> list[ev.Event]:
        """A leave-message asks for an agent again, in its place by ``arrived_at`` (default: when it was left)."""
        if arrived_at is None:
            arrived_at = (session.get("leave_message") or {}).get("created_at")
        return [*self.queue_events(session["skill"] or ""), ev.LeaveMessageRequested(
            session_id=session["id"], customer_id=session["openid"], skill=session["skill"] or "", priority=priority,
            arrived_at=arrived_at, to_agent=to_agent, now=self.clock())]

    def knows(self, session_id: str) -> bool:
        return self.engine is not None and self.engine.session(session_id) is not None

    def knows_live(self, session_id: str) -> bool:
        """The engine has the session waiting, offered or assigned (not finished)."""
        state = self.engine.session(session_id) if self.engine is not None else None
        return state is not None and state["state"] in ("queued", "offered", "assigned")

    def skill_events(self, session_id: str, skill: str) -> list[ev.Event]:
        return [*self.queue_events(skill), ev.SkillChanged(session_id=session_id, skill=skill, now=self.clock())]

    def move_events(self, session_id: str, skill: str) -> list[ev.Event]:
        """A supervisor moves a waiting session to ``skill``'s queue (it keeps its place by
        arrival time). Refused up front (``DeskError``) when it is not waiting, already there,
        or the queue cannot take it now (closed, nobody with the skill)."""
        assert self.engine is not None
        state = self.engine.session(session_id)
        if state is None or state["state"] not in WAITING_STATES or state.get("transfer_from"):
            raise InvalidState("only a waiting session can be moved to another skill")
        if state.get("skill") == skill:
            raise InvalidState(f"the session already waits in the {skill} queue")
        events = self.queue_events(skill)
        refusal = self.engine.admission_refusal(skill)
        if refusal is not None:
            raise DeskError(QUEUE_REFUSAL_CODES.get(refusal[0], "invalid_state"),
                            f"The {skill} queue cannot take it now: {refusal[1]}.")
        return [*events, ev.SkillChanged(session_id=session_id, skill=skill, now=self.clock())]

    def customer_left_event(self, session_id: str) -> ev.Event:
        return ev.CustomerLeft(session_id=session_id, now=self.clock())

    def accept_event(self, session_id: str, agent_id: str) -> ev.Event:
        return ev.OfferAccepted(session_id=session_id, agent_id=agent_id, now=self.clock())

    def reject_event(self, session_id: str, agent_id: str) -> ev.Event:
        return ev.OfferRejected(session_id=session_id, agent_id=agent_id, now=self.clock())

    def close_event(self, session_id: str) -> ev.Event:
        return ev.SessionClosed(session_id=session_id, now=self.clock())

    def tick_event(self) -> ev.Event:
        return ev.Tick(now=self.clock())

    def _refuse_unavailable(self, agent_id: str, name: str) -> None:
        """Raise when the agent cannot be offered a session now (the caller holds the lock:
        nothing changes before the event is applied, so a refusal is the whole story)."""
        assert self.engine is not None
        refusal = self.engine.offer_refusal(agent_id)
        if refusal is not None:
            code, words = refusal
            raise DeskError(REFUSAL_CODES.get(code, "agent_busy"), f"{name} cannot take it now: {words}.")

    def transfer_event(self, session_id: str, from_agent: str, to_agent: str | None, to_skill: str | None,
                       to_name: str | None = None) -> ev.Event:
        """Hand an assigned session to an agent (an offer; it stays with ``from_agent`` until
        accepted) or to a skill's queue (its queue configured first: ``queue_events``). Refused
        up front (``DeskError``) when it cannot happen."""
        assert self.engine is not None
        if to_agent:
            self._refuse_unavailable(to_agent, to_name or to_agent)
        if to_skill:
            refusal = self.engine.admission_refusal(to_skill)
            if refusal is not None:
                raise DeskError(QUEUE_REFUSAL_CODES.get(refusal[0], "invalid_state"),
                                f"The {to_skill} queue cannot take it now: {refusal[1]}.")
        return ev.TransferRequested(session_id=session_id, from_agent=from_agent, to_agent=to_agent,
                                    to_skill=to_skill, now=self.clock())

    def reassign_event(self, session_id: str, to_agent: str, to_name: str | None = None) -> ev.Event:
        """A supervisor hands a session to ``to_agent``: an assigned one as a direct transfer, a
        waiting one as an offer ahead of the queue."""
        assert self.engine is not None
        state = self.engine.session(session_id)
        if state is None or state["state"] not in (ASSIGNED, *WAITING_STATES):
            raise InvalidState("only a waiting or assigned session can be reassigned")
        if state["state"] == ASSIGNED and state.get("agent") == to_agent:
            raise InvalidState("the session is already with that agent")
        if state.get("offered_to") == to_agent:
            raise InvalidState("the session is already offered to that agent")
        self._refuse_unavailable(to_agent, to_name or to_agent)
        if state["state"] == ASSIGNED:
            return ev.TransferRequested(session_id=session_id, from_agent=state["agent"], to_agent=to_agent,
                                        now=self.clock())
        return ev.AssignRequested(session_id=session_id, agent_id=to_agent, now=self.clock())

    def disconnect_events(self, agent_id: str) -> list[ev.Event]:
        return [ev.AgentDisconnected(agent_id=agent_id, now=self.clock())] if agent_id in self._agents else []

    def reconnect_events(self, agent_id: str) -> list[ev.Event]:
        return [ev.AgentReconnected(agent_id=agent_id, now=self.clock())] if agent_id in self._agents else []

    # -- reads -----------------------------------------------------------------------------------
    def agent(self, agent_id: str) -> dict[str, Any] | None:
        assert self.engine is not None
        return self.engine.agent(agent_id, self.clock())

    def is_offered_to(self, session_id: str, agent_id: str) -> bool:
        """Offered to this agent: a waiting session, or an assigned one being transferred to them."""
        state = self.engine.session(session_id) if self.engine else None
        return bool(state and state["state"] in (OFFERED, ASSIGNED) and state.get("offered_to") == agent_id)

    def assigned_agent(self, session_id: str) -> str | None:
        """The agent the engine says holds the session now (None unless it is assigned)."""
        state = self.engine.session(session_id) if self.engine else None
        return state.get("agent") if state and state["state"] == ASSIGNED else None

    def pending_offers(self, agent_id: str) -> list[tuple[str, float]]:
        agent = self.agent(agent_id)
        if agent is None:
            return []
        now = self.clock()
        out = []
        for session_id in agent["offers"]:
            state = self.engine.session(session_id) if self.engine else None
            if state and state.get("offer_expires_at"):
                out.append((session_id, max(0.0, state["offer_expires_at"] - now)))
        return out

    def presence_of(self, agent_id: str) -> tuple[str, float | None]:
        agent = self.agent(agent_id)
        if agent is None:
            return "offline", None
        return agent["status"], self.clock() - agent["time_in_status_s"]

    def explain(self, session_id: str) -> tuple[str, Any]:
        assert self.engine is not None
        explanation = self.engine.explanation(session_id)
        return self.engine.explain(session_id), explanation.to_dict() if explanation is not None else None

    def wall_now(self) -> dict[str, Any]:
        """Queues and agents as the protocol shows them (docs/protocol.md, ``queues``)."""
        assert self.engine is not None
        now = self.clock()
        queues = []
        stats = self.engine.queue_stats(now)
        for skill in self._catalogue:
            if skill not in stats:  # a skill nobody has used yet still belongs on the wall
                cfg = self.engine.queue_config(skill)
                stats[skill] = {"waiting": 0, "longest_wait_s": 0.0, "service_level": None, "average_wait_s": None,
                                "sla_secs": cfg.sla_secs, "strategy": cfg.strategy, "agents_available": 0,
                                "agents_busy": 0, "agents_away": 0}
        for skill, q in sorted(stats.items()):
            queues.append({
                "skill": skill, "waiting": q["waiting"], "longest_wait_s": round(q["longest_wait_s"], 1),
                "service_level": q["service_level"], "average_wait_s": q["average_wait_s"],
                "sla_secs": q["sla_secs"], "strategy": q["strategy"],
                "agents": {"available": q["agents_available"], "busy": q["agents_busy"], "away": q["agents_away"]},
                "counts": {k: q.get(k, 0) for k in ("offered", "accepted", "rejected", "timed_out", "abandoned",
                                                     "diverted")},
                # Who is next, in the engine's service order (the wall shows the head of each queue).
                "order": [w["session_id"] for w in self.engine.waiting_sessions(skill)[:WALL_QUEUE_HEAD]]
                if q["waiting"] else [],
            })
        agents = []
        for agent_id, a in self.engine.agent_stats(now).items():
            agents.append({
                "id": agent_id, "status": a["status"] if a["connected"] or a["status"] == "offline" else "disconnected",
                "presence": a["status"], "connected": a["connected"], "since": now - a["time_in_status_s"],
                "time_in_status_s": round(a["time_in_status_s"], 1), "load": a["load"], "capacity": a["capacity"],
                "sessions": a["sessions"], "offers": a["offers"], "skills": a["skills"],
                "occupancy": a["occupancy"],
            })
        return {"queues": queues, "agents": agents}

