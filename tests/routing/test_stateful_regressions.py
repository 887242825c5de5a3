"""The step sequences with which the stateful test (test_stateful.py) once found a broken
routing rule, replayed exactly: same machine, same rules, every invariant after every step.

Each was shrunk by hypothesis from a CI run; keeping them as plain tests means they run on
every build whatever the random search happens to try.
"""

from __future__ import annotations

from typing import Any

from .test_stateful import RoutingMachine

Step = tuple[str, dict[str, Any]]

SPECIALISTS = [{"billing": 1}, {"billing": 1}, {"billing": 1, "cards": 1}, {"billing": 1, "cards": 1}]
FIVE_SECOND_OFFERS = {
    "max_wait": None, "overflow": False, "skill": "billing", "strategy": "longest_idle", "timeout": 5, "wrapup": 0
}
BILLING = {"customer": "c0", "priority": 0, "skill": "billing", "vip": False}


def replay(staff: list[dict[str, int]], steps: list[Step]) -> None:
    machine = RoutingMachine()
    invariants = (
        machine.capacity_respected,
        machine.metrics_and_queries_work,
        machine.no_free_agent_beside_a_session_it_could_take,
        machine.sessions_in_exactly_one_place,
    )
    try:
        machine.staff(skills=staff)
        for check in invariants:
            check()
        for name, kwargs in steps:
            getattr(machine, name)(**kwargs)
            for check in invariants:
                check()
    finally:
        machine.teardown()


def test_a_last_resort_offer_follows_queue_order() -> None:
    # At t=60 s2's offer to a0 times out, and at the same instant a3's cool-down for s0 ends.
    # a3 may have either as a last resort: s0, which came first, must be offered first.
    replay(SPECIALISTS, [
        ("connection", {"agent": "a0", "back": False}),
        ("request", BILLING),
        ("change_skill", {"index": 0, "skill": "cards"}),
        ("tick_to_deadline", {}),
        ("tick_to_deadline", {}),
        ("request", BILLING),
        ("configure", FIVE_SECOND_OFFERS),
        ("change_skill", {"index": 0, "skill": "billing"}),
        ("request", BILLING),
        ("tick_to_deadline", {}),
        ("tick_to_deadline", {}),
        ("connection", {"agent": "a0", "back": True}),
        ("tick_to_deadline", {}),
        ("end", {"index": 1, "left": False}),
        ("login", {"agent": "a3", "skills": {"billing": 1}, "status": "available"}),
        ("tick_to_deadline", {}),
    ])


def test_no_last_resort_offer_while_a_free_agent_is_not_yet_back_in_the_indexes() -> None:
    # At t=30 a1 misses two offers and goes away; s1 is offered to a2 (3 seats) and then s2,
    # routed in the same pass, went to a3 as a last resort although a2 could still take it.
    replay(SPECIALISTS, [
        ("connection", {"agent": "a0", "back": False}),
        ("request", BILLING),
        ("change_skill", {"index": 0, "skill": "billing"}),
        ("tick_to_deadline", {}),
        ("request", BILLING),
        ("configure", FIVE_SECOND_OFFERS),
        ("change_skill", {"index": 0, "skill": "billing"}),
        ("request", BILLING),
        ("tick_to_deadline", {}),
        ("tick_to_deadline", {}),
    ])


def test_a_restored_engine_decides_like_the_original_after_a_cool_down_ends() -> None:
    # The snapshot was taken while s0 and s1 were offered; their cool-down deadlines were left
    # out of it, so the restored engine did not look at s0 again when they ended.
    staff = [{"billing": 1}, {"billing": 1}, {"billing": 1, "cards": 1, "general": 1},
             {"billing": 1, "cards": 1, "general": 1}]
    replay(staff, [
        ("login", {"agent": "a0", "skills": {"cards": 1}, "status": "available"}),
        ("request", BILLING),
        ("request", BILLING),
        ("change_skill", {"index": 0, "skill": "general"}),
        ("tick_to_deadline", {}),
        ("restore_shadow", {}),
        ("tick_to_deadline", {}),
        ("request", {**BILLING, "skill": "general"}),
    ])


def test_a_restored_engine_keeps_the_cool_down_deadline_of_an_offered_session() -> None:
    replay([{"billing": 1}] * 4, [
        ("request", BILLING),
        ("tick_to_deadline", {}),
        ("request", BILLING),
        ("tick_to_deadline", {}),
        ("restore_shadow", {}),
        ("logout", {"agent": "a2"}),
        ("answer_offer", {"accept": True, "index": 0}),
        ("tick_to_deadline", {}),
    ])
