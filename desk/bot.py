"""The bot (客服机器人): its knowledge base of answers and what it says to a customer.

The knowledge base is ONE declared setting, ``bot_answers`` (`desk.settings`): a list of
``{"id", "question", "similar", "keywords", "answer", "skills"}``. A setting rather than a store
aggregate because it is small (hundreds of answers, read whole to build the index), edited by
admins only, and every change must be versioned, audited and applied live — which settings
already do; ``POST/PATCH/DELETE /api/bot/answers`` are thin operations over
:meth:`Settings.update`. A change rebuilds the matcher (`desk.bot_matching`).

In a skill whose ``mode`` is ``bot_first`` or ``bot_only`` a customer's message opens (or goes
into) a session in state ``bot``, which is not an open session: no queue, no agent. The bot
answers when an answer matches (``author: "bot"``) and says it did not understand otherwise;
``转人工`` / ``人工`` / ``人工客服`` / ``agent`` or two misses in a row hand over: the pipeline moves the
same session into the skill's queue, so the agent who accepts it reads the bot's part in its
transcript. ``bot_only`` never hands over: it says no human is available.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from desk.bot_matching import Match, Matcher, Segmenter
from desk.errors import NotFoundError, ValidationError
from desk.replies import Replies
from desk.settings import Settings, SettingSpec
from desk.skills import Skills
from desk.transcripts import inbound_to_message
from store.base import Store
from store.records import PublicUser, SessionRecord

if TYPE_CHECKING:  # the pipeline runs the bot as one of its stages
    from desk.pipeline import InboundWork

KEY = "bot_answers"
HANDOVER_WORDS = frozenset({"转人工", "人工", "人工客服", "agent", "human"})
MISSES_BEFORE_HANDOVER = 2
MAX_ANSWERS = 2000
QUESTION_MAX_CHARS = 200
ANSWER_MAX_CHARS = 2000  # one customer-service text message
MAX_SIMILAR = 50
# What the bot says when it has no answer, and in a bot-only skill asked for a human.
MISS_TEXT = "抱歉，我没有理解您的问题。请换个说法，或回复“转人工”联系人工客服。"
NO_HUMAN_TEXT = "抱歉，此服务暂无人工客服，请换个说法提问，我会尽力为您解答。"


def _text(body: dict[str, Any], name: str, max_chars: int) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(name, "is required (non-empty text)")
    if len(value.strip()) > max_chars:
        raise ValidationError(name, f"is longer than {max_chars} characters")
    return value.strip()


def _texts(body: dict[str, Any], name: str, max_items: int, max_chars: int) -> list[str]:
    value = body.get(name, [])
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise ValidationError(name, f"must be a list of at most {max_items} texts")
    out = []
    for item in value:
        if not isinstance(item, str) or len(item.strip()) > max_chars:
            raise ValidationError(name, f"each item is a text of at most {max_chars} characters")
        if item.strip():
            out.append(item.strip())
    return list(dict.fromkeys(out))


def check_answer(body: Any, answer_id: str) -> dict[str, Any]:
    """One answer as kept, or ValidationError naming the field."""
    if not isinstance(body, dict):
        raise ValidationError("answer", "must be an object with question and answer")
    return {"id": answer_id, "question": _text(body, "question", QUESTION_MAX_CHARS),
            "similar": _texts(body, "similar", MAX_SIMILAR, QUESTION_MAX_CHARS),
            "keywords": _texts(body, "keywords", MAX_SIMILAR, 40),
            "answer": _text(body, "answer", ANSWER_MAX_CHARS),
            "skills": _texts(body, "skills", 200, 64)}


def validate_answers(value: Any, current: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_ANSWERS:
        raise ValidationError(KEY, f"must be a list of at most {MAX_ANSWERS} answers")
    kept = []
    for item in value:
        answer_id = item.get("id") if isinstance(item, dict) else None
        kept.append(check_answer(item, answer_id if isinstance(answer_id, str) and answer_id else uuid.uuid4().hex))
    if len({a["id"] for a in kept}) != len(kept):
        raise ValidationError("id", "each answer has its own id")
    return kept


@dataclass
class BotTurn:
    """What the bot did with a message: the bot session, and whether it hands over to a human."""

    session: SessionRecord
    hand_over: bool = False


class Bot:
    def __init__(self, store: Store, settings: Settings, skills: Skills, replies: Replies, idle_timeout: float,
                 open_session: Callable[[str, str, float], Awaitable[SessionRecord]],
                 segmenter: Segmenter | None = None) -> None:
        self.store = store
        # The lifecycle's create_bot_session: the one writer of session state opens the bot's sessions.
        self.open_session = open_session
        self.settings = settings
        self.skills = skills
        self.replies = replies
        self.idle_timeout = idle_timeout
        self.segmenter = segmenter or Segmenter()
        self._answers: list[dict[str, Any]] = []
        self._matchers: dict[str | None, Matcher] = {}
        # Misses in a row per bot session; in memory: a restart forgives them.
        self._misses: dict[str, int] = {}
        settings.define(SettingSpec(KEY, default=list, validate=validate_answers))
        settings.on_change(KEY, self._changed)

    # -- the knowledge base ------------------------------------------------------------------------
    async def _changed(self, new: Any, old: Any) -> None:
        self._answers = list(new or [])
        self._matchers = {}

    async def list(self) -> list[dict[str, Any]]:
        return list(await self.settings.get(KEY))

    async def create(self, user: PublicUser, body: Any) -> dict[str, Any]:
        answer = check_answer(body, uuid.uuid4().hex)
        await self.settings.update(user, KEY, [*await self.list(), answer])
        return answer

    async def update(self, user: PublicUser, answer_id: str, body: Any) -> dict[str, Any]:
        answers = await self.list()
        found = next((a for a in answers if a["id"] == answer_id), None)
        if found is None:
            raise NotFoundError(f"no bot answer {answer_id!r}")
        if not isinstance(body, dict):
            raise ValidationError("answer", "must be an object of the fields to change")
        changed = check_answer({**found, **body}, answer_id)
        await self.settings.update(user, KEY, [changed if a["id"] == answer_id else a for a in answers])
        return changed

    async def delete(self, user: PublicUser, answer_id: str) -> dict[str, Any]:
        answers = await self.list()
        if not any(a["id"] == answer_id for a in answers):
            raise NotFoundError(f"no bot answer {answer_id!r}")
        await self.settings.update(user, KEY, [a for a in answers if a["id"] != answer_id])
        return {"deleted": answer_id}

    def matcher(self, skill: str | None) -> Matcher:
        """The index of the answers for ``skill`` (an answer with no skills serves every skill)."""
        if skill not in self._matchers:
            answers = [a for a in self._answers if skill is None or not a.get("skills") or skill in a["skills"]]
            self._matchers[skill] = Matcher(answers, self.segmenter)
        return self._matchers[skill]

    def try_question(self, question: str, skill: str | None = None) -> dict[str, Any]:
        """The admin page's "try a question": the best candidates and whether the bot would answer."""
        matcher = self.matcher(skill)
        ranked = matcher.rank(question)
        best = ranked[0] if ranked and ranked[0].confidence >= matcher.threshold else None
        by_id = {a["id"]: a for a in self._answers}
        return {"answered": best is not None, "threshold": matcher.threshold,
                "answer": by_id.get(best.answer_id) if best else None,
                "candidates": [{**m.to_public(), "question": by_id.get(m.answer_id, {}).get("question")}
                               for m in ranked]}

    # -- answering -----------------------------------------------------------------------------------
    async def take(self, work: InboundWork) -> BotTurn | None:
        """Answer a customer's text message when their skill is the bot's; None: not the bot's."""
        text = (work.message.content or work.message.recognition or "").strip()
        if not text or not work.skill:
            return None
        try:
            mode = (await self.skills.get(work.skill)).get("mode")
        except NotFoundError:
            return None
        if mode not in ("bot_first", "bot_only"):
            return None
        now = work.now
        latest = await self.store.customer_sessions(work.openid, limit=1)
        if latest and latest[0]["state"] == "bot" and now - (latest[0].get("last_customer_at") or 0) < self.idle_timeout:
            session = latest[0]
        else:
            session = await self.open_session(work.openid, work.skill, now)
        _, session, _ = await self.store.file_customer_message(
            work.openid, now, work.changes, session["id"], {"last_customer_at": now},
            inbound_to_message(work.key, work.message, session["id"], now), inbound_key=work.key)
        if text.lower() in HANDOVER_WORDS:
            return await self._hand_over(session, mode)
        found: Match | None = self.matcher(session["skill"]).match(text)
        if found is not None:
            self._misses.pop(session["id"], None)
            answer = next(a for a in self._answers if a["id"] == found.answer_id)
            await self.replies.reply(session, answer["answer"], author="bot", user=None)
            return BotTurn(session)
        misses = self._misses.get(session["id"], 0) + 1
        self._misses[session["id"]] = misses
        if misses >= MISSES_BEFORE_HANDOVER and mode == "bot_first":
            return await self._hand_over(session, mode)
        await self.replies.reply(session, MISS_TEXT, author="bot", user=None)
        return BotTurn(session)

    async def _hand_over(self, session: SessionRecord, mode: str) -> BotTurn:
        self._misses.pop(session["id"], None)
        if mode == "bot_only":
            await self.replies.reply(session, NO_HUMAN_TEXT, author="bot", user=None)
            return BotTurn(session)
        return BotTurn(session, hand_over=True)
