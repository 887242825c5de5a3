"""Routing decisions and their explanations: everything the engine tells the desk to do.

Owns the decision classes returned by ``RoutingEngine.apply`` and the structured
:class:`Explanation` each one carries (strategy, candidates considered with a verdict and a
reason, notes), with ``explain_text()`` rendering it as plain English for agents, supervisors
and logs. Decisions are frozen dataclasses with a ``kind`` tag, JSON-able via ``to_dict()``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

from routing.serial import Tagged, register
from routing.wording import from_structure, structure

T = TypeVar("T")

STRATEGY_WORDS = {
    "longest_idle": "longest idle (the agent who has waited longest since their last offer)",
    "least_occupied": "least occupied (lowest share of capacity in use)",
    "best_proficiency": "best proficiency (highest skill level, then longest idle)",
    "round_robin": "round robin (the agent offered least recently from this queue)",
    "sticky": "sticky (the customer's last agent first)",
    "agent_freed": "first waiting session for an agent who became free",
    "direct_transfer": "direct transfer to a named agent",
    "supervisor_assign": "assigned by a supervisor to a named agent",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """One agent the engine looked at, with its ``verdict`` and the ``reason`` in words.

    Verdicts: ``chosen``, ``passed`` (eligible but ranked lower), ``excluded`` (eligible but not
    for this session), ``unavailable`` (away, offline, in wrap-up, at capacity, lacks skill).
    """

    agent_id: str
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        # ``reason`` is the English text; ``why`` the same as a code with parameters (or None).
        return {"agent_id": self.agent_id, "verdict": self.verdict, "reason": self.reason,
                "why": structure(self.reason)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(agent_id=data["agent_id"], verdict=data["verdict"],
                   reason=from_structure(data["reason"], data.get("why")))


class _Deferrable:
    """Gives :class:`Explanation` one private slot (not a dataclass field) for deferred building.

    The engine records an explanation for every decision, but its text is read only when someone
    asks. :func:`deferred_explanation` makes an instance whose fields are still unset and which
    holds a builder code plus the values captured at decision time; reading any field (directly,
    or through ``==``, ``hash``, ``repr``, ``to_dict``, pickling, ...) builds all of them once,
    with exactly the content an eagerly built explanation would have had. The instance is a plain
    :class:`Explanation` (same type, same fields) either way.
    """

    __slots__ = ("_deferred",)


_new_object = object.__new__
_set_field = object.__setattr__


def fast_maker(cls: type[T]) -> Callable[..., T]:
    """A keyword-only constructor for the frozen slotted dataclass ``cls`` taking every field.

    It gives the same object as ``cls(**fields)`` (none of these classes has ``__post_init__`` or
    default factories), about three times faster: the dataclass ``__init__`` of a frozen class
    sets each field through ``object.__setattr__``, this sets each slot through its descriptor.
    For the engine's hot paths; every field must be passed, defaults do not apply.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new": _new_object, "_cls": cls}
    lines = [f"def make(*, {', '.join(names)}):", "    obj = _new(_cls)"]
    for name in names:
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        lines.append(f"    _set_{name}(obj, {name})")
    lines.append("    return obj")
    exec("\n".join(lines), namespace)  # noqa: S102 - built from the class's own field names
    maker: Callable[..., T] = namespace["make"]
    maker.__qualname__ = maker.__name__ = f"make_{cls.__name__}"
    return maker


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation(_Deferrable):
    """Why a decision was taken: a structured record, rendered by :meth:`explain_text`."""

    summary: str
    strategy: str | None = None
    skill: str | None = None
    candidates: tuple[Candidate, ...] = ()
    notes: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        # Only reached when a slot is unset: a deferred explanation not built yet.
        if name not in _EXPLANATION_FIELDS:
            raise AttributeError(name)
        try:
            spec = object.__getattribute__(self, "_deferred")
        except AttributeError:
            raise AttributeError(name) from None
        for field_name, value in zip(_EXPLANATION_FIELDS, _BUILDERS[spec[0]](*spec[1:]), strict=True):
            _set_field(self, field_name, value)
        object.__delattr__(self, "_deferred")
        return object.__getattribute__(self, name)

    def explain_text(self) -> str:
        """The explanation in plain English sentences."""
        parts = [self.summary.rstrip(".") + "."]
        if self.strategy:
            words = STRATEGY_WORDS.get(self.strategy, self.strategy.replace("_", " "))
            where = f" for the {self.skill} queue" if self.skill else ""
            parts.append(f"Strategy{where}: {words}.")
        if self.candidates:
            listed = "; ".join(f"{c.agent_id}: {c.reason}" for c in self.candidates)
            parts.append(f"Agents considered: {listed}.")
        for note in self.notes:
            parts.append(note.rstrip(".") + ".")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        # The text fields as before; ``summary_code`` and ``note_codes`` say the same as codes with
        # parameters (None where a sentence has no code), for consoles to render in their language.
        return {
            "summary": self.summary,
            "strategy": self.strategy,
            "skill": self.skill,
            "candidates": [c.to_dict() for c in self.candidates],
            "notes": list(self.notes),
            "summary_code": structure(self.summary),
            "note_codes": [structure(n) for n in self.notes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Explanation:
        notes = list(data.get("notes", ()))
        codes = list(data.get("note_codes") or ()) + [None] * len(notes)
        return cls(
            summary=from_structure(data["summary"], data.get("summary_code")),
            strategy=data.get("strategy"),
            skill=data.get("skill"),
            candidates=tuple(Candidate.from_dict(c) for c in data.get("candidates", ())),
            notes=tuple(from_structure(n, c) for n, c in zip(notes, codes, strict=False)),
        )


class Decision(Tagged):
    """Base of all routing decisions (``Decision.from_dict`` decodes any of them)."""

    __slots__ = ()

    registry: ClassVar[dict[str, type[Tagged]]] = {}
    explanation: Explanation

    def explain_text(self) -> str:
        return self.explanation.explain_text()

    @classmethod
    def _decode_field(cls, name: str, type_text: str, value: Any) -> Any:
        if name == "explanation" and isinstance(value, dict):
            return Explanation.from_dict(value)
        return super()._decode_field(name, type_text, value)


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class SessionQueued(Decision):
    """The session waits in ``skill``'s queue at 1-based ``position``; tell the customer."""

    kind: ClassVar[str] = "session_queued"
    session_id: str
    skill: str
    position: int
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class OfferSession(Decision):
    """Offer the session to the agent until ``expires_at``.

    ``transfer_from`` is set when this is a direct transfer from that agent.
    """

    kind: ClassVar[str] = "offer_session"
    session_id: str
    agent_id: str
    skill: str
    expires_at: float
    transfer_from: str | None = None
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class OfferTimedOut(Decision):
    """The agent did not answer the offer in time; withdraw it from their console."""

    kind: ClassVar[str] = "offer_timed_out"
    session_id: str
    agent_id: str
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class RevokeOffer(Decision):
    """Withdraw an outstanding offer (``customer_left``, ``agent_away``, ``agent_disconnected``,
    ``agent_logged_out``, ``skill_changed``, ``session_closed``)."""

    kind: ClassVar[str] = "revoke_offer"
    session_id: str
    agent_id: str
    reason: str
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class SessionAssigned(Decision):
    """The session now belongs to the agent (``previous_agent`` set after a transfer)."""

    kind: ClassVar[str] = "session_assigned"
    session_id: str
    agent_id: str
    skill: str
    wait_secs: float
    previous_agent: str | None = None
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Divert(Decision):
    """Send the customer to leave-message: ``outside_hours``, ``no_agents`` or ``max_wait``."""

    kind: ClassVar[str] = "divert"
    session_id: str
    skill: str
    reason: str
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class SetAgentAway(Decision):
    """The engine set the agent away (``missed_offers``); show it on their console."""

    kind: ClassVar[str] = "set_agent_away"
    agent_id: str
    reason: str = "missed_offers"
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class AgentPresence(Decision):
    """The engine changed the agent's status by itself: ``wrapup`` after a close, back to
    ``available`` when wrap-up ends, ``offline`` when the grace period ran out."""

    kind: ClassVar[str] = "agent_presence"
    agent_id: str
    status: str
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class Requeued(Decision):
    """An assigned session went back to the front of ``skill``'s queue (``agent_lost``,
    ``agent_logged_out``, ``transfer_returned``) or to another queue (``transferred``)."""

    kind: ClassVar[str] = "requeued"
    session_id: str
    skill: str
    reason: str
    position: int
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class TransferReturned(Decision):
    """A direct transfer was declined, timed out or impossible; the session stays with (goes
    back to) ``agent_id``."""

    kind: ClassVar[str] = "transfer_returned"
    session_id: str
    agent_id: str
    declined_by: str
    reason: str
    explanation: Explanation


@register
@dataclass(frozen=True, kw_only=True, slots=True)
class EventIgnored(Decision):
    """The event did not apply (stale accept, unknown session, ...); nothing changed."""

    kind: ClassVar[str] = "event_ignored"
    event_kind: str
    subject_id: str
    reason: str
    explanation: Explanation


_EXPLANATION_FIELDS = ("summary", "strategy", "skill", "candidates", "notes")
_set_deferred = _Deferrable.__dict__["_deferred"].__set__


_BUILDERS: list[Callable[..., tuple[Any, ...]]] = []


def explanation_builder(build: Callable[..., tuple[Any, ...]]) -> int:
    """Register a builder for :func:`deferred_explanation`; returns its code."""
    _BUILDERS.append(build)
    return len(_BUILDERS) - 1


def deferred_explanation(spec: tuple[Any, ...]) -> Explanation:
    """An :class:`Explanation` built on first use as ``builder(*spec[1:])``, ``spec[0]`` being
    the code :func:`explanation_builder` gave the builder.

    The builder returns the field values ``(summary, strategy, skill, candidates, notes)``;
    ``spec[1:]`` must be immutable values captured now, and the builder must read nothing else,
    so that the result is exactly what building the explanation at once would have given. (A
    code rather than the function keeps a spec of plain values out of the garbage collector's
    sight once it has been seen.)
    """
    explanation = _new_object(Explanation)
    _set_deferred(explanation, spec)
    return explanation


DECISION_TYPES: tuple[type[Decision], ...] = tuple(Decision.registry.values())  # type: ignore[arg-type]
