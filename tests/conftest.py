"""Shared fixtures: a Kefu app on a real port with a real SQLite store, and clients for it.

* ``kefu_services`` — `server.Services` with a SQLite store in ``tmp_path``, a `LocalBus`,
  `Accounts` (users ``admin``, ``super``, ``alice``, ``bob``; password ``<name>-password``) and a
  `tests.unit.fakes.FakeDesk` (``kefu_services.desk``) so socket and API tests control the desk.
  Routes are given their pieces when the app is made, so a test changes them beforehand:
  ``@pytest.mark.services(connection_settings=..., redis_ping=..., bus=...)`` sets those fields
  and ``@pytest.mark.kefu(allowed_origins=...)`` the fields of the config.
* ``app`` — the console routes (health, auth, users, api, socket) for ``kefu_services``, with
  the same settings as `server.make_app` (pytest-tornado serves it on ``http_port``).
* ``api_fetch(path, method="GET", body=None, token=None, user=None)`` — JSON in and out; ``user``
  logs that user in first. Answers ``(status, json_or_None, response)``; never raises on 4xx/5xx.
* ``login(username)`` → a token. ``ws_connect(origin=None)`` → a raw websocket client;
  ``ws_hello(username, resume=None)`` → ``(client, welcome)``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import tornado.httpclient
import tornado.web
import tornado.websocket

from kefu_config import Config

TEST_JWT_SECRET = "test-secret-0123456789abcdef0123456789"
TEST_USERS = {
    "admin": ["admin"],
    "super": ["supervisor"],
    "alice": ["agent"],
    "bob": ["agent"],
}


def test_password(username: str) -> str:
    return f"{username}-password"


test_password.__test__ = False  # type: ignore[attr-defined]  # not a test, a helper


@pytest.fixture
def kefu_config(tmp_path, request) -> Config:
    marker = request.node.get_closest_marker("kefu")
    return replace(Config(store=f"sqlite:///{tmp_path / 'kefu.sqlite3'}", jwt_secret=TEST_JWT_SECRET),
                   **(marker.kwargs if marker else {}))


@pytest.fixture
def kefu_services(io_loop, kefu_config, request):
    from bus.local import LocalBus
    from desk.accounts import Accounts
    from handlers.wechat import WebhookSettings
    from server import Services
    from store import open_store
    from tests.unit.fakes import FakeDesk
    from wechat.client import WeChatClient

    marker = request.node.get_closest_marker("services")
    fields = dict(marker.kwargs if marker else {})
    store = open_store(kefu_config.store)
    io_loop.run_sync(store.open)
    bus = fields.pop("bus", None) or LocalBus()
    accounts = Accounts(store, bus, secret=kefu_config.jwt_secret, token_lifetime=kefu_config.token_lifetime)

    async def seed() -> None:
        for username, roles in TEST_USERS.items():
            await accounts.create_user({"username": username, "password": test_password(username),
                                        "roles": roles})

    io_loop.run_sync(seed)
    webhook = WebhookSettings(token=kefu_config.wechat_token, appid=kefu_config.wechat_appid, cipher=None,
                              max_skew=kefu_config.wechat_max_skew, mode=kefu_config.webhook_mode)
    # The WeChat client is never called here (the desk is a fake); it only fills its field.
    wechat = WeChatClient(kefu_config.wechat_appid, kefu_config.wechat_secret, api_base="http://127.0.0.1:9")
    services = Services(config=kefu_config, store=store, bus=bus, accounts=accounts, desk=FakeDesk(),
                        wechat=wechat, webhook=webhook, **fields)
    yield services
    io_loop.run_sync(store.close)


def make_console_app(services: Any, **settings: Any) -> tornado.web.Application:
    """The routes of the console layer with `server.make_app`'s settings."""
    import server
    from handlers import api, auth, health, socket, users
    from handlers.base import JSONNotFoundHandler, check_handler_access

    routes: list[Any] = []
    for module in (health, auth, users, api, socket):
        routes.extend(module.default_handlers(services))
    check_handler_access(routes)
    return tornado.web.Application(
        routes, default_handler_class=JSONNotFoundHandler,
        websocket_max_message_size=server.WEBSOCKET_MAX_MESSAGE_BYTES,
        websocket_ping_interval=server.WEBSOCKET_PING_INTERVAL_SECS,
        websocket_ping_timeout=server.WEBSOCKET_PING_TIMEOUT_SECS, **settings)


@pytest.fixture
def app(kefu_services):
    return make_console_app(kefu_services)


@pytest.fixture
def api_fetch(http_client, base_url, login):
    async def fetch(path: str, method: str = "GET", body: Any = None, token: str | None = None,
                    user: str | None = None, headers: dict[str, str] | None = None):
        headers = dict(headers or {})
        if user is not None:
            token = await login(user)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        raw = None if body is None else (body if isinstance(body, (bytes, str)) else json.dumps(body))
        if raw is None and method in ("POST", "PATCH", "PUT"):
            raw = b""
        response = await http_client.fetch(base_url + path, method=method, body=raw, headers=headers,
                                           raise_error=False)
        text = response.body.decode() if response.body else ""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        return response.code, data, response
    return fetch


@pytest.fixture
def login(http_client, base_url):
    async def do_login(username: str, password: str | None = None) -> str:
        response = await http_client.fetch(
            base_url + "/api/auth/login", method="POST",
            body=json.dumps({"username": username, "password": password or test_password(username)}))
        return json.loads(response.body)["token"]
    return do_login


@pytest.fixture
def ws_connect(http_server, http_port):
    clients: list[tornado.websocket.WebSocketClientConnection] = []

    async def connect(origin: str | None = "") -> tornado.websocket.WebSocketClientConnection:
        """``origin`` "" sends the server's own origin, as the console does; None sends none."""
        if origin == "":
            origin = f"http://127.0.0.1:{http_port}"
        headers = {"Origin": origin} if origin is not None else {}
        request = tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{http_port}/ws", headers=headers)
        client = await tornado.websocket.websocket_connect(request)
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def ws_hello(ws_connect, login):
    async def hello(username: str, resume: int | None = None, token: str | None = None):
        client = await ws_connect()
        client.write_message(json.dumps({"type": "hello", "token": token or await login(username),
                                         "resume": resume}))
        message = await client.read_message()
        return client, (json.loads(message) if message is not None else None)
    return hello

