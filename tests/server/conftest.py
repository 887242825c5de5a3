"""End-to-end fixtures: the real Kefu app (``build_services`` + ``make_app``) on a real port.

The app runs in demo mode: the WeChat simulator is mounted in the same server, the WeChat
client talks to it over HTTP, and ``customer`` (the simulator's webhook sender) POSTs signed
webhooks to ``/wechat`` exactly as WeChat does. Demo users: alice, bob, carol (agents),
super (supervisor), admin, qa.

``console(username)`` logs in, opens ``/ws``, says hello and returns a :class:`Console` whose
``event(name)`` awaits the next event of that name (no sleeps: each frame is awaited).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
import tornado.httpclient
import tornado.websocket

from kefu_config import parse_config
from server import build_services, make_app, make_http_server

DEMO_PASSWORDS = {"alice": "alice123", "bob": "bob123", "carol": "carol123", "super": "super123",
                  "admin": "admin123", "qa": "qa123456"}
EVENT_TIMEOUT_SECS = 10


class Console:
    """A console socket: sends commands by id, awaits results and events."""

    def __init__(self, conn: tornado.websocket.WebSocketClientConnection, welcome: dict[str, Any],
                 token: str, user: dict[str, Any]) -> None:
        self.conn = conn
        self.welcome = welcome
        self.token = token
        self.user = user
        self.next_id = 1
        self.frames: list[dict[str, Any]] = []  # every frame read, in order
        self.events: list[dict[str, Any]] = []
        self._pending: list[dict[str, Any]] = []
        self.closed: tuple[int | None, str | None] | None = None

    async def _read(self) -> dict[str, Any] | None:
        raw = await asyncio.wait_for(self.conn.read_message(), EVENT_TIMEOUT_SECS)
        if raw is None:
            self.closed = (self.conn.close_code, self.conn.close_reason)
            return None
        frame = json.loads(raw)
        self.frames.append(frame)
        if frame.get("type") == "event":
            self.events.append(frame)
        return frame

    async def command(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Send a command and return its result frame (events read meanwhile are kept)."""
        frame_id = self.next_id
        self.next_id += 1
        await self.conn.write_message(json.dumps({"type": type_, "id": frame_id, **fields}))
        while True:
            frame = await self._read()
            if frame is None:
                raise AssertionError(f"socket closed {self.closed} while waiting for result {frame_id}")
            if frame.get("type") == "result" and frame.get("id") == frame_id:
                return frame
            if frame.get("type") == "event":
                self._pending.append(frame)

    async def ok(self, type_: str, **fields: Any) -> dict[str, Any]:
        frame = await self.command(type_, **fields)
        assert frame["ok"], frame
        return frame["result"]

    async def event(self, name: str, where: Any = None, **match: Any) -> dict[str, Any]:
        """The next event called ``name`` whose data has the ``match`` items (and satisfies the
        ``where`` predicate, if given); returns its data."""
        def fits(frame: dict[str, Any]) -> bool:
            return (frame["event"] == name and all(frame["data"].get(k) == v for k, v in match.items())
                    and (where is None or where(frame["data"])))

        for i, frame in enumerate(self._pending):
            if fits(frame):
                del self._pending[i]
                return frame["data"]
        while True:
            frame = await self._read()
            if frame is None:
                raise AssertionError(f"socket closed {self.closed} while waiting for {name}")
            if frame.get("type") == "event":
                if fits(frame):
                    return frame["data"]
                self._pending.append(frame)

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def kefu_config(tmp_path, http_port, request):
    """Demo configuration; ``@pytest.mark.kefu(offer_timeout=1, ...)`` overrides settings."""
    config = parse_config(["--demo", "--port", str(http_port), "--store",
                           f"sqlite:///{tmp_path / 'kefu.sqlite3'}"], environ={})
    marker = request.node.get_closest_marker("kefu")
    return replace(config, **(marker.kwargs if marker else {}))


@pytest.fixture
def kefu(io_loop, kefu_config):
    services = io_loop.run_sync(lambda: build_services(kefu_config))
    yield services

    async def stop() -> None:
        await services.desk.drain()
        await services.desk.stop()
        services.bus.close_all(1001, "test over")
        await services.store.close()

    io_loop.run_sync(stop)


@pytest.fixture
def app(kefu):
    return make_app(kefu)


@pytest.fixture
def http_server(io_loop, _unused_port, app):
    """The app behind the same HTTP server settings as ``server.serve`` (body limit and all)."""
    server = make_http_server(app)
    server.add_socket(_unused_port[0])
    yield server
    server.stop()
    io_loop.run_sync(server.close_all_connections, timeout=10)


@pytest.fixture
def base_url(http_port):
    return f"http://127.0.0.1:{http_port}"


@pytest.fixture
def customer(kefu, http_server):
    """The simulator's webhook sender: ``await customer.send_text(openid, text)``."""
    return kefu.simulator.sender


@pytest.fixture
def platform(kefu):
    return kefu.simulator.platform


@pytest.fixture
def api(http_server, base_url):
    client = tornado.httpclient.AsyncHTTPClient()

    async def fetch(path: str, method: str = "GET", body: Any = None, token: str | None = None,
                    headers: dict[str, str] | None = None) -> tuple[int, Any]:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            all_headers.setdefault("Content-Type", "application/json")
        response = await client.fetch(base_url + path, method=method, body=body, headers=all_headers,
                                      raise_error=False, allow_nonstandard_methods=True)
        try:
            data = json.loads(response.body) if response.body else None
        except ValueError:
            data = response.body.decode()
        return response.code, data

    return fetch


@pytest.fixture
def login(api):
    async def do(username: str) -> tuple[str, dict[str, Any]]:
        status, data = await api("/api/auth/login", "POST", {"username": username,
                                                              "password": DEMO_PASSWORDS[username]})
        assert status == 200, data
        return data["token"], data["user"]

    return do


@pytest.fixture
def console(http_server, http_port, login):
    opened: list[Console] = []

    async def connect(username: str, resume: int | None = None, token: str | None = None) -> Console:
        user: dict[str, Any] = {}
        if token is None:
            token, user = await login(username)
        request = tornado.httpclient.HTTPRequest(f"ws://127.0.0.1:{http_port}/ws",
                                                 headers={"Origin": f"http://127.0.0.1:{http_port}"})
        conn = await tornado.websocket.websocket_connect(request)
        await conn.write_message(json.dumps({"type": "hello", "token": token, "resume": resume}))
        welcome = json.loads(await asyncio.wait_for(conn.read_message(), EVENT_TIMEOUT_SECS))
        assert welcome["type"] == "welcome", welcome
        client = Console(conn, welcome, token, user or welcome["user"])
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server of our own on a free port (never the machine's shared one)."""
    import os
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is missing: install the Debian package redis-server")
        pytest.skip("redis-server is missing: run 'sudo apt-get install redis-server' to run this test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:  # wait until it accepts connections
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.02)  # polling a starting child process: there is no event to await
    yield {"url": f"redis://127.0.0.1:{port}/0", "proc": proc}
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
