"""What a skill (queue) may be: the protocol's fields checked one by one, and its routing configuration.

A skill as the protocol shows it (docs/protocol.md, "Skills (queues)")::

    {"name", "label", "labels": {"zh-CN", "en"}, "strategy", "sla_secs", "sla_target",
     "offer_timeout_s", "max_wait_s" | null, "overflow": {"to", "after_s"} | null,
     "mode", "hours": null | {"timezone", "weekly": {"mon": [["09:00", "18:00"]], ...},
                              "holidays": ["YYYY-MM-DD"], "workdays": ["YYYY-MM-DD"]},
     "leave_message_sla_s"}   (seconds of business hours a leave-message is due in; an extension)

Pure functions, no I/O: :func:`merge_skill` applies a partial change to a skill (fields left out
keep their value), :func:`check_catalogue` refuses what cannot work across skills (an overflow to
an unknown skill, to itself or in a loop), and :func:`queue_config` turns a skill into the
routing engine's ``ConfigureQueue`` fields. Every refusal is a `desk.errors.ValidationError`
naming the field (``hours.weekly.mon``, ``overflow.to``, ...).
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from desk.errors import ValidationError
from routing.config import DEFAULT_TZ, BusinessHours

# The protocol's strategy names -> the routing engine's.
STRATEGIES = {"longest_idle": "longest_idle", "least_occupied": "least_occupied",
              "best_skill": "best_proficiency", "round_robin": "round_robin"}
MODES = ("human_first", "bot_first", "bot_only")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LANGUAGES = ("zh-CN", "en")
FIELDS = ("name", "label", "labels", "strategy", "sla_secs", "sla_target", "offer_timeout_s", "max_wait_s",
          "overflow", "mode", "hours", "leave_message_sla_s")
HOURS_FIELDS = ("timezone", "weekly", "holidays", "workdays")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")  # the same rule as a user's skills (desk/accounts.py)
TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_LABEL_CHARS = 64
# Bounds that keep a typo from configuring a queue nobody could use (a day is the longest wait
# or service-level threshold that means anything for a chat).
MAX_SECS = 24 * 3600.0
MAX_DATES = 400
# Leave-messages (留言, desk/leave_messages.py): answered within this many seconds of the skill's
# business hours by default (one working day), at most a month of them.
LEAVE_MESSAGE_SLA_S = 8 * 3600
MAX_LEAVE_MESSAGE_SLA_S = 30 * 24 * 3600.0  # a year of holidays and make-up days, with room to spare


def default_skill(name: str, label: str | None = None, labels: dict[str, str] | None = None,
                  offer_timeout_s: float = 20.0) -> dict[str, Any]:
    """A skill with every field at its default: always open, longest idle first, no limits."""
    labels = dict(labels or {"zh-CN": label or name, "en": label or name})
    return {"name": name, "label": label or labels.get("zh-CN") or labels.get("en") or name, "labels": labels,
            "strategy": "longest_idle", "sla_secs": 30, "sla_target": 80, "offer_timeout_s": offer_timeout_s,
            "max_wait_s": None, "overflow": None, "mode": "human_first", "hours": None,
            "leave_message_sla_s": LEAVE_MESSAGE_SLA_S}


def complete(skill: dict[str, Any], offer_timeout_s: float) -> dict[str, Any]:
    """A stored skill (perhaps an earlier release's ``{"name", "label"}``) with every field."""
    base = default_skill(str(skill.get("name")), skill.get("label"), skill.get("labels"), offer_timeout_s)
    return {**base, **{k: v for k, v in skill.items() if k in FIELDS and k not in ("label", "labels")},
            "label": base["label"], "labels": base["labels"]}


# -- one skill -------------------------------------------------------------------------------------
def _number(field: str, value: Any, *, low: float = 0.0, high: float = MAX_SECS, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(field, "must be a number")
    if value < low or (low_open and value == low):
        raise ValidationError(field, f"must be more than {low:g}" if low_open else f"must be at least {low:g}")
    if value > high:
        raise ValidationError(field, f"must be at most {high:g}")
    return value


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field, "must be a non-empty text")
    if len(value.strip()) > MAX_LABEL_CHARS:
        raise ValidationError(field, f"must be at most {MAX_LABEL_CHARS} characters")
    return value.strip()


def _date(field: str, value: Any) -> str:
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise ValidationError(field, f"{value!r} is not a date (YYYY-MM-DD)")
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a date (YYYY-MM-DD)") from None
    return value


def _dates(field: str, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise ValidationError(field, "must be a list of dates (YYYY-MM-DD)")
    if len(value) > MAX_DATES:
        raise ValidationError(field, f"at most {MAX_DATES} dates")
    return sorted({_date(field, v) for v in value})


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _spans(field: str, value: Any) -> list[list[str]]:
    if not isinstance(value, list):
        raise ValidationError(field, 'must be a list of ["HH:MM", "HH:MM"] spans')
    spans: list[list[str]] = []
    for span in value:
        if not (isinstance(span, (list, tuple)) and len(span) == 2):
            raise ValidationError(field, 'each span is ["HH:MM", "HH:MM"]')
        for hhmm in span:
            if not isinstance(hhmm, str) or not TIME_RE.match(hhmm):
                raise ValidationError(field, f"{hhmm!r} is not a time of day (00:00 to 24:00)")
        if _minutes(span[0]) >= _minutes(span[1]):
            raise ValidationError(field, f"the span {span[0]}-{span[1]} ends before it starts")
        spans.append([span[0], span[1]])
    spans.sort(key=lambda s: _minutes(s[0]))
    for before, after in zip(spans, spans[1:], strict=False):
        if _minutes(after[0]) < _minutes(before[1]):
            raise ValidationError(field, f"the spans {before[0]}-{before[1]} and {after[0]}-{after[1]} overlap")
    return spans


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError("hours.timezone", "must be a time zone name such as Asia/Shanghai")
    try:
        ZoneInfo(value)
    # OSError: a directory of the zone database (America) or a name too long for a path.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError("hours.timezone", f"{value!r} is not a known time zone") from None
    return value


def _hours(value: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("hours", "must be null (always open) or {timezone, weekly, holidays, workdays}")
    for key in value:
        if key not in HOURS_FIELDS:
            raise ValidationError(f"hours.{key}", "unknown field")
    base = current or {"timezone": DEFAULT_TZ, "weekly": {}, "holidays": [], "workdays": []}
    out = {**base, **value}
    weekly = out.get("weekly")
    if not isinstance(weekly, dict):
        raise ValidationError("hours.weekly", 'must be {"mon": [["09:00", "18:00"]], ...}')
    for day in weekly:
        if day not in WEEKDAYS:
            raise ValidationError(f"hours.weekly.{day}", f"unknown day (one of {', '.join(WEEKDAYS)})")
    out["weekly"] = {day: _spans(f"hours.weekly.{day}", weekly[day]) for day in WEEKDAYS
                     if day in weekly and weekly[day]}
    out["timezone"] = _timezone(out.get("timezone"))
    out["holidays"] = _dates("hours.holidays", out.get("holidays", []))
    out["workdays"] = _dates("hours.workdays", out.get("workdays", []))
    both = set(out["holidays"]) & set(out["workdays"])
    if both:
        raise ValidationError("hours.workdays", f"{min(both)} is also a holiday")
    return out


def _overflow(value: Any, current: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError("overflow", 'must be null or {"to": skill, "after_s": seconds}')
    for key in value:
        if key not in ("to", "after_s"):
            raise ValidationError(f"overflow.{key}", "unknown field")
    out = {**(current or {}), **value}
    if not isinstance(out.get("to"), str) or not NAME_RE.match(out["to"]):
        raise ValidationError("overflow.to", "must name a skill")
    out["after_s"] = _number("overflow.after_s", out.get("after_s"))
    return {"to": out["to"], "after_s": out["after_s"]}


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ValidationError("labels", 'must be {"zh-CN": text, "en": text}')
    for key in value:
        if key not in LANGUAGES:
            raise ValidationError(f"labels.{key}", "unknown language (zh-CN or en)")
    return {lang: _text(f"labels.{lang}", value[lang]) for lang in LANGUAGES if value.get(lang) not in (None, "")}


def merge_skill(current: dict[str, Any], change: Any) -> dict[str, Any]:
    """``current`` (a complete skill) with ``change``'s fields checked and applied."""
    if not isinstance(change, dict):
        raise ValidationError("skill", "must be an object of the skill's fields")
    for key in change:
        if key not in FIELDS:
            raise ValidationError(str(key), "unknown field")
    out = dict(current)
    if "strategy" in change:
        if change["strategy"] not in STRATEGIES:
            raise ValidationError("strategy", f"must be one of {', '.join(STRATEGIES)}")
        out["strategy"] = change["strategy"]
    if "mode" in change:
        if change["mode"] not in MODES:
            raise ValidationError("mode", f"must be one of {', '.join(MODES)}")
        out["mode"] = change["mode"]
    if "sla_secs" in change:
        out["sla_secs"] = _number("sla_secs", change["sla_secs"], low_open=True)
    if "sla_target" in change:
        out["sla_target"] = _number("sla_target", change["sla_target"], high=100, low_open=True)
    if "offer_timeout_s" in change:
        out["offer_timeout_s"] = _number("offer_timeout_s", change["offer_timeout_s"], low=1, high=3600)
    if "max_wait_s" in change:
        out["max_wait_s"] = None if change["max_wait_s"] is None else _number(
            "max_wait_s", change["max_wait_s"], low_open=True)
    if "leave_message_sla_s" in change:
        out["leave_message_sla_s"] = _number("leave_message_sla_s", change["leave_message_sla_s"],
                                             high=MAX_LEAVE_MESSAGE_SLA_S, low_open=True)
    if "overflow" in change:
        out["overflow"] = _overflow(change["overflow"], current.get("overflow"))
    if "hours" in change:
        out["hours"] = _hours(change["hours"], current.get("hours"))
    if "labels" in change:
        out["labels"] = {**(current.get("labels") or {}), **_labels(change["labels"])}
        if "label" not in change:
            out["label"] = out["labels"].get("zh-CN") or out["labels"].get("en") or out["label"]
    if "label" in change:
        out["label"] = _text("label", change["label"])
        if "labels" not in change:
            out["labels"] = {**(current.get("labels") or {}), "zh-CN": out["label"]}
    return out


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValidationError("name", "a skill name is 1 to 32 letters, digits, '_', '.' or '-'")
    return name


# -- across skills ---------------------------------------------------------------------------------
def check_catalogue(skills: list[dict[str, Any]]) -> None:
    """Refuse what cannot work across skills: names twice, an overflow to an unknown skill, to
    itself, or in a loop (A→B→A: a session would bounce between queues for ever)."""
    names = [s["name"] for s in skills]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError("name", f"{name!r} is listed twice")
        seen.add(name)
    to = {s["name"]: s["overflow"]["to"] for s in skills if s.get("overflow")}
    for name, target in to.items():
        if target == name:
            raise ValidationError("overflow.to", f"{name} cannot overflow to itself")
        if target not in seen:
            raise ValidationError("overflow.to", f"{target!r} is not a skill")
    for start in to:
        path, at = [start], to[start]
        while at in to:
            if at in path:
                loop = " → ".join([*path[path.index(at):], at])
                raise ValidationError("overflow.to", f"the overflow goes round in a loop ({loop})")
            path.append(at)
            at = to[at]


# -- into the routing engine ---------------------------------------------------------------------
def business_hours(hours: dict[str, Any] | None) -> BusinessHours | None:
    """The engine's schedule for a skill's ``hours`` (None: always open). Times are in the
    schedule's own zone: `BusinessHours.is_open` reads the clock in ``tz`` through zoneinfo, so the
    zone name passes as it is. 调休 make-up days follow Monday's hours."""
    if hours is None:
        return None
    weekly = tuple((WEEKDAYS.index(day), start, end) for day in WEEKDAYS
                   for start, end in hours.get("weekly", {}).get(day, ()))
    return BusinessHours(weekly=weekly, holidays=tuple(hours.get("holidays", ())),
                         makeup_workdays=tuple(hours.get("workdays", ())), makeup_weekday=0,
                         tz=hours.get("timezone") or DEFAULT_TZ, closed_without_spans=True)


def queue_config(skill: dict[str, Any]) -> dict[str, Any]:
    """The ``ConfigureQueue`` fields (all but ``skill`` and ``now``) for a complete skill."""
    overflow = skill.get("overflow")
    return {
        "strategy": STRATEGIES[skill["strategy"]],
        "sla_secs": float(skill["sla_secs"]),
        "overflow_after_secs": float(overflow["after_s"]) if overflow else None,
        "overflow_skills": (overflow["to"],) if overflow else (),
        "max_wait_secs": None if skill.get("max_wait_s") is None else float(skill["max_wait_s"]),
        "offer_timeout_secs": float(skill["offer_timeout_s"]),
        "business_hours": business_hours(skill.get("hours")),
    }
