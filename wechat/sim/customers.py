"""Simulated WeChat customers: build, sign (and encrypt) and POST webhook calls like WeChat.

``WebhookSender`` plays the WeChat server's side of the webhook: it writes the XML WeChat writes
for each message type, records the message on the platform (which opens that customer's reply
allowance, as on WeChat), signs the call with the Token (safe mode: encrypts the body and adds
``encrypt_type=aes`` and ``msg_signature``), POSTs it with ``timestamp``, ``nonce`` and ``openid``
query arguments, and retries as WeChat does: a new try when no answer came within
``timeout_secs`` (5 s on WeChat), up to 3 tries, while the earlier try may still be running on
the server. The passive reply (decrypted in safe mode) is recorded on the platform.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from wechat.crypto import msg_signature
from wechat.errors import InvalidSignature, MalformedMessage
from wechat.messages import parse_inbound
from wechat.replies import SUCCESS, cdata
from wechat.sim.platform import WeChatPlatform, make_png
from wechat.xmlsafe import parse_xml

log = logging.getLogger(__name__)

# WeChat waits this long for an answer before it tries again ...
WEBHOOK_TIMEOUT_SECS = 5.0
# ... and tries this many times in all.
WEBHOOK_TRIES = 3

# snake_case keyword -> WeChat's XML field name, for the convenience of callers.
_XML_NAMES = {
    "content": "Content",
    "media_id": "MediaId",
    "pic_url": "PicUrl",
    "format": "Format",
    "recognition": "Recognition",
    "thumb_media_id": "ThumbMediaId",
    "location_x": "Location_X",
    "location_y": "Location_Y",
    "scale": "Scale",
    "label": "Label",
    "title": "Title",
    "description": "Description",
    "url": "Url",
    "file_key": "FileKey",
    "file_md5": "FileMd5",
    "file_total_len": "FileTotalLen",
    "event": "Event",
    "event_key": "EventKey",
    "ticket": "Ticket",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "precision": "Precision",
}
# Fields WeChat writes as bare numbers rather than CDATA.
_NUMERIC = frozenset(
    {
        "CreateTime",
        "MsgId",
        "MsgID",
        "Location_X",
        "Location_Y",
        "Scale",
        "Latitude",
        "Longitude",
        "Precision",
        "FileTotalLen",
    }
)


class WebhookError(Exception):
    """The webhook did not give WeChat a usable answer (HTTP error, or no answer after 3 tries)."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def build_xml(fields: dict[str, Any]) -> str:
    """WeChat-style XML: strings in CDATA, numbers bare."""
    parts = []
    for name, value in fields.items():
        text = str(value)
        parts.append(f"<{name}>{text if name in _NUMERIC else cdata(text)}</{name}>")
    return "<xml>" + "".join(parts) + "</xml>"


class WebhookSender:
    """Sends customers' messages to a Kefu webhook the way WeChat does."""

    def __init__(
        self,
        platform: WeChatPlatform,
        webhook_url: str,
        safe_mode: bool = False,
        http_client: AsyncHTTPClient | None = None,
        timeout_secs: float = WEBHOOK_TIMEOUT_SECS,
        tries: int = WEBHOOK_TRIES,
        media_base_url: str | None = None,
    ) -> None:
        if safe_mode and platform.cipher is None:
            raise ValueError("safe mode needs the platform's aes_key")
        self.platform = platform
        self.webhook_url = webhook_url
        self.safe_mode = safe_mode
        self._http = http_client
        self.timeout_secs = timeout_secs
        self.tries = max(1, tries)
        if media_base_url is None:
            parts = urlsplit(webhook_url)
            media_base_url = f"{parts.scheme}://{parts.netloc}/simulator/media/"
        self.media_base_url = media_base_url
        # MsgIds are 64-bit numbers, increasing.
        self._msg_ids = itertools.count(int(platform.clock()) * 1_000_000 + secrets.randbelow(1000) * 1000)
        self.attempts = 0  # POSTs made, for tests
        # WeChat reports each template message's fate to the webhook (TEMPLATESENDJOBFINISH).
        self._reports: set[asyncio.Future[None]] = set()
        platform.on_template_sent(self._report_template)

    @property
    def http(self) -> AsyncHTTPClient:
        if self._http is None:
            self._http = AsyncHTTPClient()
        return self._http

    # -- the generic call --------------------------------------------------------------------
    def build(self, openid: str, msg_type: str, **fields: Any) -> dict[str, Any]:
        """The XML fields WeChat would send for this message (MsgId added for non-events)."""
        out: dict[str, Any] = {
            "ToUserName": self.platform.account_id,
            "FromUserName": openid,
            "CreateTime": int(self.platform.clock()),
            "MsgType": msg_type,
        }
        for key, value in fields.items():
            if value is not None:
                out[_XML_NAMES.get(key, key)] = value
        if msg_type != "event" and "MsgId" not in out:
            out["MsgId"] = next(self._msg_ids)
        return out

    def sign(self, xml: str) -> tuple[dict[str, str], str]:
        """Query arguments and body of the webhook call for this (plain) message XML."""
        timestamp = str(int(self.platform.clock()))
        nonce = str(secrets.randbelow(10**10))
        token = self.platform.token
        args = {
            "signature": hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest(),
            "timestamp": timestamp,
            "nonce": nonce,
        }
        if not self.safe_mode:
            return args, xml
        assert self.platform.cipher is not None
        encrypt = self.platform.cipher.encrypt(xml)
        args["encrypt_type"] = "aes"
        args["msg_signature"] = msg_signature(token, timestamp, nonce, encrypt)
        body = f"<xml><ToUserName>{cdata(self.platform.account_id)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
        return args, body

    async def send(self, openid: str, msg_type: str, **fields: Any) -> str:
        """Send one message or event; returns the webhook's answer (decrypted in safe mode).

        Raises WebhookError when the webhook answers with an HTTP error or not at all.
        """
        xml = build_xml(self.build(openid, msg_type, **fields))
        self.platform.record_customer_message(parse_inbound(xml))
        args, body = self.sign(xml)
        args["openid"] = openid
        answer = await self._post(f"{self.webhook_url}?{urlencode(args)}", body, openid)
        return self._take_answer(openid, answer)

    async def _post(self, url: str, body: str, openid: str, customer_waits: bool = True) -> str:
        """POST with WeChat's retries; ``customer_waits``: a failure shows the customer WeChat's
        "unavailable" notice (not for WeChat's own reports)."""
        last = "no answer"
        for _ in range(self.tries):
            self.attempts += 1
            req = HTTPRequest(
                url,
                method="POST",
                body=body.encode("utf-8"),
                headers={
                    "Content-Type": "text/xml; charset=utf-8",
                    "User-Agent": "Mozilla/4.0 (WeChat simulator)",
                },
                request_timeout=self.timeout_secs,
                connect_timeout=self.timeout_secs,
            )
            try:
                resp = await self.http.fetch(req)
                return resp.body.decode("utf-8", "replace")
            except HTTPClientError as exc:
                if exc.code != 599:  # an HTTP answer: WeChat does not retry those
                    text = (
                        exc.response.body.decode("utf-8", "replace")
                        if exc.response and exc.response.body
                        else ""
                    )
                    if customer_waits:
                        self.platform.record_webhook_failure(openid, f"HTTP {exc.code}")
                    raise WebhookError(f"webhook answered HTTP {exc.code}", exc.code, text) from exc
                last = "timeout"
            except (TimeoutError, OSError) as exc:
                last = str(exc) or type(exc).__name__
        if customer_waits:
            self.platform.record_webhook_failure(openid, last)
        raise WebhookError(f"webhook gave no answer after {self.tries} tries ({last})")

    def _take_answer(self, openid: str, answer: str) -> str:
        if answer.strip() in ("", SUCCESS):
            return answer
        if self.safe_mode and "<Encrypt>" in answer:
            assert self.platform.cipher is not None
            try:
                _, fields = parse_xml(answer)
                answer = self.platform.cipher.decrypt_message(
                    answer, fields.get("MsgSignature"), fields.get("TimeStamp", ""), fields.get("Nonce", "")
                )
            except (MalformedMessage, InvalidSignature, ValueError) as exc:
                self.platform.record_passive_reply(openid, "")  # WeChat shows its "unavailable" notice
                raise WebhookError(f"passive reply could not be opened: {exc}", 200, answer) from exc
        self.platform.record_passive_reply(openid, answer)
        return answer

    # -- WeChat's own events (no customer action) -------------------------------------------
    def _report_template(self, openid: str, msgid: int, status: str) -> None:
        task = asyncio.ensure_future(self.send_template_report(openid, msgid, status))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def send_template_report(self, openid: str, msgid: int, status: str) -> None:
        """WeChat's TEMPLATESENDJOBFINISH for a template message: ``status`` ``success``,
        ``failed:user block`` or ``failed: system failed``. Sent like any event but not a thing
        the customer did: it opens no reply allowance and is not in the customer's chat."""
        xml = build_xml(self.build(openid, "event", Event="TEMPLATESENDJOBFINISH", MsgID=msgid, Status=status))
        args, body = self.sign(xml)
        args["openid"] = openid
        try:
            await self._post(f"{self.webhook_url}?{urlencode(args)}", body, openid, customer_waits=False)
        except WebhookError as exc:  # nobody waits for it; WeChat does not retry it either
            log.warning("template report not delivered", extra={"fields": {"openid": openid, "error": str(exc)}})

    async def reports_sent(self) -> None:
        """Wait until every template report under way has been answered (tests)."""
        while self._reports:
            await asyncio.wait(list(self._reports))

    # -- one method per message type ---------------------------------------------------------
    async def send_text(self, openid: str, text: str) -> str:
        return await self.send(openid, "text", Content=text)

    def new_image(self, rgb: tuple[int, int, int] | None = None) -> tuple[str, str]:
        """A generated image in the platform's media store: ``(media_id, PicUrl)``."""
        rgb = rgb or (secrets.randbelow(200) + 30, secrets.randbelow(200) + 30, secrets.randbelow(200) + 30)
        media_id = self.platform.add_media("image", "photo.png", "image/png", make_png(rgb))
        return media_id, self.media_base_url + media_id

    async def send_image(self, openid: str, media_id: str | None = None, pic_url: str | None = None) -> str:
        if media_id is None:
            media_id, generated_url = self.new_image()
            pic_url = pic_url or generated_url
        return await self.send(
            openid, "image", PicUrl=pic_url or self.media_base_url + media_id, MediaId=media_id
        )

    async def send_voice(
        self, openid: str, recognition: str | None = None, media_id: str = "voice_media", fmt: str = "amr"
    ) -> str:
        return await self.send(openid, "voice", MediaId=media_id, Format=fmt, Recognition=recognition)

    async def send_video(
        self,
        openid: str,
        media_id: str = "video_media",
        thumb_media_id: str = "thumb_media",
        short: bool = False,
    ) -> str:
        return await self.send(
            openid, "shortvideo" if short else "video", MediaId=media_id, ThumbMediaId=thumb_media_id
        )

    async def send_location(self, openid: str, x: float, y: float, label: str = "", scale: int = 15) -> str:
        return await self.send(openid, "location", Location_X=x, Location_Y=y, Scale=scale, Label=label)

    async def send_link(self, openid: str, title: str, description: str, url: str) -> str:
        return await self.send(openid, "link", Title=title, Description=description, Url=url)

    async def send_file(
        self,
        openid: str,
        title: str,
        file_key: str = "filekey",
        file_md5: str = "md5",
        file_total_len: int = 1024,
        description: str = "",
    ) -> str:
        return await self.send(
            openid,
            "file",
            Title=title,
            Description=description,
            FileKey=file_key,
            FileMd5=file_md5,
            FileTotalLen=file_total_len,
        )

    async def subscribe(self, openid: str, scene: str | None = None) -> str:
        if scene is None:
            return await self.send(openid, "event", Event="subscribe", EventKey="")
        return await self.send(
            openid, "event", Event="subscribe", EventKey=f"qrscene_{scene}", Ticket=f"ticket_{scene}"
        )

    async def unsubscribe(self, openid: str) -> str:
        return await self.send(openid, "event", Event="unsubscribe", EventKey="")

    async def scan(self, openid: str, scene: str) -> str:
        return await self.send(openid, "event", Event="SCAN", EventKey=scene, Ticket=f"ticket_{scene}")

    async def click(self, openid: str, key: str) -> str:
        return await self.send(openid, "event", Event="CLICK", EventKey=key)

    async def view(self, openid: str, url: str) -> str:
        return await self.send(openid, "event", Event="VIEW", EventKey=url)

    async def report_location(
        self, openid: str, latitude: float, longitude: float, precision: float = 65.0
    ) -> str:
        return await self.send(
            openid, "event", Event="LOCATION", Latitude=latitude, Longitude=longitude, Precision=precision
        )
