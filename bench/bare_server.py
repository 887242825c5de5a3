"""Baselines for the benchmarks, with nothing of Kefu in them.

* ``POST /wechat`` (and ``/healthz``): a bare Tornado handler answering ``success``.
* ``/echo``: a WebSocket echo; every frame is sent straight back.
* The bare relay, the same data flow as Kefu's webhook → agent socket path: clients connect to the
  WebSocket ``/listen`` and only receive; ``POST /relay?openid=...`` answers ``success``
  (``text/plain``) and writes the body's ``<Content><![CDATA[...]]></Content>`` text as one text
  frame to a listener. Each openid is given a listener round-robin the first time it is seen and
  keeps it while that listener stays connected. No signature check, no XML parsing, no storage.

Run as ``python -m bench.bare_server PORT``.
"""

from __future__ import annotations

import asyncio
import itertools
import sys

import tornado.web
import tornado.websocket

CONTENT_OPEN = b"<Content><![CDATA["
CONTENT_CLOSE = b"]]></Content>"


class Success(tornado.web.RequestHandler):
    def post(self) -> None:
        self.finish("success")

    def get(self) -> None:
        self.finish("ok")


class Echo(tornado.websocket.WebSocketHandler):
    def check_origin(self, origin: str) -> bool:
        return True

    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)


class Relay:
    """The connected ``/listen`` sockets and which one each openid goes to."""

    def __init__(self) -> None:
        self.listeners: list[Listen] = []
        self.assigned: dict[str, Listen] = {}
        self._turn = itertools.count()

    def add(self, listener: Listen) -> None:
        self.listeners.append(listener)

    def remove(self, listener: Listen) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)
        self.assigned = {k: v for k, v in self.assigned.items() if v is not listener}

    def listener_for(self, openid: str) -> Listen | None:
        listener = self.assigned.get(openid)
        if listener is None and self.listeners:
            listener = self.listeners[next(self._turn) % len(self.listeners)]
            self.assigned[openid] = listener
        return listener


def content_text(body: bytes) -> str | None:
    """The text of ``<Content><![CDATA[...]]></Content>`` in a WeChat XML body, found with ``find``."""
    start = body.find(CONTENT_OPEN)
    if start < 0:
        return None
    start += len(CONTENT_OPEN)
    end = body.find(CONTENT_CLOSE, start)
    if end < 0:
        return None
    return body[start:end].decode("utf-8", errors="replace")


class Listen(tornado.websocket.WebSocketHandler):
    def initialize(self, relay: Relay) -> None:
        self.relay = relay

    def check_origin(self, origin: str) -> bool:
        return True

    def open(self) -> None:
        self.relay.add(self)

    def on_message(self, message: str | bytes) -> None:
        pass  # listeners only receive

    def on_close(self) -> None:
        self.relay.remove(self)


class RelayHook(tornado.web.RequestHandler):
    def initialize(self, relay: Relay) -> None:
        self.relay = relay

    def post(self) -> None:
        openid = self.get_query_argument("openid", "")
        text = content_text(self.request.body)
        listener = self.relay.listener_for(openid)
        if text is not None and listener is not None:
            try:
                listener.write_message(text)
            except tornado.websocket.WebSocketClosedError:
                self.relay.remove(listener)
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.finish("success")


def make_app() -> tornado.web.Application:
    relay = Relay()
    return tornado.web.Application([
        (r"/wechat", Success), (r"/healthz", Success), (r"/echo", Echo),
        (r"/listen", Listen, {"relay": relay}), (r"/relay", RelayHook, {"relay": relay}),
    ])


async def serve(port: int) -> None:
    make_app().listen(port, "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
