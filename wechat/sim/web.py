"""The ``/simulator`` page (demo only): play WeChat customers against the running Kefu.

A person opens several phone-sized chats side by side, types as customers, clicks the
Official Account's menu (``skill:...`` CLICK events) and sends images; every passive or API reply
shows up live through a WebSocket fed by the platform's listeners. The page is rendered with
jinja2 straight from the repository's ``templates/`` folder; its script and style are served
from ``static/`` under the simulator's own prefix so the page works wherever it is mounted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
import tornado.web
import tornado.websocket

from kefu_json import InvalidJSON, parse_json
from wechat.sim.customers import WebhookError, WebhookSender
from wechat.sim.platform import WeChatPlatform

log = logging.getLogger(__name__)

REPO_DIR = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = REPO_DIR / "templates"
STATIC_DIR = REPO_DIR / "static"

# The menu the page shows while none was published through menu/create: (EventKey, label).
DEFAULT_MENU: tuple[tuple[str, str], ...] = (
    ("skill:general", "综合咨询"),
    ("skill:loans", "贷款业务"),
    ("skill:cards", "信用卡"),
)
# Under them, while nothing is published, the self-service items (desk/self_service.py's
# ``self:<action>`` keys) as a sub-menu, the way an admin would put them on the published menu.
DEFAULT_SELF_SERVICE: tuple[tuple[str, str], ...] = (
    ("self:bind", "绑定账户"),
    ("self:bill", "信用卡账单"),
    ("self:balance", "账户余额"),
    ("self:transactions", "交易明细"),
    ("self:unbind", "解除绑定"),
)
SELF_SERVICE_MENU_NAME = "自助服务"
# A customer message longer than this is refused by the page API (WeChat's own limit is 2048 bytes+).
MAX_TEXT_CHARS = 2000
# WeChat nicknames are short; the page's form limits them too.
MAX_NICKNAME_CHARS = 32


class _SimHandler(tornado.web.RequestHandler):
    """Demo page handlers: public by design (mounted only with --demo)."""

    access = "public"

    def _take(self, platform: WeChatPlatform, sender: WebhookSender) -> None:
        self.platform = platform
        self.sender = sender

    # As Tornado types it: a subclass's initialize takes its route's own settings too.
    initialize: Callable[..., None] = _take

    def check_xsrf_cookie(self) -> None:
        # JSON-only endpoints: a cross-site form cannot send application/json without a CORS
        # preflight, which we never grant. See _require_json.
        return None

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, ensure_ascii=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.write_json({"error": {"code": str(status_code), "message": self._reason}}, status_code)


class SimulatorPageHandler(_SimHandler):
    # Its own names: a handler attribute called ``options`` would hide Tornado's OPTIONS method.
    def initialize(self, platform: WeChatPlatform, sender: WebhookSender,
                   env: jinja2.Environment, prefix: str, menu: Sequence[tuple[str, str]]) -> None:
        super().initialize(platform, sender)
        self.env = env
        self.prefix = prefix
        self.menu = menu

    def get(self) -> None:
        config = {
            "prefix": self.prefix,
            "menu": shown_menu(self.platform, self.menu),
            "account": self.platform.account_id,
            "safe_mode": self.sender.safe_mode,
        }
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(self.env.get_template("simulator.html").render(config=config, prefix=self.prefix))


def shown_menu(platform: WeChatPlatform, fallback: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The menu under each phone: the published one (``published: true``), else the fallback
    buttons, in WeChat's shape either way."""
    if platform.menu is not None:
        return {**platform.menu, "published": True}
    buttons: list[dict[str, Any]] = [{"type": "click", "name": label, "key": key} for key, label in fallback]
    # WeChat shows at most three buttons: the self-service sub-menu takes the last place.
    buttons = buttons[:2] + [{"name": SELF_SERVICE_MENU_NAME, "sub_button": [
        {"type": "click", "name": label, "key": key} for key, label in DEFAULT_SELF_SERVICE]}]
    return {"button": buttons, "published": False}


class SimulatorMenuHandler(_SimHandler):
    """GET: the menu the page shows (the published one, or the fallback)."""

    def initialize(self, platform: WeChatPlatform, sender: WebhookSender,
                   menu: Sequence[tuple[str, str]]) -> None:
        super().initialize(platform, sender)
        self.fallback = menu

    def get(self) -> None:
        self.write_json(shown_menu(self.platform, self.fallback))


class SimulatorSendHandler(_SimHandler):
    """POST JSON ``{openid, nickname?, type, text|key|url|path|scene|label|x|y|recognition}``: one
    customer action (``nickname``: the name the page gave this customer, answered by user/info;
    ``type: "menu"`` with ``path`` ``[i]`` or ``[i, j]``: a tap on the published menu's button,
    sent as WeChat does, CLICK with its key or VIEW with its url)."""

    async def post(self) -> None:
        if not self.request.headers.get("Content-Type", "").startswith("application/json"):
            self.write_json({"error": {"code": "bad_request", "message": "send application/json"}}, 415)
            return
        try:
            body = parse_json(self.request.body or b"{}")
        except InvalidJSON:
            body = None
        if not isinstance(body, dict):
            self.write_json({"error": {"code": "bad_request", "message": "body must be a JSON object"}}, 400)
            return
        openid = body.get("openid")
        kind = body.get("type", "text")
        if not isinstance(openid, str) or not openid.strip() or len(openid) > 64:
            self.write_json({"error": {"code": "bad_request", "message": "openid is required"}}, 400)
            return
        nickname = body.get("nickname")
        if nickname is not None and (not isinstance(nickname, str) or len(nickname) > MAX_NICKNAME_CHARS):
            self.write_json({"error": {"code": "bad_request", "message": "nickname must be a short string"}}, 400)
            return
        action = self._action(openid.strip(), str(kind), body)
        if action is None:
            self.write_json(
                {"error": {"code": "bad_request", "message": f"cannot send type {kind!r} like that"}}, 400
            )
            return
        self.platform.customer(openid.strip(), nickname=(nickname or "").strip() or None)
        before = len(self.platform.replies.get(openid, []))
        try:
            answer = await action()
        except WebhookError as exc:
            self.write_json(
                {"error": {"code": "webhook_failed", "message": str(exc), "status": exc.status}}, 502
            )
            return
        replies = self.platform.replies.get(openid, [])[before:]
        self.write_json({"answer": answer, "replies": replies})

    def _action(self, openid: str, kind: str, body: dict[str, Any]) -> Callable[[], Any] | None:
        s = self.sender

        def text_field(name: str) -> str | None:
            value = body.get(name)
            return value[:MAX_TEXT_CHARS] if isinstance(value, str) and value.strip() else None

        if kind == "text" and (text := text_field("text")):
            return lambda: s.send_text(openid, text)
        if kind == "click" and (key := text_field("key")):
            return lambda: s.click(openid, key)
        if kind == "view" and (url := text_field("url")):
            return lambda: s.view(openid, url)
        if kind == "menu" and (item := self.platform.menu_item(body.get("path"))) is not None:
            if item["type"] == "view":
                return lambda: s.view(openid, item["url"])
            if item.get("key"):
                return lambda: s.click(openid, item["key"])
            return None
        if kind == "image":
            return lambda: s.send_image(openid)
        if kind == "voice":
            return lambda: s.send_voice(openid, recognition=text_field("recognition") or text_field("text"))
        if kind == "location":
            try:
                x, y = float(body.get("x", 39.9042)), float(body.get("y", 116.4074))
            except (TypeError, ValueError):
                return None
            return lambda: s.send_location(openid, x, y, label=text_field("label") or "")
        if kind == "subscribe":
            return lambda: s.subscribe(openid, scene=text_field("scene"))
        if kind == "unsubscribe":
            return lambda: s.unsubscribe(openid)
        if kind == "scan" and (scene := text_field("scene")):
            return lambda: s.scan(openid, scene)
        return None


class SimulatorRepliesHandler(_SimHandler):
    """GET ``?openid=``: that customer's replies and whole timeline (customer messages too)."""

    def get(self) -> None:
        openid = self.get_query_argument("openid", "")
        self.write_json(
            {
                "openid": openid,
                "replies": self.platform.replies.get(openid, []),
                "timeline": self.platform.timeline.get(openid, []),
            }
        )


class SimulatorSmsHandler(_SimHandler):
    """GET ``?openid=``: the text messages (the demo bank's codes) sent for that customer."""

    def get(self) -> None:
        openid = self.get_query_argument("openid", "")
        self.write_json({"openid": openid, "messages": self.platform.sms.of(openid)})


class SimulatorMediaHandler(_SimHandler):
    """The platform's media (customers' generated images, media the account uploaded)."""

    def get(self, media_id: str) -> None:
        media = self.platform.media.get(media_id)
        if media is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", media.content_type)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'")
        self.finish(media.data)


class SimulatorAvatarHandler(_SimHandler):
    """A customer's avatar, the picture behind user/info's ``headimgurl``."""

    def get(self, openid: str) -> None:
        png = self.platform.avatar_png(openid)
        if png is None:
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "image/png")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", "default-src 'none'")
        self.set_header("Cache-Control", "max-age=3600")
        self.finish(png)


class SimulatorSocket(tornado.websocket.WebSocketHandler):
    """Pushes every platform event (customer message, passive or API reply) as JSON."""

    access = "public"

    def initialize(self, platform: WeChatPlatform, **kwargs: Any) -> None:
        self.platform = platform
        self._unsubscribe: Callable[[], None] | None = None

    def open(self, *args: str, **kwargs: str) -> None:
        self._unsubscribe = self.platform.subscribe(self._push)
        self.write_message(json.dumps({"kind": "hello", "account": self.platform.account_id}))

    def _push(self, event: dict[str, Any]) -> None:
        try:
            self.write_message(json.dumps(event, ensure_ascii=False))
        except tornado.websocket.WebSocketClosedError:
            self.on_close()

    def on_message(self, message: str | bytes) -> None:
        pass  # the page only listens

    def on_close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None


class SimulatorStaticHandler(tornado.web.StaticFileHandler):
    """The page's script and stylesheet."""

    access = "public"


def simulator_routes(
    platform: WeChatPlatform,
    sender: WebhookSender,
    prefix: str = "/simulator",
    menu: Sequence[tuple[str, str]] = DEFAULT_MENU,
) -> list[tuple[str, type, dict[str, Any]]]:
    """Route tuples of the simulator page, its JSON API, its WebSocket, media and assets."""
    p = prefix.rstrip("/")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(["html"]),
    )
    kw: dict[str, Any] = {"platform": platform, "sender": sender}
    return [
        (rf"{p}/?", SimulatorPageHandler, {**kw, "env": env, "prefix": p, "menu": tuple(menu)}),
        (rf"{p}/api/send", SimulatorSendHandler, kw),
        (rf"{p}/api/replies", SimulatorRepliesHandler, kw),
        (rf"{p}/api/menu", SimulatorMenuHandler, {**kw, "menu": tuple(menu)}),
        (rf"{p}/api/sms", SimulatorSmsHandler, kw),
        (rf"{p}/media/([A-Za-z0-9_\-]+)", SimulatorMediaHandler, kw),
        (rf"{p}/avatar/([A-Za-z0-9_\-]+)", SimulatorAvatarHandler, kw),
        (rf"{p}/ws", SimulatorSocket, {"platform": platform}),
        (rf"{p}/static/(simulator\.(?:js|css))", SimulatorStaticHandler, {"path": str(STATIC_DIR)}),
    ]
