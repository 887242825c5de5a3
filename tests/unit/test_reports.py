"""Reports (运营报表) without a server: the question's checks, local days and hours from the store's
15-minute buckets in any zone (daylight saving included), teams, the row arithmetic, occupancy and
the agent state the log records."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from desk.agent_states import state_of
from desk.errors import ValidationError
from desk.reports import Reports, merge, occupancy_row, parse_by, parse_format, parse_range, row_of
from desk.teams import Teams
from store.records import REPORT_BUCKET_SECS

NY = zoneinfo.ZoneInfo("America/New_York")


def _field(fn, *args):
    with pytest.raises(ValidationError) as info:
        fn(*args)
    return info.value.field


def test_a_range_is_checked_and_dates_are_midnights_in_the_zone() -> None:
    span = parse_range("2026-03-02", "2026-03-03", None)
    assert span.since == dt.datetime(2026, 3, 2, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")).timestamp()
    assert span.until - span.since == 86400
    assert parse_range("2026-03-02T01:00:00Z", "2026-03-02T10:00:00+08:00", "UTC").until - \
        parse_range("2026-03-02T01:00:00Z", "2026-03-02T10:00:00+08:00", "UTC").since == 3600
    assert parse_range("2024-01-01", "2025-01-01", None)  # 366 days: a leap year
    assert _field(parse_range, "2024-01-01", "2025-01-02", None) == "to"
    assert _field(parse_range, "2026-03-02", "2026-03-02", None) == "to"
    assert _field(parse_range, "2026-03-02T09:00:00", "2026-03-03", None) == "from"
    assert _field(parse_range, "2026-03-02", "", None) == "to"
    assert _field(parse_range, "2026-03-02", "2026-03-03", "Nowhere/City") == "tz"
    assert _field(parse_by, "week") == "by" and parse_by("hour") == "hour"
    assert _field(parse_format, "pdf") == "format" and parse_format(None) == "json"


def _partial(key, **sums):
    base = {"key": key, "offered": 0, "answered": 0, "answered_in_sla": 0, "abandoned": 0,
            "abandoned_after_sla": 0, "wait_sum": 0.0, "handle_sum": 0.0, "handle_n": 0, "frt_sum": 0.0,
            "frt_n": 0, "transfers": 0, "csat_sum": 0.0, "csat_n": 0}
    return {**base, **sums}


def test_buckets_fold_into_local_days_and_hours_across_a_daylight_saving_change() -> None:
    reports = Reports(None, None, Teams(None, lambda: 0.0), None, lambda: 0.0)  # type: ignore[arg-type]
    # 2026-03-08: New York moves from EST (UTC−5) to EDT (UTC−4) at 02:00 local.
    before = dt.datetime(2026, 3, 8, 6, 30, tzinfo=dt.UTC).timestamp()  # 01:30 EST
    after = dt.datetime(2026, 3, 8, 7, 15, tzinfo=dt.UTC).timestamp()  # 03:15 EDT
    late = dt.datetime(2026, 3, 9, 3, 45, tzinfo=dt.UTC).timestamp()  # 23:45 EDT on the 8th
    buckets = [str(int(t // REPORT_BUCKET_SECS)) for t in (before, after, late)]
    parts = [_partial(b, offered=1, answered=1, wait_sum=float(i * 10)) for i, b in enumerate(buckets)]
    hours = merge(parts, reports._key_of("hour", NY))
    assert sorted(hours) == ["01:00", "03:00", "23:00"]
    days = merge(parts, reports._key_of("day", NY))
    assert list(days) == ["2026-03-08"] and days["2026-03-08"]["offered"] == 3
    assert row_of(days["2026-03-08"])["asa_s"] == 10.0


def test_teams_group_agents_by_their_first_team_as_a_member() -> None:
    teams = Teams(None, lambda: 0.0)
    teams._teams = {"t1": {"id": "t1", "name": "乙组", "supervisors": ["a9"], "members": ["a1"]},
                    "t2": {"id": "t2", "name": "甲组", "supervisors": [], "members": ["a1", "a2"]}}
    reports = Reports(None, None, teams, None, lambda: 0.0)  # type: ignore[arg-type]
    key_of = reports._key_of("team", zoneinfo.ZoneInfo("UTC"))
    # a1 is in both: the first by name (乙 sorts before 甲); a9 only supervises.
    assert (key_of("a1"), key_of("a2"), key_of("a9"), key_of(None)) == ("乙组", "甲组", None, None)
    merged = merge([_partial("a1", offered=2), _partial("a2", offered=3), _partial(None, offered=1)], key_of)
    assert {k: p["offered"] for k, p in merged.items()} == {"乙组": 2, "甲组": 3, None: 1}


def test_a_row_from_sums_and_occupancy_from_state_times() -> None:
    row = row_of(_partial("general", offered=5, answered=3, answered_in_sla=2, abandoned=2, abandoned_after_sla=1,
                          wait_sum=65.0, handle_sum=720.0, handle_n=3, frt_sum=28.0, frt_n=3, transfers=1,
                          csat_sum=9.0, csat_n=2), qa=[80.0, 90.0, 100.0])
    assert row == {"key": "general", "offered": 5, "answered": 3, "abandoned": 2, "service_level": 0.5,
                   "asa_s": 21.67, "aht_s": 240.0, "frt_s": 9.33, "transfers": 1, "csat_avg": 4.5,
                   "csat_count": 2, "qa_avg": 90.0}
    empty = row_of(_partial("x", offered=1))
    assert (empty["service_level"], empty["asa_s"], empty["csat_avg"], empty["qa_avg"]) == (None, None, None, None)
    occ = occupancy_row("a1", "Alice", {"available": 300.0, "busy": 600.0, "wrapup": 100.0, "away": 50.0})
    assert occ["occupancy"] == 0.7 and occ["logged_in_s"] == 1050.0 and occ["offline_s"] == 0.0
    assert occupancy_row("a2", "Bob", {"offline": 10.0})["occupancy"] is None


def test_the_state_the_log_records() -> None:
    agent = {"status": "available", "sessions": []}
    assert state_of(None) == "offline"
    assert state_of(agent) == "available"
    assert state_of({**agent, "sessions": ["s1"]}) == "busy"
    assert state_of({**agent, "status": "wrapup", "sessions": ["s1"]}) == "wrapup"
    assert state_of({**agent, "status": "away", "sessions": ["s1"]}) == "away"
    assert state_of({**agent, "status": "offline"}) == "offline"
