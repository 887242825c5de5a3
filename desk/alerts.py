"""Alerts to supervisors (告警): a skill's oldest wait, service level or queue length past the admin's
threshold, or an agent away too long; again when it recovers.

The thresholds are the ``alerts`` setting (PROTOCOL v2: ``PUT /api/settings/alerts``
``{"oldest_wait_s", "service_level_below", "queue_length_above"}``; here also ``agent_away_s`` and
per-skill overrides in ``skills``), validated, versioned, audited and applied live by
`desk.settings.Settings`. The rules and the hysteresis are `desk.alert_rules`; this feature feeds
them the routing engine's picture at every routing change (`desk.watchers.Watchers`'s change
listeners) and on a timer (:attr:`Alerts.check_secs`: waits and absences grow with no event), and
sends each transition as an ``alert`` event ``{"code", "skill", "agent_id", "value", "threshold",
"level", "since"}`` (``level`` ``warning``, then ``ok``) to the supervisors and admins it concerns:
a skill's alert to those whose scope (`desk.access.AccessPolicy.scope`) holds an agent with that
skill, an agent's alert to those whose scope holds the agent; an unscoped supervisor gets every
alert. The alerts active now are in the wall body (``alerts``, narrowed like the rest of it) and
in a supervisor's welcome, so one who connects during an alert sees it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from desk.accounts import Accounts
from desk.alert_rules import AlertBook, default_alerts, validate_alerts
from desk.parts import DeskParts
from desk.roles import STAFF_ROLES, roles_of
from desk.routing_driver import skills_of
from desk.settings import SettingSpec
from store.records import PublicUser, UserRecord

log = logging.getLogger("kefu.desk.alerts")

# How often the thresholds are checked when nothing happens (waits and absences grow silently).
ALERT_CHECK_SECS = 5.0
# At most this often on routing changes: a burst of customers costs one check, not one per event.
ALERT_MIN_INTERVAL_SECS = 0.25


class Alerts:
    def __init__(self, parts: DeskParts) -> None:
        self.parts = parts
        self.book = AlertBook()
        self.check_secs = ALERT_CHECK_SECS
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[None] | None = None
        self._timer: asyncio.Task[None] | None = None
        self._stopped = False
        self._last_check = 0.0  # time.monotonic() of the last check started
        self.setting: dict[str, Any] = default_alerts()
        parts.settings.define(SettingSpec("alerts", default=default_alerts, validate=self._validate))
        parts.settings.on_change("alerts", self._changed)
        parts.watchers.change_listeners.append(self.soon)
        parts.wall.decorations.append(self._decorate_wall)

    async def _validate(self, value: Any, current: Any) -> dict[str, Any]:
        return validate_alerts(value, current, await self.parts.skills.names())

    async def _changed(self, new: Any, old: Any) -> None:
        self.setting = {**default_alerts(), **(new or {})}
        self.soon()

    # -- start / stop ----------------------------------------------------------------------------
    def start(self) -> None:
        self._timer = asyncio.ensure_future(self._loop())

    def stop(self) -> None:
        # After this no check is started: the lifecycle's own stop still changes routing, and a
        # check begun then would outlive the loop (destroyed pending at the next test's GC).
        self._stopped = True
        for task in (self._timer, self._pending):
            if task is not None:
                task.cancel()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_secs)
            try:
                await self.evaluate()
            except Exception:
                log.exception("alert check failed")

    def soon(self) -> None:
        """Something changed: check once, soon (changes in a burst share one check)."""
        if self._stopped or (self._pending is not None and not self._pending.done()):
            return
        try:
            self._pending = asyncio.ensure_future(self._evaluate_logged())
        except RuntimeError:  # no running loop (a unit test building the desk): nothing to check
            self._pending = None

    async def _evaluate_logged(self) -> None:
        # After the change that called us has finished its own work, and not more often than the
        # minimum interval.
        await asyncio.sleep(max(0.0, self._last_check + ALERT_MIN_INTERVAL_SECS - time.monotonic()))
        try:
            await self.evaluate()
        except Exception:
            log.exception("alert check failed")

    # -- checking --------------------------------------------------------------------------------
    async def evaluate(self) -> list[dict[str, Any]]:
        """Compare the engine's picture with the thresholds; send and return the transitions."""
        if self.parts.routing.engine is None:
            return []
        async with self._lock:
            self._last_check = time.monotonic()
            events = self.book.evaluate(self.parts.routing.wall_now(), self.setting, self.parts.clock())
            if not events:
                return []
            users = await self.parts.store.list_users()
            for event in events:
                log.warning("alert", extra={"fields": {k: event.get(k) for k in ("code", "skill", "agent_id", "value",
                                                                                 "threshold", "level")}})
                await self.parts.audience.publish(self._recipients(event, users), "alert", event)
            self.parts.watchers.queues_changed()  # the wall's banner follows
            return events

    def _recipients(self, alert: Mapping[str, Any], users: list[UserRecord]) -> list[str]:
        skills = {u["id"]: skills_of(u) for u in users}
        out = []
        for user in map(Accounts.public, users):
            if user["disabled"] or not roles_of(user) & STAFF_ROLES:
                continue
            if self._concerns(alert, self.parts.access.scope(user), skills):
                out.append(user["id"])
        return sorted(out)

    @staticmethod
    def _concerns(alert: Mapping[str, Any], scope: frozenset[str] | None, skills: Mapping[str, Any]) -> bool:
        if scope is None:
            return True
        if alert.get("agent_id"):
            return alert["agent_id"] in scope
        return any(alert.get("skill") in (skills.get(agent_id) or {}) for agent_id in scope)

    # -- what a supervisor is shown --------------------------------------------------------------
    def _decorate_wall(self, wall: dict[str, Any]) -> None:
        wall["alerts"] = self.book.current()

    async def for_user(self, user: PublicUser) -> list[dict[str, Any]]:
        """The alerts active now that concern ``user`` (their welcome)."""
        if not roles_of(user) & STAFF_ROLES:
            return []
        active = self.book.current()
        if not active:
            return []
        skills = {u["id"]: skills_of(u) for u in await self.parts.store.list_users()}
        scope = self.parts.access.scope(user)
        return [a for a in active if self._concerns(a, scope, skills)]
