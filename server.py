"""Kefu's composition root: read the configuration, build the services, make the app, serve, stop.

This is the only module that knows the concrete store, bus and WeChat client. Tests build the
application through the same :func:`build_services` and :func:`make_app`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tornado.httpserver
import tornado.web

from bank.loader import AdapterSpecError, load_adapter
from bank.timed import TimedBank
from bus.base import Bus
from bus.local import LocalBus
from desk.accounts import Accounts
from desk.connection import ConnectionSettings
from desk.desk import Desk
from desk.metrics import Metrics
from handlers.wechat import WebhookSettings
from kefu_config import Config, ConfigError, parse_config
from kefu_logging import setup_logging
from store import Store, open_store
from wechat.client import WeChatClient
from wechat.crypto import MessageCipher

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from wechat.sim.demo import DemoSimulator

log = logging.getLogger("kefu.server")

ROOT = Path(__file__).resolve().parent
MAX_WEBHOOK_BODY_BYTES = 256 * 1024
# Browsers cannot send large frames by accident; anything bigger is an attack or a bug.
WEBSOCKET_MAX_MESSAGE_BYTES = 64 * 1024
# A ping every 20 s finds a dead peer within 40 s, well inside the agent-disconnect grace
# (Tornado allows a timeout no longer than the interval).
WEBSOCKET_PING_INTERVAL_SECS = 20
WEBSOCKET_PING_TIMEOUT_SECS = 20
SHUTDOWN_DRAIN_SECS = 10
# The store's writer thread hands every committed write back to the event loop; with CPython's
# default 5 ms GIL switch interval each hand-back can wait up to 5 ms behind a busy loop, and a
# customer message makes several. 0.5 ms cut webhook→agent p50 at 300 msg/s from seconds to
# ~0.2 s in bench/bench_desk.py (docs/benchmarks.md).
GIL_SWITCH_INTERVAL_SECS = 0.0005
# CPython's cyclic GC: a full pass walks every live object and stops the loop meanwhile (about
# 200 ms with 2,000 sockets open, bench/bench_desk.py). What is alive once start-up is done
# (modules, routes, the rebuilt routing state) is frozen out of those passes, and a larger
# young generation lets a request's objects die by reference counting before a collection
# promotes them toward the old generation, whose growth is what triggers full passes.
GC_THRESHOLDS = (20_000, 20, 20)
# What every answer's Server header says: Tornado's default names its version, which tells an
# attacker which published flaws to try.
SERVER_HEADER = "Kefu"


@dataclass
class Services:
    """What the composition root built, once, in `build_services`. ``make_app`` hands each route
    only the pieces it uses (through each handler module's ``default_handlers``)."""

    config: Config
    store: Store
    bus: Bus
    accounts: Accounts
    desk: Desk
    wechat: WeChatClient
    webhook: WebhookSettings
    metrics: Metrics = field(default_factory=Metrics)
    connection_settings: ConnectionSettings = field(default_factory=ConnectionSettings)
    # The Redis client when ``--redis`` is set: /healthz pings it, shutdown closes it.
    redis: Redis | None = None
    redis_ping: Callable[[], Awaitable[bool]] | None = None
    simulator: DemoSimulator | None = None


async def build_services(config: Config) -> Services:
    """Create the store, bus, accounts, WeChat client and desk inside the running loop."""
    store = open_store(config.store)
    await store.open()
    bus = LocalBus()
    accounts = Accounts(store, bus, secret=config.jwt_secret or "kefu-demo-secret-do-not-use-in-production",
                        token_lifetime=config.token_lifetime)
    simulator = None
    wechat_api = config.wechat_api
    appid, secret, token = config.wechat_appid, config.wechat_secret, config.wechat_token
    aes_key = config.wechat_aes_key
    if config.demo:
        from wechat.sim.demo import DemoSimulator

        appid = appid or "wxdemo0000000000"
        secret = secret or "demo-app-secret"
        token = token or "kefu-demo-token"
        simulator = DemoSimulator(appid=appid, secret=secret, token=token, aes_key=aes_key or None,
                                  webhook_url=f"http://127.0.0.1:{config.port}/wechat")
        if config.wechat_api == Config.wechat_api:
            wechat_api = f"http://127.0.0.1:{config.port}/sim"
    # The effective WeChat identity (demo values filled in) is what the webhook checks against.
    webhook = WebhookSettings(token=token, appid=appid,
                              cipher=MessageCipher(token, aes_key, appid) if aes_key else None,
                              max_skew=config.wechat_max_skew, mode=config.webhook_mode)
    wechat = WeChatClient(appid, secret, api_base=wechat_api)
    metrics = Metrics()
    bank = await _open_bank(config, simulator)
    desk = Desk(store=store, bus=bus, accounts=accounts, wechat=wechat, config=config, metrics=metrics, bank=bank)
    redis_client: Redis | None = None
    redis_ping: Callable[[], Awaitable[bool]] | None = None
    if config.redis:
        import redis.asyncio as aioredis

        redis_client = aioredis.from_url(config.redis)
        redis_ping = _pinger(redis_client)
        log.warning("redis configured: /healthz checks it; delivery still runs in-process (one process)",
                    extra={"fields": {"redis": config.redis.split("@")[-1]}})
    services = Services(config=config, store=store, bus=bus, accounts=accounts, desk=desk, wechat=wechat,
                        webhook=webhook, metrics=metrics, connection_settings=ConnectionSettings(),
                        redis=redis_client, redis_ping=redis_ping, simulator=simulator)
    if config.bootstrap_credentials:
        await accounts.ensure_bootstrap_admin(*config.bootstrap_credentials)
    if config.demo:
        await accounts.seed_demo()
    await desk.start()
    return services


async def _open_bank(config: Config, simulator: DemoSimulator | None) -> TimedBank | None:
    """The bank adapter ``--bank-adapter`` names, with ``--bank-timeout`` on every call; None:
    self-service is off. The demo bank's text messages go to the simulator's phones."""
    sms = simulator.platform.sms.deliver if simulator is not None else None
    try:
        adapter = load_adapter(config.bank_adapter, config.demo, sms=sms)
    except AdapterSpecError as exc:
        raise ConfigError(str(exc)) from None
    if adapter is None:
        return None
    await adapter.open()
    log.info("bank adapter", extra={"fields": {"adapter": adapter.name, "timeout_s": config.bank_timeout}})
    return TimedBank(adapter, config.bank_timeout)


def _pinger(client: Redis) -> Callable[[], Awaitable[bool]]:
    async def ping() -> bool:
        return bool(await client.ping())

    return ping


def make_app(services: Services, **settings: Any) -> tornado.web.Application:
    """Join every handler module's routes in a fixed order, check their access, add a JSON 404."""
    from handlers import (
        api,
        auth,
        bot,
        canned,
        health,
        menu,
        notifications,
        openapi,
        pages,
        reports,
        socket,
        teams,
        users,
        wechat,
    )
    from handlers import leave_messages as leave_messages_api
    from handlers import settings as settings_api
    from handlers.base import JSONNotFoundHandler, check_handler_access

    routes: list[Any] = []
    for module in (wechat, health, auth, users, teams, api, canned, bot, settings_api, menu, notifications, reports,
                   leave_messages_api, openapi, socket, pages):
        routes.extend(module.default_handlers(services))
    if services.simulator is not None:
        routes.extend(services.simulator.routes())
    check_handler_access(routes)
    app_settings: dict[str, Any] = dict(
        template_path=str(ROOT / "templates"),
        static_path=str(ROOT / "static"),
        websocket_max_message_size=WEBSOCKET_MAX_MESSAGE_BYTES,
        websocket_ping_interval=WEBSOCKET_PING_INTERVAL_SECS,
        websocket_ping_timeout=WEBSOCKET_PING_TIMEOUT_SECS,
        default_handler_class=JSONNotFoundHandler,
        xsrf_cookies=False,
        log_function=_log_request,
    )
    app_settings.update(settings)
    return tornado.web.Application(routes, transforms=[ServerHeader], **app_settings)


class ServerHeader(tornado.web.OutputTransform):
    """Sets ``Server: Kefu`` on every answer (pages, API, errors, the WebSocket handshake)."""

    def transform_first_chunk(self, status_code: int, headers: Any, chunk: bytes,
                              finishing: bool) -> tuple[int, Any, bytes]:
        headers["Server"] = SERVER_HEADER
        return status_code, headers, chunk


def make_http_server(app: tornado.web.Application) -> tornado.httpserver.HTTPServer:
    """The HTTP server in front of ``app``, as ``serve`` runs it (tests serve the app with it too)."""
    return tornado.httpserver.HTTPServer(app, max_body_size=MAX_WEBHOOK_BODY_BYTES * 4, xheaders=False)


def _log_request(handler: tornado.web.RequestHandler) -> None:
    status = handler.get_status()
    level = logging.INFO if status < 400 else logging.WARNING if status < 500 else logging.ERROR
    if handler.request.path in ("/healthz", "/metrics") and status < 400:
        level = logging.DEBUG
    # The path only: query strings carry WeChat signatures and must not land in logs.
    logging.getLogger("kefu.access").log(
        level, "http", extra={"fields": {"method": handler.request.method, "path": handler.request.path,
                                          "status": status,
                                          "ms": round(1000.0 * handler.request.request_time(), 1)}})


def tune_interpreter() -> None:
    """GIL switch interval and GC thresholds for a latency-sensitive server (see the constants)."""
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_SECS)
    gc.set_threshold(*GC_THRESHOLDS)


def settle_heap() -> None:
    """Once started: collect start-up garbage, then keep what is alive now out of later GC passes."""
    gc.collect()
    gc.freeze()


async def serve(config: Config, ready: asyncio.Future[Any] | None = None) -> None:
    """Run until SIGTERM/SIGINT, then stop accepting, drain, flush and close sockets with 1001."""
    services = await build_services(config)
    app = make_app(services)
    server = make_http_server(app)
    server.listen(config.port, config.address)
    log.info("listening", extra={"fields": {"url": f"http://{config.address}:{config.port}/",
                                             "store": config.store.split(":", 1)[0], "demo": config.demo}})
    if services.simulator is not None:
        await services.simulator.start()
        base = f"http://{config.address}:{config.port}"
        log.info("demo ready", extra={"fields": {
            "console": f"{base}/", "simulator": f"{base}/simulator",
            "logins": "alice/alice123 bob/bob123 carol/carol123 (agents), super/super123, admin/admin123"}})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    settle_heap()
    if ready is not None and not ready.done():
        ready.set_result(services)
    await stop.wait()
    log.info("shutting down")
    server.stop()
    try:
        await asyncio.wait_for(services.desk.drain(), SHUTDOWN_DRAIN_SECS)
    except TimeoutError:
        log.warning("shutdown drain timed out")
    if services.simulator is not None:
        await services.simulator.stop()
    await services.desk.stop()
    services.bus.close_all(1001, "server shutting down")
    await server.close_all_connections()
    await services.store.close()
    if services.redis is not None:
        await services.redis.aclose()
    log.info("stopped")


def main(argv: Sequence[str] | None = None) -> int:
    try:
        config = parse_config(argv)
    except ConfigError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.log_level, config.log_format)
    tune_interpreter()
    try:
        asyncio.run(serve(config))
    except ConfigError as exc:
        print(f"kefu: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"kefu: cannot start: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
