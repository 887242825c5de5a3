"""desk/deadlines.py: the one timer that feeds the engine its Tick (times from an injected clock)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from desk.deadlines import DeadlineTimer


class Counter:
    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fired = asyncio.Event()
        self.fail = fail

    async def __call__(self) -> None:
        self.calls += 1
        self.fired.set()
        if self.fail:
            raise RuntimeError("engine broke")


@pytest.mark.gen_test
async def test_a_passed_deadline_fires_at_once_and_re_arming_replaces_the_earlier_one():
    now = 1000.0
    fire = Counter()
    timer = DeadlineTimer(lambda: now, fire)
    timer.arm(now + 3600)  # an hour away: replaced below, never fires
    assert timer.armed
    timer.arm(now - 5)
    await fire.fired.wait()
    assert fire.calls == 1 and not timer.armed
    timer.arm(None)
    assert not timer.armed


@pytest.mark.gen_test
async def test_a_cancelled_timer_does_not_fire():
    now = 50.0
    cancelled, witness = Counter(), Counter()
    first = DeadlineTimer(lambda: now, cancelled)
    second = DeadlineTimer(lambda: now, witness)
    first.arm(now)
    first.cancel()
    second.arm(now)  # due at the same moment, armed after: the first would have run before it
    await witness.fired.wait()
    await asyncio.sleep(0)
    assert cancelled.calls == 0 and not first.armed


@pytest.mark.gen_test
async def test_a_failed_tick_is_logged_not_raised(caplog):
    caplog.set_level(logging.ERROR, logger="kefu.desk.lifecycle")
    fire = Counter(fail=True)
    timer = DeadlineTimer(lambda: 0.0, fire)
    timer.arm(0.0)
    await fire.fired.wait()
    for _ in range(3):  # the task's done-callback runs on a later turn of the loop
        await asyncio.sleep(0)
    assert [r.getMessage() for r in caplog.records] == ["routing tick failed"]
