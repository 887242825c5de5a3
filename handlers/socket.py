"""``/ws``: the console WebSocket. Thin: origin check, then everything goes to a `ConsoleConnection`.

Browsers cannot put a token on a WebSocket handshake (and a token in the URL lands in access
logs), so the socket is public at the HTTP level and the first frame, ``hello``, authenticates.
The ``Origin`` check stops other sites from opening a socket with a user's browser. An upgrade
with no ``Origin`` at all (no browser sends one without) is refused too, unless
``--allow-no-origin`` lets non-browser clients in.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import tornado.websocket

from desk.connection import ConnectionSettings, ConsoleConnection
from desk.metrics import Metrics
from handlers.base import PUBLIC

if TYPE_CHECKING:
    from bus.base import Bus
    from desk.accounts import Accounts
    from desk.desk import Desk
    from server import Services

log = logging.getLogger("kefu.socket")


def _origin_of(url: str) -> str:
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.scheme and parts.netloc else ""


@dataclass(frozen=True)
class SocketCollaborators:
    """What a console socket's `ConsoleConnection` is built with."""

    accounts: Accounts
    bus: Bus
    desk: Desk
    settings: ConnectionSettings
    metrics: Metrics


@dataclass(frozen=True)
class OriginPolicy:
    """Which pages may open a socket: the server's own origin and ``--allowed-origin`` ones."""

    allowed_origins: tuple[str, ...]
    allow_no_origin: bool  # --allow-no-origin: let non-browser clients in


class ConsoleSocketHandler(tornado.websocket.WebSocketHandler):
    access = PUBLIC  # authenticated by the hello frame

    def initialize(self, collaborators: SocketCollaborators, origins: OriginPolicy) -> None:
        self.collaborators = collaborators
        self.origins = origins
        self.connection: ConsoleConnection | None = None

    async def get(self, *args: Any, **kwargs: Any) -> None:
        # Tornado calls check_origin only when an Origin header is present.
        headers = self.request.headers
        if ("Origin" not in headers and "Sec-Websocket-Origin" not in headers
                and not self.origins.allow_no_origin):
            log.warning("websocket without origin refused")
            self.set_status(403)
            self.finish("an Origin header is required (see --allow-no-origin)")
            return
        await super().get(*args, **kwargs)

    def check_origin(self, origin: str) -> bool:
        own = f"{self.request.protocol}://{self.request.host}".lower()
        allowed = {own} | {_origin_of(o) for o in self.origins.allowed_origins}
        ok = _origin_of(origin) in allowed
        if not ok:
            log.warning("websocket origin refused", extra={"fields": {"origin": origin[:200]}})
        return ok

    def get_compression_options(self) -> None:
        return None  # compression off: CPU per frame, and compressed secrets leak (CRIME/BREACH)

    def open(self, *args: str, **kwargs: str) -> None:
        c = self.collaborators
        self.connection = ConsoleConnection(send=self._send, close=self._close, accounts=c.accounts, bus=c.bus,
                                            desk=c.desk, settings=c.settings, metrics=c.metrics)
        self.connection.start()

    def _send(self, data: bytes) -> Awaitable[None]:
        # UTF-8 bytes of a JSON frame, sent as a text frame (Tornado sends bytes as they are).
        return self.write_message(data)  # raises WebSocketClosedError; the writer stops on it

    def _close(self, code: int, reason: str) -> None:
        self.close(code, reason)

    def on_message(self, message: str | bytes) -> None:
        if self.connection is not None:
            self.connection.on_message(message)

    def on_close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.on_close()


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    collaborators = SocketCollaborators(accounts=services.accounts, bus=services.bus, desk=services.desk,
                                        settings=services.connection_settings, metrics=services.metrics)
    origins = OriginPolicy(allowed_origins=tuple(services.config.allowed_origins),
                           allow_no_origin=services.config.allow_no_origin)
    return [(r"/ws", ConsoleSocketHandler, {"collaborators": collaborators, "origins": origins})]
