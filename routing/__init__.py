"""Kefu's skills-based routing engine: pure, synchronous, deterministic, explainable.

Owns the public surface of ``routing``: construct a :class:`RoutingEngine` (optionally with
:class:`EngineSettings`), feed it events from :mod:`routing.events` with ``apply(event)`` and act
on the decisions from :mod:`routing.decisions` it returns. No I/O, no clock of its own, no
imports outside the standard library. See ``docs/routing.md``.
"""

from routing.config import STRATEGIES, BusinessHours, EngineSettings
from routing.decisions import (
    DECISION_TYPES,
    AgentPresence,
    Candidate,
    Decision,
    Divert,
    EventIgnored,
    Explanation,
    OfferSession,
    OfferTimedOut,
    Requeued,
    RevokeOffer,
    SessionAssigned,
    SessionQueued,
    SetAgentAway,
    TransferReturned,
)
from routing.engine import RoutingEngine
from routing.events import (
    EVENT_TYPES,
    AgentDisconnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReconnected,
    AssignRequested,
    ConfigureQueue,
    CustomerLeft,
    Event,
    LeaveMessageRequested,
    OfferAccepted,
    OfferRejected,
    PresenceChanged,
    SessionClosed,
    SessionRequested,
    SkillChanged,
    Tick,
    TransferRequested,
)

__all__ = [
    "DECISION_TYPES",
    "EVENT_TYPES",
    "STRATEGIES",
    "AgentDisconnected",
    "AgentLoggedIn",
    "AgentLoggedOut",
    "AgentPresence",
    "AgentReconnected",
    "AssignRequested",
    "LeaveMessageRequested",
    "BusinessHours",
    "Candidate",
    "ConfigureQueue",
    "CustomerLeft",
    "Decision",
    "Divert",
    "EngineSettings",
    "Event",
    "EventIgnored",
    "Explanation",
    "OfferAccepted",
    "OfferRejected",
    "OfferSession",
    "OfferTimedOut",
    "PresenceChanged",
    "Requeued",
    "RevokeOffer",
    "RoutingEngine",
    "SessionAssigned",
    "SessionClosed",
    "SessionQueued",
    "SessionRequested",
    "SetAgentAway",
    "SkillChanged",
    "Tick",
    "TransferRequested",
    "TransferReturned",
]
