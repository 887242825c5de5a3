"""The WeChat custom menu over HTTP: what is saved, published and live; publishing it.

Thin: `desk.menu.WeChatMenu` owns the rules. The menu itself is edited as the setting ``menu``
(``GET``/``PUT /api/settings/menu``, validated, versioned, audited); ``GET /api/menu`` answers it
with the publication record and WeChat's live menu, and ``POST /api/menu/publish`` sends the saved
version to WeChat (502 ``wechat_error`` with WeChat's ``errcode`` when WeChat refuses it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import APIHandler, roles
from handlers.openapi import NUM, STR, Op, array, nullable, obj, ref

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.menu import WeChatMenu
    from server import Services

PUBLISHED = obj(("version", "at", "by", "menu"), version={"type": "integer"}, at=NUM, by=nullable(STR),
                menu=ref("Menu"))


class _MenuHandler(APIHandler):
    access = roles("admin")

    def initialize(self, accounts: Accounts, menu: WeChatMenu) -> None:
        super().initialize(accounts)
        self.menu = menu


class MenuHandler(_MenuHandler):
    api_doc = {"get": Op(
        "The custom menu: saved (the setting), published (which version, when, by whom), live (WeChat's menu/get)",
        response=obj(("saved", "published", "live"), saved=ref("SettingEnvelope"), published=nullable(PUBLISHED),
                     live=nullable(ref("Menu")), live_error=nullable(STR),
                     self_service_actions=array(obj(("key", "label"), key=STR,
                                                    label=obj(("zh", "en"), zh=STR, en=STR)))),
        tags=("menu",))}

    async def get(self) -> None:
        self.write_json(await self.menu.state())


class MenuPublishHandler(_MenuHandler):
    api_doc = {"post": Op(
        "Publish the saved menu to WeChat (cgi-bin/menu/create); audited",
        description="No body. 400 bad_field when the saved menu has no buttons; 502 wechat_error with "
                    "WeChat's errcode and its meaning when WeChat refuses the menu.",
        response=PUBLISHED, errors=(400, 502), tags=("menu",))}

    async def post(self) -> None:
        self.write_json(await self.menu.publish(self.current_user))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "menu": services.desk.menu}
    return [
        (r"/api/menu", MenuHandler, args),
        (r"/api/menu/publish", MenuPublishHandler, args),
    ]
