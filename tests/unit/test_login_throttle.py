"""desk/login_throttle.py: free failures, doubling waits up to the cap, attempts in flight counted,
bounded memory."""

from __future__ import annotations

import pytest

from desk.errors import ThrottledError
from desk.login_throttle import FREE_LOGIN_FAILURES, THROTTLE_MAX_SECS, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_failures_then_doubling_waits_capped_and_reset_by_success():
    clock = Clock()
    throttle = LoginThrottle(clock)
    for n in range(1, FREE_LOGIN_FAILURES + 1):
        throttle.check("alice")
        assert throttle.failed("alice") == n
    with pytest.raises(ThrottledError) as info:
        throttle.check("alice")
    assert info.value.retry_after == pytest.approx(1.0)
    throttle.check("bob")  # per username
    clock.now += 1.0
    throttle.check("alice")
    throttle.failed("alice")  # 4th: 2 s
    clock.now += 1.9
    with pytest.raises(ThrottledError) as info:
        throttle.check("alice")
    assert info.value.retry_after == pytest.approx(0.1)
    for _ in range(20):
        throttle.failed("alice")
    with pytest.raises(ThrottledError) as info:
        throttle.check("alice")
    assert info.value.retry_after == pytest.approx(THROTTLE_MAX_SECS)
    throttle.succeeded("alice")
    throttle.check("alice")


def test_attempts_in_flight_count_as_failures_until_they_end():
    throttle = LoginThrottle(Clock())
    with throttle.attempt("eve"), throttle.attempt("eve"), throttle.attempt("eve"):
        with pytest.raises(ThrottledError):  # three parallel guesses being checked: the fourth waits
            with throttle.attempt("eve"):
                pass
    with throttle.attempt("eve"):  # they ended (right passwords, say): nothing counted
        pass


def test_an_attempt_refused_is_not_counted_in_flight():
    clock = Clock()
    throttle = LoginThrottle(clock)
    for _ in range(FREE_LOGIN_FAILURES):
        throttle.failed("eve")
    with pytest.raises(ThrottledError):
        with throttle.attempt("eve"):
            pass
    clock.now += 1.0
    with throttle.attempt("eve"):
        pass


def test_memory_is_bounded_oldest_forgotten_first():
    throttle = LoginThrottle(Clock(), tracked=2)
    for name in ("a", "b", "c"):
        for _ in range(FREE_LOGIN_FAILURES):
            throttle.failed(name)
    throttle.check("a")  # forgotten
    for name in ("b", "c"):
        with pytest.raises(ThrottledError):
            throttle.check(name)
