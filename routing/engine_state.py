"""The routing engine's state and the bookkeeping that keeps its derived structures true.

Owns :class:`EngineState`, the base of :class:`~routing.engine.RoutingEngine`: the records (agents,
sessions open and finished, queue configurations, metrics, the customers' last agents, round-robin
clocks), the structures derived from them (skill queues, waiting and member sets, agent indexes,
the deadline heap) and the small operations that change both together (a session into or out of
its queue, an agent's status and skill memberships, a deadline still live or stale). It takes no
decision and produces no output: the rules are in :mod:`routing.matching` and
:mod:`routing.engine`; :mod:`routing.views` and :mod:`routing.snapshots` read this state.
"""

from __future__ import annotations

from collections import OrderedDict

from routing.config import EngineSettings
from routing.decisions import Decision
from routing.events import ConfigureQueue
from routing.indexes import AgentIndex, SkillQueue, TimerHeap
from routing.metrics import QueueMetrics
from routing.state import AVAILABLE, OFFERED, OFFLINE, QUEUED, WRAPUP, AgentState, SessionState

# Timer kinds, in the order they fire when deadlines are equal.
T_GRACE, T_WRAPUP, T_OFFER, T_STICKY, T_OVERFLOW, T_MAX_WAIT, T_COOLDOWN = range(7)


class EngineState:
    """The routing engine's state; see the module docstring. Construct through ``RoutingEngine``."""

    def __init__(self, settings: EngineSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        self._now = 0.0
        self._seq = 0  # session arrival sequence: the last tie-breaker of queue order
        self._stamp = 0  # agent version clock, global so a re-login never reuses a version
        self._events_applied = 0
        self._configs: dict[str, ConfigureQueue] = {}
        self._agents: dict[str, AgentState] = {}
        self._sessions: dict[str, SessionState] = {}  # not finished
        # OrderedDict, not dict: both drop their oldest entry often, and next(iter(dict)) slows
        # down as deleted slots pile up at the front of a plain dict.
        self._finished: OrderedDict[str, SessionState] = OrderedDict()  # finished, oldest first, bounded
        self._customers: OrderedDict[str, tuple[str, float]] = OrderedDict()  # customer -> (last agent, when)
        self._rr_clock: dict[str, int] = {}
        self._metrics: dict[str, QueueMetrics] = {}
        self._indexes: dict[str, dict[str, AgentIndex]] = {}  # skill -> strategy -> index
        self._timers = TimerHeap()
        # Derived from the above; rebuilt by restore().
        self._queues: dict[str, SkillQueue] = {}
        self._overflowed: dict[str, SkillQueue] = {}
        self._waiting: dict[str, dict[str, None]] = {}  # skill -> queued or offered session ids
        self._members: dict[str, dict[str, None]] = {}  # skill -> logged-in agents with it
        self._present: dict[str, int] = {}  # skill -> agents logged in and not offline
        self._overflow_sources: dict[str, tuple[str, ...]] = {}
        self._default_configs: dict[str, ConfigureQueue] = {}
        # Work for the current apply().
        self._dirty_agents: dict[str, None] = {}
        self._dirty_sessions: dict[str, bool] = {}  # session id -> announce SessionQueued if it waits
        self._out: list[Decision] = []

    @property
    def now(self) -> float:
        """The engine's clock: the latest ``now`` it has seen."""
        return self._now

    # ------------------------------------------------------------------ configuration and metrics

    def _cfg(self, skill: str) -> ConfigureQueue:
        cfg = self._configs.get(skill)
        if cfg is None:
            cfg = self._default_configs.get(skill)
            if cfg is None:
                cfg = ConfigureQueue(
                    skill=skill, offer_timeout_secs=self.settings.default_offer_timeout_secs
                )
                self._default_configs[skill] = cfg
        return cfg

    def _stats(self, skill: str) -> QueueMetrics:
        metrics = self._metrics.get(skill)
        if metrics is None:
            metrics = self._metrics[skill] = QueueMetrics()
        return metrics

    def _rebuild_overflow_sources(self) -> None:
        sources: dict[str, list[str]] = {}
        for skill, cfg in self._configs.items():
            if cfg.overflow_after_secs is None:
                continue
            for other in cfg.overflow_skills:
                if other != skill:
                    sources.setdefault(other, []).append(skill)
        self._overflow_sources = {k: tuple(v) for k, v in sources.items()}

    # ------------------------------------------------------------------ agents: memberships, status, index entries

    def _add_membership(self, agent: AgentState) -> None:
        counted = agent.status != OFFLINE
        for skill in agent.skills:
            self._members.setdefault(skill, {})[agent.agent_id] = None
            if counted:
                self._present[skill] = self._present.get(skill, 0) + 1

    def _drop_membership(self, agent: AgentState) -> None:
        counted = agent.status != OFFLINE
        for skill in agent.skills:
            self._members[skill].pop(agent.agent_id, None)
            if counted:
                self._present[skill] -= 1

    def _set_status(self, agent: AgentState, status: str) -> None:
        if agent.status == status:
            return
        self._drop_membership(agent)
        if status == AVAILABLE:
            agent.idle_since = self._now
            agent.missed = 0
        if status != WRAPUP:
            agent.wrapup_until = None
        agent.status = status
        agent.status_since = self._now
        self._add_membership(agent)

    def _touch(self, agent: AgentState) -> None:
        """Record that the agent changed: new version (its index entries go stale); settle it.

        Fresh index entries are pushed by ``_settle`` once the agent has taken what it can,
        so an agent freed and at once given a waiting session costs no index traffic.
        """
        self._stamp += 1
        agent.version = self._stamp
        self._dirty_agents[agent.agent_id] = None

    def _reindex(self, agent: AgentState) -> None:
        """Push the agent's current entry into each index of its skills, if it can take offers."""
        if not agent.can_take():
            return
        for skill in agent.skills:
            indexes = self._indexes.get(skill)
            if not indexes:
                continue
            for index in indexes.values():
                index.push(agent)
                if len(index.heap) > 2 * len(self._members.get(skill, ())) + 32:
                    index.rebuild(self._agents[a] for a in self._members.get(skill, {}))

    def _index(self, skill: str, strategy: str) -> AgentIndex:
        by_strategy = self._indexes.get(skill)
        if by_strategy is None:
            by_strategy = self._indexes[skill] = {}
        index = by_strategy.get(strategy)
        if index is None:
            index = by_strategy[strategy] = AgentIndex(skill, strategy)
            index.rebuild(self._agents[a] for a in self._members.get(skill, {}))
        return index

    # ------------------------------------------------------------------ sessions: queues, the finished, customers

    def _queue_in(self, session: SessionState) -> None:
        key = (session.priority, session.arrived_at, session.seq, session.session_id)
        queue = self._queues.get(session.skill)
        if queue is None:
            queue = self._queues[session.skill] = SkillQueue()
        queue.add(*key)
        if session.overflowed:
            overflowed = self._overflowed.get(session.skill)
            if overflowed is None:
                overflowed = self._overflowed[session.skill] = SkillQueue()
            overflowed.add(*key)

    def _queue_out(self, session: SessionState) -> None:
        key = (session.priority, session.arrived_at, session.seq, session.session_id)
        queue = self._queues.get(session.skill)
        if queue is not None:
            queue.remove(*key)
        if session.overflowed:
            overflowed = self._overflowed.get(session.skill)
            if overflowed is not None:
                overflowed.remove(*key)

    def _position(self, session: SessionState) -> int:
        queue = self._queues.get(session.skill)
        if queue is None:
            return 1
        return queue.rank(session.priority, session.arrived_at, session.seq) + 1

    def _leave_waiting(self, session: SessionState) -> None:
        """Take a queued or offered session out of every waiting structure."""
        if session.state == QUEUED and session.sticky_agent is None:
            self._queue_out(session)
        self._waiting.get(session.skill, {}).pop(session.session_id, None)
        if session.sticky_agent is not None:
            agent = self._agents.get(session.sticky_agent)
            if agent is not None:
                agent.reserved.pop(session.session_id, None)
            session.sticky_agent = None
            session.sticky_until = None

    def _leave_waiting_keep_sticky(self, session: SessionState) -> None:
        if session.sticky_agent is None:
            self._queue_out(session)
        self._waiting.get(session.skill, {}).pop(session.session_id, None)

    def _finish(self, session: SessionState, state: str) -> None:
        session.state = state
        session.ended_at = self._now
        session.offer_agent = None
        session.offer_expires = None
        del self._sessions[session.session_id]
        self._finished[session.session_id] = session
        while len(self._finished) > self.settings.retain_finished_sessions:
            self._finished.popitem(last=False)

    def _remember_customer(self, customer_id: str, agent_id: str) -> None:
        customers = self._customers
        customers[customer_id] = (agent_id, self._now)
        customers.move_to_end(customer_id)
        horizon = self._now - self.settings.sticky_window_secs
        while customers:
            first = next(iter(customers))
            if customers[first][1] >= horizon:
                break
            customers.popitem(last=False)

    # ------------------------------------------------------------------ deadlines

    def _timer_live(self, kind: int, subject: str, when: float) -> bool:
        if kind in (T_GRACE, T_WRAPUP):
            agent = self._agents.get(subject)
            if agent is None:
                return False
            if kind == T_GRACE:
                return agent.grace_until == when
            return agent.status == WRAPUP and agent.wrapup_until == when
        session = self._sessions.get(subject)
        if session is None:
            return False
        if kind == T_OFFER:
            return session.offer_agent is not None and session.offer_expires == when
        if kind == T_STICKY:
            return session.sticky_agent is not None and session.sticky_until == when and session.state == QUEUED
        if kind == T_OVERFLOW:
            return session.state in (QUEUED, OFFERED) and not session.overflowed and session.overflow_at == when
        if kind == T_COOLDOWN:
            # Still live while offered to someone else (firing then does nothing): if that offer
            # fails the session waits again and the excluded agent's cool-down must still end.
            # A timer found dead is dropped for good (next_deadline, snapshots), so liveness must
            # not come back when the state does.
            return session.state in (QUEUED, OFFERED) and when in session.cooldown.values()
        # Still live while offered: if the offer fails the session is diverted at once.
        return session.state in (QUEUED, OFFERED) and session.max_wait_at == when
