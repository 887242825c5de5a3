"""Operations endpoints: ``GET /healthz`` (store and Redis answer?) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tornado.web

from desk.metrics import CONTENT_TYPE, Metrics
from handlers.base import PUBLIC

if TYPE_CHECKING:
    from bus.base import Bus
    from desk.desk import Desk
    from server import Services
    from store import Store

log = logging.getLogger("kefu.health")

# A health check that hangs is worse than one that fails: the orchestrator needs an answer.
HEALTH_CHECK_TIMEOUT_SECS = 2.0


HealthCheck = Callable[[], Awaitable[bool] | bool]


async def _answers(check: HealthCheck) -> bool:
    try:
        result = check()
        if inspect.isawaitable(result):
            result = await asyncio.wait_for(result, HEALTH_CHECK_TIMEOUT_SECS)
        return result is not False
    except Exception:
        log.warning("health check failed", exc_info=True)
        return False


class HealthHandler(tornado.web.RequestHandler):
    access = PUBLIC

    def initialize(self, store: Store, redis_ping: HealthCheck | None) -> None:
        self.store = store
        self.redis_ping = redis_ping

    async def get(self) -> None:
        body: dict[str, str] = {"status": "ok"}
        body["store"] = "ok" if await _answers(self.store.ping) else "failing"
        if self.redis_ping is not None:
            body["redis"] = "ok" if await _answers(self.redis_ping) else "failing"
        if any(v == "failing" for v in body.values()):
            body["status"] = "failing"
            self.set_status(503)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


@dataclass(frozen=True)
class Sampled:
    """What `Metrics.refresh` samples: sockets (bus), sessions by state (store), queues (desk)."""

    bus: Bus
    store: Store
    desk: Desk


class MetricsHandler(tornado.web.RequestHandler):
    access = PUBLIC

    def initialize(self, metrics: Metrics, sampled: Sampled) -> None:
        self.metrics = metrics
        self.sampled = sampled

    async def get(self) -> None:
        metrics = self.metrics
        await metrics.refresh(self.sampled)
        self.set_header("Content-Type", CONTENT_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(metrics.render())


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    sampled = Sampled(bus=services.bus, store=services.store, desk=services.desk)
    return [
        (r"/healthz", HealthHandler, {"store": services.store, "redis_ping": services.redis_ping}),
        (r"/metrics", MetricsHandler, {"metrics": services.metrics, "sampled": sampled}),
    ]
