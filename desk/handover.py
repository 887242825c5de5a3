"""Hand-overs of a session from one person to the next: transfers, reassignments, assignments.

Owns the ``handover`` record a session carries while one is under way (stored on the session, so
the receiving agent's offer, a reload and a restart all see the same thing) and the rules that
turn it into what people are told: the receiving agent's offer context, the entry in the
session's ``transfers`` list (only once a transfer has happened), and the outcome a supervisor
gets for a reassignment.

Kinds: ``transfer`` (the assigned agent hands it to an agent or a skill's queue), ``reassign`` (a
supervisor hands an assigned session to an agent), ``assign`` (a supervisor hands a waiting
session to an agent). ``status`` is ``pending`` until it happens; a transfer to a skill's queue
has happened when the session is back in a queue (``done``) and keeps its context until an agent
accepts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

KINDS = ("transfer", "reassign", "assign")
# What the customer is told by default when their conversation moves to someone else (the
# ``transferred`` message of `desk.texts`, which an admin may change).
CUSTOMER_NOTICE = "您好，您的会话正在转接给其他客服，请稍候，无需重复描述问题。"
# The engine's reasons a direct offer ended -> the outcome a supervisor or agent is shown.
OUTCOMES = {"rejected": "declined", "timed_out": "timed_out", "timeout": "timed_out"}


def new_handover(kind: str, by: str, to_agent: str | None, to_skill: str | None, from_agent: str | None,
                 note: str | None, now: float, to_name: str | None = None) -> dict[str, Any]:
    assert kind in KINDS
    return {"kind": kind, "by": by, "from": from_agent, "to_agent": to_agent, "to_name": to_name,
            "to_skill": to_skill, "note": (note or "").strip() or None, "ts": now, "status": "pending"}


def is_pending(handover: dict[str, Any] | None) -> bool:
    return bool(handover) and handover.get("status") == "pending"  # type: ignore[union-attr]


def applies_to(handover: dict[str, Any] | None, agent_id: str) -> bool:
    """Whether an offer to ``agent_id`` is the hand-over (named agent, or anyone of the skill)."""
    if not handover:
        return False
    if handover.get("to_agent"):
        return handover["to_agent"] == agent_id and handover.get("status") == "pending"
    return handover.get("status") == "done"


def offer_context(handover: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The ``transfer`` field of an offer: what kind of hand-over, from whom, by whom, the note."""
    return {"kind": handover["kind"], "from": handover.get("from"), "from_name": names.get(handover.get("from") or ""),
            "by": handover.get("by"), "by_name": names.get(handover.get("by") or ""),
            "to_skill": handover.get("to_skill"), "note": handover.get("note"), "ts": handover.get("ts")}


def transfer_entry(handover: dict[str, Any], now: float, accepted_by: str | None = None) -> dict[str, Any]:
    """The record added to ``session.transfers`` when a transfer or reassignment has happened."""
    entry = {k: handover.get(k) for k in ("from", "to_agent", "to_skill", "note", "by", "kind")}
    entry["ts"] = handover.get("ts")
    entry["done_at"] = now
    if accepted_by:
        entry["accepted_by"] = accepted_by
    return entry


def counts_as_transfer(handover: dict[str, Any]) -> bool:
    """Assigning a waiting session moves nobody's conversation: it is not a transfer."""
    return handover.get("kind") in ("transfer", "reassign")


# -- what the lifecycle does with a hand-over when the engine decides (`desk.lifecycle`) ---------
def on_assigned(session: Mapping[str, Any], agent_id: str, moved: bool,
                now: float) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """The session is assigned to ``agent_id`` (``moved``: from another agent who held it). Returns
    the hand-over this ends (``None``: there was none, or it is someone else's pending offer, which
    is kept) and the session's changes: the ``transfers`` entry if a transfer happened, the
    hand-over cleared."""
    handover = session.get("handover")
    changes: dict[str, Any] = {}
    if handover and applies_to(handover, agent_id) and handover.get("to_agent"):
        if counts_as_transfer(handover) and moved:
            changes["transfers"] = [*(session.get("transfers") or []),
                                    transfer_entry(handover, now, accepted_by=agent_id)]
    elif handover and handover.get("to_agent") and handover.get("to_agent") != agent_id:
        handover = None  # someone else's pending offer: keep it
    if handover is not None:
        changes["handover"] = None
    return handover, changes


def on_requeued(session: Mapping[str, Any], reason: str, now: float) -> dict[str, Any]:
    """The session is back in a queue for ``reason``: the session's changes to its hand-over."""
    handover = session.get("handover")
    if reason == "transferred" and handover and is_pending(handover):
        # A transfer to a queue has happened: it counts now; its context waits for the next agent.
        return {"transfers": [*(session.get("transfers") or []), transfer_entry(handover, now)],
                "handover": {**handover, "status": "done"}}
    if handover and reason != "transferred":
        return {"handover": None}  # the agent was lost: whatever was under way is over
    return {}


def tells_supervisor(handover: Mapping[str, Any] | None) -> bool:
    """A supervisor's reassignment or assignment: the supervisor hears how it ended."""
    return handover is not None and handover.get("kind") in ("reassign", "assign")


def result_event(handover: Mapping[str, Any], session_id: str, agent_id: str, outcome: str,
                 reason: str | None, to_name: str | None) -> dict[str, Any]:
    """The ``reassign_result`` event's data for the supervisor who asked."""
    return {"session_id": session_id, "to_agent": agent_id, "kind": handover["kind"], "outcome": outcome,
            "reason": reason, "to_name": to_name}


def returned_notice(session_id: str, declined_by: str, name: str, reason: str) -> dict[str, Any]:
    """The ``notice`` an agent gets when their direct transfer did not happen (the session stays)."""
    result = OUTCOMES.get(reason, "withdrawn")
    text = {"declined": f"{name} declined the transfer; the session stays with you.",
            "timed_out": f"{name} did not answer the transfer in time; the session stays with you."
            }.get(result, f"The transfer to {name} did not happen ({reason.replace('_', ' ')}); "
                          "the session stays with you.")
    return {"level": "info", "code": "transfer_returned", "session_id": session_id, "outcome": result,
            "reason": reason, "declined_by": declined_by, "name": name, "text": text}
