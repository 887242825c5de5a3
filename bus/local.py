"""The in-process bus: per-user seq, 10-minute / 1,000-event retention, fan-out to every tab.

Everything here is synchronous under the hood (one event loop, no awaits inside), so
``register`` followed by ``replay`` cannot miss an event: an event published after
``register`` is delivered live, and one published before it is in the retained stream. The
connection de-duplicates the overlap by seq.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from bus.base import RETENTION_MAX_EVENTS, RETENTION_SECS, Bus, BusConnection, EventFrame, UserCallback

log = logging.getLogger("kefu.bus")


class _Stream:
    """One user's event numbering and retained envelopes."""

    __slots__ = ("seq", "events")

    def __init__(self, max_events: int) -> None:
        self.seq = 0
        self.events: deque[tuple[float, EventFrame]] = deque(maxlen=max_events)


class LocalBus(Bus):
    def __init__(self, retention_secs: float = RETENTION_SECS, max_events: int = RETENTION_MAX_EVENTS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._retention_secs = retention_secs
        self._max_events = max_events
        self._clock = clock
        self._streams: dict[str, _Stream] = {}
        self._conns: dict[str, list[BusConnection]] = {}
        self._gone: list[UserCallback] = []
        self._back: list[UserCallback] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- streams -----------------------------------------------------------------------------

    def _stream(self, user_id: str) -> _Stream:
        stream = self._streams.get(user_id)
        if stream is None:
            stream = self._streams[user_id] = _Stream(self._max_events)
        return stream

    def _expire(self, stream: _Stream) -> None:
        cutoff = self._clock() - self._retention_secs
        while stream.events and stream.events[0][0] < cutoff:
            stream.events.popleft()

    async def publish(self, user_ids: Iterable[str], event: str, data: dict[str, Any]) -> None:
        now = self._clock()
        for user_id in dict.fromkeys(user_ids):  # each user once, in the given order
            stream = self._stream(user_id)
            stream.seq += 1
            frame: EventFrame = {"type": "event", "seq": stream.seq, "event": event, "data": data}
            stream.events.append((now, frame))
            self._expire(stream)
            for conn in list(self._conns.get(user_id, ())):
                try:
                    conn.deliver(frame)
                except Exception:  # one broken connection must not stop the others
                    log.exception("deliver failed", extra={"fields": {"user_id": user_id}})

    async def current_seq(self, user_id: str) -> int:
        stream = self._streams.get(user_id)
        return stream.seq if stream else 0

    async def replay(self, user_id: str, after_seq: int) -> list[EventFrame] | None:
        stream = self._streams.get(user_id)
        current = stream.seq if stream else 0
        if after_seq < 0 or after_seq > current:
            return None  # a cursor from the future: another server, or this one restarted
        if after_seq == current:
            return []
        assert stream is not None
        self._expire(stream)
        if not stream.events or stream.events[0][1]["seq"] > after_seq + 1:
            return None
        return [frame for _, frame in stream.events if frame["seq"] > after_seq]

    # -- connections ---------------------------------------------------------------------------

    def register(self, user_id: str, conn: BusConnection) -> int:
        conns = self._conns.setdefault(user_id, [])
        first = not conns
        if conn not in conns:
            conns.append(conn)
        seq = self._streams[user_id].seq if user_id in self._streams else 0
        if first:
            self._fire(self._back, user_id)
        return seq

    def unregister(self, user_id: str, conn: BusConnection) -> None:
        conns = self._conns.get(user_id)
        if not conns or conn not in conns:
            return
        conns.remove(conn)
        if not conns:
            del self._conns[user_id]
            self._fire(self._gone, user_id)

    def _close(self, conns: list[BusConnection], code: int, reason: str) -> int:
        for conn in conns:
            try:
                conn.close_socket(code, reason)
            except Exception:
                log.exception("close failed")
        return len(conns)

    def disconnect_user(self, user_id: str, code: int, reason: str) -> int:
        return self._close(list(self._conns.get(user_id, ())), code, reason)

    def disconnect_token(self, jti: str, code: int, reason: str) -> int:
        conns = [c for cs in self._conns.values() for c in cs if getattr(c, "jti", None) == jti]
        return self._close(conns, code, reason)

    def close_all(self, code: int, reason: str) -> int:
        return self._close([c for cs in self._conns.values() for c in cs], code, reason)

    def connection_count(self, user_id: str | None = None) -> int:
        if user_id is None:
            return sum(len(cs) for cs in self._conns.values())
        return len(self._conns.get(user_id, ()))

    def online_user_ids(self) -> set[str]:
        return set(self._conns)

    # -- presence hooks ------------------------------------------------------------------------

    def on_user_gone(self, callback: UserCallback) -> None:
        self._gone.append(callback)

    def on_user_back(self, callback: UserCallback) -> None:
        self._back.append(callback)

    def _fire(self, callbacks: list[UserCallback], user_id: str) -> None:
        for callback in callbacks:
            try:
                result = callback(user_id)
            except Exception:
                log.exception("bus callback failed", extra={"fields": {"user_id": user_id}})
                continue
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                self._tasks.add(task)
                task.add_done_callback(self._callback_done)

    def _callback_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("bus callback failed", exc_info=task.exception())
