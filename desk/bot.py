"""The bot (客服机器人): what it says to a customer, and when it hands them to a human.

The knowledge base is `desk.bot_kb` (the setting ``bot_answers``), matching is
`desk.bot_matching`, usage counts are `desk.bot_stats`; this module is the conversation.

In a skill whose ``mode`` is ``bot_first`` or ``bot_only`` a customer's message opens (or goes
into) a session in state ``bot``, which is not an open session: no queue, no agent. Per message:

* ``转人工`` / ``人工`` / ``人工客服`` / ``agent`` hands over: the pipeline moves the same session into the
  skill's queue, so the agent who accepts it reads the bot's part in its transcript. ``bot_only``
  never hands over: it says no human is available (message ``bot_no_human``).
* A confident match is answered (``author: "bot"``).
* An unsure one (between the matcher's ``suggest_threshold`` and ``threshold``) gets "did you
  mean": the best two or three questions numbered (message ``bot_choices``), plus ``0`` for a
  human in ``bot_first``. The customer's next message picks one by its number or its text; ``0``
  hands over; anything else is matched afresh.
* Nothing matches: "did not understand" (``bot_miss``); the second miss in a row hands over in
  ``bot_first``.

While a customer waits in a skill's queue (any mode: the customer asked for a human, or the skill
is ``human_first``) the bot answers only what it is sure of, says where they are in the queue
(``bot_in_queue``, ``{position}``), and stays quiet otherwise; the message reaches the agent as
any other (:meth:`Bot.while_queued`).

What the bot says goes out as the webhook's passive reply when the webhook call is still open
(`desk.passive`), else through the customer-service API. Its texts are the admin's
``messages`` (`desk.texts`).
"""

from __future__ import annotations

import logging
import unicodedata
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desk.bot_kb import KnowledgeBase
from desk.bot_matching import Segmenter
from desk.bot_stats import BotStats
from desk.errors import DeskError, NotFoundError
from desk.replies import Replies
from desk.settings import Settings
from desk.skills import Skills
from desk.texts import SystemTexts
from desk.transcripts import inbound_to_message
from store.base import Store
from store.records import PublicUser, SessionRecord
from wechat.messages import InboundMessage

if TYPE_CHECKING:  # the pipeline runs the bot as one of its stages
    from desk.pipeline import InboundWork

log = logging.getLogger("kefu.desk.bot")

HANDOVER_WORDS = frozenset({"转人工", "人工", "人工客服", "agent", "human"})
BOT_MODES = ("bot_first", "bot_only")
MISSES_BEFORE_HANDOVER = 2
# The "did you mean" choice that asks for a human, and how it reads in the list.
HUMAN_CHOICE = "0"
HUMAN_CHOICE_LABEL = "人工客服"
# Bot sessions whose conversation state (misses, choices offered, answers given) is remembered;
# in memory, so the oldest are forgotten past this many (a restart forgives all of them).
MAX_CHATS = 10000


@dataclass
class BotTurn:
    """What the bot did with a message: the bot session, and whether it hands over to a human."""

    session: SessionRecord
    hand_over: bool = False


@dataclass
class _Chat:
    misses: int = 0  # in a row
    choices: list[str] = field(default_factory=list)  # answer ids offered, numbered from 1
    human_offered: bool = False
    answered: set[str] = field(default_factory=set)  # for "led to a hand-over"


def _message_text(message: InboundMessage) -> str:
    return (message.content or message.recognition or "").strip()


class Bot:
    def __init__(self, store: Store, settings: Settings, skills: Skills, replies: Replies, texts: SystemTexts,
                 idle_timeout: float, open_session: Callable[[str, str, float], Awaitable[SessionRecord]],
                 clock: Callable[[], float],
                 segmenter: Segmenter | None = None) -> None:
        self.store = store
        # The lifecycle's create_bot_session: the one writer of session state opens the bot's sessions.
        self.open_session = open_session
        self.skills = skills
        self.replies = replies
        self.texts = texts
        self.idle_timeout = idle_timeout
        self.kb = KnowledgeBase(settings, segmenter)
        self.stats = BotStats(store, clock)
        self._chats: OrderedDict[str, _Chat] = OrderedDict()

    # -- the knowledge base (the REST layer's) -----------------------------------------------------
    async def list(self) -> list[dict[str, Any]]:
        return await self.kb.stored()

    async def create(self, user: PublicUser, body: Any) -> dict[str, Any]:
        return await self.kb.create(user, body)

    async def update(self, user: PublicUser, answer_id: str, body: Any) -> dict[str, Any]:
        return await self.kb.update(user, answer_id, body)

    async def delete(self, user: PublicUser, answer_id: str) -> dict[str, Any]:
        return await self.kb.delete(user, answer_id)

    def try_question(self, question: str, skill: str | None = None) -> dict[str, Any]:
        return self.kb.try_question(question, skill)

    async def counts(self) -> dict[str, Any]:
        """Usage per answer id that is still in the knowledge base: ``{"used", "handed_over", ...}``."""
        ids = {a["id"] for a in self.kb.answers}
        return {k: v for k, v in (await self.stats.counts()).items() if k in ids}

    def may_answer(self, message: InboundMessage) -> bool:
        """Whether the webhook should wait for the bot (a text, and a knowledge base to answer from)."""
        return bool(self.kb.answers) and not message.is_event and bool(_message_text(message))

    # -- a bot session ---------------------------------------------------------------------------------
    async def take(self, work: InboundWork) -> BotTurn | None:
        """Answer a customer's text message when their skill is the bot's; None: not the bot's."""
        text = _message_text(work.message)
        if not text or not work.skill:
            return None
        try:
            mode = (await self.skills.get(work.skill)).get("mode")
        except NotFoundError:
            return None
        if mode not in BOT_MODES:
            return None
        now = work.now
        latest = await work.latest_session(self.store)
        if latest is not None and latest["state"] == "bot" and now - (latest.get("last_customer_at") or 0) < self.idle_timeout:
            session = latest
        else:
            session = await self.open_session(work.openid, work.skill, now)
        _, session, _ = await self.store.file_customer_message(
            work.openid, now, work.changes, session["id"], {"last_customer_at": now},
            inbound_to_message(work.key, work.message, session["id"], now), inbound_key=work.key)
        chat = self._chat(session["id"])
        if unicodedata.normalize("NFKC", text).lower() in HANDOVER_WORDS:
            return await self._hand_over(session, mode, work.key, chat)
        if chat.choices:
            picked = self._picked(chat, text)
            chat.choices, human = [], chat.human_offered
            if picked == HUMAN_CHOICE and human:
                return await self._hand_over(session, mode, work.key, chat)
            if picked is not None and picked != HUMAN_CHOICE:
                await self._answer(session, picked, work.key, chat)
                return BotTurn(session)
        decision = self.kb.matcher(session["skill"]).decide(text)
        if decision.answer is not None:
            await self._answer(session, decision.answer.answer_id, work.key, chat)
            return BotTurn(session)
        if decision.choices:
            chat.choices = [m.answer_id for m in decision.choices]
            chat.human_offered = mode == "bot_first"
            await self._say(session, work.key, await self.texts.text("bot_choices", session,
                                                                     choices=self._choices_text(chat)))
            return BotTurn(session)
        chat.misses += 1
        if chat.misses >= MISSES_BEFORE_HANDOVER and mode == "bot_first":
            return await self._hand_over(session, mode, work.key, chat)
        await self._say(session, work.key, await self.texts.text("bot_miss", session))
        return BotTurn(session)

    async def while_queued(self, work: InboundWork, session: SessionRecord, position: int | None) -> bool:
        """A customer waiting in the queue asked something: answered when the bot is sure, with
        their place in the queue; True when it answered. Their message is filed as usual."""
        text = _message_text(work.message)
        if not text or not self.kb.answers or unicodedata.normalize("NFKC", text).lower() in HANDOVER_WORDS:
            return False
        decision = self.kb.matcher(session.get("skill")).decide(text)
        answer = self.kb.get(decision.answer.answer_id) if decision.answer is not None else None
        if answer is None:
            return False
        note = await self.texts.text("bot_in_queue", session, position=position) if position else ""
        await self._say(session, work.key, f"{answer['answer']}\n{note}" if note else answer["answer"])
        await self.stats.used(answer["id"])
        return True

    # -- helpers -----------------------------------------------------------------------------------------
    def _chat(self, session_id: str) -> _Chat:
        chat = self._chats.get(session_id)
        if chat is None:
            chat = self._chats[session_id] = _Chat()
            while len(self._chats) > MAX_CHATS:
                self._chats.popitem(last=False)
        self._chats.move_to_end(session_id)
        return chat

    def _picked(self, chat: _Chat, text: str) -> str | None:
        """The answer id the customer chose among the offered ones (by number or by its question),
        :data:`HUMAN_CHOICE`, or None (they asked something else)."""
        reply = unicodedata.normalize("NFKC", text).strip().rstrip(".。、)）")
        if reply == HUMAN_CHOICE:
            return HUMAN_CHOICE
        if reply.isdigit() and 1 <= int(reply) <= len(chat.choices):
            return chat.choices[int(reply) - 1]
        for answer_id in chat.choices:
            answer = self.kb.get(answer_id)
            if answer is not None and answer["question"].strip() == text.strip():
                return answer_id
        return None

    def _choices_text(self, chat: _Chat) -> str:
        lines = [f"{n}. {(self.kb.get(a) or {}).get('question', '')}" for n, a in enumerate(chat.choices, 1)]
        if chat.human_offered:
            lines.append(f"{HUMAN_CHOICE}. {HUMAN_CHOICE_LABEL}")
        return "\n".join(lines)

    async def _answer(self, session: SessionRecord, answer_id: str, key: str, chat: _Chat) -> None:
        answer = self.kb.get(answer_id)
        if answer is None:  # deleted since it was offered
            await self._say(session, key, await self.texts.text("bot_miss", session))
            return
        chat.misses = 0
        chat.answered.add(answer_id)
        await self._say(session, key, answer["answer"])
        await self.stats.used(answer_id)

    async def _hand_over(self, session: SessionRecord, mode: str, key: str, chat: _Chat) -> BotTurn:
        self._chats.pop(session["id"], None)
        if mode == "bot_only":
            await self._say(session, key, await self.texts.text("bot_no_human", session))
            return BotTurn(session)
        await self._say(session, key, await self.texts.text("bot_handover", session))
        await self.stats.handed_over(chat.answered)
        return BotTurn(session, hand_over=True)

    async def _say(self, session: SessionRecord, key: str, text: str) -> None:
        """Tell the customer ``text`` (nothing when the admin emptied it): the passive reply of
        message ``key`` when its webhook call is still open, else the customer-service API."""
        if not text:
            return
        try:
            await self.replies.reply(session, text, author="bot", user=None, passive_key=key)
        except DeskError as exc:  # WeChat's budget is used up: nothing to tell the customer with
            log.warning("bot reply not sent", extra={"fields": {"session_id": session["id"], "error": exc.code}})
