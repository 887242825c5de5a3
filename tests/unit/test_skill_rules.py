"""The skill rules (desk/skill_rules.py): business hours in their own time zone, the catalogue's
overflow checks, partial changes; and the routing driver configuring queues as the setting says."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from desk import skill_rules as rules
from desk.errors import ValidationError
from desk.routing_driver import RoutingDriver
from routing import events as ev


def at(text: str, zone: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


HOURS = {"timezone": "Asia/Shanghai", "weekly": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]],
                                                  "fri": [["09:00", "17:00"]]},
         "holidays": ["2026-10-01"], "workdays": ["2026-09-27"]}


def test_hours_are_read_in_the_skills_own_time_zone() -> None:
    hours = rules.business_hours(rules.merge_skill(rules.default_skill("g"), {"hours": HOURS})["hours"])
    assert hours is not None
    assert hours.is_open(at("2026-03-02T09:30", "Asia/Shanghai"))  # a Monday morning in Shanghai
    assert not hours.is_open(at("2026-03-02T12:30", "Asia/Shanghai"))  # lunch
    assert not hours.is_open(at("2026-03-02T11:00", "Europe/London"))  # 19:00 in Shanghai
    assert not hours.is_open(at("2026-03-03T10:00", "Asia/Shanghai"))  # Tuesday: not in weekly, closed
    assert not hours.is_open(at("2026-10-01T10:00", "Asia/Shanghai"))  # a Thursday holiday
    assert hours.is_open(at("2026-09-27T10:00", "Asia/Shanghai"))  # a Sunday 调休 day: Monday's hours
    assert not hours.is_open(at("2026-09-27T12:30", "Asia/Shanghai"))
    london = rules.business_hours({**HOURS, "timezone": "Europe/London"})
    assert london is not None and london.is_open(at("2026-07-06T09:30", "Europe/London"))  # summer time
    closed = rules.business_hours({"timezone": "Asia/Shanghai", "weekly": {}, "holidays": [], "workdays": []})
    assert closed is not None and not closed.is_open(at("2026-03-02T10:00", "Asia/Shanghai"))
    assert rules.business_hours(None) is None


def test_a_partial_change_keeps_the_other_fields() -> None:
    skill = rules.merge_skill(rules.default_skill("g", "综合"), {"hours": HOURS, "strategy": "best_skill"})
    changed = rules.merge_skill(skill, {"hours": {"holidays": ["2026-10-02"]}, "labels": {"en": "General"}})
    assert changed["hours"]["weekly"] == skill["hours"]["weekly"] and changed["hours"]["holidays"] == ["2026-10-02"]
    assert (changed["strategy"], changed["label"], changed["labels"]) == ("best_skill", "综合",
                                                                           {"zh-CN": "综合", "en": "General"})
    assert rules.queue_config(changed)["strategy"] == "best_proficiency"


@pytest.mark.parametrize("change, field", [
    ({"hours": {"weekly": {"tue": [["08:00", "12:00"], ["11:00", "13:00"]]}}}, "hours.weekly.tue"),
    ({"hours": {"weekly": {"tue": [["8:00", "12:00"]]}}}, "hours.weekly.tue"),
    ({"hours": {"holidays": ["2026-10-01"], "workdays": ["2026-10-01"]}}, "hours.workdays"),
    ({"hours": {"timezone": "../../etc/passwd"}}, "hours.timezone"),
    ({"hours": {"opens": "09:00"}}, "hours.opens"),
    ({"sla_secs": True}, "sla_secs"),
    ({"max_wait_s": float("nan")}, "max_wait_s"),
    ({"label": ""}, "label"),
])
def test_a_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rules.merge_skill(rules.default_skill("g"), change)
    assert caught.value.field == field


def test_an_overflow_loop_is_refused_however_long() -> None:
    skills = [rules.merge_skill(rules.default_skill(a), {"overflow": {"to": b, "after_s": 10}})
              for a, b in (("a", "b"), ("b", "c"), ("c", "a"))]
    with pytest.raises(ValidationError, match="loop") as caught:
        rules.check_catalogue(skills)
    assert caught.value.field == "overflow.to"
    rules.check_catalogue(skills[:2] + [rules.default_skill("c")])  # a chain that ends is fine


class _LogStore:
    """Just the routing log a driver reads and writes."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def load_routing_snapshot(self) -> None:
        return None

    async def routing_events(self, after_seq: int = 0) -> list[dict[str, Any]]:
        return [{"seq": i + 1, **e} for i, e in enumerate(self.events) if i + 1 > after_seq]

    async def append_routing_events(self, events: list[dict[str, Any]]) -> list[int]:
        self.events.extend(events)
        return [len(self.events)]


@pytest.mark.gen_test
async def test_a_primed_driver_configures_each_queue_once_as_the_setting_says() -> None:
    store = _LogStore()
    skill = rules.merge_skill(rules.default_skill("general"), {"strategy": "round_robin", "offer_timeout_s": 45})
    driver = RoutingDriver(store, lambda: 1000.0, offer_timeout=20)
    assert driver.configure_queues({"general": rules.queue_config(skill)}, ["general"]) == []  # not loaded yet
    events = await driver.load(["general"])
    assert [(e.strategy, e.offer_timeout_secs) for e in events if isinstance(e, ev.ConfigureQueue)] == [
        ("round_robin", 45)]
    for event in events:
        driver.decide(event)
        await driver.record(event)
    assert driver.queue_events("general") == []  # a session arriving does not reconfigure it
    # A restart (replay of the log) with the same setting configures nothing again.
    again = RoutingDriver(store, lambda: 1001.0, offer_timeout=20)
    again.configure_queues({"general": rules.queue_config(skill)}, ["general"])
    assert [e for e in await again.load(["general"]) if isinstance(e, ev.ConfigureQueue)] == []
    # Back to the defaults when the skill is gone from the setting.
    assert [e.strategy for e in again.configure_queues({}, [])] == ["longest_idle"]
