"""Helpers to run the simulated WeChat platform in tests: a settable clock and a server starter.

``tests/wechat/conftest.py`` wraps them in the ``wechat_sim`` fixture; other test packages can
import that fixture or call ``start_platform_server`` with their own platform.
"""

from __future__ import annotations

from dataclasses import dataclass

import tornado.httpserver
import tornado.testing

from wechat.sim.api import make_platform_app
from wechat.sim.platform import WeChatPlatform


class FakeClock:
    """A clock tests move by hand: ``clock()`` is the time, ``clock.advance(secs)`` moves it."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, secs: float) -> None:
        self.now += secs


@dataclass
class PlatformServer:
    platform: WeChatPlatform
    server: tornado.httpserver.HTTPServer
    port: int

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()


def start_platform_server(platform: WeChatPlatform) -> PlatformServer:
    """Serve ``make_platform_app(platform)`` on a free localhost port of the current loop."""
    sock, port = tornado.testing.bind_unused_port()
    server = tornado.httpserver.HTTPServer(make_platform_app(platform))
    server.add_sockets([sock])
    return PlatformServer(platform, server, port)
