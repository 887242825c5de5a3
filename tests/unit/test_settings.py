"""Settings as data (desk/settings.py): validated before any write, versioned, audited, live."""

from __future__ import annotations

from typing import Any

import pytest

from desk.errors import Forbidden, NotFoundError, ValidationError
from desk.settings import STORAGE_PREFIX, Settings, SettingSpec

ADMIN = {"id": "u-admin", "roles": ["admin"]}
AGENT = {"id": "u-agent", "roles": ["agent"]}


class MemorySettingsStore:
    def __init__(self, stored: dict[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = dict(stored or {})
        self.audit: list[dict[str, Any]] = []

    async def get_setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    async def set_setting(self, key: str, value: Any) -> None:
        self.settings[key] = value

    async def add_audit(self, data: dict[str, Any]) -> dict[str, Any]:
        self.audit.append(data)
        return data


def _threshold(value: Any, current: Any) -> Any:
    if not isinstance(value, dict):
        raise ValidationError("body", "must be an object")
    merged = {**current, **value}
    if not isinstance(merged.get("limit"), int) or merged["limit"] < 1:
        raise ValidationError("limit", "must be a whole number of at least 1")
    return merged


def _settings(store: MemorySettingsStore) -> Settings:
    settings = Settings(store, clock=lambda: 1000.0)
    settings.define(SettingSpec("alerts", default=lambda: {"limit": 5, "on": True}, validate=_threshold,
                                legacy_key="old_alerts"))
    return settings


@pytest.mark.gen_test
async def test_a_change_is_versioned_audited_and_heard():
    store = MemorySettingsStore()
    settings = _settings(store)
    heard: list[tuple[Any, Any]] = []

    async def listener(new: Any, old: Any) -> None:
        heard.append((new, old))

    settings.on_change("alerts", listener)
    assert (await settings.entry("alerts"))["version"] == 0
    entry = await settings.update(ADMIN, "alerts", {"limit": 9})
    assert entry["value"] == {"limit": 9, "on": True}  # the fields left out kept their value
    assert (entry["version"], entry["updated_by"], entry["updated_at"]) == (1, "u-admin", 1000.0)
    assert store.settings[STORAGE_PREFIX + "alerts"]["value"] == {"limit": 9, "on": True}
    assert [a["action"] for a in store.audit] == ["setting_changed"]
    assert store.audit[0]["details"] == {"version": 1, "before": {"limit": 5, "on": True},
                                         "after": {"limit": 9, "on": True}}
    assert heard == [({"limit": 9, "on": True}, {"limit": 5, "on": True})]
    # Read back by a new process: the stored envelope, not the default.
    assert (await _settings(store).entry("alerts"))["version"] == 1


@pytest.mark.gen_test
async def test_a_refused_value_changes_nothing():
    store = MemorySettingsStore()
    settings = _settings(store)
    with pytest.raises(ValidationError) as refused:
        await settings.update(ADMIN, "alerts", {"limit": 0})
    assert refused.value.field == "limit"
    with pytest.raises(Forbidden):
        await settings.update(AGENT, "alerts", {"limit": 7})
    with pytest.raises(NotFoundError):
        await settings.update(ADMIN, "nonsense", {})
    assert store.settings == {} and store.audit == []
    assert (await settings.entry("alerts"))["version"] == 0


@pytest.mark.gen_test
async def test_the_same_value_again_is_not_a_change_and_reads_are_copies():
    store = MemorySettingsStore({"old_alerts": {"limit": 3, "on": False}})
    settings = _settings(store)
    assert await settings.get("alerts") == {"limit": 3, "on": False}  # the earlier release's value
    value = await settings.get("alerts")
    value["limit"] = 99
    assert (await settings.get("alerts"))["limit"] == 3
    entry = await settings.update(ADMIN, "alerts", {"limit": 3})
    assert entry["version"] == 0 and store.audit == []
