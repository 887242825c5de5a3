"""A token bucket, pure: the socket's inbound frame rate (`desk.connection`), ``rate`` a second
up to ``burst``, against an injected clock."""

from __future__ import annotations

from collections.abc import Callable


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; ``take()`` is False when empty."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self.tokens = burst
        self._last = clock()

    def take(self) -> bool:
        now = self._clock()
        self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
        self._last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
