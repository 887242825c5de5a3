"""Stateful property tests: random event sequences, routing invariants checked after every step.

Invariants: no agent over capacity; no offer to an agent who is unavailable, lacks the skill or
excluded itself (unless its cool-down has ended and no agent who has not excluded itself could
take the session, or a supervisor named it); no session both queued and assigned; within a queue, offers follow priority then
arrival among the sessions the agent may take; a free agent never coexists with a session it
could take; snapshot -> restore gives the same future decisions; replaying the event log gives
the same state.
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from routing import (
    AgentDisconnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReconnected,
    AssignRequested,
    ConfigureQueue,
    CustomerLeft,
    Decision,
    EngineSettings,
    Event,
    OfferAccepted,
    OfferRejected,
    PresenceChanged,
    RoutingEngine,
    SessionClosed,
    SessionRequested,
    SkillChanged,
    Tick,
    TransferRequested,
)
from routing.state import AVAILABLE, QUEUED

AGENTS = ("a0", "a1", "a2", "a3")
SKILLS = ("billing", "cards", "general")
CUSTOMERS = ("c0", "c1", "c2", "c3", "c4")
CAPACITY = {"a0": 1, "a1": 2, "a2": 3, "a3": 1}
SETTINGS = EngineSettings(
    missed_offers_before_away=2, sticky_window_secs=200, sticky_wait_secs=15, disconnect_grace_secs=25
)


class CheckedEngine(RoutingEngine):
    """The real engine, checking each offer at the moment it is made."""

    def _offer(self, session, agent, index_skill, explanation, transfer_from=None):  # type: ignore[override]
        assert agent.can_take(), f"offer to {agent.agent_id}, who cannot take: {agent.unavailable_reason()}"
        assert agent.load < agent.capacity
        if transfer_from is None and explanation.strategy != "supervisor_assign":
            if agent.agent_id in session.excluded:
                assert not session.cooling(agent.agent_id, self._now), "offer to an agent still cooling down"
                # A last resort: nobody who has not excluded the session could take it.
                for other in self._agents.values():
                    if other is agent or not other.can_take() or other.agent_id in session.excluded:
                        continue
                    assert session.skill not in other.skills, f"{other.agent_id} was free for {session.session_id}"
            cfg = self._cfg(session.skill)
            via_overflow = session.skill not in agent.skills
            if via_overflow:
                assert session.overflowed and any(s in agent.skills for s in cfg.overflow_skills), "lacks skill"
            if session.sticky_agent is None and explanation.strategy != "sticky":
                # Priority then arrival: no better waiting session this agent could take.
                queue = self._queues.get(session.skill)
                for level, arrived_at, seq, other_id in queue or ():
                    if (-level, arrived_at, seq) >= session.key:
                        break
                    other = self._sessions[other_id]
                    if agent.agent_id in other.excluded and (
                        other.cooling(agent.agent_id, self._now) or agent.agent_id not in session.excluded
                    ):
                        continue
                    if via_overflow and not other.overflowed:
                        continue
                    raise AssertionError(f"{other_id} is ahead of {session.session_id} for {agent.agent_id}")
        super()._offer(session, agent, index_skill, explanation, transfer_from)


def pick(items: list[Any], index: int) -> Any:
    return items[index % len(items)]


class RoutingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine: RoutingEngine = CheckedEngine(SETTINGS)
        self.shadow: RoutingEngine | None = None
        self.log: list[Event] = []
        self.now = 1_000_000.0
        self.session_ids: list[str] = []

    @initialize(
        skills=st.lists(
            st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=1, max_size=3),
            min_size=len(AGENTS),
            max_size=len(AGENTS),
        )
    )
    def staff(self, skills: list[dict[str, int]]) -> None:
        for agent, agent_skills in zip(AGENTS, skills, strict=True):
            self.apply(AgentLoggedIn(agent_id=agent, skills=agent_skills, capacity=CAPACITY[agent], now=self.now))

    # --- driving ---------------------------------------------------------------------------

    def apply(self, event: Event) -> list[Decision]:
        self.log.append(event)
        out = self.engine.apply(event)
        for decision in out:
            assert Decision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision
            assert decision.explain_text()
        if self.shadow is not None:
            again = self.shadow.apply(event)
            assert [d.to_dict() for d in again] == [d.to_dict() for d in out]
        return out

    def offered(self) -> list[tuple[str, str]]:
        pairs = []
        for session_id in self.session_ids:
            view = self.engine.session(session_id)
            if view and view["offered_to"]:
                pairs.append((session_id, view["offered_to"]))
        return pairs

    @rule(
        skill=st.sampled_from(SKILLS),
        strategy=st.sampled_from(("longest_idle", "least_occupied", "best_proficiency", "round_robin")),
        overflow=st.booleans(),
        max_wait=st.sampled_from((None, 30, 90)),
        wrapup=st.sampled_from((0, 5)),
        timeout=st.sampled_from((5, 20)),
    )
    def configure(self, skill: str, strategy: str, overflow: bool, max_wait: float | None, wrapup: float, timeout: float) -> None:
        others = tuple(s for s in SKILLS if s != skill)[:1] if overflow else ()
        self.apply(
            ConfigureQueue(
                skill=skill,
                strategy=strategy,
                overflow_after_secs=10 if overflow else None,
                overflow_skills=others,
                max_wait_secs=max_wait,
                wrapup_secs=wrapup,
                offer_timeout_secs=timeout,
                now=self.now,
            )
        )

    @rule(
        agent=st.sampled_from(AGENTS),
        skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), min_size=1, max_size=3),
        status=st.sampled_from(("available", "available", "away")),
    )
    def login(self, agent: str, skills: dict[str, int], status: str) -> None:
        self.apply(AgentLoggedIn(agent_id=agent, skills=skills, capacity=CAPACITY[agent], status=status, now=self.now))

    @rule(agent=st.sampled_from(AGENTS))
    def logout(self, agent: str) -> None:
        self.apply(AgentLoggedOut(agent_id=agent, now=self.now))

    @rule(agent=st.sampled_from(AGENTS), status=st.sampled_from(("available", "away", "offline")))
    def presence(self, agent: str, status: str) -> None:
        self.apply(PresenceChanged(agent_id=agent, status=status, now=self.now))

    @rule(agent=st.sampled_from(AGENTS), back=st.booleans())
    def connection(self, agent: str, back: bool) -> None:
        event = AgentReconnected if back else AgentDisconnected
        self.apply(event(agent_id=agent, now=self.now))

    @rule(
        skill=st.sampled_from(SKILLS),
        customer=st.sampled_from(CUSTOMERS),
        priority=st.integers(0, 2),
        vip=st.booleans(),
    )
    def request(self, skill: str, customer: str, priority: int, vip: bool) -> None:
        session_id = f"s{len(self.session_ids)}"
        self.session_ids.append(session_id)
        self.apply(
            SessionRequested(
                session_id=session_id, customer_id=customer, skill=skill, priority=priority, vip=vip, now=self.now
            )
        )

    @precondition(lambda self: self.session_ids)
    @rule(index=st.integers(0, 999), skill=st.sampled_from(SKILLS))
    def change_skill(self, index: int, skill: str) -> None:
        self.apply(SkillChanged(session_id=pick(self.session_ids, index), skill=skill, now=self.now))

    @rule(index=st.integers(0, 999), accept=st.sampled_from((True, True, True, False)))
    def answer_offer(self, index: int, accept: bool) -> None:
        pairs = self.offered()
        if not pairs:
            return
        session_id, agent_id = pick(pairs, index)
        event = OfferAccepted if accept else OfferRejected
        self.apply(event(session_id=session_id, agent_id=agent_id, now=self.now))

    @precondition(lambda self: self.session_ids)
    @rule(index=st.integers(0, 999), agent=st.sampled_from(AGENTS))
    def stray_accept(self, index: int, agent: str) -> None:
        self.apply(OfferAccepted(session_id=pick(self.session_ids, index), agent_id=agent, now=self.now))

    @precondition(lambda self: self.session_ids)
    @rule(index=st.integers(0, 999), left=st.booleans())
    def end(self, index: int, left: bool) -> None:
        event = CustomerLeft if left else SessionClosed
        self.apply(event(session_id=pick(self.session_ids, index), now=self.now))

    @precondition(lambda self: self.session_ids)
    @rule(index=st.integers(0, 999), to_agent=st.sampled_from((None, *AGENTS)), skill=st.sampled_from(SKILLS))
    def transfer(self, index: int, to_agent: str | None, skill: str) -> None:
        view = self.engine.session(pick(self.session_ids, index))
        if view is None or view["agent"] is None:
            return
        self.apply(
            TransferRequested(
                session_id=view["session_id"],
                from_agent=view["agent"],
                to_agent=to_agent,
                to_skill=None if to_agent else skill,
                now=self.now,
            )
        )

    @precondition(lambda self: self.session_ids)
    @rule(index=st.integers(0, 999), agent=st.sampled_from(AGENTS))
    def supervisor_assign(self, index: int, agent: str) -> None:
        self.apply(AssignRequested(session_id=pick(self.session_ids, index), agent_id=agent, now=self.now))

    @rule(step=st.sampled_from((0, 1, 3, 6, 11, 20, 40)))
    def tick(self, step: float) -> None:
        self.now += step
        self.apply(Tick(now=self.now))

    @rule()
    def tick_to_deadline(self) -> None:
        deadline = self.engine.next_deadline()
        if self.shadow is not None:
            assert self.shadow.next_deadline() == deadline
        if deadline is not None:
            self.now = max(self.now, deadline)
            self.apply(Tick(now=self.now))

    @rule()
    def restore_shadow(self) -> None:
        snapshot = json.loads(json.dumps(self.engine.snapshot()))
        self.shadow = RoutingEngine.restore(snapshot)
        assert self.shadow.snapshot() == snapshot

    @rule()
    def replay(self) -> None:
        fresh = RoutingEngine(SETTINGS)
        for event in self.log:
            fresh.apply(Event.from_dict(json.loads(json.dumps(event.to_dict()))))
        assert fresh.snapshot() == self.engine.snapshot()

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def capacity_respected(self) -> None:
        for agent in self.engine._agents.values():
            assert len(agent.sessions) + len(agent.offers) <= agent.capacity, agent.to_dict()

    @invariant()
    def sessions_in_exactly_one_place(self) -> None:
        engine = self.engine
        queued_in_queues: dict[str, int] = {}
        for queue in engine._queues.values():
            for _, _, _, session_id in queue:
                queued_in_queues[session_id] = queued_in_queues.get(session_id, 0) + 1
        holders: dict[str, str] = {}
        for agent in engine._agents.values():
            for session_id in agent.sessions:
                assert session_id not in holders, f"{session_id} assigned twice"
                holders[session_id] = agent.agent_id
            for session_id in agent.offers:
                assert engine._sessions[session_id].offer_agent == agent.agent_id
        for session in engine._sessions.values():
            in_queue = queued_in_queues.get(session.session_id, 0)
            if session.state == QUEUED:
                assert session.session_id not in holders, "queued and assigned"
                assert session.offer_agent is None
                reserved = session.sticky_agent is not None
                assert in_queue == (0 if reserved else 1), (session.session_id, in_queue, reserved)
                if reserved:
                    assert session.session_id in engine._agents[session.sticky_agent].reserved
            else:
                assert in_queue == 0, f"{session.session_id} is {session.state} but still queued"
            if session.state == "assigned":
                assert holders.get(session.session_id) == session.agent
            if session.offer_agent is not None:
                assert session.session_id in engine._agents[session.offer_agent].offers

    @invariant()
    def no_free_agent_beside_a_session_it_could_take(self) -> None:
        engine = self.engine
        for agent in engine._agents.values():
            if not agent.can_take():
                continue
            assert agent.status == AVAILABLE
            for session_id in agent.reserved:
                assert engine._sessions[session_id].state != QUEUED, f"{agent.agent_id} ignores sticky {session_id}"
            for skill in agent.skills:
                for *_, session_id in engine._queues.get(skill, ()):
                    assert engine._sessions[session_id].cooling(agent.agent_id, engine.now), (
                        f"{agent.agent_id} is free while {session_id} waits"
                    )
                for source in engine._overflow_sources.get(skill, ()):
                    for *_, session_id in engine._overflowed.get(source, ()):
                        assert engine._sessions[session_id].cooling(agent.agent_id, engine.now)

    @invariant()
    def metrics_and_queries_work(self) -> None:
        stats = self.engine.queue_stats(self.now)
        for skill, row in stats.items():
            assert row["waiting"] == len(self.engine.waiting_sessions(skill))
            assert row["service_level"] is None or 0 <= row["service_level"] <= 1
        self.engine.agent_stats(self.now)


# A longer search on demand: KEFU_STATEFUL_EXAMPLES=2000 (with --hypothesis-seed=N to vary it).
RoutingMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("KEFU_STATEFUL_EXAMPLES", "60")),
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRoutingMachine = RoutingMachine.TestCase
