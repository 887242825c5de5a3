"""A minimal webhook, reduced from what handlers/wechat.py does: verify, open, parse, answer.

The first try can be held (``state["hold"]``, an asyncio.Event) to make the simulated WeChat retry.
"""

from __future__ import annotations

import tornado.web

from tests.wechat.conftest import TOKEN
from wechat.crypto import MessageCipher, check_signature
from wechat.errors import InvalidSignature, MalformedMessage
from wechat.messages import parse_inbound
from wechat.replies import SUCCESS, text_reply


class Webhook(tornado.web.RequestHandler):
    """What handlers/wechat.py does, reduced: verify, open, parse, answer."""

    def initialize(self, state: dict) -> None:
        self.state = state

    async def post(self) -> None:
        args = {
            k: self.get_query_argument(k, None)
            for k in ("signature", "timestamp", "nonce", "openid", "encrypt_type", "msg_signature")
        }
        if not check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"]):
            raise tornado.web.HTTPError(403)
        cipher: MessageCipher | None = self.state.get("cipher")
        body = self.request.body
        try:
            if args["encrypt_type"] == "aes":
                body = cipher.decrypt_message(body, args["msg_signature"], args["timestamp"], args["nonce"])
            msg = parse_inbound(body)
        except InvalidSignature as exc:
            raise tornado.web.HTTPError(403) from exc
        except MalformedMessage as exc:
            raise tornado.web.HTTPError(400) from exc
        assert msg.openid == args["openid"]
        self.state.setdefault("seen", []).append(msg)
        hold = self.state.get("hold")
        if hold is not None and (self.state.get("hold_all") or len(self.state["seen"]) == 1):
            self.state["first_running"] = True
            await hold.wait()  # the first try hangs: WeChat tries again
        if msg.msg_type == "text":
            reply = text_reply(msg.openid, msg.to_user, f"收到：{msg.content}]]>", msg.create_time)
            if cipher is not None and args["encrypt_type"] == "aes":
                reply = cipher.encrypt_message(reply, args["nonce"], int(args["timestamp"]))
            self.finish(reply)
        else:
            self.finish(SUCCESS)
