"""The parts moved out of desk/lifecycle.py, with fakes: the start-up level and the abandoned write
(desk/recovery.py, pure), hand-over effects (desk/handover_effects.py: who hears how a hand-over
ended, never a state write), and the followers (desk/followers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from desk import handover as ho
from desk import recovery
from desk.audience import Audience
from desk.errors import InvalidState
from desk.followers import Followers
from desk.handover_effects import HandOverEffects
from desk.lifecycle import Outcome
from desk.views import SessionViews
from routing import decisions as dec
from tests.unit.fakes import MemorySessions, RecordingBus

WHY = dec.Explanation(summary="test")


def test_level_brings_a_stored_session_to_what_the_engine_says() -> None:
    stored: Any = {"id": "s1", "state": "assigned", "agent_id": "a1", "close_reason": None}
    assert recovery.level(stored, None, 5.0) is None  # the engine does not know it
    assert recovery.level(stored, {"state": "assigned", "agent": "a1"}, 5.0) is None  # already level
    assert recovery.level(stored, {"state": "assigned", "agent": "a2"}, 5.0) == ("assigned", {"agent_id": "a2"})
    assert recovery.level(stored, {"state": "queued"}, 5.0) == ("queued", {"agent_id": None, "offered_to": None})
    assert recovery.level({**stored, "state": "queued"}, {"state": "queued"}, 5.0) is None
    assert recovery.level(stored, {"state": "diverted"}, 5.0) == ("diverted", {"closed_at": 5.0,
                                                                               "close_reason": "diverted"})
    # A finished session keeps the reason it was stored with; otherwise the engine's state names it.
    assert recovery.level({**stored, "close_reason": "idle"}, {"state": "closed"}, 5.0) == (
        "closed", {"closed_at": 5.0, "close_reason": "idle"})
    assert recovery.level(stored, {"state": "abandoned"}, 5.0) == ("closed", {"closed_at": 5.0,
                                                                              "close_reason": "abandoned"})


def test_abandoned_closes_only_what_the_engine_counted_abandoned() -> None:
    assert recovery.abandoned({"state": "abandoned"}, 7.0) == ("closed", {"closed_at": 7.0,
                                                                          "close_reason": "abandoned"})
    assert recovery.abandoned({"state": "assigned", "agent": "a1"}, 7.0) is None
    assert recovery.abandoned(None, 7.0) is None


def effects() -> tuple[HandOverEffects, MemorySessions, RecordingBus]:
    store, bus = MemorySessions(), RecordingBus()
    store.users["b1"] = {"id": "b1", "name": "Bob"}
    return HandOverEffects(store, Audience(bus), SessionViews(store, lambda: 1.0)), store, bus  # type: ignore[arg-type]


async def stored(store: MemorySessions, **fields: Any) -> str:
    session = await store.create_session({"openid": "o1", "skill": "general", "state": "assigned",
                                          "agent_id": "a1", **fields})
    store.state_writes.clear()
    return str(session["id"])


@pytest.mark.gen_test
async def test_a_handover_the_engine_ignores_is_dropped_again() -> None:
    fx, store, _ = effects()
    sid = await stored(store)
    handover = ho.new_handover("transfer", "a1", "b1", None, "a1", None, 1.0)

    async def ignored() -> Outcome:
        assert store.sessions[sid]["handover"] == handover  # recorded before routing
        return Outcome(decisions=[dec.EventIgnored(event_kind="transfer_requested", subject_id=sid,
                                                        reason="b1 is away", explanation=WHY)])
    with pytest.raises(InvalidState):
        await fx.recorded(sid, handover, ignored)
    assert store.sessions[sid]["handover"] is None

    async def routed() -> Outcome:
        return Outcome()
    await fx.recorded(sid, handover, routed)
    assert store.sessions[sid]["handover"] == handover
    assert store.state_writes == []


@pytest.mark.gen_test
async def test_an_assignment_that_ends_tells_the_supervisor_once() -> None:
    fx, store, bus = effects()
    sid = await stored(store, state="offered", agent_id=None,
                       handover=ho.new_handover("assign", "boss", "b1", None, None, None, 1.0))
    await fx.assign_ended(await store.get_session(sid), "someone_else", "rejected")  # not the one assigned
    assert bus.published == [] and store.sessions[sid]["handover"] is not None
    await fx.assign_ended(await store.get_session(sid), "b1", "rejected")
    assert bus.published == [("boss", "reassign_result", {"session_id": sid, "to_agent": "b1", "kind": "assign",
                                                          "outcome": "declined", "reason": "rejected",
                                                          "to_name": "Bob"})]
    assert store.sessions[sid]["handover"] is None
    await fx.assign_ended(await store.get_session(sid), "b1", "rejected")  # nothing pending any more
    assert len(bus.published) == 1 and store.state_writes == []


@pytest.mark.gen_test
async def test_a_returned_transfer_tells_the_agent_and_says_whether_to_assign_again() -> None:
    fx, store, bus = effects()
    sid = await stored(store, handover=ho.new_handover("transfer", "a1", "b1", None, "a1", None, 1.0))
    returned = dec.TransferReturned(session_id=sid, agent_id="a1", declined_by="b1", reason="timed_out",
                                    explanation=WHY)
    assert await fx.returned(returned) is False  # still the agent's: only shown as it is now
    assert [(u, e) for u, e, _ in bus.published] == [("a1", "notice"), ("a1", "session_updated")]
    assert bus.published[0][2]["outcome"] == "timed_out" and bus.published[0][2]["name"] == "Bob"
    assert store.sessions[sid]["handover"] is None
    await store.update_session(sid, state="offered", agent_id=None)
    store.state_writes.clear()
    assert await fx.returned(returned) is True  # the caller (the lifecycle) assigns it again
    assert store.state_writes == []  # never a state write here
    assert await fx.returned(dec.TransferReturned(session_id="nope", agent_id="a1", declined_by="b1",
                                                  reason="rejected", explanation=WHY)) is False


@pytest.mark.gen_test
async def test_a_returned_reassignment_tells_the_supervisor_not_the_agent() -> None:
    fx, store, bus = effects()
    sid = await stored(store, handover=ho.new_handover("reassign", "boss", "b1", None, "a1", None, 1.0))
    returned = dec.TransferReturned(session_id=sid, agent_id="a1", declined_by="b1", reason="rejected",
                                    explanation=WHY)
    assert await fx.returned(returned) is False
    assert [(u, e) for u, e, _ in bus.published] == [("boss", "reassign_result"), ("a1", "session_updated")]
    assert bus.published[0][2]["outcome"] == "declined"


@pytest.mark.gen_test
async def test_followers_a_failing_close_follower_does_not_stop_the_next() -> None:
    followers, seen = Followers(), []

    async def broken(session: Any, reason: str) -> None:
        raise RuntimeError("boom")

    async def survey(session: Any, reason: str) -> None:
        seen.append((session["id"], reason))
    followers.on_closed += [broken, survey]
    await followers.closed({"id": "s1"}, "closed")  # type: ignore[arg-type]
    await followers.agents(set())  # nobody touched, no observer: nothing to do
    touched: list[set[str]] = []

    async def observe(agents: set[str]) -> None:
        touched.append(agents)
    followers.on_agents = observe
    await followers.agents(set())
    await followers.agents({"a1"})
    assert seen == [("s1", "closed")] and touched == [{"a1"}]
