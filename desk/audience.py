"""Who hears about what: every event the desk sends leaves through here, onto the bus.

The bus gives each event its user's next ``seq`` (docs/protocol.md); a session's events go to its
agent and to the supervisors monitoring it (`desk.watchers.Watchers`).
"""

from __future__ import annotations

from typing import Any

from bus.base import Bus
from desk.watchers import Watchers
from store.records import SessionRecord


class Audience:
    def __init__(self, bus: Bus, watchers: Watchers | None = None) -> None:
        self.bus = bus
        self.watchers = watchers  # set once built (the watchers publish through this audience)

    async def publish(self, user_ids: list[str], event: str, data: dict[str, Any]) -> None:
        if user_ids:
            await self.bus.publish(user_ids, event, data)

    def monitors_of(self, session_id: str) -> list[str]:
        return self.watchers.monitors_of(session_id) if self.watchers is not None else []

    async def session_event(self, session: SessionRecord, event: str, data: dict[str, Any],
                            agent: bool = True) -> None:
        """An event about a session goes to its agent (as stored) and every supervisor monitoring it."""
        targets = set(self.monitors_of(session["id"]))
        if agent and (agent_id := session.get("agent_id")) and session.get("state") == "assigned":
            targets.add(agent_id)
        await self.publish(sorted(targets), event, data)

    async def presence(self, agent_id: str, status: str, since: float, reason: str | None = None) -> None:
        """The agent's presence changed (every tab hears it); set away for missed offers, they are told why."""
        data: dict[str, Any] = {"agent_id": agent_id, "status": status, "since": since}
        if reason:
            data["reason"] = reason
        await self.publish([agent_id], "presence", data)
        if reason == "missed_offers":
            await self.publish([agent_id], "notice", {
                "level": "warning", "code": "set_away_missed_offers",
                "text": "You missed several offers in a row and were set to away."})
