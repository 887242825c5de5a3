"""Passive replies: the bot's answer in the webhook's own HTTP answer, when it is ready in time.

WeChat waits 5 s for the webhook's answer and shows a passive reply (XML in that answer) as a
message from the account; it costs nothing of the customer-service API's budget. The webhook
(`desk.inbound.InboundLog.ingest`) stores the message, then — when the bot may answer it — waits
up to :data:`PASSIVE_REPLY_WAIT_SECS` for the message's processing to :meth:`offer` a text. The
processing (`desk.replies.Replies.reply` for the bot) offers first; when the webhook has stopped
waiting the offer is refused and the text goes through the customer-service API as usual. Every
message's processing ends with :meth:`release`, so a message the bot did not answer holds the
webhook only as long as its processing takes.
"""

from __future__ import annotations

import asyncio

# WeChat gives up after 5 s (and retries); storing the message and the network take some of it.
PASSIVE_REPLY_WAIT_SECS = 3.0


class PassiveReplies:
    def __init__(self, wait_secs: float = PASSIVE_REPLY_WAIT_SECS) -> None:
        self.wait_secs = wait_secs
        self._waiting: dict[str, asyncio.Future[tuple[str, str | None] | None]] = {}

    def expect(self, key: str) -> None:
        """The webhook for message ``key`` will wait (registered before its processing starts)."""
        if self.wait_secs > 0:
            self._waiting[key] = asyncio.get_running_loop().create_future()

    async def wait(self, key: str) -> tuple[str, str | None] | None:
        """``(text, session id)`` offered for ``key`` within the wait, or None (answer "success")."""
        future = self._waiting.get(key)
        if future is None:
            return None
        try:
            await asyncio.wait([future], timeout=self.wait_secs)
        finally:
            # Once popped no offer can land, so a text is either returned here or refused there.
            self._waiting.pop(key, None)
        return future.result() if future.done() and not future.cancelled() else None

    def offer(self, key: str | None, text: str, session_id: str | None = None) -> bool:
        """Give ``text`` (said in ``session_id``) to the webhook still waiting for ``key``;
        False: send it another way."""
        future = self._waiting.get(key) if key is not None else None
        if future is None or future.done():
            return False
        future.set_result((text, session_id))
        return True

    def release(self, key: str) -> None:
        """Processing of ``key`` is over: a webhook still waiting answers without a reply."""
        future = self._waiting.get(key)
        if future is not None and not future.done():
            future.set_result(None)
