"""Read views of the routing engine: what it shows the desk and the consoles about its state.

Owns the plain-dict views behind ``RoutingEngine.session``, ``waiting_sessions``, ``queue_stats``,
``agent_stats``, ``agent``, ``offer_refusal``, ``explain`` and ``explanation``: each takes the
engine's :class:`~routing.engine_state.EngineState`, reads it and returns copies. None of them
changes the state (at most a default queue configuration is cached), so reading never changes a
decision.
"""

from __future__ import annotations

from typing import Any

from routing.decisions import Explanation
from routing.engine_state import EngineState
from routing.metrics import QueueMetrics
from routing.state import AVAILABLE, AWAY, OFFLINE, QUEUED, WRAPUP, AgentState


def explain(state: EngineState, session_id: str) -> str:
    """The last explanation recorded for a session, in plain English."""
    session = state._sessions.get(session_id) or state._finished.get(session_id)
    if session is None:
        return f"No session {session_id} is known to the routing engine."
    if session.explanation is None:
        return f"Session {session_id} has no routing decision yet."
    return session.explanation.explain_text()


def explanation(state: EngineState, session_id: str) -> Explanation | None:
    """The last structured explanation recorded for a session."""
    session = state._sessions.get(session_id) or state._finished.get(session_id)
    return session.explanation if session else None


def session(state: EngineState, session_id: str) -> dict[str, Any] | None:
    """A session's routing state (state, skill, agent, queued_at, priority, ...) or None."""
    session = state._sessions.get(session_id) or state._finished.get(session_id)
    if session is None:
        return None
    view = session.public()
    if session.state == QUEUED and session.sticky_agent is None:
        queue = state._queues[session.skill]
        view["position"] = queue.rank(session.priority, session.arrived_at, session.seq) + 1
    return view


def waiting_sessions(state: EngineState, skill: str) -> list[dict[str, Any]]:
    """Sessions waiting for ``skill`` (queued or offered) in service order with positions."""
    sessions = [state._sessions[sid] for sid in state._waiting.get(skill, {})]
    sessions.sort(key=lambda s: s.key)
    return [
        {
            "position": i,
            "session_id": s.session_id,
            "state": s.state,
            "priority": s.priority,
            "arrived_at": s.arrived_at,
            "queued_at": s.waiting_since,
            "wait_s": state._now - s.waiting_since,
            "offered_to": s.offer_agent,
            "sticky_agent": s.sticky_agent,
            "overflowed": s.overflowed,
        }
        for i, s in enumerate(sessions, start=1)
    ]


def queue_stats(state: EngineState, now: float | None = None) -> dict[str, dict[str, Any]]:
    """Per skill: waiting, longest wait, service level, average wait, counters, agents."""
    now = state._now if now is None else now
    skills = list(dict.fromkeys([*state._configs, *state._waiting, *state._members, *state._metrics]))
    out: dict[str, dict[str, Any]] = {}
    for skill in sorted(skills):
        cfg = state._cfg(skill)
        waiting = [state._sessions[sid] for sid in state._waiting.get(skill, {})]
        metrics = state._metrics.get(skill) or QueueMetrics()
        past_sla = sum(1 for s in waiting if now - s.waiting_since > cfg.sla_secs)
        stats = metrics.summary(now, cfg.sla_secs, state.settings.metrics_window_secs, waiting_past_sla=past_sla)
        available = busy = away = 0
        for agent_id in state._members.get(skill, {}):
            agent = state._agents[agent_id]
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


def agent_stats(state: EngineState, now: float | None = None) -> dict[str, dict[str, Any]]:
    """Per logged-in agent: status, time in status, load, capacity, sessions, occupancy."""
    now = state._now if now is None else now
    return {agent.agent_id: agent_view(agent, now) for agent in state._agents.values()}


def agent(state: EngineState, agent_id: str, now: float | None = None) -> dict[str, Any] | None:
    """One logged-in agent as ``agent_stats`` shows it, or None (without visiting the others)."""
    agent = state._agents.get(agent_id)
    return None if agent is None else agent_view(agent, state._now if now is None else now)


def offer_refusal(state: EngineState, agent_id: str) -> tuple[str, str] | None:
    """Why the agent cannot be offered a session now, as ``(code, words)``, or None if it can.

    Codes: ``logged_out``, ``offline``, ``disconnected``, ``away``, ``wrapup``, ``at_capacity``.
    """
    agent = state._agents.get(agent_id)
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


def agent_view(agent: AgentState, now: float) -> dict[str, Any]:
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
