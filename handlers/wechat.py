"""The WeChat webhook, ``/wechat``: URL verification (GET) and messages (POST, plain or safe mode).

Thin: check size, timestamp and signature, decrypt, parse, bind the signed ``(timestamp, nonce)``
to this message (``wechat.replay``), hand the message to the desk, answer. Every rejection happens
before anything is stored. The answer goes back only after the desk has stored the message
durably (``Desk.ingest``).

The body is streamed so that its size is checked before it is buffered: a body over the limit is
answered 413 at once and what follows is read and thrown away (a server-wide ``max_body_size``
would answer a bare 400 instead).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import tornado.web
from tornado.http1connection import HTTP1Connection

from desk.metrics import Metrics
from handlers.base import PUBLIC
from wechat.crypto import MessageCipher, check_signature
from wechat.errors import InvalidAppId, InvalidSignature, MalformedMessage
from wechat.messages import parse_inbound
from wechat.replay import NonceMemory
from wechat.replies import SUCCESS

if TYPE_CHECKING:
    from desk.desk import Desk
    from server import Services

log = logging.getLogger("kefu.wechat.webhook")

MAX_WEBHOOK_BODY_BYTES = 256 * 1024
# An over-large body is answered 413 at once, then read to its end and thrown away, up to this
# many bytes, so that the client reads the 413 instead of a connection reset. Past it the
# connection is cut.
WEBHOOK_DRAIN_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class WebhookSettings:
    """The Official Account as the webhook checks it: the effective values (demo ones filled in)."""

    token: str  # signs every request (``signature``, ``msg_signature``)
    appid: str  # whom safe-mode messages are encrypted for
    cipher: MessageCipher | None  # safe mode's AES, None when no EncodingAESKey is configured
    max_skew: int  # seconds a request's timestamp may be from now; 0 checks nothing
    mode: str  # "plain", "safe" or "compatible" (both): which requests are accepted (--wechat-mode)


@tornado.web.stream_request_body
class WeChatWebhookHandler(tornado.web.RequestHandler):
    access = PUBLIC

    def initialize(self, desk: Desk, webhook: WebhookSettings, metrics: Metrics, nonces: NonceMemory,
                   clock: Callable[[], float] = time.time) -> None:
        self.desk = desk
        self.cipher = webhook.cipher
        self.token = webhook.token
        self.max_skew = webhook.max_skew
        self.mode = webhook.mode
        self.metrics = metrics
        self.nonces = nonces
        self.clock = clock
        self._body = bytearray()

    def prepare(self) -> None:
        if self.request.method != "POST":
            return
        connection = self.request.connection
        if isinstance(connection, HTTP1Connection):  # what tornado.httpserver serves a request on
            connection.set_max_body_size(WEBHOOK_DRAIN_MAX_BYTES)
        try:
            declared = int(self.request.headers.get("Content-Length", "0"))
        except ValueError:
            declared = 0  # Tornado itself refuses a non-numeric Content-Length
        if declared > MAX_WEBHOOK_BODY_BYTES:
            self._too_large()

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        if len(self._body) + len(chunk) > MAX_WEBHOOK_BODY_BYTES:
            self._body = bytearray()
            self._too_large()
            return
        self._body += chunk

    def _too_large(self) -> None:
        self._reject(413, "too_large", f"body over {MAX_WEBHOOK_BODY_BYTES // 1024} KiB")

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/plain; charset=UTF-8")

    def _reject(self, status: int, outcome: str, reason: str) -> None:
        log.warning("webhook rejected", extra={"fields": {"status": status, "outcome": outcome, "reason": reason}})
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
        if self._finished:  # answered 413 while the body arrived
            return
        body = bytes(self._body)
        if not self._fresh():
            return self._reject(403, "stale", "timestamp missing or too far from now")
        if not self._signed():
            return self._reject(403, "bad_signature", "signature does not match")
        safe_mode = (self._query("encrypt_type") or "raw").lower() == "aes"
        if not safe_mode and self.mode == "safe":
            return self._reject(403, "wrong_mode", "plain messages are refused: the server runs in safe mode")
        # Set in safe mode only: the request came encrypted, so is the answer.
        cipher: MessageCipher | None = None
        xml: bytes | str
        try:
            if safe_mode:
                cipher = self.cipher
                if cipher is None:
                    return self._reject(400, "no_aes_key", "safe mode requested but no AES key is configured")
                if self.mode == "plain":
                    return self._reject(400, "wrong_mode", "encrypted messages are refused: the server runs in "
                                                           "plain mode")
                xml = cipher.decrypt_message(
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
        # Bound to the decrypted message, not the envelope: a retry may be encrypted afresh.
        plaintext = xml if isinstance(xml, bytes) else xml.encode("utf-8")
        if not self.nonces.admit(self._query("timestamp") or "", self._query("nonce") or "", plaintext):
            return self._reject(403, "replayed", "this signature was already used for another message")
        reply = await self.desk.ingest(message)
        self.metrics.webhook("stored")
        if cipher is not None and reply != SUCCESS:
            reply = cipher.encrypt_message(reply, secrets.token_hex(8), int(self.clock()))
        if reply != SUCCESS:
            self.set_header("Content-Type", "application/xml; charset=UTF-8")
        self.finish(reply)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        log.error("webhook failed", exc_info=(typ, value, tb))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    # One memory of signed pairs for the app's lifetime: the window is the timestamp skew allowed.
    nonces = NonceMemory(services.webhook.max_skew, clock=time.time)
    return [(r"/wechat", WeChatWebhookHandler, {"desk": services.desk, "webhook": services.webhook,
                                                "metrics": services.metrics, "nonces": nonces})]
