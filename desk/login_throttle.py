"""Login throttling: after a few failed logins for a username, each attempt waits longer.

The first :data:`FREE_LOGIN_FAILURES` failures are free, then each failure doubles the wait, 1 s up
to :data:`THROTTLE_MAX_SECS`; a successful login resets the count. Attempts still being checked
count as failures: scrypt is slow, so parallel guesses would otherwise all be checked before the
first failure is counted. Memory is bounded (the oldest usernames are forgotten first) against
username spraying. Used by `desk.accounts.Accounts.login`.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from desk.errors import ThrottledError

# The accounts' logger: "login throttled" sits beside "login failed" for an operator.
log = logging.getLogger("kefu.accounts")

FREE_LOGIN_FAILURES = 3
THROTTLE_MAX_SECS = 60.0
THROTTLE_TRACKED_USERNAMES = 10_000  # bounded memory against username spraying


class LoginThrottle:
    """Failures and attempts in flight per key (the casefolded username); times from ``clock``."""

    def __init__(self, clock: Callable[[], float], tracked: int = THROTTLE_TRACKED_USERNAMES) -> None:
        self._clock = clock
        self._tracked = tracked
        # key -> (consecutive failures, time of the last failure)
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()
        # key -> logins being checked right now (absent when none)
        self._in_flight: dict[str, int] = {}

    def check(self, key: str) -> None:
        """Raise :class:`ThrottledError` (with the seconds to wait) if ``key`` must wait now."""
        failures, last = self._failures.get(key, (0, 0.0))
        in_flight = self._in_flight.get(key, 0)
        if in_flight:
            # Each attempt still being checked counts as a failure happening now: it will be one
            # unless the password is right, and then the wait is over for everyone anyway.
            failures, last = failures + in_flight, self._clock()
        if failures < FREE_LOGIN_FAILURES:
            return
        wait = min(THROTTLE_MAX_SECS, 2.0 ** (failures - FREE_LOGIN_FAILURES))
        remaining = last + wait - self._clock()
        if remaining > 0:
            log.warning("login throttled", extra={"fields": {"username": key[:64], "failures": failures,
                                                             "retry_after": round(remaining, 1)}})
            raise ThrottledError(remaining)

    @contextmanager
    def attempt(self, key: str) -> Iterator[None]:
        """Check, then count the attempt as in flight until the block ends. Counted from the check
        on, with no await in between, so that a parallel attempt sees it."""
        self.check(key)
        self._in_flight[key] = self._in_flight.get(key, 0) + 1
        try:
            yield
        finally:
            left = self._in_flight.pop(key) - 1
            if left:
                self._in_flight[key] = left

    def failed(self, key: str) -> int:
        """Count a failure; returns the consecutive failures so far."""
        failures = self._failures.pop(key, (0, 0.0))[0] + 1
        self._failures[key] = (failures, self._clock())
        while len(self._failures) > self._tracked:
            self._failures.popitem(last=False)
        return failures

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
