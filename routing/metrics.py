"""Per-queue routing counters and the sliding window behind service level and average wait.

Owns :class:`QueueMetrics`. Counters are cumulative since the engine started; the window keeps
one ``(time, outcome, wait_secs)`` record per session that left the queue (answered, abandoned
or diverted for waiting too long) and is trimmed as records are added. Queries never change it.
"""

from __future__ import annotations

from collections import deque
from typing import Any

ANSWERED, ABANDONED, TIMED_OUT_DIVERT = "answered", "abandoned", "max_wait"
COUNTERS = ("requested", "offered", "accepted", "rejected", "timed_out", "abandoned", "diverted")


class QueueMetrics:
    """Counters and the outcome window of one skill queue."""

    __slots__ = ("counts", "window")

    def __init__(self) -> None:
        self.counts: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self.window: deque[tuple[float, str, float]] = deque()

    def record(self, now: float, outcome: str, wait_secs: float, window_secs: float) -> None:
        self.window.append((now, outcome, wait_secs))
        horizon = now - window_secs
        while self.window and self.window[0][0] < horizon:
            self.window.popleft()

    def summary(self, now: float, sla_secs: float, window_secs: float, waiting_past_sla: int = 0) -> dict[str, Any]:
        """``waiting_past_sla``: sessions still in the queue that have waited longer than the
        target. They are breaches already, whatever happens next, so the live figure counts them
        now rather than when they leave (a queue whose customers all wait forever is not 100 %)."""
        horizon = now - window_secs
        answered = within = left = 0
        total_wait = 0.0
        for when, outcome, wait in self.window:
            if when < horizon:
                continue
            left += 1
            if outcome == ANSWERED:
                answered += 1
                total_wait += wait
                if wait <= sla_secs:
                    within += 1
        judged = left + waiting_past_sla
        return {
            # Fraction of sessions that left the queue in the window answered within the SLA;
            # abandoned and timed-out sessions count against it, and so does each session still
            # waiting past the SLA. None when nothing can be judged yet.
            "service_level": (within / judged) if judged else None,
            "waiting_past_sla": waiting_past_sla,
            "average_wait_s": (total_wait / answered) if answered else None,
            "answered_in_window": answered,
            "left_queue_in_window": left,
            **self.counts,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"counts": dict(self.counts), "window": [list(r) for r in self.window]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueueMetrics:
        metrics = cls()
        metrics.counts.update(data["counts"])
        metrics.window = deque((t, o, w) for t, o, w in data["window"])
        return metrics
