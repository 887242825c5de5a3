"""Operations endpoints: ``GET /healthz`` (store and Redis answer?) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any

import tornado.web

from desk.metrics import CONTENT_TYPE, metrics_of
from handlers.base import PUBLIC

log = logging.getLogger("kefu.health")

# A health check that hangs is worse than one that fails: the orchestrator needs an answer.
HEALTH_CHECK_TIMEOUT_SECS = 2.0


async def _answers(check: Any) -> bool:
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

    def initialize(self, services: Any) -> None:
        self.services = services

    async def get(self) -> None:
        body: dict[str, str] = {"status": "ok"}
        body["store"] = "ok" if await _answers(self.services.store.ping) else "failing"
        redis_ping = self.services.extras.get("redis_ping")
        if redis_ping is not None:
            body["redis"] = "ok" if await _answers(redis_ping) else "failing"
        if any(v == "failing" for v in body.values()):
            body["status"] = "failing"
            self.set_status(503)
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


class MetricsHandler(tornado.web.RequestHandler):
    access = PUBLIC

    def initialize(self, services: Any) -> None:
        self.services = services

    async def get(self) -> None:
        metrics = metrics_of(self.services)
        await metrics.refresh(self.services)
        self.set_header("Content-Type", CONTENT_TYPE)
        self.set_header("Cache-Control", "no-store")
        self.finish(metrics.render())


def default_handlers(services: Any) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"services": services}
    return [
        (r"/healthz", HealthHandler, args),
        (r"/metrics", MetricsHandler, args),
    ]
