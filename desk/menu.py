"""The Official Account's custom menu (自定义菜单, 可视化导航配置): kept as a setting, published to WeChat.

The admin's menu is the declared setting ``menu`` (`desk.settings`): ``{"button": [...]}`` in
WeChat's own shape, checked by WeChat's rules (`wechat.menu.check_menu`) restricted to the two
types Kefu offers, ``click`` (a ``skill:<name>`` key routes the customer to that skill, see
`wechat.messages.InboundMessage.skill_from_menu`) and ``view`` (an http(s) link). A bad menu is
refused with the field named and nothing is written; a kept one is versioned and audited.

Saving does not change what customers see: :meth:`WeChatMenu.publish` sends the saved version
through ``cgi-bin/menu/create`` and records which version is live (who, when) and an audit entry
(``menu_published``, or ``menu_publish_failed`` with WeChat's errcode, which the caller gets as
``wechat_error`` with WeChat's meaning in words). :meth:`WeChatMenu.state` answers the saved menu,
the published record and what WeChat reports as live (``menu/get``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from desk.errors import ValidationError, WeChatRefused
from desk.self_service_intents import (
    ACTION_LABELS,
    ACTIONS,
    MENU_KEY_PREFIX,
    action_of_key,
    is_self_service_key,
)
from desk.settings import Settings, SettingSpec
from store.base import Store
from store.records import PublicUser
from wechat.client import WeChatClient
from wechat.errors import WeChatAPIError
from wechat.menu import KEFU_TYPES, MenuProblem, check_menu

log = logging.getLogger("kefu.menu")

SETTING_KEY = "menu"
# Where the record of the last publication is kept (a store setting of its own, not a declared
# one: it is written by publishing, never edited).
PUBLISHED_KEY = "menu:published"


def empty_menu() -> dict[str, Any]:
    return {"button": []}


def validate_menu(value: Any, current: Any) -> dict[str, Any]:
    """The whole menu (a PUT replaces it): WeChat's limits, ``click``/``view`` only; an empty
    button list is kept as "no menu yet" (publishing refuses it)."""
    try:
        menu = check_menu(value, types=KEFU_TYPES, allow_empty=True)
    except MenuProblem as exc:
        raise ValidationError(exc.field, exc.message) from None
    _check_self_service_keys(menu)
    return menu


def _check_self_service_keys(menu: dict[str, Any]) -> None:
    """A ``self:<action>`` key (desk.self_service) must name an action Kefu has."""
    for i, button in enumerate(menu.get("button") or ()):
        items = [(f"button[{i}]", button)] + [(f"button[{i}].sub_button[{j}]", sub)
                                               for j, sub in enumerate(button.get("sub_button") or ())]
        for field, item in items:
            key = item.get("key")
            if is_self_service_key(key) and action_of_key(key) is None:
                raise ValidationError(f"{field}.key", "names no self-service action; use one of "
                                      + ", ".join(MENU_KEY_PREFIX + a for a in ACTIONS))


class WeChatMenu:
    def __init__(self, store: Store, settings: Settings, wechat: WeChatClient, clock: Callable[[], float]) -> None:
        self.store = store
        self.settings = settings
        self.wechat = wechat
        self.clock = clock
        settings.define(SettingSpec(SETTING_KEY, default=empty_menu, validate=validate_menu))

    async def state(self) -> dict[str, Any]:
        """``{"saved": envelope, "published": {version, at, by}|null, "live": menu|null,
        "live_error": str|null}``: what the admin edits, what was sent, what WeChat has."""
        live: dict[str, Any] | None = None
        live_error: str | None = None
        try:
            live = await self.wechat.get_menu()
        except WeChatAPIError as exc:
            live_error = exc.human
        return {"saved": await self.settings.entry(SETTING_KEY),
                "published": await self.store.get_setting(PUBLISHED_KEY, None),
                "live": live, "live_error": live_error,
                # The self-service actions a click item may carry (desk.self_service), for the editor.
                "self_service_actions": [{"key": MENU_KEY_PREFIX + a, "label": {"zh": zh, "en": en}}
                                         for a, (zh, en) in ACTION_LABELS.items()]}

    async def publish(self, user: PublicUser) -> dict[str, Any]:
        """Send the saved menu to WeChat; the publication record on success, `WeChatRefused`
        (audited, nothing recorded as live) when WeChat says no."""
        entry = await self.settings.entry(SETTING_KEY)
        menu, version = entry["value"], entry["version"]
        if not menu.get("button"):
            raise ValidationError("button", "the saved menu has no buttons: add one and save before publishing")
        try:
            await self.wechat.create_menu(menu)
        except WeChatAPIError as exc:
            await self._audit(user, "menu_publish_failed", {"version": version, "errcode": exc.code,
                                                            "errmsg": exc.errmsg})
            log.warning("menu publish refused", extra={"fields": {"errcode": exc.code, "version": version}})
            raise WeChatRefused(exc.code, f"{exc.human} (WeChat error {exc.code})") from None
        record = {"version": version, "at": self.clock(), "by": user.get("id"), "menu": menu}
        await self.store.set_setting(PUBLISHED_KEY, record)
        await self._audit(user, "menu_published", {"version": version, "menu": menu})
        log.info("menu published", extra={"fields": {"version": version, "by": user.get("id")}})
        return record

    async def _audit(self, user: PublicUser, action: str, details: dict[str, Any]) -> None:
        await self.store.add_audit({"ts": self.clock(), "actor_id": user.get("id"), "action": action,
                                    "target": SETTING_KEY, "details": details})
