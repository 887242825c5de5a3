"""Kefu's Prometheus series, in a registry of their own (one per app, so tests can build many).

The desk, the webhook and the WeChat client call the small recording methods; ``/metrics`` calls
:meth:`Metrics.refresh` to sample the gauges that are cheaper to read than to track, then renders
:meth:`Metrics.render`.
"""

from __future__ import annotations

import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("kefu.metrics")

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The series. Every method is cheap and never raises into the caller's path."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sockets_open = Gauge("kefu_sockets_open", "Open console WebSockets", registry=r)
        self.sessions = Gauge("kefu_sessions", "Sessions by state", ["state"], registry=r)
        self.queue_length = Gauge("kefu_queue_length", "Sessions waiting per skill", ["skill"], registry=r)
        self.queue_longest_wait = Gauge("kefu_queue_longest_wait_seconds",
                                        "Longest current wait per skill", ["skill"], registry=r)
        self.messages = Counter("kefu_messages", "Messages relayed", ["direction"], registry=r)
        self.wechat_api_errors = Counter("kefu_wechat_api_errors", "WeChat API errors by errcode",
                                         ["code"], registry=r)
        self.routing_latency = Histogram("kefu_routing_decision_seconds", "Time to make a routing decision",
                                         buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                  0.25, 0.5, 1.0), registry=r)
        self.webhook_requests = Counter("kefu_webhook_requests", "WeChat webhook requests by outcome",
                                        ["outcome"], registry=r)
        self.inbound_backlog = Gauge("kefu_inbound_backlog",
                                     "Customer messages stored and waiting to be processed", registry=r)
        self.sockets_too_slow = Counter("kefu_sockets_closed_too_slow",
                                        "Console sockets closed with 4009: the client stopped reading and "
                                        "its outbound queue passed the limit", registry=r)
        # Template messages (desk/notifications.py) by outcome: sent, refused, failed, rate_limited,
        # unsubscribed (refused before WeChat was called).
        self.notifications = Counter("kefu_notifications", "Template messages by outcome", ["outcome"], registry=r)
        # Children of the series counted on every message, looked up once.
        self._messages_in = self.messages.labels("in")
        self._messages_out = self.messages.labels("out")
        self._webhook_outcomes: dict[str, Any] = {}

    # -- recording -----------------------------------------------------------------------------

    def message_in(self, n: int = 1) -> None:
        self._messages_in.inc(n)

    def message_out(self, n: int = 1) -> None:
        self._messages_out.inc(n)

    def wechat_api_error(self, code: int | str) -> None:
        self.wechat_api_errors.labels(str(code)).inc()

    def notification(self, outcome: str) -> None:
        self.notifications.labels(outcome).inc()

    def socket_too_slow(self) -> None:
        self.sockets_too_slow.inc()

    def observe_routing(self, seconds: float) -> None:
        self.routing_latency.observe(seconds)

    def webhook(self, outcome: str) -> None:
        child = self._webhook_outcomes.get(outcome)
        if child is None:
            child = self._webhook_outcomes[outcome] = self.webhook_requests.labels(outcome)
        child.inc()

    def set_queue(self, skill: str, length: int, longest_wait_s: float) -> None:
        self.queue_length.labels(skill).set(length)
        self.queue_longest_wait.labels(skill).set(longest_wait_s)

    def set_sessions(self, counts: dict[str, int]) -> None:
        for state, count in counts.items():
            self.sessions.labels(state).set(count)

    # -- sampling ------------------------------------------------------------------------------

    async def refresh(self, services: Any) -> None:
        """Sample sockets (bus), sessions by state (store) and queues (desk), each best effort."""
        try:
            self.sockets_open.set(services.bus.connection_count())
        except Exception:
            log.exception("metrics: bus sample failed")
        try:
            counts = await services.store.count_sessions_by_state()
            self.set_sessions(counts)
        except Exception:
            log.exception("metrics: store sample failed")
        inbound = getattr(services.desk, "inbound", None)
        if inbound is not None:
            self.inbound_backlog.set(inbound.backlog)
        snapshot = getattr(services.desk, "queues_snapshot", None)
        if snapshot is None:
            return
        try:
            result = await snapshot()
            for q in (result or {}).get("queues", []):
                self.set_queue(q["skill"], int(q.get("waiting", 0)), float(q.get("longest_wait_s") or 0))
        except Exception:
            log.exception("metrics: queue sample failed")

    def render(self) -> bytes:
        return generate_latest(self.registry)

