"""Stored sessions brought level with the routing engine, pure: what to write, never the write.

The engine's log is written before its decisions are carried out, so a crash in between leaves a
stored session behind what the engine says; and a customer leaving a waiting session is counted
by the engine as abandoned without a decision saying so. For each case this module says which
state (and fields) the stored session should get; `desk.lifecycle`, the only writer of session
state, writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routing import state as routing_state  # the engine's session states (its own, "abandoned" included)
from store.records import SessionRecord, SessionState

# (the state to write, the other fields to write with it)
Write = tuple[SessionState, dict[str, Any]]


def level(stored: SessionRecord, engine: Mapping[str, Any] | None, now: float) -> Write | None:
    """At start: the write that brings ``stored`` level with the engine's view of it (``None``:
    already level, or a session the engine does not know)."""
    if engine is None:
        return None
    if engine["state"] in routing_state.FINISHED_STATES:
        state: SessionState = "diverted" if engine["state"] == routing_state.DIVERTED else "closed"
        return state, {"closed_at": now, "close_reason": stored.get("close_reason") or engine["state"]}
    if engine["state"] == routing_state.ASSIGNED and stored.get("agent_id") != engine.get("agent"):
        return "assigned", {"agent_id": engine.get("agent")}
    if engine["state"] == routing_state.QUEUED and stored["state"] != "queued":
        return "queued", {"agent_id": None, "offered_to": None}
    return None


def abandoned(engine: Mapping[str, Any] | None, now: float) -> Write | None:
    """After a customer left: the engine counted the waiting session abandoned, so the stored one
    is closed now with ``close_reason: "abandoned"`` (reports count it)."""
    if engine is not None and engine["state"] == routing_state.ABANDONED:
        return "closed", {"closed_at": now, "close_reason": "abandoned"}
    return None
