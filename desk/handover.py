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
