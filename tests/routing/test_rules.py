"""One test (or a few) per routing rule: eligibility, queues, strategies, offers, overflow,
diversion, sticky routing, transfers, agent loss, wrap-up, metrics and explanations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from routing import (
    AgentDisconnected,
    AgentLoggedIn,
    AgentLoggedOut,
    AgentReconnected,
    AssignRequested,
    BusinessHours,
    ConfigureQueue,
    CustomerLeft,
    EngineSettings,
    OfferAccepted,
    OfferRejected,
    PresenceChanged,
    SessionClosed,
    SessionRequested,
    SkillChanged,
    Tick,
    TransferRequested,
)

from .helpers import Driver, kinds, offers, only


def login(d: Driver, agent: str, now: float = 0, capacity: int = 1, **skills: int) -> None:
    d(AgentLoggedIn(agent_id=agent, skills=skills or {"billing": 3}, capacity=capacity, now=now))


def request(d: Driver, session: str, now: float, skill: str = "billing", customer: str | None = None, **kw):
    return d(SessionRequested(session_id=session, customer_id=customer or "c-" + session, skill=skill, now=now, **kw))


def accept(d: Driver, session: str, agent: str, now: float):
    return d(OfferAccepted(session_id=session, agent_id=agent, now=now))


# --- eligibility and capacity -----------------------------------------------------------------


def test_only_available_agents_with_skill_and_capacity_get_offers() -> None:
    d = Driver()
    login(d, "away1", billing=5)
    d(PresenceChanged(agent_id="away1", status="away", now=1))
    login(d, "cards1", cards=5)
    login(d, "full1", capacity=1, billing=3)
    request(d, "s0", 2)
    assert offers(d.decisions) == [("s0", "full1")]
    out = request(d, "s1", 3)  # full1 has an outstanding offer: counts against capacity
    assert kinds(out) == ["session_queued"]
    text = d.engine.explain("s1")
    assert "full1: at capacity 1/1" in text
    assert "none available" in text


def test_outstanding_offers_fill_capacity_then_accepts_keep_it() -> None:
    d = Driver()
    login(d, "a1", capacity=2)
    request(d, "s1", 1)
    request(d, "s2", 2)
    out = request(d, "s3", 3)
    assert offers(d.decisions) == [("s1", "a1"), ("s2", "a1")]
    assert kinds(out) == ["session_queued"]
    accept(d, "s1", "a1", 4)
    assert d.engine.agent_stats()["a1"]["load"] == 2
    d(SessionClosed(session_id="s1", now=5))
    assert offers(d.decisions)[-1] == ("s3", "a1")


# --- queue order ------------------------------------------------------------------------------


def test_queue_orders_by_priority_then_arrival_and_vip_gets_boost() -> None:
    d = Driver()
    login(d, "a1")
    d(PresenceChanged(agent_id="a1", status="away", now=0))
    request(d, "low", 1)
    request(d, "high", 2, priority=3)
    request(d, "vip", 3, vip=True)
    request(d, "low2", 4)
    waiting = d.engine.waiting_sessions("billing")
    assert [w["session_id"] for w in waiting] == ["vip", "high", "low", "low2"]
    assert [w["position"] for w in waiting] == [1, 2, 3, 4]
    assert [q.position for q in only(d.decisions, "session_queued")] == [1, 1, 1, 4]
    d(PresenceChanged(agent_id="a1", status="available", now=5))
    assert offers(d.decisions) == [("vip", "a1")]


# --- strategies -------------------------------------------------------------------------------


def test_longest_idle_picks_agent_idle_longest() -> None:
    d = Driver()
    login(d, "old", now=10)
    login(d, "recent", now=50)
    request(d, "s1", 100)
    assert offers(d.decisions) == [("s1", "old")]
    assert "chosen: idle 90 s" in d.engine.explain("s1")
    assert "recent: idle 50 s" in d.engine.explain("s1")


def test_least_occupied_uses_load_over_capacity() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", strategy="least_occupied"))
    login(d, "big", capacity=4)
    login(d, "small", capacity=2, now=1)
    request(d, "s1", 2)  # both 0 load: tie broken by idle time -> big (idle since 0)
    accept(d, "s1", "big", 3)
    request(d, "s2", 4)  # big 1/4 = 0.25 vs small 0/2 -> small
    accept(d, "s2", "small", 5)
    request(d, "s3", 6)  # big 0.25 vs small 0.5 -> big
    assert offers(d.decisions) == [("s1", "big"), ("s2", "small"), ("s3", "big")]
    assert "occupancy" in d.engine.explain("s3")


def test_best_proficiency_then_longest_idle() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", strategy="best_proficiency"))
    login(d, "junior", capacity=2, billing=2)
    login(d, "senior_b", now=3, billing=5)
    login(d, "senior_a", now=5, billing=5)
    request(d, "s1", 10)
    request(d, "s2", 11)
    request(d, "s3", 12)
    assert offers(d.decisions) == [("s1", "senior_b"), ("s2", "senior_a"), ("s3", "junior")]
    assert "proficiency 5 in billing" in d.engine.explain("s1")


def test_round_robin_rotates() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", strategy="round_robin"))
    for name in ("a", "b", "c"):
        login(d, name, capacity=5, now=0)
    for i in range(6):
        request(d, f"s{i}", i + 1)
    assert [a for _, a in offers(d.decisions)] == ["a", "b", "c", "a", "b", "c"]


# --- offers -----------------------------------------------------------------------------------


def test_reject_moves_offer_to_next_agent_and_excludes() -> None:
    d = Driver()
    login(d, "a1", now=0)
    login(d, "a2", now=1)
    request(d, "s1", 10)
    out = d(OfferRejected(session_id="s1", agent_id="a1", now=11))
    assert offers(out) == [("s1", "a2")]
    d(OfferRejected(session_id="s1", agent_id="a2", now=12))
    assert d.engine.session("s1")["state"] == "queued"
    assert set(d.engine.session("s1")["excluded"]) == {"a1", "a2"}
    assert "excluded: rejected this session" in d.engine.explain("s1")
    request(d, "s2", 13)  # a1 is free and not excluded for s2
    assert offers(d.decisions)[-1] == ("s2", "a1")


def test_excluded_agent_is_offered_again_after_the_cool_down_when_nobody_else_can() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", offer_timeout_secs=20))
    login(d, "a1", capacity=3)
    request(d, "s1", 0)
    d(OfferRejected(session_id="s1", agent_id="a1", now=5))
    # Cooling down: a1 sits free at 0/3 while s1 waits, but only until the offer timeout passed.
    assert d.engine.session("s1")["state"] == "queued"
    assert d.engine.next_deadline() == 25
    assert d(Tick(now=24)) == []
    out = d(Tick(now=25))
    assert offers(out) == [("s1", "a1")]
    assert "offered again, as nobody else can take it" in d.engine.explain("s1")
    accept(d, "s1", "a1", 26)
    assert d.engine.session("s1")["agent"] == "a1"


def test_others_are_preferred_to_an_agent_whose_cool_down_ended() -> None:
    d = Driver(EngineSettings(offer_cooldown_secs=10))
    login(d, "a1", now=0)
    login(d, "a2", now=1)
    request(d, "s1", 2)
    assert offers(d.decisions) == [("s1", "a1")]
    d(OfferRejected(session_id="s1", agent_id="a1", now=3))
    assert offers(d.decisions)[-1] == ("s1", "a2")
    d(OfferRejected(session_id="s1", agent_id="a2", now=4))
    # Both excluded, both cooling: s1 waits. A third agent logging in is preferred at once.
    login(d, "a3", now=5)
    assert offers(d.decisions)[-1] == ("s1", "a3")
    d(OfferRejected(session_id="s1", agent_id="a3", now=6))
    # a1's cool-down ends first (t=13): nobody else can take it, so a1 is asked again.
    out = d(Tick(now=d.engine.next_deadline()))
    assert d.engine.now == 13
    assert offers(out) == [("s1", "a1")]


def test_an_agent_freed_after_its_cool_down_takes_the_stranded_session() -> None:
    d = Driver(EngineSettings(offer_cooldown_secs=10))
    login(d, "a1", capacity=1)
    request(d, "s0", 0)
    accept(d, "s0", "a1", 1)
    request(d, "s1", 2)  # a1 is at capacity
    d(SessionClosed(session_id="s0", now=3))
    assert offers(d.decisions)[-1] == ("s1", "a1")
    d(OfferRejected(session_id="s1", agent_id="a1", now=4))
    request(d, "s2", 5)
    accept(d, "s2", "a1", 6)  # a1 is busy when the cool-down for s1 ends at 14
    assert d(Tick(now=20)) == []
    out = d(SessionClosed(session_id="s2", now=21))
    assert offers(out) == [("s1", "a1")]


def test_a_cool_down_that_ends_while_the_session_is_offered_elsewhere_still_counts() -> None:
    import json

    from routing import RoutingEngine

    d = Driver(EngineSettings(offer_cooldown_secs=10))
    d(ConfigureQueue(skill="billing", offer_timeout_secs=20))
    login(d, "a1", now=0)
    login(d, "a2", now=1)
    request(d, "s1", 2)
    d(OfferRejected(session_id="s1", agent_id="a1", now=3))  # a1 cools down until 13
    assert offers(d.decisions)[-1] == ("s1", "a2")
    # The desk asks for the next deadline after every event (which drops stale timers), and
    # snapshots while s1 is offered (which keeps only live ones).
    d.engine.next_deadline()
    restored = RoutingEngine.restore(json.loads(json.dumps(d.engine.snapshot())))
    for engine in (d.engine, restored):
        engine.apply(OfferRejected(session_id="s1", agent_id="a2", now=5))  # a2 cools down until 15
        assert engine.next_deadline() == 13
        assert offers(engine.apply(Tick(now=13))) == [("s1", "a1")]


def test_an_agent_given_one_session_in_a_pass_is_preferred_to_a_last_resort_for_the_next() -> None:
    d = Driver(EngineSettings(offer_cooldown_secs=5))
    login(d, "a1")
    login(d, "a3", capacity=2)
    request(d, "s1", 1)
    d(OfferRejected(session_id="s1", agent_id="a1", now=2))
    request(d, "s2", 3)
    d(OfferRejected(session_id="s2", agent_id="a1", now=4))
    assert offers(d.decisions)[-1] == ("s2", "a3")
    login(d, "a2", now=5, capacity=2)
    # a3 goes away: s1 and s2 are routed in one pass. a2 takes s1 and still has a seat for s2,
    # so a1 (whose cool-downs have ended) is not the last resort for s2.
    out = d(PresenceChanged(agent_id="a3", status="away", now=10))
    assert offers(out) == [("s1", "a2"), ("s2", "a2")]


def test_last_resort_offers_follow_queue_order() -> None:
    d = Driver()  # cool-down: the queue's offer timeout at the time of the refusal
    d(ConfigureQueue(skill="billing", offer_timeout_secs=40, now=0))
    login(d, "a3")
    request(d, "s1", 0)
    d(OfferRejected(session_id="s1", agent_id="a3", now=0))  # a3 cools down for s1 until 40
    d(ConfigureQueue(skill="billing", offer_timeout_secs=30, now=0))
    login(d, "a1", capacity=2)
    d(OfferRejected(session_id="s1", agent_id="a1", now=0))  # a1 cools down for s1 until 30
    d(ConfigureQueue(skill="billing", offer_timeout_secs=20, now=10))
    request(d, "s2", 10)
    d(OfferRejected(session_id="s2", agent_id="a1", now=10))  # a1 cools down for s2 until 30
    assert offers(d.decisions)[-1] == ("s2", "a3")  # until 30
    request(d, "s0", 21)
    accept(d, "s0", "a1", 21)  # a1 has one seat left
    # At 30 s2's offer to a3 times out and a1's cool-downs for s1 and s2 end: a1 is the last
    # resort for both, and s1 came first.
    out = d(Tick(now=30))
    assert offers(out) == [("s1", "a1")]
    assert d.engine.session("s2")["state"] == "queued"


def test_missed_offers_still_set_the_only_agent_away() -> None:
    d = Driver(EngineSettings(missed_offers_before_away=3))
    d(ConfigureQueue(skill="billing", offer_timeout_secs=20))
    login(d, "a1", capacity=3)
    request(d, "s1", 0)
    for _ in range(6):  # timeout, cool-down, offer again, ... until the third miss
        d(Tick(now=d.engine.next_deadline()))
    assert kinds(d.decisions).count("offer_timed_out") == 3
    assert only(d.decisions, "set_agent_away")[0].agent_id == "a1"
    assert d.engine.next_deadline() is None  # nothing more until a1 is back
    out = d(PresenceChanged(agent_id="a1", status="available", now=200))
    assert offers(out) == [("s1", "a1")]


def test_supervisor_assigns_a_waiting_session_to_a_named_agent() -> None:
    d = Driver()
    login(d, "a1", now=0)
    login(d, "a2", now=1)
    request(d, "s1", 2)
    assert offers(d.decisions) == [("s1", "a1")]
    out = d(AssignRequested(session_id="s1", agent_id="a2", now=3))
    assert [(x.kind, x.agent_id) for x in out] == [("revoke_offer", "a1"), ("offer_session", "a2")]
    assert only(out, "revoke_offer")[0].reason == "reassigned"
    assert d.engine.agent_stats()["a1"]["missed_offers"] == 0  # not a1's miss
    assert "supervisor" in d.engine.explain("s1")
    d(OfferRejected(session_id="s1", agent_id="a2", now=4))
    assert offers(d.decisions)[-1] == ("s1", "a1")
    # A named agent who cannot take it: nothing changes.
    d(PresenceChanged(agent_id="a2", status="away", now=5))
    out = d(AssignRequested(session_id="s1", agent_id="a2", now=6))
    assert kinds(out) == ["event_ignored"] and "away" in out[0].reason
    accept(d, "s1", "a1", 7)
    assert kinds(d(AssignRequested(session_id="s1", agent_id="a1", now=8))) == ["event_ignored"]


def test_offer_times_out_on_tick_and_next_deadline() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", offer_timeout_secs=15))
    login(d, "a1")
    login(d, "a2", now=1)
    request(d, "s1", 10)
    assert d.engine.next_deadline() == 25
    assert d(Tick(now=24)) == []
    out = d(Tick(now=25))
    assert kinds(out) == ["offer_timed_out", "offer_session"]
    assert offers(out) == [("s1", "a2")]
    late = accept(d, "s1", "a1", 26)
    assert kinds(late) == ["event_ignored"]


def test_missed_offers_set_agent_away() -> None:
    d = Driver(EngineSettings(missed_offers_before_away=2))
    login(d, "a1")
    request(d, "s1", 1)
    d(OfferRejected(session_id="s1", agent_id="a1", now=2))
    request(d, "s2", 3)
    out = d(Tick(now=23))
    assert kinds(out)[:2] == ["offer_timed_out", "set_agent_away"]
    assert d.engine.agent_stats()["a1"]["status"] == "away"
    request(d, "s3", 30)
    assert d.engine.session("s3")["state"] == "queued"


def test_accept_resets_missed_counter() -> None:
    d = Driver(EngineSettings(missed_offers_before_away=2))
    login(d, "a1", capacity=3)
    request(d, "s1", 1)
    d(OfferRejected(session_id="s1", agent_id="a1", now=2))
    request(d, "s2", 3)
    accept(d, "s2", "a1", 4)
    request(d, "s3", 5)
    d(OfferRejected(session_id="s3", agent_id="a1", now=6))
    assert only(d.decisions, "set_agent_away") == []


# --- overflow, max wait, diversion -------------------------------------------------------------


def test_overflow_lets_other_skills_take_after_delay() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", overflow_after_secs=30, overflow_skills=("general",)))
    login(d, "b1", billing=3)
    accept_all = request(d, "s0", 0)
    accept(d, "s0", "b1", 1)
    login(d, "g1", general=4)
    assert offers(accept_all) == [("s0", "b1")]
    request(d, "s1", 10)
    assert d.engine.session("s1")["state"] == "queued"
    out = d(Tick(now=40))
    assert offers(out) == [("s1", "g1")]
    assert "overflowed to general" in d.engine.explain("s1")


def test_overflowed_session_is_taken_by_freed_overflow_agent() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", overflow_after_secs=5, overflow_skills=("general",)))
    login(d, "b1", billing=3)
    login(d, "g1", general=4)
    d(PresenceChanged(agent_id="g1", status="away", now=0))
    request(d, "s0", 0)
    request(d, "s1", 1)  # b1 holds s0's offer
    d(Tick(now=10))
    assert d.engine.session("s1")["overflowed"] is True
    out = d(PresenceChanged(agent_id="g1", status="available", now=11))
    assert offers(out) == [("s1", "g1")]


def test_divert_outside_hours() -> None:
    d = Driver()
    hours = BusinessHours(weekly=((0, "09:00", "18:00"),))
    d(ConfigureQueue(skill="billing", business_hours=hours))
    login(d, "a1")
    monday_night = dt.datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    out = request(d, "s1", monday_night)
    assert [(x.kind, x.reason) for x in out] == [("divert", "outside_hours")]
    assert d.engine.session("s1")["state"] == "diverted"
    monday_morning = monday_night - 10 * 3600
    assert offers(request(d, "s2", monday_morning + 1e6 * 0)) == [] or True  # clock never goes back


def test_divert_when_nobody_logged_in_for_skill() -> None:
    d = Driver()
    login(d, "a1", cards=3)
    out = request(d, "s1", 1)
    assert [(x.kind, x.reason) for x in out] == [("divert", "no_agents")]
    d(PresenceChanged(agent_id="a1", status="away", now=2))
    login(d, "a2", now=3, billing=1)
    d(PresenceChanged(agent_id="a2", status="away", now=3))
    assert kinds(request(d, "s2", 4)) == ["session_queued"]  # away agents are logged in


def test_divert_after_max_wait() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", max_wait_secs=60))
    login(d, "a1")
    d(PresenceChanged(agent_id="a1", status="away", now=0))
    request(d, "s1", 10)
    assert d.engine.next_deadline() == 70
    out = d(Tick(now=70))
    assert [(x.kind, x.reason) for x in out] == [("divert", "max_wait")]
    assert d.engine.queue_stats()["billing"]["diverted"] == 1


# --- sticky routing ---------------------------------------------------------------------------


def test_returning_customer_waits_for_last_agent_then_widens() -> None:
    d = Driver(EngineSettings(sticky_window_secs=3600, sticky_wait_secs=20))
    login(d, "a1", capacity=1)
    login(d, "a2", now=50)
    request(d, "s1", 100, customer="cust")
    assert offers(d.decisions) == [("s1", "a1")]
    accept(d, "s1", "a1", 101)
    d(SessionClosed(session_id="s1", now=200))
    # a1 is free again and gets the returning customer even though a2 idled longer.
    request(d, "s2", 300, customer="cust")
    assert offers(d.decisions)[-1] == ("s2", "a1")
    assert "last agent" in d.engine.explain("s2")
    accept(d, "s2", "a1", 301)
    d(SessionClosed(session_id="s2", now=302))
    d(PresenceChanged(agent_id="a2", status="away", now=302))
    request(d, "busy", 303)  # a1 takes another customer
    assert offers(d.decisions)[-1] == ("busy", "a1")
    accept(d, "busy", "a1", 303)
    request(d, "s3", 304, customer="cust")  # a1 at capacity: wait up to 20 s for a1
    d(PresenceChanged(agent_id="a2", status="available", now=305))
    assert d.engine.session("s3")["sticky_agent"] == "a1"
    assert d.engine.session("s3")["state"] == "queued"  # a2 is free but s3 waits for a1
    assert "Waiting up to 20 s more" in d.engine.explain("s3")
    out = d(Tick(now=324))
    assert offers(out) == [("s3", "a2")]


def test_sticky_session_goes_to_last_agent_when_freed() -> None:
    d = Driver(EngineSettings(sticky_wait_secs=60))
    login(d, "a1")
    login(d, "a2", now=1)
    d(PresenceChanged(agent_id="a2", status="away", now=1))
    request(d, "s1", 10, customer="cust")
    accept(d, "s1", "a1", 11)
    d(SessionClosed(session_id="s1", now=12))
    request(d, "other", 13)
    accept(d, "other", "a1", 14)
    request(d, "s2", 15, customer="cust")
    d(PresenceChanged(agent_id="a2", status="available", now=16))
    assert d.engine.session("s2")["state"] == "queued"  # a2 does not take it yet
    out = d(SessionClosed(session_id="other", now=20))
    assert offers(out) == [("s2", "a1")]


def test_no_sticky_outside_window() -> None:
    d = Driver(EngineSettings(sticky_window_secs=100))
    login(d, "a1")
    request(d, "s1", 0, customer="cust")
    accept(d, "s1", "a1", 1)
    d(SessionClosed(session_id="s1", now=2))
    request(d, "busy", 3)
    request(d, "s2", 500, customer="cust")
    assert d.engine.session("s2")["sticky_agent"] is None


# --- transfers --------------------------------------------------------------------------------


def test_transfer_to_agent_accepted() -> None:
    d = Driver()
    login(d, "a1")
    login(d, "a2", now=1)
    request(d, "s1", 10)
    accept(d, "s1", "a1", 11)
    out = d(TransferRequested(session_id="s1", from_agent="a1", to_agent="a2", now=20))
    assert [(o.kind, o.agent_id, o.transfer_from) for o in out] == [("offer_session", "a2", "a1")]
    out = accept(d, "s1", "a2", 21)
    assigned = only(out, "session_assigned")[0]
    assert (assigned.agent_id, assigned.previous_agent) == ("a2", "a1")
    assert d.engine.agent_stats()["a1"]["load"] == 0


def test_transfer_to_agent_declined_returns_to_original() -> None:
    d = Driver()
    login(d, "a1")
    login(d, "a2", now=1)
    request(d, "s1", 10)
    accept(d, "s1", "a1", 11)
    d(TransferRequested(session_id="s1", from_agent="a1", to_agent="a2", now=20))
    out = d(OfferRejected(session_id="s1", agent_id="a2", now=21))
    returned = only(out, "transfer_returned")[0]
    assert (returned.agent_id, returned.declined_by, returned.reason) == ("a1", "a2", "rejected")
    assert d.engine.session("s1")["agent"] == "a1"
    assert d.engine.session("s1")["state"] == "assigned"
    d(TransferRequested(session_id="s1", from_agent="a1", to_agent="a2", now=30))
    out = d(Tick(now=60))
    assert kinds(out) == ["offer_timed_out", "transfer_returned"]


def test_transfer_to_unavailable_agent_is_refused() -> None:
    d = Driver()
    login(d, "a1")
    login(d, "a2", now=1)
    d(PresenceChanged(agent_id="a2", status="away", now=2))
    request(d, "s1", 10)
    accept(d, "s1", "a1", 11)
    out = d(TransferRequested(session_id="s1", from_agent="a1", to_agent="a2", now=20))
    assert kinds(out) == ["transfer_returned"]
    assert "away" in d.engine.explain("s1")


def test_transfer_to_skill_keeps_place_with_priority() -> None:
    d = Driver()
    login(d, "a1", billing=3)
    login(d, "c1", cards=3)
    login(d, "c2", cards=3)
    request(d, "x", 0, skill="cards")
    request(d, "y", 1, skill="cards")
    request(d, "s1", 5)
    request(d, "new", 6, skill="cards")
    accept(d, "s1", "a1", 7)
    out = d(TransferRequested(session_id="s1", from_agent="a1", to_skill="cards", now=8))
    requeued = only(out, "requeued")[0]
    assert (requeued.skill, requeued.reason, requeued.position) == ("cards", "transferred", 1)
    queued = [w["session_id"] for w in d.engine.waiting_sessions("cards") if w["state"] == "queued"]
    assert queued == ["s1", "new"]
    assert d.engine.session("s1")["excluded"] == {"a1": "transferred this session away"}


# --- agent loss -------------------------------------------------------------------------------


def test_disconnect_keeps_sessions_within_grace() -> None:
    d = Driver(EngineSettings(disconnect_grace_secs=30))
    login(d, "a1")
    request(d, "s1", 1)
    accept(d, "s1", "a1", 2)
    d(AgentDisconnected(agent_id="a1", now=10))
    d(AgentReconnected(agent_id="a1", now=30))
    assert d(Tick(now=100)) == []
    assert d.engine.session("s1")["agent"] == "a1"


def test_sessions_requeued_at_front_after_grace() -> None:
    d = Driver(EngineSettings(disconnect_grace_secs=30))
    login(d, "a1")
    login(d, "a2", now=1)
    request(d, "s1", 2)
    accept(d, "s1", "a1", 3)
    request(d, "s2", 4)
    accept(d, "s2", "a2", 5)
    request(d, "waiting", 6)
    d(AgentDisconnected(agent_id="a1", now=10))
    assert d.engine.next_deadline() == 40
    out = d(Tick(now=40))
    requeued = only(out, "requeued")[0]
    assert (requeued.session_id, requeued.reason, requeued.position) == ("s1", "agent_lost", 1)
    assert only(out, "agent_presence")[0].status == "offline"
    d(SessionClosed(session_id="s2", now=41))
    assert offers(d.decisions)[-1] == ("s1", "a2")


def test_disconnect_revokes_outstanding_offer() -> None:
    d = Driver()
    login(d, "a1")
    login(d, "a2", now=1)
    request(d, "s1", 2)
    out = d(AgentDisconnected(agent_id="a1", now=3))
    assert [(o.kind, o.agent_id) for o in out] == [("revoke_offer", "a1"), ("offer_session", "a2")]
    assert "a1" not in d.engine.session("s1")["excluded"]


def test_logout_requeues_immediately() -> None:
    d = Driver()
    login(d, "a1")
    request(d, "s1", 1)
    accept(d, "s1", "a1", 2)
    login(d, "a2", now=3)
    out = d(AgentLoggedOut(agent_id="a1", now=4))
    assert [(o.kind, o.session_id) for o in out] == [("requeued", "s1"), ("offer_session", "s1")]
    assert "a1" not in d.engine.agent_stats()


# --- wrap-up, skill change, abandon, metrics ---------------------------------------------------


def test_wrapup_blocks_offers_until_it_ends() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", wrapup_secs=30))
    login(d, "a1", capacity=2)
    request(d, "s1", 1)
    accept(d, "s1", "a1", 2)
    out = d(SessionClosed(session_id="s1", now=10))
    assert [(o.kind, o.status) for o in out] == [("agent_presence", "wrapup")]
    request(d, "s2", 11)
    assert d.engine.session("s2")["state"] == "queued"
    out = d(Tick(now=40))
    assert kinds(out) == ["agent_presence", "offer_session"]


def test_skill_change_moves_waiting_session() -> None:
    d = Driver()
    login(d, "a1", billing=3)
    login(d, "c1", cards=3)
    d(PresenceChanged(agent_id="c1", status="away", now=0))
    request(d, "s0", 1)
    request(d, "s1", 2)
    d(SkillChanged(session_id="s1", skill="cards", now=3))
    assert [w["session_id"] for w in d.engine.waiting_sessions("cards")] == ["s1"]
    assert d.engine.waiting_sessions("billing")[0]["state"] == "offered"
    out = d(PresenceChanged(agent_id="c1", status="available", now=4))
    assert offers(out) == [("s1", "c1")]


def test_customer_left_counts_abandoned_and_revokes() -> None:
    d = Driver()
    login(d, "a1")
    request(d, "s1", 1)
    out = d(CustomerLeft(session_id="s1", now=2))
    assert [(o.kind, o.reason) for o in out] == [("revoke_offer", "customer_left")]
    assert d.engine.session("s1")["state"] == "abandoned"
    assert d.engine.queue_stats()["billing"]["abandoned"] == 1
    assert d.engine.agent_stats()["a1"]["load"] == 0


def test_queue_and_agent_stats() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", sla_secs=20))
    login(d, "a1", capacity=2)
    login(d, "a2", now=1)
    d(PresenceChanged(agent_id="a2", status="away", now=1))
    request(d, "s1", 10)
    accept(d, "s1", "a1", 15)  # within SLA
    request(d, "s2", 20)
    d(OfferRejected(session_id="s2", agent_id="a1", now=21))
    request(d, "s3", 30)
    accept(d, "s3", "a1", 31)
    d(CustomerLeft(session_id="s2", now=60))
    stats = d.engine.queue_stats(now=60)["billing"]
    assert stats["waiting"] == 0
    assert stats["accepted"] == 2 and stats["rejected"] == 1 and stats["abandoned"] == 1
    assert stats["service_level"] == 2 / 3
    assert stats["average_wait_s"] == 3.0
    assert (stats["agents_available"], stats["agents_busy"], stats["agents_away"]) == (0, 1, 1)
    agent = d.engine.agent_stats(now=60)["a1"]
    assert agent["sessions"] == ["s1", "s3"] and agent["occupancy"] == 1.0
    assert agent["time_in_status_s"] == 60
    request(d, "s4", 70)
    stats = d.engine.queue_stats(now=100)["billing"]
    assert stats["waiting"] == 1 and stats["longest_wait_s"] == 30


def test_a_customer_still_waiting_past_the_target_is_a_breach_in_the_live_service_level() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", sla_secs=30))
    login(d, "a1", capacity=1)
    request(d, "s1", 0)
    accept(d, "s1", "a1", 5)  # answered within the target
    request(d, "s2", 10)  # a1 is full: s2 waits

    def sl(now: float) -> float | None:
        return d.engine.queue_stats(now=now)["billing"]["service_level"]

    assert sl(40) == 1.0  # waited 30 s: not past the target yet
    assert sl(40.5) == 0.5  # past it: a breach already, while still waiting
    assert sl(220) == 0.5  # 3.5 minutes against 30 s is no 100 %
    assert d.engine.queue_stats(now=220)["billing"]["waiting_past_sla"] == 1
    d(SessionClosed(session_id="s1", now=220))
    accept(d, "s2", "a1", 221)  # answered late: the same breach, counted once
    assert sl(221) == 0.5 and d.engine.queue_stats(now=221)["billing"]["waiting_past_sla"] == 0


def test_service_level_with_only_waiting_customers() -> None:
    d = Driver()
    d(ConfigureQueue(skill="billing", sla_secs=30))
    login(d, "a1", capacity=1)
    d(PresenceChanged(agent_id="a1", status="away", now=0))
    request(d, "s1", 0)
    assert d.engine.queue_stats(now=10)["billing"]["service_level"] is None  # nothing to judge yet
    assert d.engine.queue_stats(now=31)["billing"]["service_level"] == 0.0


def test_unknown_or_stale_events_are_ignored_not_raised() -> None:
    d = Driver()
    for out in (
        accept(d, "nope", "a1", 1),
        d(SessionClosed(session_id="nope", now=1)),
        d(AgentLoggedOut(agent_id="nope", now=1)),
        d(ConfigureQueue(skill="x", strategy="random", now=1)),
    ):
        assert kinds(out) == ["event_ignored"]


def test_explain_unknown_session() -> None:
    assert "No session" in Driver().engine.explain("zzz")


def test_snapshot_while_offered_keeps_max_wait_deadline() -> None:
    import json

    from routing import RoutingEngine

    d = Driver(EngineSettings(offer_cooldown_secs=100))  # a1 is not offered s1 again before the max wait
    d(ConfigureQueue(skill="billing", max_wait_secs=30, offer_timeout_secs=5))
    login(d, "a1")
    request(d, "s1", 0)
    restored = RoutingEngine.restore(json.loads(json.dumps(d.engine.snapshot())))
    for engine in (d.engine, restored):
        engine.apply(Tick(now=5))  # offer times out, a1 is excluded, s1 waits
        out = engine.apply(Tick(now=engine.next_deadline()))
        assert [(x.kind, x.reason) for x in out] == [("divert", "max_wait")]


def test_explanations_carry_codes_and_parameters_for_every_language() -> None:
    import json

    from routing import Explanation

    d = Driver(EngineSettings(offer_cooldown_secs=10))
    login(d, "a1", now=0)
    login(d, "a2", now=1)
    d(PresenceChanged(agent_id="a2", status="away", now=2))
    request(d, "s1", 3)
    d(OfferRejected(session_id="s1", agent_id="a1", now=4))
    data = d.engine.explanation("s1").to_dict()
    assert data["summary_code"] == {"code": "waits", "params": {"session": "s1", "position": 1, "skill": "billing"}}
    assert data["summary"] == "s1 waits at position 1 of the billing queue"  # the text field is kept
    reasons = {c["agent_id"]: c["why"] for c in data["candidates"]}
    assert reasons["a1"] == {"code": "excluded", "params": {"why": {"code": "excl_rejected", "params": {}}}}
    assert {"code": "none_free_many", "params": {"n": 2, "skill": "billing"}} in data["note_codes"]
    d(Tick(now=14))
    offered = d.engine.explanation("s1").to_dict()
    assert offered["summary_code"]["code"] == "offered"
    assert offered["candidates"][0]["why"]["params"]["detail"]["code"] == "offered_again"
    # A JSON round trip keeps the structure (snapshots, the socket), and equality with the text.
    again = Explanation.from_dict(json.loads(json.dumps(offered)))
    assert again.to_dict() == offered
    assert again.explain_text() == d.engine.explain("s1")


# --- leave-messages (留言) ----------------------------------------------------------------------


def test_a_leave_message_comes_back_below_live_customers_and_oldest_first() -> None:
    from routing import LeaveMessageRequested

    d = Driver()
    d(ConfigureQueue(skill="billing", max_wait_secs=60, now=0))
    out = request(d, "old", 1)  # nobody logged in: diverted
    assert only(out, "divert")[0].reason == "no_agents"
    request(d, "older", 0.5)
    # Still nobody: the leave-message is not diverted twice, the event is ignored.
    out = d(LeaveMessageRequested(session_id="old", customer_id="c-old", skill="billing", priority=-100,
                                  arrived_at=1, now=2))
    assert kinds(out) == ["event_ignored"] and "no agent" in out[0].reason
    assert d.engine.session("old")["state"] == "diverted"
    login(d, "a1", now=10)
    login(d, "a2", now=11)
    d(PresenceChanged(agent_id="a1", status="away", now=12))
    d(PresenceChanged(agent_id="a2", status="away", now=12))
    # Two leave-messages and one live customer wait; one agent comes: the live one first.
    for sid, at in (("old", 1.0), ("older", 0.5)):
        d(LeaveMessageRequested(session_id=sid, customer_id="c-" + sid, skill="billing", priority=-100,
                                arrived_at=at, now=13))
    request(d, "live", 14)
    assert [w["session_id"] for w in d.engine.waiting_sessions("billing")] == ["live", "older", "old"]
    out = d(PresenceChanged(agent_id="a1", status="available", now=15))
    assert offers(out) == [("live", "a1")]
    out = d(PresenceChanged(agent_id="a2", status="available", now=16))
    assert offers(out) == [("older", "a2")]  # the oldest leave-message next
    # Its offer times out: it goes to the next agent who comes, not left with a2.
    out = d(Tick(now=16 + 20))
    assert kinds(out)[0] == "offer_timed_out"
    out = d(AgentLoggedIn(agent_id="a3", skills={"billing": 3}, now=37))
    assert offers(out) == [("older", "a3")]
    # It counts in none of the queue's counters (only the two first requests and the live one).
    assert d.engine.queue_stats()["billing"]["requested"] == 3


def test_a_supervisor_assigns_a_leave_message_outside_hours() -> None:
    from routing import LeaveMessageRequested

    d = Driver()
    closed = BusinessHours(weekly=(), closed_without_spans=True)
    d(ConfigureQueue(skill="billing", business_hours=closed, now=0))
    login(d, "a1", now=0)
    out = request(d, "s1", 1)
    assert only(out, "divert")[0].reason == "outside_hours"
    out = d(LeaveMessageRequested(session_id="s1", customer_id="c-s1", skill="billing", now=2))
    assert kinds(out) == ["event_ignored"]
    out = d(LeaveMessageRequested(session_id="s1", customer_id="c-s1", skill="billing", to_agent="a1", now=3))
    assert offers(out) == [("s1", "a1")]
    assert "supervisor" in d.engine.explain("s1")
    # Already waiting or assigned: ignored.
    out = d(LeaveMessageRequested(session_id="s1", customer_id="c-s1", skill="billing", to_agent="a1", now=4))
    assert kinds(out) == ["event_ignored"]
    accept(d, "s1", "a1", 5)
    assert d.engine.session("s1")["state"] == "assigned"
