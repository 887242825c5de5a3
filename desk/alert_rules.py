"""The alert thresholds and their rules: validation of the ``alerts`` setting and the hysteresis.

Pure: no I/O, no clock of its own. :class:`AlertBook` takes the wall's picture (the routing
engine's ``wall_now``: queues and agents) and the setting, and answers the transitions: an alert
that starts (``level: "warning"``) or ends (``level: "ok"``). An alert starts when a figure
crosses its threshold and ends only once it is back by a margin (:data:`CLEAR_RATIO`,
:data:`SERVICE_LEVEL_MARGIN`), so a queue hovering around the line does not flap; a threshold
that is turned off (``null``) or a skill that is gone ends its alerts.

The codes: ``oldest_wait_too_long`` (``oldest_wait_s``), ``service_level_too_low``
(``service_level_below``), ``queue_too_long`` (``queue_length_above``), per skill; and
``agent_away_too_long`` (``agent_away_s``) per agent, which ends when the agent is no longer away.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from desk.errors import ValidationError

SKILL_FIELDS = ("oldest_wait_s", "service_level_below", "queue_length_above")
FIELDS = (*SKILL_FIELDS, "agent_away_s")
CODES = {"oldest_wait_s": "oldest_wait_too_long", "service_level_below": "service_level_too_low",
         "queue_length_above": "queue_too_long", "agent_away_s": "agent_away_too_long"}
# Bounds of a threshold: a day of waiting or being away, ten thousand waiting customers.
MAX_SECS = 86400
MAX_QUEUE = 10000
# An oldest wait or a queue length alert ends once the figure is back to 80 % of its threshold;
# a service level alert once it is 5 points above its threshold.
CLEAR_RATIO = 0.8
SERVICE_LEVEL_MARGIN = 0.05


def default_alerts() -> dict[str, Any]:
    """Every threshold off: an upgrade sends no alert until an admin sets one."""
    return {"oldest_wait_s": None, "service_level_below": None, "queue_length_above": None,
            "agent_away_s": None, "skills": {}}


def _number(field: str, value: Any, low: float, high: float, integer: bool, low_open: bool) -> float | int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(field, "must be a number, or null for no alert")
    if integer and value != int(value):
        raise ValidationError(field, "must be a whole number")
    if value < low or value > high or (low_open and value == low):
        bound = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise ValidationError(field, f"must be {bound} and at most {high:g}")
    return int(value) if integer else float(value)


def check_threshold(field: str, name: str, value: Any) -> float | int | None:
    """One threshold, checked (``field`` is how an error names it)."""
    if name in ("oldest_wait_s", "agent_away_s"):
        return _number(field, value, 0, MAX_SECS, integer=False, low_open=True)
    if name == "service_level_below":
        return _number(field, value, 0, 1, integer=False, low_open=True)
    return _number(field, value, 0, MAX_QUEUE, integer=True, low_open=False)


def validate_alerts(value: Any, current: Any, skill_names: Iterable[str]) -> dict[str, Any]:
    """The fields given change, the others keep their value; ``skills`` (per-skill overrides of the
    three skill thresholds, ``null`` in one meaning off for that skill) replaces the whole map."""
    if not isinstance(value, dict):
        raise ValidationError("alerts", 'must be an object such as {"oldest_wait_s": 120}')
    merged = {**default_alerts(), **(current or {})}
    for key, item in value.items():
        if key == "skills":
            merged["skills"] = _overrides(item, set(skill_names))
        elif key in FIELDS:
            merged[key] = check_threshold(key, key, item)
        else:
            raise ValidationError(str(key)[:40], f"is not a threshold; use {', '.join((*FIELDS, 'skills'))}")
    return merged


def _overrides(value: Any, skills: set[str]) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise ValidationError("skills", 'must be an object {"<skill>": {"oldest_wait_s": …}}')
    out: dict[str, dict[str, Any]] = {}
    for skill, fields in value.items():
        if skill not in skills:
            raise ValidationError(f"skills.{str(skill)[:40]}", "is not a skill")
        if not isinstance(fields, dict):
            raise ValidationError(f"skills.{skill}", "must be an object of thresholds")
        kept: dict[str, Any] = {}
        for key, item in fields.items():
            if key not in SKILL_FIELDS:
                raise ValidationError(f"skills.{skill}.{str(key)[:40]}",
                                      f"is not a skill threshold; use {', '.join(SKILL_FIELDS)}")
            kept[key] = check_threshold(f"skills.{skill}.{key}", key, item)
        if kept:
            out[skill] = kept
    return out


def thresholds_for(setting: dict[str, Any], skill: str) -> dict[str, Any]:
    """The three skill thresholds in force for ``skill`` (its overrides over the defaults)."""
    override = (setting.get("skills") or {}).get(skill) or {}
    return {name: override[name] if name in override else setting.get(name) for name in SKILL_FIELDS}


def queue_clear_level(threshold: int) -> int:
    """A queue-length alert above ``threshold`` ends at this length or below (at least one less)."""
    return max(0, min(threshold - 1, math.floor(CLEAR_RATIO * threshold)))


def _crossed(name: str, value: float | None, threshold: float) -> bool:
    if value is None:
        return False
    return value < threshold if name == "service_level_below" else value > threshold


def _recovered(name: str, value: float | None, threshold: float) -> bool:
    if value is None:
        return True  # nothing to judge (no service level yet): no alert
    if name == "service_level_below":
        return value >= min(1.0, round(threshold + SERVICE_LEVEL_MARGIN, 6))
    if name == "queue_length_above":
        return value <= queue_clear_level(int(threshold))
    return value <= CLEAR_RATIO * threshold


class AlertBook:
    """The alerts active now, by ``(code, skill or agent id)``; :meth:`evaluate` answers the transitions."""

    def __init__(self) -> None:
        self.active: dict[tuple[str, str], dict[str, Any]] = {}

    def current(self) -> list[dict[str, Any]]:
        return [dict(a) for a in sorted(self.active.values(), key=lambda a: (a["since"], a["code"]))]

    def evaluate(self, wall: dict[str, Any], setting: dict[str, Any], now: float) -> list[dict[str, Any]]:
        """Compare the picture with the thresholds; the events to send, in order."""
        seen: set[tuple[str, str]] = set()
        events: list[dict[str, Any]] = []
        for queue in wall.get("queues", ()):
            skill = queue["skill"]
            limits = thresholds_for(setting, skill)
            figures = {"oldest_wait_s": float(queue.get("longest_wait_s") or 0.0) if queue.get("waiting") else 0.0,
                       "service_level_below": queue.get("service_level"),
                       "queue_length_above": int(queue.get("waiting") or 0)}
            for name in SKILL_FIELDS:
                key = (CODES[name], skill)
                seen.add(key)
                self._judge(key, name, figures[name], limits[name], now, events,
                            {"skill": skill, "agent_id": None})
        away_limit = setting.get("agent_away_s")
        for agent in wall.get("agents", ()):
            key = (CODES["agent_away_s"], str(agent["id"]))
            seen.add(key)
            away = agent.get("presence") == "away" and agent.get("status") != "offline"
            value = float(agent.get("time_in_status_s") or 0.0) if away else None
            self._judge(key, "agent_away_s", value, away_limit, now, events,
                        {"skill": None, "agent_id": str(agent["id"])})
        for key in [k for k in self.active if k not in seen]:  # a skill or an agent that is gone
            events.append(self._end(key, None))
        return events

    def _judge(self, key: tuple[str, str], name: str, value: float | None, threshold: float | None, now: float,
               events: list[dict[str, Any]], where: dict[str, Any]) -> None:
        active = self.active.get(key)
        if active is not None:
            if threshold is None or threshold != active["threshold"] or _recovered(name, value, threshold):
                events.append(self._end(key, value))
                active = None
            else:
                active["value"] = _rounded(value)
                return
        if threshold is not None and _crossed(name, value, threshold):
            alert = {"code": key[0], **where, "value": _rounded(value), "threshold": threshold,
                     "level": "warning", "since": now}
            self.active[key] = alert
            events.append(dict(alert))

    def _end(self, key: tuple[str, str], value: float | None) -> dict[str, Any]:
        alert = self.active.pop(key)
        return {**alert, "value": _rounded(value) if value is not None else alert["value"], "level": "ok"}


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)
