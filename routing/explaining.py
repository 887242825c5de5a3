"""How the routing engine explains its decisions: every :class:`Explanation` it records.

Owns the wording of the engine's decisions (in :class:`~routing.wording.Phrase` codes, which the
consoles render in their language) and the two ways an explanation is made:

* **deferred**, on the paths taken by nearly every event (an offer, a session that waits, an
  accept, an abandon, an ignored event): the engine captures the plain values the text needs at
  decision time (the state moves on) and :func:`~routing.decisions.deferred_explanation` builds
  the record from them on first use, identical to building it at once. Each ``build_*`` function
  returns ``(summary, strategy, skill, candidates, notes)`` and is registered once under a
  ``BUILD_*`` code;
* **at once**, for the rarer decisions (transfers, wrap-up, grace, supervisor assignment, ...):
  one function per kind of explanation, given the values it mentions.

Reads the engine's records; changes nothing.
"""

from __future__ import annotations

from typing import Any

from routing.decisions import Candidate, Explanation, explanation_builder, fast_maker
from routing.state import AWAY, OFFLINE, WRAPUP, AgentState, SessionState
from routing.wording import Phrase as P

# How many agents an explanation lists that were excluded (before summarising the rest) or
# unavailable: the engine lists the agents it met, and a long list helps nobody.
EXPLAIN_MAX_EXCLUDED = 10
EXPLAIN_MAX_UNAVAILABLE = 3

# Constructor of the candidates listed on every routing decision (see ``fast_maker``).
make_candidate = fast_maker(Candidate)

# The words the engine keeps in ``session.excluded`` -> their phrase codes.
_EXCLUDED_CODES = {"rejected this session": "excl_rejected", "let the offer time out": "excl_timed_out",
                   "transferred this session away": "excl_transferred"}
# What a failed offer's reason makes of the agent in ``session.excluded``.
EXCLUSION_WORDS = {"rejected": "rejected this session", "timed_out": "let the offer time out"}
_WHY_CODES = frozenset({"why_rejected", "why_timed_out", "why_agent_lost", "why_agent_logged_out",
                        "why_transfer_returned"})


def secs(value: float) -> str:
    return f"{value:.0f} s"


# --- the words of a candidate ----------------------------------------------------------------


def describe_values(strategy: str, agent: AgentState, skill: str, now: float) -> tuple[Any, ...]:
    """What :func:`describe_text` needs about an agent, read now."""
    if strategy == "least_occupied":
        return (len(agent.sessions) + len(agent.offers), agent.capacity, now - agent.idle_since)
    if strategy == "best_proficiency":
        return (agent.skills.get(skill, 0), skill, now - agent.idle_since)
    if strategy == "round_robin":
        return (agent.rr_last.get(skill),)
    return (now - agent.idle_since,)


def describe_text(strategy: str, values: tuple[Any, ...]) -> str:
    """The deciding value of an agent under ``strategy``, in words."""
    if strategy == "least_occupied":
        load, capacity, idle = values
        return P("occupancy", load=load, capacity=capacity, idle_s=idle)
    if strategy == "best_proficiency":
        level, skill, idle = values
        return P("proficiency", level=level, skill=skill, idle_s=idle)
    if strategy == "round_robin":
        turn = values[0]
        return P("rr_turn", turn=turn) if turn else P("rr_never")
    return P("idle", idle_s=values[0])


def excluded_why(words: str) -> str:
    code = _EXCLUDED_CODES.get(words)
    return P(code) if code else P("why_other", word=words)


def why(reason: str) -> str:
    """A reason code of a decision (``agent_lost``, ``rejected``, ...) as a phrase."""
    code = "why_" + reason
    return P(code) if code in _WHY_CODES else P("why_other", word=reason.replace("_", " "))


def unavailable(agent: AgentState, skill: str | None = None) -> str:
    """Why an agent cannot take an offer now (``unavailable_reason``) as a phrase."""
    if skill is not None and skill not in agent.skills:
        return P("lacks_skill")
    if not agent.connected:
        return P("disconnected")
    if agent.status == WRAPUP:
        return P("wrapup")
    if agent.status in (AWAY, OFFLINE):
        return P(agent.status)
    if agent.load >= agent.capacity:
        return P("at_capacity", load=agent.load, capacity=agent.capacity)
    return P("disconnected")  # in its disconnect grace


def demoted(session: SessionState, candidate: Candidate) -> Candidate:
    """A candidate chosen in one index but beaten by one from another (overflow)."""
    if candidate.agent_id in session.excluded:
        reason = excluded_why(session.excluded[candidate.agent_id])
        return Candidate(agent_id=candidate.agent_id, verdict="excluded", reason=P("excluded", why=reason))
    chosen = candidate.reason
    detail: str = chosen.params["detail"] if isinstance(chosen, P) else chosen[len("chosen: "):]
    return Candidate(agent_id=candidate.agent_id, verdict="passed", reason=detail)


def _lacks_skill_note(agent: AgentState, skill: str) -> tuple[str, ...]:
    return () if skill in agent.skills else (P("agent_lacks_skill", agent=agent.agent_id, skill=skill),)


# --- deferred: built on first read -------------------------------------------------------------


def build_freed(
    session_id: str,
    agent_id: str,
    how: str,
    session_skill: str,
    via: str,
    waited: float,
    priority: int,
    strategy: str,
    described: tuple[Any, ...],
) -> tuple[Any, ...]:
    notes = [P("had_waited", session=session_id, waited_s=waited, priority=priority)]
    if how == "sticky":
        summary = P("offered_freed_sticky", session=session_id, agent=agent_id)
    else:
        summary = P("offered_freed", session=session_id, agent=agent_id, skill=session_skill)
        if how == "overflow":
            notes.append(P("via_overflow", agent=agent_id, from_skill=session_skill, to_skill=via))
    candidate = make_candidate(
        agent_id=agent_id, verdict="chosen", reason=P("chosen", detail=describe_text(strategy, described))
    )
    return (summary, "sticky" if how == "sticky" else "agent_freed", session_skill, (candidate,), tuple(notes))


def build_offered(
    session_id: str,
    agent_id: str,
    waited: float,
    strategy: str,
    skill: str,
    candidates: tuple[Candidate, ...],
    notes: tuple[str, ...],
) -> tuple[Any, ...]:
    return (P("offered", session=session_id, agent=agent_id, waited_s=waited), strategy, skill, candidates, notes)


def build_waiting(
    session_id: str,
    position: int,
    skill: str,
    strategy: str,
    candidates: tuple[Candidate, ...],
    notes: tuple[str, ...],
    present: int | None,
) -> tuple[Any, ...]:
    if present is not None:
        notes = (*notes, P("none_free_one" if present == 1 else "none_free_many", n=present, skill=skill))
    return (P("waits", session=session_id, position=position, skill=skill), strategy, skill, candidates, notes)


def build_accepted(agent_id: str, session_id: str, wait: float, skill: str) -> tuple[Any, ...]:
    return (P("accepted", agent=agent_id, session=session_id, wait_s=wait), None, skill, (), ())


def build_left(session_id: str, waited: float, skill: str) -> tuple[Any, ...]:
    return (P("left", session=session_id, waited_s=waited), None, skill, (), ())


def build_ignored(kind: str, subject: str, reason: str) -> tuple[Any, ...]:
    return (P("ignored", kind=kind, subject=subject, reason=reason), None, None, (), ())


BUILD_FREED = explanation_builder(build_freed)
BUILD_OFFERED = explanation_builder(build_offered)
BUILD_WAITING = explanation_builder(build_waiting)
BUILD_ACCEPTED = explanation_builder(build_accepted)
BUILD_LEFT = explanation_builder(build_left)
BUILD_IGNORED = explanation_builder(build_ignored)


# --- at once: offers ---------------------------------------------------------------------------


def offered_sticky(session: SessionState, agent_id: str) -> Explanation:
    return Explanation(
        summary=P("offered_sticky", session=session.session_id, agent=agent_id),
        strategy="sticky",
        skill=session.skill,
        candidates=(Candidate(agent_id=agent_id, verdict="chosen", reason=P("chosen", detail=P("last_agent"))),),
    )


def offered_by_supervisor(session: SessionState, target: AgentState) -> Explanation:
    return Explanation(
        summary=P("offered_by_supervisor", session=session.session_id, agent=target.agent_id),
        strategy="supervisor_assign",
        skill=session.skill,
        candidates=(Candidate(agent_id=target.agent_id, verdict="chosen",
                              reason=P("chosen", detail=P("named_by_supervisor"))),),
        notes=_lacks_skill_note(target, session.skill),
    )


def offer_withdrawn(session_id: str, agent_id: str, reason: str, skill: str) -> Explanation:
    """The agent's side ended an offer (away, offline, lost, logged out)."""
    return Explanation(
        summary=f"Withdrew the offer of {session_id} from {agent_id}: {reason.replace('_', ' ')}",
        skill=skill,
    )


def offer_timed_out(session: SessionState, agent_id: str) -> Explanation:
    return Explanation(summary=P("timed_out", agent=agent_id, session=session.session_id), skill=session.skill)


def with_note(explanation: Explanation, note: str) -> Explanation:
    """The same explanation with one more note (a sticky wait released or expired)."""
    return Explanation(
        summary=explanation.summary,
        strategy=explanation.strategy,
        skill=explanation.skill,
        candidates=explanation.candidates,
        notes=(*explanation.notes, note),
    )


# --- at once: requeues and agents --------------------------------------------------------------


def requeued(session: SessionState, position: int, reason: str, notes: tuple[str, ...]) -> Explanation:
    return Explanation(
        summary=P("requeued", session=session.session_id, position=position, skill=session.skill, why=why(reason)),
        skill=session.skill,
        notes=notes,
    )


def set_away(agent_id: str, missed: int) -> Explanation:
    return Explanation(summary=f"Set {agent_id} away after {missed} missed offers in a row")


def wrapup_started(agent_id: str, wrapup_secs: float, session_id: str) -> Explanation:
    return Explanation(summary=f"{agent_id} is in wrap-up for {secs(wrapup_secs)} after closing {session_id}")


def wrapup_ended(agent_id: str) -> Explanation:
    return Explanation(summary=f"{agent_id} finished wrap-up and is available again")


def grace_ended(agent_id: str, how: str, grace_secs: float) -> Explanation:
    return Explanation(
        summary=f"{agent_id} stayed {how} past the {secs(grace_secs)} grace period; their sessions were requeued"
    )


# --- at once: transfers ------------------------------------------------------------------------


def transfer_failed(session: SessionState, agent_id: str, reason: str, original: str) -> Explanation:
    """A direct transfer was declined or timed out: the session stays with ``original``."""
    return Explanation(
        summary=P("transfer_failed", session=session.session_id, agent=agent_id, why=why(reason), original=original),
        strategy="direct_transfer",
        skill=session.skill,
    )


def transfer_refused(session: SessionState, to_agent: str, reason: str, original: str) -> Explanation:
    """A direct transfer to an agent who cannot take it now (``reason`` is a phrase)."""
    return Explanation(
        summary=P("transfer_refused", session=session.session_id, agent=to_agent, why=reason, original=original),
        strategy="direct_transfer",
        skill=session.skill,
        candidates=(Candidate(agent_id=to_agent, verdict="unavailable", reason=reason),),
    )


def offered_transfer(session: SessionState, target: AgentState, source_id: str) -> Explanation:
    return Explanation(
        summary=P("offered_transfer", session=session.session_id, agent=target.agent_id, from_agent=source_id),
        strategy="direct_transfer",
        skill=session.skill,
        candidates=(Candidate(agent_id=target.agent_id, verdict="chosen",
                              reason=P("chosen", detail=P("named_by_agent"))),),
        notes=_lacks_skill_note(target, session.skill),
    )


def transfer_queue_refused(session: SessionState, skill: str, words: str, original: str) -> Explanation:
    return Explanation(
        summary=P("transfer_queue_refused", session=session.session_id, skill=skill, why=words, original=original),
        skill=skill,
    )


def transferred_to_queue(session: SessionState, source_id: str, skill: str, position: int) -> Explanation:
    return Explanation(
        summary=P("transferred_to_queue", agent=source_id, session=session.session_id, skill=skill,
                  position=position),
        skill=skill,
    )


def accepted_transfer(session: SessionState, agent_id: str) -> Explanation:
    return Explanation(summary=P("accepted_transfer", agent=agent_id, session=session.session_id),
                       skill=session.skill)
