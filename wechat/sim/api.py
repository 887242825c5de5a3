"""Tornado handlers that answer like ``api.weixin.qq.com``, backed by a ``WeChatPlatform``.

Mounted under ``/cgi-bin/...`` on the demo server (``--demo`` points ``--wechat-api`` at it) or run
standalone on a port of its own in tests (``make_platform_app``). Like WeChat, every answer is
HTTP 200 with JSON; errors carry ``errcode``/``errmsg``.
"""

from __future__ import annotations

import json
from typing import Any

import tornado.web

from kefu_json import InvalidJSON, parse_json
from wechat.errors import WeChatAPIError
from wechat.sim.platform import WeChatPlatform


class PlatformHandler(tornado.web.RequestHandler):
    """Base: holds the platform, answers JSON, turns WeChatAPIError into errcode JSON."""

    platform: WeChatPlatform
    # Like WeChat's API, callers authenticate with the access token in the query, not a login.
    access = "public"

    def initialize(self, platform: WeChatPlatform) -> None:
        self.platform = platform

    def check_xsrf_cookie(self) -> None:  # a machine API, like WeChat's
        return None

    def answer(self, data: dict[str, Any]) -> None:
        self.set_header("Content-Type", "application/json; encoding=utf-8")
        self.finish(json.dumps(data, ensure_ascii=False).encode("utf-8"))

    def answer_error(
        self, exc: WeChatAPIError, content_type: str = "application/json; encoding=utf-8"
    ) -> None:
        self.set_header("Content-Type", content_type)
        self.finish(
            json.dumps({"errcode": exc.code, "errmsg": exc.errmsg}, ensure_ascii=False).encode("utf-8")
        )

    def json_body(self) -> Any:
        try:
            return parse_json(self.request.body or b"null")
        except InvalidJSON:
            return None


class TokenHandler(PlatformHandler):
    def get(self) -> None:
        try:
            self.answer(
                self.platform.issue_token(
                    self.get_query_argument("grant_type", None),
                    self.get_query_argument("appid", None),
                    self.get_query_argument("secret", None),
                )
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class StableTokenHandler(PlatformHandler):
    def post(self) -> None:
        body = self.json_body()
        if not isinstance(body, dict):
            body = {}
        try:
            self.answer(
                self.platform.issue_stable_token(
                    body.get("grant_type"),
                    body.get("appid"),
                    body.get("secret"),
                    bool(body.get("force_refresh")),
                )
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class CustomSendHandler(PlatformHandler):
    def post(self) -> None:
        try:
            self.answer(
                self.platform.custom_send(self.get_query_argument("access_token", None), self.json_body())
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class TemplateSendHandler(PlatformHandler):
    def post(self) -> None:
        try:
            self.answer(
                self.platform.template_send(self.get_query_argument("access_token", None), self.json_body())
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class CustomTypingHandler(PlatformHandler):
    def post(self) -> None:
        try:
            self.answer(
                self.platform.custom_typing(self.get_query_argument("access_token", None), self.json_body())
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class UserInfoHandler(PlatformHandler):
    async def get(self) -> None:
        await self.platform.held("user_info")
        try:
            self.answer(
                self.platform.user_info(
                    self.get_query_argument("access_token", None),
                    self.get_query_argument("openid", None),
                    self.get_query_argument("lang", None),
                )
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class MenuCreateHandler(PlatformHandler):
    def post(self) -> None:
        try:
            self.answer(self.platform.menu_create(self.get_query_argument("access_token", None), self.json_body()))
        except WeChatAPIError as exc:
            self.answer_error(exc)


class MenuGetHandler(PlatformHandler):
    def get(self) -> None:
        try:
            self.answer(self.platform.menu_get(self.get_query_argument("access_token", None)))
        except WeChatAPIError as exc:
            self.answer_error(exc)


class MenuDeleteHandler(PlatformHandler):
    def get(self) -> None:
        try:
            self.answer(self.platform.menu_delete(self.get_query_argument("access_token", None)))
        except WeChatAPIError as exc:
            self.answer_error(exc)


class MediaUploadHandler(PlatformHandler):
    def post(self) -> None:
        files = self.request.files.get("media") or []
        upload = files[0] if files else None
        try:
            self.answer(
                self.platform.media_upload(
                    self.get_query_argument("access_token", None),
                    self.get_query_argument("type", None),
                    upload.filename if upload else "",
                    upload.content_type if upload else "application/octet-stream",
                    upload.body if upload else None,
                )
            )
        except WeChatAPIError as exc:
            self.answer_error(exc)


class MediaGetHandler(PlatformHandler):
    def get(self) -> None:
        try:
            media = self.platform.media_get(
                self.get_query_argument("access_token", None), self.get_query_argument("media_id", None)
            )
        except WeChatAPIError as exc:
            # WeChat answers media errors as JSON with a text/plain content type.
            self.answer_error(exc, content_type="text/plain")
            return
        self.set_header("Content-Type", media.content_type)
        self.set_header("Content-Disposition", f'attachment; filename="{media.filename}"')
        self.finish(media.data)


def platform_routes(platform: WeChatPlatform, prefix: str = "") -> list[tuple[str, type, dict[str, Any]]]:
    """Route tuples of the simulated API, e.g. ``prefix=""`` gives ``/cgi-bin/token``."""
    p = prefix.rstrip("/")
    kw = {"platform": platform}
    return [
        (rf"{p}/cgi-bin/token", TokenHandler, kw),
        (rf"{p}/cgi-bin/stable_token", StableTokenHandler, kw),
        (rf"{p}/cgi-bin/message/custom/send", CustomSendHandler, kw),
        (rf"{p}/cgi-bin/message/custom/typing", CustomTypingHandler, kw),
        (rf"{p}/cgi-bin/message/template/send", TemplateSendHandler, kw),
        (rf"{p}/cgi-bin/user/info", UserInfoHandler, kw),
        (rf"{p}/cgi-bin/menu/create", MenuCreateHandler, kw),
        (rf"{p}/cgi-bin/menu/get", MenuGetHandler, kw),
        (rf"{p}/cgi-bin/menu/delete", MenuDeleteHandler, kw),
        (rf"{p}/cgi-bin/media/upload", MediaUploadHandler, kw),
        (rf"{p}/cgi-bin/media/get", MediaGetHandler, kw),
    ]


def make_platform_app(platform: WeChatPlatform) -> tornado.web.Application:
    """The simulated API alone, to listen on its own port (tests, or a separate demo process)."""
    return tornado.web.Application(platform_routes(platform))
