"""The leave-message backlog (desk/leave_backlog.py) with fakes: oldest first, one per free place,
only to agents with the skill, never into a closed skill (by the desk's clock, not the engine's),
never ahead of a live customer who waits."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from desk.leave_backlog import LEAVE_MESSAGE_PRIORITY, Backlog
from routing import decisions as dec
from routing.config import BusinessHours

CLOSED = BusinessHours(weekly=(), closed_without_spans=True)


class FakeEngine:
    def __init__(self, agents: dict[str, dict[str, Any]], waiting: dict[str, list[dict[str, Any]]] | None = None,
                 closed: tuple[str, ...] = ()) -> None:
        self.agents = agents
        self.waiting = waiting or {}
        self.closed = closed

    def agent_stats(self, now: float) -> dict[str, dict[str, Any]]:
        return self.agents

    def queue_config(self, skill: str) -> Any:
        return SimpleNamespace(business_hours=CLOSED if skill in self.closed else None)

    def waiting_sessions(self, skill: str) -> list[dict[str, Any]]:
        return self.waiting.get(skill, [])


class FakeRouting:
    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.live: set[str] = set()

    def knows_live(self, session_id: str) -> bool:
        return session_id in self.live


class FakeStore:
    def __init__(self, sessions: list[dict[str, Any]]) -> None:
        self.sessions = sessions

    async def list_leave_messages(self, states: Any = None, skill: Any = None, limit: int = 500) -> list[Any]:
        return sorted((s for s in self.sessions if states is None or s["state"] in states),
                      key=lambda s: s["leave_message"]["created_at"])[:limit]


class FakeLifecycle:
    def __init__(self) -> None:
        self.requested: list[tuple[str, int]] = []

    async def request_leave_message(self, session: dict[str, Any], priority: int) -> list[Any]:
        self.requested.append((session["id"], priority))
        return [dec.OfferSession(session_id=session["id"], agent_id="x", skill=session["skill"], expires_at=1.0,
                                 transfer_from=None, explanation=dec.Explanation(summary=""))]


def agent(skills: tuple[str, ...], load: int = 0, capacity: int = 1, status: str = "available") -> dict[str, Any]:
    return {"status": status, "connected": True, "load": load, "capacity": capacity,
            "skills": {s: 3 for s in skills}}


def lm(session_id: str, skill: str, created_at: float) -> dict[str, Any]:
    return {"id": session_id, "skill": skill, "state": "diverted", "openid": "o-" + session_id,
            "leave_message": {"created_at": created_at}}


def backlog(engine: FakeEngine, sessions: list[dict[str, Any]]) -> tuple[Backlog, FakeLifecycle, FakeRouting]:
    lifecycle = FakeLifecycle()
    routing = FakeRouting(engine)

    async def hours(skill: str) -> None:
        return None
    return Backlog(FakeStore(sessions), routing, lifecycle, lambda: 100.0, hours), lifecycle, routing  # type: ignore[arg-type]


@pytest.mark.gen_test
async def test_oldest_first_one_per_free_place_and_only_to_the_skill() -> None:
    engine = FakeEngine({"a1": agent(("general",), capacity=2), "a2": agent(("cards",), load=1),
                         "a3": agent(("general",), status="away")})
    feed, lifecycle, _ = backlog(engine, [lm("new", "general", 30), lm("old", "general", 10),
                                          lm("mid", "general", 20), lm("card", "cards", 5)])
    assert await feed.feed() == 2
    # a1 has two free places; a2 (cards) is full and a3 away: the two oldest general ones.
    assert lifecycle.requested == [("old", LEAVE_MESSAGE_PRIORITY), ("mid", LEAVE_MESSAGE_PRIORITY)]
    assert LEAVE_MESSAGE_PRIORITY < 0  # below every live customer (the priority rules give 0 and up)


@pytest.mark.gen_test
async def test_a_closed_skill_a_waiting_live_customer_and_one_handed_over_already_are_left() -> None:
    engine = FakeEngine({"a1": agent(("general", "loans", "cards"), capacity=5)},
                        waiting={"loans": [{"state": "queued"}], "cards": [{"state": "offered"}]},
                        closed=("general",))
    feed, lifecycle, routing = backlog(engine, [lm("g", "general", 1), lm("l", "loans", 2), lm("c", "cards", 3),
                                                lm("c2", "cards", 4)])
    routing.live.add("c")
    assert await feed.feed() == 1
    # general is closed by the desk's clock; a live customer waits in loans without an offer;
    # "c" is with the engine already; an offer out in cards does not hold the next one back.
    assert lifecycle.requested == [("c2", LEAVE_MESSAGE_PRIORITY)]


@pytest.mark.gen_test
async def test_nobody_free_feeds_nothing() -> None:
    engine = FakeEngine({"a1": agent(("general",), load=1)})
    feed, lifecycle, _ = backlog(engine, [lm("g", "general", 1)])
    assert await feed.feed() == 0 and lifecycle.requested == []
