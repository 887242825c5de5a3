"""The simulator as ``server.py --demo`` mounts it: a platform, a webhook sender, their routes.

The simulated WeChat API answers under ``/sim/cgi-bin/...`` (``--wechat-api`` defaults to it in
demo mode) and the customer page under ``/simulator``; the sender POSTs to Kefu's own
``/wechat`` webhook, in safe mode when an EncodingAESKey is configured.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from wechat.sim.api import platform_routes
from wechat.sim.customers import WebhookSender
from wechat.sim.platform import WeChatPlatform
from wechat.sim.web import DEFAULT_MENU, simulator_routes

API_PREFIX = "/sim"
PAGE_PREFIX = "/simulator"


class DemoSimulator:
    """Everything the demo needs to play WeChat against this very server."""

    def __init__(
        self,
        appid: str,
        secret: str,
        token: str,
        aes_key: str | None,
        webhook_url: str,
        menu: tuple[tuple[str, str], ...] = DEFAULT_MENU,
    ) -> None:
        parts = urlsplit(webhook_url)
        self.platform = WeChatPlatform(appid, secret, token, aes_key=aes_key,
                                       avatar_base_url=f"{parts.scheme}://{parts.netloc}{PAGE_PREFIX}/avatar/")
        self.sender = WebhookSender(self.platform, webhook_url, safe_mode=bool(aes_key))
        self.menu = menu

    def routes(self) -> list[tuple[str, type, dict[str, Any]]]:
        return platform_routes(self.platform, prefix=API_PREFIX) + simulator_routes(
            self.platform, self.sender, prefix=PAGE_PREFIX, menu=self.menu
        )

    async def start(self) -> None:
        """Nothing to start: the platform is in memory and the sender connects on demand."""

    async def stop(self) -> None:
        """Nothing to stop; open simulator sockets close with the server."""
