"""The routing engine's mutable records: one per logged-in agent and one per session.

Owns :class:`AgentState` and :class:`SessionState` and their plain-dict form for snapshots. They
are internal to the engine; callers read them through ``RoutingEngine.session()`` and
``RoutingEngine.agent_stats()``, which return copies.
"""

from __future__ import annotations

from typing import Any

from routing.decisions import Explanation

# Presence values an agent can have. "wrapup" is set by the engine after a close.
AVAILABLE, AWAY, OFFLINE, WRAPUP = "available", "away", "offline", "wrapup"
PRESENCES = (AVAILABLE, AWAY, OFFLINE, WRAPUP)

# Session states.
QUEUED, OFFERED, ASSIGNED, DIVERTED, CLOSED, ABANDONED = (
    "queued",
    "offered",
    "assigned",
    "diverted",
    "closed",
    "abandoned",
)
WAITING_STATES = (QUEUED, OFFERED)
FINISHED_STATES = (DIVERTED, CLOSED, ABANDONED)


class AgentState:
    """One logged-in agent. ``version`` changes whenever anything its index keys depend on
    changes, which is how stale entries in the agent indexes are recognised."""

    __slots__ = (
        "agent_id",
        "skills",
        "capacity",
        "status",
        "status_since",
        "connected",
        "idle_since",
        "wrapup_until",
        "grace_until",
        "sessions",
        "offers",
        "reserved",
        "missed",
        "rr_last",
        "version",
    )

    def __init__(self, agent_id: str, skills: dict[str, int], capacity: int, status: str, now: float) -> None:
        self.agent_id = agent_id
        self.skills = dict(skills)
        self.capacity = capacity
        self.status = status
        self.status_since = now
        self.connected = True
        self.idle_since = now
        self.wrapup_until: float | None = None
        self.grace_until: float | None = None
        self.sessions: dict[str, None] = {}  # assigned session ids, in assignment order
        self.offers: dict[str, None] = {}  # outstanding offers to this agent
        self.reserved: dict[str, None] = {}  # sessions waiting for this agent (sticky routing)
        self.missed = 0  # consecutive missed offers
        self.rr_last: dict[str, int] = {}  # per skill: round-robin clock at the last offer
        self.version = 0

    @property
    def load(self) -> int:
        """Sessions plus outstanding offers: what counts against capacity."""
        return len(self.sessions) + len(self.offers)

    def can_take(self) -> bool:
        """Available, connected and with free capacity (skill is checked by the caller)."""
        return (
            self.status == AVAILABLE
            and self.connected
            and self.grace_until is None
            and len(self.sessions) + len(self.offers) < self.capacity
        )

    def unavailable_reason(self) -> str:
        """Why the agent cannot take an offer now, in words ('' if it can)."""
        if not self.connected:
            return "disconnected"
        if self.status == WRAPUP:
            return "in wrap-up"
        if self.status != AVAILABLE:
            return self.status
        if self.load >= self.capacity:
            return f"at capacity {self.load}/{self.capacity}"
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "skills": dict(self.skills),
            "capacity": self.capacity,
            "status": self.status,
            "status_since": self.status_since,
            "connected": self.connected,
            "idle_since": self.idle_since,
            "wrapup_until": self.wrapup_until,
            "grace_until": self.grace_until,
            "sessions": list(self.sessions),
            "offers": list(self.offers),
            "reserved": list(self.reserved),
            "missed": self.missed,
            "rr_last": dict(self.rr_last),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentState:
        agent = cls(data["agent_id"], data["skills"], data["capacity"], data["status"], data["status_since"])
        agent.connected = data["connected"]
        agent.idle_since = data["idle_since"]
        agent.wrapup_until = data["wrapup_until"]
        agent.grace_until = data["grace_until"]
        agent.sessions = dict.fromkeys(data["sessions"])
        agent.offers = dict.fromkeys(data["offers"])
        agent.reserved = dict.fromkeys(data["reserved"])
        agent.missed = data["missed"]
        agent.rr_last = dict(data["rr_last"])
        agent.version = data["version"]
        return agent


class SessionState:
    """One customer session from request to close.

    Queue order is ``(-priority, arrived_at, seq)``: ``priority`` already includes the VIP,
    transfer and requeue boosts; ``arrived_at`` is the first request time and survives
    transfers and requeues; ``waiting_since`` restarts when the session re-enters a queue and
    drives overflow, maximum wait and waiting-time metrics.
    """

    __slots__ = (
        "session_id",
        "customer_id",
        "skill",
        "base_priority",
        "vip",
        "priority",
        "arrived_at",
        "seq",
        "waiting_since",
        "state",
        "agent",
        "offer_agent",
        "offer_expires",
        "transfer_from",
        "excluded",
        "cooldown",
        "overflowed",
        "overflow_at",
        "max_wait_at",
        "sticky_agent",
        "sticky_until",
        "ended_at",
        "explanation",
    )

    def __init__(
        self,
        session_id: str,
        customer_id: str,
        skill: str,
        base_priority: int,
        vip: bool,
        priority: int,
        now: float,
        seq: int,
    ) -> None:
        self.session_id = session_id
        self.customer_id = customer_id
        self.skill = skill
        self.base_priority = base_priority
        self.vip = vip
        self.priority = priority
        self.arrived_at = now
        self.seq = seq
        self.waiting_since = now
        self.state = QUEUED
        self.agent: str | None = None  # assigned agent
        self.offer_agent: str | None = None  # agent holding the outstanding offer
        self.offer_expires: float | None = None
        self.transfer_from: str | None = None  # set while a direct transfer offer is out
        self.excluded: dict[str, str] = {}  # agent id -> why others are tried first
        # agent id -> when its cool-down ends: from then on the excluded agent is offered the
        # session again, but only when no agent who has not excluded it can take it.
        self.cooldown: dict[str, float] = {}
        self.overflowed = False
        self.overflow_at: float | None = None
        self.max_wait_at: float | None = None
        self.sticky_agent: str | None = None
        self.sticky_until: float | None = None
        self.ended_at: float | None = None
        self.explanation: Explanation | None = None

    @property
    def key(self) -> tuple[int, float, int]:
        return (-self.priority, self.arrived_at, self.seq)

    def cooling(self, agent_id: str, now: float) -> bool:
        """The agent excluded itself from this session and its cool-down has not ended yet."""
        return agent_id in self.excluded and self.cooldown.get(agent_id, now) > now

    def public(self) -> dict[str, Any]:
        """The read-only view returned by ``RoutingEngine.session()``."""
        return {
            "session_id": self.session_id,
            "customer_id": self.customer_id,
            "state": self.state,
            "skill": self.skill,
            "agent": self.agent,
            "offered_to": self.offer_agent,
            "offer_expires_at": self.offer_expires,
            "priority": self.priority,
            "vip": self.vip,
            "arrived_at": self.arrived_at,
            "queued_at": self.waiting_since,
            "overflowed": self.overflowed,
            "sticky_agent": self.sticky_agent,
            "excluded": dict(self.excluded),
            "cooldown": dict(self.cooldown),
            "ended_at": self.ended_at,
        }

    def to_dict(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in self.__slots__ if name != "explanation"}
        out["excluded"] = dict(self.excluded)
        out["cooldown"] = dict(self.cooldown)
        out["explanation"] = self.explanation.to_dict() if self.explanation else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionState:
        session = cls.__new__(cls)
        for name in cls.__slots__:
            if name != "cooldown":
                setattr(session, name, data[name])
        session.excluded = dict(data["excluded"])
        # Snapshots written before cool-downs existed: their exclusions end now.
        session.cooldown = dict(data.get("cooldown") or {})
        session.explanation = Explanation.from_dict(data["explanation"]) if data["explanation"] else None
        return session
