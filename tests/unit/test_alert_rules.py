"""The alert thresholds' rules with no server: crossing, hysteresis (no flapping), recovery,
thresholds turned off or changed, per-skill overrides, agents away, and the setting's validation."""

from __future__ import annotations

from typing import Any

import pytest

from desk.alert_rules import AlertBook, default_alerts, queue_clear_level, validate_alerts
from desk.errors import ValidationError


def wall(waiting: int = 0, longest: float = 0.0, sl: float | None = None, skill: str = "general",
         agents: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"queues": [{"skill": skill, "waiting": waiting, "longest_wait_s": longest, "service_level": sl}],
            "agents": agents or []}


def setting(**fields: Any) -> dict[str, Any]:
    return {**default_alerts(), **fields}


def levels(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["code"], e["level"]) for e in events]


def test_oldest_wait_fires_once_does_not_flap_and_clears_below_the_margin() -> None:
    book, rules = AlertBook(), setting(oldest_wait_s=60)
    assert book.evaluate(wall(1, 59.0), rules, 0) == []
    fired = book.evaluate(wall(1, 61.0), rules, 1)
    assert fired == [{"code": "oldest_wait_too_long", "skill": "general", "agent_id": None, "value": 61.0,
                      "threshold": 60, "level": "warning", "since": 1}]
    assert book.evaluate(wall(1, 75.0), rules, 2) == []  # still over: no second event
    assert book.evaluate(wall(1, 55.0), rules, 3) == []  # under the line but not by the margin: no flap
    assert book.evaluate(wall(1, 62.0), rules, 4) == []  # over again: the same alert, not a new one
    assert book.current()[0]["value"] == 62.0  # the figure it shows keeps moving
    cleared = book.evaluate(wall(1, 48.0), rules, 5)  # 80 % of 60
    assert levels(cleared) == [("oldest_wait_too_long", "ok")] and cleared[0]["value"] == 48.0
    assert book.current() == []
    assert book.evaluate(wall(0, 0.0), rules, 6) == []


def test_queue_length_and_service_level_with_their_margins() -> None:
    book, rules = AlertBook(), setting(queue_length_above=10, service_level_below=0.8)
    assert levels(book.evaluate(wall(11, 1.0, 0.79), rules, 0)) == [("service_level_too_low", "warning"),
                                                                   ("queue_too_long", "warning")]
    assert book.evaluate(wall(9, 1.0, 0.82), rules, 1) == []  # neither is back by its margin
    assert levels(book.evaluate(wall(8, 1.0, 0.85), rules, 2)) == [("service_level_too_low", "ok"),
                                                                  ("queue_too_long", "ok")]
    assert levels(book.evaluate(wall(0, 0.0, 0.5), rules, 3)) == [("service_level_too_low", "warning")]
    assert levels(book.evaluate(wall(0, 0.0, None), rules, 4)) == [("service_level_too_low", "ok")]  # nothing to judge


@pytest.mark.parametrize(("threshold", "clear"), [(0, 0), (1, 0), (2, 1), (5, 4), (10, 8), (100, 80)])
def test_queue_clear_level(threshold: int, clear: int) -> None:
    assert queue_clear_level(threshold) == clear


def test_a_threshold_turned_off_or_changed_and_a_skill_that_is_gone() -> None:
    book = AlertBook()
    assert levels(book.evaluate(wall(5), setting(queue_length_above=2), 0)) == [("queue_too_long", "warning")]
    assert levels(book.evaluate(wall(5), setting(), 1)) == [("queue_too_long", "ok")]  # turned off
    book.evaluate(wall(5), setting(queue_length_above=2), 2)
    changed = book.evaluate(wall(5), setting(queue_length_above=3), 3)  # ends, and starts again with the new line
    assert [(e["level"], e["threshold"]) for e in changed] == [("ok", 2), ("warning", 3)]
    gone = book.evaluate({"queues": [], "agents": []}, setting(queue_length_above=3), 4)
    assert levels(gone) == [("queue_too_long", "ok")]


def test_per_skill_overrides() -> None:
    book = AlertBook()
    rules = setting(queue_length_above=2, skills={"vip": {"queue_length_above": 0}, "cards": {"queue_length_above": None}})
    assert levels(book.evaluate(wall(1, skill="vip"), rules, 0)) == [("queue_too_long", "warning")]  # vip: any wait
    book = AlertBook()
    assert book.evaluate(wall(9, skill="cards"), rules, 0) == []
    assert levels(book.evaluate(wall(3, skill="general"), rules, 0)) == [("queue_too_long", "warning")]


def test_an_agent_away_too_long_and_back() -> None:
    book, rules = AlertBook(), setting(agent_away_s=600)
    away = {"id": "u1", "presence": "away", "status": "away", "time_in_status_s": 599}
    assert book.evaluate(wall(agents=[away]), rules, 0) == []
    fired = book.evaluate(wall(agents=[{**away, "time_in_status_s": 601}]), rules, 1)
    assert fired[0]["code"] == "agent_away_too_long" and fired[0]["agent_id"] == "u1" and fired[0]["skill"] is None
    back = book.evaluate(wall(agents=[{**away, "presence": "available", "status": "available", "time_in_status_s": 1}]),
                         rules, 2)
    assert levels(back) == [("agent_away_too_long", "ok")]
    offline = {**away, "status": "offline", "presence": "offline", "time_in_status_s": 9999}
    assert book.evaluate(wall(agents=[offline]), rules, 3) == []  # logged out is not away


def test_validation_names_the_field_and_keeps_what_is_left_out() -> None:
    current = validate_alerts({"oldest_wait_s": 120, "queue_length_above": 5}, None, ["general"])
    kept = validate_alerts({"service_level_below": 0.8}, current, ["general"])
    assert kept == {**default_alerts(), "oldest_wait_s": 120.0, "queue_length_above": 5, "service_level_below": 0.8}
    assert validate_alerts({"oldest_wait_s": None}, kept, ["general"])["oldest_wait_s"] is None
    for body, field in (({"oldest_wait_s": 0}, "oldest_wait_s"), ({"oldest_wait_s": "60"}, "oldest_wait_s"),
                        ({"oldest_wait_s": True}, "oldest_wait_s"), ({"service_level_below": 80}, "service_level_below"),
                        ({"queue_length_above": 1.5}, "queue_length_above"), ({"queue_length_above": -1}, "queue_length_above"),
                        ({"agent_away_s": 1e9}, "agent_away_s"), ({"loud": 1}, "loud"), ({"skills": []}, "skills"),
                        ({"skills": {"nope": {}}}, "skills.nope"),
                        ({"skills": {"general": {"agent_away_s": 5}}}, "skills.general.agent_away_s"),
                        ({"skills": {"general": {"queue_length_above": "x"}}}, "skills.general.queue_length_above")):
        with pytest.raises(ValidationError) as exc:
            validate_alerts(body, kept, ["general"])
        assert exc.value.field == field, body
    with pytest.raises(ValidationError):
        validate_alerts([1], None, ["general"])
