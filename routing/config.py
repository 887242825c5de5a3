"""Routing configuration: engine-wide settings and business hours.

Owns :class:`EngineSettings` (missed offers before away, sticky routing window, disconnect grace,
priority boosts, metric window) and :class:`BusinessHours` (a weekly schedule plus holiday and
make-up working dates in one time zone). Per-queue settings travel as the ``ConfigureQueue``
event (see ``routing.events``) so that they are part of the replayable event log.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

STRATEGIES = ("longest_idle", "least_occupied", "best_proficiency", "round_robin")
DEFAULT_TZ = "Asia/Shanghai"


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _minutes(hhmm: str) -> int:
    hours, _, minutes = hhmm.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"bad time of day {hhmm!r}")
    return value


@dataclass(frozen=True, kw_only=True)
class BusinessHours:
    """When a queue is open, in local time of ``tz``.

    ``weekly`` is a tuple of ``(weekday, "HH:MM", "HH:MM")`` with Monday = 0; a day may have
    several spans; an end of ``"24:00"`` means midnight. ``holidays`` are ``"YYYY-MM-DD"`` dates
    closed all day. ``makeup_workdays`` (调休) are dates, usually weekend days, that open with
    ``makeup_weekday``'s schedule (Monday by default). An empty ``weekly`` means always open
    except holidays, unless ``closed_without_spans`` (a schedule whose every day is closed, as an
    administrator's weekly hours with no day ticked mean).
    """

    weekly: tuple[tuple[int, str, str], ...] = ()
    holidays: tuple[str, ...] = ()
    makeup_workdays: tuple[str, ...] = ()
    makeup_weekday: int = 0
    tz: str = DEFAULT_TZ
    closed_without_spans: bool = False

    def __post_init__(self) -> None:
        for day, start, end in self.weekly:
            if not 0 <= day <= 6 or _minutes(start) >= _minutes(end):
                raise ValueError(f"bad business-hours span {(day, start, end)!r}")
        _zone(self.tz)

    def is_open(self, now: float) -> bool:
        """Whether ``now`` (seconds since the epoch) falls inside the schedule."""
        local = _dt.datetime.fromtimestamp(now, _zone(self.tz))
        date_text = local.date().isoformat()
        if date_text in self.holidays:
            return False
        if not self.weekly:
            return not self.closed_without_spans
        weekday = self.makeup_weekday if date_text in self.makeup_workdays else local.weekday()
        minute = local.hour * 60 + local.minute
        return any(
            day == weekday and _minutes(start) <= minute < _minutes(end) for day, start, end in self.weekly
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "weekly": [list(span) for span in self.weekly],
            "holidays": list(self.holidays),
            "makeup_workdays": list(self.makeup_workdays),
            "makeup_weekday": self.makeup_weekday,
            "tz": self.tz,
        }
        if self.closed_without_spans:  # only when set: the logs and snapshots of earlier releases stay identical
            out["closed_without_spans"] = True
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BusinessHours:
        return cls(
            weekly=tuple((int(d), str(s), str(e)) for d, s, e in data.get("weekly", ())),
            holidays=tuple(data.get("holidays", ())),
            makeup_workdays=tuple(data.get("makeup_workdays", ())),
            makeup_weekday=int(data.get("makeup_weekday", 0)),
            tz=data.get("tz", DEFAULT_TZ),
            closed_without_spans=bool(data.get("closed_without_spans", False)),
        )


@dataclass(frozen=True, kw_only=True)
class EngineSettings:
    """Engine-wide routing settings; part of every snapshot.

    The priority boosts are added to a session's own priority: a VIP customer, a session
    transferred to another skill (so the customer does not start again at the back) and a
    session requeued after its agent was lost (``requeue_priority_boost`` is large so such
    sessions go to the front of their queue).
    """

    missed_offers_before_away: int = 3
    sticky_window_secs: float = 24 * 3600.0
    sticky_wait_secs: float = 30.0
    disconnect_grace_secs: float = 60.0
    vip_priority_boost: int = 10
    transfer_priority_boost: int = 5
    requeue_priority_boost: int = 1000
    # Service level and average wait are measured over this trailing window.
    metrics_window_secs: float = 3600.0
    # Closed, diverted and abandoned sessions kept for session()/explain() queries.
    retain_finished_sessions: int = 10_000
    explain_runners_up: int = 2
    default_offer_timeout_secs: float = 20.0
    # After an agent rejects a session or lets its offer time out, other agents are tried first;
    # once this long has passed the agent may be offered it again when nobody else can take it.
    # None: the queue's offer timeout.
    offer_cooldown_secs: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

