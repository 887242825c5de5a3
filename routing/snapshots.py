"""Snapshots of the routing engine: its whole state as a plain JSON-able dict, and back.

Owns the snapshot format (``SNAPSHOT_VERSION``): :func:`snapshot` writes an engine's
:class:`~routing.engine_state.EngineState` out, :func:`restore` builds an engine that continues
exactly from it (the same future decisions and explanations as the engine it was taken from). The
derived structures (skill queues, waiting and member sets, overflow sources) are not written;
they are rebuilt from the records.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from routing.config import EngineSettings
from routing.engine_state import EngineState
from routing.events import ConfigureQueue
from routing.indexes import AgentIndex
from routing.metrics import QueueMetrics
from routing.state import OFFERED, QUEUED, AgentState, SessionState

SNAPSHOT_VERSION = 1

S = TypeVar("S", bound=EngineState)


def snapshot(state: EngineState) -> dict[str, Any]:
    """The whole state as a plain JSON-able dict; :func:`restore` continues exactly from it."""
    return {
        "version": SNAPSHOT_VERSION,
        "settings": state.settings.to_dict(),
        "now": state._now,
        "seq": state._seq,
        "stamp": state._stamp,
        "events_applied": state._events_applied,
        "configs": [cfg.to_dict() for cfg in state._configs.values()],
        "agents": [agent.to_dict() for agent in state._agents.values()],
        "sessions": [s.to_dict() for s in state._sessions.values()],
        "finished": [s.to_dict() for s in state._finished.values()],
        "customers": [[c, a, t] for c, (a, t) in state._customers.items()],
        "rr_clock": dict(state._rr_clock),
        "metrics": {skill: m.to_dict() for skill, m in state._metrics.items()},
        # The heaps are kept as they are (stale entries included) so that explanations
        # after a restore mention exactly the agents they would have mentioned before.
        "indexes": [
            [skill, strategy, index.to_list()]
            for skill, by_strategy in state._indexes.items()
            for strategy, index in by_strategy.items()
        ],
        # Only live deadlines, sorted (a sorted list is a valid heap): next_deadline() may
        # have dropped stale ones already, which must not make two equal states differ.
        "timers": [
            [when, kind, subject]
            for when, kind, subject in sorted(set(state._timers.heap))
            if state._timer_live(kind, subject, when)
        ],
    }


def restore(make: Callable[[EngineSettings], S], data: dict[str, Any]) -> S:
    """An engine built by ``make(settings)`` and given the state in ``data`` (``snapshot()``
    output, also after a JSON round trip)."""
    if data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported routing snapshot version {data.get('version')!r}")
    engine = make(EngineSettings.from_dict(data["settings"]))
    engine._now = data["now"]
    engine._seq = data["seq"]
    engine._stamp = data["stamp"]
    engine._events_applied = data["events_applied"]
    for item in data["configs"]:
        cfg = ConfigureQueue.from_dict(item)
        engine._configs[cfg.skill] = cfg
    engine._rebuild_overflow_sources()
    for item in data["agents"]:
        agent = AgentState.from_dict(item)
        engine._agents[agent.agent_id] = agent
        engine._add_membership(agent)
    for item in data["sessions"]:
        session = SessionState.from_dict(item)
        engine._sessions[session.session_id] = session
    for item in data["finished"]:
        session = SessionState.from_dict(item)
        engine._finished[session.session_id] = session
    # Queues are rebuilt from the sessions in arrival order; their order is the key order.
    for session in sorted(engine._sessions.values(), key=lambda s: s.seq):
        if session.state in (QUEUED, OFFERED):
            engine._waiting.setdefault(session.skill, {})[session.session_id] = None
        if session.state == QUEUED and session.sticky_agent is None:
            engine._queue_in(session)
    engine._customers = OrderedDict((c, (a, t)) for c, a, t in data["customers"])
    engine._rr_clock = dict(data["rr_clock"])
    engine._metrics = {skill: QueueMetrics.from_dict(m) for skill, m in data["metrics"].items()}
    for skill, strategy, entries in data["indexes"]:
        engine._indexes.setdefault(skill, {})[strategy] = AgentIndex.from_list(skill, strategy, entries)
    engine._timers.heap = [(when, kind, subject) for when, kind, subject in data["timers"]]
    return engine
