"""Async client for the WeChat Official Account API (customer-service messages, template
messages, media, typing, user info).

wechatpy's client is synchronous (``requests``), which would block the event loop that carries
every agent's WebSocket, so Kefu has its own small client on Tornado's ``AsyncHTTPClient``:

* the access token is fetched from ``cgi-bin/stable_token`` (or the classic ``cgi-bin/token``),
  cached until ``TOKEN_MARGIN_SECS`` before it expires, and refreshed by ONE request however
  many callers need it at the same moment (single-flight through a shared task);
* an invalid/expired token (40001, 42001, 40014) makes the client refresh once and retry once;
* WeChat's "system busy" (-1) is retried with exponential backoff;
* any other errcode becomes the matching ``wechat.errors`` exception.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

from wechat.errors import (
    InvalidTokenError,
    WeChatAPIError,
    WeChatBusyError,
    WeChatUnreachableError,
    api_error,
)

# menu/get's answer when the account has no custom menu.
MENU_MISSING_CODE = 46003
# Refresh this long before WeChat's expiry, so a token never dies in flight.
TOKEN_MARGIN_SECS = 300
# One HTTP call to WeChat may take this long before we give up on it.
REQUEST_TIMEOUT_SECS = 10.0
# Tries for a call WeChat answers "busy" (-1), and the first back-off delay (doubled each time).
BUSY_TRIES = 3
BUSY_BACKOFF_SECS = 0.2


class WeChatClient:
    """One Official Account's API access. Create it inside the running loop (server.py)."""

    def __init__(
        self,
        appid: str,
        secret: str,
        api_base: str = "https://api.weixin.qq.com",
        http_client: AsyncHTTPClient | None = None,
        use_stable_token: bool = True,
        clock: Callable[[], float] = time.time,
        busy_tries: int = BUSY_TRIES,
        busy_backoff_secs: float = BUSY_BACKOFF_SECS,
        request_timeout_secs: float = REQUEST_TIMEOUT_SECS,
    ) -> None:
        self.appid = appid
        self._secret = secret
        self.api_base = api_base.rstrip("/")
        self._http = http_client
        self.use_stable_token = use_stable_token
        self._clock = clock
        self._busy_tries = max(1, busy_tries)
        self._busy_backoff_secs = busy_backoff_secs
        self._timeout = request_timeout_secs
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._refresh: asyncio.Future[str] | None = None
        # Counts for /metrics and tests.
        self.token_fetches = 0

    @property
    def http(self) -> AsyncHTTPClient:
        if self._http is None:
            self._http = AsyncHTTPClient()
        return self._http

    # -- access token ------------------------------------------------------------------------
    async def access_token(self, stale: str | None = None) -> str:
        """A valid access token. ``stale``: a token WeChat just rejected; never returned again."""
        if stale is not None and self._token == stale:
            self._token = None
        if self._token is not None and self._clock() < self._token_expires_at - TOKEN_MARGIN_SECS:
            return self._token
        if self._refresh is None:
            # A task of its own: a caller that is cancelled does not cancel the others' refresh.
            self._refresh = asyncio.ensure_future(self._fetch_token(stale))
            self._refresh.add_done_callback(self._refresh_done)
        return await asyncio.shield(self._refresh)

    def _refresh_done(self, fut: asyncio.Future[str]) -> None:
        self._refresh = None
        if not fut.cancelled():
            fut.exception()  # retrieved here; every waiter still gets it through the shield

    async def _fetch_token(self, stale: str | None) -> str:
        self.token_fetches += 1
        if self.use_stable_token:
            body: dict[str, str | bool] = {"grant_type": "client_credential", "appid": self.appid,
                                           "secret": self._secret}
            data = await self._with_busy_retry(lambda: self._post_json("cgi-bin/stable_token", body))
            if stale is not None and data.get("access_token") == stale:
                # The stable token WeChat keeps is the one it just refused: ask for a new one.
                body = {**body, "force_refresh": True}
                data = await self._with_busy_retry(lambda: self._post_json("cgi-bin/stable_token", body))
        else:
            params = {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret}
            data = await self._with_busy_retry(lambda: self._get_json("cgi-bin/token", params))
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WeChatUnreachableError("token answer without access_token")
        self._token = token
        self._token_expires_at = self._clock() + float(data.get("expires_in", 7200))
        return token

    # -- HTTP plumbing -----------------------------------------------------------------------
    async def _with_busy_retry(self, call: Callable[[], Any]) -> Any:
        delay = self._busy_backoff_secs
        for attempt in range(1, self._busy_tries + 1):
            try:
                return await call()
            except WeChatBusyError:
                if attempt == self._busy_tries:
                    raise
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(self, make_request: Callable[[str], Any]) -> Any:
        """Run ``make_request(token)`` with token refresh-and-retry-once and busy retries."""

        async def once() -> Any:
            token = await self.access_token()
            try:
                return await make_request(token)
            except InvalidTokenError:
                token = await self.access_token(stale=token)
                return await make_request(token)

        return await self._with_busy_retry(once)

    def _url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = f"{self.api_base}/{path}"
        return f"{url}?{urlencode(params)}" if params else url

    async def _fetch(self, request: HTTPRequest) -> HTTPResponse:
        try:
            return await self.http.fetch(request, raise_error=True)
        except HTTPClientError as exc:
            if exc.response is not None and exc.response.body:
                return exc.response  # WeChat answers errors as JSON; let _decode read it
            raise WeChatUnreachableError(f"HTTP {exc.code}") from exc
        except (TimeoutError, OSError) as exc:
            raise WeChatUnreachableError(str(exc) or type(exc).__name__) from exc

    @staticmethod
    def _decode(response: HTTPResponse) -> dict[str, Any]:
        try:
            data = json.loads(response.body)
        except (ValueError, TypeError) as exc:
            raise WeChatUnreachableError(f"HTTP {response.code}, answer is not JSON") from exc
        if not isinstance(data, dict):
            raise WeChatUnreachableError("answer is not a JSON object")
        code = data.get("errcode", 0)
        if code:
            raise api_error(int(code), str(data.get("errmsg", "")))
        if response.code >= 400:
            raise WeChatUnreachableError(f"HTTP {response.code}")
        return data

    async def _get_json(self, path: str, params: Mapping[str, Any]) -> dict[str, Any]:
        req = HTTPRequest(self._url(path, params), method="GET", request_timeout=self._timeout)
        return self._decode(await self._fetch(req))

    async def _post_json(
        self, path: str, body: Mapping[str, Any], params: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        req = HTTPRequest(
            self._url(path, params),
            method="POST",
            # WeChat expects UTF-8 text, not \\u escapes, for Chinese.
            body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8"},
            request_timeout=self._timeout,
        )
        return self._decode(await self._fetch(req))

    async def _api_post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return await self._call(lambda token: self._post_json(path, body, {"access_token": token}))

    # -- customer-service messages -----------------------------------------------------------
    async def send(self, openid: str, msgtype: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """Send any customer-service message type: ``{"touser", "msgtype", msgtype: payload}``."""
        body = {"touser": openid, "msgtype": msgtype, msgtype: dict(payload)}
        return await self._api_post("cgi-bin/message/custom/send", body)

    async def send_text(self, openid: str, text: str) -> dict[str, Any]:
        return await self.send(openid, "text", {"content": text})

    async def send_image(self, openid: str, media_id: str) -> dict[str, Any]:
        return await self.send(openid, "image", {"media_id": media_id})

    async def send_voice(self, openid: str, media_id: str) -> dict[str, Any]:
        return await self.send(openid, "voice", {"media_id": media_id})

    async def send_video(
        self, openid: str, media_id: str, thumb_media_id: str = "", title: str = "", description: str = ""
    ) -> dict[str, Any]:
        return await self.send(
            openid,
            "video",
            {
                "media_id": media_id,
                "thumb_media_id": thumb_media_id,
                "title": title,
                "description": description,
            },
        )

    async def send_news(self, openid: str, articles: Iterable[Mapping[str, str]]) -> dict[str, Any]:
        """``articles``: dicts with title, description, url, picurl (WeChat shows one)."""
        items = [
            {
                "title": a.get("title", ""),
                "description": a.get("description", ""),
                "url": a.get("url", ""),
                "picurl": a.get("picurl", a.get("pic_url", "")),
            }
            for a in articles
        ]
        return await self.send(openid, "news", {"articles": items})

    async def send_msgmenu(
        self, openid: str, head: str, items: Iterable[Mapping[str, str] | tuple[str, str]], tail: str = ""
    ) -> dict[str, Any]:
        """A menu message; ``items`` are ``{"id", "content"}`` dicts or ``(id, content)`` pairs."""
        menu = [
            {"id": str(i["id"]), "content": i["content"]}
            if isinstance(i, Mapping)
            else {"id": str(i[0]), "content": i[1]}
            for i in items
        ]
        return await self.send(openid, "msgmenu", {"head_content": head, "list": menu, "tail_content": tail})

    async def typing(self, openid: str, typing: bool = True) -> dict[str, Any]:
        """Show (or stop showing) "typing..." to the customer."""
        body = {"touser": openid, "command": "Typing" if typing else "CancelTyping"}
        return await self._api_post("cgi-bin/message/custom/typing", body)

    # -- template messages -------------------------------------------------------------------
    async def send_template(self, openid: str, template_id: str, data: Mapping[str, Mapping[str, str]],
                            url: str | None = None) -> dict[str, Any]:
        """``cgi-bin/message/template/send``: ``data`` is ``{key: {"value", "color"?}}``; WeChat's
        answer ``{"errcode": 0, "errmsg": "ok", "msgid"}``. Needs no 48-hour window, only a
        follower: 43004 (unfollowed), 40003 (not this account's openid), 40037 (unknown
        template_id), 47003 (a value WeChat refuses), 45009 (the day's quota) arrive as
        ``WeChatAPIError`` with that ``code``; an expired token is refreshed and retried once."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id,
                                "data": {key: dict(value) for key, value in data.items()}}
        if url:
            body["url"] = url
        return await self._api_post("cgi-bin/message/template/send", body)

    # -- custom menu -------------------------------------------------------------------------
    async def create_menu(self, menu: Mapping[str, Any]) -> dict[str, Any]:
        """``cgi-bin/menu/create``: make ``{"button": [...]}`` the Official Account's menu.
        WeChat's refusals (40016–40027 invalid button…, 40054/40055 url domain, 48001 not
        authorised) arrive as ``WeChatAPIError`` with their code and ``human`` sentence."""
        return await self._api_post("cgi-bin/menu/create", menu)

    async def get_menu(self) -> dict[str, Any] | None:
        """``cgi-bin/menu/get``: the live menu ``{"button": [...]}``, None when the account has
        none (46003)."""
        try:
            data = await self._call(lambda token: self._get_json("cgi-bin/menu/get", {"access_token": token}))
        except WeChatAPIError as exc:
            if exc.code == MENU_MISSING_CODE:
                return None
            raise
        menu = data.get("menu")
        return menu if isinstance(menu, dict) else None

    # -- users -------------------------------------------------------------------------------
    async def user_info(self, openid: str, lang: str = "zh_CN") -> dict[str, Any]:
        """``cgi-bin/user/info``: WeChat's answer as is (``subscribe``, ``openid``, ``nickname``,
        ``headimgurl``, ``remark``, ``subscribe_time``, ``tagid_list``...; an unsubscribed user
        gets only ``subscribe: 0`` and ``openid``). 40003 (``WeChatAPIError``) for an openid that
        is not this account's."""
        params = {"openid": openid, "lang": lang}
        return await self._call(lambda token: self._get_json("cgi-bin/user/info", {"access_token": token, **params}))

    # -- media -------------------------------------------------------------------------------
    async def upload_media(self, media_type: str, filename: str, data: bytes) -> str:
        """Upload temporary media (image, voice, video, thumb); returns its media_id."""
        boundary = uuid.uuid4().hex
        ctype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        safe_name = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        body = b"".join(
            (
                f"--{boundary}\r\n".encode(),
                f'Content-Disposition: form-data; name="media"; filename="{safe_name}"\r\n'.encode(),
                f"Content-Type: {ctype}\r\n\r\n".encode(),
                data,
                f"\r\n--{boundary}--\r\n".encode(),
            )
        )

        async def upload(token: str) -> dict[str, Any]:
            req = HTTPRequest(
                self._url("cgi-bin/media/upload", {"access_token": token, "type": media_type}),
                method="POST",
                body=body,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                request_timeout=self._timeout,
            )
            return self._decode(await self._fetch(req))

        data_out = await self._call(upload)
        media_id = data_out.get("media_id") or data_out.get("thumb_media_id")
        if not media_id:
            raise WeChatAPIError(0, "upload answer without media_id")
        return str(media_id)

    async def download_media(self, media_id: str) -> bytes:
        """The bytes of a temporary media_id (a customer's image or voice)."""

        async def download(token: str) -> bytes:
            req = HTTPRequest(
                self._url("cgi-bin/media/get", {"access_token": token, "media_id": media_id}),
                method="GET",
                request_timeout=self._timeout,
            )
            resp = await self._fetch(req)
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype or ctype.startswith("text/plain") or resp.code >= 400:
                self._decode(resp)  # raises on an errcode
            return resp.body

        return await self._call(download)
