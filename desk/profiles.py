"""Customers' names and avatars, fetched from WeChat's user-info API in the background.

A customer reaches Kefu as a bare openid. The first time one writes (or the first time after a
fetch that never succeeded), ``CustomerProfiles.notice`` starts one background fetch of
``cgi-bin/user/info``; neither the webhook's answer nor the message's processing waits for it.
The answer is stored on the customer record (``nickname``, ``avatar_url`` and ``profile``, the
fetch's outcome) and handed to ``on_profile`` so the desk can tell open consoles.

A fetch that fails for a reason that may pass (WeChat busy or unreachable, token trouble that
survived the client's own refresh, a rate limit) is tried again after each of
``RETRY_DELAYS_SECS``; then it rests until the customer writes again. An answer that will not
change (40003: the openid is not this account's; 48001: the account may not call the API) is
stored as the outcome and never asked again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from store.base import NotFound, Store
from store.records import CustomerRecord
from wechat.client import WeChatClient
from wechat.errors import WeChatAPIError

log = logging.getLogger("kefu.desk.profiles")

# Waits before the 2nd, 3rd... try of a fetch that failed: soon (a blip), then less and less often.
RETRY_DELAYS_SECS: tuple[float, ...] = (5.0, 30.0, 120.0, 600.0)
# WeChat answers that asking again will not change: invalid openid, API not authorised.
PERMANENT_ERRORS = frozenset({40003, 48001})
# Longer names or URLs than these are not WeChat's; they are cut / dropped rather than stored.
MAX_NICKNAME_CHARS = 64
MAX_AVATAR_URL_CHARS = 1024

ProfileListener = Callable[[CustomerRecord], Awaitable[None]]


def profile_fields(info: dict[str, Any], now: float) -> dict[str, Any]:
    """The customer-record fields for one user-info answer.

    WeChat stopped sending ``nickname`` and ``headimgurl`` to most Official Accounts at the end
    of 2021 and sends neither for a user who unfollowed; the account's own ``remark`` for the
    user (still sent) is the next best name. Missing values are stored as None, so the consoles
    fall back to the openid."""
    name = info.get("nickname") or info.get("remark")
    nickname = name.strip()[:MAX_NICKNAME_CHARS] if isinstance(name, str) else ""
    return {
        "nickname": nickname or None,
        "avatar_url": _avatar_url(info.get("headimgurl")),
        "profile": {"fetched_at": now, "subscribed": bool(info.get("subscribe"))},
    }


def _avatar_url(value: Any) -> str | None:
    if not isinstance(value, str) or not value or len(value) > MAX_AVATAR_URL_CHARS:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if parts.scheme == "http" and parts.hostname and parts.hostname.endswith(".qlogo.cn"):
        # WeChat still hands out http:// avatar links; its image hosts serve the same over
        # https, which an https console can show (an http picture would be mixed content).
        parts = parts._replace(scheme="https")
    return urlunsplit(parts)


def needs_profile(customer: Mapping[str, Any] | None) -> bool:
    """No user-info answer stored yet for this customer."""
    return not (customer and (customer.get("profile") or {}).get("fetched_at"))


class CustomerProfiles:
    """One background fetch per customer at a time, with retries; see the module docstring."""

    def __init__(self, store: Store, wechat: WeChatClient, on_profile: ProfileListener,
                 clock: Callable[[], float] = time.time,
                 retry_delays_secs: Sequence[float] = RETRY_DELAYS_SECS) -> None:
        self._store = store
        self._wechat = wechat
        self._on_profile = on_profile
        self._clock = clock
        self.retry_delays_secs = tuple(retry_delays_secs)
        # openid -> the task fetching it (while it runs or waits for its next try)
        self._fetching: dict[str, asyncio.Task[None]] = {}
        self._stopped = False

    def notice(self, customer: Mapping[str, Any]) -> None:
        """A stored customer wrote: fetch their profile unless it is known or being fetched
        (``customer``: as stored, or with the changes of the message being filed)."""
        openid = customer.get("openid")
        if self._stopped or not openid or openid in self._fetching or not needs_profile(customer):
            return
        task = asyncio.ensure_future(self._fetch(openid))
        self._fetching[openid] = task
        task.add_done_callback(lambda _t: self._fetching.pop(openid, None))

    @property
    def fetching(self) -> int:
        """Customers whose profile is being fetched or waits for another try."""
        return len(self._fetching)

    async def _fetch(self, openid: str) -> None:
        for attempt in range(len(self.retry_delays_secs) + 1):
            if attempt:
                await asyncio.sleep(self.retry_delays_secs[attempt - 1])
            try:
                fields = profile_fields(await self._wechat.user_info(openid), self._clock())
            except WeChatAPIError as exc:
                if exc.code in PERMANENT_ERRORS:
                    log.warning("customer profile refused", extra={"fields": {"openid": openid, "code": exc.code}})
                    fields = {"profile": {"fetched_at": self._clock(), "error": exc.code}}
                else:
                    log.info("customer profile fetch failed", extra={"fields": {
                        "openid": openid, "code": exc.code, "attempt": attempt + 1}})
                    continue
            except Exception as exc:  # a bug or a broken answer must not end the retries silently
                log.warning("customer profile fetch failed", extra={"fields": {
                    "openid": openid, "error": repr(exc), "attempt": attempt + 1}})
                continue
            try:
                customer = await self._store.update_customer(openid, **fields)
            except NotFound:  # the customer's first message is still being filed: try again
                continue
            if "nickname" in fields:
                await self._on_profile(customer)
            return
        log.warning("customer profile not fetched; trying again when the customer writes",
                    extra={"fields": {"openid": openid}})

    def stop(self) -> None:
        self._stopped = True
        for task in list(self._fetching.values()):
            task.cancel()
