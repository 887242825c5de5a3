"""`Wall.narrow`: what a supervisor in a team sees of the wall (desk/supervision.py)."""

from __future__ import annotations

import copy

from desk.supervision import Wall


def _agent(agent_id: str, presence: str, load: int = 0, sessions: list[str] | None = None,
           offers: list[str] | None = None, status: str | None = None) -> dict:
    return {"id": agent_id, "status": status or presence, "presence": presence, "connected": status != "offline",
            "load": load, "capacity": 2, "sessions": sessions or [], "offers": offers or [],
            "skills": {"general": 3}}


WALL = {
    "queues": [{"skill": "general", "waiting": 3, "longest_wait_s": 40.0,
                "agents": {"available": 2, "busy": 1, "away": 1, "offline": 1}, "order": ["q1", "q2", "s4"]}],
    "agents": [_agent("alice", "available", 1, sessions=["s1"]), _agent("bob", "available", 2, sessions=["s2", "s3"]),
               _agent("carol", "away", offers=["s4"]), _agent("dan", "offline", status="offline")],
    "sessions": [{"id": s, "state": "assigned", "agent_id": a} for s, a in
                 (("s1", "alice"), ("s2", "bob"), ("s3", "bob"))]
    + [{"id": "s4", "state": "offered", "agent_id": None}, {"id": "q1", "state": "queued", "agent_id": None}],
    "ts": 1.0,
}


def test_a_scope_sees_its_agents_their_sessions_and_its_own_counts():
    before = copy.deepcopy(WALL)
    seen = Wall.narrow(WALL, frozenset({"alice", "carol", "dan"}))
    assert [a["id"] for a in seen["agents"]] == ["alice", "carol", "dan"]
    assert [s["id"] for s in seen["sessions"]] == ["s1", "s4"]  # held or offered; not queued, not bob's
    queue = seen["queues"][0]
    assert queue["agents"] == {"available": 1, "busy": 0, "away": 1, "offline": 1}
    assert queue["order"] == ["s4"] and queue["waiting"] == 3  # the queue's own figures stay
    assert WALL == before  # the shared picture is left alone for the other subscribers


def test_no_scope_is_the_whole_wall():
    assert Wall.narrow(WALL, None) is WALL
