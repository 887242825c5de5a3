"""The routing engine's indexes, so that no decision scans every agent or every session.

Owns :class:`SkillQueue` (waiting sessions of one skill ordered by priority then arrival, kept
as one sorted bucket per priority level: O(log n) search, exact positions), :class:`AgentIndex`
(a heap of available agents of one skill ranked by one strategy, invalidated lazily by agent
version) and :class:`TimerHeap` (deadlines, invalidated lazily by the caller's check).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Callable, Iterator
from typing import Any

from routing.state import AgentState

QueueEntry = tuple[float, int, str]  # (arrived_at, seq, session_id) inside one priority bucket
AgentEntry = tuple[tuple[Any, ...], str, int]  # (strategy key, agent_id, agent version)
TimerEntry = tuple[float, int, str]  # (deadline, kind rank, subject id)


class SkillQueue:
    """Sessions of one skill in service order: higher priority first, then earlier arrival."""

    __slots__ = ("buckets", "levels", "size")

    def __init__(self) -> None:
        self.buckets: dict[int, list[QueueEntry]] = {}
        self.levels: list[int] = []  # priorities with a non-empty bucket, highest first
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(self, priority: int, arrived_at: float, seq: int, session_id: str) -> None:
        bucket = self.buckets.get(priority)
        if bucket is None:
            bucket = self.buckets[priority] = []
            self.levels.append(priority)
            self.levels.sort(reverse=True)
        entry = (arrived_at, seq, session_id)
        if not bucket or bucket[-1] < entry:
            bucket.append(entry)  # the usual case: a new arrival goes last
        else:
            insort(bucket, entry)
        self.size += 1

    def remove(self, priority: int, arrived_at: float, seq: int, session_id: str) -> bool:
        bucket = self.buckets.get(priority)
        if not bucket:
            return False
        entry = (arrived_at, seq, session_id)
        if bucket[0] == entry:
            del bucket[0]  # the usual case: the head is offered
        else:
            i = bisect_left(bucket, entry)
            if i >= len(bucket) or bucket[i] != entry:
                return False
            del bucket[i]
        self.size -= 1
        if not bucket:
            del self.buckets[priority]
            self.levels.remove(priority)
        return True

    def rank(self, priority: int, arrived_at: float, seq: int) -> int:
        """How many sessions are ahead of this key (0 = first)."""
        ahead = 0
        for level in self.levels:
            if level > priority:
                ahead += len(self.buckets[level])
            elif level == priority:
                bucket = self.buckets[level]
                last = bucket[-1]
                if last[1] == seq and last[0] == arrived_at:
                    ahead += len(bucket) - 1  # the usual case: a new arrival, last of its level
                else:
                    ahead += bisect_left(bucket, (arrived_at, seq, ""))
            else:
                break
        return ahead

    def __iter__(self) -> Iterator[tuple[int, float, int, str]]:
        for level in self.levels:
            for arrived_at, seq, session_id in self.buckets[level]:
                yield level, arrived_at, seq, session_id

    def first(self, accept: Callable[[str], bool]) -> tuple[int, float, int, str] | None:
        """The first session (in service order) for which ``accept(session_id)`` is true.

        Cost is proportional to the sessions skipped, i.e. those that excluded the agent.
        """
        for level in self.levels:
            for arrived_at, seq, session_id in self.buckets[level]:
                if accept(session_id):
                    return level, arrived_at, seq, session_id
        return None

    def first_for(
        self, agent_id: str, sessions: dict[str, Any], now: float
    ) -> tuple[tuple[int, float, int, str] | None, tuple[int, float, int, str] | None]:
        """``(first, fallback)``: the first session (in service order) that has not excluded
        ``agent_id``, and, when there is none, the first that excluded it but whose cool-down
        has ended (the agent may have it again if nobody else can take it)."""
        fallback = None
        for level in self.levels:
            for arrived_at, seq, session_id in self.buckets[level]:
                session = sessions[session_id]
                if agent_id not in session.excluded:
                    return (level, arrived_at, seq, session_id), None
                if fallback is None and session.cooldown.get(agent_id, now) <= now:
                    fallback = (level, arrived_at, seq, session_id)
        return None, fallback


def strategy_key(strategy: str, agent: AgentState, skill: str) -> tuple[Any, ...]:
    """The rank of an available agent under ``strategy`` for ``skill``: smaller is better."""
    if strategy == "least_occupied":
        return (agent.load / agent.capacity, agent.idle_since)
    if strategy == "best_proficiency":
        return (-agent.skills.get(skill, 0), agent.idle_since)
    if strategy == "round_robin":
        return (agent.rr_last.get(skill, 0),)
    return (agent.idle_since,)


class AgentIndex:
    """Agents with one skill that could take an offer, best first under one strategy.

    Entries are pushed whenever an agent changes; an entry is live only while its version equals
    the agent's and the agent can take an offer. Stale entries are dropped when they reach the
    top; the heap is rebuilt when stale entries outnumber live ones.
    """

    __slots__ = ("skill", "strategy", "heap")

    def __init__(self, skill: str, strategy: str) -> None:
        self.skill = skill
        self.strategy = strategy
        self.heap: list[AgentEntry] = []

    def push(self, agent: AgentState) -> None:
        heapq.heappush(self.heap, (strategy_key(self.strategy, agent, self.skill), agent.agent_id, agent.version))

    def rebuild(self, agents: Iterator[AgentState]) -> None:
        self.heap = [
            (strategy_key(self.strategy, a, self.skill), a.agent_id, a.version) for a in agents if a.can_take()
        ]
        heapq.heapify(self.heap)

    def to_list(self) -> list[Any]:
        return [[list(key), agent_id, version] for key, agent_id, version in self.heap]

    @classmethod
    def from_list(cls, skill: str, strategy: str, data: list[Any]) -> AgentIndex:
        index = cls(skill, strategy)
        index.heap = [(tuple(key), agent_id, version) for key, agent_id, version in data]
        return index


class TimerHeap:
    """Deadlines as ``(when, kind rank, subject id)``; the engine checks validity on pop."""

    __slots__ = ("heap",)

    def __init__(self) -> None:
        self.heap: list[TimerEntry] = []

    def push(self, when: float, rank: int, subject: str) -> None:
        heapq.heappush(self.heap, (when, rank, subject))

    def peek(self) -> TimerEntry | None:
        return self.heap[0] if self.heap else None

    def pop(self) -> TimerEntry:
        return heapq.heappop(self.heap)
