"""The words of routing explanations: each sentence is a code with parameters.

Owns :class:`Phrase` (a ``str`` — the English text, as before — that also carries ``code`` and
``params``) and the English templates. Consoles render the same code and parameters in their own
language (``explain.<code>`` in ``static/i18n``), with agent and session ids replaced by names.
Parameters are plain JSON values or nested phrases; a parameter whose name ends in ``_s`` is a
duration in seconds.
"""

from __future__ import annotations

from typing import Any

EN: dict[str, str] = {
    # summaries
    "offered": "Offered {session} to {agent} after {waited_s} waiting",
    "offered_freed": "Offered {session} to {agent}, who became free; it was first in the {skill} queue among "
                     "sessions {agent} may take",
    "offered_freed_sticky": "Offered {session} to {agent}, the customer's last agent, who became free",
    "offered_sticky": "Offered {session} to {agent}, the customer's last agent",
    "offered_by_supervisor": "A supervisor offered {session} to {agent}",
    "offered_transfer": "Offered {session} to {agent} as a transfer from {from_agent}",
    "waits": "{session} waits at position {position} of the {skill} queue",
    "accepted": "{agent} accepted {session} after {wait_s} waiting",
    "accepted_transfer": "{agent} accepted the transfer of {session}",
    "left": "The customer left {session} after {waited_s} waiting",
    "ignored": "Ignored {kind} for {subject}: {reason}",
    "timed_out": "{agent} did not answer the offer of {session} in time",
    "transfer_failed": "Transfer of {session} to {agent} did not happen ({why}); it stays with {original}",
    "transfer_refused": "Cannot transfer {session} to {agent} ({why}); it stays with {original}",
    "transfer_queue_refused": "Cannot transfer {session} to the {skill} queue: {why}; it stays with {original}",
    "transferred_to_queue": "{agent} transferred {session} to the {skill} queue at position {position}, keeping "
                            "its arrival time and with a transfer priority boost",
    "requeued": "Requeued {session} at position {position} of the {skill} queue ({why}), ahead of new arrivals",
    "diverted": "Diverted {session} to leave-message: {why}",
    # reasons inside sentences
    "why_outside_hours": "the {skill} queue is outside its business hours",
    "why_no_agents": "no agent with skill {skill} is logged in",
    "why_max_wait": "it waited {waited_s}, past the maximum wait",
    "why_max_wait_queue": "it waited {waited_s}, the maximum for the {skill} queue",
    "why_rejected": "rejected",
    "why_timed_out": "timed out",
    "why_agent_lost": "agent lost",
    "why_agent_logged_out": "agent logged out",
    "why_transfer_returned": "transfer returned",
    "why_other": "{word}",
    # candidates
    "chosen": "chosen: {detail}",
    "excluded": "excluded: {why}",
    "idle": "idle {idle_s}",
    "occupancy": "occupancy {load}/{capacity}, idle {idle_s}",
    "proficiency": "proficiency {level} in {skill}, idle {idle_s}",
    "rr_turn": "last offered at turn {turn}",
    "rr_never": "not offered from this queue yet",
    "last_agent": "last agent",
    "named_by_agent": "named by the agent",
    "named_by_supervisor": "named by a supervisor",
    "offered_again": "offered again, as nobody else can take it and the cool-down since it {why} has ended",
    "excl_rejected": "rejected this session",
    "excl_timed_out": "let the offer time out",
    "excl_transferred": "transferred this session away",
    "more_excluded": "and {n} more excluded agents",
    "away": "away",
    "offline": "offline",
    "disconnected": "disconnected",
    "wrapup": "in wrap-up",
    "at_capacity": "at capacity {load}/{capacity}",
    "lacks_skill": "lacks skill",
    "logged_out": "logged out",
    "same_agent": "same agent",
    # notes
    "had_waited": "{session} had waited {waited_s} with priority {priority}",
    "via_overflow": "{agent} serves it through overflow from {from_skill} to {to_skill}",
    "overflowed": "No {skill} agent was free; after waiting {waited_s} the session overflowed to {via}",
    "none_free_one": "{n} agent with skill {skill} logged in, none available with free capacity",
    "none_free_many": "{n} agents with skill {skill} logged in, none available with free capacity",
    "sticky_waiting": "Waiting up to {left_s} more for the customer's last agent {agent}",
    "sticky_released": "stopped waiting for last agent {agent}: {why}",
    "sticky_expired": "Stopped waiting for last agent {agent} after {wait_s}; any agent may now take it",
    "agent_lacks_skill": "{agent} lacks skill {skill}",
    "agent_was_lost": "agent {agent} was lost",
    "transfer_was": "the transfer to {agent} was {why}",
}


def _render(code: str, params: dict[str, Any]) -> str:
    values = {k: (f"{v:.0f} s" if k.endswith("_s") and isinstance(v, (int, float)) else v) for k, v in params.items()}
    return EN[code].format(**values)


class Phrase(str):
    """English text that also knows its ``code`` and ``params`` (see the module docstring)."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> Phrase:
        obj = super().__new__(cls, _render(code, params))
        obj.code = code
        obj.params = params
        return obj

    def __reduce__(self) -> Any:
        return (_phrase, (self.code, self.params))

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "params": {k: _encode(v) for k, v in self.params.items()}}


def _phrase(code: str, params: dict[str, Any]) -> Phrase:
    return Phrase(code, **params)


def _encode(value: Any) -> Any:
    return value.to_dict() if isinstance(value, Phrase) else value


def structure(text: str | None) -> dict[str, Any] | None:
    """``{"code", "params"}`` for a phrase, None for plain text (a console then shows the text)."""
    return text.to_dict() if isinstance(text, Phrase) else None


def from_structure(text: str, data: dict[str, Any] | None) -> str:
    """The phrase back from ``structure`` (``text`` when there is none or the code is unknown)."""
    if not data or data.get("code") not in EN:
        return text
    params = {k: from_structure("", v) if isinstance(v, dict) and "code" in v else v
              for k, v in (data.get("params") or {}).items()}
    return Phrase(data["code"], **params)
