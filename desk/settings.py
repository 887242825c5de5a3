"""Settings as data: what an admin can change, validated, versioned, audited and applied live.

Every setting is declared once by the feature that owns it, as a :class:`SettingSpec`: its key,
its default, the roles that may change it and a validator that returns the value to keep (or
raises `desk.errors.ValidationError` naming the field). :class:`Settings` is the one way to read
and change them:

* a change is validated before anything is written: a refused value changes nothing and writes
  no audit entry;
* a kept change bumps the setting's ``version`` and records who and when, in the stored envelope
  ``{"value", "version", "updated_at", "updated_by"}``, and writes an audit entry
  (``action: "setting_changed"``, ``target`` the key, ``details`` ``{version, before, after}``);
  a value equal to the current one is not a change (no version, no audit entry);
* listeners of that key (the routing engine's queue configuration, the desk's texts, ...) are
  called with the new and the old value after the write: a change is an event, never a restart.

Changes are serialised by one lock, so two admins saving at once get two versions in order, not
one lost update. Values are cached in memory after the first read: this process is the only
writer of settings (DESIGN.md, "one desk owner").
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from desk.errors import Forbidden, NotFoundError
from store.base import Store
from store.records import PublicUser

log = logging.getLogger("kefu.settings")

# Stored settings live under this prefix; the bare keys of earlier releases (``skills``,
# ``keyword_rules``, ``canned_replies``) are read once as the starting value (version 0).
STORAGE_PREFIX = "setting:"

Listener = Callable[[Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class SettingSpec:
    """One setting: ``validate(value, current)`` returns the value to keep (``current`` lets a
    partial update keep the fields it leaves out) or raises ``ValidationError``; it may be a
    coroutine function when checking needs the store."""

    key: str
    default: Callable[[], Any]
    validate: Callable[[Any, Any], Any]
    roles: frozenset[str] = frozenset({"admin"})
    legacy_key: str | None = None


def _roles(user: PublicUser) -> set[str]:
    return set(user.get("roles") or ())


class Settings:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock
        self._specs: dict[str, SettingSpec] = {}
        self._entries: dict[str, dict[str, Any]] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._lock = asyncio.Lock()

    # -- declaring ---------------------------------------------------------------------------------
    def define(self, spec: SettingSpec) -> None:
        if spec.key in self._specs:
            raise ValueError(f"setting {spec.key!r} is declared twice")
        self._specs[spec.key] = spec

    def on_change(self, key: str, listener: Listener) -> None:
        self._spec(key)
        self._listeners.setdefault(key, []).append(listener)

    def keys(self) -> Iterable[str]:
        return tuple(self._specs)

    def spec(self, key: str) -> SettingSpec:
        return self._spec(key)

    def _spec(self, key: str) -> SettingSpec:
        spec = self._specs.get(key)
        if spec is None:
            raise NotFoundError(f"no setting named {key!r}")
        return spec

    # -- reading -----------------------------------------------------------------------------------
    async def entry(self, key: str) -> dict[str, Any]:
        """The setting's envelope ``{key, value, version, updated_at, updated_by}`` (a copy)."""
        cached = self._entries.get(key)
        if cached is None:
            cached = await self._load(self._spec(key))
            self._entries[key] = cached
        return copy.deepcopy(cached)

    async def get(self, key: str) -> Any:
        """The setting's current value (a copy: callers may change it freely)."""
        return (await self.entry(key))["value"]

    async def _load(self, spec: SettingSpec) -> dict[str, Any]:
        stored = await self.store.get_setting(STORAGE_PREFIX + spec.key, None)
        if isinstance(stored, dict) and "version" in stored:
            return {"key": spec.key, **stored}
        value = None
        if spec.legacy_key is not None:
            value = await self.store.get_setting(spec.legacy_key, None)
        if value is None:
            value = spec.default()
        return {"key": spec.key, "value": value, "version": 0, "updated_at": None, "updated_by": None}

    # -- changing ----------------------------------------------------------------------------------
    def may_change(self, user: PublicUser, key: str) -> bool:
        return bool(_roles(user) & self._spec(key).roles)

    async def update(self, user: PublicUser, key: str, value: Any) -> dict[str, Any]:
        """Validate and keep ``value`` as the setting ``key``; returns the new envelope."""
        spec = self._spec(key)
        if not self.may_change(user, key):
            raise Forbidden(f"your role may not change the setting {key!r}")
        async with self._lock:
            current = await self.entry(key)
            kept = spec.validate(value, copy.deepcopy(current["value"]))
            if inspect.isawaitable(kept):  # a validator that asks the store (a skill that must exist)
                kept = await kept
            if kept == current["value"]:
                return current
            envelope = {"value": kept, "version": int(current["version"]) + 1,
                        "updated_at": self.clock(), "updated_by": user.get("id")}
            await self.store.set_setting(STORAGE_PREFIX + key, envelope)
            await self.store.add_audit({
                "ts": envelope["updated_at"], "actor_id": user.get("id"), "action": "setting_changed",
                "target": key, "details": {"version": envelope["version"], "before": current["value"],
                                           "after": kept},
            })
            self._entries[key] = {"key": key, **envelope}
        log.info("setting changed", extra={"fields": {"key": key, "version": envelope["version"],
                                                       "by": user.get("id")}})
        for listener in self._listeners.get(key, ()):
            await listener(copy.deepcopy(kept), current["value"])
        return await self.entry(key)

    async def apply_all(self) -> None:
        """Call every listener with the current values (start-up: the engine and the desk begin
        from what is stored, exactly as if each setting had just changed)."""
        for key, listeners in self._listeners.items():
            value = await self.get(key)
            for listener in listeners:
                await listener(value, None)
