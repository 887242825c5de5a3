"""The leave-message backlog (留言) fed to the routing engine as agents free up and skills open.

A diverted session waits in the store as a leave-message, not in the engine. :class:`Backlog`
hands the oldest ones to the engine (`Lifecycle.request_leave_message`, an engine
``LeaveMessageRequested``) only when an agent with the skill has room now, the skill is open and
nobody waits in its queue without an offer, at most one per free place: the engine then offers it
at once by its strategy, an offer that times out goes to the next agent the engine picks, and one that nobody
takes within the queue's ``max_wait_s`` becomes a leave-message again, quietly. Leave-messages
enter with `LEAVE_MESSAGE_PRIORITY`, below every live customer (the priority rules give 0 and
up), so a customer who writes now is served first.

It runs after every batch the lifecycle applies (an agent came available, a session closed, a
skill's hours changed) and on a timer at the next opening of a skill that has a backlog, never
inside the lifecycle's lock, one pass at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from desk import leave_sla
from desk.lifecycle import Lifecycle
from desk.routing_driver import RoutingDriver
from routing import decisions as dec
from store.base import Store
from store.records import SessionRecord, SessionState

log = logging.getLogger("kefu.desk.leave_messages")

# Below every live customer's priority (the priority rules give 0 to 100).
LEAVE_MESSAGE_PRIORITY = -1
# The states of a leave-message no agent holds yet: waiting in the store, or handed to the engine.
OPEN_STATES: tuple[SessionState, ...] = ("diverted", "queued", "offered")
# Leave-messages looked at per pass (oldest first); more wait for the next pass.
BATCH = 200
# Even when nothing happens the backlog is looked at this often (a skill that opened with its
# agents already idle, a clock moved by hand).
SWEEP_SECS = 30.0
# Passes in a row that offer nothing before the loop waits for the next change: a change seen
# during a pass is looked at once more, and a request the engine ignored cannot spin the loop.
IDLE_PASSES = 2


class Backlog:
    def __init__(self, store: Store, routing: RoutingDriver, lifecycle: Lifecycle, clock: Callable[[], float],
                 hours_of: Callable[[str], Awaitable[dict[str, Any] | None]]) -> None:
        self.store = store
        self.routing = routing
        self.lifecycle = lifecycle
        self.clock = clock
        self.hours_of = hours_of  # a skill's business hours (None: always open)
        self._task: asyncio.Task[None] | None = None
        self._again = False
        self._feeding = False
        self._timer: asyncio.TimerHandle | None = None
        self._running = False

    def start(self) -> None:
        self._running = True
        self.wake()

    def stop(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def wake(self) -> None:
        """Something changed: look at the backlog soon (coalesced; never re-entered)."""
        if not self._running:
            return
        if self._feeding or (self._task is not None and not self._task.done()):
            self._again = True  # the pass under way looks once more
            return
        try:
            self._task = asyncio.get_running_loop().create_task(self._run())
        except RuntimeError:  # no loop (a synchronous test): nothing to do
            return

    async def idle(self) -> None:
        """Wait for the pass under way (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        idle = 0
        try:
            while self._running:
                self._again = False
                fed = await self.feed()
                idle = 0 if fed else idle + 1
                if not self._again or idle >= IDLE_PASSES:
                    break
        except Exception:  # a pass that failed must not stop the next one
            log.exception("leave-message backlog pass failed")
        finally:
            await self._schedule()

    async def feed(self) -> int:
        """One pass: offer what can be offered now; how many the engine offered."""
        engine = self.routing.engine
        if engine is None:
            return 0
        free: dict[str, int] = {}
        skills_of: dict[str, set[str]] = {}
        for agent_id, agent in engine.agent_stats(self.clock()).items():
            room = int(agent["capacity"]) - int(agent["load"])
            if agent["status"] == "available" and agent["connected"] and room > 0:
                free[agent_id] = room
                skills_of[agent_id] = set(agent["skills"])
        if not free:
            return 0
        offered = 0
        now = self.clock()
        self._feeding = True
        try:
            for session in await self.store.list_leave_messages(states=["diverted"], limit=BATCH):
                skill = session.get("skill") or ""
                # The hours by the desk's clock: the engine's moves only with events, and the hour
                # may have struck since the last one.
                hours = engine.queue_config(skill).business_hours
                if self.routing.knows_live(session["id"]) or (hours is not None and not hours.is_open(now)):
                    continue
                if any(w["state"] == "queued" for w in engine.waiting_sessions(skill)):
                    continue  # someone waits there with nobody offered: live customers first, then this one
                chosen = next((a for a, room in free.items() if room > 0 and skill in skills_of[a]), None)
                if chosen is None:
                    continue
                free[chosen] -= 1
                decisions = await self.lifecycle.request_leave_message(session, LEAVE_MESSAGE_PRIORITY)
                offered += sum(1 for d in decisions if isinstance(d, dec.OfferSession) and d.session_id == session["id"])
        finally:
            self._feeding = False
        return offered

    async def _schedule(self) -> None:
        """The next look: at the earliest opening of a skill with a backlog, at most `SWEEP_SECS` away."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._running:
            return
        delay = SWEEP_SECS
        now = self.clock()
        waiting: list[SessionRecord] = await self.store.list_leave_messages(states=["diverted"], limit=BATCH)
        for skill in {s.get("skill") or "" for s in waiting}:
            opens = leave_sla.next_open(now, await self.hours_of(skill))
            if opens is not None and opens > now:
                delay = min(delay, opens - now)
        self._timer = asyncio.get_running_loop().call_later(max(1.0, delay), self.wake)
