"""The bot's knowledge base over HTTP (admin): ``GET``/``POST /api/bot/answers``,
``PATCH``/``DELETE /api/bot/answers/{id}`` and ``POST /api/bot/try`` (the admin page's "try a
question"). Thin: `desk.bot.Bot` validates (400 bad_field naming the field), and the setting
``bot_answers`` versions and audits every change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from desk.errors import ValidationError
from handlers.base import APIHandler
from handlers.openapi import ANY_OBJ, Op, array, obj

if TYPE_CHECKING:
    from desk.accounts import Accounts
    from desk.bot import Bot
    from server import Services

ANSWER = obj(("question", "answer"), question={"type": "string"}, similar=array({"type": "string"}),
             keywords=array({"type": "string"}), answer={"type": "string"}, skills=array({"type": "string"}))


class _BotHandler(APIHandler):
    access = frozenset({"admin"})

    def initialize(self, accounts: Accounts, bot: Bot) -> None:
        super().initialize(accounts)
        self.bot = bot


class BotAnswersHandler(_BotHandler):
    api_doc = {"get": Op("The bot's knowledge base, with each answer's usage (counts by answer id: used, "
                         "handed_over, last_used_at)",
                         response=obj(("answers", "counts"), answers=array(ANY_OBJ), counts=ANY_OBJ), tags=("bot",)),
               "post": Op("Add an answer to the bot's knowledge base", request=ANSWER, response=ANY_OBJ, status=201,
                          errors=(400, 403), tags=("bot",))}

    async def get(self) -> None:
        self.write_json({"answers": await self.bot.list(), "counts": await self.bot.counts()})

    async def post(self) -> None:
        answer = await self.bot.create(self.current_user, self.json_body())
        self.set_header("Location", f"/api/bot/answers/{answer['id']}")
        self.write_json(answer, status=201)


class BotAnswerHandler(_BotHandler):
    api_path_params = ("answer_id",)
    api_doc = {"patch": Op("Change an answer (fields left out keep their value)", request=ANY_OBJ, response=ANY_OBJ,
                           errors=(400, 403, 404), tags=("bot",)),
               "delete": Op("Delete an answer", response=ANY_OBJ, errors=(403, 404), tags=("bot",))}

    async def patch(self, answer_id: str) -> None:
        self.write_json(await self.bot.update(self.current_user, answer_id, self.json_body()))

    async def delete(self, answer_id: str) -> None:
        self.write_json(await self.bot.delete(self.current_user, answer_id))


class BotTryHandler(_BotHandler):
    api_doc = {"post": Op("What the bot would answer to a question, with the match explanation",
                          request=obj(("question",), question={"type": "string"}, skill={"type": "string"}),
                          response=ANY_OBJ, errors=(400, 403), tags=("bot",))}

    async def post(self) -> None:
        body = self.json_body()
        question, skill = body.get("question"), body.get("skill")
        if not isinstance(question, str) or not question.strip():
            raise ValidationError("question", "is required (non-empty text)")
        if skill is not None and not isinstance(skill, str):
            raise ValidationError("skill", "must be a skill name")
        self.write_json(self.bot.try_question(question, skill or None))


def default_handlers(services: Services) -> list[tuple[str, type, dict[str, Any]]]:
    args = {"accounts": services.accounts, "bot": services.desk.bot}
    return [(r"/api/bot/answers", BotAnswersHandler, args), (r"/api/bot/try", BotTryHandler, args),
            (r"/api/bot/answers/([^/]+)", BotAnswerHandler, args)]
