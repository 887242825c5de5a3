"""The durable agent-state log reports read (运营报表): available, busy, away, wrap-up, offline.

The routing engine knows each agent's presence and sessions, but its event log is pruned after
every snapshot (desk/routing_driver.py), so it cannot answer "how long was Li away last
Tuesday". After the lifecycle applies events (desk/lifecycle.py ``on_agents``), this log asks the
engine the state of every agent those events touched and, when it changed, appends it to the
store (``Store.append_agent_state``: intervals, never pruned).

The state of an agent, in this order: ``offline`` (logged out or presence offline), ``away``,
``wrapup`` (the engine's wrap-up time after a close), ``busy`` (available and holding at least
one session), ``available``. An agent whose connection dropped keeps their state through the
disconnect grace, as the engine does; time while the server is down counts in the state the
agent was in until the engine, started again, sees them gone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from desk.routing_driver import RoutingDriver
from routing import events as ev
from store.base import Store
from store.records import AgentState


def agents_named_by(event: ev.Event, routing: RoutingDriver) -> set[str]:
    """The agents an engine event may change the state of (asked by the lifecycle before the
    event is applied): those it names, and the one holding the session it is about (a close
    names only the session)."""
    out = {a for a in (getattr(event, "agent_id", None), getattr(event, "from_agent", None),
                       getattr(event, "to_agent", None)) if isinstance(a, str) and a}
    session_id = getattr(event, "session_id", None)
    if isinstance(session_id, str) and (holder := routing.assigned_agent(session_id)):
        out.add(holder)
    return out


def state_of(agent: dict[str, Any] | None) -> AgentState:
    """The reported state of an agent as the engine shows it (`RoutingDriver.agent`)."""
    if agent is None or agent["status"] == "offline":
        return "offline"
    if agent["status"] == "away":
        return "away"
    if agent["status"] == "wrapup":
        return "wrapup"
    return "busy" if agent["sessions"] else "available"


class AgentStateLog:
    def __init__(self, store: Store, routing: RoutingDriver, clock: Callable[[], float]) -> None:
        self.store = store
        self.routing = routing
        self.clock = clock
        # The last state written per agent: spares the store a write when nothing changed (the
        # store refuses a repeat anyway, so a cold cache after a restart only costs one write).
        self._last: dict[str, AgentState] = {}

    async def observe(self, agent_ids: Iterable[str]) -> None:
        """Called by the lifecycle (lock held) after applying events that touched these agents."""
        if self.routing.engine is None:
            return
        now = self.clock()
        for agent_id in sorted(agent_ids):
            state = state_of(self.routing.agent(agent_id))
            if self._last.get(agent_id) != state:
                await self.store.append_agent_state(agent_id, state, now)
                self._last[agent_id] = state
