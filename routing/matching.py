"""Matching waiting sessions with free agents: the moves the engine's rules are made of.

Owns :class:`Matcher`, the middle layer of :class:`~routing.engine.RoutingEngine` (on
:class:`~routing.engine_state.EngineState`, below the event rules in :mod:`routing.engine`):

* **settling** after every event: each agent that may have become free takes the best waiting
  session it may serve (``_fill``, ``_best_for``), then each session that started waiting is
  offered to the best free agent (``_route``, ``_pick``), so there is never a free agent and a
  waiting session that could be matched;
* **offers** and how they end without an accept (``_offer``, ``_offer_failed``, ``_exclude``,
  ``_revoke_offers``): the agent excluded with a cool-down, missed offers counted up to away;
* a session **starting to wait** (``_enqueue``), **back at the front** after losing its agent
  (``_requeue_front``) or **diverted** (``_divert``).

Decisions are appended to ``self._out``; the wording of their explanations is in
:mod:`routing.explaining`.
"""

from __future__ import annotations

import heapq
from typing import Any

from routing import explaining as ex
from routing.decisions import (
    Candidate,
    Divert,
    Explanation,
    OfferSession,
    Requeued,
    RevokeOffer,
    SessionQueued,
    SetAgentAway,
    TransferReturned,
    fast_maker,
)
from routing.decisions import deferred_explanation as _deferred
from routing.engine_state import T_COOLDOWN, T_MAX_WAIT, T_OFFER, T_OVERFLOW, EngineState
from routing.explaining import (
    BUILD_FREED,
    BUILD_OFFERED,
    BUILD_WAITING,
    EXPLAIN_MAX_EXCLUDED,
    EXPLAIN_MAX_UNAVAILABLE,
    describe_text,
    describe_values,
    excluded_why,
    make_candidate,
)
from routing.metrics import TIMED_OUT_DIVERT
from routing.state import AVAILABLE, AWAY, DIVERTED, OFFERED, QUEUED, WRAPUP, AgentState, SessionState
from routing.wording import Phrase as P

# Constructors for the decisions made on every event (see ``fast_maker``; all fields required).
_make_offer_session = fast_maker(OfferSession)
_make_session_queued = fast_maker(SessionQueued)


class Matcher(EngineState):
    """Settling, offers, requeues and diversions; see the module docstring."""

    # ------------------------------------------------------------------ sessions that start waiting

    def _enqueue(self, session: SessionState, announce: bool) -> None:
        """Put a session that starts waiting (new, moved or requeued) into its skill's queue."""
        cfg = self._cfg(session.skill)
        session.state = QUEUED
        session.overflowed = False
        self._waiting.setdefault(session.skill, {})[session.session_id] = None
        session.overflow_at = None
        if cfg.overflow_after_secs is not None and cfg.overflow_skills:
            session.overflow_at = session.waiting_since + cfg.overflow_after_secs
            if session.overflow_at <= self._now:
                session.overflowed = True
            else:
                self._timers.push(session.overflow_at, T_OVERFLOW, session.session_id)
        session.max_wait_at = None
        if cfg.max_wait_secs is not None:
            session.max_wait_at = session.waiting_since + cfg.max_wait_secs
            self._timers.push(session.max_wait_at, T_MAX_WAIT, session.session_id)
        if session.sticky_agent is None:
            self._queue_in(session)
        self._dirty_sessions[session.session_id] = announce

    # ------------------------------------------------------------------ offers and how they end

    def _offer(
        self,
        session: SessionState,
        agent: AgentState,
        index_skill: str,
        explanation: Explanation,
        transfer_from: str | None = None,
    ) -> None:
        cfg = self._cfg(session.skill)
        if session.state == QUEUED:
            if session.sticky_agent is None:
                self._queue_out(session)
            else:
                sticky = self._agents.get(session.sticky_agent)
                if sticky is not None:
                    sticky.reserved.pop(session.session_id, None)
                session.sticky_agent = None
                session.sticky_until = None
            session.state = OFFERED
        session.offer_agent = agent.agent_id
        session.offer_expires = self._now + cfg.offer_timeout_secs
        session.transfer_from = transfer_from
        session.explanation = explanation
        agent.offers[session.session_id] = None
        agent.idle_since = self._now
        clock = self._rr_clock.get(index_skill, 0) + 1
        self._rr_clock[index_skill] = clock
        agent.rr_last[index_skill] = clock
        self._timers.push(session.offer_expires, T_OFFER, session.session_id)
        self._stats(session.skill).counts["offered"] += 1
        self._touch(agent)
        self._out.append(
            _make_offer_session(
                session_id=session.session_id,
                agent_id=agent.agent_id,
                skill=session.skill,
                expires_at=session.offer_expires,
                transfer_from=transfer_from,
                explanation=explanation,
            )
        )

    def _cooldown_secs(self, skill: str) -> float:
        cooldown = self.settings.offer_cooldown_secs
        return self._cfg(skill).offer_timeout_secs if cooldown is None else cooldown

    def _exclude(self, session: SessionState, agent_id: str, why: str) -> None:
        """Others are tried first; after the cool-down the agent may have it again as a last resort."""
        session.excluded[agent_id] = why
        until = self._now + self._cooldown_secs(session.skill)
        session.cooldown[agent_id] = until
        self._timers.push(until, T_COOLDOWN, session.session_id)

    def _offer_failed(self, session: SessionState, agent: AgentState, why: str, missed: bool, exclude: bool) -> None:
        """The outstanding offer to ``agent`` ended without acceptance; route the session on."""
        agent.offers.pop(session.session_id, None)
        session.offer_agent = None
        session.offer_expires = None
        if session.transfer_from is not None:
            original = session.agent
            session.transfer_from = None
            if original is not None and original in self._agents:
                explanation = ex.transfer_failed(session, agent.agent_id, why, original)
                session.explanation = explanation
                self._out.append(
                    TransferReturned(
                        session_id=session.session_id,
                        agent_id=original,
                        declined_by=agent.agent_id,
                        reason=why,
                        explanation=explanation,
                    )
                )
            else:
                self._waiting.get(session.skill, {}).pop(session.session_id, None)
                self._requeue_front(
                    session, "transfer_returned", notes=(P("transfer_was", agent=agent.agent_id, why=ex.why(why)),)
                )
        else:
            if exclude:
                self._exclude(session, agent.agent_id, ex.EXCLUSION_WORDS.get(why, why))
            if session.sticky_agent == agent.agent_id:
                agent.reserved.pop(session.session_id, None)
                session.sticky_agent = None
                session.sticky_until = None
            session.state = QUEUED
            if session.max_wait_at is not None and self._now >= session.max_wait_at:
                self._divert(
                    session,
                    "max_wait",
                    P("diverted", session=session.session_id,
                      why=P("why_max_wait", waited_s=self._now - session.waiting_since)),
                )
            else:
                self._queue_in(session)
                self._dirty_sessions.setdefault(session.session_id, False)
        if missed:
            agent.missed += 1
            if agent.missed >= self.settings.missed_offers_before_away and agent.status in (AVAILABLE, WRAPUP):
                count = agent.missed
                self._set_status(agent, AWAY)
                self._out.append(
                    SetAgentAway(
                        agent_id=agent.agent_id,
                        reason="missed_offers",
                        explanation=ex.set_away(agent.agent_id, count),
                    )
                )
                agent.missed = count
                self._revoke_offers(agent, "agent_away")
        self._touch(agent)

    def _revoke_offers(self, agent: AgentState, reason: str) -> None:
        for session_id in list(agent.offers):
            session = self._sessions[session_id]
            self._out.append(
                RevokeOffer(
                    session_id=session_id,
                    agent_id=agent.agent_id,
                    reason=reason,
                    explanation=ex.offer_withdrawn(session_id, agent.agent_id, reason, session.skill),
                )
            )
            self._offer_failed(session, agent, reason, missed=False, exclude=False)

    # ------------------------------------------------------------------ requeues and diversions

    def _divert(self, session: SessionState, reason: str, summary: str, notes: tuple[str, ...] = ()) -> None:
        if session.state in (QUEUED, OFFERED):
            self._leave_waiting(session)
        self._stats(session.skill).counts["diverted"] += 1
        if reason == "max_wait":
            self._stats(session.skill).record(
                self._now, TIMED_OUT_DIVERT, self._now - session.waiting_since, self.settings.metrics_window_secs
            )
        explanation = Explanation(summary=summary, skill=session.skill, notes=notes)
        session.explanation = explanation
        self._out.append(
            Divert(session_id=session.session_id, skill=session.skill, reason=reason, explanation=explanation)
        )
        self._finish(session, DIVERTED)

    def _requeue_front(self, session: SessionState, reason: str, notes: tuple[str, ...] = ()) -> None:
        """An assigned session lost its agent: back to the front of its skill's queue."""
        session.agent = None
        session.priority = session.base_priority + self.settings.requeue_priority_boost
        if session.vip:
            session.priority += self.settings.vip_priority_boost
        session.waiting_since = self._now
        self._enqueue(session, announce=False)
        position = self._position(session)
        explanation = ex.requeued(session, position, reason, notes)
        session.explanation = explanation
        self._out.append(
            Requeued(
                session_id=session.session_id,
                skill=session.skill,
                reason=reason,
                position=position,
                explanation=explanation,
            )
        )

    # ------------------------------------------------------------------ choosing

    def _describe(self, strategy: str, agent: AgentState, skill: str) -> str:
        return describe_text(strategy, describe_values(strategy, agent, skill, self._now))

    def _pick(
        self, skill: str, strategy: str, session: SessionState, candidates: list[Candidate]
    ) -> tuple[AgentState, tuple[Any, ...], bool] | None:
        """The best agent in ``skill``'s index for this session, noting who was looked at:
        ``(agent, rank, fallback)``. ``fallback`` is True when every agent who could take it
        had excluded itself and the chosen one's cool-down has ended (a last resort)."""
        heap = self._index(skill, strategy).heap
        if not heap:
            return None
        agents = self._agents
        excluded = session.excluded
        cooldown = session.cooldown
        now = self._now
        held: list[Any] = []
        chosen: tuple[AgentState, tuple[Any, ...]] | None = None
        fallback: tuple[AgentState, tuple[Any, ...]] | None = None
        fallback_at = -1  # its place in candidates
        runners = self.settings.explain_runners_up
        listed_excluded = listed_unavailable = 0
        seen: set[str] = set()
        while heap:
            entry = heap[0]
            key, agent_id, version = entry
            agent = agents.get(agent_id)
            if agent is None or agent.version != version or not agent.can_take():
                heapq.heappop(heap)
                if (
                    agent is not None
                    and agent_id not in seen
                    and listed_unavailable < EXPLAIN_MAX_UNAVAILABLE
                    and not agent.can_take()
                ):
                    seen.add(agent_id)
                    listed_unavailable += 1
                    candidates.append(
                        make_candidate(agent_id=agent_id, verdict="unavailable", reason=ex.unavailable(agent, skill))
                    )
                continue
            if agent_id in excluded:
                held.append(heapq.heappop(heap))
                if fallback is None and cooldown.get(agent_id, now) <= now:
                    fallback = (agent, key)
                    fallback_at = len(candidates)
                    candidates.append(
                        make_candidate(agent_id=agent_id, verdict="excluded",
                                        reason=P("excluded", why=excluded_why(excluded[agent_id])))
                    )
                    continue
                if listed_excluded < EXPLAIN_MAX_EXCLUDED:
                    candidates.append(
                        make_candidate(agent_id=agent_id, verdict="excluded",
                                        reason=P("excluded", why=excluded_why(excluded[agent_id])))
                    )
                listed_excluded += 1
                continue
            if chosen is None:
                held.append(heapq.heappop(heap))
                chosen = (agent, key)
                candidates.append(
                    make_candidate(
                        agent_id=agent_id,
                        verdict="chosen",
                        reason=P("chosen", detail=self._describe(strategy, agent, skill)),
                    )
                )
                continue
            if runners > 0:
                runners -= 1
                held.append(heapq.heappop(heap))
                candidates.append(
                    make_candidate(agent_id=agent_id, verdict="passed", reason=self._describe(strategy, agent, skill))
                )
                continue
            break
        for entry in held:
            heapq.heappush(heap, entry)
        if listed_excluded > EXPLAIN_MAX_EXCLUDED:
            candidates.append(
                make_candidate(
                    agent_id="...",
                    verdict="excluded",
                    reason=P("more_excluded", n=listed_excluded - EXPLAIN_MAX_EXCLUDED),
                )
            )
        if chosen is not None:
            return (chosen[0], chosen[1], False)
        if fallback is not None:
            agent_id = fallback[0].agent_id
            candidates[fallback_at] = make_candidate(
                agent_id=agent_id,
                verdict="chosen",
                reason=P("chosen", detail=P("offered_again", why=excluded_why(excluded[agent_id]))),
            )
            return (fallback[0], fallback[1], True)
        return None

    def _route(self, session: SessionState, announce: bool) -> None:
        """Offer a waiting session to the best free agent, or record why it waits."""
        if session.state != QUEUED:
            return
        cfg = self._cfg(session.skill)
        notes: list[str] = []
        candidates: list[Candidate] = []
        present: int | None = None  # agents with the skill, for the note on why it waits
        if session.sticky_agent is not None:
            agent = self._agents.get(session.sticky_agent)
            if agent is not None and agent.can_take():
                self._offer(session, agent, session.skill, ex.offered_sticky(session, agent.agent_id))
                return
            reason = ex.unavailable(agent) if agent is not None else P("logged_out")
            candidates.append(Candidate(agent_id=session.sticky_agent, verdict="unavailable", reason=reason))
            notes.append(P("sticky_waiting", left_s=(session.sticky_until or self._now) - self._now,
                           agent=session.sticky_agent))
        else:
            chosen = self._pick(session.skill, cfg.strategy, session, candidates)
            via = session.skill
            if (chosen is None or chosen[2]) and session.overflowed:
                # An agent who has not excluded the session, through overflow, comes before one who has.
                primary = chosen
                for other in cfg.overflow_skills:
                    found = self._pick(other, cfg.strategy, session, candidates)
                    if found is not None and (
                        chosen is None
                        or (found[2], found[1], found[0].agent_id) < (chosen[2], chosen[1], chosen[0].agent_id)
                    ):
                        chosen, via = found, other
                if chosen is not None and chosen is not primary:
                    notes.append(P("overflowed", skill=session.skill, waited_s=self._now - session.waiting_since, via=via))
            if chosen is not None and chosen[2] and self._last_resort_waits(session, chosen[0]):
                # Looked at again later in this settle pass (its explanation is made then).
                self._dirty_sessions[session.session_id] = announce or self._dirty_sessions.get(session.session_id, False)
                return
            if chosen is not None:
                agent = chosen[0]
                if via != session.skill or len([c for c in candidates if c.verdict == "chosen"]) > 1:
                    candidates = [
                        c if c.verdict != "chosen" or c.agent_id == agent.agent_id
                        else ex.demoted(session, c)
                        for c in candidates
                    ]
                explanation = _deferred((
                    BUILD_OFFERED,
                    session.session_id,
                    agent.agent_id,
                    self._now - session.waiting_since,
                    cfg.strategy,
                    session.skill,
                    tuple(candidates),
                    tuple(notes),
                ))
                self._offer(session, agent, via, explanation)
                return
            present = self._present.get(session.skill, 0)
        position = self._position(session)
        session.explanation = _deferred((
            BUILD_WAITING,
            session.session_id,
            position,
            session.skill,
            cfg.strategy if session.sticky_agent is None else "sticky",
            tuple(candidates),
            tuple(notes),
            present,
        ))
        if announce:
            self._out.append(
                _make_session_queued(
                    session_id=session.session_id,
                    skill=session.skill,
                    position=position,
                    explanation=session.explanation,
                )
            )

    def _last_resort_waits(self, session: SessionState, agent: AgentState) -> bool:
        """Whether offering ``session`` to ``agent``, who excluded it and whose cool-down has
        ended, must wait until the rest of this settle pass is done.

        A last resort is only right once it is known that nobody else can take the session: an
        agent changed in this pass (e.g. given another session a moment ago, with seats left) is
        not back in the indexes yet, so _pick cannot have seen it. And queue order holds for last
        resorts too: if the agent may take a session ahead of this one (one it excluded whose
        cool-down has also ended, or one it never refused), that one is routed first.
        """
        if self._dirty_agents:
            return True
        agent_id = agent.agent_id
        sessions = self._sessions
        now = self._now

        def may_take(session_id: str) -> bool:
            return not sessions[session_id].cooling(agent_id, now)

        first: tuple[int, float, int] = session.key
        ahead: str | None = None
        for skill in agent.skills:
            queues = [self._queues.get(skill)]
            queues += [self._overflowed.get(source) for source in self._overflow_sources.get(skill, ())]
            for queue in queues:
                hit = queue.first(may_take) if queue is not None and queue.size else None
                if hit is not None and (-hit[0], hit[1], hit[2]) < first:
                    first, ahead = (-hit[0], hit[1], hit[2]), hit[3]
        if ahead is None:
            return False
        self._dirty_sessions.setdefault(ahead, False)
        return True

    def _best_for(self, agent: AgentState) -> tuple[SessionState, str, str] | None:
        """The waiting session this agent should take next: (session, index skill, how)."""
        best: tuple[Any, ...] | None = None
        best_found: tuple[SessionState, str, str] | None = None
        for session_id in agent.reserved:
            session = self._sessions[session_id]
            if session.state == QUEUED and (best is None or session.key < best):
                best, best_found = session.key, (session, session.skill, "sticky")
        if best_found is not None:
            return best_found
        agent_id = agent.agent_id
        sessions = self._sessions
        queues = self._queues
        overflow_sources = self._overflow_sources
        now = self._now
        fallback: str | None = None  # a session whose cool-down for this agent has ended
        for skill in agent.skills:
            queue = queues.get(skill)
            if queue is not None and queue.size:
                hit, spare = queue.first_for(agent_id, sessions, now)
                if hit is not None and (best is None or (-hit[0], hit[1], hit[2]) < best):
                    best, best_found = (-hit[0], hit[1], hit[2]), (sessions[hit[3]], skill, "queue")
                elif spare is not None and fallback is None:
                    fallback = spare[3]
            if skill not in overflow_sources:
                continue
            for source in overflow_sources[skill]:
                overflowed = self._overflowed.get(source)
                if overflowed is not None and overflowed.size:
                    hit, spare = overflowed.first_for(agent_id, sessions, now)
                    if hit is not None and (best is None or (-hit[0], hit[1], hit[2]) < best):
                        best, best_found = (-hit[0], hit[1], hit[2]), (sessions[hit[3]], skill, "overflow")
                    elif spare is not None and fallback is None:
                        fallback = spare[3]
        if best_found is None and fallback is not None:
            # This agent excluded itself from that session and its cool-down is over. Whether it
            # gets it again is for _route to decide, after every agent freed by this event is
            # back in the indexes: an agent who has not excluded the session comes first.
            self._dirty_sessions.setdefault(fallback, False)
        return best_found

    def _fill(self, agent: AgentState) -> None:
        """A free agent takes the best waiting sessions it may serve, up to its capacity."""
        while agent.can_take():
            found = self._best_for(agent)
            if found is None:
                return
            session, via, how = found
            strategy = self._cfg(session.skill).strategy
            explanation = _deferred((
                BUILD_FREED,
                session.session_id,
                agent.agent_id,
                how,
                session.skill,
                via,
                self._now - session.waiting_since,
                session.priority,
                strategy,
                describe_values(strategy, agent, via, self._now),
            ))
            self._offer(session, agent, via, explanation)

    # ------------------------------------------------------------------ settling

    def _settle(self) -> None:
        dirty_agents = self._dirty_agents  # never rebound
        agents = self._agents
        while dirty_agents or self._dirty_sessions:
            while dirty_agents:
                agent_id = next(iter(dirty_agents))
                del dirty_agents[agent_id]
                agent = agents.get(agent_id)
                if agent is not None:
                    if agent.can_take():
                        self._fill(agent)
                        # Offers made by _fill marked it dirty again; it has taken all it can.
                        dirty_agents.pop(agent_id, None)
                    self._reindex(agent)
            if self._dirty_sessions:
                dirty = self._dirty_sessions
                self._dirty_sessions = {}
                if len(dirty) == 1:
                    session_id, announce = next(iter(dirty.items()))
                    session = self._sessions.get(session_id)
                    if session is not None:
                        self._route(session, announce)
                    continue
                live = [self._sessions[sid] for sid in dirty if sid in self._sessions]
                live.sort(key=lambda s: s.key)
                for session in live:
                    self._route(session, dirty[session.session_id])
