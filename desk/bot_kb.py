"""The bot's knowledge base (客服机器人): the answers, as kept and validated, and their indexes.

ONE declared setting, ``bot_answers`` (`desk.settings`): a list of ``{"id", "question", "similar",
"keywords", "answer", "skills"}``. A setting rather than a store aggregate because it is small
(hundreds of answers, read whole to build the index), edited by admins only, and every change must
be versioned, audited and applied live — which settings already do; ``POST/PATCH/DELETE
/api/bot/answers`` and the import (`desk.bot_import`) are thin operations over
:meth:`Settings.update`. A change drops the per-skill matchers (`desk.bot_matching`); the next
question rebuilds its skill's.
"""

from __future__ import annotations

import uuid
from typing import Any

from desk.bot_matching import Match, Matcher, Segmenter
from desk.errors import NotFoundError, ValidationError
from desk.settings import Settings, SettingSpec
from store.records import PublicUser

KEY = "bot_answers"
MAX_ANSWERS = 2000
QUESTION_MAX_CHARS = 200
ANSWER_MAX_CHARS = 2000  # one customer-service text message
MAX_SIMILAR = 50
KEYWORD_MAX_CHARS = 40
SKILL_MAX_CHARS = 64
FIELDS = ("question", "similar", "keywords", "answer", "skills")


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
            "keywords": _texts(body, "keywords", MAX_SIMILAR, KEYWORD_MAX_CHARS),
            "answer": _text(body, "answer", ANSWER_MAX_CHARS),
            "skills": _texts(body, "skills", 200, SKILL_MAX_CHARS)}


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


class KnowledgeBase:
    """The ``bot_answers`` setting, declared, kept current in memory, and indexed per skill."""

    def __init__(self, settings: Settings, segmenter: Segmenter | None = None,
                 threshold: float | None = None, suggest_threshold: float | None = None) -> None:
        self.settings = settings
        self.segmenter = segmenter or Segmenter()
        self.threshold = threshold
        self.suggest_threshold = suggest_threshold
        self.answers: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        self._matchers: dict[str | None, Matcher] = {}
        settings.define(SettingSpec(KEY, default=list, validate=validate_answers))
        settings.on_change(KEY, self._changed)

    async def _changed(self, new: Any, old: Any) -> None:
        self.answers = list(new or [])
        self._by_id = {a["id"]: a for a in self.answers}
        self._matchers = {}
        if self.answers:
            self.segmenter.warm_up()

    def get(self, answer_id: str) -> dict[str, Any] | None:
        return self._by_id.get(answer_id)

    # -- editing ---------------------------------------------------------------------------------
    async def stored(self) -> list[dict[str, Any]]:
        return list(await self.settings.get(KEY))

    async def create(self, user: PublicUser, body: Any) -> dict[str, Any]:
        answer = check_answer(body, uuid.uuid4().hex)
        await self.settings.update(user, KEY, [*await self.stored(), answer])
        return answer

    async def update(self, user: PublicUser, answer_id: str, body: Any) -> dict[str, Any]:
        answers = await self.stored()
        found = next((a for a in answers if a["id"] == answer_id), None)
        if found is None:
            raise NotFoundError(f"no bot answer {answer_id!r}")
        if not isinstance(body, dict):
            raise ValidationError("answer", "must be an object of the fields to change")
        changed = check_answer({**found, **body}, answer_id)
        await self.settings.update(user, KEY, [changed if a["id"] == answer_id else a for a in answers])
        return changed

    async def delete(self, user: PublicUser, answer_id: str) -> dict[str, Any]:
        answers = await self.stored()
        if not any(a["id"] == answer_id for a in answers):
            raise NotFoundError(f"no bot answer {answer_id!r}")
        await self.settings.update(user, KEY, [a for a in answers if a["id"] != answer_id])
        return {"deleted": answer_id}

    def merge(self, answers: list[dict[str, Any]], incoming: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                                             list[str], list[str]]:
        """``incoming`` (checked answers without ids) laid over ``answers``: one whose question is
        already asked replaces that answer (same id: its usage counts stay), the others are added.
        Returns the new list and the questions added and replaced."""
        by_question = {a["question"]: a for a in answers}
        replaced: dict[str, dict[str, Any]] = {}
        added: list[dict[str, Any]] = []
        for item in incoming:
            old = by_question.get(item["question"])
            if old is not None:
                replaced[old["id"]] = {**item, "id": old["id"]}
            else:
                added.append({**item, "id": uuid.uuid4().hex})
        merged = [replaced.get(a["id"], a) for a in answers] + added
        return merged, [a["question"] for a in added], [a["question"] for a in replaced.values()]

    async def replace_all(self, user: PublicUser, answers: list[dict[str, Any]]) -> None:
        await self.settings.update(user, KEY, answers)

    # -- matching ----------------------------------------------------------------------------------
    def matcher(self, skill: str | None) -> Matcher:
        """The index of the answers for ``skill`` (an answer with no skills serves every skill)."""
        if skill is not None and not any(skill in (a.get("skills") or ()) for a in self.answers):
            # No answer names it: the answers for every skill serve it, from one index (a skill
            # name is the caller's text; one index per made-up name grew without end).
            skill = ""
        if skill not in self._matchers:
            answers = [a for a in self.answers if skill is None or not a.get("skills") or skill in a["skills"]]
            options = {k: v for k, v in (("threshold", self.threshold),
                                         ("suggest_threshold", self.suggest_threshold)) if v is not None}
            self._matchers[skill] = Matcher(answers, self.segmenter, **options)
        return self._matchers[skill]

    def try_question(self, question: str, skill: str | None = None) -> dict[str, Any]:
        """The admin page's "try a question": the best candidates and what the bot would do."""
        matcher = self.matcher(skill)
        decision = matcher.decide(question)
        return {"answered": decision.answer is not None, "threshold": matcher.threshold,
                "suggest_threshold": matcher.suggest_threshold,
                "answer": self.get(decision.answer.answer_id) if decision.answer else None,
                "choices": [self._public(m) for m in decision.choices],
                "candidates": [self._public(m) for m in decision.ranked]}

    def _public(self, match: Match) -> dict[str, Any]:
        return {**match.to_public(), "question": (self.get(match.answer_id) or {}).get("question")}
