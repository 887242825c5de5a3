"""The WeChat webhook, ``/wechat``: URL verification (GET) and messages (POST, plain or safe mode).

Thin: check size, timestamp and signature, decrypt, parse, hand the message to the desk, answer.
Every rejection happens before anything is stored. The answer goes back only after the desk has
stored the message durably (``Desk.ingest``).
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import tornado.web

from handlers.base import PUBLIC
from wechat.crypto import check_signature
from wechat.errors import InvalidAppId, InvalidSignature, MalformedMessage
from wechat.messages import parse_inbound
from wechat.replies import SUCCESS

log = logging.getLogger("kefu.wechat.webhook")

MAX_WEBHOOK_BODY_BYTES = 256 * 1024


class WeChatWebhookHandler(tornado.web.RequestHandler):
    access = PUBLIC

    def initialize(self, services: Any, clock: Any = time.time) -> None:
        self.desk = services.desk
        self.cipher = services.cipher
        self.token = services.extras.get("wechat_token", services.config.wechat_token)
        self.max_skew = services.config.wechat_max_skew
        self.metrics = services.extras.get("metrics")
        self.clock = clock

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")

    def _reject(self, status: int, outcome: str, reason: str) -> None:
        log.warning("webhook rejected", extra={"fields": {"status": status, "outcome": outcome, "reason": reason}})
        if self.metrics is not None:
            self.metrics.webhook(outcome)
        self.set_status(status)
        self.finish(reason)

    def _query(self, name: str) -> str | None:
        # The raw value: WeChat's query holds only signatures, digits and flags, and
        # get_query_argument's per-value clean-up showed in the webhook profile.
        values = self.request.query_arguments.get(name)
        return values[-1].decode("utf-8", "replace") if values else None

    def _signed(self) -> bool:
        return check_signature(self.token, self._query("signature"), self._query("timestamp"), self._query("nonce"))

    def _fresh(self) -> bool:
        if not self.max_skew:
            return True
        try:
            stamp = int(self._query("timestamp") or "")
        except ValueError:
            return False
        return abs(self.clock() - stamp) <= self.max_skew

    def get(self) -> None:
        if not self._signed():
            return self._reject(403, "bad_signature", "signature does not match")
        self.finish(self._query("echostr") or "")

    async def post(self) -> None:
        body = self.request.body
        if len(body) > MAX_WEBHOOK_BODY_BYTES:
            return self._reject(413, "too_large", f"body over {MAX_WEBHOOK_BODY_BYTES} bytes")
        if not self._fresh():
            return self._reject(403, "stale", "timestamp missing or too far from now")
        if not self._signed():
            return self._reject(403, "bad_signature", "signature does not match")
        safe_mode = (self._query("encrypt_type") or "raw").lower() == "aes"
        try:
            if safe_mode:
                if self.cipher is None:
                    return self._reject(400, "no_aes_key", "safe mode requested but no AES key is configured")
                xml = self.cipher.decrypt_message(
                    body, self._query("msg_signature"), self._query("timestamp") or "", self._query("nonce") or "")
            else:
                xml = body
            message = parse_inbound(xml)
        except InvalidSignature:
            return self._reject(403, "bad_signature", "msg_signature does not match")
        except InvalidAppId:
            return self._reject(403, "wrong_appid", "message was encrypted for another AppID")
        except MalformedMessage as exc:
            return self._reject(400, "malformed", f"not a WeChat message: {exc.reason}")
        reply = await self.desk.ingest(message)
        if self.metrics is not None:
            self.metrics.webhook("stored")
        if safe_mode and reply != SUCCESS:
            reply = self.cipher.encrypt_message(reply, secrets.token_hex(8), int(self.clock()))
        if reply != SUCCESS:
            self.set_header("Content-Type", "application/xml; charset=UTF-8")
        self.finish(reply)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        log.error("webhook failed", exc_info=(typ, value, tb))


def default_handlers(services: Any) -> list[tuple[str, type, dict[str, Any]]]:
    return [(r"/wechat", WeChatWebhookHandler, {"services": services})]
