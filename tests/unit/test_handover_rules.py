"""desk/handover.py: what an assignment or a return to the queue does to a session's hand-over,
and what people are told when one ends (pure rules, no store)."""

from __future__ import annotations

from typing import Any

import pytest

from desk import handover as ho
from desk.audience import Audience
from tests.unit.fakes import RecordingBus


def handover(kind: str = "transfer", to_agent: str | None = "a2", status: str = "pending",
             to_skill: str | None = None) -> dict[str, Any]:
    return {**ho.new_handover(kind, "boss" if kind != "transfer" else "a1", to_agent, to_skill, "a1",
                              " angry customer ", 10.0), "status": status}


def test_an_accepted_transfer_is_recorded_and_cleared():
    session = {"handover": handover(), "transfers": [{"kind": "old"}]}
    ended, changes = ho.on_assigned(session, "a2", moved=True, now=20.0)
    assert ended == session["handover"] and changes["handover"] is None
    assert changes["transfers"][0] == {"kind": "old"}
    entry = changes["transfers"][1]
    assert (entry["from"], entry["to_agent"], entry["note"], entry["accepted_by"], entry["done_at"]) == \
        ("a1", "a2", "angry customer", "a2", 20.0)


def test_an_assignment_of_a_waiting_session_is_no_transfer_and_someone_elses_offer_is_kept():
    ended, changes = ho.on_assigned({"handover": handover("assign")}, "a2", moved=False, now=20.0)
    assert ended is not None and changes == {"handover": None}
    # A pending offer to a2, while a3 takes the session: a2's hand-over stays as it is.
    assert ho.on_assigned({"handover": handover()}, "a3", moved=True, now=20.0) == (None, {})
    assert ho.on_assigned({"handover": None}, "a3", moved=False, now=20.0) == (None, {})


def test_a_transfer_to_a_queue_counts_when_the_session_is_back_in_the_queue():
    pending = handover(to_agent=None, to_skill="loans")
    changes = ho.on_requeued({"handover": pending}, "transferred", now=30.0)
    assert changes["handover"] == {**pending, "status": "done"}
    assert [t["to_skill"] for t in changes["transfers"]] == ["loans"]
    # ... and the next agent of the skill who accepts it clears it (the context went with the offer).
    ended, after = ho.on_assigned({"handover": changes["handover"]}, "a9", moved=False, now=40.0)
    assert ended is not None and after == {"handover": None}


@pytest.mark.parametrize("reason,expected", [("agent_lost", {"handover": None}), ("transferred", {})])
def test_a_lost_agent_ends_whatever_was_under_way(reason, expected):
    done = handover(status="done")
    assert ho.on_requeued({"handover": done}, reason, now=30.0) == expected
    assert ho.on_requeued({}, reason, now=30.0) == {}


def test_what_the_supervisor_and_the_agent_are_told():
    assert ho.tells_supervisor(handover("reassign")) and ho.tells_supervisor(handover("assign"))
    assert not ho.tells_supervisor(handover()) and not ho.tells_supervisor(None)
    assert ho.result_event(handover("reassign"), "s1", "a2", "accepted", None, "Bob") == {
        "session_id": "s1", "to_agent": "a2", "kind": "reassign", "outcome": "accepted", "reason": None,
        "to_name": "Bob"}
    declined = ho.returned_notice("s1", "a2", "Bob", "rejected")
    assert (declined["outcome"], declined["code"], declined["text"]) == (
        "declined", "transfer_returned", "Bob declined the transfer; the session stays with you.")
    assert ho.returned_notice("s1", "a2", "Bob", "timed_out")["outcome"] == "timed_out"
    other = ho.returned_notice("s1", "a2", "Bob", "agent_offline")
    assert other["outcome"] == "withdrawn" and "(agent offline)" in other["text"]


@pytest.mark.gen_test
async def test_presence_goes_to_the_agent_and_missed_offers_say_why():
    bus = RecordingBus()
    audience = Audience(bus)  # type: ignore[arg-type]
    await audience.presence("a1", "available", 5.0)
    await audience.presence("a1", "away", 6.0, reason="missed_offers")
    assert bus.published[0] == ("a1", "presence", {"agent_id": "a1", "status": "available", "since": 5.0})
    assert bus.published[1] == ("a1", "presence", {"agent_id": "a1", "status": "away", "since": 6.0,
                                                   "reason": "missed_offers"})
    assert bus.published[2][1:] == ("notice", {"level": "warning", "code": "set_away_missed_offers",
                                               "text": "You missed several offers in a row and were set to away."})
