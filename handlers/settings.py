"""Settings as data over HTTP: ``GET``/``PUT /api/settings/{key}`` for every declared setting.

Thin: the desk's `desk.settings.Settings` owns the rules (which keys exist, who may change each,
validation, versions, the audit entry, applying the change live). ``GET`` answers the value; its
version is in the ``X-Kefu-Setting-Version`` header and, with the author and time, in
``GET /api/settings/{key}?meta=1`` (``{"key","value","version","updated_at","updated_by"}``).
A ``PUT`` body is the value (or, for object-valued settings, the fields to change); it may be any
JSON value (``keyword_rules`` is a list), which the setting's validator checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from handlers.base import STAFF, APIHandler
from handlers.openapi import Op, Query

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.settings import Settings
    from server import Services


class SettingHandler(APIHandler):
    # Staff reach the handler; each setting's spec says which roles may change it.
    access = STAFF
    api_path_params = ("key",)
    api_doc = {
        "get": Op("A setting's value (with meta=1: its envelope with version, author and time)",
                  query=(Query("meta", description="1: answer the envelope"),),
                  response={"description": "the value, or the envelope with meta=1"}, tags=("settings",)),
        "put": Op("Change a setting: validated (400 bad_field names the field, nothing changed), versioned, "
                  "audited, applied live", description="Each setting's roles decide who may change it.",
                  request={"description": "the value (object settings: the fields to change)"},
                  response={"description": "the new value"}, tags=("settings",)),
    }

    def initialize(self, accounts: Accounts, settings: Settings) -> None:
        super().initialize(accounts)
        self.kefu_settings = settings

    def _answer(self, entry: dict[str, Any]) -> None:
        self.set_header("X-Kefu-Setting-Version", str(entry["version"]))
        self.write_json(entry if self.get_query_argument("meta", "") in ("1", "true") else entry["value"])

    async def get(self, key: str) -> None:
        self._answer(await self.kefu_settings.entry(key))

    async def put(self, key: str) -> None:
        self.kefu_settings.spec(key)  # an unknown key is a 404 before the body is read
        body = self.json_value()  # the setting's validator checks its shape (an object, a list...)
        self._answer(await self.kefu_settings.update(self.current_user, key, body))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "settings": services.desk.settings}
    return [(r"/api/settings/([a-z_]+)", SettingHandler, args)]
