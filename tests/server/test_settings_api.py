"""``/api/settings/{key}`` through the real app: declared settings only, roles, validation, audit."""

from __future__ import annotations

from typing import Any

import pytest

from desk.errors import ValidationError
from desk.settings import SettingSpec


def _limit(value: Any, current: Any) -> Any:
    merged = {**current, **value}
    if not isinstance(merged.get("limit"), int) or isinstance(merged["limit"], bool) or merged["limit"] < 1:
        raise ValidationError("limit", "must be a whole number of at least 1")
    return merged


@pytest.mark.gen_test(timeout=30)
async def test_a_declared_setting_is_read_changed_and_audited(kefu, api, login) -> None:
    kefu.desk.settings.define(SettingSpec("test_limits", default=lambda: {"limit": 3, "mode": "a"}, validate=_limit))
    admin, _ = await login("admin")
    agent, _ = await login("alice")

    assert await api("/api/settings/test_limits", token=admin) == (200, {"limit": 3, "mode": "a"})
    status, body = await api("/api/settings/test_limits", "PUT", {"limit": 0}, token=admin)
    assert (status, body["error"]["code"]) == (400, "bad_field") and "limit" in body["error"]["message"]
    status, body = await api("/api/settings/test_limits", "PUT", {"limit": 8}, token=agent)
    assert status == 403
    status, body = await api("/api/settings/test_limits", "PUT", "[", token=admin)
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    async def setting_changes() -> list[dict[str, Any]]:
        entries = (await api("/api/audit?limit=50", token=admin))[1]["entries"]
        return [e for e in entries if e["action"] == "setting_changed"]

    assert await setting_changes() == []  # refused: nothing written

    assert await api("/api/settings/test_limits", "PUT", {"limit": 8}, token=admin) == (200, {"limit": 8, "mode": "a"})
    status, meta = await api("/api/settings/test_limits?meta=1", token=admin)
    assert (meta["version"], meta["value"]) == (1, {"limit": 8, "mode": "a"})
    entries = await setting_changes()
    assert [(e["target"], e["actor_id"]) for e in entries] == [("test_limits", meta["updated_by"])]
    assert entries[0]["details"]["before"] == {"limit": 3, "mode": "a"}


@pytest.mark.gen_test(timeout=30)
async def test_an_unknown_setting_is_404_and_agents_may_not_read_settings(api, login) -> None:
    admin, _ = await login("admin")
    agent, _ = await login("alice")
    status, body = await api("/api/settings/nonsense", "PUT", {"a": 1}, token=admin)
    assert (status, body["error"]["code"]) == (404, "not_found")
    assert (await api("/api/settings/nonsense", token=agent))[0] == 403
    assert (await api("/api/settings/Bad-Key", token=admin))[0] == 404
