"""Events, decisions and configuration records: JSON round trips and business hours."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from routing import (
    AgentLoggedIn,
    BusinessHours,
    Candidate,
    ConfigureQueue,
    Decision,
    Event,
    Explanation,
    OfferSession,
    SessionRequested,
    TransferRequested,
)
from routing.decisions import DECISION_TYPES
from routing.events import EVENT_TYPES

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _ts(*args: int) -> float:
    return dt.datetime(*args, tzinfo=SHANGHAI).timestamp()


def test_every_event_kind_is_registered_once() -> None:
    assert len({cls.kind for cls in EVENT_TYPES}) == len(EVENT_TYPES) >= 14
    assert len({cls.kind for cls in DECISION_TYPES}) == len(DECISION_TYPES) >= 11


@pytest.mark.parametrize(
    "event",
    [
        ConfigureQueue(
            skill="billing",
            strategy="round_robin",
            overflow_after_secs=30,
            overflow_skills=("general", "vip"),
            business_hours=BusinessHours(weekly=((0, "09:00", "18:00"),), holidays=("2026-10-01",)),
        ),
        AgentLoggedIn(agent_id="a1", skills={"billing": 3, "cards": 5}, capacity=3, now=1.5),
        SessionRequested(session_id="s1", customer_id="c1", skill="billing", priority=2, vip=True, now=3),
        TransferRequested(session_id="s1", from_agent="a1", to_skill="cards", now=4),
    ],
)
def test_event_json_round_trip(event: Event) -> None:
    data = json.loads(json.dumps(event.to_dict()))
    assert data["kind"] == event.kind
    assert Event.from_dict(data) == event


def test_decision_json_round_trip_and_text() -> None:
    decision = OfferSession(
        session_id="s1",
        agent_id="a2",
        skill="billing",
        expires_at=120.0,
        explanation=Explanation(
            summary="Offered s1 to a2",
            strategy="longest_idle",
            skill="billing",
            candidates=(
                Candidate(agent_id="a1", verdict="unavailable", reason="away"),
                Candidate(agent_id="a3", verdict="unavailable", reason="at capacity 3/3"),
                Candidate(agent_id="a2", verdict="chosen", reason="chosen: idle 312 s"),
            ),
            notes=("waited 4 s",),
        ),
    )
    assert Decision.from_dict(json.loads(json.dumps(decision.to_dict()))) == decision
    text = decision.explain_text()
    assert "a1: away" in text and "at capacity 3/3" in text and "chosen: idle 312 s" in text
    assert "longest idle" in text


def test_from_dict_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError):
        Event.from_dict({"kind": "nope"})
    with pytest.raises(ValueError):
        Decision.from_dict({"kind": "tick", "now": 1})


def test_business_hours_weekly_holidays_and_makeup_days() -> None:
    hours = BusinessHours(
        weekly=tuple((day, "09:00", "18:00") for day in range(5)),
        holidays=("2026-10-01",),
        makeup_workdays=("2026-09-27",),  # a Sunday worked in exchange for the National Day week
    )
    assert hours.is_open(_ts(2026, 9, 29, 10, 0))  # Tuesday 10:00 local
    assert not hours.is_open(_ts(2026, 9, 29, 18, 0))  # closing time is exclusive
    assert not hours.is_open(_ts(2026, 9, 29, 8, 59))
    assert not hours.is_open(_ts(2026, 10, 1, 10, 0))  # holiday (Thursday)
    assert not hours.is_open(_ts(2026, 10, 4, 10, 0))  # Sunday
    assert hours.is_open(_ts(2026, 9, 27, 10, 0))  # make-up workday (Sunday)
    # 10:00 in Shanghai is 02:00 UTC: the local zone decides, not UTC.
    assert hours.is_open(dt.datetime(2026, 9, 29, 2, 0, tzinfo=dt.UTC).timestamp())
    assert BusinessHours.from_dict(json.loads(json.dumps(hours.to_dict()))) == hours


def test_business_hours_validation() -> None:
    with pytest.raises(ValueError):
        BusinessHours(weekly=((7, "09:00", "18:00"),))
    with pytest.raises(ValueError):
        BusinessHours(weekly=((1, "18:00", "09:00"),))


def test_one_agent_view_matches_the_full_stats() -> None:
    from routing import AgentLoggedIn, RoutingEngine

    engine = RoutingEngine()
    engine.apply(AgentLoggedIn(agent_id="a1", skills={"general": 4}, capacity=2, now=100.0))
    engine.apply(AgentLoggedIn(agent_id="a2", skills={"cards": 2}, capacity=1, status="away", now=101.0))
    assert engine.agent("a2", 130.0) == engine.agent_stats(130.0)["a2"]
    assert engine.agent("a2", 130.0)["time_in_status_s"] == 29.0
    assert engine.agent("nobody") is None
