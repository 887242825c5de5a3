"""The reports part of the store contract (运营报表), on every backend (see conftest.py): the
sums and counts of a range of sessions by skill, first agent and time bucket, the QA session
keys, and the durable agent-state log. Every figure is worked out by hand below, so SQLite and
MongoDB (mongomock) give the same rows because both give the right ones."""

from __future__ import annotations

import pytest

from store.records import AGENT_STATE_PIECE_SECS, REPORT_BUCKET_SECS

# A bucket boundary, so the bucket numbers are easy to read.
T0 = 1_700_000_100.0 - (1_700_000_100.0 % REPORT_BUCKET_SECS)
B0 = int(T0 // REPORT_BUCKET_SECS)
SLA = {"billing": 20.0}
DEFAULT_SLA = 30.0


async def _session(store, sid, skill, queued, accepted=None, closed=None, state="closed", reason="closed",
                   agents=(), transfers=0, csat=None, replies=(), **extra):
    rec = {"id": sid, "openid": f"o-{sid}", "skill": skill, "state": state, "created_at": queued,
           "queued_at": queued, "accepted_at": accepted, "closed_at": closed, "close_reason": reason,
           "agents": list(agents), "agent_id": agents[-1] if agents else None,
           "transfers": [{"kind": "agent", "from": "x", "ts": queued} for _ in range(transfers)], **extra}
    if csat is not None:
        rec["csat"] = {"score": csat, "at": (closed or queued) + 5}
    await store.create_session(rec)
    await store.add_message({"session_id": sid, "direction": "in", "author": "customer", "text": "hi",
                             "ts": queued})
    for ts in replies:
        await store.add_message({"session_id": sid, "direction": "out", "author": "agent", "author_id": agents[0],
                                 "text": "hello", "ts": ts})


async def _fill(store):
    # billing, SLA 20 s
    await _session(store, "s1", "billing", T0, T0 + 10, T0 + 110, agents=["a1"], replies=[T0 + 14, T0 + 30],
                   csat=5)
    await _session(store, "s2", "billing", T0 + 60, T0 + 90, T0 + 290, agents=["a1", "a2"], transfers=1,
                   replies=[T0 + 100], csat=2)
    await _session(store, "s3", "billing", T0 + 100, None, T0 + 105, reason="abandoned")  # within SLA
    await _session(store, "s4", "billing", T0 + 1000, None, T0 + 1050, state="diverted", reason="max_wait")
    # general, SLA 30 s (the default); s5 still being handled, s6 a leave-message, s7 a bot session
    await _session(store, "s5", "general", T0 + 1100, T0 + 1140, None, state="assigned", reason=None,
                   agents=["a2"])
    await _session(store, "s6", "general", T0 + 1200, None, T0 + 1200, state="diverted", reason="out_of_hours")
    await _session(store, "s7", "general", T0 + 1300, None, None, state="bot", reason=None)
    await _session(store, "s8", "general", T0 + 5000, T0 + 5001, T0 + 5100, agents=["a1"])  # out of range
    await _session(store, "s0", "general", T0 - 1, T0 + 3, T0 + 50, agents=["a1"])  # before the range


def _by_key(rows):
    return {r["key"]: r for r in rows}


@pytest.mark.gen_test
async def test_report_partials_by_skill_agent_and_bucket(store):
    await _fill(store)
    rows = _by_key(await store.report_partials(T0, T0 + 5000, "skill", SLA, DEFAULT_SLA))
    assert rows == {
        "billing": {"key": "billing", "offered": 4, "answered": 2, "answered_in_sla": 1, "abandoned": 2,
                    "abandoned_after_sla": 1, "wait_sum": 40.0, "handle_sum": 300.0, "handle_n": 2,
                    "frt_sum": 14.0, "frt_n": 2, "transfers": 1, "csat_sum": 7.0, "csat_n": 2},
        "general": {"key": "general", "offered": 2, "answered": 1, "answered_in_sla": 0, "abandoned": 0,
                    "abandoned_after_sla": 0, "wait_sum": 40.0, "handle_sum": 0.0, "handle_n": 0,
                    "frt_sum": 0.0, "frt_n": 0, "transfers": 0, "csat_sum": 0.0, "csat_n": 0},
    }
    agents = _by_key(await store.report_partials(T0, T0 + 5000, "agent", SLA, DEFAULT_SLA))
    assert set(agents) == {"a1", "a2", None}
    assert (agents["a1"]["offered"], agents["a1"]["answered"], agents["a1"]["transfers"]) == (2, 2, 1)
    assert (agents["a2"]["offered"], agents["a2"]["wait_sum"]) == (1, 40.0)
    assert (agents[None]["offered"], agents[None]["abandoned"]) == (3, 2)
    buckets = _by_key(await store.report_partials(T0, T0 + 5000, "bucket", SLA, DEFAULT_SLA))
    assert {k: r["offered"] for k, r in buckets.items()} == {str(B0): 3, str(B0 + 1): 3}
    # A team's scope keeps the sessions its agents answered first.
    scoped = _by_key(await store.report_partials(T0, T0 + 5000, "skill", SLA, DEFAULT_SLA, agent_ids=["a2"]))
    assert {k: r["offered"] for k, r in scoped.items()} == {"general": 1}
    assert await store.report_partials(T0, T0 + 5000, "skill", SLA, DEFAULT_SLA, agent_ids=[]) == []
    # No SLA map at all: the default for every skill.
    flat = _by_key(await store.report_partials(T0, T0 + 5000, "skill", {}, 4.0))
    assert flat["billing"]["answered_in_sla"] == 0 and flat["billing"]["abandoned_after_sla"] == 2


@pytest.mark.gen_test
async def test_report_session_keys_are_the_answered_closed_sessions(store):
    await _fill(store)
    keys = sorted(await store.report_session_keys(T0, T0 + 5000, "agent"))
    assert keys == [("s1", "a1"), ("s2", "a1")]
    assert sorted(await store.report_session_keys(T0, T0 + 5000, "bucket")) == [("s1", str(B0)), ("s2", str(B0))]
    assert await store.report_session_keys(T0, T0 + 5000, "skill", agent_ids=["a2"]) == []
    assert await store.qa_totals_by_session(["s1"]) == {}  # no reviews (the QA feature fills it)


@pytest.mark.gen_test
async def test_agent_state_log_durations_clip_to_the_range(store):
    day = AGENT_STATE_PIECE_SECS
    start = T0 - (T0 % day)  # a piece boundary
    await store.append_agent_state("a1", "available", start + 100)
    await store.append_agent_state("a1", "available", start + 150)  # same state: nothing changes
    await store.append_agent_state("a1", "busy", start + 200)
    await store.append_agent_state("a1", "wrapup", start + 260)
    await store.append_agent_state("a1", "away", start + 300)
    await store.append_agent_state("a2", "offline", start - 3 * day)  # open for days, then available
    await store.append_agent_state("a2", "available", start + 50)
    await store.append_agent_state("a3", "away", start - 10 * day)  # still open
    totals = await store.agent_state_totals(start, start + 1000, now=start + 400)
    assert totals == {"a1": {"available": 100.0, "busy": 60.0, "wrapup": 40.0, "away": 100.0},
                      "a2": {"offline": 50.0, "available": 350.0}, "a3": {"away": 400.0}}
    # A range in the middle of a long interval: the piece that spans it is found.
    assert await store.agent_state_totals(start - 2 * day + 10, start - 2 * day + 20, now=start + 400,
                                          agent_ids=["a2"]) == {"a2": {"offline": 10.0}}
    later = await store.agent_state_totals(start + 250, start + 5000, now=start + 5000, agent_ids={"a1", "a3"})
    assert later == {"a1": {"busy": 10.0, "wrapup": 40.0, "away": 4700.0}, "a3": {"away": 4750.0}}
    assert await store.agent_state_totals(start, start + 1000, now=start + 400, agent_ids=[]) == {}
