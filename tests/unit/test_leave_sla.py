"""Leave-message SLA in business hours (desk/leave_sla.py): the clock stands still outside hours,
on holidays and on closed weekdays, and runs on 调休 make-up working days with Monday's hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from desk.leave_sla import due_at, next_open

SH = ZoneInfo("Asia/Shanghai")
HOURS = {"timezone": "Asia/Shanghai",
         "weekly": {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
         "holidays": ["2026-10-01", "2026-10-02"], "workdays": ["2026-10-10"]}


def at(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH).timestamp()


def local(ts: float | None) -> str:
    assert ts is not None
    return dt.datetime.fromtimestamp(ts, SH).strftime("%Y-%m-%d %H:%M")


def test_always_open_counts_wall_clock_time() -> None:
    assert due_at(1000.0, 3600, None) == 4600.0
    assert next_open(1000.0, None) == 1000.0


def test_a_message_left_at_night_is_due_after_the_next_mornings_hours() -> None:
    # Tuesday 22:00 + 4 business hours: Wednesday 09:00-12:00 (3 h), then 13:00-14:00.
    assert local(due_at(at("2026-09-22 22:00"), 4 * 3600, HOURS)) == "2026-09-23 14:00"
    # Inside hours the clock runs at once, and the lunch break does not count.
    assert local(due_at(at("2026-09-22 11:30"), 3600, HOURS)) == "2026-09-22 13:30"
    assert local(next_open(at("2026-09-22 22:00"), HOURS)) == "2026-09-23 09:00"
    assert local(next_open(at("2026-09-22 12:30"), HOURS)) == "2026-09-22 13:00"
    assert next_open(at("2026-09-22 10:00"), HOURS) == at("2026-09-22 10:00")


def test_weekends_and_holidays_do_not_count_and_a_makeup_workday_does() -> None:
    # Friday 17:00 + 2 h: 1 h on Friday, the weekend is closed, 1 h on Monday.
    assert local(due_at(at("2026-09-25 17:00"), 2 * 3600, HOURS)) == "2026-09-28 10:00"
    # Wednesday 30 Sept 17:00 + 2 h: 1 h left that day, 1-2 Oct are holidays, Sat 3 and Sun 4 closed ...
    assert local(due_at(at("2026-09-30 17:00"), 2 * 3600, HOURS)) == "2026-10-05 10:00"
    # ... and Saturday 10 Oct is a make-up working day (调休) with Monday's hours.
    assert local(due_at(at("2026-10-09 18:30"), 3600, HOURS)) == "2026-10-10 10:00"
    assert local(next_open(at("2026-10-09 20:00"), HOURS)) == "2026-10-10 09:00"


def test_a_schedule_with_no_open_hours_is_never_due() -> None:
    closed = {"timezone": "Asia/Shanghai", "weekly": {}, "holidays": [], "workdays": []}
    assert due_at(at("2026-09-22 10:00"), 60, closed) is None
    assert next_open(at("2026-09-22 10:00"), closed) is None


def test_a_span_until_midnight_and_another_time_zone() -> None:
    late = {"timezone": "Europe/London", "weekly": {"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}}
    start = dt.datetime(2026, 9, 28, 23, 0, tzinfo=ZoneInfo("Europe/London")).timestamp()
    due = due_at(start, 2 * 3600, late)
    assert dt.datetime.fromtimestamp(due or 0, ZoneInfo("Europe/London")).strftime("%a %H:%M") == "Tue 01:00"
