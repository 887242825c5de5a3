"""Routing events: everything that can change the routing engine's state.

Owns the event classes. Each is a frozen, keyword-only dataclass carrying the clock reading
``now`` (seconds since the epoch) supplied by the desk; ``to_dict()`` gives a JSON-able dict
tagged with ``kind`` and ``Event.from_dict`` decodes any of them, so the desk can persist the
event log and the engine can be rebuilt by replaying it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from routing.config import BusinessHours
from routing.serial import Tagged, register


class Event(Tagged):
    """Base of all routing events (``Event.from_dict`` decodes any of them)."""

    __slots__ = ()

    registry: ClassVar[dict[str, type[Tagged]]] = {}
    now: float


# --- configuration -------------------------------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class ConfigureQueue(Event):
    """Create or replace the queue of one skill.

    ``overflow_after_secs`` with ``overflow_skills``: after that long waiting, agents of those
    skills may also take the session. ``max_wait_secs``: after that long the session is diverted
    to leave-message. ``wrapup_secs``: after closing a session of this skill the agent is in
    wrap-up (no offers) for that long. ``None`` disables a limit; ``business_hours=None`` means
    always open.
    """

    kind: ClassVar[str] = "configure_queue"
    skill: str
    strategy: str = "longest_idle"
    sla_secs: float = 30.0
    overflow_after_secs: float | None = None
    overflow_skills: tuple[str, ...] = ()
    max_wait_secs: float | None = None
    offer_timeout_secs: float = 20.0
    wrapup_secs: float = 0.0
    business_hours: BusinessHours | None = None
    now: float = 0.0

    @classmethod
    def _decode_field(cls, name: str, type_text: str, value: Any) -> Any:
        if name == "business_hours" and isinstance(value, dict):
            return BusinessHours.from_dict(value)
        return super(ConfigureQueue, cls)._decode_field(name, type_text, value)


# --- agents ----------------------------------------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class AgentLoggedIn(Event):
    """An agent logs in (or logs in again with new skills/capacity; sessions are kept).

    ``skills`` maps skill name to proficiency 1-5; ``capacity`` is how many sessions the agent
    handles at once; ``status`` is the presence right after login.
    """

    kind: ClassVar[str] = "agent_logged_in"
    agent_id: str
    skills: dict[str, int] = field(default_factory=dict)
    capacity: int = 1
    status: str = "available"
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class AgentLoggedOut(Event):
    """An agent logs out: outstanding offers are revoked, sessions requeued at the front now."""

    kind: ClassVar[str] = "agent_logged_out"
    agent_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class PresenceChanged(Event):
    """An agent sets presence ``available``, ``away`` or ``offline`` (offline starts the grace)."""

    kind: ClassVar[str] = "presence_changed"
    agent_id: str
    status: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class AgentDisconnected(Event):
    """The agent's console connection dropped; sessions are kept for the grace period."""

    kind: ClassVar[str] = "agent_disconnected"
    agent_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class AgentReconnected(Event):
    """The agent's console connection is back (within the grace period nothing was lost)."""

    kind: ClassVar[str] = "agent_reconnected"
    agent_id: str
    now: float


# --- sessions --------------------------------------------------------------------------------


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class SessionRequested(Event):
    """A customer session asks for a human agent with ``skill``.

    ``arrived_at`` is when the customer actually arrived, when that is earlier than ``now`` (a
    session the desk recovers after a crash keeps its place and waiting time); it is capped at
    the engine's clock.
    """

    kind: ClassVar[str] = "session_requested"
    session_id: str
    customer_id: str
    skill: str
    priority: int = 0
    vip: bool = False
    arrived_at: float | None = None
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class SkillChanged(Event):
    """A waiting session moves to another skill's queue, keeping its place by arrival time."""

    kind: ClassVar[str] = "skill_changed"
    session_id: str
    skill: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class OfferAccepted(Event):
    """The agent accepted the offer of ``session_id``."""

    kind: ClassVar[str] = "offer_accepted"
    session_id: str
    agent_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class OfferRejected(Event):
    """The agent declined the offer of ``session_id``; the next agent is tried."""

    kind: ClassVar[str] = "offer_rejected"
    session_id: str
    agent_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class SessionClosed(Event):
    """The session ended (closed by the agent, or by the desk while it was still waiting)."""

    kind: ClassVar[str] = "session_closed"
    session_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class CustomerLeft(Event):
    """The customer abandoned the session while it was waiting (counted as abandoned)."""

    kind: ClassVar[str] = "customer_left"
    session_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class TransferRequested(Event):
    """The assigned agent hands the session to ``to_agent`` or to the queue of ``to_skill``."""

    kind: ClassVar[str] = "transfer_requested"
    session_id: str
    from_agent: str
    to_agent: str | None = None
    to_skill: str | None = None
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class AssignRequested(Event):
    """A supervisor hands a waiting session to ``agent_id``: it is offered to that agent now,
    ahead of the queue's order, its exclusions and any sticky wait (an offer to someone else is
    withdrawn). The agent still accepts or declines; a decline or timeout counts as usual."""

    kind: ClassVar[str] = "assign_requested"
    session_id: str
    agent_id: str
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class LeaveMessageRequested(Event):
    """A diverted session (a leave-message, 留言) asks for an agent again.

    Like ``SessionRequested`` for a session the engine diverted (or never heard of), with the
    leave-message's own rules: it is not diverted again when the queue cannot take it (the event
    is ignored and the session stays a leave-message), it counts in none of the queue's
    counters, and the customer's last agent is not waited for. ``to_agent``: a supervisor's
    assignment, offered to that agent at once whatever the queue's hours (ignored when that
    agent cannot take it). The desk gives leave-messages a priority below live customers'.
    """

    kind: ClassVar[str] = "leave_message_requested"
    session_id: str
    customer_id: str
    skill: str
    priority: int = 0
    arrived_at: float | None = None
    to_agent: str | None = None
    now: float


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Tick(Event):
    """The clock moved: offer timeouts, wrap-up ends, overflow, max wait, grace, sticky wait.

    Every event also advances the clock first, so a Tick is only needed to act at
    ``RoutingEngine.next_deadline()`` when nothing else happens.
    """

    kind: ClassVar[str] = "tick"
    now: float


EVENT_TYPES: tuple[type[Event], ...] = tuple(Event.registry.values())  # type: ignore[arg-type]
