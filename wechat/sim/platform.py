"""An in-memory WeChat platform: what Kefu talks to in demos and tests instead of Tencent.

It keeps access tokens, customers and their reply allowances, the replies each customer got
(passive answers to the webhook and customer-service API messages), uploaded media, and a list
of listeners (the live simulator page). Its error answers follow WeChat's: 40001 for an invalid
or expired token, 40003 for an openid that never wrote to the account, 40125 for a wrong AppSecret,
45015 outside the 48-hour window, 45047 past the reply quota, -1 while ``make_busy(n)`` lasts, and
whatever ``fail_calls`` injects. Every customer has a nickname and an avatar (a generated
picture served by the simulator page, ``avatar_png``), answered by ``cgi-bin/user/info``. The reply rules are ``wechat.budget.ReplyBudget``,
the same class the desk uses, so the two cannot disagree. Template messages
(``cgi-bin/message/template/send``) are checked against the account's template library
(`wechat.sim.templates`: 40037 unknown template, 47003 a value that does not fit, 43004 an
unfollowed customer, 45009 past ``template_daily_limit``) and shown as cards. Time is the
injected ``clock``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from wechat.budget import ReplyBudget
from wechat.crypto import MessageCipher
from wechat.errors import MalformedMessage, WeChatAPIError, api_error
from wechat.menu import MenuProblem, check_menu
from wechat.messages import InboundMessage
from wechat.sim.sms import SmsInbox
from wechat.sim.templates import DEMO_TEMPLATES, SimTemplate, check_send
from wechat.xmlsafe import parse_xml

log = logging.getLogger(__name__)

# WeChat's access tokens live this long.
TOKEN_LIFETIME_SECS = 7200
# What a customer sees when the webhook fails them (WeChat's own wording).
SERVICE_UNAVAILABLE_TEXT = "该公众号暂时无法提供服务，请稍后再试"
KNOWN_SEND_TYPES = frozenset(
    {"text", "image", "voice", "video", "music", "news", "mpnews", "msgmenu", "wxcard", "miniprogrampage"}
)
MEDIA_TYPES = frozenset({"image", "voice", "video", "thumb"})

Listener = Callable[[dict[str, Any]], None]


# Nicknames for customers nobody named (the simulator page names its own customers).
DEFAULT_NICKNAMES = ("王小明", "李华", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄磊", "周婷", "吴昊",
                     "Lucy", "Jack Chen")


def _seed(openid: str) -> int:
    return zlib.crc32(openid.encode("utf-8"))


@dataclass
class SimCustomer:
    openid: str
    budget: ReplyBudget = field(default_factory=ReplyBudget)
    subscribed: bool = True
    nickname: str = ""
    has_avatar: bool = True
    subscribe_time: int = 0
    remark: str = ""
    # The customer turned off this account's template messages (WeChat's 拒收消息): a send is
    # accepted, and the delivery report says "failed:user block".
    blocks_templates: bool = False

    def __post_init__(self) -> None:
        if not self.nickname:
            self.nickname = DEFAULT_NICKNAMES[_seed(self.openid) % len(DEFAULT_NICKNAMES)]


@dataclass
class SimMedia:
    media_type: str
    filename: str
    content_type: str
    data: bytes
    created_at: int


def make_png(rgb: tuple[int, int, int], size: int = 96) -> bytes:
    """A solid-colour PNG (for the simulator's customer images; no image library needed)."""
    return make_png_rows(size, size, [b"\x00" + bytes(rgb) * size] * size)


def make_identicon(seed: int, size: int = 96) -> bytes:
    """A 5×5 mirrored block picture in one colour on white, like a default avatar."""
    rgb = bytes((40 + seed % 160, 40 + (seed >> 8) % 160, 40 + (seed >> 16) % 160))
    cells = [[False] * 5 for _ in range(5)]
    for i in range(15):  # the left three columns; the right two mirror them
        on = bool((seed >> (i + 7)) & 1)
        row, col = divmod(i, 3)
        cells[row][col] = cells[row][4 - col] = on
    cell = size // 6
    margin = (size - 5 * cell) // 2
    rows = []
    for y in range(size):
        line = bytearray(b"\x00")
        for x in range(size):
            cy, cx = (y - margin) // cell, (x - margin) // cell
            inside = 0 <= y - margin < 5 * cell and 0 <= x - margin < 5 * cell
            line += rgb if inside and cells[cy][cx] else b"\xf2\xf2\xf2"
        rows.append(bytes(line))
    return make_png_rows(size, size, rows)


def make_png_rows(width: int, height: int, rows: list[bytes]) -> bytes:
    """A PNG from RGB rows, each starting with its filter byte (0)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows)))
            + chunk(b"IEND", b""))


class WeChatPlatform:
    """The simulated WeChat side of one Official Account."""

    def __init__(
        self,
        appid: str,
        secret: str,
        token: str,
        aes_key: str | None = None,
        clock: Callable[[], float] = time.time,
        account_id: str = "gh_kefu_simulator",
        avatar_base_url: str | None = None,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.token = token
        self.aes_key = aes_key
        self.cipher = MessageCipher(token, aes_key, appid) if aes_key else None
        self.clock = clock
        self.account_id = account_id
        # Where customers' avatars are served (``<base><openid>``); None: customers have none.
        self.avatar_base_url = avatar_base_url
        self.tokens: dict[str, float] = {}  # access token -> expires at
        self._stable_token: str | None = None
        self.customers: dict[str, SimCustomer] = {}
        self.replies: dict[str, list[dict[str, Any]]] = {}
        self.timeline: dict[str, list[dict[str, Any]]] = {}
        self.media: dict[str, SimMedia] = {}
        self.busy = 0
        self._failures: dict[str, list[int]] = {}
        self._holds: dict[str, asyncio.Event] = {}
        self.calls: Counter[str] = Counter()
        self._listeners: list[Listener] = []
        self._msg_seq = 7_000_000_000_000_000_000
        # The published custom menu (``{"button": [...]}``), None until menu/create.
        self.menu: dict[str, Any] | None = None
        # The customers' phones' text messages (not WeChat: the demo bank's verification codes).
        self.sms = SmsInbox(self._broadcast, clock)
        # The account's template library (template/send accepts these ids only) and, when set,
        # how many template messages a day it may send before WeChat answers 45009.
        self.templates: dict[str, SimTemplate] = {t.template_id: t for t in DEMO_TEMPLATES}
        self.template_daily_limit: int | None = None
        self._template_sends: Counter[int] = Counter()  # per day number (UTC+8, WeChat's day)
        self._template_msgids = 2_000_000_000
        # Told (openid, msgid, status) after every template message: the webhook sender reports
        # it to Kefu as WeChat's TEMPLATESENDJOBFINISH event.
        self._template_reporters: list[Callable[[str, int, str], None]] = []

    # -- test and demo controls --------------------------------------------------------------
    def make_busy(self, n: int = 1) -> None:
        """The next ``n`` API calls answer -1 (system busy)."""
        self.busy = n

    def fail_calls(self, endpoint: str, errcode: int, n: int = 1) -> None:
        """The next ``n`` calls of ``endpoint`` (e.g. ``"user_info"``) answer ``errcode``."""
        self._failures.setdefault(endpoint, []).extend([errcode] * n)

    def hold(self, endpoint: str) -> Callable[[], None]:
        """Calls of ``endpoint`` get no answer until the returned ``release()`` (a slow WeChat)."""
        gate = self._holds.setdefault(endpoint, asyncio.Event())
        gate.clear()
        return gate.set

    async def held(self, endpoint: str) -> None:
        """Wait while ``endpoint`` is held (the API handlers call this before answering)."""
        gate = self._holds.get(endpoint)
        if gate is not None:
            await gate.wait()

    def expire_tokens(self) -> None:
        """Every access token issued so far is now expired."""
        for tok in self.tokens:
            self.tokens[tok] = float("-inf")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` for every customer message and reply; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self, event: dict[str, Any]) -> None:
        self.timeline.setdefault(event["openid"], []).append(event)
        self._broadcast(event)

    def _broadcast(self, event: dict[str, Any]) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken page must not break the platform
                log.exception("simulator listener failed")

    def customer(self, openid: str, nickname: str | None = None) -> SimCustomer:
        """The customer ``openid`` (created, following the account, on first use)."""
        c = self.customers.get(openid)
        if c is None:
            c = self.customers[openid] = SimCustomer(openid, nickname=nickname or "",
                                                     subscribe_time=int(self.clock()))
        elif nickname:
            c.nickname = nickname
        return c

    def avatar_png(self, openid: str) -> bytes | None:
        """The picture behind a customer's ``headimgurl``, or None for no such customer."""
        c = self.customers.get(openid)
        return make_identicon(_seed(openid)) if c is not None and c.has_avatar else None

    # -- the customer side -------------------------------------------------------------------
    def record_customer_message(self, msg: InboundMessage) -> dict[str, Any]:
        """A customer sent ``msg`` to the account: open their reply allowance, tell listeners."""
        now = self.clock()
        c = self.customer(msg.openid)
        if msg.is_event:
            c.budget.on_customer_event(msg.event or "", now)
            if msg.event == "subscribe":
                c.subscribed = True
            elif msg.event == "unsubscribe":
                c.subscribed = False
        else:
            c.budget.on_customer_message(now)
        event: dict[str, Any] = {
            "kind": "customer",
            "openid": msg.openid,
            "msgtype": msg.msg_type,
            "event": msg.event,
            "text": msg.summary,
            "ts": now,
        }
        if msg.pic_url:
            event["pic_url"] = msg.pic_url
        if msg.media_id:
            event["media_id"] = msg.media_id
        self._notify(event)
        return event

    def customer_wrote(self, openid: str, text: str = "你好") -> dict[str, Any]:
        """Shortcut for tests: ``openid`` sent a text message (no webhook call)."""
        self._msg_seq += 1
        return self.record_customer_message(
            InboundMessage(
                self.account_id, openid, int(self.clock()), "text", msg_id=str(self._msg_seq), content=text
            )
        )

    def record_passive_reply(self, openid: str, reply_xml: str) -> dict[str, Any]:
        """Keep the passive reply the webhook answered with (plain XML)."""
        try:
            root, f = parse_xml(reply_xml)
            if root != "xml" or f.get("ToUserName") != openid:
                raise MalformedMessage("not a reply to this customer")
            msgtype = str(f.get("MsgType", ""))
            reply: dict[str, Any] = {
                "kind": "passive",
                "openid": openid,
                "msgtype": msgtype,
                "ts": self.clock(),
            }
            if msgtype == "text":
                reply["text"] = f.get("Content", "")
            elif isinstance(f.get(msgtype.capitalize()), dict):
                reply["media"] = f[msgtype.capitalize()].get("MediaId")
            elif msgtype == "news":
                reply["payload"] = f.get("Articles")
        except MalformedMessage as exc:
            # What WeChat does with an answer it cannot read.
            reply = {
                "kind": "passive",
                "openid": openid,
                "msgtype": "invalid",
                "text": SERVICE_UNAVAILABLE_TEXT,
                "error": exc.reason,
                "ts": self.clock(),
            }
        self.replies.setdefault(openid, []).append(reply)
        self._notify(reply)
        return reply

    def record_webhook_failure(self, openid: str, reason: str) -> dict[str, Any]:
        """The webhook never answered: WeChat tells the customer the service is unavailable."""
        notice = {
            "kind": "system",
            "openid": openid,
            "msgtype": "text",
            "text": SERVICE_UNAVAILABLE_TEXT,
            "error": reason,
            "ts": self.clock(),
        }
        self._notify(notice)
        return notice

    # -- the API side (raise WeChatAPIError like WeChat answers errcode) ---------------------
    def _begin(self, endpoint: str) -> None:
        self.calls[endpoint] += 1
        injected = self._failures.get(endpoint)
        if injected:
            raise api_error(injected.pop(0), "simulated failure")
        if self.busy > 0:
            self.busy -= 1
            raise api_error(-1, "system error")

    def _check_token(self, access_token: str | None) -> None:
        expires = self.tokens.get(access_token or "")
        if expires is None or self.clock() >= expires:
            raise api_error(40001, "invalid credential, access_token is invalid or not latest")

    def _check_credentials(self, grant_type: str | None, appid: str | None, secret: str | None) -> None:
        if grant_type != "client_credential":
            raise api_error(40002, "invalid grant_type")
        if appid != self.appid:
            raise api_error(40013, "invalid appid")
        if secret != self.secret:
            raise api_error(40125, "invalid appsecret")

    def _new_token(self) -> dict[str, Any]:
        tok = secrets.token_urlsafe(48)
        self.tokens[tok] = self.clock() + TOKEN_LIFETIME_SECS
        return {"access_token": tok, "expires_in": TOKEN_LIFETIME_SECS}

    def issue_token(self, grant_type: str | None, appid: str | None, secret: str | None) -> dict[str, Any]:
        """``cgi-bin/token``: a new token every time (older ones stay valid, as on WeChat's 5-minute overlap)."""
        self._begin("token")
        self._check_credentials(grant_type, appid, secret)
        return self._new_token()

    def issue_stable_token(
        self, grant_type: str | None, appid: str | None, secret: str | None, force_refresh: bool = False
    ) -> dict[str, Any]:
        """``cgi-bin/stable_token``: the same token while it is valid, unless ``force_refresh``."""
        self._begin("stable_token")
        self._check_credentials(grant_type, appid, secret)
        now = self.clock()
        current = self._stable_token
        if current is not None and not force_refresh and now < self.tokens.get(current, float("-inf")):
            return {"access_token": current, "expires_in": int(self.tokens[current] - now)}
        if current is not None and force_refresh:
            self.tokens.pop(current, None)
        data = self._new_token()
        self._stable_token = data["access_token"]
        return data

    def _check_window(self, openid: str | None, charge: bool) -> SimCustomer:
        if not openid or openid not in self.customers:
            # WeChat answers an openid it never saw write with the window error as well.
            raise api_error(45015, "response out of time limit or subscription is canceled")
        c = self.customers[openid]
        if not c.subscribed:
            raise api_error(43004, "require subscribe")
        ok, reason = c.budget.check(self.clock())
        if not ok:
            if reason == "quota_used":
                raise api_error(45047, "out of response count limit")
            raise api_error(45015, "response out of time limit or subscription is canceled")
        if charge:
            c.budget.record_send(self.clock())
        return c

    def custom_send(self, access_token: str | None, body: Any) -> dict[str, Any]:
        """``cgi-bin/message/custom/send``."""
        self._begin("custom_send")
        self._check_token(access_token)
        if not isinstance(body, dict):
            raise api_error(47001, "data format error")
        openid = body.get("touser")
        msgtype = body.get("msgtype")
        if not isinstance(openid, str) or not openid:
            raise api_error(40003, "invalid openid")
        if msgtype not in KNOWN_SEND_TYPES:
            raise api_error(40008, "invalid message type")
        payload = body.get(msgtype)
        if not isinstance(payload, dict):
            raise api_error(47001, "data format error")
        reply: dict[str, Any] = {"kind": "api", "openid": openid, "msgtype": msgtype}
        if msgtype == "text":
            text = payload.get("content")
            if not isinstance(text, str) or not text:
                raise api_error(44002, "empty post data")
            reply["text"] = text
        elif msgtype in ("image", "voice", "video"):
            media_id = payload.get("media_id")
            if media_id not in self.media:
                raise api_error(40007, "invalid media_id")
            reply["media"] = media_id
        else:
            reply["payload"] = payload
        self._check_window(openid, charge=True)
        reply["ts"] = self.clock()
        self.replies.setdefault(openid, []).append(reply)
        self._notify(reply)
        return {"errcode": 0, "errmsg": "ok"}

    def custom_typing(self, access_token: str | None, body: Any) -> dict[str, Any]:
        """``cgi-bin/message/custom/typing``: needs the window open, uses no quota."""
        self._begin("custom_typing")
        self._check_token(access_token)
        if not isinstance(body, dict) or body.get("command") not in ("Typing", "CancelTyping"):
            raise api_error(47001, "data format error")
        openid = body.get("touser")
        self._check_window(openid if isinstance(openid, str) else None, charge=False)
        self._notify(
            {"kind": "typing", "openid": openid, "typing": body["command"] == "Typing", "ts": self.clock()}
        )
        return {"errcode": 0, "errmsg": "ok"}

    def template_send(self, access_token: str | None, body: Any) -> dict[str, Any]:
        """``cgi-bin/message/template/send``: checks as WeChat (`wechat.sim.templates.check_send`),
        then needs a follower (40003 unknown openid, 43004 unfollowed), no reply window; past
        ``template_daily_limit`` sends of the day, 45009. The customer's chat shows the card."""
        self._begin("template_send")
        self._check_token(access_token)
        openid, template, data, url = check_send(body, self.templates)
        c = self.customers.get(openid)
        if c is None:
            raise api_error(40003, f"invalid openid hint: [{secrets.token_hex(4)}]")
        if not c.subscribed:
            raise api_error(43004, "require subscribe")
        day = int((self.clock() + 8 * 3600) // 86400)  # WeChat's quotas reset at midnight in Beijing
        if self.template_daily_limit is not None and self._template_sends[day] >= self.template_daily_limit:
            raise api_error(45009, "reach max api daily quota limit")
        self._template_sends[day] += 1
        self._template_msgids += 1
        card = {
            "kind": "template", "openid": openid, "msgtype": "template", "msgid": self._template_msgids,
            "template_id": template.template_id, "title": template.title, "url": url,
            "fields": [{"key": key, "label": label, **data[key]} for key, label in template.fields if key in data],
            "ts": self.clock(),
        }
        status = "failed:user block" if c.blocks_templates else "success"
        if status == "success":  # a customer who blocks them never sees the card
            self.replies.setdefault(openid, []).append(card)
            self._notify(card)
        for report in list(self._template_reporters):
            report(openid, self._template_msgids, status)
        return {"errcode": 0, "errmsg": "ok", "msgid": self._template_msgids}

    def on_template_sent(self, report: Callable[[str, int, str], None]) -> None:
        """Call ``report(openid, msgid, status)`` after each template message (status ``success``
        or ``failed:user block``), as WeChat pushes TEMPLATESENDJOBFINISH to the webhook."""
        self._template_reporters.append(report)

    def user_info(self, access_token: str | None, openid: str | None, lang: str | None) -> dict[str, Any]:
        """``cgi-bin/user/info``: the fields WeChat answers (an unfollowed user: subscribe 0 only)."""
        self._begin("user_info")
        self._check_token(access_token)
        c = self.customers.get(openid or "")
        if c is None:
            raise api_error(40003, f"invalid openid hint: [{secrets.token_hex(4)}]")
        if not c.subscribed:
            return {"subscribe": 0, "openid": c.openid, "tagid_list": []}
        avatar = f"{self.avatar_base_url}{quote(c.openid, safe='')}" if self.avatar_base_url and c.has_avatar else ""
        return {
            "subscribe": 1,
            "openid": c.openid,
            "nickname": c.nickname,
            "sex": 0,
            "language": "zh_CN",  # the user's own language; ``lang`` only picks the place names
            "city": "",
            "province": "",
            "country": "",
            "headimgurl": avatar,
            "subscribe_time": c.subscribe_time,
            "remark": c.remark,
            "groupid": 0,
            "tagid_list": [],
            "subscribe_scene": "ADD_SCENE_OTHERS",
            "qr_scene": 0,
            "qr_scene_str": "",
        }

    def menu_create(self, access_token: str | None, body: Any) -> dict[str, Any]:
        """``cgi-bin/menu/create``: WeChat's checks and errcodes (`wechat.menu`); the menu is live
        for every customer at once (the page redraws each phone's menu bar)."""
        self._begin("menu_create")
        self._check_token(access_token)
        try:
            self.menu = check_menu(body)
        except MenuProblem as exc:
            raise api_error(exc.errcode, exc.errmsg) from None
        self._broadcast({"kind": "menu", "menu": self.menu, "ts": self.clock()})
        return {"errcode": 0, "errmsg": "ok"}

    def menu_get(self, access_token: str | None) -> dict[str, Any]:
        """``cgi-bin/menu/get``: the live menu, every button with its ``sub_button`` list as WeChat
        answers; 46003 when none was created."""
        self._begin("menu_get")
        self._check_token(access_token)
        if self.menu is None:
            raise api_error(46003, "menu no exist")
        buttons = [{**b, "sub_button": [dict(s, sub_button=[]) for s in b.get("sub_button", [])]}
                   for b in self.menu["button"]]
        return {"menu": {"button": buttons}}

    def menu_item(self, path: Any) -> dict[str, Any] | None:
        """The published menu's button at ``path`` (``[i]`` or ``[i, j]`` for a sub-button) when it
        has an action a customer can tap (a button with sub-buttons only opens them), else None."""
        if self.menu is None or not isinstance(path, list) or not 1 <= len(path) <= 2:
            return None
        if not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in path):
            return None
        items = self.menu["button"]
        for depth, i in enumerate(path):
            if i >= len(items):
                return None
            item = items[i]
            if depth + 1 < len(path):
                items = item.get("sub_button") or []
        return None if item.get("sub_button") else item

    def menu_delete(self, access_token: str | None) -> dict[str, Any]:
        """``cgi-bin/menu/delete``: no menu any more."""
        self._begin("menu_delete")
        self._check_token(access_token)
        self.menu = None
        self._broadcast({"kind": "menu", "menu": None, "ts": self.clock()})
        return {"errcode": 0, "errmsg": "ok"}

    def add_media(self, media_type: str, filename: str, content_type: str, data: bytes) -> str:
        """Store media (uploaded by the account or sent by a customer); returns its media_id."""
        media_id = secrets.token_urlsafe(24)
        self.media[media_id] = SimMedia(media_type, filename, content_type, data, int(self.clock()))
        return media_id

    def media_upload(
        self,
        access_token: str | None,
        media_type: str | None,
        filename: str,
        content_type: str,
        data: bytes | None,
    ) -> dict[str, Any]:
        """``cgi-bin/media/upload``."""
        self._begin("media_upload")
        self._check_token(access_token)
        if media_type not in MEDIA_TYPES:
            raise api_error(40004, "invalid media type")
        if not data:
            raise api_error(41005, "media data missing")
        media_id = self.add_media(media_type, filename, content_type, data)
        key = "thumb_media_id" if media_type == "thumb" else "media_id"
        return {"type": media_type, key: media_id, "created_at": int(self.clock())}

    def media_get(self, access_token: str | None, media_id: str | None) -> SimMedia:
        """``cgi-bin/media/get``."""
        self._begin("media_get")
        self._check_token(access_token)
        media = self.media.get(media_id or "")
        if media is None:
            raise api_error(40007, "invalid media_id")
        return media


__all__ = [
    "WeChatPlatform",
    "SimCustomer",
    "SimMedia",
    "SimTemplate",
    "WeChatAPIError",
    "make_png",
    "make_identicon",
    "SERVICE_UNAVAILABLE_TEXT",
]
