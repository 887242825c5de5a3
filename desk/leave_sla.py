"""Business-hours arithmetic for leave-messages (留言): when one is due, when a skill opens next.

Pure functions over a skill's ``hours`` as the skills setting keeps them (docs/protocol.md,
"Skills (queues)"): ``{"timezone", "weekly": {"mon": [["09:00", "18:00"]], …}, "holidays": […],
"workdays": […]}`` or ``None`` (always open). A holiday has no hours; a make-up working day (调休)
has Monday's; a weekday missing from ``weekly`` is closed. Times are epoch seconds; local times are
read in the schedule's own zone through zoneinfo, so a daylight-saving change is counted as the
clock on the wall shows it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from routing.config import DEFAULT_TZ

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a schedule is searched for open time: a schedule with no open hour in a year
# (every day closed) never makes a leave-message due, nor opens.
SEARCH_DAYS = 400


def _spans_of_day(hours: dict[str, Any], day: dt.date) -> list[tuple[str, str]]:
    text = day.isoformat()
    if text in (hours.get("holidays") or ()):
        return []
    weekly = hours.get("weekly") or {}
    name = "mon" if text in (hours.get("workdays") or ()) else WEEKDAYS[day.weekday()]
    return sorted((str(s), str(e)) for s, e in weekly.get(name) or ())


def _at(day: dt.date, hhmm: str, zone: ZoneInfo) -> float:
    hour, minute = (int(x) for x in hhmm.split(":"))
    if hour == 24:  # "24:00": midnight at the end of the day
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), zone).timestamp()
    return dt.datetime.combine(day, dt.time(hour, minute), zone).timestamp()


def open_spans(hours: dict[str, Any], start: float) -> Iterator[tuple[float, float]]:
    """The schedule's open spans ``(from, to)`` that end after ``start``, in order (``from``
    clipped to ``start``), over the next `SEARCH_DAYS` days."""
    zone = ZoneInfo(hours.get("timezone") or DEFAULT_TZ)
    day = dt.datetime.fromtimestamp(start, zone).date()
    for _ in range(SEARCH_DAYS):
        for begin, end in _spans_of_day(hours, day):
            lo, hi = _at(day, begin, zone), _at(day, end, zone)
            if hi > start:
                yield max(lo, start), hi
        day += dt.timedelta(days=1)


def due_at(start: float, sla_s: float, hours: dict[str, Any] | None) -> float | None:
    """When a leave-message left at ``start`` is due: ``sla_s`` seconds of the skill's business
    hours later (outside hours the clock stands still). ``None`` when the schedule has no open
    hours to count in."""
    if hours is None:
        return start + sla_s
    remaining = float(sla_s)
    last_end = None
    for lo, hi in open_spans(hours, start):
        if last_end is not None and lo < last_end:  # overlapping spans of one day: count once
            lo = last_end
        if hi <= lo:
            continue
        if remaining <= hi - lo:
            return lo + remaining
        remaining -= hi - lo
        last_end = hi
    return None


def next_open(now: float, hours: dict[str, Any] | None) -> float | None:
    """``now`` if the skill is open now, else when it opens next (``None``: not within the search)."""
    if hours is None:
        return now
    for lo, _hi in open_spans(hours, now):
        return lo
    return None
