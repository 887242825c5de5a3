"""Who is watching what: supervisors subscribed to the queue wall and monitoring sessions.

Subscriptions belong to one connection (``conn_key``) of a user; events still go to the user,
so every tab of that user sees them. Queue updates are coalesced: many changes within
``QUEUES_MIN_INTERVAL_SECS`` become one ``queues`` event carrying the state at send time. While
anyone is subscribed, a ``queues`` event also goes out every ``QUEUES_REFRESH_SECS`` with no
change at all: waits grow and service level falls with the clock alone, and a wall that hears
nothing for several refreshes knows its picture is stale rather than quiet.

A subscriber may come with a scope (a supervisor in a team: `desk.access.AccessPolicy.scope`),
asked again at every send so that a change of teams counts at once: subscribers without one
share one event; the others get the picture narrowed to their scope (``narrow``, the wall's
`desk.supervision.Wall.narrow`), one event per distinct scope, so nothing of another team's
agents or sessions reaches them.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

# A wall that repaints more than a few times a second helps nobody and costs every supervisor.
QUEUES_MIN_INTERVAL_SECS = 0.3
# A quiet wall still repaints this often (docs/protocol.md: consoles call a wall stale after
# three refreshes without an event).
QUEUES_REFRESH_SECS = 5.0


class Watchers:
    def __init__(self, publish: Callable[[list[str], str, dict[str, Any]], Awaitable[None]],
                 snapshot: Callable[[], Awaitable[dict[str, Any]]], clock: Callable[[], float] = time.monotonic,
                 refresh_secs: float = QUEUES_REFRESH_SECS,
                 narrow: Callable[[dict[str, Any], frozenset[str] | None], dict[str, Any]] | None = None) -> None:
        self._publish = publish
        self._snapshot = snapshot
        self._narrow = narrow or (lambda data, scope: data)
        self._queue_scopes: dict[str, Callable[[], frozenset[str] | None]] = {}  # user_id -> scope now
        self._clock = clock
        self._queue_subs: dict[str, set[str]] = defaultdict(set)  # user_id -> conn keys
        self._monitors: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # session -> user -> conns
        self._dirty = False
        self._last_sent = 0.0
        self._flush_handle: asyncio.TimerHandle | None = None
        self._flush_task: asyncio.Task[None] | None = None
        self.refresh_secs = refresh_secs
        self._refresh_handle: asyncio.TimerHandle | None = None
        # Called at every change, subscribers or not (the alerts evaluate their thresholds).
        self.change_listeners: list[Callable[[], None]] = []

    # -- queue wall ------------------------------------------------------------------------------
    def subscribe_queues(self, user_id: str, conn_key: str,
                         scope: Callable[[], frozenset[str] | None] | None = None) -> None:
        """Send ``queues`` events to ``user_id``; ``scope()`` says which agents they may see
        (None: everyone), asked at every send."""
        self._queue_subs[user_id].add(conn_key)
        if scope is not None:
            self._queue_scopes[user_id] = scope
        if self._refresh_handle is None:
            self._refresh_handle = asyncio.get_running_loop().call_later(self.refresh_secs, self._refresh)

    def _refresh(self) -> None:
        """The periodic repaint (cancelled when the last subscriber goes)."""
        self._refresh_handle = None
        if not self._queue_subs:
            return
        self.queues_changed()
        self._refresh_handle = asyncio.get_running_loop().call_later(self.refresh_secs, self._refresh)

    def unsubscribe_queues(self, user_id: str, conn_key: str) -> None:
        conns = self._queue_subs.get(user_id)
        if conns is not None:
            conns.discard(conn_key)
            if not conns:
                del self._queue_subs[user_id]
                self._queue_scopes.pop(user_id, None)
        if not self._queue_subs and self._refresh_handle is not None:
            self._refresh_handle.cancel()
            self._refresh_handle = None

    def queue_subscribers(self) -> list[str]:
        return sorted(self._queue_subs)

    def queues_changed(self) -> None:
        """Note a change; a ``queues`` event follows within the coalescing interval."""
        for listener in self.change_listeners:
            listener()
        if not self._queue_subs:
            return
        self._dirty = True
        if self._flush_handle is not None or (self._flush_task and not self._flush_task.done()):
            return
        delay = max(0.0, self._last_sent + QUEUES_MIN_INTERVAL_SECS - self._clock())
        loop = asyncio.get_running_loop()
        self._flush_handle = loop.call_later(delay, self._start_flush)

    def _start_flush(self) -> None:
        self._flush_handle = None
        self._flush_task = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        if not self._dirty or not self._queue_subs:
            return
        self._dirty = False
        self._last_sent = self._clock()
        data = await self._snapshot()
        groups: dict[frozenset[str] | None, list[str]] = defaultdict(list)
        for user_id in self.queue_subscribers():
            scope_of = self._queue_scopes.get(user_id)
            groups[scope_of() if scope_of is not None else None].append(user_id)
        for scope, user_ids in groups.items():
            await self._publish(user_ids, "queues", self._narrow(data, scope))
        if self._dirty:
            self._flush_task = None
            self.queues_changed()

    # -- session monitors ------------------------------------------------------------------------
    def monitor(self, session_id: str, user_id: str, conn_key: str) -> bool:
        """Watch a session from one connection; False when that connection watched it already."""
        conns = self._monitors[session_id][user_id]
        if conn_key in conns:
            return False
        conns.add(conn_key)
        return True

    def unmonitor(self, session_id: str, user_id: str, conn_key: str) -> None:
        users = self._monitors.get(session_id)
        if not users:
            return
        conns = users.get(user_id)
        if conns is not None:
            conns.discard(conn_key)
            if not conns:
                del users[user_id]
        if not users:
            del self._monitors[session_id]

    def monitored_sessions(self) -> list[str]:
        return sorted(self._monitors)

    def drop_monitor(self, session_id: str, user_id: str) -> None:
        """Stop every connection of ``user_id`` watching ``session_id``."""
        users = self._monitors.get(session_id)
        if users is not None:
            users.pop(user_id, None)
            if not users:
                del self._monitors[session_id]

    def monitors_of(self, session_id: str) -> list[str]:
        users = self._monitors.get(session_id)
        return sorted(users) if users else []

    def connection_closed(self, user_id: str, conn_key: str) -> None:
        self.unsubscribe_queues(user_id, conn_key)
        for session_id in list(self._monitors):
            self.unmonitor(session_id, user_id, conn_key)

    def session_ended(self, session_id: str) -> None:
        self._monitors.pop(session_id, None)

    def close(self) -> None:
        if self._refresh_handle is not None:
            self._refresh_handle.cancel()
            self._refresh_handle = None
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
