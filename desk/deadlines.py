"""The one timer that feeds the routing engine its ``Tick`` at the engine's next deadline.

`desk.lifecycle.Lifecycle` re-arms it after every batch of events it applies (the deadline may
have moved either way) and cancels it on stop; when it fires, the lifecycle applies a ``Tick``
under its lock like every other event. A failed tick is logged, never raised into the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

# The lifecycle's logger: a failed tick is what operators look for there.
log = logging.getLogger("kefu.desk.lifecycle")


class DeadlineTimer:
    """At most one pending call of ``fire`` at the deadline last armed (times from ``clock``)."""

    def __init__(self, clock: Callable[[], float], fire: Callable[[], Awaitable[Any]]) -> None:
        self.clock = clock
        self.fire = fire
        self._handle: asyncio.TimerHandle | None = None
        # Ticks under way: the loop keeps only weak references to tasks (asyncio's docs), so a
        # tick waiting on something nobody else holds could be collected mid-way.
        self._running: set[asyncio.Future[Any]] = set()

    @property
    def armed(self) -> bool:
        return self._handle is not None

    def arm(self, deadline: float | None) -> None:
        """Fire at ``deadline`` (now if it has passed) instead of any earlier arming; ``None``: not at all."""
        self.cancel()
        if deadline is None:
            return
        delay = max(0.0, deadline - self.clock())
        self._handle = asyncio.get_running_loop().call_later(delay, self._fired)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _fired(self) -> None:
        self._handle = None
        task = asyncio.ensure_future(self.fire())
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("routing tick failed", exc_info=task.exception())
