"""Per answer of the bot's knowledge base: how often it was given and how often it led to a human.

"Led to a hand-over" means: the answer was given in a bot session that then went to a human
(the customer asked for one, chose "a human" among the "did you mean" choices, or missed twice) —
counted once per answer and session, when the hand-over happens. The counters live in the store
(``count_bot_answer``: added to atomically, so they survive a restart and several processes);
which answers a live bot session was given is kept in memory by `desk.bot` (a restart forgets
only that, for the sessions under way).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from store.base import Store
from store.records import BotAnswerCounts

log = logging.getLogger("kefu.desk.bot")


class BotStats:
    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    async def used(self, answer_id: str) -> None:
        await self._count(answer_id, used=1, at=self.clock())

    async def handed_over(self, answer_ids: Iterable[str]) -> None:
        for answer_id in sorted(set(answer_ids)):
            await self._count(answer_id, handed_over=1)

    async def _count(self, answer_id: str, used: int = 0, handed_over: int = 0, at: float | None = None) -> None:
        # A counter that failed to land must not cost the customer their answer: logged, not raised.
        try:
            await self.store.count_bot_answer(answer_id, used=used, handed_over=handed_over, at=at)
        except Exception:
            log.exception("bot answer usage not counted", extra={"fields": {"answer_id": answer_id}})

    async def counts(self) -> dict[str, BotAnswerCounts]:
        return await self.store.bot_answer_counts()
