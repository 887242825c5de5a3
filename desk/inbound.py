"""The durable, de-duplicated inbound path: from a parsed WeChat message to "stored, answer WeChat".

WeChat retries a message up to three times when it has no answer within 5 s, sometimes while the
first try is still running. ``InboundLog.ingest`` stores each message once (the store's unique
key survives restarts) and gives concurrent retries the very same answer (single flight per key).
The message is handed on for processing only after it is durable, and processing runs in order
per customer, in the background, so WeChat's answer never waits for routing or delivery — with
one exception: a message the bot may answer (``passive_wanted``) waits a little for the bot's
answer, to give it as a passive reply (`desk.passive`).
Messages stored but not processed (a crash in between) are processed again at start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from desk.passive import PassiveReplies
from store.base import Store
from wechat.messages import InboundMessage
from wechat.replies import SUCCESS, text_reply

log = logging.getLogger("kefu.desk.inbound")

@dataclass(frozen=True)
class Processed:
    """What processing did with a message: the session it was filed under, and whether the
    processor already marked it processed in the same store write (saving one)."""

    session_id: str | None
    marked: bool = False


# process(key, message, received_at) -> what became of the message
Processor = Callable[[str, InboundMessage, float], Awaitable[Processed]]


class InboundLog:
    """Single-flight storing of inbound messages and ordered background processing."""

    def __init__(self, store: Store, process: Processor, clock: Callable[[], float] = time.time,
                 passive: PassiveReplies | None = None,
                 passive_wanted: Callable[[InboundMessage], bool] | None = None) -> None:
        self._store = store
        self._process = process
        self._clock = clock
        self.passive = passive
        self._passive_wanted = passive_wanted
        self._inflight: dict[str, asyncio.Future[str]] = {}
        # Per customer with work: the messages waiting, oldest first, and one worker task
        # going through them (a task per customer rather than per message).
        self._pending: dict[str, deque[tuple[str, InboundMessage, float]]] = {}
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def backlog(self) -> int:
        """Messages stored and not yet processed (in this process's queues)."""
        return sum(len(queue) for queue in self._pending.values())

    async def ingest(self, message: InboundMessage) -> str:
        """Store ``message`` once and return WeChat's answer; retries get the first answer."""
        key = message.dedup_key
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            received_at = self._clock()
            created, record = await self._store.put_inbound(key, message.openid, message.to_dict(), received_at)
            answer = SUCCESS if created else (record.get("reply") or SUCCESS)
            if created:
                waits = self.passive is not None and self._passive_wanted is not None and self._passive_wanted(message)
                if waits:
                    assert self.passive is not None
                    self.passive.expect(key)
                self._schedule(key, message, received_at)
                if waits:
                    answer = await self._passive_answer(key, message)
            future.set_result(answer)
            return answer
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the caller that raised is the one who reports it
            raise
        finally:
            self._inflight.pop(key, None)

    async def _passive_answer(self, key: str, message: InboundMessage) -> str:
        """The bot's text as a passive reply, when it comes in time; else "success"."""
        assert self.passive is not None
        offered = await self.passive.wait(key)
        if offered is None:
            return SUCCESS
        text, session_id = offered
        reply = text_reply(message.openid, message.to_user, text, int(self._clock()))
        # Kept for a retry of the same message (WeChat retries when our answer got lost); not
        # awaited: the answer is due now, and a lost write only means a retry gets "success".
        self._track(asyncio.ensure_future(self._store.set_inbound_result(key, reply, session_id)))
        return reply

    def _schedule(self, key: str, message: InboundMessage, received_at: float) -> None:
        """Queue processing after the same customer's earlier messages."""
        queue = self._pending.get(message.openid)
        if queue is None:
            queue = self._pending[message.openid] = deque()
            self._track(asyncio.ensure_future(self._work(message.openid, queue)))
        queue.append((key, message, received_at))

    async def _work(self, openid: str, queue: deque[tuple[str, InboundMessage, float]]) -> None:
        try:
            while queue:
                key, message, received_at = queue[0]
                await self._run(key, message, received_at)
                queue.popleft()
        finally:
            if self._pending.get(openid) is queue:
                del self._pending[openid]

    async def _run(self, key: str, message: InboundMessage, received_at: float) -> None:
        try:
            processed = await self._process(key, message, received_at)
            if not processed.marked:
                # Not awaited: the mark rides along with later commits. Lost in a crash, the
                # message is processed again at start, which is idempotent (its transcript id is
                # derived from the message).
                self._track(asyncio.ensure_future(self._store.mark_inbound_processed(key, processed.session_id)))
        except Exception:
            # Left unprocessed in the store: the next start processes it again.
            log.exception("inbound processing failed", extra={"fields": {"key": key}})
        finally:
            if self.passive is not None:
                self.passive.release(key)

    def _track(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._untrack)

    def _untrack(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("inbound background work failed", exc_info=task.exception())

    async def recover(self) -> int:
        """Process what was stored but not processed before the last stop; returns how many."""
        records = await self._store.unprocessed_inbound(limit=100000)
        for record in records:
            self._schedule(record["key"], InboundMessage.from_dict(record["message"]), record["received_at"])
        await self.drain()
        if records:
            log.info("recovered inbound messages", extra={"fields": {"count": len(records)}})
        return len(records)

    async def drain(self) -> None:
        """Wait until every scheduled message has been processed."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))
