"""Baselines for the benchmarks: a bare Tornado handler answering ``success`` and a WebSocket echo.

Run as ``python -m bench.bare_server PORT``.
"""

from __future__ import annotations

import asyncio
import sys

import tornado.web
import tornado.websocket


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


async def serve(port: int) -> None:
    app = tornado.web.Application([(r"/wechat", Success), (r"/healthz", Success), (r"/echo", Echo)])
    app.listen(port, "127.0.0.1")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
